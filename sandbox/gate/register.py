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
are joined; and a pair with the same count and the same fingerprint — the exact sum of the members'
64-bit hashes keyed by a secret of the home (``seed``), computed in the gate's aggregation pass — is
the same population without a join (two different sets collide with probability about 2^-64, and
without the key nobody can search for a collision). Margins are cells too: a district margin of one
table is checked against a by-district table of another, and the margins a table does not show are
compared as well (its cells add up to them).

A population already held is not written again: the cell points at the earlier members, so re-running
a job on unchanged data adds rows, not files. The register survives restarts (store rows and files)
and only grows; a dataset's provider may clear the releases over their dataset (``sandbox register
clear``), which is audited, and member files no uncleared release points at are deleted.
"""

from __future__ import annotations

import functools
import hmac
import json
import shutil
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sqlalchemy import select
from sqlalchemy.orm import aliased

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.gate import Reason, Rule
from sandbox.engines.staged_entity import as_staged
from sandbox.gate.aggregate import GROUPING, fingerprint
from sandbox.gate.domains import Key, all_keys
from sandbox.gate.frames import ENTITY
from sandbox.gate.suppression import Table, TableCell
from sandbox.store.models import ReleaseCellRow, ReleaseRow
from sandbox.store.zones import Zone, zone_path, zone_root

MEMBERS_SCHEMA = "cell int, entity long"
_KEY = "release-register"


def meaning_of(table: Table, key: Key) -> str:
    """A cell's meaning as stored: its (dimension meaning, value) pairs, sorted, as JSON."""
    return json.dumps(sorted(table.canonical(key)), ensure_ascii=False)


@dataclass(frozen=True)
class EarlierCell:
    release: int  # the release whose members hold it
    members: str  # that release's directory in the register zone
    cell: int  # its number there
    output: str
    job_id: str
    entities: int
    fingerprint: str
    count_shown: bool  # its release showed the exact entity count

    def same_people(self, entities: int, keyed_sum: Decimal | None) -> bool:
        """Same size and the same sum of keyed member hashes: the same population, but for a collision of
        two sums of secret-keyed 64-bit hashes (about 2^-64 for sets the attacker cannot hash)."""
        return keyed_sum is not None and (entities, str(keyed_sum)) == (self.entities, self.fingerprint)


@dataclass
class _Pair:
    """A new cell (or a margin its table does not show: ``cell`` None) and an earlier cell of one meaning."""

    output: str
    key: Key
    cell: TableCell | None
    threshold: int
    earlier: EarlierCell


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


class ReleaseRegister:
    """The register of one platform home; ``actor`` is who the audit trail names for what it records."""

    def __init__(self, ctx: PlatformContext, *, actor: str | None = None) -> None:
        self.ctx = ctx
        self.actor = actor or ctx.actor

    def _path(self, members: str) -> Path:
        return zone_path(self.ctx.settings, Zone.REGISTER, members)

    def _unshown_margins(self, spark: SparkSession, tables: list[Table], members: dict[str, DataFrame],
                         earlier: dict[str, list[EarlierCell]]) -> dict[tuple[str, Key], tuple[int, Decimal]]:  # fmt: skip
        """Size and fingerprint of each margin a table does not show but an earlier release has a cell of
        its meaning for, in one aggregation per table: most are then settled without a join."""
        found = {}
        for table in tables:
            keys = [k for k in all_keys(table.domains, totals=True)
                    if k not in table.cells and earlier.get(meaning_of(table, k))]  # fmt: skip
            if not keys:
                continue
            numbers = {k: n for n, k in enumerate(keys)}
            rows = (
                _numbered(spark, members[table.output], table, numbers)
                .groupBy("cell")
                .agg(F.count(F.lit(1)).alias("size"), fingerprint(self.seed, F.col("entity")).alias("print"))
                .collect()
            )
            found.update({(table.output, keys[row["cell"]]): (row["size"], row["print"]) for row in rows})
        return found

    @cached_property
    def seed(self) -> int:
        """The secret that keys the cell fingerprints (``aggregate.cell_stats``), from the home's key store."""
        try:
            key = self.ctx.keys.create(_KEY)
        except FileExistsError:  # another gate created it a moment ago
            key = self.ctx.keys.get(_KEY)
        return int.from_bytes(hmac.digest(key, b"cell fingerprint", "sha256")[:8], "big", signed=True)

    def earlier(self, datasets: list[str]) -> dict[str, list[EarlierCell]]:
        """Released cells of uncleared releases over any of ``datasets``, by meaning."""
        wanted = set(datasets)
        holder = aliased(ReleaseRow)
        found: dict[str, list[EarlierCell]] = {}
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(ReleaseRow, ReleaseCellRow, holder)
                .join(ReleaseCellRow, ReleaseCellRow.release_id == ReleaseRow.id)
                .join(holder, ReleaseCellRow.members_release == holder.id)
                .where(ReleaseRow.cleared_at.is_(None))
            )
            for release, cell, held_by in rows:
                if wanted & set(json.loads(release.datasets_json)):
                    found.setdefault(cell.meaning, []).append(EarlierCell(
                        held_by.id, held_by.members, cell.cell, cell.output, release.job_id, cell.entities,
                        cell.fingerprint, cell.count_shown))  # fmt: skip
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
        unshown = self._unshown_margins(spark, tables, members, earlier)
        pairs = []
        published: dict[str, dict[Key, int]] = {}
        for table in tables:
            for key in all_keys(table.domains, totals=True):
                cell = table.cells.get(key)
                size, keyed = (
                    (cell.entities, cell.fingerprint) if cell else unshown.get((table.output, key), (0, None))
                )
                if size == 0:
                    continue
                for e in earlier.get(meaning_of(table, key), []):
                    if e.same_people(size, keyed):  # no join needed: d = 0
                        if e.count_shown:
                            published.setdefault(table.output, {})[key] = size
                    elif abs(size - e.entities) < table.threshold:  # else d >= threshold
                        pairs.append(_Pair(table.output, key, cell, table.threshold, e))
        if not pairs:
            return published
        overlap = _overlap(spark, tables, members, pairs, self._path)
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
        ``counts_shown`` showed exact entity counts); returns how many. A cell whose population an earlier
        release already holds points at those members; only new populations are written, before the
        store rows and outside the transaction, so a crash leaves no row without its members."""
        cells = [(table, key, cell) for table in tables for key, cell in table.cells.items()
                 if not cell.suppressed and cell.entities > 0]  # fmt: skip
        if not cells:
            return 0
        held = {(e.entities, e.fingerprint): e for es in self.earlier(datasets).values() for e in es}
        new = [(t, k, c) for t, k, c in cells if (c.entities, str(c.fingerprint)) not in held]
        numbered = {(t.output, k): n for n, (t, k, _) in enumerate(new)}
        name, stored = None, 0
        if new:
            name = uuid.uuid4().hex
            self._write(spark, name, tables, members, numbered)
            stored = sum(p.stat().st_size for p in self._path(name).rglob("*.parquet"))
        with self.ctx.transaction() as session:
            release = ReleaseRow(run_id=run_id, job_id=job_id, datasets_json=json.dumps(sorted(set(datasets))),
                                 members=name, member_bytes=stored, released_at=utc_now_iso())  # fmt: skip
            session.add(release)
            session.flush()
            for table, key, cell in cells:
                earlier = held.get((cell.entities, str(cell.fingerprint)))
                session.add(ReleaseCellRow(
                    release_id=release.id, members_release=earlier.release if earlier else release.id,
                    cell=earlier.cell if earlier else numbered[(table.output, key)], output=table.output,
                    meaning=meaning_of(table, key), entities=cell.entities, fingerprint=str(cell.fingerprint),
                    count_shown=table.output in counts_shown))  # fmt: skip
            self.ctx.audit(session, "release_register.recorded", "run", run_id, actor=self.actor, job=job_id,
                           cells=len(cells), new_populations=len(new), member_bytes=stored,
                           datasets=sorted(set(datasets)))  # fmt: skip
        return len(cells)

    def _write(self, spark: SparkSession, name: str, tables: list[Table], members: dict[str, DataFrame],
               numbered: dict[tuple[str, Key], int]) -> None:  # fmt: skip
        union = _union([_numbered(spark, members[t.output], t, {k: n for (o, k), n in numbered.items() if o == t.output})
                        for t in tables if any(o == t.output for o, _ in numbered)])  # fmt: skip
        zone_root(self.ctx.settings, Zone.REGISTER).mkdir(parents=True, exist_ok=True, mode=0o700)
        union.select("cell", "entity").sortWithinPartitions("cell", "entity").write.parquet(
            str(self._path(name))
        )


def _union(frames: list[DataFrame]) -> DataFrame:
    return functools.reduce(DataFrame.unionByName, frames)


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
    return joined.select(
        keys["__cell"].alias("cell"),
        as_staged(members[ENTITY], members.schema[ENTITY].dataType).alias("entity"),
    )


def _overlap(spark: SparkSession, tables: list[Table], members: dict[str, DataFrame], pairs: list[_Pair],
             path_of) -> dict[int, tuple[int, int]]:  # fmt: skip
    """For each pair (by number): its new cell's size and how many entities it shares with the earlier one."""
    by_output: dict[str, dict[Key, int]] = {}
    for pair in pairs:
        numbers = by_output.setdefault(pair.output, {})
        numbers.setdefault(pair.key, sum(len(n) for n in by_output.values()))
    new = _union([_numbered(spark, members[t.output], t, by_output[t.output]).withColumn("output", F.lit(t.output))
                  for t in tables if t.output in by_output])  # fmt: skip
    pair_rows = [(n, p.output, by_output[p.output][p.key], p.earlier.release, p.earlier.cell)
                 for n, p in enumerate(pairs)]  # fmt: skip
    schema = "pair int, output string, cell int, release long, old_cell int"
    new_pairs = F.broadcast(spark.createDataFrame(pair_rows, schema))
    old_pairs = F.broadcast(spark.createDataFrame(pair_rows, schema)).select(
        "pair", "release", F.col("old_cell").alias("cell")
    )
    releases = sorted({p.earlier.release: p.earlier.members for p in pairs}.items())
    old = _union([spark.read.schema(MEMBERS_SCHEMA).parquet(str(path_of(name)))
                  .withColumn("release", F.lit(release).cast("long")) for release, name in releases])  # fmt: skip
    new_side = new.join(new_pairs, ["output", "cell"]).select("pair", "entity")
    old_side = old.join(old_pairs, ["release", "cell"]).select("pair", "entity", F.lit(1).alias("shared"))
    rows = (
        new_side.join(old_side, ["pair", "entity"], "left")
        .groupBy("pair")
        .agg(F.count(F.lit(1)).alias("size"), F.count("shared").alias("shared"))
        .collect()
    )
    return {row["pair"]: (row["size"], row["shared"]) for row in rows}


def clear_dataset(ctx: PlatformContext, dataset_id: str, *, actor: str, reason: str) -> int:
    """Mark the releases over ``dataset_id`` cleared (they no longer count for differencing), audited, and
    delete the member files no uncleared release points at any more. The caller has checked that
    ``actor`` may (``governance.release_register.clear``). Returns how many releases were cleared."""
    with ctx.transaction() as session:
        rows = [r for r in session.scalars(select(ReleaseRow).where(ReleaseRow.cleared_at.is_(None)))
                if dataset_id in json.loads(r.datasets_json)]  # fmt: skip
        now = utc_now_iso()
        for row in rows:
            row.cleared_at, row.cleared_by = now, actor
        ctx.audit(session, "release_register.cleared", "dataset", dataset_id, actor=actor, reason=reason,
                  releases=[r.id for r in rows])  # fmt: skip
        session.flush()
        names = _unreferenced_members(session)
    for name in names:
        shutil.rmtree(zone_path(ctx.settings, Zone.REGISTER, name), ignore_errors=True)
    return len(rows)


def _unreferenced_members(session) -> list[str]:
    """Member directories of cleared releases that no uncleared release's cell points at any more; their
    rows forget the directory, which the caller deletes."""
    referenced = set(session.scalars(
        select(ReleaseCellRow.members_release).join(ReleaseRow, ReleaseCellRow.release_id == ReleaseRow.id)
        .where(ReleaseRow.cleared_at.is_(None))
    ))  # fmt: skip
    names = []
    for row in session.scalars(
        select(ReleaseRow).where(ReleaseRow.cleared_at.is_not(None), ReleaseRow.members.is_not(None))
    ):
        if row.id not in referenced:
            names.append(row.members)
            row.members = None
    return names
