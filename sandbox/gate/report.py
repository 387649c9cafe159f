"""What the gate writes: released tables, the gate report (JSON + Markdown) and the run summary.

A suppressed cell appears with its key, decision and reasons, never a value — not in the tables, not
in the report. Under differential privacy only noisy values and no row counts are reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sandbox.domain.gate import TOTAL_LABEL, CellDecision, GateOutcome, OutputOutcome
from sandbox.domain.job import JobManifest, OutputSpec
from sandbox.gate.frames import FrameStats
from sandbox.gate.policy import OutputRules

REPORT_FORMAT = 1


@dataclass(frozen=True)
class OutputFacts:
    """What the report says about how an output was computed (settings, rows, methods)."""

    spec: OutputSpec
    rules: OutputRules
    frame: FrameStats | None
    methods: dict[str, Any]


def _label(part: str | None) -> str:
    return TOTAL_LABEL if part is None else part


def _table(spec: OutputSpec, outcome: OutputOutcome) -> pa.Table:
    columns: dict[str, list] = {d: [] for d in spec.dimensions}
    columns.update({m.name: [] for m in spec.measures})
    columns["decision"] = []
    for cell in outcome.cells:
        for dim, part in zip(spec.dimensions, cell.key, strict=True):
            columns[dim].append(_label(part))
        for m in spec.measures:
            columns[m.name].append(
                cell.values.get(m.name) if cell.decision is CellDecision.RELEASED else None
            )
        columns["decision"].append(cell.decision.value)
    types = {m.name: pa.int64() if m.agg.value == "count" else pa.float64() for m in spec.measures}
    return pa.table(
        {name: pa.array(values, type=types.get(name, pa.string())) for name, values in columns.items()}
    )


def write_table(out_dir: Path, spec: OutputSpec, outcome: OutputOutcome) -> None:
    table = _table(spec, outcome)
    pq.write_table(table, out_dir / f"{spec.name}.parquet")
    pacsv.write_csv(table, out_dir / f"{spec.name}.csv")


def _cell_entry(spec: OutputSpec, cell) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": {d: _label(p) for d, p in zip(spec.dimensions, cell.key, strict=True)},
        "margin": cell.is_margin,
        "decision": cell.decision.value,
        "reasons": [r.as_dict() for r in cell.reasons],
    }
    if cell.decision is CellDecision.RELEASED:
        entry["values"] = cell.values
    return entry


def _rows(facts: OutputFacts) -> dict[str, Any] | str:
    if facts.frame is None:
        return "未读取 / not read"
    if facts.spec.dp is not None:
        return "差分隐私下不报告行数 / row counts are not reported under differential privacy"
    return {
        "read": facts.frame.rows_read,
        "dropped_without_entity": facts.frame.dropped_null_entity,
        "dropped_outside_domain": facts.frame.dropped_outside_domain,
    }


def output_entry(facts: OutputFacts | None, spec: OutputSpec, outcome: OutputOutcome) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "status": "refused" if outcome.refusal else "released",
        "entity": spec.entity,
        "dimensions": list(spec.dimensions),
        "measures": [
            {
                "name": m.name,
                "agg": m.agg.value,
                "column": m.column,
                "bounds": list(m.bounds) if m.bounds else None,
            }
            for m in spec.measures
        ],  # fmt: skip
    }
    if outcome.refusal:
        entry["refusal"] = {
            "reason": outcome.refusal.value,
            "zh": outcome.refusal_zh,
            "en": outcome.refusal_en,
        }
    if facts is not None:
        rules = facts.rules
        entry["rules"] = {
            "threshold": rules.threshold, "dominance_n": rules.dominance.n, "dominance_k": rules.dominance.k,
            "dominance_applies_to": list(rules.dominance.applies_to), "p_ratio": rules.p_ratio,
            "zeros_are_disclosive": rules.zeros_are_disclosive, "totals": spec.totals, "max_cells": rules.max_cells,
            "rounding_base": rules.rounding_base,
            "dp": {"epsilon": rules.dp.epsilon, "delta": rules.dp.delta} if rules.dp else None,
        }  # fmt: skip
        entry["rows"] = _rows(facts)
        entry["methods"] = facts.methods
    entry["summary"] = {
        "cells": len(outcome.cells), "released": len(outcome.released), "suppressed": len(outcome.suppressed),
        "suppressed_by_reason": outcome.suppressed_by_reason(), "epsilon_spent": outcome.epsilon_spent,
        "delta_spent": outcome.delta_spent,
    }  # fmt: skip
    entry["cells"] = [_cell_entry(spec, c) for c in outcome.cells]
    return entry


#: Per-rule tallies in what developers and consumers see are rounded up to this base: how many cells
#: one rule suppressed can turn on a few people.
TALLY_BASE = 5


def _rounded_tallies(tallies: dict[str, int]) -> dict[str, int]:
    return {rule: -(-count // TALLY_BASE) * TALLY_BASE for rule, count in tallies.items()}


def public_view(report: dict[str, Any]) -> dict[str, Any]:
    """The report as consumers and developers may see it: released cells and which cells were withheld,
    no reason per cell, no counts of dropped rows, per-rule tallies rounded up to ``TALLY_BASE``, a
    refusal by its reason code only. Operators and auditors keep the full report."""
    outputs = {}
    for name, output in report["outputs"].items():
        entry = {
            k: v for k, v in output.items() if k not in ("rows", "cells", "summary", "refusal", "methods")
        }
        if "refusal" in output:
            entry["refusal"] = {"reason": output["refusal"]["reason"]}
        entry["summary"] = {**output["summary"],
                            "suppressed_by_reason": _rounded_tallies(output["summary"]["suppressed_by_reason"])}  # fmt: skip
        entry["cells"] = [{k: v for k, v in cell.items() if k != "reasons"} for cell in output["cells"]]
        outputs[name] = entry
    return {**report, "view": "public", "outputs": outputs}


def summary(outcome: GateOutcome, policy: dict[str, Any], *, public: bool = False) -> dict[str, Any]:
    """The short form recorded with a production run (``public``: per-rule tallies rounded up to
    ``TALLY_BASE``, as developers see it) or returned to a dev run on samples (exact)."""
    tallies = {name: o.suppressed_by_reason() for name, o in outcome.outputs.items()}
    if public:
        tallies = {name: _rounded_tallies(t) for name, t in tallies.items()}
    return {
        "ok": True,
        "job": outcome.job_id,
        "released_cells": outcome.released_cells,
        "policy": policy,
        "outputs": {
            name: {
                "status": "refused" if o.refusal else "released",
                "refusal": o.refusal.value if o.refusal else None,
                "released": len(o.released),
                "suppressed": len(o.suppressed),
                "suppressed_by_reason": tallies[name],
                "epsilon_spent": o.epsilon_spent,
            }
            for name, o in outcome.outputs.items()
        },
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = [f"# 出口网关报告 / Gate report — {report['job']}", "",
             f"生成时间 / generated: {report['generated_at']}  ", f"输入数据集 / input datasets: "
             f"{', '.join(report['input_datasets']) or '—'}", "",
             f"发布单元格 / released cells: **{report['summary']['released_cells']}**; "
             f"抑制 / suppressed: **{report['summary']['suppressed_cells']}**; "
             f"拒绝的输出 / refused outputs: **{report['summary']['refused_outputs']}**", ""]  # fmt: skip
    for name, output in report["outputs"].items():
        lines += [f"## {name} — {output['status']}", ""]
        if "refusal" in output:
            refusal = output["refusal"]
            said = f" — {refusal['zh']} / {refusal['en']}" if "zh" in refusal else ""
            lines += [f"拒绝 / refused: `{refusal['reason']}`{said}", ""]
        summary_ = output["summary"]
        lines += [f"单元格 / cells: {summary_['cells']}, 发布 / released: {summary_['released']}, "
                  f"抑制 / suppressed: {summary_['suppressed']} {json.dumps(summary_['suppressed_by_reason'])}", ""]  # fmt: skip
        if "rules" in output:
            lines.append(f"规则 / rules: `{json.dumps(output['rules'], ensure_ascii=False)}`  ")
        if "methods" in output:
            lines += [f"方法 / methods: `{json.dumps(output['methods'], ensure_ascii=False)}`  ",
                      f"行 / rows: `{json.dumps(output['rows'], ensure_ascii=False)}`"]  # fmt: skip
        lines.append("")
        if not output["cells"]:
            continue
        measures = [m["name"] for m in output["measures"]]
        lines += ["| " + " | ".join([*output["dimensions"], *measures, "decision", "reasons"]) + " |",
                  "|" + "---|" * (len(output["dimensions"]) + len(measures) + 2)]  # fmt: skip
        for cell in output["cells"]:
            values = cell.get("values", {})
            shown = ["" if values.get(m) is None else f"{values[m]:g}" for m in measures]
            reasons = "; ".join(f"{r['rule']}: {r['zh']} / {r['en']}" for r in cell.get("reasons", []))
            lines.append("| " + " | ".join([*cell["key"].values(), *shown, cell["decision"], reasons]) + " |")
        lines.append("")
    return "\n".join(lines)


def write_report(
    out_dir: Path,
    manifest: JobManifest,
    outcome: GateOutcome,
    facts: dict[str, OutputFacts],
    policy: dict[str, Any],
    input_datasets: list[str],
) -> dict[str, Any]:
    outputs = {
        spec.name: output_entry(facts.get(spec.name), spec, outcome.outputs[spec.name])
        for spec in manifest.outputs
    }
    report = {
        "format": REPORT_FORMAT,
        "job": manifest.id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input_datasets": sorted(input_datasets),
        "policy": policy,
        "summary": {
            "released_cells": outcome.released_cells,
            "suppressed_cells": sum(len(o.suppressed) for o in outcome.outputs.values()),
            "refused_outputs": len(outcome.refused_outputs),
        },
        "outputs": outputs,
    }
    (out_dir / "gate_report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (out_dir / "gate_report.md").write_text(_markdown(report), encoding="utf-8")
    public = public_view(report)
    (out_dir / "gate_report_public.json").write_text(
        json.dumps(public, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (out_dir / "gate_report_public.md").write_text(_markdown(public), encoding="utf-8")
    (out_dir / "gate_summary.json").write_text(json.dumps(summary(outcome, policy, public=True), ensure_ascii=False),
                                               encoding="utf-8")  # fmt: skip
    return report
