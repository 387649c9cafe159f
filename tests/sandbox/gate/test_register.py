"""The release register: a cell a few people apart from an earlier release of the same meaning is
suppressed, whatever job or column name; the register survives restarts and only the dataset's provider
clears it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sandbox.cli import app
from sandbox.context import PlatformContext
from sandbox.domain.errors import PermissionDenied
from sandbox.gate.register import ReleaseRegister
from sandbox.governance.access import principal_for
from sandbox.governance.release_register import clear
from sandbox.store.models import AuditEventRow, ReleaseCellRow, ReleaseRow
from tests.sandbox.gate.conftest import count, gate, manifest, output, write_frame
from tests.sandbox.governance.conftest import build_cast

DISTRICTS = ("east", "west", "north")
SIZES = {"east": 30, "west": 40, "north": 25}
SCHEMA = "pid string, district string"


def _people(skip: str | None = None) -> list[tuple]:
    return [(f"{d}-{i}", d) for d, n in SIZES.items() for i in range(n) if f"{d}-{i}" != skip]


@pytest.fixture
def home(sqlite_ctx, spark, tmp_path):
    """A platform with the mini catalog's cast; the first job's release of everyone by district."""
    build_cast(sqlite_ctx)
    write_frame(spark, tmp_path / "first", "by_district", _people(), SCHEMA)
    first = manifest(output("by_district", {"district": DISTRICTS}, totals=True), job_id="census")
    run = gate(spark, tmp_path, first, datasets=("people",), out="first", staging="first",
               register=ReleaseRegister(sqlite_ctx, actor="gate-test"))  # fmt: skip
    assert all(run.released("by_district", (d,)) for d in DISTRICTS)
    return sqlite_ctx, tmp_path


def _second(spark, ctx, root, *, register: bool, out: str):
    """Another job, its column renamed, releases everyone but west-7: one person apart in west and total."""
    write_frame(spark, root / out, "by_area", _people(skip="west-7"), "pid string, area string")
    job = manifest(output("by_area", {"area": DISTRICTS}, (count("n"),), totals=True), job_id="renamed")
    return gate(spark, root, job, datasets=("people",), out=f"{out}-out", staging=out,
                register=ReleaseRegister(ctx, actor="gate-test") if register else None)  # fmt: skip


def test_a_release_one_person_apart_from_an_earlier_one_is_suppressed_whatever_the_column(spark, home):
    ctx, root = home
    run = _second(spark, ctx, root, register=True, out="second")
    for key in (("west",), (None,)):
        assert "differencing" in run.rules("by_area", key)
        assert any("earlier release" in r.en and "census" in r.en for r in run.cell("by_area", key).reasons)
    # the same people as before differ by nothing: released
    assert run.released("by_area", ("east",)) and run.released("by_area", ("north",))


def test_without_the_register_the_difference_gives_the_person_away(spark, home):
    """The layer that stops it: the same run without the register releases west at 39 beside the earlier 40."""
    ctx, root = home
    run = _second(spark, ctx, root, register=False, out="unchecked")
    assert (
        run.released("by_area", ("west",)) and run.cell("by_area", ("west",)).values["n"] == SIZES["west"] - 1
    )


def test_the_register_survives_a_restart_and_measures_what_it_keeps(spark, home):
    ctx, root = home
    again = PlatformContext(ctx.settings, actor="gate-test")
    earlier = ReleaseRegister(again).earlier(["people"])
    assert sorted(c.entities for cells in earlier.values() for c in cells) == sorted([*SIZES.values(), 95])
    assert ReleaseRegister(again).earlier(["another_dataset"]) == {}
    with again.sessions() as session:
        release = session.scalars(select(ReleaseRow)).one()
    assert release.run_id == "run-first" and release.member_bytes > 0
    again.engine.dispose()


def test_only_the_datasets_provider_clears_the_register_and_it_is_audited(spark, home):
    ctx, root = home
    for who in ("operator-1", "admin", "provider-canlian"):
        with pytest.raises(PermissionDenied):
            clear(ctx, principal_for(ctx, who), "people", reason="试图清除")
    assert clear(ctx, principal_for(ctx, "provider-gongan"), "people", reason="新年度重新授权") == 1
    run = _second(spark, ctx, root, register=True, out="after-clear")
    assert run.released("by_area", ("west",))
    with ctx.sessions() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "release_register.cleared")
        )
        assert [e.actor for e in events] == ["provider-gongan"]
        refused = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused"))
        assert {e.actor for e in refused} == {"operator-1", "admin", "provider-canlian"}


def test_register_list_and_clear_from_the_command_line(spark, home, monkeypatch):
    """``sandbox register list`` and ``sandbox register clear`` as a user types them."""
    ctx, _ = home
    monkeypatch.setenv("SANDBOX_HOME", str(ctx.settings.home_dir))
    monkeypatch.setenv("COLUMNS", "80")

    def run(*args: str):
        return CliRunner().invoke(app, list(args))

    listed = run("--as", "admin", "register", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    (release,) = json.loads(listed.output)
    assert release["job_id"] == "census" and release["cells"] == 4 and release["datasets"] == ["people"]
    table = run("--as", "operator-1", "register", "list")
    assert "census" in table.output and max(len(line) for line in table.output.splitlines()) <= 80
    refused = run("--as", "provider-canlian", "register", "clear", "people", "--reason", "x")
    assert refused.exit_code != 0 and "不属于" in refused.output and "not owned" in refused.output
    cleared = run("--as", "provider-gongan", "register", "clear", "people", "--reason", "重新授权")
    assert cleared.exit_code == 0 and "1" in cleared.output
    assert json.loads(run("--as", "provider-gongan", "register", "list", "--dataset", "people",
                          "--format", "json").output)[0]["cleared_at"]  # fmt: skip


FLAGGED = {"east": 12, "west": 3, "north": 10}  # how many of each district's people have the flag


def _detail(spark, ctx, root, *, register: bool, out: str, flagged=FLAGGED, skip: str | None = None):
    """A later job shows district × flag without margins: west has 3 flagged people, 37 not."""
    rows = [(pid, d, "y" if int(pid.split("-")[1]) < flagged[d] else "n") for pid, d in _people(skip)]
    write_frame(spark, root / out, "by_flag", rows, "pid string, district string, flag string")
    job = manifest(output("by_flag", {"district": DISTRICTS, "flag": ("y", "n")}), job_id="detail")
    return gate(spark, root, job, datasets=("people",), out=f"{out}-out", staging=out,
                register=ReleaseRegister(ctx, actor="gate-test") if register else None)  # fmt: skip


def test_an_earlier_release_counts_in_the_attackers_linear_program(spark, home):
    """The earlier release showed west = 40; this run's west cells must not add up to a pinned 3."""
    ctx, root = home
    run = _detail(spark, ctx, root, register=True, out="detail")
    assert run.rules("by_flag", ("west", "y")) == {"threshold"}
    hidden = run.cell("by_flag", ("west", "n"))
    assert not run.released("by_flag", ("west", "n"))
    assert any("linear-programming audit" in r.en for r in hidden.reasons)
    assert run.released("by_flag", ("east", "y")) and run.released("by_flag", ("north", "n"))


def test_without_the_register_the_earlier_total_pins_the_small_cell(spark, home):
    """The layer that stops it: without the register, west × n is shown as 37 beside the earlier 40."""
    ctx, root = home
    run = _detail(spark, ctx, root, register=False, out="detail-unchecked")
    assert run.released("by_flag", ("west", "n"))
    assert SIZES["west"] - run.cell("by_flag", ("west", "n")).values["people"] == FLAGGED["west"]


def _first_again(spark, ctx, root, datasets: tuple[str, ...], out: str):
    job = manifest(output("by_district", {"district": DISTRICTS}, totals=True), job_id="census")
    return gate(spark, root, job, datasets=datasets, out=out, staging="first",
                register=ReleaseRegister(ctx, actor="gate-test"))  # fmt: skip


def _releases(ctx) -> list[ReleaseRow]:
    with ctx.sessions() as session:
        return list(session.scalars(select(ReleaseRow).order_by(ReleaseRow.id)))


def test_a_rerun_on_the_same_people_points_at_the_members_it_already_holds(spark, home):
    ctx, root = home
    _first_again(spark, ctx, root, ("people",), "rerun")
    first, rerun = _releases(ctx)
    assert first.members and first.member_bytes > 0
    assert rerun.members is None and rerun.member_bytes == 0  # four populations, all held already
    with ctx.sessions() as session:
        cells = session.scalars(select(ReleaseCellRow).where(ReleaseCellRow.release_id == rerun.id)).all()
    assert len(cells) == 4 and {c.members_release for c in cells} == {first.id}


def test_members_another_release_points_at_outlive_the_clearing_of_their_own(spark, sqlite_ctx, tmp_path):
    build_cast(sqlite_ctx)
    write_frame(spark, tmp_path / "first", "by_district", _people(), SCHEMA)
    _first_again(spark, sqlite_ctx, tmp_path, ("people", "disability"), "both")
    _first_again(spark, sqlite_ctx, tmp_path, ("people",), "people-only")  # held: points at the first's
    first, _ = _releases(sqlite_ctx)
    members = sqlite_ctx.settings.home_dir / "register" / first.members
    assert clear(sqlite_ctx, principal_for(sqlite_ctx, "provider-canlian"), "disability", reason="到期") == 1
    assert members.is_dir()  # the uncleared release still counts west = 40 through them
    run = _second(spark, sqlite_ctx, tmp_path, register=True, out="second")
    assert "differencing" in run.rules("by_area", ("west",))
    assert (
        clear(sqlite_ctx, principal_for(sqlite_ctx, "provider-gongan"), "people", reason="到期") == 2
    )  # and "second"
    assert not members.exists()


def test_a_margin_a_table_does_not_show_is_compared_too(spark, home):
    """Without margins, west's cells still add up to its population: 39 beside the earlier 40 would give
    west-7 away, so one of west's cells is withheld."""
    ctx, root = home
    flagged = {"east": 12, "west": 15, "north": 10}
    run = _detail(spark, ctx, root, register=True, out="minus-one", flagged=flagged, skip="west-7")
    west = [run.cell("by_flag", ("west", f)) for f in ("y", "n")]
    assert [c.decision.value for c in west].count("suppressed") >= 1
    assert any("total of its line" in r.en for c in west for r in c.reasons)
    assert run.released("by_flag", ("east", "y")) and run.released("by_flag", ("north", "n"))
