"""Whole outputs refused: too large, identifying, identifiers in the output, undeclared domains, bad frames,
settings looser than the policy — and a refused output leaves nothing but its refusal in the report."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from sandbox.domain.gate import Refusal
from sandbox.domain.job import DPSpec
from sandbox.gate import load_policy
from sandbox.samples.checks import resident_id_check
from tests.sandbox.gate.conftest import count, gate, manifest, measure, output, policy_file, write_frame

SCHEMA = "pid string, d string, amount double"


def _rows(n: int = 30, values=("a", "b")) -> list[tuple]:
    return [(f"p{i}", values[i % len(values)], float(i)) for i in range(n)]


def _refusal(run, name: str) -> Refusal | None:
    return run.outcome.outputs[name].refusal


def test_an_output_with_more_cells_than_the_limit_is_not_aggregate(spark, tmp_path):
    job = manifest(
        output("huge", {"d": tuple(f"v{i}" for i in range(101)), "e": tuple(f"w{i}" for i in range(50))}),
        output("capped", {"d": tuple(f"v{i}" for i in range(11)), "e": tuple(f"w{i}" for i in range(10))},
               max_cells=100),
    )  # fmt: skip
    run = gate(spark, tmp_path, job)  # refused before any frame is read: staging may be empty
    assert _refusal(run, "huge") is Refusal.TOO_LARGE and "5050" in run.outcome.outputs["huge"].refusal_en
    assert _refusal(run, "capped") is Refusal.TOO_LARGE
    assert not list(run.out_dir.glob("*.parquet"))
    report = run.report["outputs"]["huge"]
    assert (
        report["status"] == "refused" and report["refusal"]["reason"] == "too_large" and report["cells"] == []
    )


def test_a_dimension_unique_per_person_is_refused_as_identifying(spark, tmp_path):
    born = [(datetime(1950, 1, 1) + timedelta(minutes=37 * i)).isoformat() for i in range(200)]
    write_frame(
        spark, tmp_path / "staging", "by_birth", [(f"p{i}", born[i], 1.0) for i in range(200)], SCHEMA
    )
    write_frame(
        spark, tmp_path / "staging", "by_group", [(f"p{i}", born[i % 20], 1.0) for i in range(200)], SCHEMA
    )
    run = gate(
        spark,
        tmp_path,
        manifest(output("by_birth", {"d": tuple(born)}), output("by_group", {"d": tuple(born)})),
    )
    assert _refusal(run, "by_birth") is Refusal.IDENTIFYING_DIMENSION
    assert _refusal(run, "by_group") is None  # 20 values over 200 people: a grouping, not an identifier


def _resident_id(serial: int) -> str:
    body = f"42028119800101{serial:03d}"
    return body + resident_id_check(body)


def test_identifiers_and_free_text_in_dimension_values_are_found_by_the_samples_recognizers(spark, tmp_path):
    job = manifest(
        output("by_id", {"d": tuple(_resident_id(i) for i in range(5))}),
        output("by_phone", {"d": ("13812345678", "13987654321")}),
        output("by_remark", {"d": ("正常", "住址湖北省黄石市大冶市东岳路街道新街社区12号")}),
        output("by_table", {}, code_tables={"d": "phones"}),
    )
    run = gate(spark, tmp_path, job, code_tables={"phones": ("15912345678",)})
    for name in ("by_id", "by_phone", "by_remark", "by_table"):
        assert _refusal(run, name) is Refusal.IDENTIFIER_IN_OUTPUT, name
    assert "CN_RESIDENT_ID" in run.outcome.outputs["by_id"].refusal_en
    assert "13812345678" not in (run.out_dir / "gate_report.json").read_text(encoding="utf-8")


def test_undeclared_or_unknown_domains_are_refused(spark, tmp_path):
    run = gate(
        spark,
        tmp_path,
        manifest(output("no_domain", {"d": None}), output("unknown_table", {}, code_tables={"d": "nope"})),
    )
    assert _refusal(run, "no_domain") is Refusal.UNDECLARED_DOMAIN
    assert _refusal(run, "unknown_table") is Refusal.UNDECLARED_DOMAIN


def test_a_code_table_domain_resolves_through_the_catalog(spark, tmp_path):
    write_frame(spark, tmp_path / "staging", "by_district", _rows(40, ("420281", "420282", "999999")), SCHEMA)
    run = gate(spark, tmp_path, manifest(output("by_district", {}, code_tables={"d": "division_district"})),
               code_tables={"division_district": ("420281", "420282")})  # fmt: skip
    assert run.released("by_district", ("420281",))
    assert run.report["outputs"]["by_district"]["rows"]["dropped_outside_domain"] == {"d": 13}


def test_frames_that_break_the_contract_are_refused(spark, tmp_path):
    staging = tmp_path / "staging"
    write_frame(spark, staging, "no_amount", [(f"p{i}", "a") for i in range(20)], "pid string, d string")
    write_frame(
        spark,
        staging,
        "float_entity",
        [(float(i), "a", 1.0) for i in range(20)],
        "pid double, d string, amount double",
    )
    write_frame(
        spark,
        staging,
        "text_measure",
        [(f"p{i}", "a", "1") for i in range(20)],
        "pid string, d string, amount string",
    )
    write_frame(spark, staging, "timestamp_dim", [(f"p{i}", datetime(2024, 1, 1), 1.0) for i in range(20)],
                "pid string, d timestamp, amount double")  # fmt: skip
    (staging / "corrupt").mkdir()
    (staging / "corrupt" / "part-0.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    amount = (count(), measure("amount", "sum", "amount"))
    names = ("missing", "no_amount", "float_entity", "text_measure", "timestamp_dim", "corrupt")
    run = gate(spark, tmp_path, manifest(*[output(n, {"d": ("a",)}, amount) for n in names]))
    for name in names:
        assert _refusal(run, name) is Refusal.INVALID_FRAME, name


def test_output_settings_looser_than_the_policy_are_refused(spark, tmp_path):
    policy = load_policy(policy_file(tmp_path, "rounding: {enabled: true, base: 10}\nallowed_aggregates: [count, sum, mean, median]\n"))  # fmt: skip
    job = manifest(
        output("low_threshold", {"d": ("a",)}, threshold=5),
        output("fine_rounding", {"d": ("a",)}, rounding=5),
        output("big_epsilon", {"d": ("a",)}, dp=DPSpec(epsilon=5.0)),
        output("with_std", {"d": ("a",)}, (measure("sd", "std", "amount"),)),
    )
    run = gate(spark, tmp_path, job, policy=policy)
    for name in ("low_threshold", "fine_rounding", "big_epsilon"):
        assert _refusal(run, name) is Refusal.LOOSER_THAN_POLICY, name
    assert _refusal(run, "with_std") is Refusal.AGGREGATE_NOT_ALLOWED


def test_a_measure_encoding_an_identifier_is_dominated_and_suppressed(spark, tmp_path):
    """Nine people contribute 0 and one contributes their resident ID as a number: the cell is dominated."""
    rows = [(f"p{i}", "a", 0.0) for i in range(9)] + [("victim", "a", float(_resident_id(7)[:17]))]
    write_frame(spark, tmp_path / "staging", "encoded", rows, SCHEMA)
    run = gate(
        spark,
        tmp_path,
        manifest(output("encoded", {"d": ("a",)}, (measure("code", "sum", "amount", (0, 1e18)),))),
    )
    assert run.rules("encoded", ("a",)) == {"dominance", "p_ratio"}


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


@pytest.mark.parametrize(
    "disguise",
    [
        lambda i: f"A{i}B",  # letters glued on both sides
        lambda i: f"编号{i}号",
        lambda i: f"{i[:6]}-{i[6:14]}-{i[14:]}",  # separators
        lambda i: f"{i[:6]} {i[6:14]} {i[14:]}",
        lambda i: f"{i[:6]}.{i[6:14]}.{i[14:]}",
        _full_width,  # full-width digits
        lambda i: f"id_{_full_width(i[:9])}_{i[9:]}",
    ],
    ids=["glued", "chinese-affixes", "dashes", "spaces", "dots", "full-width", "mixed"],
)
def test_an_identifier_disguised_in_a_longer_string_is_still_found(spark, tmp_path, disguise):
    """The attack: a domain value that carries a resident ID inside other characters, split by
    separators or in full-width digits. The layer: the gate's output scan, on normalised variants."""
    run = gate(spark, tmp_path, manifest(output("o", {"d": ("正常", disguise(_resident_id(7)))})))
    assert _refusal(run, "o") is Refusal.IDENTIFIER_IN_OUTPUT
    assert "CN_RESIDENT_ID" in run.outcome.outputs["o"].refusal_en


def test_codes_and_ordinary_labels_are_not_mistaken_for_identifiers(spark, tmp_path):
    values = ("429902", "420281001001", "60-69", "２０２６年", "A类", "house-3-12")
    run = gate(spark, tmp_path, manifest(output("o", {"d": values})))
    assert _refusal(run, "o") is not Refusal.IDENTIFIER_IN_OUTPUT


def test_the_public_report_says_which_cells_were_withheld_never_why(spark, tmp_path):
    """What a consumer or developer sees: no reason per cell, no dropped-row counts, tallies rounded up."""
    rows = _rows(30) + [(f"few{i}", "c", 1.0) for i in range(3)] + [(None, "a", 1.0)]
    write_frame(spark, tmp_path / "staging", "o", rows, SCHEMA)
    run = gate(spark, tmp_path, manifest(output("o", {"d": ("a", "b", "c")}, public=True)))
    full = run.report["outputs"]["o"]
    public = json.loads((run.out_dir / "gate_report_public.json").read_text(encoding="utf-8"))["outputs"]["o"]
    assert (
        full["summary"]["suppressed_by_reason"] == {"threshold": 1}
        and full["rows"]["dropped_without_entity"] == 1
    )
    assert public["summary"]["suppressed_by_reason"] == {"threshold": 5}  # rounded up to the base
    assert "rows" not in public and all("reasons" not in c for c in public["cells"])
    assert {tuple(c["key"].values()): c["decision"] for c in public["cells"]}[("c",)] == "suppressed"
    markdown = (run.out_dir / "gate_report_public.md").read_text(encoding="utf-8")
    assert "threshold:" not in markdown and "dropped" not in markdown
