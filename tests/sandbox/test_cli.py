"""The `sandbox` command as a user runs it: bilingual errors, exit codes, audit verify."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from sandbox.cli import app

MINI = Path(__file__).parents[1] / "fixtures" / "mini_catalog.yaml"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SANDBOX_HOME", str(home))
    monkeypatch.delenv("SANDBOX_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "220")
    return home


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_commands_refuse_an_uninitialised_home(home):
    result = run("catalog", "list")
    assert result.exit_code == 2
    assert "尚未初始化" in result.output and "not initialised" in result.output


def test_init_load_list_show_verify(home):
    assert run("init").exit_code == 0
    assert (home / "secrets" / "platform.key").exists()
    result = run("--as", "admin", "catalog", "load", str(MINI))
    assert result.exit_code == 0, result.output
    listing = run("--as", "admin", "catalog", "list")
    assert "people" in listing.output and "disability" in listing.output
    shown = run("--as", "admin", "catalog", "show", "people")
    assert "公民身份号码" in shown.output and "cn_resident_id" in shown.output
    verified = run("--as", "admin", "audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output
    log = run("--as", "admin", "audit", "log")
    assert "dataset.registered" in log.output


def test_bad_catalog_is_a_bilingual_error(home, tmp_path):
    run("init")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINI.read_text(encoding="utf-8").replace(
            "role: quasi_id, code_table: gender", "role: qid, code_table: gender"
        ),
        encoding="utf-8",
    )
    result = run("--as", "admin", "catalog", "load", str(bad))
    assert result.exit_code == 2
    assert "未知角色 'qid'" in result.output and "unknown role 'qid'" in result.output


def test_audit_verify_fails_after_tampering(home):
    run("init")
    run("--as", "admin", "catalog", "load", str(MINI))
    engine = create_engine(f"sqlite:///{home / 'shuyu.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
    engine.dispose()
    result = run("--as", "admin", "audit", "verify")
    assert result.exit_code == 1
    assert "event 2" in result.output


def test_commands_need_an_acting_user_with_the_right_role(home):
    run("init")
    nobody = run("catalog", "load", str(MINI))
    assert nobody.exit_code == 2 and "--as" in nobody.output
    assert run("--as", "admin", "org", "add", "bank", "--name", "银行", "--kind", "consumer").exit_code == 0
    assert (
        run("--as", "admin", "user", "add", "consumer-1", "--org", "bank", "--role", "consumer").exit_code
        == 0
    )
    refused = run("--as", "consumer-1", "catalog", "load", str(MINI))
    assert refused.exit_code == 2 and "无权" in refused.output and "may not" in refused.output
    assert run("--as", "consumer-1", "audit", "verify").exit_code == 2
    bad_kind = run("--as", "admin", "org", "add", "x", "--name", "x", "--kind", "bank")
    assert bad_kind.exit_code == 2 and "invalid --kind" in bad_kind.output
    bad_date = run("--as", "admin", "audit", "purge", "--before", "2020-13-01")
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    too_young = run("--as", "admin", "audit", "purge", "--before", "2025-01-01")
    assert too_young.exit_code == 2 and "3 years" in too_young.output
    log = run("--as", "admin", "audit", "log", "--limit", "50")
    assert log.output.count("refused") >= 3


def test_ingest_reports_identical_redelivery_and_refuses_control_characters(home, tmp_path):
    run("init")
    run("--as", "admin", "catalog", "load", str(MINI))
    upload = tmp_path / "people.csv"
    upload.write_text("id_number,name,gender,birth_date,district_code,income,updated_at\n"
                      "429901199001010011,张三,1,1990-01-01,429901,3000,2024-01-01 08:00:00\n", encoding="utf-8")  # fmt: skip
    first = run("--as", "admin", "ingest", "people", str(upload))
    assert first.exit_code == 0 and "people v1:" in first.output
    again = run("--as", "admin", "ingest", "people", str(upload))
    assert again.exit_code == 0, again.output
    assert "identical to the current version v1" in again.output and "逐字节相同" in again.output
    upload.write_text(upload.read_text(encoding="utf-8").replace("张三", "张\x07三"), encoding="utf-8")
    refused = run("--as", "admin", "ingest", "people", str(upload))
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "line 2 column name" in refused.output and "控制字符" in refused.output
    assert "kept in quarantine" in refused.output


def test_an_error_message_with_brackets_prints_whole(home, tmp_path):
    """Messages are text, not markup: a manifest error naming ``[inputs.population]`` keeps it."""
    run("init")
    job = tmp_path / "job"
    job.mkdir()
    (job / "job.py").write_text("def build(ctx):\n    return {}\n", encoding="utf-8")
    (job / "job.toml").write_text(
        'id = "j"\ntitle = "t"\nscenario = "s"\n[inputs.population]\ncolumns = ["a"]\n'
        '[outputs.o]\nentity = "a"\ndimensions = []\nmeasures = []\n',
        encoding="utf-8",
    )
    result = run("--as", "admin", "job", "submit", str(job))
    assert result.exit_code == 2
    assert "job.toml [inputs.population]: must name a dataset" in result.output
