"""Every way an upload can be refused, as bilingual :class:`IngestRejected` builders.

Rejections end up in logs, the audit trail and the provider's inbox, so the messages name the
file, line or record, and column — never a cell value. Keeping all wording here is what makes
that rule checkable in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sandbox.domain.catalog import ColumnType
from sandbox.domain.errors import IngestBusy, IngestInterrupted, IngestRejected

SUPPORTED_ZH = "支持 CSV、Parquet、JSON Lines、XLSX"
SUPPORTED_EN = "supported: CSV, Parquet, JSON Lines, XLSX"

_TYPE_WORDS: dict[ColumnType, tuple[str, str]] = {
    ColumnType.STRING: ("字符串", "a string"),
    ColumnType.INTEGER: ("整数", "an integer"),
    ColumnType.DOUBLE: ("数值", "a number"),
    ColumnType.DATE: ("日期（YYYY-MM-DD）", "a valid date (YYYY-MM-DD)"),
    ColumnType.TIMESTAMP: ("时间（YYYY-MM-DD HH:MM:SS）", "a valid timestamp (YYYY-MM-DD HH:MM:SS)"),
    ColumnType.BOOLEAN: ("布尔值（true/false/1/0/是/否）", "a boolean (true/false/1/0/是/否)"),
}


@dataclass(frozen=True)
class Where:
    """A data record's position: ``record`` counts data records from 1; ``line`` is the physical
    1-based line in the file (header = line 1) where the format has lines and it is known."""

    record: int
    line: int | None = None

    @property
    def zh(self) -> str:
        return f"第 {self.line} 行" if self.line is not None else f"第 {self.record} 条记录"

    @property
    def en(self) -> str:
        return f"line {self.line}" if self.line is not None else f"record {self.record}"


def empty(file: str) -> IngestRejected:
    return IngestRejected(
        f"文件 {file} 没有数据行", f"file {file} contains no data rows", reason="empty", file=file
    )


def unsupported_format(file: str, what: str) -> IngestRejected:
    return IngestRejected(
        f"文件 {file} 的格式不受支持（{what}）；{SUPPORTED_ZH}",
        f"file {file} has an unsupported format ({what}); {SUPPORTED_EN}",
        reason="unsupported_format",
        file=file,
    )


def corrupt_file(file: str, fmt: str) -> IngestRejected:
    return IngestRejected(
        f"文件 {file} 已损坏或不完整，无法按 {fmt} 读取",
        f"file {file} is corrupt or truncated and cannot be read as {fmt}",
        reason="corrupt_file",
        file=file,
    )


def undecodable(file: str, line: int, offset: int, encoding: str) -> IngestRejected:
    return IngestRejected(
        f"文件 {file} 第 {line} 行（字节偏移 {offset}）无法按 {encoding} 解码",
        f"file {file} line {line} (byte offset {offset}) cannot be decoded as {encoding}",
        reason="undecodable",
        file=file,
        line=line,
    )


def unknown_encoding(file: str, guess: str | None) -> IngestRejected:
    seen = guess or "未知"
    return IngestRejected(
        f"文件 {file} 的编码（检测为 {seen}）不受支持，请使用 UTF-8 或 GBK/GB18030",
        f"file {file} has an unsupported encoding (detected {guess or 'unknown'}); use UTF-8 or GBK/GB18030",
        reason="undecodable",
        file=file,
    )


def schema_mismatch(
    file: str,
    dataset: str,
    *,
    missing: Sequence[str] = (),
    unexpected: Sequence[str] = (),
    duplicated: Sequence[str] = (),
) -> IngestRejected:
    zh: list[str] = []
    en: list[str] = []
    for names, zh_label, en_label in [
        (missing, "缺少列", "missing"),
        (unexpected, "多出列", "unexpected"),
        (duplicated, "重复列", "duplicated"),
    ]:
        if names:
            shown = [n or '""' for n in names]  # a blank header cell, e.g. from a trailing comma
            zh.append(f"{zh_label} " + "、".join(shown))
            en.append(f"{en_label} " + ", ".join(shown))
    return IngestRejected(
        f"文件 {file} 的列与登记的数据集 {dataset} 不一致：{'；'.join(zh)}",
        f"file {file}: columns do not match registered dataset {dataset}: {'; '.join(en)}",
        reason="schema_mismatch",
        file=file,
        column=(missing or unexpected or duplicated or (None,))[0],
    )


def no_header(file: str, dataset: str) -> IngestRejected:
    """The header shares no name with the schema: most likely the file has no header row, so the
    "names" are data and must not be echoed."""
    return IngestRejected(
        f"文件 {file} 的表头与数据集 {dataset} 登记的列全部不符（可能缺少表头行）",
        f"file {file}: no header name matches the columns registered for {dataset} (missing header row?)",
        reason="schema_mismatch",
        file=file,
    )


def type_mismatch(file: str, column: str, ctype: ColumnType, where: Where) -> IngestRejected:
    zh_type, en_type = _TYPE_WORDS[ctype]
    return IngestRejected(
        f"文件 {file} {where.zh}列 {column} 的值无法解析为{zh_type}",
        f"file {file} {where.en} column {column}: value is not {en_type}",
        reason="type_mismatch",
        file=file,
        line=where.line,
        column=column,
    )


def control_character(file: str, column: str, where: Where) -> IngestRejected:
    return IngestRejected(
        f"文件 {file} {where.zh}列 {column} 的值含有控制字符（U+0000–U+001F，制表符和换行符除外）",
        f"file {file} {where.en} column {column}: value contains a control character "
        "(U+0000–U+001F other than tab and line breaks)",
        reason="control_character",
        file=file,
        line=where.line,
        column=column,
    )


def oversized_field(file: str, column: str, where: Where, limit: int) -> IngestRejected:
    """``where`` is where the field starts: for a runaway quoted field, the unclosed quote."""
    return IngestRejected(
        f"文件 {file} {where.zh}列 {column} 的值超过 {limit:,} 个字符（可能有未闭合的引号）",
        f"file {file} {where.en} column {column}: value is longer than {limit:,} characters "
        "(an unclosed quote?)",
        reason="oversized_field",
        file=file,
        line=where.line,
        column=column,
    )


def column_type_mismatch(file: str, column: str, found: str, ctype: ColumnType) -> IngestRejected:
    return IngestRejected(
        f"文件 {file} 的列 {column} 类型为 {found}，无法转换为登记的类型 {ctype.value}",
        f"file {file} column {column} has type {found}, which cannot be converted to {ctype.value}",
        reason="type_mismatch",
        file=file,
        column=column,
    )


def malformed_row(file: str, where: Where, found: int | None, expected: int) -> IngestRejected:
    if found is None:
        zh = f"文件 {file} {where.zh}无法解析为一条完整记录"
        en = f"file {file} {where.en} cannot be parsed as a complete record"
    else:
        zh = f"文件 {file} {where.zh}有 {found} 个字段，表头为 {expected} 个"
        en = f"file {file} {where.en} has {found} fields, the header has {expected}"
    return IngestRejected(zh, en, reason="malformed_row", file=file, line=where.line)


def unparseable(file: str, fmt: str) -> IngestRejected:
    return IngestRejected(
        f"文件 {file} 无法按 {fmt} 解析",
        f"file {file} cannot be parsed as {fmt}",
        reason="malformed_row",
        file=file,
    )


def duplicate_keys(
    dataset: str, keys: Sequence[str], count: int, rate: float, limit: float
) -> IngestRejected:
    names = ", ".join(keys)
    return IngestRejected(
        f"数据集 {dataset} 有 {count} 条记录的键（{names}）与前面的记录重复，占 {rate:.2%}，超过允许的 {limit:.2%}",
        f"dataset {dataset}: {count} row(s) ({rate:.2%}) repeat an earlier key ({names}), above the allowed {limit:.2%}",
        reason="duplicate_keys",
        column=keys[0] if keys else None,
    )


def interrupted(dataset: str, kind: str) -> IngestInterrupted:
    """Publishing failed for a reason that is not the upload's; ``kind`` is only an exception's
    class name, never its message (which may quote data)."""
    return IngestInterrupted(
        f"数据集 {dataset} 的本次导入因内部错误（{kind}）未能完成，并非文件的问题；上传已隔离保存，运维人员可查看详情",
        f"the upload of {dataset} could not be completed because of an internal error ({kind}), "
        "not a fault of the file; it is kept in quarantine and operators have the details",
        reason="internal_error",
    )


def busy(dataset: str) -> IngestBusy:
    return IngestBusy(
        f"系统繁忙：另一项操作占用了所需的数据库锁，数据集 {dataset} 的本次导入未发布；上传已隔离保存，请稍后重新导入",
        f"busy: another operation held a database lock this one needs, so this upload of {dataset} "
        "was not published; it is kept in quarantine, please deliver it again",
        reason="busy",
    )
