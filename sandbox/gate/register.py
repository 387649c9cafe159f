"""The release register: what every released cell covered, so no later release can difference it.

Thresholds hold cell by cell; two releases a few people apart do not (Haeberlen et al. 2011; Ads Data
Hub's difference checks): "everyone in district X" now and "everyone in district X but one" next month
give that one person away. The gate keeps, per production run, each released cell's members — the
64-bit entity hashes staging already uses, in a Parquet directory of the trusted ``register`` zone, never
the metadata store — and the cell's meaning: its dimensions' domain digests and values
(``domains.meanings``), so a renamed column links nothing away.

Before secondary suppression, a new cell is compared with every earlier released cell of the same
meaning over a dataset the run also read (any job, any release): when their populations differ by
0 < d < threshold entities (the symmetric difference, counted exactly by a join), the new cell is
suppressed for differencing, and secondary suppression and the interval audit then protect it like
any other. Only cells whose counts differ by less than the threshold can qualify, so only those pairs
are joined. Margins are cells too: a district margin of one table is checked against a by-district
table of another.

The register survives restarts (store rows and files) and only grows; a dataset's provider may clear the
releases over their dataset (``sandbox register clear``), which is audited.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sqlalchemy import func, select

from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.service import get_dataset
from sandbox.context import PlatformContext
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.gate import Reason, Rule
from sandbox.domain.identity import Role
from sandbox.engines.staged_entity import entity_hash
from sandbox.gate.aggregate import GROUPING
from sandbox.gate.domains import Key, all_keys
from sandbox.gate.frames import ENTITY
from sandbox.gate.suppression import Table, TableCell
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store.models import ReleaseCellRow, ReleaseRow
from sandbox.store.zones import Zone, zone_path, zone_root

MEMBERS_SCHEMA = "release long, cell int, entity long"


def meaning_of(table: Table, key: Key) -> str:
    """A cell's meaning as stored: its (dimension meaning, value) pairs, sorted, as JSON."""
    return json.dumps(sorted(table.canonical(key)), ensure_ascii=False)


@dataclass(frozen=True)
class EarlierCell:
    release: int
    members: str
    cell: int
    output: str
    job_id: str
    entities: int
    count_shown: bool  # its release showed the exact entity count


def _differencing_reason(earlier: EarlierCell, threshold: int, *, line: bool) -> Reason:
    where_zh, where_en = ("其所在行合计", "the total of its line") if line else ("其", "its population")
    return Reason(Rule.DIFFERENCING,
                  f"差分保护：{where_zh}与此前发布（作业 {earlier.job_id} 的输出 {earlier.output}）的同一单元格主体相差不足 {threshold}",
                  f"differencing: {where_en} differs from the same cell of an earlier release (output "
                  f"{earlier.output} of job {earlier.job_id}) by fewer than {threshold} entities")  # fmt: skip


def _suppress_for(pair: _Pair, table: Table) -> None:
    """Withhold the cell a difference shows in; for a margin the table does not show (its shown cells add
    up to it), the smallest open cell with entities under it, so the sum no longer reveals it."""
    if pair.cell is not None:
        if not pair.cell.suppressed:
            pair.cell.reasons.append(_differencing_reason(pair.earlier, pair.threshold, line=False))
        return
    under = [c for k, c in table.cells.items()
             if all(m is None or m == v for m, v in zip(pair.key, k, strict=True)) and c.entities > 0]  # fmt: skip
    if any(c.suppressed for c in under):
        return
    smallest = min(under, key=lambda c: (c.entities, str(c.key)), default=None)
    if smallest is not None:
        smallest.reasons.append(_differencing_reason(pair.earlier, pair.threshold, line=True))


@dataclass
class _Pair:
    """A new cell (or a margin its table does not show: ``cell`` None) and an earlier cell of one meaning."""

    output: str
    key: Key
    cell: TableCell | None
    threshold: int
    earlier: EarlierCell


class ReleaseRegister:
    """The register of one platform home; ``actor`` is who the audit trail names for what it records."""

    def __init__(self, ctx: PlatformContext, *, actor: str | None = None) -> None:
        self.ctx = ctx
        self.actor = actor or ctx.actor

    def _path(self, members: str) -> Path:
        return zone_path(self.ctx.settings, Zone.REGISTER, members)

    def earlier(self, datasets: list[str]) -> dict[str, list[EarlierCell]]:
        """Released cells of uncleared releases over any of ``datasets``, by meaning."""
        wanted = set(datasets)
        found: dict[str, list[EarlierCell]] = {}
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(ReleaseRow, ReleaseCellRow)
                .join(ReleaseCellRow, ReleaseCellRow.release_id == ReleaseRow.id)
                .where(ReleaseRow.cleared_at.is_(None))
            )
            for release, cell in rows:
                if wanted & set(json.loads(release.datasets_json)):
                    found.setdefault(cell.meaning, []).append(EarlierCell(
                        release.id, release.members, cell.cell, cell.output, release.job_id, cell.entities,
                        cell.count_shown))  # fmt: skip
        return found

    def check(self, spark: SparkSession, tables: list[Table], members: dict[str, DataFrame],
              datasets: list[str]) -> dict[str, dict[Key, int]]:  # fmt: skip
        """Suppress every open cell of ``tables`` whose population differs from an earlier released cell of
        the same meaning by 0 < d < threshold. ``members``: per output, ``cell_members``.

        Returns, per output, the keys (cells, and margins a table without totals does not show) whose
        exact population an earlier release counted and showed, with that count: the protection-interval
        audit takes them as known, whether this run shows them or not."""
        earlier = self.earlier(datasets)
        by_output = {table.output: table for table in tables}
        pairs = []
        for table in tables:
            for key in all_keys(table.domains, totals=True):
                cell = table.cells.get(key)
                if cell is not None and cell.entities == 0:
                    continue
                for e in earlier.get(meaning_of(table, key), []):
                    if (
                        cell is None or abs(cell.entities - e.entities) < table.threshold
                    ):  # else d >= threshold
                        pairs.append(_Pair(table.output, key, cell, table.threshold, e))
        if not pairs:
            return {}
        overlap = _overlap(spark, tables, members, pairs, self._path)
        published: dict[str, dict[Key, int]] = {}
        for number, pair in enumerate(pairs):
            size, shared = overlap.get(number, (0, 0))
            difference = size + pair.earlier.entities - 2 * shared
            if difference == 0 and pair.earlier.count_shown:
                published.setdefault(pair.output, {})[pair.key] = size
            elif 0 < difference < pair.threshold:
                _suppress_for(pair, by_output[pair.output])
        return published

    def record(self, spark: SparkSession, *, run_id: str, job_id: str, datasets: list[str],
               tables: list[Table], members: dict[str, DataFrame], counts_shown: set[str]) -> int:  # fmt: skip
        """Register the released, non-empty cells of ``tables`` (the outputs this run released; those in
        ``counts_shown`` showed exact entity counts); returns how many. Members are written first, the store rows after, so a crash leaves no row without them."""
        cells = [(table, key, cell) for table in tables for key, cell in table.cells.items()
                 if not cell.suppressed and cell.entities > 0]  # fmt: skip
        if not cells:
            return 0
        name = uuid.uuid4().hex
        path = self._path(name)
        zone_root(self.ctx.settings, Zone.REGISTER).mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.ctx.transaction() as session:
            release = ReleaseRow(run_id=run_id, job_id=job_id, datasets_json=json.dumps(sorted(set(datasets))),
                                 members=name, member_bytes=0, released_at=utc_now_iso())  # fmt: skip
            session.add(release)
            session.flush()
            numbered = {(table.output, key): n for n, (table, key, _) in enumerate(cells)}
            frames = [_numbered(spark, members[t.output], t, {k: n for (o, k), n in numbered.items() if o == t.output})
                      for t in tables if any(o == t.output for o, _ in numbered)]  # fmt: skip
            union = frames[0]
            for frame in frames[1:]:
                union = union.unionByName(frame)
            union.select(F.lit(release.id).cast("long").alias("release"), "cell", "entity") \
                .sortWithinPartitions("cell", "entity").write.parquet(str(path))  # fmt: skip
            release.member_bytes = sum(p.stat().st_size for p in path.rglob("*.parquet"))
            for table, key, cell in cells:
                session.add(ReleaseCellRow(release_id=release.id, cell=numbered[(table.output, key)],
                                           output=table.output, meaning=meaning_of(table, key),
                                           entities=cell.entities, count_shown=table.output in counts_shown))  # fmt: skip
            self.ctx.audit(session, "release_register.recorded", "run", run_id, actor=self.actor, job=job_id,
                           cells=len(cells), member_bytes=release.member_bytes, datasets=sorted(set(datasets)))  # fmt: skip
        return len(cells)


def _entity_long(frame: DataFrame, column: str):
    """Members as 64-bit hashes, as production staging stores text entities."""
    if isinstance(frame.schema[column].dataType, T.StringType):
        return entity_hash(F.col(column))
    return F.col(column).cast("long")


def _numbered(spark: SparkSession, members: DataFrame, table: Table, numbers: dict[Key, int]) -> DataFrame:
    """``members`` (grouping id, dimensions, entity) restricted to the numbered cells: (cell, entity)."""
    dims = list(table.dimensions)
    width = len(dims)
    rows = [
        (sum(1 << (width - 1 - i) for i, v in enumerate(key) if v is None), *key, n)
        for key, n in numbers.items()
    ]
    schema = T.StructType([members.schema[GROUPING], *[members.schema[d] for d in dims],
                           T.StructField("__cell", T.IntegerType())])  # fmt: skip
    keys = spark.createDataFrame(rows, schema)
    on = [members[GROUPING] == keys[GROUPING], *[members[d].eqNullSafe(keys[d]) for d in dims]]
    joined = members.join(F.broadcast(keys), on)
    return joined.select(keys["__cell"].alias("cell"), _entity_long(members, ENTITY).alias("entity"))


def _overlap(spark: SparkSession, tables: list[Table], members: dict[str, DataFrame], pairs: list[_Pair],
             path_of) -> dict[int, tuple[int, int]]:  # fmt: skip
    """For each pair (by number): its new cell's size and how many entities it shares with the earlier one."""
    by_output: dict[str, dict[Key, int]] = {}
    for pair in pairs:
        numbers = by_output.setdefault(pair.output, {})
        numbers.setdefault(pair.key, sum(len(n) for n in by_output.values()))
    frames = [_numbered(spark, members[t.output], t, by_output[t.output]).withColumn("output", F.lit(t.output))
              for t in tables if t.output in by_output]  # fmt: skip
    new = frames[0]
    for frame in frames[1:]:
        new = new.unionByName(frame)
    pair_rows = [(n, p.output, by_output[p.output][p.key], p.earlier.release, p.earlier.cell)
                 for n, p in enumerate(pairs)]  # fmt: skip
    schema = "pair int, output string, cell int, release long, old_cell int"
    new_pairs = F.broadcast(spark.createDataFrame(pair_rows, schema))
    old_pairs = F.broadcast(spark.createDataFrame(pair_rows, schema)).select(
        "pair", "release", F.col("old_cell").alias("cell")
    )
    old = spark.read.schema(MEMBERS_SCHEMA).parquet(*sorted({str(path_of(p.earlier.members)) for p in pairs}))
    new_side = new.join(new_pairs, ["output", "cell"]).select("pair", "entity")
    old_side = old.join(old_pairs, ["release", "cell"]).select("pair", "entity", F.lit(1).alias("shared"))
    rows = (
        new_side.join(old_side, ["pair", "entity"], "left")
        .groupBy("pair")
        .agg(F.count(F.lit(1)).alias("size"), F.count("shared").alias("shared"))
        .collect()
    )
    return {row["pair"]: (row["size"], row["shared"]) for row in rows}


@dataclass(frozen=True)
class ReleaseSummary:
    release: int
    run_id: str
    job_id: str
    datasets: tuple[str, ...]
    cells: int
    member_bytes: int
    released_at: str
    cleared_at: str | None


READERS = {Role.ADMIN, Role.OPERATOR, Role.AUDITOR, Role.PROVIDER}


def releases(ctx: PlatformContext, actor: Principal, dataset_id: str | None = None) -> list[ReleaseSummary]:
    """What the register holds, newest first: operators, auditors and administrators see every release; a
    provider sees the releases over its own dataset and must name it."""
    with audited_refusals(ctx, actor, "release_register.read", "dataset", dataset_id or "*"):
        check_role(actor, READERS, "查看发布登记", "read the release register")
        if not actor.has(Role.ADMIN, Role.OPERATOR, Role.AUDITOR):
            _check_provider_of(ctx, actor, dataset_id)
    with ctx.sessions() as session:
        rows = session.execute(
            select(ReleaseRow, func.count(ReleaseCellRow.id))
            .join(ReleaseCellRow, ReleaseCellRow.release_id == ReleaseRow.id)
            .group_by(ReleaseRow.id)
            .order_by(ReleaseRow.id.desc())
        ).all()
    found = [ReleaseSummary(r.id, r.run_id, r.job_id, tuple(json.loads(r.datasets_json)), cells, r.member_bytes,
                            r.released_at, r.cleared_at) for r, cells in rows]  # fmt: skip
    return [r for r in found if dataset_id is None or dataset_id in r.datasets]


def _check_provider_of(ctx: PlatformContext, actor: Principal, dataset_id: str | None) -> None:
    if dataset_id is None or actor.provider_id != get_dataset(ctx, dataset_id).provider:
        raise PermissionDenied(f"数据集 {dataset_id or '（未指定）'} 不属于 {actor.username} 所在的数据提供单位",
                               f"dataset {dataset_id or '(none named)'} is not owned by {actor.username}'s provider")  # fmt: skip


def clear(ctx: PlatformContext, actor: Principal, dataset_id: str, *, reason: str) -> int:
    """Clear the releases over ``dataset_id``: they no longer count for differencing and their member files
    are deleted. Only the dataset's own provider may: clearing weakens the protection of its subjects.
    Returns how many releases were cleared."""
    with audited_refusals(ctx, actor, "release_register.clear", "dataset", dataset_id):
        check_role(actor, {Role.PROVIDER}, "清除发布登记", "clear the release register")
        _check_provider_of(ctx, actor, dataset_id)
    with ctx.transaction() as session:
        rows = [r for r in session.scalars(select(ReleaseRow).where(ReleaseRow.cleared_at.is_(None)))
                if dataset_id in json.loads(r.datasets_json)]  # fmt: skip
        now = utc_now_iso()
        for row in rows:
            row.cleared_at, row.cleared_by = now, actor.username
        ctx.audit(session, "release_register.cleared", "dataset", dataset_id, actor=actor.username, reason=reason,
                  releases=[r.id for r in rows])  # fmt: skip
        names = [r.members for r in rows]
    for name in names:
        shutil.rmtree(zone_path(ctx.settings, Zone.REGISTER, name), ignore_errors=True)
    return len(names)
