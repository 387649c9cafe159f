"""``gate_job``: from a run's contribution frames to released tables and a gate report.

Per output: re-check what the manifest allows against the policy, resolve the declared domains, scan
the strings the table could show, read and validate the frame, aggregate in Spark with contribution
bounding, apply the primary rules (or, for a differentially private output, spend the budget and add
noise). Then, across the job's outputs: differencing against earlier releases (the release register,
production only) and between the outputs, secondary suppression to a fixed point, the protection-
interval audit (which may suppress more), rounding, the files, and the register's record of what was
released. Any failed check refuses its whole output and nothing of it is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyspark import StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from sandbox.domain.gate import CellDecision, CellResult, GateOutcome, GatePolicy, OutputOutcome, Refusal
from sandbox.domain.job import Aggregate, JobManifest, OutputSpec
from sandbox.gate import aggregate, dp, intervals
from sandbox.gate.domains import Key, all_keys, check_size, resolve_domains
from sandbox.gate.entities import EntitySource, require_known
from sandbox.gate.errors import OutputRefused
from sandbox.gate.frames import FrameStats, frame_stats, keep_in_domain, read_frame
from sandbox.gate.identifiers import (
    IdentifierScanner,
    check_not_identifying,
    samples_scanner,
    scan_dimension_values,
)
from sandbox.gate.ledger import BudgetLedger
from sandbox.gate.policy import OutputRules, output_rules
from sandbox.gate.register import ReleaseRegister
from sandbox.gate.report import OutputFacts, write_report, write_table
from sandbox.gate.rounding import ROUNDED_AGGREGATES, round_to_base
from sandbox.gate.rules import primary_reasons, released_values, threshold_reason
from sandbox.gate.suppression import Table, TableCell, protect


@dataclass
class _Prepared:
    """One output after its own rules: cells with their primary reasons and the values they would show."""

    spec: OutputSpec
    rules: OutputRules
    domains: dict[str, tuple[str, ...]]
    frame: FrameStats
    cells: dict[Key, TableCell]
    values: dict[Key, dict[str, float | int | None]]
    methods: dict
    epsilon: float = 0.0
    delta: float = 0.0
    members: DataFrame | None = None  # exact outputs: each cell's entities (``aggregate.cell_members``)
    kept: DataFrame | None = None  # contributions persisted for the register, unpersisted at the end


def _check_measures(output: OutputSpec, policy: GatePolicy) -> None:
    """Re-check what the manifest parser already did: allowed aggregates, bounds on every measured column."""
    refused = [m.name for m in output.measures if m.agg.value not in policy.allowed_aggregates]
    if refused:
        raise OutputRefused(
            Refusal.AGGREGATE_NOT_ALLOWED,
            f"输出 {output.name} 的度量 {', '.join(refused)} 使用了策略不允许的聚合",
            f"measure(s) {', '.join(refused)} of output {output.name} use an aggregate the policy does not allow",
        )
    unbounded = [m.name for m in output.measures if m.column and not (m.bounds and m.bounds[0] < m.bounds[1])]
    if unbounded:
        raise OutputRefused(
            Refusal.AGGREGATE_NOT_ALLOWED,
            f"输出 {output.name} 的度量 {', '.join(unbounded)} 没有声明贡献上下限",
            f"measure(s) {', '.join(unbounded)} of output {output.name} declare no contribution bounds",
        )


@contextmanager
def _frame_errors_refuse(output: OutputSpec) -> Iterator[None]:
    """A frame Spark cannot read or aggregate refuses its output; the error's text (maybe values) is dropped."""
    try:
        yield
    except (PySparkException, Py4JJavaError) as error:
        condition = _condition(error)
        raise OutputRefused(
            Refusal.INVALID_FRAME,
            f"输出 {output.name} 的贡献数据无法读取或汇总（{condition}）",
            f"the contribution frame of output {output.name} cannot be read or aggregated ({condition})",
        ) from None


def _condition(error: Exception) -> str:
    """Spark's error class (e.g. ``FAILED_READ_FILE``) — a name, never the message, which may quote data."""
    condition = error.getCondition() if isinstance(error, PySparkException) else None
    return condition or type(error).__name__


def _observed(keys, dims: tuple[str, ...]) -> dict[str, int]:
    return {d: len({k[i] for k in keys if k[i] is not None}) for i, d in enumerate(dims)}


def _exact(output: OutputSpec, rules: OutputRules, domains, frame: FrameStats, stats, keys) -> _Prepared:
    observed = [k for k, s in stats.items() if s.entities > 0]
    check_not_identifying(output, _observed(observed, output.dimensions), frame.approx_entities,
                          ratio=rules.identifying_dimension_ratio, threshold=rules.threshold)  # fmt: skip
    cells = {k: TableCell(output.name, k, stats[k].entities if k in stats else 0,
                          primary_reasons(stats.get(k), output, rules),
                          stats[k].fingerprint if k in stats else None) for k in keys}  # fmt: skip
    values = {k: released_values(stats.get(k), output) for k in keys}
    methods = {"median": aggregate.MEDIAN_METHOD, "std": aggregate.STD_METHOD,
               "contribution_bounding": "per entity and cell: rows summed, then clipped to the measure's bounds",
               "max_cells_per_entity": f"{rules.max_cells_per_entity} (an entity's further cells dropped, in a fixed "
                                       "order of cells)"}  # fmt: skip
    return _Prepared(output, rules, domains, frame, cells, values, methods)


def _noisy(output: OutputSpec, rules: OutputRules, domains, frame: FrameStats, sums, keys,
           spend: Callable[[], tuple[float, float]]) -> _Prepared:  # fmt: skip
    check_not_identifying(output, _observed(sums, output.dimensions), frame.approx_entities,
                          ratio=rules.identifying_dimension_ratio, threshold=rules.threshold)  # fmt: skip
    epsilon, delta = spend()
    noise = dp.release(sums, keys, output, output.dp, max_cells_per_entity=rules.max_cells_per_entity)
    cells = {k: TableCell(output.name, k, count, [] if count >= rules.threshold else [threshold_reason(rules.threshold)])
             for k, (count, _) in noise.cells.items()}  # fmt: skip
    methods = {"differential_privacy": noise.mechanism, "noise_scales": noise.scales,
               "max_cells_per_entity": rules.max_cells_per_entity,
               "threshold": "applied to noisy counts (post-processing)"}  # fmt: skip
    return _Prepared(output, rules, domains, frame, cells, {k: v for k, (_, v) in noise.cells.items()},
                     methods, epsilon, delta)  # fmt: skip


def _prepare(spark, output: OutputSpec, staging_run_dir: Path, policy: GatePolicy, code_tables, ledger,
             input_datasets: list[str], scanner: IdentifierScanner, job_id: str, run_id: str | None,
             advisory: bool, entity_sources: list[EntitySource] | None,
             fingerprint_seed: int | None, dp_required_by: list[str]) -> _Prepared:  # fmt: skip
    _check_measures(output, policy)
    dp.check_required(output, dp_required_by)
    rules = output_rules(policy, output)
    domains = resolve_domains(output, code_tables)
    check_size(output, domains, rules.max_cells)
    if output.dp is not None:
        dp.check_supported(output)
        if (ledger is None or not input_datasets) and not advisory:
            raise OutputRefused(Refusal.DP_UNSUPPORTED, f"输出 {output.name} 需要差分隐私，但没有可扣减的预算账本或输入数据集",
                                f"output {output.name} asks for differential privacy but there is no budget ledger "
                                "or input dataset to charge")  # fmt: skip
    scan_dimension_values(output, domains, scanner, rules.output_scan_min_score)
    keys = all_keys(domains, totals=output.totals)
    with _frame_errors_refuse(output):
        frame = read_frame(spark, staging_run_dir, output)
        if entity_sources is not None:
            require_known(spark, frame, output, entity_sources)
        domain_filter = keep_in_domain(spark, frame, output, domains)
        contributions = aggregate.entity_contributions(domain_filter.kept, output)
        if output.dp is None:
            contributions = aggregate.bound_cells(contributions, output, rules.max_cells_per_entity)
            if fingerprint_seed is not None:  # the register reads the cells' members again: keep them
                contributions = contributions.persist(StorageLevel.MEMORY_AND_DISK)
            stats = aggregate.cell_stats(contributions, output, totals=output.totals, dominance_n=rules.dominance.n,
                                         dominance_aggs=rules.dominance.applies_to,
                                         fingerprint_seed=fingerprint_seed)  # fmt: skip
            prepared = _exact(output, rules, domains, frame_stats(domain_filter, output), stats, keys)
            prepared.members = aggregate.cell_members(contributions, output)
            prepared.kept = contributions if fingerprint_seed is not None else None
            return prepared
        sums = aggregate.bounded_cell_sums(contributions, output, seed=secrets.randbits(62),
                                           max_cells_per_entity=rules.max_cells_per_entity)  # fmt: skip
        observed = frame_stats(domain_filter, output)

    def spend() -> tuple[float, float]:
        """Pay before any noisy value exists; an advisory run on samples pays nothing."""
        if advisory:
            return 0.0, 0.0
        ledger.spend(input_datasets, output.dp.epsilon, output.dp.delta, job_id=job_id, output=output.name,
                     run_id=run_id)  # fmt: skip
        return output.dp.epsilon, output.dp.delta

    return _noisy(output, rules, domains, observed, sums, keys, spend)


def _entity_check(sources: list[EntitySource] | None) -> str:
    if sources is None:
        return "not checked (no subject columns given) / 未核对主体"
    return (
        f"every entity found in an input's subject column ({len(sources)} checked) / 主体均在输入的主体列中"
    )


def _finish(prepared: _Prepared) -> OutputOutcome:
    outcome = OutputOutcome(prepared.spec.name, epsilon_spent=prepared.epsilon, delta_spent=prepared.delta)
    base = prepared.rules.rounding_base
    for key, cell in prepared.cells.items():
        if cell.suppressed:
            outcome.cells.append(CellResult(key, CellDecision.SUPPRESSED, list(cell.reasons)))
            continue
        values = dict(prepared.values[key])
        for m in prepared.spec.measures:
            if base and m.agg.value in ROUNDED_AGGREGATES and values[m.name] is not None:
                values[m.name] = round_to_base(values[m.name], base)
        outcome.cells.append(CellResult(key, CellDecision.RELEASED, [], values))
    return outcome


def _protect(spark: SparkSession, prepared: dict[str, _Prepared], outcome: GateOutcome, policy: GatePolicy,
             register: ReleaseRegister | None, input_datasets: list[str]) -> dict[str, Table]:  # fmt: skip
    """Differencing against the release register and within the run, secondary suppression, then the
    protection-interval audit per privacy unit; an output the audit cannot protect is refused and leaves
    ``prepared``. Returns the exact outputs' tables."""
    exact = [p for p in prepared.values() if p.spec.dp is None]  # noisy outputs are protected by their noise
    tables = {p.spec.name: Table(p.spec.name, p.spec.entity, p.spec.dimensions, p.domains, p.spec.totals,
                                 p.rules.threshold, p.cells) for p in exact}  # fmt: skip
    published: dict[str, dict[Key, int]] = {}
    if register is not None and tables:
        members = {p.spec.name: p.members for p in exact}
        published = register.check(spark, list(tables.values()), members, input_datasets)
    protect(list(tables.values()), differencing=policy.differencing)
    for unit in {p.spec.entity for p in exact}:
        family = [p for p in exact if p.spec.entity == unit]
        result = intervals.audit(
            [intervals.AuditedTable(tables[p.spec.name], p.spec.measures, p.values, p.rules.rounding_base,
                                    p.rules.p_ratio, p.rules.dominance.applies_to,
                                    published.get(p.spec.name, {})) for p in family],
            threshold_of={p.spec.name: p.rules.threshold for p in family},
            max_seconds=policy.protection_max_seconds,
        )  # fmt: skip
        for p in family:
            p.methods["protection_intervals"] = intervals.METHOD
        for name, (zh, en) in result.refused.items():
            outcome.outputs[name] = OutputOutcome(name, Refusal.PROTECTION_INTERVAL, zh, en)
            del prepared[name]
            del tables[name]
    return tables


def gate_job(
    spark: SparkSession,
    manifest: JobManifest,
    staging_run_dir: Path,
    out_dir: Path,
    *,
    policy: GatePolicy,
    code_tables: dict[str, tuple[str, ...]],
    ledger: BudgetLedger | None,
    input_datasets: list[str],
    scanner: IdentifierScanner | None = None,
    run_id: str | None = None,
    advisory: bool = False,
    entity_sources: list[EntitySource] | None = None,
    register: ReleaseRegister | None = None,
    dp_required_by: list[str] | None = None,
) -> GateOutcome:
    """Gate every output of one run; write ``<output>.parquet``/``.csv`` and ``gate_report.json``/``.md``.

    ``scanner`` defaults to the samples' recognizers; ``run_id`` is recorded with privacy-budget spends.
    ``entity_sources``: the inputs' subject columns every staged entity must be found in (production
    and dev runs pass them; ``None`` skips the check, for frames made by hand in tests).
    ``advisory`` is for dev runs on samples, which are not the protected data: DP outputs get their noise
    but spend no budget. ``register``: the release register (production runs): exact cells are checked
    against earlier releases, and what this run releases is recorded (under ``run_id``).
    ``dp_required_by``: input datasets the policy releases only with differential privacy
    (``dp.required_by``); every exact output is then refused.
    """
    scanner = scanner or samples_scanner()
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = GateOutcome(manifest.id)
    prepared: dict[str, _Prepared] = {}
    for spec in manifest.outputs:
        try:
            prepared[spec.name] = _prepare(spark, spec, staging_run_dir, policy, code_tables, ledger,
                                           input_datasets, scanner, manifest.id, run_id, advisory,
                                           entity_sources, register.seed if register else None,
                                           dp_required_by or [])  # fmt: skip
            prepared[spec.name].methods["entities"] = _entity_check(entity_sources)
        except OutputRefused as refused:
            outcome.outputs[spec.name] = OutputOutcome(spec.name, refused.refusal, refused.zh, refused.en)
    tables = _protect(spark, prepared, outcome, policy, register, input_datasets)
    for name, p in prepared.items():
        outcome.outputs[name] = _finish(p)
        write_table(out_dir, p.spec, outcome.outputs[name])
    outcome.outputs = {spec.name: outcome.outputs[spec.name] for spec in manifest.outputs}
    facts = {n: OutputFacts(p.spec, p.rules, p.frame, p.methods) for n, p in prepared.items()}
    write_report(out_dir, manifest, outcome, facts, policy.as_dict(), input_datasets)
    if register is not None:
        shown = {n for n, p in prepared.items()
                 if any(m.agg is Aggregate.COUNT for m in p.spec.measures) and not p.rules.rounding_base}  # fmt: skip
        register.record(spark, run_id=run_id or "", job_id=manifest.id, datasets=input_datasets,
                        tables=list(tables.values()), members={n: p.members for n, p in prepared.items()},
                        counts_shown=shown)  # fmt: skip
    for p in prepared.values():
        if p.kept is not None:
            p.kept.unpersist()
    return outcome
