"""Every command the README shows, run on the demo's home as its users would type it.

The README's own code block runs as written (a real process each); the journeys run every other
command the README names, in the order a provider, an operator, a developer, a consumer and an
auditor would, checking exit codes: 0 done, 1 not done, 2 refused. (That every ``sandbox …`` command
the README mentions exists is checked in tests/sandbox/cli/test_readme_commands.py.)
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.cli import app

from .conftest import REPO, engine_noise, user_env

pytestmark = pytest.mark.slow
README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def sb(demo, monkeypatch):
    """``sandbox`` in this process (for speed), as ``user``, on the demo's home; checks the exit code."""
    for key, value in user_env(demo.home).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "80")

    def run(*args: str, user: str | None = None, code: int = 0, logs: bool = False):
        """``logs``: the output is a run's logs, which carry the job process's own traceback."""
        argv = ([] if user is None else ["--as", user]) + list(args)
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == code, f"sandbox {shlex.join(argv)} → {result.exit_code}\n{result.output}"
        assert logs or f'File "{REPO / "sandbox"}' not in result.output  # never a traceback of the CLI's own
        return result

    return run


def shell(demo, command: str, cwd: Path) -> subprocess.CompletedProcess:
    """A command line as a user types it, in a real process; engine log lines must not reach them."""
    env = {**user_env(demo.home), "PATH": f"{REPO / '.venv' / 'bin'}:{user_env(demo.home)['PATH']}"}
    result = subprocess.run(command, shell=True, env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=600)  # fmt: skip
    assert engine_noise(result.stdout + result.stderr) == [], command
    return result


def _readme_block() -> list[str]:
    block = README.split("The home stays in place afterwards", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def test_the_readme_block_runs_as_written(demo, tmp_path):
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    (tmp_path / "jobs").symlink_to(REPO / "jobs")
    lines = _readme_block()
    assert lines[0].startswith("export SANDBOX_HOME=")
    for line in lines[1:]:
        result = shell(demo, line, tmp_path)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
    assert list((tmp_path / "out").glob("elderly_care_hotspots-v*.xlsx"))


def test_platform_and_catalog(sb, demo, tmp_path):
    assert "Shuyu" in sb("--version").output
    assert "已是最新" in sb("init").output
    sb("synth", "--people", "200", "--seed", "3", "--out", str(tmp_path / "county"))
    assert (tmp_path / "county" / "catalog.yaml").exists()
    loaded = sb("catalog", "load", str(demo.home / "deliveries" / "county" / "catalog.yaml"), user="admin")
    assert "datasets added: 0" in loaded.output
    listing = json.loads(sb("catalog", "list", "--format", "json", user="admin").output)
    assert {d["dataset"] for d in listing} >= {"hukou_population", "housing_units"}
    shown = json.loads(
        sb("catalog", "show", "hukou_population", "--format", "json", user="provider-gongan").output
    )
    assert shown["versions"][0]["version"] == 1 and any(c["column"] == "id_number" for c in shown["columns"])
    csv_lines = sb("catalog", "list", "--format", "csv", user="admin").output.splitlines()
    assert csv_lines[0].startswith("dataset,title,provider")


def test_scenario_review_and_consent_journey(sb):
    sb("scenario", "propose", "readme-journey", "--title", "README 场景", "--category", "公共治理",
       "--column", "hukou_population.district_code=按区县汇总", "--column", "hukou_population.gender=按性别统计",
       "--product", "readme_product", "--description", "测试", "--value", "测试", user="operator-1")  # fmt: skip
    sb("scenario", "submit", "readme-journey", user="operator-1")
    requests = json.loads(sb("scenario", "requests", "--format", "json", user="provider-gongan").output)
    assert any(r["scenario"] == "readme-journey" and r["state"] == "pending" for r in requests)
    sb("scenario", "start-review", "readme-journey", user="operator-2")
    sb("scenario", "consent", "readme-journey", "hukou_population", "--grant", "--refuse-column", "gender",
       user="provider-gongan")  # fmt: skip
    sb("scenario", "approve", "readme-journey", "--comment", "最小必要", user="operator-2")
    sb("scenario", "activate", "readme-journey", user="operator-1")
    sb("scenario", "add-developer", "readme-journey", "developer-2", user="operator-1")
    shown = sb("scenario", "show", "readme-journey", user="operator-1").output
    assert "部分同意 partial" in shown and "已启用 active" in shown
    assert "已启用 active" in sb("scenario", "list", user="auditor-1").output
    sb("scenario", "propose", "readme-withdrawn", "--title", "撤回", "--category", "公共治理",
       "--column", "hukou_population.district_code=按区县汇总", "--product", "p", user="operator-1")  # fmt: skip
    sb("scenario", "withdraw", "readme-withdrawn", user="operator-1")
    sb("scenario", "reject", "readme-withdrawn", "--comment", "x", user="operator-2", code=2)  # illegal now


def test_identities_authorizations_and_tokens(sb):
    sb("org", "add", "readme-bank", "--name", "测试银行", "--kind", "consumer", user="admin")
    assert "readme-bank" in sb("org", "list", user="admin").output
    sb("user", "add", "readme-dev", "--org", "xinghe-tech", "--role", "developer", user="admin")
    sb("user", "verify-identity", "readme-dev", user="operator-1")
    sb("user", "file", "readme-dev", "--filing-no", "BA-1", user="operator-1")
    sb("user", "sign-nda", "readme-dev", "--version", "v1", "--signed-on", "2026-12-01", user="operator-1")
    users = json.loads(sb("user", "list", "--format", "json", user="admin").output)
    assert next(u for u in users if u["user"] == "readme-dev")["cleared"] is True
    token = re.search(r"token ([0-9a-f]{16})", sb("user", "token-create", "readme-dev", user="admin").output)[
        1
    ]
    assert token in sb("user", "token-list", user="admin").output
    sb("user", "token-revoke", token, "--reason", "test", user="admin")
    granted = sb("authorization", "grant", "--operator", "yunze-data", "--dataset", "hukou_population",
                 "--starts-on", "2020-01-01", "--ends-on", "2021-12-31", "--content", "历史授权", user="admin")  # fmt: skip
    assert "recorded as expired" in granted.output
    listing = json.loads(sb("authorization", "list", "--format", "json", user="admin").output)
    assert [a["state"] for a in listing].count("expired") == 1
    assert "no authorization is due" in sb("authorization", "expire", user="admin").output
    extra = sb("authorization", "grant", "--operator", "yunze-data", "--dataset", "hukou_population",
               "--starts-on", "2026-01-01", "--ends-on", "2027-12-31", "--content", "补充", user="admin")  # fmt: skip
    auth_id = re.search(r"AUTH-\d{4}-\d{4}", extra.output)[0]
    revoked = sb("authorization", "revoke", auth_id, "--reason", "重复", user="admin").output
    assert "scenarios ended: 无 / none" in revoked  # the demo's own authorization still covers everything


def test_audit_and_disclosure(sb, tmp_path):
    sb("disclose", "--out", str(tmp_path / "disclosure"), user="auditor-1")
    assert (tmp_path / "disclosure" / "disclosure.md").exists()
    log = json.loads(sb("audit", "log", "--limit", "5", "--format", "json", user="auditor-1").output)
    assert len(log) == 5 and all(e["ts"].endswith("+08:00") for e in log)
    sb("audit", "purge", "--before", "2020-01-01", user="admin")
    sb("audit", "purge", "--before", "2026-01-01", user="admin", code=2)  # younger than 3 years
    sb("audit", "verify", user="auditor-1")


def _broken_job(tmp_path: Path, name: str, old: str, new: str) -> Path:
    job = tmp_path / name
    shutil.copytree(REPO / "jobs" / "rental_housing_supply", job)
    code = (job / "job.py").read_text(encoding="utf-8")
    assert old in code
    (job / "job.py").write_text(code.replace(old, new), encoding="utf-8")
    return job


def _submission(output: str) -> str:
    return re.search(r"submitted: ([0-9a-f]{12})", output)[1]


def test_developer_and_reviewer_journey(sb, tmp_path):
    no_entity = _broken_job(tmp_path, "no_entity", '{"rental_dwellings_by_district": frame}',
                            '{"rental_dwellings_by_district": frame.drop("owner_id_number")}')  # fmt: skip
    failed = sb("dev", "run", str(no_entity), user="developer-1", code=1)
    assert "output rental_dwellings_by_district lacks column(s): owner_id_number" in failed.output
    assert "None" not in failed.output
    crashing = _broken_job(tmp_path, "crashing", "    return {", "    x = 1 / 0\n    return {")
    crashed = sb("dev", "run", str(crashing), user="developer-1", code=1)
    assert (
        "ZeroDivisionError" in crashed.output and "x = 1 / 0" in crashed.output
    )  # their traceback, on samples

    submission = _submission(sb("job", "submit", str(no_entity), user="developer-1").output)
    packet = sb("job", "show", submission, user="operator-2").output  # at 80 columns
    lines = (no_entity / "job.py").read_text(encoding="utf-8").splitlines()
    assert max(map(len, lines)) > 80
    for number, line in enumerate(lines, 1):
        assert f"{number:>2} │ {line}" in packet.splitlines()
    sb("job", "review", submission, "--reject", user="operator-2", code=2)  # a rejection needs a comment
    sb("job", "review", submission, "--reject", "--comment", "实体列缺失，请修正", user="operator-2")
    mine = json.loads(sb("job", "list", "--format", "json", user="developer-1").output)
    assert next(s for s in mine if s["submission"] == submission)["review_comment"] == "实体列缺失，请修正"
    assert "实体列缺失" in sb("job", "show", submission, user="developer-1").output

    again = _submission(sb("job", "submit", str(no_entity), user="developer-1").output)
    assert (
        "changes since approved" in sb("job", "show", again, user="operator-2").output
    )  # the demo's approval
    approved = sb("job", "review", again, "--approve", "--comment", "看生产结果", "--max-runs", "1",
                  "--period-days", "30", user="operator-2").output  # fmt: skip
    assert "at most 1 runs" in approved
    promoted = sb("job", "promote", again, user="operator-2", code=1)
    assert "output rental_dwellings_by_district lacks column(s): owner_id_number" in promoted.output
    assert "used up" in sb("job", "promote", again, user="operator-2", code=2).output  # a failed run counts
    (run,) = json.loads(sb("job", "runs", again, "--format", "json", user="developer-1").output)
    assert run["state"] == "failed" and run["error"]["error_line"] is None
    assert run["error"]["reason"]["en"].startswith("output rental_dwellings_by_district lacks")
    logs = sb("job", "logs", run["run"], user="operator-1", logs=True).output
    assert "Traceback (most recent call last)" in logs and "FrameContractError" in logs
    sb("job", "logs", run["run"], user="developer-1", code=2)


def test_consumer_and_product_journey(sb, tmp_path):
    """rental_housing_supply is a sector (行业发展) product: fee-bearing, so exported under terms only."""
    products = json.loads(sb("product", "list", "--format", "json", user="operator-1").output)
    assert {p["product"] for p in products} >= {"elderly_care_hotspots", "rental_housing_supply"}
    assert all(p["released_versions"] for p in products)  # registered at their first release
    shown = sb("product", "show", "rental_housing_supply", user="consumer-1").output
    assert "有偿 fee-bearing" in shown and "已发布 v1 / released v1" in shown
    lineage = json.loads(
        sb("product", "versions", "rental_housing_supply", "--format", "json", user="auditor-1").output
    )
    assert lineage[0]["dataset_versions"] == {"housing_units": 1}
    out = tmp_path / "export"
    sb("product", "export", "rental_housing_supply", "--out", str(out), user="consumer-1", code=2)  # no terms
    sb("product", "terms", "grant", "rental_housing_supply", "--consumer", "yunze-bank", user="operator-1")
    assert "有效 active" in sb("product", "terms", "list", user="consumer-1").output
    sb(
        "product",
        "export",
        "rental_housing_supply",
        "--format",
        "parquet",
        "--out",
        str(out),
        user="consumer-1",
    )
    assert list(out.glob("rental_housing_supply-v1-*.parquet"))
    sb(
        "product",
        "change",
        "rental_housing_supply",
        "--reason",
        "更名",
        "--title",
        "真实房源供给统计",
        user="operator-1",
    )
    sb(
        "product",
        "correct",
        "rental_housing_supply",
        "--reason",
        "错别字",
        "--description",
        "更正",
        user="operator-1",
    )
    applied = sb(
        "product", "redevelop", "apply", "rental_housing_supply", "--purpose", "租赁指数", user="consumer-1"
    )
    number = re.search(r"#(\d+)", applied.output)[1]
    sb("product", "redevelop", "review", number, "--approve", "--comment", "同意", user="operator-2")
    applications = json.loads(
        sb("product", "redevelop", "list", "--format", "json", user="operator-1").output
    )
    assert [a["state"] for a in applications if a["product"] == "rental_housing_supply"] == ["approved"]
    sb(
        "product",
        "register",
        "no_such_job",
        "--title",
        "空壳",
        "--scenario",
        "elderly-care",
        user="operator-1",
        code=2,
    )
    sb("product", "deregister", "rental_housing_supply", "--reason", "停止运营", user="operator-1")
    sb("product", "export", "rental_housing_supply", "--out", str(out), user="consumer-1", code=2)


def _with_control_character(source: Path, target: Path) -> tuple[int, str]:
    """``source`` with U+0001 appended to the first Chinese text cell of its third line; (line, column)."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    column = next(i for i, cell in enumerate(rows[2]) if cell and not cell.isascii())
    rows[2][column] += "\x01"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return 3, rows[0][column]


def test_provider_and_quality_journey(sb, demo, tmp_path):
    delivery = demo.home / "deliveries" / "county" / "hukou_population.csv"
    same = sb("ingest", "hukou_population", str(delivery), user="provider-gongan")
    assert "identical to the current version v1; no new version" in same.output
    line, column = _with_control_character(delivery, tmp_path / "bad.csv")
    refused = sb("ingest", "hukou_population", str(tmp_path / "bad.csv"), user="provider-gongan", code=2)
    assert (
        f"line {line}" in refused.output
        and column in refused.output
        and "kept in quarantine" in refused.output
    )
    shown = json.loads(
        sb("catalog", "show", "hukou_population", "--format", "json", user="provider-gongan").output
    )
    assert shown["quarantine"][-1]["reason"] == "control_character" and len(shown["versions"]) == 1

    assert "quality" in json.loads(
        sb("quality", "scorecard", "--format", "json", user="provider-gongan").output
    )
    report = json.loads(
        sb("quality", "report", "hukou_population", "--format", "json", user="provider-gongan").output
    )
    assert Path(report["html"]).exists()
    assert "rules:" in sb("quality", "suite", "hukou_population", user="provider-gongan").output
    tickets = json.loads(sb("ticket", "list", "--format", "json", user="provider-gongan").output)
    assert len(tickets) >= 2
    first, second = tickets[0]["ticket"], tickets[1]["ticket"]
    assert first in sb("ticket", "show", first, user="provider-gongan").output
    sb("ticket", "ack", first, "--note", "收到", user="provider-gongan")
    assert (
        "已整改 fixed" in sb("ticket", "fix", first, "--note", "已更正源系统", user="provider-gongan").output
    )
    sb("ticket", "dispute", second, "--reason", "规则不适用", user="provider-gongan")
    assert (
        "异议驳回 rejected"
        in sb("ticket", "decide", second, "--reject", "--comment", "规则适用", user="operator-1").output
    )
    raised = sb("ticket", "raise", "hukou_population", "--description", "核对户籍地址", "--column", "address",
                user="operator-1").output  # fmt: skip
    manual = re.search(r"QT-\d{6}", raised)[0]
    sb("ticket", "ack", manual, user="provider-gongan")
    sb("ticket", "fix", manual, "--note", "已核对", user="provider-gongan")
    assert (
        "重新打开 reopened"
        in sb("ticket", "reopen", manual, "--comment", "仍有错误", user="operator-1").output
    )
    sb("ticket", "ack", manual, user="provider-gongan")
    sb("ticket", "fix", manual, "--note", "再次核对", user="provider-gongan")
    assert "已核验 verified" in sb("ticket", "verify", manual, "--comment", "确认", user="operator-1").output
    sb("ticket", "export", str(tmp_path / "tickets.xlsx"), user="provider-gongan")
    assert (tmp_path / "tickets.xlsx").stat().st_size > 0
    sb("ticket", "list", user="provider-canlian")  # another provider sees only its own
    assert first not in sb("ticket", "list", user="provider-canlian").output


def test_slow_commands_show_stages_and_keep_engine_logs_out(demo, tmp_path):
    """``samples build`` and ``quality run`` start Spark in the command's own process: a real process each."""
    built = shell(demo, "python -m sandbox --as operator-1 samples build rental-housing --seed 3", REPO)
    assert built.returncode == 0, built.stderr
    # each stage with the raw rows it works on, read from the store
    assert re.search(r"抽样（[\d,]+ 行） / starting Spark; drawing the sample \([\d,]+ rows\)", built.stderr)
    assert "完成 / done" in built.stderr
    run = shell(demo, "python -m sandbox --as operator-1 quality run housing_units --format json", REPO)
    assert run.returncode == 0, run.stderr
    (summary,) = json.loads(run.stdout)  # stdout stays clean for scripts; the stages went to stderr
    assert summary["dataset"] == "housing_units" and re.search(
        r"evaluating \d+ rules on the raw data \([\d,]+ rows\)", run.stderr
    )
    assert (demo.home / "logs" / "spark.log").stat().st_size > 0


def test_webhook_registration(sb):
    registered = sb("quality", "webhook", "canlian", "https://127.0.0.1:9/hook", user="admin").output
    assert re.search(r"signing key \(shown once\): [0-9a-f]{64}", registered)


def test_dev_run_watch_reruns_when_the_job_changes(demo, tmp_path):
    """``dev run --watch`` shows each run as it comes and runs again when a file of the job changes."""
    import selectors
    import time

    job = tmp_path / "elderly"
    shutil.copytree(REPO / "jobs" / "elderly_care_hotspots", job)
    env = {**user_env(demo.home), "PATH": f"{REPO / '.venv' / 'bin'}:{user_env(demo.home)['PATH']}"}
    process = subprocess.Popen(
        ["python", "-m", "sandbox", "--as", "developer-1", "dev", "run", "--watch", str(job)],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
    )  # fmt: skip
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)

    seen: list[str] = []  # the output so far, as it came
    runs = [0]  # "took" lines consumed by earlier waits

    def until_took(deadline: float) -> bool:
        """Wait for one more finished run. Reads the pipe unbuffered: a line left in a reader's buffer
        is one ``select`` never reports again."""
        while time.monotonic() < deadline:
            if "".join(seen).count("took") > runs[0]:
                runs[0] += 1
                return True
            if selector.select(timeout=1):
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:  # the command ended
                    return False
                seen.append(chunk.decode("utf-8", errors="replace"))
        return False

    def what_happened() -> str:  # the command's output and the worker's log, for a failure to explain itself
        logs = sorted((demo.home / "work").glob("dev-developer-1-*/dev.log"))
        tail = logs[-1].read_text(encoding="utf-8")[-3000:] if logs else "(no dev.log)"
        return "".join(seen)[-3000:] + "\n--- dev.log ---\n" + tail

    try:
        assert until_took(time.monotonic() + 240), f"no first run\n{what_happened()}"
        (job / "job.py").write_text(
            (job / "job.py").read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8"
        )
        assert until_took(time.monotonic() + 120), f"no run after the change\n{what_happened()}"
    finally:
        process.kill()  # the hardest way to leave: no handler of the command's runs
        process.wait(timeout=30)
    deadline = time.monotonic() + 30  # the watching worker ends with it (and its JVM with the worker)
    while _workers(demo.home) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _workers(demo.home) == []


def _workers(home: Path) -> list[str]:
    found = subprocess.run(
        ["pgrep", "-f", f"sandbox.runtime.devworker {home}"], capture_output=True, text=True
    )
    return found.stdout.split()
