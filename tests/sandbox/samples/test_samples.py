"""Samples end to end on a synthetic county: no raw identifier leaks, joins survive, k holds.

Real Spark, Ray and Presidio; the county and its samples are built once per session.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from sqlalchemy import select

from sandbox.domain.catalog import PiiKind
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

from .conftest import DATASETS, SCENARIO

pytestmark = pytest.mark.slow
JOBS = Path(__file__).parents[3] / "jobs"
_TOKEN = re.compile(r"[0-9A-Za-z]{11,19}")
#: kinds whose raw values must never appear in a sample; bank cards would be here too, the county has none
LEAKABLE = (PiiKind.CN_RESIDENT_ID, PiiKind.CN_MOBILE, PiiKind.CN_LANDLINE, PiiKind.PERSON_NAME, PiiKind.CN_USCC,
            PiiKind.BANK_CARD, PiiKind.ADDRESS)  # fmt: skip


def _samples(county) -> dict[str, pa.Table]:
    return {d: pq.read_table(sample_dir(county.ctx, SCENARIO, d)) for d in DATASETS}


def _raw_values(county) -> dict[PiiKind, set[str]]:
    values: dict[PiiKind, set[str]] = {kind: set() for kind in LEAKABLE}
    for dataset in county.catalog.datasets:
        raw = pq.read_table(county.raw(dataset.id))
        for column in dataset.columns:
            if column.pii in values:
                values[column.pii] |= {str(v) for v in raw.column(column.name).to_pylist() if v}
    values[PiiKind.CN_MOBILE] |= {
        str(v) for v in pq.read_table(county.raw("home_visits")).column("contact").to_pylist() if v
    }
    return values


def test_no_raw_identifier_survives_in_any_cell(county, built):
    raw = _raw_values(county)
    whole = raw[PiiKind.PERSON_NAME] | raw[PiiKind.ADDRESS]
    embedded = (
        raw[PiiKind.CN_RESIDENT_ID] | raw[PiiKind.CN_MOBILE] | raw[PiiKind.CN_USCC] | raw[PiiKind.BANK_CARD]
    )
    embedded |= {v.replace("-", "") for v in raw[PiiKind.CN_LANDLINE]}
    assert min(len(v) for v in raw.values() if v) > 10 and not raw[PiiKind.BANK_CARD]
    scanned = 0
    for dataset_id, table in _samples(county).items():
        for name in table.column_names:
            for cell in table.column(name).to_pylist():
                if cell is None:
                    continue
                text = str(cell)
                scanned += 1
                assert text not in whole, f"{dataset_id}.{name} holds a raw name or address"
                assert text not in raw[PiiKind.CN_LANDLINE], f"{dataset_id}.{name} holds a raw landline"
                leaked = [t for t in _TOKEN.findall(text.replace("-", "")) if t in embedded]
                assert not leaked, f"{dataset_id}.{name} holds a raw identifier"
    assert scanned > 1000


def test_planted_free_text_identifiers_are_removed(county, built):
    """Recall ≥ 99 % per patterned kind, over every planted identifier of the county (Ray + Presidio)."""
    from sandbox.engines.ray import ray_runtime
    from sandbox.samples.freetext import redact_arrays

    truth = pcsv.read_csv(county.synth / "ground_truth.csv").to_pylist()
    planted = [t for t in truth if t["kind"] == "planted_pii"]
    texts = {}
    for dataset_id in {t["dataset"] for t in planted}:
        raw = pq.read_table(county.raw(dataset_id))
        dataset = next(d for d in county.catalog.datasets if d.id == dataset_id)
        column = next(t["column"] for t in planted if t["dataset"] == dataset_id)
        texts[dataset_id] = [v for v in raw.column(column).to_pylist() if v] if dataset.keys else []
    names = sorted(texts)
    redacted = redact_arrays(
        ray_runtime(county.ctx.settings), [pa.array(texts[n], pa.string()) for n in names]
    )
    joined = {n: "\n".join(r.to_pylist()) for n, r in zip(names, redacted, strict=True)}
    for kind in {t["detail"] for t in planted}:
        mine = [t for t in planted if t["detail"] == kind]
        removed = sum(str(t["value"]) not in joined[t["dataset"]] for t in mine)
        assert removed / len(mine) >= 0.99, f"{kind}: {removed}/{len(mine)}"
    assert len(planted) > 100


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


def test_every_sample_is_k_anonymous_when_measured(county, built):
    card = card_of(built)
    k = card["policy"]["k"]
    for dataset_id, table in _samples(county).items():
        entry = card["datasets"][dataset_id]
        dataset = next(d for d in county.catalog.datasets if d.id == dataset_id)
        entity = dataset.entity if dataset.entity in table.column_names else None
        if table.num_rows:
            assert measure_k(table, entry["quasi_identifiers"], entity) >= k, dataset_id
            assert measure_k(table, entry["quasi_identifiers"], None) >= k, dataset_id
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
