"""Read and validate ``job.toml``: every mistake is named, in Chinese and English."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from sandbox.domain.errors import InvalidInput, ShuyuError
from sandbox.domain.identifiers import IdKind, check_id
from sandbox.domain.job import Aggregate, Domain, DPSpec, InputSpec, JobManifest, Measure, OutputSpec

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_OUTPUT_FIELDS = {"entity", "dimensions", "measures", "domains", "public_domains", "totals", "threshold",
                  "rounding", "max_cells", "max_cells_per_entity", "dp"}  # fmt: skip


class ManifestError(ShuyuError):
    code = "E800"


def _fail(where: str, zh: str, en: str) -> ManifestError:
    return ManifestError(f"job.toml {where}：{zh}", f"job.toml {where}: {en}")


def _ident(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise _fail(
            where,
            f"{value!r} 不是合法的名称（小写字母、数字、下划线）",
            f"{value!r} is not a valid name (lowercase, digits, _)",
        )
    return value


def _measure(entry: Any, where: str) -> Measure:
    if not isinstance(entry, dict):
        raise _fail(where, "度量须为表", "a measure must be a table")
    name = _ident(entry.get("name"), f"{where}.name")
    where = f"{where}[{name}]"
    unknown = set(entry) - {"name", "agg", "column", "bounds"}
    if unknown:
        raise _fail(
            where, f"未知字段 {', '.join(sorted(unknown))}", f"unknown field(s) {', '.join(sorted(unknown))}"
        )
    try:
        agg = Aggregate(entry.get("agg"))
    except ValueError:
        allowed = ", ".join(a.value for a in Aggregate)
        raise _fail(where, f"不允许的聚合 {entry.get('agg')!r}（只允许 {allowed}）",
                    f"aggregate {entry.get('agg')!r} is not allowed (only {allowed})") from None  # fmt: skip
    column = entry.get("column")
    bounds = entry.get("bounds")
    if agg is Aggregate.COUNT:
        if column is not None or bounds is not None:
            raise _fail(where, "count 不需要 column 或 bounds", "count takes no column or bounds")
    else:
        _ident(column, f"{where}.column")
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int | float) for b in bounds)
            and bounds[0] < bounds[1]
        ):
            raise _fail(where, f"{agg.value} 须声明 bounds = [下限, 上限]（用于限制单个主体的贡献）",
                        f"{agg.value} needs bounds = [low, high] (to bound each entity's contribution)")  # fmt: skip
        bounds = (float(bounds[0]), float(bounds[1]))
    return Measure(name, agg, column, bounds)


def _domains(entry: Any, dimensions: tuple[str, ...], where: str) -> dict[str, Domain]:
    if entry is None:
        return {}
    if not isinstance(entry, dict):
        raise _fail(where, "domains 须为表", "domains must be a table")
    result = {}
    for dim, value in entry.items():
        if dim not in dimensions:
            raise _fail(f"{where}.{dim}", "不是该输出的维度", "is not a dimension of this output")
        if isinstance(value, list) and value:
            result[dim] = Domain(values=tuple(str(v) for v in value))
        elif isinstance(value, dict) and isinstance(value.get("code_table"), str):
            result[dim] = Domain(code_table=value["code_table"])
        else:
            raise _fail(
                f"{where}.{dim}",
                '须为取值列表或 {code_table = "…"}',
                'must be a list of values or {code_table = "…"}',
            )
    return result


def _positive_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _fail(where, "须为正整数", "must be a positive integer")
    return value


def _output(name: str, entry: Any) -> OutputSpec:
    where = f"[outputs.{name}]"
    _ident(name, where)
    if not isinstance(entry, dict):
        raise _fail(where, "须为表", "must be a table")
    unknown = set(entry) - _OUTPUT_FIELDS
    if unknown:
        raise _fail(
            where, f"未知字段 {', '.join(sorted(unknown))}", f"unknown field(s) {', '.join(sorted(unknown))}"
        )
    entity = _ident(entry.get("entity"), f"{where}.entity")
    dimensions = entry.get("dimensions")
    if not isinstance(dimensions, list) or not dimensions:
        raise _fail(where, "须声明至少一个维度", "must declare at least one dimension")
    dimensions = tuple(_ident(d, f"{where}.dimensions") for d in dimensions)
    if entity in dimensions:
        raise _fail(
            where, f"隐私主体列 {entity} 不能作为维度", f"the privacy unit {entity} can never be a dimension"
        )
    measures = entry.get("measures")
    if not isinstance(measures, list) or not measures:
        raise _fail(where, "须声明至少一个度量", "must declare at least one measure")
    parsed = tuple(_measure(m, f"{where}.measures") for m in measures)
    names = [m.name for m in parsed]
    if len(set(names)) != len(names) or set(names) & set(dimensions):
        raise _fail(
            where, "度量名重复或与维度同名", "measure names must be unique and differ from dimensions"
        )
    dp = entry.get("dp")
    if dp is not None:
        if not isinstance(dp, dict) or not isinstance(dp.get("epsilon"), int | float) or dp["epsilon"] <= 0:
            raise _fail(f"{where}.dp", "须声明正的 epsilon", "needs a positive epsilon")
        dp = DPSpec(float(dp["epsilon"]), float(dp.get("delta", 0.0)))
    return OutputSpec(
        name=name, entity=entity, dimensions=dimensions, measures=parsed,
        domains=_domains(entry.get("domains"), dimensions, f"{where}.domains"),
        public_domains=bool(entry.get("public_domains", False)), totals=bool(entry.get("totals", False)),
        threshold=_positive_int(entry.get("threshold"), f"{where}.threshold"),
        rounding=_positive_int(entry.get("rounding"), f"{where}.rounding"),
        max_cells=_positive_int(entry.get("max_cells"), f"{where}.max_cells"),
        max_cells_per_entity=_positive_int(entry.get("max_cells_per_entity"), f"{where}.max_cells_per_entity"),
        dp=dp,
    )  # fmt: skip


def _id(kind: IdKind, value: Any, where: str) -> str:
    """A manifest's identifier, refused like every other malformed field (naming the field)."""
    if value is None or value == "":
        raise _fail(where, "缺少或为空", "is missing or empty")
    try:
        return check_id(kind, value)
    except InvalidInput as err:
        raise _fail(where, err.zh, err.en) from None


def parse_manifest(document: dict[str, Any]) -> JobManifest:
    unknown = set(document) - {"id", "title", "scenario", "entry", "inputs", "outputs"}
    if unknown:
        raise _fail(
            "", f"未知字段 {', '.join(sorted(unknown))}", f"unknown field(s) {', '.join(sorted(unknown))}"
        )
    job_id = _id(IdKind.JOB, document.get("id"), "id")
    if not isinstance(document.get("title"), str) or not document["title"].strip():
        raise _fail("title", "缺少或为空", "is missing or empty")
    scenario = _id(IdKind.SCENARIO, document.get("scenario"), "scenario")
    entry = document.get("entry", "job.py")
    if not isinstance(entry, str) or not re.match(r"^[a-z_][a-z0-9_]*\.py$", entry):
        raise _fail(
            "entry",
            f"{entry!r} 须为作业目录中的 .py 文件名",
            f"{entry!r} must be a .py file name in the job folder",
        )
    inputs_doc = document.get("inputs")
    if not isinstance(inputs_doc, dict) or not inputs_doc:
        raise _fail("[inputs]", "须声明至少一个输入", "must declare at least one input")
    inputs = []
    for alias, spec in inputs_doc.items():
        where = f"[inputs.{alias}]"
        _ident(alias, where)
        if not isinstance(spec, dict) or not isinstance(spec.get("dataset"), str):
            raise _fail(where, "须声明 dataset", "must name a dataset")
        _id(IdKind.DATASET, spec["dataset"], f"{where}.dataset")
        columns = spec.get("columns")
        if not isinstance(columns, list) or not columns:
            raise _fail(where, "须列出所需的列", "must list the columns it needs")
        declared = tuple(_ident(c, f"{where}.columns") for c in columns)
        keys = spec.get("join_keys", [])
        if not isinstance(keys, list) or not set(keys) <= set(declared):
            raise _fail(
                f"{where}.join_keys", "连接键须为该输入所列的列", "join keys must be columns this input lists"
            )
        inputs.append(InputSpec(alias, spec["dataset"], declared, tuple(keys)))
    outputs_doc = document.get("outputs")
    if not isinstance(outputs_doc, dict) or not outputs_doc:
        raise _fail("[outputs]", "须声明至少一个输出", "must declare at least one output")
    outputs = tuple(_output(name, spec) for name, spec in outputs_doc.items())
    return JobManifest(job_id, document["title"], scenario, entry, tuple(inputs), outputs)


def load_manifest(job_dir: Path) -> JobManifest:
    path = job_dir / "job.toml"
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{job_dir} 中没有 job.toml", f"no job.toml in {job_dir}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"job.toml 语法错误：{exc}", f"job.toml syntax error: {exc}") from None
    manifest = parse_manifest(document)
    if not (job_dir / manifest.entry).is_file():
        raise ManifestError(
            f"入口文件 {manifest.entry} 不存在", f"entry file {manifest.entry} does not exist"
        )
    return manifest
