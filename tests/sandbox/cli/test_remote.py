"""The CLI as a client: ``sandbox serve`` on loopback, ``sandbox login`` with a password, commands over
HTTP with the service's own bilingual errors, local-only commands refused with ``--server``, and a
served home where local ``--as`` is for administrators only. Real processes, real sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.service import ingest
from sandbox.cli import app
from sandbox.domain.identity import Role
from sandbox.governance import identities, passwords, scenarios
from sandbox.quality import tickets
from sandbox.samples.card import card_markdown
from sandbox.store.models import QualityRunRow, SampleVersionRow
from tests.conftest import cli_env
from tests.sandbox.api.test_developer import CARD
from tests.sandbox.governance.conftest import Cast, build_cast
from tests.sandbox.governance.test_scenarios import propose, walk_to_active
from tests.sandbox.products.conftest import (
    JOB_PY,
    JOB_TOML,
    activate_fee_bearing,
    approved_job,
    released_product,
)

PASSWORD = "long enough password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.fixture
def server(sqlite_ctx, tmp_path):
    build_cast(sqlite_ctx)
    env = cli_env(sqlite_ctx, SANDBOX_CONFIG_DIR=str(tmp_path / "config"), COLUMNS="80")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"sandbox serve did not answer: {process.communicate()[1][-2000:]}")
    workers = children(process.pid)
    assert len(workers) == 1  # serve started its task worker
    try:
        yield url, env, sqlite_ctx
    finally:
        process.terminate()
        process.wait(timeout=30)
        deadline = time.monotonic() + 60
        while any(map(alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if alive(pid)], "the worker outlived serve"


def alive(pid: int) -> bool:
    """Running, not merely unreaped: once serve is gone the worker's parent is whatever reaps orphans here,
    and a container's init may leave it a zombie for a while."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_login_then_commands_go_through_the_service(server):
    url, env, _ctx = server
    assert sandbox(env, "--as", "admin", "user", "set-password", "operator-1", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0  # fmt: skip
    remote = {**env, "SANDBOX_SERVER": url}
    wrong = sandbox(remote, "login", "--user", "operator-1", "--password-stdin", stdin="not the password\n")
    assert (
        wrong.returncode == 2
        and "用户名或密码错误" in wrong.stderr
        and "wrong user name or password" in wrong.stderr
    )
    signed_in = sandbox(remote, "login", "--user", "operator-1", "--password-stdin", stdin=PASSWORD + "\n")
    assert signed_in.returncode == 0, signed_in.stderr
    stored = os.path.join(env["SANDBOX_CONFIG_DIR"], "credentials.json")
    assert oct(os.stat(stored).st_mode & 0o777) == "0o600"
    me = json.loads(sandbox(remote, "whoami", "--format", "json").stdout)
    assert me["user"] == "operator-1" and me["roles"] == ["operator"]
    assert sandbox(remote, "task", "list", "--format", "json").stdout.strip() == "[]"
    missing = sandbox(remote, "task", "show", "nope")
    assert missing.returncode == 2 and "E201" in missing.stderr
    local_only = sandbox(remote, "audit", "purge", "--before", "2020-01-01")
    assert local_only.returncode == 2 and "runs on the platform host only" in local_only.stderr
    second = sandbox(env, "--as", "admin", "worker", "--until-idle")  # serve's worker holds the home
    assert second.returncode == 2 and "a worker is already running" in second.stderr
    assert sandbox(remote, "logout").returncode == 0
    after = sandbox(remote, "whoami")
    assert after.returncode == 2 and "not signed in" in after.stderr


def test_a_served_home_lets_only_administrators_act_locally(server):
    _url, env, _ctx = server
    assert sandbox(env, "--as", "admin", "init", "--served").returncode == 0
    refused = sandbox(env, "--as", "operator-1", "whoami")
    assert refused.returncode == 2 and "--server" in refused.stderr and "管理员" in refused.stderr
    assert json.loads(sandbox(env, "--as", "admin", "whoami", "--format", "json").stdout)["user"] == "admin"


# -- the same command, locally and through the service -------------------------------------------

SIGNED_IN = ("admin", "operator-1", "operator-2", "developer-1", "provider-gongan", "provider-canlian",
             "consumer-1")  # fmt: skip


@dataclass
class Twins:
    """One home, two ways in: ``--as USER`` on the home, and ``--server URL`` as USER signed in by
    ``sandbox login`` (each user with their own config directory). In-process, so it is quick."""

    url: str
    env: dict[str, str]
    ctx: object
    config: Path

    def local(self, user: str, *args: str):
        return CliRunner().invoke(app, ["--as", user, *args], env=self.env)

    def remote(self, user: str, *args: str, stdin: str | None = None):
        env = {**self.env, "SANDBOX_CONFIG_DIR": str(self.config / user)}
        return CliRunner().invoke(app, ["--server", self.url, *args], env=env, input=stdin)

    def both(self, user: str, *args: str):
        """Both forms' results, having checked they printed the same and exited alike."""
        here, there = self.local(user, *args), self.remote(user, *args)
        assert (here.exit_code, here.stdout) == (there.exit_code, there.stdout), (
            f"{user}: sandbox {' '.join(args)}\n--- local ({here.exit_code}) ---\n{here.output}"
            f"\n--- remote ({there.exit_code}) ---\n{there.output}"
        )
        return here, there


@pytest.fixture
def twins(server, tmp_path) -> Twins:
    """elderly-care active with developer-1 on it, a released product of developer-1's approved job, a
    correction request on canlian's ``disability``; the signed-in users have web passwords and tokens."""
    url, env, ctx = server
    cast = Cast(ctx)
    walk_to_active(cast)
    scenarios.add_member(ctx, cast("operator-1"), "elderly-care", "developer-1")
    released_product(cast, "level_counts")
    tickets.raise_request(ctx, cast("operator-1"), "disability", "等级取值需核对", column="level")
    twins = Twins(url, env, ctx, tmp_path / "configs")
    for user in SIGNED_IN:
        passwords.set_password(ctx, cast("admin"), user, PASSWORD)
        signed_in = twins.remote(user, "login", "--user", user, "--password-stdin", stdin=PASSWORD + "\n")
        assert signed_in.exit_code == 0, signed_in.output
    return twins


READS = [
    ("operator-1", "catalog", "list"),
    ("operator-1", "catalog", "show", "people"),
    ("provider-gongan", "catalog", "list"),
    ("provider-gongan", "catalog", "show", "people"),
    ("operator-1", "scenario", "list"),
    ("developer-1", "scenario", "list"),
    ("developer-1", "scenario", "show", "elderly-care"),
    ("provider-gongan", "scenario", "requests"),
    ("operator-1", "job", "list"),
    ("developer-1", "job", "list"),
    ("operator-1", "job", "runs"),
    ("developer-1", "job", "runs"),
    ("operator-1", "product", "list"),
    ("consumer-1", "product", "list"),
    ("consumer-1", "product", "show", "level_counts"),
    ("operator-1", "product", "versions", "level_counts"),
    ("operator-1", "product", "terms", "list"),
    ("operator-1", "product", "redevelop", "list"),
    ("operator-1", "ticket", "list"),
    ("provider-canlian", "ticket", "list"),
    ("provider-canlian", "ticket", "show", "QT-000001"),
    ("provider-canlian", "quality", "scorecard"),
    ("operator-1", "register", "list"),
    ("operator-1", "org", "list"),
    ("operator-1", "user", "list"),
    ("operator-1", "user", "token-list"),
    ("operator-1", "authorization", "list"),
    ("operator-1", "samples", "findings"),
    ("operator-1", "audit", "log", "--limit", "30"),
]


def test_reads_print_the_same_locally_and_through_the_service(twins):
    shown = {}
    for user, *command in READS:
        for fmt in ("csv", "json"):
            here, _there = twins.both(user, *command, "--format", fmt)
            assert here.exit_code == 0, here.output
        shown[(user, *command)] = json.loads(here.stdout)
    for key in [("operator-1", "catalog", "list"), ("developer-1", "scenario", "list"), ("developer-1", "job", "list"),
                ("operator-1", "job", "runs"), ("consumer-1", "product", "list"), ("provider-canlian", "ticket", "list"),
                ("operator-1", "user", "list"), ("operator-1", "authorization", "list")]:  # fmt: skip
        assert shown[key], key  # something was compared
    assert len(shown[("operator-1", "audit", "log", "--limit", "30")]) == 30
    submission = shown[("developer-1", "job", "list")][0]["submission"]
    for user in ("developer-1", "operator-1"):
        twins.both(user, "job", "show", submission, "--format", "json")
        twins.both(user, "job", "show", submission)  # the code, numbered, and the check
    twins.both("provider-canlian", "quality", "suite", "disability")
    assert twins.both("operator-1", "audit", "verify")[0].exit_code == 0


PEOPLE_CSV = (
    "id_number,name,gender,birth_date,district_code,income,updated_at\n"
    "110101199003074514,张三,1,1990-03-07,429901,3200,2024-01-01 08:00:00\n"
    "110101198506061234,李四,2,1985-06-06,429902,4100,2024-01-02 09:00:00\n"
)


def _code(stderr: str) -> str:
    return stderr.split("错误 ", 1)[1].split("：", 1)[0]


def test_refusals_are_the_same_refusals(twins, tmp_path):
    upload = tmp_path / "people.csv"
    upload.write_text(PEOPLE_CSV, encoding="utf-8")
    for user, *command in [
        ("provider-canlian", "ingest", "people", str(upload)),  # another provider's dataset
        ("provider-gongan", "ticket", "ack", "QT-000001"),  # canlian's ticket: as if there were none
        ("operator-1", "scenario", "show", "nowhere"),
    ]:
        here, there = twins.both(user, *command)
        assert here.exit_code == 2 and _code(here.stderr) == _code(there.stderr), (here.stderr, there.stderr)
    # a developer calling an operator's command: on the host the service refuses (E600); through the
    # service its front door does, before any service runs (E603, the endpoint's rule): both exit 2
    submission = json.loads(twins.local("developer-1", "job", "list", "--format", "json").stdout)[0][
        "submission"
    ]
    here, there = twins.both("developer-1", "job", "review", submission, "--approve")
    assert here.exit_code == 2 and (_code(here.stderr), _code(there.stderr)) == ("E600", "E603")
    # the platform host's own commands refuse through a service, and so does dev run --watch
    for command in (["init"], ["synth"], ["demo"], ["serve"], ["worker"], ["catalog", "load", "catalog.yaml"],
                    ["audit", "purge", "--before", "2020-01-01"], ["user", "set-password", "developer-1"]):  # fmt: skip
        refused = twins.remote("developer-1", *command)
        assert refused.exit_code == 2 and _code(refused.stderr) == "E100", (command, refused.output)
        assert "runs on the platform host only" in refused.stderr
    watch = twins.remote("developer-1", "dev", "run", str(tmp_path), "--watch")
    assert watch.exit_code == 2 and "--watch runs on the platform host only" in watch.stderr


def test_an_upload_is_ingested_by_the_served_worker_and_reported_as_locally(twins, tmp_path):
    upload = tmp_path / "people.csv"
    upload.write_text(PEOPLE_CSV, encoding="utf-8")
    delivered = twins.remote("provider-gongan", "ingest", "people", str(upload))
    assert delivered.exit_code == 0, delivered.output
    shown = json.loads(twins.local("provider-gongan", "catalog", "show", "people", "--format", "json").stdout)
    (version,) = shown["versions"]
    printed = f"people v1: 2 行 / rows, schema {version['schema_hash'][:12]}, sha256 {version['content_sha256'][:12]}"
    assert delivered.stdout == f"{printed} ({version['engine']})\n"  # what the local ingest prints of it
    again, _ = twins.both("provider-gongan", "ingest", "people", str(upload))  # byte-identical, both ways
    assert "identical to the current version v1" in again.stdout
    queued = twins.remote("provider-gongan", "ingest", "people", str(upload), "--no-wait")
    assert queued.exit_code == 0 and "task show" in queued.stdout
    task_id = queued.stdout.split("task ", 1)[1].split("；", 1)[0]
    followed = twins.remote("provider-gongan", "task", "show", task_id, "--follow", "--format", "json")
    assert followed.exit_code == 0 and json.loads(followed.stdout)["result"]["identical"] is True


def _alike(here, there, *pairs: tuple[str, str]) -> None:
    """The local and the remote form of one action on two like objects printed alike (``pairs``: what differs)."""
    assert here.exit_code == there.exit_code == 0, (here.output, there.output)
    text = there.stdout
    for theirs, ours in pairs:
        text = text.replace(theirs, ours)
    assert text == here.stdout


def test_actions_through_the_service_print_what_they_print_locally(twins, tmp_path):
    local, remote = twins.local, twins.remote
    cast = Cast(twins.ctx)
    # a scenario each way through review: start, consent, approve
    for scenario_id in ("hotspots-a", "hotspots-b"):
        propose(cast, scenario_id)
        scenarios.submit(twins.ctx, cast("operator-1"), scenario_id)
    pair = ("hotspots-a", "hotspots-b")
    _alike(local("operator-2", "scenario", "start-review", "hotspots-b"),
           remote("operator-2", "scenario", "start-review", "hotspots-a"), pair)  # fmt: skip
    for user, dataset in (("provider-gongan", "people"), ("provider-canlian", "disability")):
        _alike(local(user, "scenario", "consent", "hotspots-b", dataset, "--grant"),
               remote(user, "scenario", "consent", "hotspots-a", dataset, "--grant"), pair)  # fmt: skip
    _alike(local("operator-2", "scenario", "approve", "hotspots-b", "--comment", "可"),
           remote("operator-2", "scenario", "approve", "hotspots-a", "--comment", "可"), pair)  # fmt: skip
    twins.both("operator-1", "scenario", "show", "hotspots-a", "--format", "json")
    # a correction request each way, answered by its provider and decided by an operator
    first = remote(
        "operator-1", "ticket", "raise", "disability", "--description", "等级编码需核对", "--column", "level"
    )
    second = local(
        "operator-1", "ticket", "raise", "disability", "--description", "等级编码需核对", "--column", "level"
    )
    pair = ("QT-000002", "QT-000003")
    _alike(second, first, pair)
    for command in (["ack"], ["dispute", "--reason", "编码符合国标"]):
        _alike(local("provider-canlian", "ticket", *command[:1], "QT-000003", *command[1:]),
               remote("provider-canlian", "ticket", *command[:1], "QT-000002", *command[1:]), pair)  # fmt: skip
    _alike(local("operator-1", "ticket", "decide", "QT-000003", "--uphold", "--comment", "异议成立"),
           remote("operator-1", "ticket", "decide", "QT-000002", "--uphold", "--comment", "异议成立"), pair)  # fmt: skip
    exported = [tmp_path / "here.csv", tmp_path / "there.csv"]
    _alike(local("provider-canlian", "ticket", "export", str(exported[0])),
           remote("provider-canlian", "ticket", "export", str(exported[1])), (str(exported[1]), str(exported[0])))  # fmt: skip
    assert exported[0].read_bytes() == exported[1].read_bytes()
    # clearance records of a new developer, then the user listing
    identities.create_user(twins.ctx, cast("admin"), "developer-9", "开发九", "dev-org", {Role.DEVELOPER})
    for command in (["verify-identity"], ["file", "--filing-no", "BA-2026-0009"],
                    ["sign-nda", "--version", "v1.0", "--signed-on", "2026-03-01"]):  # fmt: skip
        done = remote("operator-1", "user", command[0], "developer-9", *command[1:])
        assert done.exit_code == 0 and done.stdout.startswith("developer-9: "), done.output
    assert [u["cleared"] for u in json.loads(twins.both("operator-1", "user", "list", "--format", "json")[0].stdout)
            if u["user"] == "developer-9"] == [True]  # fmt: skip
    # an authorization granted each way, one revoked; tokens
    grants = [("op-org", "2026-01-01", "2026-12-31"), ("op-org", "2027-01-01", "2027-12-31")]
    answers = [
        form("admin", "authorization", "grant", "--operator", org, "--dataset", "people", "--starts-on", starts,
             "--ends-on", ends, "--content", "人口数据")
        for form, (org, starts, ends) in zip((local, remote), grants, strict=True)
    ]  # fmt: skip
    ids = [a.stdout.split("granted: ", 1)[1].split("（", 1)[0] for a in answers]
    _alike(answers[0], answers[1], (ids[1], ids[0]), ("2027", "2026"))
    revoked = remote("admin", "authorization", "revoke", ids[1], "--reason", "不再需要")
    assert revoked.exit_code == 0 and revoked.stdout.startswith(f"{ids[1]}: "), revoked.output
    twins.both("operator-1", "authorization", "list", "--format", "json")
    issued = remote("consumer-1", "user", "token-create", "consumer-1", "--days", "2", "--label", "脚本")
    token_id = issued.stdout.split("令牌 / token ", 1)[1].split(":", 1)[0]
    assert token_id in twins.both("consumer-1", "user", "token-list", "--format", "json")[0].stdout
    assert remote("consumer-1", "user", "token-revoke", token_id).stdout == f"已吊销 / revoked: {token_id}\n"
    # a product export, and the disclosure report, written where asked
    out = [tmp_path / "export-here", tmp_path / "export-there"]
    _alike(local("consumer-1", "product", "export", "level_counts", "--out", str(out[0])),
           remote("consumer-1", "product", "export", "level_counts", "--out", str(out[1])), (str(out[1]), str(out[0])))  # fmt: skip
    assert sorted(p.name for p in out[0].iterdir()) == sorted(p.name for p in out[1].iterdir())
    reports = [tmp_path / "disclosure-here", tmp_path / "disclosure-there"]
    _alike(local("operator-1", "disclose", "--out", str(reports[0])),
           remote("operator-1", "disclose", "--out", str(reports[1])), (str(reports[1]), str(reports[0])))  # fmt: skip
    here, there = (json.loads((r / "disclosure.json").read_text(encoding="utf-8")) for r in reports)
    assert {**there, "generated_at": None} == {**here, "generated_at": None}
    assert (reports[1] / "disclosure.md").read_text(encoding="utf-8").startswith("#")
    # a job folder submitted each way: uploaded whole, its hash is the same
    folders = [tmp_path / "job-here", tmp_path / "job-there"]
    for folder in folders:
        folder.mkdir()
        (folder / "job.toml").write_text(
            JOB_TOML.format(job_id="level_mix", scenario="elderly-care"), encoding="utf-8"
        )
        (folder / "job.py").write_text(JOB_PY, encoding="utf-8")
    submitted = [
        form("developer-1", "job", "submit", str(f)) for form, f in zip((local, remote), folders, strict=True)
    ]
    ids = [s.stdout.split("submitted: ", 1)[1].split("（", 1)[0] for s in submitted]
    _alike(submitted[0], submitted[1], (ids[1], ids[0]))
    # a fee-bearing product registered through the service, its terms granted
    activate_fee_bearing(cast)
    approved_job(cast, "credit_levels", "credit")
    registered = remote(
        "operator-1", "product", "register", "credit_levels", "--title", "信贷等级", "--scenario", "credit"
    )
    assert registered.exit_code == 0 and "有偿 fee-bearing" in registered.stdout, registered.output
    granted = remote("operator-1", "product", "terms", "grant", "credit_levels", "--consumer", "bank")
    assert granted.exit_code == 0 and "credit_levels → bank" in granted.stdout, granted.output
    twins.both("consumer-1", "product", "terms", "list", "--format", "json")
    applied = remote("consumer-1", "product", "redevelop", "apply", "level_counts", "--purpose", "信贷模型")
    assert applied.exit_code == 0 and applied.stdout.startswith("已提交再开发申请"), applied.output
    twins.both("consumer-1", "product", "redevelop", "list", "--format", "json")
    # a quality report and the scorecard; through the service the report is read at the service's addresses
    upload = tmp_path / "people.csv"
    upload.write_text(PEOPLE_CSV, encoding="utf-8")
    ingest(twins.ctx, cast("admin"), "people", [upload])
    with twins.ctx.transaction() as session:  # a finished run, as the runner records one
        session.add(QualityRunRow(
            id="run0001", dataset_id="people", provider_id="gongan", version=1, as_of="2026-03-01",
            suite_source="catalog", suite_sha256="0" * 64, row_count=2, score=87.5,
            dimension_scores_json=json.dumps({"完整性": 100.0, "准确性": 75.0}, ensure_ascii=False),
            gx_success=False, gx_result_path="tickets/gongan/people/runs/run0001/docs/index.html",
            keys_path="tickets/gongan/people/runs/run0001/failing", started_by="operator-1",
            started_at=utc_now_iso(), finished_at=utc_now_iso()))  # fmt: skip
    for fmt in ("json", "table"):
        twins.both("provider-gongan", "quality", "scorecard", "--format", fmt)
    here, there = (
        form("provider-gongan", "quality", "report", "people", "--format", "json") for form in (local, remote)
    )
    assert here.exit_code == there.exit_code == 0, (here.output, there.output)
    here, there = json.loads(here.stdout), json.loads(there.stdout)
    assert there["html"] == f"{twins.url}/api/v1/provider/datasets/people/quality.html"
    assert {**there, "html": None, "json": None} == {**here, "html": None, "json": None}
    # a sample card (as a build records it): through the service without host paths, the same card
    with twins.ctx.transaction() as session:
        session.add(SampleVersionRow(scenario_id="elderly-care", version=1, authorization_id="AUTH-2026-0001", seed=7,
                                     state="current", card_json=json.dumps(CARD), created_by="operator-1",
                                     created_at=utc_now_iso()))  # fmt: skip
    card = json.loads(remote("developer-1", "samples", "show", "elderly-care", "--format", "json").stdout)
    assert card == {**CARD, "paths": None}
    markdown = remote("operator-1", "samples", "show", "elderly-care", "--markdown")
    assert markdown.exit_code == 0 and markdown.stdout == card_markdown(CARD) + "\n"
