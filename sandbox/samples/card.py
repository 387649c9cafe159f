"""The sample card: how a sample version was made and what risk remains, as JSON and Markdown."""

from __future__ import annotations

from typing import Any

OPERATOR_TEXT = {
    "pseudonym_resident_id": ("HMAC-SHA256 假名（保留格式与校验位）", "keyed HMAC-SHA256 pseudonym, format and check digit kept"),
    "pseudonym_uscc": ("HMAC-SHA256 假名（保留格式与校验码）", "keyed HMAC-SHA256 pseudonym, format and check character kept"),
    "pseudonym_bank_card": ("HMAC-SHA256 假名（Luhn 有效）", "keyed HMAC-SHA256 pseudonym, Luhn-valid"),
    "pseudonym_email": ("HMAC-SHA256 假名邮箱", "keyed HMAC-SHA256 pseudonymous address"),
    "pseudonym_token": ("HMAC-SHA256 令牌", "keyed HMAC-SHA256 token"),
    "synthetic_name": ("一致的合成姓名", "consistent synthetic name"),
    "synthetic_mobile": ("同格式合成手机号", "synthetic mobile number of the same format"),
    "synthetic_landline": ("同格式合成固话（保留区号）", "synthetic landline of the same format, area code kept"),
    "generalize_address": ("地址泛化至社区（按 k 匿名可再泛化）", "address generalized to community (further for k-anonymity)"),
    "generalize": ("泛化与局部抑制（k 匿名）", "generalization and local suppression (k-anonymity)"),
    "shift_date": ("按主体一致平移日期", "dates shifted consistently per entity"),
    "redact_free_text": ("Presidio 识别并替换个人标识", "Presidio analyze + anonymize with the Chinese recognizers"),
    "keep": ("保留", "kept"),
}  # fmt: skip


def residual_risk(card: dict[str, Any]) -> tuple[str, str]:
    """A plain statement of what the sample still allows, from the measured figures."""
    ks = [d["k"] for d in card["datasets"].values() if d["rows"]]
    k = min(ks) if ks else 0
    low_l = sorted(
        {f"{ds}.{c}" for ds, d in card["datasets"].items() for c, v in d["l_diversity"].items() if v < 2}
    )
    zh = (
        f"每个数据集在其准标识符上至少 {k}-匿名（按主体计）；直接标识符已替换为按授权密钥生成的假名，"
        "仅在同一授权内可关联，不可逆推原值。"
    )
    en = (
        f"Every dataset is at least {k}-anonymous over its quasi-identifiers (counted in entities); direct "
        "identifiers are keyed pseudonyms that link only within this authorization and cannot be reversed."
    )
    if low_l:
        zh += f"以下敏感属性在部分等价类中只有单一取值（l<2），可能发生属性泄露：{'、'.join(low_l)}。"
        en += f" These sensitive attributes have a single value in some class (l<2), so attribute disclosure is possible: {', '.join(low_l)}."
    zh += "自由文本经规则识别器处理，未列入模式的标识（如少见格式的姓名）可能残留。"
    en += " Free text went through pattern recognizers; identifiers outside their patterns (e.g. unusual names) may remain."
    return zh, en


def flagged_columns(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's profile findings: columns declared harmless whose profiled values are mostly
    identifiers of a kind (the share only, never a value), in the shape of ``samples findings``."""
    return [
        {"dataset": dataset_id, "column": p["column"], "declared_kind": p["declared"],
         "detected_kind": p["detected"], "share": p["share"]}
        for dataset_id, d in card["datasets"].items()
        for p in d["profile"]
        if p["flagged"]
    ]  # fmt: skip


def card_markdown(card: dict[str, Any]) -> str:
    lines = [
        f"# 样例卡 / Sample card — {card['scenario']} v{card['version']}",
        "",
        f"- 授权 / authorization: {card['authorization']}　种子 / seed: {card['seed']}　生成 / built: {card['created_at']}",
        f"- 抽样 / sampling: {card['policy']['fraction']:.0%} per district, cap {card['policy']['max_entities']:,}; "
        f"k = {card['policy']['k']}; entities sampled: "
        + ", ".join(f"{kind} {n:,}" for kind, n in card["entities"].items()),
        "",
    ]
    for dataset_id, d in card["datasets"].items():
        lines += [
            f"## {dataset_id} (raw v{d['raw_version']})",
            "",
            f"rows {d['rows']:,} · entities {d['entities']:,} · k achieved {d['k']} · suppressed entities "
            f"{d['suppressed_entities']:,} (rows {d['suppressed_rows']:,}) · dropped rows {d['dropped_rows']:,}",
            "",
            "| column | role | kind | operator | generalization |",
            "|---|---|---|---|---|",
        ]
        for c in d["columns"]:
            lines.append(
                f"| {c['column']} | {c['role']} | {c['kind']} | {OPERATOR_TEXT[c['operator']][1]} | {c.get('level', '')} |"
            )
        if d["l_diversity"]:
            lines += ["", "l-diversity: " + ", ".join(f"{c} l={v}" for c, v in d["l_diversity"].items())]
        flagged = [f for f in flagged_columns(card) if f["dataset"] == dataset_id]
        if flagged:
            lines += [
                "",
                "**Flagged / 标记**: "
                + ", ".join(f"{f['column']} holds {f['detected_kind']} ({f['share']:.0%})" for f in flagged),
            ]
        lines.append("")
    zh, en = card["residual_risk"]["zh"], card["residual_risk"]["en"]
    lines += ["## 剩余风险 / Residual risk", "", zh, "", en, ""]
    return "\n".join(lines)
