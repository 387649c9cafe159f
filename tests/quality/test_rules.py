"""Rule suites, the identifier checks against stdnum, scoring and the ticket lifecycle table."""

from __future__ import annotations

import random
from datetime import date

import pytest
from stdnum.cn import ric, uscc

from sandbox.catalog.service import read_catalog_file
from sandbox.domain.errors import IllegalTransition
from sandbox.domain.quality import (
    CLOSED_STATES,
    OPEN_STATES,
    RECHECKED_STATES,
    TICKET_LIFECYCLE,
    Check,
    Dimension,
    Rule,
    RuleOutcome,
    Severity,
    SuiteError,
    TicketError,
    TicketState,
    parse_ticket_ref,
)
from sandbox.quality import checks, scoring
from sandbox.quality.suite_drafts import draft_entries
from sandbox.quality.suites import build_suite, bundled_suite_dirs, read_suite


@pytest.fixture(scope="module")
def catalog(county):
    return read_catalog_file(county / "catalog.yaml").catalog


def _columns(catalog):
    datasets = {d.id: d for d in catalog.datasets}
    return lambda dataset_id: datasets[dataset_id].column_names if dataset_id in datasets else None


def test_every_synthetic_dataset_has_a_suite_naming_dimension_and_severity(catalog):
    folder = bundled_suite_dirs()[0]
    assert folder.name == "suites" and folder.parent.name == "quality"
    seen = set()
    for dataset in catalog.datasets:
        suite = read_suite(
            folder / f"{dataset.id}.yaml", dataset, set(catalog.code_tables), _columns(catalog)
        )
        assert len(suite.rules) >= 10
        assert all(r.description and r.fix and "/" in r.description for r in suite.rules)  # zh / en
        seen |= {r.dimension for r in suite.rules}
        assert {Check.ROW_COUNT, Check.UNIQUE_KEY, Check.NOT_NULL} <= {r.check for r in suite.rules}
    assert seen == set(Dimension)
    assert {p.stem for p in folder.glob("*.yaml")} == {d.id for d in catalog.datasets}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"check": "spelling"}, "check must be one of"),
        ({"dimension": "美观性"}, "GB/T 36344"),
        ({"severity": "urgent"}, "severity must be one of"),
        ({"column": "no_such_column"}, "column no_such_column does not exist"),
        ({"check": "in_code_table", "code_table": "nope"}, "code table nope is not registered"),
        ({"check": "references", "target": "nowhere.id"}, "reference target nowhere.id is not registered"),
        ({"colour": "red"}, "unknown fields: colour"),
        ({"id": "Bad Id"}, "invalid id"),
    ],
)
def test_malformed_rules_are_refused_in_both_languages(catalog, change, message):
    dataset = next(d for d in catalog.datasets if d.id == "hukou_population")
    entry = {
        "id": "r1",
        "check": "not_null",
        "dimension": "完整性",
        "severity": "high",
        "column": "name",
        **change,
    }
    with pytest.raises(SuiteError) as refused:
        build_suite(dataset, [entry], "test", set(catalog.code_tables), _columns(catalog))
    assert refused.value.code == "E1001" and message in refused.value.en and refused.value.zh


def test_duplicate_rule_ids_are_refused(catalog):
    dataset = next(d for d in catalog.datasets if d.id == "hukou_population")
    entry = {"id": "r1", "check": "not_null", "dimension": "完整性", "severity": "high", "column": "name"}
    with pytest.raises(SuiteError, match="used twice"):
        build_suite(dataset, [entry, entry], "test", set(catalog.code_tables), _columns(catalog))


def test_a_dataset_without_a_suite_gets_the_rules_its_catalog_entry_implies(catalog):
    dataset = next(d for d in catalog.datasets if d.id == "social_insurance")
    suite = build_suite(
        dataset, draft_entries(dataset), "catalog", set(catalog.code_tables), _columns(catalog)
    )
    by_check = {r.check for r in suite.rules}
    assert {
        Check.REFERENCES,
        Check.IN_RANGE,
        Check.IN_CODE_TABLE,
        Check.FRESH,
        Check.RESIDENT_ID,
        Check.USCC,
    } <= by_check
    assert suite.rule("key_unique").column_label == "id_number|insurance_type"
    assert "公民身份号码（id_number）" in suite.rule("id_number_required").description


def _with_check(body: str) -> str:
    total = sum(int(d) * w for d, w in zip(body, checks.RESIDENT_ID_WEIGHTS, strict=True))
    return body + checks.RESIDENT_ID_CHECK[total % 11]


def _resident_id(rng: random.Random) -> str:
    return _with_check(
        f"110101{rng.randint(1930, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )


def _uscc(rng: random.Random) -> str:
    alphabet = checks.USCC_ALPHABET
    body = "91" + "110101" + "".join(rng.choice(alphabet) for _ in range(9))
    total = sum(alphabet.index(c) * w for c, w in zip(body, checks.USCC_WEIGHTS, strict=True))
    return body + alphabet[(31 - total % 31) % 31]


def test_identifier_checks_agree_with_stdnum(spark):
    """On real region codes (which stdnum knows) the Spark checks answer as stdnum does."""
    rng = random.Random(5)
    ids = [_resident_id(rng) for _ in range(300)]
    ids += [i[:17] + rng.choice("0123456789X".replace(i[17], "")) for i in ids[:100]]  # wrong check character
    ids += [
        "11010119990230001X",
        "110101199913010017",
        "11010119900307001",
        "1101011990030700111",
        "11010A199003070011",
        "+10101199003070011",  # a sign or a space: a number to a cast, not to GB 11643
        " 10101199003070011",
    ]
    # right check character, so only the birth date decides: leap years, month and day ranges
    ids += [
        _with_check(f"110101{day}001")
        for day in ("20000229", "19000229", "20010229", "20240229", "19990431", "19990430", "19991301",
                    "19990001", "19990100", "19991231", "18500101")
    ]  # fmt: skip
    codes = [_uscc(rng) for _ in range(300)]
    codes += [c[:17] + rng.choice(checks.USCC_ALPHABET.replace(c[17], "")) for c in codes[:100]]
    codes += ["91110101MA00000I0X", "9111010", ""]
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(i,) for i in ids], "value string")
    got = dict(frame.select("value", checks.resident_id_valid("value").alias("ok")).collect())
    assert got == {i: ric.is_valid(i) for i in ids}
    assert sum(got.values()) > 300 and not got[_with_check("11010119000229001")]
    assert not dict(
        spark.createDataFrame([(_with_check("11010118491231001"),)], "value string")
        .select("value", checks.resident_id_valid("value").alias("ok"))
        .collect()
    ).popitem()[1]  # before 1850: not a living person's ID, though stdnum accepts it
    full_width = _with_check("11010119900307001")[:-2] + "１" + _with_check("11010119900307001")[-1]
    assert ric.is_valid(full_width)  # stdnum reads a full-width digit as a digit; GB 11643 has ASCII ones
    assert (
        not spark.createDataFrame([(full_width,)], "value string")
        .select(checks.resident_id_valid("value"))
        .first()[0]
    )
    frame = spark.createDataFrame([(c,) for c in codes], "value string")
    got = dict(frame.select("value", checks.uscc_valid(F.col("value")).alias("ok")).collect())
    assert got == {c: uscc.is_valid(c) for c in codes}


def test_birth_date_check_compares_digits_7_to_14_with_the_date_literally(spark):
    """Numbers for well-formed IDs, text for the rest: the verdict is the literal comparison either way."""
    rng = random.Random(9)
    rows = []
    for _ in range(200):
        born = date(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28))
        right = f"{born.year:04d}{born.month:02d}{born.day:02d}"
        wrong = f"{born.year:04d}{born.month:02d}{born.day % 28 + 1:02d}"
        for digits in (right, wrong):
            well_formed = _with_check(f"110101{digits}001")
            rows += [
                (born, well_formed),
                (born, well_formed[:17]),  # too short: compared as text
                (born, "+" + well_formed[1:]),  # a sign: a number to a cast, not an ID
                (born, well_formed[:16] + " 1"),
                (born, well_formed[:6] + digits + "A01X"),
            ]
    rows += [(date(999, 1, 2), _with_check("11010109990102001")), (None, "110101"), (date(2000, 1, 1), None)]
    frame = spark.createDataFrame(rows, "birth date, id string")
    got = frame.select(checks.birth_date_matches_id("birth", "id").alias("ok")).collect()
    expected = [
        born is None
        or resident_id is None
        or resident_id[6:14] == f"{born.year:04d}{born.month:02d}{born.day:02d}"
        for born, resident_id in rows
    ]
    assert [r.ok for r in got] == expected
    assert 0 < sum(expected) < len(expected)


def test_scores_weigh_rules_by_severity():
    def outcome(severity: Severity, failures: int, dimension=Dimension.COMPLETENESS) -> RuleOutcome:
        rule = Rule(f"r{failures}", Check.NOT_NULL, dimension, severity, ("c",))
        return RuleOutcome(rule, failures == 0, 100, failures, records=100, failing_records=failures)

    outcomes = [
        outcome(Severity.HIGH, 10),
        outcome(Severity.LOW, 0),
        outcome(Severity.MEDIUM, 0, Dimension.TIMELINESS),
    ]
    assert scoring.rule_score(outcomes[0]) == 90.0
    assert scoring.dimension_scores(outcomes) == {"完整性": 92.5, "时效性": 100.0}
    assert scoring.overall_score(outcomes) == round((90 * 3 + 100 + 100 * 2) / 6, 2)
    excepted = RuleOutcome(
        outcomes[0].rule, False, 100, 10, records=100, failing_records=10, excepted_records=10
    )
    assert scoring.rule_score(excepted) == 100.0  # an upheld dispute said those records are right


def test_ticket_lifecycle_table():
    reachable, frontier = {TicketState.OPEN}, [TicketState.OPEN]
    while frontier:
        state = frontier.pop()
        for action in TICKET_LIFECYCLE.actions_from(state):
            target = TICKET_LIFECYCLE.check(state, action)
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(TicketState)
    assert all(not TICKET_LIFECYCLE.actions_from(s) for s in CLOSED_STATES)
    # open and closed come from the table: closed where no action leads on, re-checked where ``verify`` may
    assert {TicketState.VERIFIED, TicketState.UPHELD} == CLOSED_STATES
    assert set(TicketState) - CLOSED_STATES == OPEN_STATES
    assert OPEN_STATES - {TicketState.DISPUTED} == RECHECKED_STATES
    with pytest.raises(IllegalTransition) as illegal:
        TICKET_LIFECYCLE.check(TicketState.UPHELD, "reopen")
    assert (
        illegal.value.code == "E500" and "upheld" in illegal.value.en and "异议成立" not in illegal.value.en
    )


def test_ticket_references():
    assert parse_ticket_ref("QT-000042") == parse_ticket_ref("qt-42") == parse_ticket_ref("42") == 42
    with pytest.raises(TicketError):
        parse_ticket_ref("ticket forty-two")


def test_freshness_window_follows_the_update_cycle(catalog):
    dataset = next(d for d in catalog.datasets if d.id == "hukou_population")  # 实时: 2 days
    rule = Rule("fresh", Check.FRESH, Dimension.TIMELINESS, Severity.MEDIUM, ("updated_at",))
    assert checks.fresh_since(rule, dataset, date(2026, 6, 30)) == "2026-06-28"
    assert (
        checks.fresh_since(Rule(**{**rule.__dict__, "max_age_days": 30}), dataset, date(2026, 6, 30))
        == "2026-05-31"
    )
