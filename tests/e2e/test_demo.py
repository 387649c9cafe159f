"""`sandbox demo` as a user runs it: a real subprocess on a fresh home."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _demo(home, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SANDBOX_HOME": str(home), "COLUMNS": "200"}
    env.pop("SANDBOX_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "demo", "--people", "3000", *extra],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_demo_runs_end_to_end_and_can_run_again(tmp_path):
    home = tmp_path / "home"
    first = _demo(home)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "audit chain intact" in first.stdout
    assert "elderly-care" in first.stdout
    assert sorted(p.name for p in (home / "raw").iterdir()) == sorted(
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
    from sandbox.demo import prepare_home
    from sandbox.settings import Settings

    prepare_home(Settings(home=home))  # a previous demo's home is replaced, not refused
    assert not home.exists()


def test_demo_refuses_a_home_it_did_not_create(tmp_path):
    home = tmp_path / "precious"
    home.mkdir()
    (home / "citizens.csv").write_text("id_number\n110101199003070011\n", encoding="utf-8")
    result = _demo(home)
    assert result.returncode == 2
    assert "will not overwrite" in result.stderr and "不会覆盖" in result.stderr
    assert (home / "citizens.csv").exists()
