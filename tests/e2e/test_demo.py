"""`sandbox demo` as a user runs it: a real subprocess on a fresh home."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import engine_noise, user_env

pytestmark = pytest.mark.slow


def _demo(home, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "demo", "--people", "3000", *extra],
        env=user_env(home), capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_demo_runs_end_to_end(demo):
    out = demo.result.stdout
    assert "audit chain intact" in out
    assert "elderly-care" in out
    assert sorted(p.name for p in (demo.home / "raw").iterdir()) == sorted(
        [
            "hukou_population",
            "enterprises",
            "admin_penalties",
            "social_insurance",
            "real_estate",
            "marriage_registration",
            "disability_records",
            "elderly_care_institutions",
            "housing_fund",
            "housing_units",
            "elderly_people",
        ]  # fmt: skip
    )


def test_no_engine_log_line_reaches_the_terminal(demo):
    """Spark's, log4j's and the JVM's lines go to the home's logs, never to the user's terminal."""
    assert engine_noise(demo.result.stdout + demo.result.stderr) == []
    assert (demo.home / "logs" / "spark.log").stat().st_size > 0


def test_a_previous_demo_home_is_replaced(tmp_path):
    from sandbox.context import PlatformContext
    from sandbox.demo import prepare_home
    from sandbox.settings import Settings

    settings = Settings(home=tmp_path / "home")
    PlatformContext(settings).init_home(demo=True)
    prepare_home(settings)  # a previous demo's home is replaced, not refused
    assert not settings.home_dir.exists()


def test_demo_refuses_a_home_it_did_not_create(tmp_path):
    home = tmp_path / "precious"
    home.mkdir()
    (home / "citizens.csv").write_text("id_number\n110101199003070011\n", encoding="utf-8")
    result = _demo(home)
    assert result.returncode == 2
    assert "will not overwrite" in result.stderr and "不会覆盖" in result.stderr
    assert (home / "citizens.csv").exists()


def test_demo_ends_with_the_web_address_and_sign_ins_that_work(demo):
    from sandbox.context import PlatformContext
    from sandbox.governance.passwords import check_password
    from sandbox.settings import Settings

    out = demo.result.stdout
    assert "sandbox serve" in out and "http://127.0.0.1:8000/" in out
    kept = dict(line.split("\t") for line in (demo.home / "demo-passwords.txt").read_text().splitlines())
    assert {"admin", "operator-1", "developer-1", "consumer-1", "auditor-1"} <= set(kept)
    assert all(password in out for password in kept.values())
    assert oct((demo.home / "demo-passwords.txt").stat().st_mode & 0o777) == "0o600"
    ctx = PlatformContext(Settings(home=demo.home))
    assert check_password(ctx, "operator-1", kept["operator-1"]).username == "operator-1"
    ctx.engine.dispose()
