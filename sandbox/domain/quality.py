"""Data quality vocabulary: GB/T 36344-2018 dimensions, severities, rule checks and the ticket lifecycle.

A rule suite is data a provider can read: each rule names the check it applies, the column(s)
it looks at, its quality dimension and how severe a failure is. Correction tickets follow the
transition table below; an illegal move is a clear bilingual error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sandbox.domain.errors import ShuyuError
from sandbox.domain.statemachine import TransitionTable


class Dimension(StrEnum):
    """The six quality dimensions of GB/T 36344-2018 《信息技术 数据质量评价指标》."""

    CONFORMITY = "规范性"
    COMPLETENESS = "完整性"
    ACCURACY = "准确性"
    CONSISTENCY = "一致性"
    TIMELINESS = "时效性"
    ACCESSIBILITY = "可访问性"

    @property
    def en(self) -> str:
        return DIMENSION_EN[self]


DIMENSION_EN: dict[Dimension, str] = {
    Dimension.CONFORMITY: "conformity",
    Dimension.COMPLETENESS: "completeness",
    Dimension.ACCURACY: "accuracy",
    Dimension.CONSISTENCY: "consistency",
    Dimension.TIMELINESS: "timeliness",
    Dimension.ACCESSIBILITY: "accessibility",
}


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def zh(self) -> str:
        return {"high": "高", "medium": "中", "low": "低"}[self.value]

    @property
    def weight(self) -> int:
        """How much a rule of this severity counts in a score."""
        return {"high": 3, "medium": 2, "low": 1}[self.value]


class Check(StrEnum):
    """What a rule tests. Each maps to one Great Expectations expectation (see ``sandbox.quality.expectations``)."""

    NOT_NULL = "not_null"  # a required value is present
    UNIQUE_KEY = "unique_key"  # no two rows share the key columns
    RESIDENT_ID = "resident_id"  # GB 11643: format, birth date part, ISO 7064 MOD 11-2 check digit
    USCC = "uscc"  # GB 32100: alphabet and MOD 31 check character
    BIRTH_DATE_MATCHES_ID = "birth_date_matches_id"  # a birth date equals digits 7-14 of the resident ID
    IN_CODE_TABLE = "in_code_table"  # value belongs to a registered code table
    IN_RANGE = "in_range"  # number within [min, max]
    REFERENCES = "references"  # value exists in another dataset's column
    FRESH = "fresh"  # record updated within the dataset's update cycle
    FIELD_ORDER = "field_order"  # lesser column ≤ greater column
    ROW_COUNT = "row_count"  # the delivered version is readable and not empty


#: Checks that look at one row (or one key) at a time and so can name failing keys.
KEYED_CHECKS = frozenset(set(Check) - {Check.ROW_COUNT})


@dataclass(frozen=True)
class Rule:
    """One rule of a suite, as a provider reads it in ``quality/suites/<dataset>.yaml``."""

    id: str
    check: Check
    dimension: Dimension
    severity: Severity
    columns: tuple[str, ...] = ()  # inspected columns: birth date then ID; lesser then greater; key columns
    description: str = ""
    fix: str = ""  # suggested fix shown on tickets
    code_table: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    target: str | None = None  # "dataset.column" for references
    max_age_days: int | None = None  # overrides the update cycle's staleness window
    min_rows: int = 1

    @property
    def column_label(self) -> str:
        """The failing column as tickets name it: field pairs and compound keys joined by "|"."""
        if self.check in (Check.FIELD_ORDER, Check.UNIQUE_KEY):
            return "|".join(self.columns)
        return self.columns[0] if self.columns else ""


@dataclass(frozen=True)
class Suite:
    dataset_id: str
    rules: tuple[Rule, ...]
    source: str  # where the suite came from: a file path or "catalog"
    sha256: str
    title: str = ""

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


@dataclass(frozen=True)
class RuleOutcome:
    """A rule's result on one run: Great Expectations' counts plus the keys Shuyu extracted.

    Scores count records, not rows: a record is a key, however many rows repeat it (a row whose
    key is incomplete is a record of its own). Removing a duplicated key's extra rows — what the
    uniqueness rule asks for — then changes no other rule's count, so a fix never lowers a score.
    """

    rule: Rule
    success: bool
    element_count: int
    unexpected_rows: int  # rows Great Expectations found failing
    failing_keys: int = 0  # distinct keys among them
    excepted_keys: int = 0  # keys recorded as exceptions after an upheld dispute
    excepted_rows: int = 0
    new_keys: int = 0  # keys not already on an open ticket: what a new ticket carries
    examples: tuple[str, ...] = field(default=())
    records: int = 0  # the version's records: its rows less the extra rows of duplicated keys
    failing_records: int = 0
    excepted_records: int = 0

    @property
    def counted_failures(self) -> int:
        """Failing records the score counts: upheld disputes said the excepted ones are correct."""
        return max(self.failing_records - self.excepted_records, 0)


@dataclass(frozen=True)
class Tally:
    """What one pass over a version counted: its rows, the failing rows per rule, missing values per column.

    These are the numbers Great Expectations would compute for a suite's expectations; the pass
    counts them while it writes the failing keys, so a run reads the version once.
    """

    rows: int
    failing_rows: dict[str, int]  # rule id -> rows its check fails
    nulls: dict[str, int]  # inspected column -> rows where it is missing


class TicketState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    FIXED = "fixed"
    VERIFIED = "verified"
    REOPENED = "reopened"
    DISPUTED = "disputed"
    UPHELD = "upheld"
    REJECTED = "rejected"

    @property
    def zh(self) -> str:
        return TICKET_STATE_ZH[self]


TICKET_STATE_ZH: dict[TicketState, str] = {
    TicketState.OPEN: "待处理",
    TicketState.ACKNOWLEDGED: "已确认",
    TicketState.FIXED: "已整改",
    TicketState.VERIFIED: "已核验",
    TicketState.REOPENED: "重新打开",
    TicketState.DISPUTED: "异议中",
    TicketState.UPHELD: "异议成立",
    TicketState.REJECTED: "异议驳回",
}

T = TicketState
#: open → acknowledged → fixed → verified | reopened; disputed (异议) → upheld | rejected.
#: ``verify`` is also allowed before ``fix``: a new version that passes closes the ticket even if
#: the provider never clicked "fixed".
TICKET_LIFECYCLE = TransitionTable(
    "整改工单",
    "correction ticket",
    {
        (None, "raise"): T.OPEN,
        (T.OPEN, "acknowledge"): T.ACKNOWLEDGED,
        (T.REOPENED, "acknowledge"): T.ACKNOWLEDGED,
        (T.REJECTED, "acknowledge"): T.ACKNOWLEDGED,
        (T.ACKNOWLEDGED, "fix"): T.FIXED,
        (T.REJECTED, "fix"): T.FIXED,
        (T.FIXED, "verify"): T.VERIFIED,
        (T.OPEN, "verify"): T.VERIFIED,
        (T.ACKNOWLEDGED, "verify"): T.VERIFIED,
        (T.REOPENED, "verify"): T.VERIFIED,
        (T.REJECTED, "verify"): T.VERIFIED,
        (T.FIXED, "reopen"): T.REOPENED,
        (T.OPEN, "dispute"): T.DISPUTED,
        (T.ACKNOWLEDGED, "dispute"): T.DISPUTED,
        (T.REOPENED, "dispute"): T.DISPUTED,
        (T.DISPUTED, "uphold"): T.UPHELD,
        (T.DISPUTED, "reject"): T.REJECTED,
    },
)
#: A ticket is closed in a state no action leaves (verified, upheld) and open in every other one:
#: while open, it is the one ticket of its rule on its dataset, and a run adds what it finds to it.
CLOSED_STATES = TICKET_LIFECYCLE.final_states()
OPEN_STATES = frozenset(TicketState) - CLOSED_STATES
#: Open tickets a run on a newer version re-checks: those ``verify`` may close. A disputed one waits
#: for the operator's decision, with the keys it was disputed on.
RECHECKED_STATES = TICKET_LIFECYCLE.states_allowing("verify")
TICKET_DUE_WORKING_DAYS = 5
MANUAL_RULE = "manual"  # rule id of correction requests raised by people (数据治理校核需求)


def ticket_label(ticket_id: int) -> str:
    return f"QT-{ticket_id:06d}"


def parse_ticket_ref(text: str) -> int:
    """``QT-000042``, ``qt-42`` or ``42`` → 42."""
    digits = text.strip().upper().removeprefix("QT-")
    if not digits.isdigit():
        raise TicketError(
            f"工单编号须形如 QT-000042：{text!r}", f"a ticket number looks like QT-000042: {text!r}"
        )
    return int(digits)


class QualityError(ShuyuError):
    """A quality run could not be carried out as asked."""

    code = "E1000"


class SuiteError(QualityError):
    """A rule suite is malformed or does not fit its dataset."""

    code = "E1001"


class QualityIntegrityError(QualityError):
    """Great Expectations and the key extraction disagree: no ticket may rest on such a run."""

    code = "E1002"


class TicketError(QualityError):
    code = "E1010"


class WebhookError(QualityError):
    code = "E1020"
