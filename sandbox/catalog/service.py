"""Catalog services: register providers and datasets, list them, and turn uploads into versions.

Each state change writes exactly one audit event in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sandbox.audit.canonical import canonical_json
from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.spec import dataset_to_dict, parse_catalog, parse_dataset
from sandbox.context import PlatformContext
from sandbox.domain.catalog import Catalog, Dataset
from sandbox.domain.errors import Busy, CatalogError, IngestRejected, NotFoundError, PermissionDenied
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store import allocate, placement
from sandbox.store import catalog_repo as repo
from sandbox.store.models import (
    CodeTableRow,
    DatasetColumnRow,
    DatasetRow,
    DatasetVersionRow,
    ProviderRow,
    QuarantineRow,
)
from sandbox.store.zones import Zone, zone_relative

if TYPE_CHECKING:
    from sandbox.catalog.ingest import Staged


@dataclass(frozen=True)
class CatalogFile:
    catalog: Catalog
    files: dict[str, Path]  # dataset id -> data file named next to the catalog, when given
    as_of: str | None


def _yaml_document(text: str, name: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(
            f"目录文件 {name} 无法解析：{exc}", f"catalog file {name} cannot be parsed: {exc}"
        ) from None


def catalog_from_yaml(text: str) -> Catalog:
    """A catalog sent as YAML text (the API's upload); data files are not part of it."""
    return parse_catalog(_yaml_document(text, "(upload)"))


def read_catalog_file(path: Path) -> CatalogFile:
    try:
        document = _yaml_document(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise CatalogError(f"目录文件 {path} 不存在", f"catalog file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"目录文件 {path} 无法解析：{exc}", f"catalog file {path} cannot be parsed: {exc}"
        ) from None
    catalog = parse_catalog(document)
    files = {
        entry["id"]: (path.parent / entry["file"]).resolve()
        for entry in document.get("datasets") or []
        if isinstance(entry, dict) and entry.get("file")
    }
    as_of = document.get("as_of")
    return CatalogFile(catalog, files, str(as_of) if as_of else None)


@dataclass(frozen=True)
class LoadSummary:
    providers_added: list[str]
    datasets_added: list[str]
    datasets_unchanged: list[str]
    code_tables_added: list[str]


def load_catalog(ctx: PlatformContext, actor: Principal, catalog: Catalog) -> LoadSummary:
    """Register a catalog. Identical re-registration is a no-op; a changed one is refused."""
    providers_added, added, unchanged, tables_added = [], [], [], []
    with audited_refusals(ctx, actor, "catalog.load", "catalog", "*"), ctx.transaction() as session:
        check_role(actor, {Role.ADMIN}, "登记数据目录", "register catalog entries")
        for provider in catalog.providers:
            if repo.get_provider(session, provider.id) is None:
                session.add(ProviderRow(id=provider.id, name=provider.name, kind=provider.kind,
                                        contact=provider.contact, created_at=utc_now_iso()))  # fmt: skip
                ctx.audit(
                    session,
                    "provider.registered",
                    "provider",
                    provider.id,
                    actor=actor.username,
                    name=provider.name,
                )
                providers_added.append(provider.id)
        for name, values in catalog.code_tables.items():
            existing = repo.get_code_table(session, name)
            values_json = canonical_json(list(values))
            if existing is None:
                session.add(CodeTableRow(name=name, values_json=values_json, created_at=utc_now_iso()))
                ctx.audit(
                    session,
                    "code_table.registered",
                    "code_table",
                    name,
                    actor=actor.username,
                    size=len(values),
                )
                tables_added.append(name)
            elif existing.values_json != values_json:
                raise CatalogError(
                    f"代码表 {name} 已登记且内容不同",
                    f"code table {name} is already registered with different values",
                )
        session.flush()
        for dataset in catalog.datasets:
            spec = canonical_json(dataset_to_dict(dataset))
            digest = hashlib.sha256(spec.encode()).hexdigest()
            existing = repo.get_dataset(session, dataset.id)
            if existing is not None:
                if existing.spec_sha256 != digest:
                    raise CatalogError(
                        f"数据集 {dataset.id} 已登记，且登记内容不同（重复的数据集）",
                        f"dataset {dataset.id} is already registered with a different definition (duplicate dataset)",
                    )
                unchanged.append(dataset.id)
                continue
            if repo.get_provider(session, dataset.provider) is None:
                raise CatalogError(
                    f"数据集 {dataset.id}：数据提供单位 {dataset.provider} 未登记",
                    f"dataset {dataset.id}: provider {dataset.provider} is not registered",
                )
            row = DatasetRow(
                id=dataset.id, title=dataset.title, provider_id=dataset.provider,
                update_cycle=dataset.update_cycle.value, grade=dataset.grade.value,
                spec_json=spec, spec_sha256=digest, created_at=utc_now_iso(),
            )  # fmt: skip
            row.columns = [
                DatasetColumnRow(
                    position=i,
                    name=c.name,
                    title=c.title,
                    type=c.type.value,
                    role=c.role.value,
                    pii=c.pii.value,
                    grade=c.grade.value,
                    personal_info=c.personal_info.value,
                    required=c.required,
                )  # fmt: skip
                for i, c in enumerate(dataset.columns)
            ]
            session.add(row)
            ctx.audit(session, "dataset.registered", "dataset", dataset.id, actor=actor.username,
                      provider=dataset.provider, spec_sha256=digest, columns=len(dataset.columns))  # fmt: skip
            added.append(dataset.id)
    return LoadSummary(providers_added, added, unchanged, tables_added)


def get_dataset(ctx: PlatformContext, dataset_id: str) -> Dataset:
    with ctx.sessions() as session:
        row = repo.get_dataset(session, dataset_id)
        if row is None:
            raise NotFoundError(f"数据集 {dataset_id} 未登记", f"dataset {dataset_id} is not registered")
        return parse_dataset(json.loads(row.spec_json))


def version_path(ctx: PlatformContext, version: DatasetVersionRow) -> Path:
    return zone_relative(ctx.settings, Zone.RAW, version.path)


def current_version(ctx: PlatformContext, dataset_id: str, version: int | None = None) -> DatasetVersionRow:
    """The newest raw version of a dataset (or the numbered one); production code reads only these."""
    with ctx.sessions() as session:
        if version is None:
            row = repo.latest_version(session, dataset_id)
        else:
            row = next((v for v in repo.versions(session, dataset_id) if v.version == version), None)
    if row is None:
        which = f"v{version}" if version else "任何版本 / any version"
        raise NotFoundError(f"数据集 {dataset_id} 没有 {which}", f"dataset {dataset_id} has no {which}")
    return row


def check_may_ingest(actor: Principal, dataset: Dataset) -> None:
    """Only the owning provider's users (or an administrator) deliver a dataset's versions."""
    check_role(actor, {Role.PROVIDER, Role.ADMIN}, "导入数据", "ingest data")
    if Role.ADMIN not in actor.roles and actor.provider_id != dataset.provider:
        raise PermissionDenied(
            f"数据集 {dataset.id} 不属于 {actor.username} 所在的数据提供单位",
            f"dataset {dataset.id} is not owned by {actor.username}'s provider",
        )


@dataclass(frozen=True)
class Delivery:
    """What an accepted upload became: the raw version that holds its data, and whether that
    version is new. ``identical``: the upload was byte-identical to the dataset's current
    version, so that version is returned and nothing was published."""

    version: DatasetVersionRow
    identical: bool = False


def ingest(ctx: PlatformContext, actor: Principal, dataset_id: str, files: list[Path]) -> Delivery:
    """Validate uploads and publish them as the dataset's next immutable raw version.

    The slow conversion runs in a private staging directory that has no number yet; one short
    transaction then allocates the number (``store.allocate``), renames the directory into
    place and records it, so concurrent deliveries of one dataset get consecutive versions.
    An upload byte-identical to the current version is reported and audited instead.

    Once the upload has been received, every failure keeps a copy in quarantine, is recorded
    and audited, and reaches the caller as an :class:`IngestRejected`: a refusal with its
    reason, :class:`IngestBusy` when the store was busy, :class:`IngestInterrupted` for
    anything else. The uploaded files themselves are never moved or changed.
    """
    from sandbox.catalog.ingest import staged_version  # Arrow/Spark machinery, loaded only when ingesting

    files = [Path(f) for f in files]
    with audited_refusals(ctx, actor, "dataset.ingest", "dataset", dataset_id):
        dataset = get_dataset(ctx, dataset_id)
        check_may_ingest(actor, dataset)
        check_uploads_exist(files)
    with _kept_on_failure(ctx, actor, dataset_id, files):
        current = _identical_current(ctx, dataset_id, files)
        if current is not None:
            with ctx.transaction() as session:
                _audit_identical(ctx, session, actor, current, files)
            return Delivery(current, identical=True)
        with staged_version(
            dataset,
            files,
            quarantine_root=ctx.settings.quarantine_dir,
            work_dir=ctx.settings.work_dir,
            spark_factory=lambda: _spark(ctx),
            spark_threshold_bytes=ctx.settings.ingest_spark_threshold_bytes,
            max_field_chars=ctx.settings.ingest_max_field_chars,
        ) as staged:
            delivery = _publish(ctx, actor, dataset_id, files, staged)
    # The new version verifies its open tickets (a failed run is recorded, never raised). Quality
    # builds on the catalog, so it is imported here, when used.
    from sandbox.quality.verification import verify_delivery

    if not delivery.identical:
        verify_delivery(ctx, delivery.version)
    return delivery


def delivery_view(ctx: PlatformContext, actor: Principal, delivery: Delivery) -> dict:
    """What every face shows of an accepted upload (``sandbox ingest``, the queued ingest's result): the
    version, and for a new one what verifying its open tickets did (``verification``, one bilingual line)."""
    from sandbox.quality.verification import delivery_check, describe

    v = delivery.version
    check = None if delivery.identical else delivery_check(ctx, actor, v.dataset_id, v.version)
    return {"dataset": v.dataset_id, "version": v.version, "rows": v.row_count, "identical": delivery.identical,
            "schema_hash": v.schema_hash, "content_sha256": v.content_sha256, "engine": v.engine,
            "verification": describe(check) if check else None}  # fmt: skip


def check_uploads_exist(files: list[Path]) -> None:
    missing = [str(f) for f in files if not f.is_file()]
    if not files or missing:
        raise IngestRejected(
            f"找不到上传文件：{', '.join(missing) or '（未给出文件）'}",
            f"upload file(s) not found: {', '.join(missing) or '(none given)'}",
            reason="missing_file",
        )


def _publish(
    ctx: PlatformContext, actor: Principal, dataset_id: str, files: list[Path], staged: Staged
) -> Delivery:
    """Number, place and record a staged version in one transaction (see ``store.allocate``)."""
    converted = staged.version
    with ctx.transaction() as session:
        number = allocate.dataset_version(session, dataset_id)
        current = repo.latest_version(session, dataset_id)
        sizes = [source["bytes"] for source in converted.sources]
        if current is not None and _same_upload(current, converted.content_sha256, sizes):
            # A concurrent delivery of the same bytes was published while this one converted.
            _audit_identical(ctx, session, actor, current, files)
            return Delivery(current, identical=True)
        relative = f"{dataset_id}/v{number:04d}"
        target = zone_relative(ctx.settings, Zone.RAW, relative)
        if target.exists() or target.is_symlink():
            _quarantine_leftover(ctx, session, actor, dataset_id, number, target)
        version = DatasetVersionRow(
            dataset_id=dataset_id, version=number, path=relative, row_count=converted.row_count,
            schema_hash=converted.schema_hash, content_sha256=converted.content_sha256,
            duplicate_key_count=converted.duplicate_key_count, engine=converted.engine,
            sources_json=canonical_json(converted.sources), created_by=actor.username, created_at=utc_now_iso(),
        )  # fmt: skip
        session.add(version)
        session.flush()
        placement.place(session, staged.directory, target, ctx.settings.work_dir)
        ctx.audit(session, "dataset.version_created", "dataset_version", f"{dataset_id}@v{number}",
                  actor=actor.username, rows=converted.row_count, schema_hash=converted.schema_hash,
                  content_sha256=converted.content_sha256, engine=converted.engine)  # fmt: skip
    return Delivery(version)


def _identical_current(ctx: PlatformContext, dataset_id: str, files: list[Path]) -> DatasetVersionRow | None:
    """The current version if ``files`` are its very upload: same sizes in the same order (read
    from the directory, free), then the same sha256 (read only when the sizes agree)."""
    with ctx.sessions() as session:
        current = repo.latest_version(session, dataset_id)
    sizes = [f.stat().st_size for f in files]
    if current is None or _upload_sizes(current) != sizes:
        return None
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as fh:
            while chunk := fh.read(8 * 1024 * 1024):
                digest.update(chunk)
    return current if _same_upload(current, digest.hexdigest(), sizes) else None


def _same_upload(version: DatasetVersionRow, content_sha256: str, sizes: list[int]) -> bool:
    """``content_sha256`` covers the uploaded files' bytes in order; with each file's size it
    pins the bytes of every file."""
    return version.content_sha256 == content_sha256 and _upload_sizes(version) == sizes


def _upload_sizes(version: DatasetVersionRow) -> list[int]:
    return [source["bytes"] for source in json.loads(version.sources_json)]


def _audit_identical(ctx, session, actor: Principal, version: DatasetVersionRow, files: list[Path]) -> None:
    ctx.audit(session, "dataset.redelivery_identical", "dataset_version", f"{version.dataset_id}@v{version.version}",
              actor=actor.username, files=[f.name for f in files], content_sha256=version.content_sha256)  # fmt: skip


@contextmanager
def _kept_on_failure(
    ctx: PlatformContext, actor: Principal, dataset_id: str, files: list[Path]
) -> Iterator[None]:
    """Every failure after the upload was received: quarantined, recorded, audited, bilingual."""
    from sandbox.catalog.ingest import reasons
    from sandbox.catalog.ingest.quarantine import quarantine

    try:
        yield
    except Exception as exc:
        note = None
        if isinstance(exc, IngestRejected):
            err = exc
        else:
            err = (
                reasons.busy(dataset_id)
                if isinstance(exc, Busy)
                else reasons.interrupted(dataset_id, type(exc).__name__)
            )
            note = traceback.format_exc()
        if err.quarantine_path is None:
            with suppress(
                OSError
            ):  # the originals stay where they are; the record below still names the failure
                quarantine(err, dataset_id, files, ctx.settings.quarantine_dir, operator_note=note)
        _record_quarantine(ctx, actor, dataset_id, err)
        if err is exc:
            raise
        raise err from exc


def _quarantine_leftover(ctx, session, actor: Principal, dataset_id: str, number: int, target: Path) -> None:
    """A directory at the allocated number has no record (see ``store.placement``): keep it in
    quarantine, recorded, and publish in its place."""
    from sandbox.catalog.ingest.quarantine import keep_leftover

    folder = keep_leftover(target, dataset_id, number, ctx.settings.quarantine_dir)
    relative = str(folder.relative_to(ctx.settings.quarantine_dir))
    detail = {"reason": "leftover_version", "version": number, "quarantine_path": str(folder)}
    session.add(QuarantineRow(dataset_id=dataset_id, path=relative, reason="leftover_version",
                              detail_json=canonical_json(detail), created_by=actor.username, created_at=utc_now_iso()))  # fmt: skip
    ctx.audit(session, "dataset.leftover_quarantined", "dataset_version", f"{dataset_id}@v{number}",
              actor=actor.username, quarantine=relative)  # fmt: skip


def _record_quarantine(ctx: PlatformContext, actor: Principal, dataset_id: str, err: IngestRejected) -> None:
    relative = (
        str(Path(err.quarantine_path).resolve().relative_to(ctx.settings.quarantine_dir.resolve()))
        if err.quarantine_path
        else ""
    )
    with ctx.transaction() as session:
        session.add(
            QuarantineRow(
                dataset_id=dataset_id,
                path=relative,
                reason=err.reason,
                detail_json=canonical_json(err.as_dict()),
                created_by=actor.username,
                created_at=utc_now_iso(),
            )  # fmt: skip
        )
        ctx.audit(session, "dataset.upload_quarantined", "dataset", dataset_id, actor=actor.username, reason=err.reason,
                  code=err.code, file=err.file, line=err.line, column=err.column, quarantine=relative)  # fmt: skip


def _spark(ctx: PlatformContext):
    """A local Spark whatever ``SANDBOX_SPARK_MASTER`` says: an ingest writes the raw zone, which a cluster's
    executors may only read (``cluster.network``)."""
    from sandbox.engines.spark import spark_from_settings

    return spark_from_settings(ctx.settings, master="local[*]")


@dataclass(frozen=True)
class DatasetOverview:
    """A dataset's registration and, for whoever may read them, its deliveries (else ``None``)."""

    dataset: Dataset
    provider_name: str
    versions: list[DatasetVersionRow] | None
    quarantined: list[QuarantineRow] | None


def can_read_deliveries(actor: Principal, provider_id: str) -> bool:
    """A dataset's delivered versions and quarantined uploads: its own provider's users, operators,
    administrators and auditors. Everyone signed in reads the catalog entry itself (columns, grading)."""
    if actor.has(Role.OPERATOR, Role.ADMIN, Role.AUDITOR):
        return True
    return actor.has(Role.PROVIDER) and actor.provider_id == provider_id


def list_datasets(
    ctx: PlatformContext, actor: Principal | None = None
) -> list[tuple[DatasetRow, DatasetVersionRow | None]]:
    """Every registered dataset with its latest version; with ``actor``, the version only where they may
    read the dataset's deliveries."""
    with ctx.sessions() as session:
        return [
            (row, repo.latest_version(session, row.id) if actor is None or can_read_deliveries(actor, row.provider_id)
             else None)
            for row in repo.list_datasets(session)
        ]  # fmt: skip


def show_dataset(ctx: PlatformContext, dataset_id: str, actor: Principal | None = None) -> DatasetOverview:
    """A dataset's registration with its versions and quarantine; with ``actor``, the deliveries only if
    they may read them (``can_read_deliveries``), else ``None``."""
    dataset = get_dataset(ctx, dataset_id)
    readable = actor is None or can_read_deliveries(actor, dataset.provider)
    with ctx.sessions() as session:
        provider = repo.get_provider(session, dataset.provider)
        return DatasetOverview(
            dataset,
            provider.name if provider else dataset.provider,
            repo.versions(session, dataset_id) if readable else None,
            repo.quarantined(session, dataset_id) if readable else None,
        )


# -- views (every face shows the same) -----------------------------------------------------


def dataset_row_view(row: DatasetRow, latest: DatasetVersionRow | None) -> dict:
    """A catalog listing's row (``list_datasets``)."""
    return {"dataset": row.id, "title": row.title, "provider": row.provider_id, "grade": row.grade,
            "update_cycle": row.update_cycle, "latest_version": latest.version if latest else None,
            "rows": latest.row_count if latest else None}  # fmt: skip


def version_view(v: DatasetVersionRow) -> dict:
    return {"version": v.version, "rows": v.row_count, "duplicate_keys": v.duplicate_key_count,
            "schema_hash": v.schema_hash, "content_sha256": v.content_sha256, "engine": v.engine,
            "created_at": v.created_at}  # fmt: skip


def quarantine_view(row: QuarantineRow) -> dict:
    """A refused upload: the reason and where in which file, never the offending value."""
    detail = json.loads(row.detail_json)
    return {"reason": row.reason, "file": detail.get("file"), "line": detail.get("line"),
            "column": detail.get("column"), "path": row.path, "created_at": row.created_at}  # fmt: skip


def dataset_view(view: DatasetOverview) -> dict:
    """``show_dataset`` as every face shows it; ``versions`` and ``quarantine`` are ``None`` when withheld."""
    d = view.dataset
    return {
        "dataset": d.id, "title": d.title, "provider": d.provider, "provider_name": view.provider_name,
        "grade": d.grade.value, "update_cycle": d.update_cycle.value, "provision": [p.value for p in d.provision],
        "keys": list(d.keys),
        "columns": [{"column": c.name, "title": c.title, "type": c.type.value, "role": c.role.value,
                     "pii": c.pii.value, "grade": c.grade.value, "personal_info": c.personal_info.value,
                     "required": c.required} for c in d.columns],
        "versions": None if view.versions is None else [version_view(v) for v in view.versions],
        "quarantine": None if view.quarantined is None else [quarantine_view(q) for q in view.quarantined],
    }  # fmt: skip
