"""Samples end to end on a synthetic county: no raw identifier leaks, joins survive, k holds.

Real Spark, Ray and Presidio; the county and its samples are built once per session.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from sqlalchemy import select

from sandbox.domain.catalog import ColumnRole, PiiKind
from sandbox.domain.errors import ShuyuError
from sandbox.domain.identity import Role
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.samples import card_of, findings_for, sample_dir, show_samples
from sandbox.samples.checks import is_resident_id, is_uscc
from sandbox.samples.errors import SamplesError
from sandbox.samples.kanon import measure_k
from sandbox.samples.service import pseudonym_key_name
from sandbox.store.models import AuditEventRow

from .conftest import SCENARIO

pytestmark = pytest.mark.slow
JOBS = Path(__file__).parents[3] / "jobs"
#: kinds whose raw values must never appear in a sample
LEAKABLE = (PiiKind.CN_RESIDENT_ID, PiiKind.CN_MOBILE, PiiKind.CN_LANDLINE, PiiKind.PERSON_NAME, PiiKind.CN_USCC,
            PiiKind.BANK_CARD, PiiKind.ADDRESS)  # fmt: skip
#: every patterned kind a free-text remark can hide (the county plants three, the visit notes the rest)
PATTERNED = {"cn_resident_id", "cn_mobile", "cn_uscc", "cn_landline", "bank_card", "email", "license_plate",
             "passport"}  # fmt: skip


def _samples(county, scenario: str = SCENARIO) -> dict[str, pa.Table]:
    operator = principal_for(county.ctx, "operator-1")
    datasets = [d.dataset_id for d in show_samples(county.ctx, operator, scenario).datasets]
    return {d: pq.read_table(sample_dir(county.ctx, scenario, d)) for d in datasets}


def _planted(county) -> list[dict]:
    truth = pcsv.read_csv(county.synth / "ground_truth.csv").to_pylist()
    visits = pcsv.read_csv(
        county.synth / "home_visits_truth.csv", convert_options=pcsv.ConvertOptions(strings_can_be_null=False)
    )
    return [t for t in truth + visits.to_pylist() if t["kind"] == "planted_pii"]


def _raw_values(county) -> dict[PiiKind, set[str]]:
    """Every raw value of the leakable kinds: declared columns, the undeclared phone column, planted text."""
    values: dict[PiiKind, set[str]] = {kind: set() for kind in LEAKABLE}
    for dataset in county.catalog.datasets:
        raw = pq.read_table(county.raw(dataset.id))
        for column in dataset.columns:
            if column.pii in values:
                values[column.pii] |= {str(v) for v in raw.column(column.name).to_pylist() if v}
    values[PiiKind.CN_MOBILE] |= {
        str(v) for v in pq.read_table(county.raw("home_visits")).column("contact").to_pylist() if v
    }
    for t in _planted(county):
        values.setdefault(PiiKind(t["detail"]), set()).add(str(t["value"]))
    return values


def test_no_raw_identifier_survives_in_any_cell(county, built, elderly_care):
    """Every cell of every sample, whole and as text, against every raw identifier of the county."""
    raw = _raw_values(county)
    assert all(len(raw[kind]) > 50 for kind in LEAKABLE), {k: len(v) for k, v in raw.items()}
    embedded = set().union(*(v for kind, v in raw.items() if kind != PiiKind.PERSON_NAME))
    embedded |= {v.replace("-", "") for v in raw[PiiKind.CN_LANDLINE]}
    scanned, texts = 0, []
    samples = {
        (s, d): t for s in (SCENARIO, elderly_care.scenario_id) for d, t in _samples(county, s).items()
    }
    for dataset_id, table in samples.items():
        for name in table.column_names:
            cells = [str(c) for c in table.column(name).to_pylist() if c is not None]
            scanned += len(cells)
            named = [c for c in cells if c in raw[PiiKind.PERSON_NAME]]
            assert not named, f"{dataset_id}.{name} holds raw names"
            texts.append("\n".join(cells))
    text = "\n".join(texts)
    text += "\n" + text.replace("-", "")
    leaked = sorted(v for v in embedded if v in text)
    assert not leaked, f"raw identifiers in the samples: {leaked[:5]}"
    assert scanned > 1000


def test_planted_free_text_identifiers_are_removed(county, built):
    """Recall ≥ 99 % per patterned kind, over every identifier planted in the county's free text (Ray + Presidio)."""
    from sandbox.engines.ray import ray_runtime
    from sandbox.samples.freetext import redact_arrays

    planted = _planted(county)
    assert {t["detail"] for t in planted} >= PATTERNED
    texts = {}
    for dataset_id in sorted({t["dataset"] for t in planted}):
        column = next(t["column"] for t in planted if t["dataset"] == dataset_id)
        texts[dataset_id] = [v for v in pq.read_table(county.raw(dataset_id)).column(column).to_pylist() if v]
    redacted = redact_arrays(
        ray_runtime(county.ctx.settings), [pa.array(v, pa.string()) for v in texts.values()]
    )
    joined = {n: "\n".join(r.to_pylist()) for n, r in zip(texts, redacted, strict=True)}
    for kind in {t["detail"] for t in planted}:
        mine = [t for t in planted if t["detail"] == kind]
        removed = sum(str(t["value"]) not in joined[t["dataset"]] for t in mine)
        assert removed / len(mine) >= 0.99 and len(mine) >= 50, f"{kind}: {removed}/{len(mine)}"


def test_join_on_pseudonymous_person_key_matches_raw_join(county, built, spark):
    """social_insurance ⋈ hukou_population on id_number: same count in the sample as in raw, restricted to the sample."""
    from sandbox.samples.pseudonyms import resident_id

    key = county.ctx.keys.get(pseudonym_key_name(built.authorization_id))
    samples = _samples(county)
    sampled = set(samples["hukou_population"].column("id_number").to_pylist())
    raw_people = spark.read.parquet(str(county.raw("hukou_population"))).select("id_number")
    mapped = resident_id(raw_people.withColumn("raw", F.col("id_number")), "id_number", key)
    chosen = {r.raw for r in mapped.collect() if r.id_number in sampled}
    assert len(chosen) == len(sampled) > 0
    raw_hukou = pq.read_table(county.raw("hukou_population")).column("id_number").to_pylist()
    raw_si = pq.read_table(county.raw("social_insurance")).column("id_number").to_pylist()
    raw_count = sum(raw_hukou.count(p) * raw_si.count(p) for p in chosen)
    sample_hukou = samples["hukou_population"].column("id_number").to_pylist()
    sample_si = samples["social_insurance"].column("id_number").to_pylist()
    sample_count = sum(sample_hukou.count(p) * sample_si.count(p) for p in set(sample_hukou))
    assert sample_count == raw_count > 0


def test_every_sample_is_k_anonymous_when_measured(county, built, elderly_care):
    """Over the quasi-identifiers the catalog declares, in entities and in rows, in every current sample."""
    k = card_of(built)["policy"]["k"]
    generalized = (PiiKind.ADDRESS, PiiKind.BIRTH_DATE)
    for scenario in (SCENARIO, elderly_care.scenario_id):
        card = card_of(show_samples(county.ctx, principal_for(county.ctx, "operator-1"), scenario))
        for dataset_id, table in _samples(county, scenario).items():
            dataset = next(d for d in county.catalog.datasets if d.id == dataset_id)
            declared = [c.name for c in dataset.columns if c.name in table.column_names
                        and (c.role == ColumnRole.QUASI_ID or c.pii in generalized)]  # fmt: skip
            entry = card["datasets"][dataset_id]
            assert set(entry["quasi_identifiers"]) == set(declared), dataset_id
            entity = dataset.entity if dataset.entity in table.column_names else None
            if table.num_rows:
                assert measure_k(table, declared, entity) >= k, (scenario, dataset_id)
                assert measure_k(table, declared, None) >= k, (scenario, dataset_id)
            assert entry["k"] >= k or entry["rows"] == 0


def test_pseudonyms_keep_their_formats_and_only_approved_columns_go_out(county, built):
    samples = _samples(county)
    ids = [v for v in samples["hukou_population"].column("id_number").to_pylist() if v]
    usccs = [v for v in samples["enterprises"].column("uscc").to_pylist() if v]
    assert ids and all(is_resident_id(v) and v.startswith("9") for v in ids)
    assert usccs and all(is_uscc(v) for v in usccs)
    dataset = next(d for d in county.catalog.datasets if d.id == "hukou_population")
    assert samples["hukou_population"].column_names == list(dataset.column_names)


def test_undeclared_phone_column_is_flagged_and_pseudonymized(county, built):
    card = card_of(built)
    visits = card["datasets"]["home_visits"]
    contact = next(c for c in visits["columns"] if c["column"] == "contact")
    assert contact["kind"] == "cn_mobile" and contact["operator"] == "synthetic_mobile"
    with county.ctx.sessions() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "samples.column_flagged")
        ).all()
    assert [e.object_id for e in events] == ["home_visits.contact"]
    provider = principal_for(county.ctx, "provider-minzheng")
    assert [(f.dataset_id, f.column) for f in findings_for(county.ctx, provider)] == [
        ("home_visits", "contact")
    ]
    assert findings_for(county.ctx, principal_for(county.ctx, "provider-gongan")) == []
    assert "home_visits" in (county.synth / "home_visits.yaml").read_text()


def test_members_and_operators_read_samples_others_are_refused(county, built):
    ctx = county.ctx
    assert show_samples(ctx, principal_for(ctx, "developer-1"), SCENARIO).version == built.version
    assert show_samples(ctx, principal_for(ctx, "operator-2"), SCENARIO).version == built.version
    operator = principal_for(ctx, "operator-1")
    identities.create_user(
        ctx, principal_for(ctx, "admin"), "developer-9", "外部开发", "xinghe-tech", {Role.DEVELOPER}
    )
    identities.verify_identity(ctx, operator, "developer-9")
    identities.record_filing(ctx, operator, "developer-9", "YZBA-2026-0099")
    identities.record_nda(ctx, operator, "developer-9", "保密协议 v1.0", date(2026, 1, 5))
    for outsider in ("developer-9", "provider-gongan", "consumer-1"):
        with pytest.raises(ShuyuError) as info:
            show_samples(ctx, principal_for(ctx, outsider), SCENARIO)
        assert info.value.code == "E600"
    with ctx.sessions() as session:
        refused = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")).all()
    assert {e.actor for e in refused if "samples.read" in e.details} >= {
        "developer-9",
        "provider-gongan",
        "consumer-1",
    }
    with pytest.raises(SamplesError):
        sample_dir(ctx, SCENARIO, "housing_units")


def test_card_is_written_as_json_and_markdown(county, built):
    cards = county.ctx.settings.samples_dir / SCENARIO / "cards"
    markdown = (cards / f"v{built.version:04d}.md").read_text(encoding="utf-8")
    assert "剩余风险" in markdown and "Residual risk" in markdown and "k achieved" in markdown
    assert (cards / f"v{built.version:04d}.json").exists()
    assert pc.sum(pa.array([d["rows"] for d in card_of(built)["datasets"].values()])).as_py() > 100


def test_elderly_job_dev_run_on_its_samples_has_rows(county, elderly_care, spark, tmp_path):
    """k-anonymity keeps birth dates as typed dates (generalized, not blanked), so age bands work on samples."""
    from sandbox.demo.scenarios import ELDERLY_CARE
    from sandbox.runtime.execute import execute
    from sandbox.runtime.manifest import load_manifest

    scenario = ELDERLY_CARE["scenario_id"]
    people = pq.read_table(sample_dir(county.ctx, scenario, "hukou_population"))
    births = people.column("birth_date")
    assert births.type == pa.date32() and births.null_count < people.num_rows / 2
    assert len(pc.unique(births.drop_null())) > 1
    job = JOBS / "elderly_care_hotspots"
    manifest = load_manifest(job)
    inputs = {i.alias: sample_dir(county.ctx, scenario, i.dataset) for i in manifest.inputs}
    result = execute(spark, job, manifest, inputs, tmp_path, date.today())
    assert result.ok, result.as_dict()
    frame = spark.read.parquet(str(tmp_path / "elderly_by_district"))
    assert frame.count() > 0 and frame.select("age_band").distinct().count() > 1
