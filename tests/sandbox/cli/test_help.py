"""``--help`` describes every argument and option of every command, in Chinese and English."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from sandbox.cli import app

from .test_identifiers import COMMANDS


def test_every_parameter_has_a_bilingual_help_text():
    bare = [
        f"{' '.join(path)} {param.name}"
        for path, command in COMMANDS
        for param in command.params
        if not (param.help and "/" in param.help)
    ]
    assert bare == []


def test_every_command_has_a_bilingual_summary():
    assert [" ".join(path) for path, command in COMMANDS if "/" not in (command.help or "")] == []


def test_version_and_help():
    runner = CliRunner()
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and "Shuyu" in version.output
    root = typer.main.get_command(app)
    assert {"--version", "--as"} <= {o for p in root.params for o in p.opts}


READERS = {"list", "show", "runs", "versions", "log", "logs", "requests", "findings", "token-list", "scorecard",
           "report"}  # fmt: skip


def test_every_listing_and_show_takes_a_format():
    missing = [
        " ".join(path)
        for path, command in COMMANDS
        if path[-1] in READERS and "--format" not in {o for p in command.params for o in p.opts}
    ]
    assert missing == []
    assert sum(1 for path, _ in COMMANDS if path[-1] in READERS) >= 20
