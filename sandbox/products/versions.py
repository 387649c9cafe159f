"""Product versions: atomic release of what passed the gate, lineage, listing and export.

A version directory appears only by rename once complete, and is recorded with its lineage (job
hash, dataset versions, policy, gate report). That lineage is the one record of which data a
product used (``dataset_reads``) and of whether it was released at all (``released``). Only
released aggregate tables are ever exported, and a fee-bearing one to a consumer only under terms.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.display import SHANGHAI
from sandbox.domain.errors import InvalidInput, NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identity import Role
from sandbox.domain.product import ProductState
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.products.registry import load
from sandbox.products.terms import check_terms
from sandbox.store import allocate, placement
from sandbox.store.models import ProductVersionRow
from sandbox.store.zones import Zone, zone_path, zone_relative

EXPORT_FORMATS = ("csv", "parquet", "xlsx")


def release(
    ctx: PlatformContext,
    session: Session,
    *,
    product_id: str,
    run_id: str,
    gate_dir: Path,
    code_sha256: str,
    dataset_versions: dict[str, int],
    policy: dict,
    outputs: dict,
    actor: str,
) -> ProductVersionRow:
    """Move ``gate_dir`` into place as the next version and record it, in the caller's transaction.

    The number is allocated here (``store.allocate``), so call this before the transaction's
    first audit event; the directory leaves its place again if the transaction rolls back.
    """
    number = allocate.product_version(session, product_id)
    relative = f"{product_id}/v{number:04d}"
    target = zone_relative(ctx.settings, Zone.PRODUCTS, relative)
    if target.exists() or target.is_symlink():
        # No record holds this number (the allocation lock says so): a crash left it. Keep it aside.
        aside = placement.set_aside(
            target, zone_path(ctx.settings, Zone.PRODUCTS, product_id, f".set-aside-{uuid.uuid4().hex[:8]}")
        )
        ctx.audit(session, "product.leftover_set_aside", "product_version", f"{product_id}@v{number}", actor=actor,
                  moved_to=str(aside.relative_to(ctx.settings.products_dir)))  # fmt: skip
    files = release_manifest(gate_dir)
    for name in files:
        (gate_dir / name).chmod(0o444)
    placement.place(session, gate_dir, target, ctx.settings.work_dir)
    row = ProductVersionRow(
        product_id=product_id, version=number, run_id=run_id, path=relative, code_sha256=code_sha256,
        dataset_versions_json=json.dumps(dataset_versions, sort_keys=True), policy_json=json.dumps(policy, sort_keys=True),
        outputs_json=json.dumps(outputs, ensure_ascii=False, sort_keys=True), released_at=utc_now_iso(),
        files_json=json.dumps(files, sort_keys=True),
    )  # fmt: skip
    session.add(row)
    session.flush()
    ctx.audit(session, "product.version_released", "product_version", f"{product_id}@v{number}", actor=actor,
              run=run_id, code_sha256=code_sha256, dataset_versions=dataset_versions, outputs=outputs)  # fmt: skip
    return row


class ProductFilesChanged(ShuyuError):
    """A released file is missing or differs from the hash recorded at release; nothing is exported."""

    code = "E570"


def release_manifest(gate_dir: Path) -> dict[str, str]:
    """Every file the gate wrote, by path relative to its directory, with its SHA-256."""
    return {
        path.relative_to(gate_dir).as_posix(): _sha256(path)
        for path in sorted(gate_dir.rglob("*"))
        if path.is_file()
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def released_files(row: ProductVersionRow, directory: Path) -> dict[str, Path]:
    """The version's files as its manifest lists them, each checked against its hash.

    Readers open these and nothing else: a file put into the directory later is not among them, and a
    changed or missing one stops the read.
    """
    if row.files_json is None:
        raise ProductFilesChanged(
            f"{row.product_id} v{row.version} 发布时没有文件清单，请重新转入生产后再导出",
            f"{row.product_id} v{row.version} was released without a file manifest; promote again to export it",
        )
    files = {}
    for name, digest in json.loads(row.files_json).items():
        path = directory / name
        if not path.is_file() or _sha256(path) != digest:
            raise ProductFilesChanged(
                f"{row.product_id} v{row.version} 的文件 {name} 缺失或与发布时不同，拒绝导出",
                f"{row.product_id} v{row.version}: file {name} is missing or differs from its release; not exported",
            )
        files[name] = path
    return files


@dataclass(frozen=True)
class DatasetRead:
    """One released product version read one version of a dataset, as recorded at its release."""

    dataset_id: str
    dataset_version: int
    product_id: str
    version: int


def dataset_reads(session: Session) -> list[DatasetRead]:
    """Every read of the released lineage, by product, version and dataset.

    This, not a scenario's granted columns, is what products used: a scenario may be granted
    datasets its jobs never read, and a product without a release has read nothing.
    """
    rows = session.scalars(
        select(ProductVersionRow).order_by(ProductVersionRow.product_id, ProductVersionRow.version)
    )
    return [
        DatasetRead(dataset_id, dataset_version, row.product_id, row.version)
        for row in rows
        for dataset_id, dataset_version in sorted(json.loads(row.dataset_versions_json).items())
    ]


def released_versions(session: Session) -> dict[str, list[int]]:
    """Released version numbers per product, ascending; a product missing here has no release."""
    query = select(ProductVersionRow.product_id, ProductVersionRow.version).order_by(
        ProductVersionRow.product_id, ProductVersionRow.version
    )
    numbers: dict[str, list[int]] = {}
    for product_id, number in session.execute(query):
        numbers.setdefault(product_id, []).append(number)
    return numbers


def released(ctx: PlatformContext) -> dict[str, list[int]]:
    with ctx.sessions() as session:
        return released_versions(session)


def versions(ctx: PlatformContext, product_id: str) -> list[ProductVersionRow]:
    with ctx.sessions() as session:
        return list(
            session.scalars(
                select(ProductVersionRow)
                .where(ProductVersionRow.product_id == product_id)
                .order_by(ProductVersionRow.version)
            )
        )


def version_view(row: ProductVersionRow) -> dict:
    """A released version and its lineage: run, job hash, dataset versions, released/suppressed per output."""
    return {"version": row.version, "released_at": row.released_at, "run": row.run_id, "code_sha256": row.code_sha256,
            "dataset_versions": json.loads(row.dataset_versions_json), "outputs": json.loads(row.outputs_json)}  # fmt: skip


def version_dir(
    ctx: PlatformContext, product_id: str, version: int | None = None
) -> tuple[ProductVersionRow, Path]:
    rows = versions(ctx, product_id)
    if version is not None:
        rows = [r for r in rows if r.version == version]
    if not rows:
        raise NotFoundError(
            f"数据产品 {product_id} 没有可用版本", f"product {product_id} has no such released version"
        )
    row = rows[-1]
    return row, zone_relative(ctx.settings, Zone.PRODUCTS, row.path)


def check_may_export(ctx: PlatformContext, actor: Principal, product_id: str, today: date) -> None:
    """Operators, admins and auditors may take any released product; consumers a free one, or a
    fee-bearing one under terms of use in force ``today`` for their organization. A deregistered product is gone."""
    check_role(
        actor, {Role.OPERATOR, Role.ADMIN, Role.CONSUMER, Role.AUDITOR}, "导出数据产品", "export products"
    )
    with ctx.sessions() as session:
        product = load(session, product_id)
        if product.state != ProductState.REGISTERED.value:
            raise PermissionDenied(f"数据产品 {product_id} 已注销", f"product {product_id} is deregistered")
        if not actor.has(Role.OPERATOR, Role.ADMIN, Role.AUDITOR):
            check_terms(session, actor, product, today)


def export(
    ctx: PlatformContext,
    actor: Principal,
    product_id: str,
    out_dir: Path,
    fmt: str,
    version: int | None = None,
    *,
    today: date | None = None,
) -> list[Path]:
    """Write every released table of a version in ``fmt``; the gate report's public view travels with it
    (no reasons per cell, no dropped-row counts); the full report stays for operators and auditors.

    ``today`` (Asia/Shanghai) decides whether terms of use are still in force; it defaults to now.
    """
    with audited_refusals(ctx, actor, "product.export", "product", product_id):
        check_may_export(ctx, actor, product_id, today or datetime.now(SHANGHAI).date())
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(
            f"格式须为 {', '.join(EXPORT_FORMATS)} 之一", f"format must be one of {', '.join(EXPORT_FORMATS)}"
        )
    row, directory = version_dir(ctx, product_id, version)
    files = released_files(row, directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table_path in (path for name, path in files.items() if "/" not in name and name.endswith(".parquet")):
        table = pq.read_table(table_path)
        target = out_dir / f"{product_id}-v{row.version}-{table_path.stem}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, target)
        elif fmt == "csv":
            table.to_pandas().to_csv(target, index=False, encoding="utf-8-sig")
        else:
            table.to_pandas().to_excel(target, index=False, sheet_name=table_path.stem[:31])
        written.append(target)
    for report in (path for name, path in files.items() if name.startswith("gate_report_public.")):
        shutil.copyfile(report, out_dir / f"{product_id}-v{row.version}-{report.name}")  # the full one stays
    with ctx.transaction() as session:
        ctx.audit(session, "product.exported", "product_version", f"{product_id}@v{row.version}", actor=actor.username,
                  format=fmt, files=len(written))  # fmt: skip
    return written
