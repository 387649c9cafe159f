"""Samples of a scenario: build (operators), read (members and operators), locate, forget.

A build draws the scenario's entities once, then for each dataset takes their rows with only
the approved columns, desensitizes them under the authorization's pseudonym key, checks
k-anonymity and writes a new version with its card. Only the current version stays on disk.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.service import current_version, get_dataset, version_path
from sandbox.context import PlatformContext
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import Role
from sandbox.domain.progress import Stages, no_progress
from sandbox.domain.samples import SampleState
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.governance.authorizations import covering_authorization
from sandbox.governance.scenarios import approved_columns
from sandbox.samples.card import card_markdown, residual_risk
from sandbox.samples.errors import SamplesError
from sandbox.samples.plan import ENTITY_KINDS, entity_kind
from sandbox.samples.policy import DEFAULT_POLICY, SamplePolicy, check_policy
from sandbox.store import allocate, placement, samples_repo
from sandbox.store.models import (
    ProfileFindingRow,
    SampleDatasetRow,
    SampleVersionRow,
    ScenarioMemberRow,
    ScenarioRow,
)
from sandbox.store.zones import Zone, zone_path, zone_relative


def pseudonym_key_name(authorization_id: str) -> str:
    return f"pseudonym-{authorization_id.lower()}"


def build_samples(
    ctx: PlatformContext,
    actor: Principal,
    scenario_id: str,
    *,
    seed: int | None = None,
    policy: SamplePolicy = DEFAULT_POLICY,
    today: date | None = None,
    spark=None,
    stages: Stages = no_progress,
) -> SampleVersionRow:
    """Build a new sample version of every dataset the scenario was granted, and record its card.

    Operators build them, under their organization's authorization; as the queued ``samples.build``
    task and the API admit them only (administrators read samples, ``check_may_read``, but build none).
    """
    stages("核对授权与已同意的列", "checking the authorization and the granted columns")
    with audited_refusals(ctx, actor, "samples.build", "scenario", scenario_id):
        check_role(actor, {Role.OPERATOR}, "生成样例数据", "build samples")
        check_policy(policy)
        granted = approved_columns(ctx, scenario_id)
        with ctx.sessions() as session:
            scenario = session.get(ScenarioRow, scenario_id)
            authorization = covering_authorization(
                session, scenario.operator_org_id, sorted(granted), today or datetime.now(UTC).date()
            )
            if authorization is None:
                raise SamplesError(
                    f"场景 {scenario_id} 的数据集没有有效授权覆盖，不能生成样例",
                    f"no active authorization covers scenario {scenario_id}'s datasets; cannot build samples",
                )
            authorization_id = authorization.id
    seed = secrets.randbelow(2**31) if seed is None else seed
    key = ctx.keys.create(pseudonym_key_name(authorization_id))
    samples, entities = _build(ctx, granted, key, policy, seed, spark, stages)
    stages("写入样例与样例卡", "writing the samples and their card")
    card = {
        "scenario": scenario_id, "version": None, "authorization": authorization_id, "seed": seed,
        "created_at": utc_now_iso(), "created_by": actor.username, "policy": policy.as_dict(),
        "entities": entities, "datasets": {s.dataset.id: s.card() for s in samples},
    }  # fmt: skip
    zh, en = residual_risk(card)
    card["residual_risk"] = {"zh": zh, "en": en}
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".samples-{scenario_id}-", dir=ctx.settings.work_dir) as staging:
        row, superseded = _record(
            ctx, actor, scenario_id, authorization_id, seed, card, samples, Path(staging)
        )
    for path in superseded:  # only once the new version is committed
        shutil.rmtree(zone_relative(ctx.settings, Zone.SAMPLES, path), ignore_errors=True)
    return row


def _record(
    ctx: PlatformContext,
    actor: Principal,
    scenario_id: str,
    authorization_id: str,
    seed: int,
    card: dict,
    samples: list,
    staging: Path,
) -> tuple[SampleVersionRow, list[str]]:
    """Write the samples unnumbered into ``staging``, then number, place and record them in one
    transaction (``store.allocate``), superseding the current version; returns the new row and
    the superseded versions' directories."""
    from sandbox.samples.build import write_sample

    for sample in samples:
        write_sample(sample.table, staging / sample.dataset.id)
    root = zone_path(ctx.settings, Zone.SAMPLES, scenario_id)
    with ctx.transaction() as session:
        number = allocate.sample_version(session, scenario_id)
        card["version"] = number
        superseded = []
        for old in samples_repo.versions(session, scenario_id):
            if old.state == SampleState.CURRENT.value:
                old.state = SampleState.SUPERSEDED.value
                superseded += [d.path for d in old.datasets]
        for sample in samples:
            target = zone_path(ctx.settings, Zone.SAMPLES, scenario_id, sample.dataset.id, f"v{number:04d}")
            if target.exists() or target.is_symlink():  # left by a crash: no record holds this number
                aside = placement.set_aside(
                    target, root / f".set-aside-{uuid.uuid4().hex[:8]}" / sample.dataset.id
                )
                ctx.audit(session, "samples.leftover_set_aside", "sample_version", f"{scenario_id}@v{number}",
                          actor=actor.username, moved_to=str(aside.relative_to(ctx.settings.samples_dir)))  # fmt: skip
            placement.place(session, staging / sample.dataset.id, target, ctx.settings.work_dir)
        cards = root / "cards"
        cards.mkdir(parents=True, exist_ok=True)
        (cards / f"v{number:04d}.json").write_text(
            json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        (cards / f"v{number:04d}.md").write_text(card_markdown(card), encoding="utf-8")
        row = SampleVersionRow(
            scenario_id=scenario_id, version=number, authorization_id=authorization_id, seed=seed, state=SampleState.CURRENT.value,
            card_json=json.dumps(card, ensure_ascii=False), created_by=actor.username, created_at=card["created_at"],
        )  # fmt: skip
        row.datasets = [
            SampleDatasetRow(
                dataset_id=s.dataset.id,
                raw_version=s.raw_version,
                rows=s.table.num_rows,
                path=f"{scenario_id}/{s.dataset.id}/v{number:04d}",
                k_achieved=s.k.k,
            )  # fmt: skip
            for s in samples
        ]
        session.add(row)
        session.flush()
        ctx.audit(session, "samples.built", "sample_version", f"{scenario_id}@v{number}", actor=actor.username,
                  seed=seed, authorization=authorization_id, rows={s.dataset.id: s.table.num_rows for s in samples},
                  k={s.dataset.id: s.k.k for s in samples})  # fmt: skip
        for sample in samples:
            for p in sample.profiles:
                if p.flagged:
                    _flag(ctx, session, row, sample.dataset.provider, p, actor.username)
    return row, superseded


def _build(
    ctx, granted: dict[str, list[str]], key: bytes, policy: SamplePolicy, seed: int, spark, stages: Stages
):
    from sandbox.engines.ray import ray_runtime
    from sandbox.engines.spark import spark_from_settings
    from sandbox.samples.build import anonymize, prepare, redact
    from sandbox.samples.sampling import entity_frame, rows_of, stratified

    versions = {dataset_id: current_version(ctx, dataset_id) for dataset_id in sorted(granted)}
    stages(
        "启动 Spark，抽样",
        "starting Spark; drawing the sample",
        rows=sum(v.row_count for v in versions.values()),
    )
    spark = spark or spark_from_settings(ctx.settings)
    frames = {}
    for dataset_id, version in versions.items():
        dataset = get_dataset(ctx, dataset_id)
        frames[dataset_id] = (dataset, spark.read.parquet(str(version_path(ctx, version))), version.version)
    chosen, counts = {}, {}
    for kind in ENTITY_KINDS:
        population = entity_frame({k: (d, f) for k, (d, f, _) in frames.items()}, kind)
        if population is not None:
            chosen[kind] = stratified(
                population, fraction=policy.fraction, cap=policy.max_entities, seed=seed
            ).cache()
            counts[kind.value] = chosen[kind].count()
    prepared = []
    for dataset_id, (dataset, raw, raw_version) in frames.items():
        rows = rows_of(raw, dataset, chosen.get(entity_kind(dataset)), fraction=policy.fraction, seed=seed)
        columns = [c for c in dataset.column_names if c in granted[dataset_id]]
        prepared.append(prepare(dataset, raw_version, raw, rows, columns, key, policy))
    stages("脱敏（Ray 处理自由文本）", "desensitizing (free text on Ray)")
    redact(lambda: ray_runtime(ctx.settings), prepared)
    stages("泛化至 k-匿名并检查风险", "generalizing to k-anonymity and checking the risk")
    samples = [anonymize(p, policy) for p in prepared]
    for frame in chosen.values():
        frame.unpersist()
    return samples, counts


def _flag(ctx, session: Session, row: SampleVersionRow, provider: str, p, actor: str) -> None:
    session.add(
        ProfileFindingRow(
            sample_version_id=row.id,
            dataset_id=p.dataset,
            column=p.column,
            provider_id=provider,
            declared_kind=p.declared,
            detected_kind=p.detected,
            share=p.share,
            created_at=utc_now_iso(),
        )  # fmt: skip
    )
    ctx.audit(session, "samples.column_flagged", "dataset_column", f"{p.dataset}.{p.column}", actor=actor,
              provider=provider, declared=p.declared, detected=p.detected, share=p.share,
              sample_version=f"{row.scenario_id}@v{row.version}")  # fmt: skip


# -- reading ------------------------------------------------------------------------------


def _current(session: Session, scenario_id: str) -> SampleVersionRow:
    row = next(
        (v for v in samples_repo.versions(session, scenario_id) if v.state == SampleState.CURRENT.value), None
    )
    if row is None:
        raise SamplesError(
            f"场景 {scenario_id} 没有可用的样例数据", f"scenario {scenario_id} has no current samples"
        )
    _ = row.datasets
    return row


def check_may_read(ctx: PlatformContext, actor: Principal, scenario_id: str) -> None:
    """Operators read any scenario's samples; developers only those of scenarios they are members of."""
    if actor.has(Role.OPERATOR, Role.ADMIN):
        return
    check_role(actor, {Role.DEVELOPER}, "查看样例数据", "read samples")
    with ctx.sessions() as session:
        if session.get(ScenarioMemberRow, (scenario_id, actor.username)) is None:
            raise PermissionDenied(  # a refusal (403 on the API), not a missing sample
                f"{actor.username} 不是场景 {scenario_id} 的开发人员，不能查看其样例",
                f"{actor.username} is not a developer of scenario {scenario_id} and may not read its samples",
            )


def show_samples(ctx: PlatformContext, actor: Principal, scenario_id: str) -> SampleVersionRow:
    """The current sample version (with its card) of a scenario the actor may read."""
    with audited_refusals(ctx, actor, "samples.read", "scenario", scenario_id):
        check_may_read(ctx, actor, scenario_id)
        with ctx.sessions() as session:
            return _current(session, scenario_id)


def card_of(row: SampleVersionRow) -> dict:
    return json.loads(row.card_json)


def sample_dir(ctx: PlatformContext, scenario_id: str, dataset_id: str) -> Path:
    """The current sample version's Parquet directory of one dataset (the dev runner reads it)."""
    with ctx.sessions() as session:
        return _dataset_dir(ctx, _current(session, scenario_id), dataset_id)


def _dataset_dir(ctx: PlatformContext, row: SampleVersionRow, dataset_id: str) -> Path:
    entry = next((d for d in row.datasets if d.dataset_id == dataset_id), None)
    path = zone_relative(ctx.settings, Zone.SAMPLES, entry.path) if entry else None
    if path is None or not path.is_dir():
        raise SamplesError(
            f"场景 {row.scenario_id} 没有数据集 {dataset_id} 的样例",
            f"scenario {row.scenario_id} has no sample of dataset {dataset_id}",
        )
    return path


def sample_file(
    ctx: PlatformContext, actor: Principal, scenario_id: str, dataset_id: str
) -> tuple[str, bytes]:
    """One dataset's current desensitized sample as one Parquet file (its name and bytes), for a reader
    of the scenario's samples (``check_may_read``: its developers, and operators); the download is
    audited. Samples are the developers' zone (ARCHITECTURE: desensitized, per scenario and column)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with audited_refusals(ctx, actor, "samples.download", "scenario", scenario_id):
        check_may_read(ctx, actor, scenario_id)
        with ctx.transaction() as session:
            row = _current(session, scenario_id)
            directory, version = _dataset_dir(ctx, row, dataset_id), row.version
            ctx.audit(session, "samples.download", "sample_version", f"{scenario_id}@v{version}",
                      actor=actor.username, dataset=dataset_id)  # fmt: skip
    parts = sorted(directory.glob("*.parquet"))
    if len(parts) == 1:
        content = parts[0].read_bytes()
    else:  # a sample written in several parts goes out as one file
        sink = pa.BufferOutputStream()
        pq.write_table(pq.read_table(directory), sink, compression="zstd")
        content = sink.getvalue().to_pybytes()
    return f"{scenario_id}-{dataset_id}-v{version:04d}.parquet", content


def finding_view(row: ProfileFindingRow) -> dict:
    return {"dataset": row.dataset_id, "column": row.column, "provider": row.provider_id,
            "declared_kind": row.declared_kind, "detected_kind": row.detected_kind, "share": row.share,
            "created_at": row.created_at}  # fmt: skip


def findings_for(ctx: PlatformContext, actor: Principal) -> list[ProfileFindingRow]:
    """Profile findings: operators see all, a provider sees those on its own datasets."""
    query = select(ProfileFindingRow).order_by(ProfileFindingRow.id)
    if not actor.has(Role.OPERATOR, Role.ADMIN):
        check_role(actor, {Role.PROVIDER}, "查看数据画像标记", "read profile findings")
        query = query.where(ProfileFindingRow.provider_id == actor.provider_id)
    with ctx.sessions() as session:
        return list(session.scalars(query))
