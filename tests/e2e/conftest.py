"""One demo home for the end-to-end tests: ``sandbox demo`` run once, as a user runs it (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
#: What Spark, log4j and the JVM print; none of it may reach a user's terminal.
ENGINE_NOISE = ("WARN ", "INFO ", "ERROR ", "log4j", "SLF4J", "WARNING: Using incubator", "SparkContext",
                "NativeCodeLoader", "Setting default log level", "py4j")  # fmt: skip


@dataclass(frozen=True)
class Demo:
    home: Path
    result: subprocess.CompletedProcess


def user_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "SANDBOX_HOME": str(home), "COLUMNS": "80"}
    env.pop("SANDBOX_DATABASE_URL", None)
    env.pop("SANDBOX_USER", None)
    return env


def engine_noise(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(mark in line for mark in ENGINE_NOISE)]


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Demo:
    home = tmp_path_factory.mktemp("demo") / "home"
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "demo", "--people", "3000"],
        env=user_env(home), capture_output=True, text=True, timeout=900, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    return Demo(home, result)
