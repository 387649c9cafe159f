"""Column profiling: what identifiers a column really holds, compared with what its catalog entry says.

The recognizers run on a sample of each column's values; a value counts as a kind when one
finding covers most of it. A column declared harmless (no PII kind, not free text) in which a
fair share of values are identifiers is flagged: the operator and the provider hear of it
through the audit trail and the profile report, and the sample treats the column as the kind it
holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import pyarrow as pa

from sandbox.domain.catalog import ColumnRole, ColumnType, Dataset, PiiKind
from sandbox.samples.recognizers import KIND_OF, analyze

_PROFILED_TYPES = (ColumnType.STRING, ColumnType.INTEGER)
_COVERAGE = 0.8  # a finding must cover this share of a value for the value to be of that kind


@dataclass(frozen=True)
class ColumnProfile:
    dataset: str
    column: str
    declared: str
    detected: str  # the kind most values are, or "none"
    share: float  # share of profiled values of the detected kind
    embedded: float  # share of values containing any identifier (free text)
    values: int
    flagged: bool

    def as_dict(self) -> dict:
        return asdict(self)


def value_kind(value: str) -> tuple[PiiKind | None, bool]:
    """The kind a whole value is (if any), and whether it contains any identifier at all."""
    text = value.strip()
    findings = analyze(text)
    for finding in findings:
        if finding.end - finding.start >= _COVERAGE * len(text):
            return KIND_OF.get(finding.entity_type), True
    return None, bool(findings)


def profile_column(dataset: Dataset, column: str, values: list[str], flag_share: float) -> ColumnProfile:
    spec = dataset.column(column)
    repeats = Counter(values)  # codes and categories repeat: each distinct value is analysed once
    seen = [(value_kind(v), n) for v, n in repeats.items()]
    kinds = Counter()
    for (kind, _), n in seen:
        kinds[kind] += n
    embedded = sum(n for (_, any_found), n in seen if any_found) / len(values) if values else 0.0
    counted = [(n, k) for k, n in kinds.items() if k is not None]
    count, detected = max(counted, key=lambda c: c[0]) if counted else (0, PiiKind.NONE)
    share = count / len(values) if values else 0.0
    harmless = spec.pii == PiiKind.NONE and spec.role != ColumnRole.FREE_TEXT
    return ColumnProfile(
        dataset=dataset.id, column=column, declared=spec.pii.value, detected=detected.value,
        share=round(share, 3), embedded=round(embedded, 3), values=len(values),
        flagged=harmless and detected != PiiKind.NONE and share >= flag_share,
    )  # fmt: skip


def profile_table(dataset: Dataset, table: pa.Table, flag_share: float) -> list[ColumnProfile]:
    """Profiles of the table's string and integer columns (``table`` holds the sampled raw values)."""
    profiles = []
    for name in table.column_names:
        if dataset.column(name).type not in _PROFILED_TYPES:
            continue
        values = [str(v) for v in table.column(name).to_pylist() if v is not None and str(v).strip()]
        profiles.append(profile_column(dataset, name, values, flag_share))
    return profiles


def profiled_columns(dataset: Dataset, columns: list[str]) -> list[str]:
    return [c for c in columns if dataset.column(c).type in _PROFILED_TYPES]
