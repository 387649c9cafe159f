"""Every command that takes an identifier refuses traversal before any service or path sees it.

The commands are found by walking the CLI itself, so a command added later is tried too; a second
test keeps every identifier-like parameter typed as an identifier.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from sandbox.cli import app
from sandbox.cli.common import IdParam
from sandbox.domain.identifiers import IdKind

#: Parameter names that carry an identifier of the platform's.
ID_NAMES = {
    "scenario", "scenario_id", "dataset", "product_id", "product", "ticket", "run_id", "submission_id",
    "username", "org", "org_id", "provider", "operator", "consumer", "authorization_id", "admin", "as_user",
    "token_id", "tickets", "datasets",
}  # fmt: skip
VALID = {
    IdKind.SUBMISSION: "0123456789ab", IdKind.RUN: "0123abcd", IdKind.TICKET: "QT-000001",
    IdKind.AUTHORIZATION: "AUTH-2026-0001", IdKind.TOKEN: "0123456789abcdef",
}  # fmt: skip
ESCAPE = "../escaped"


def _leaves(group, path=()) -> Iterator[tuple[tuple[str, ...], object]]:
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _leaves(command, (*path, name))
        else:
            yield (*path, name), command


def _kind(param) -> IdKind | None:
    parser = getattr(param.type_descriptor.parameter_info, "parser", None)
    return parser.kind if isinstance(parser, IdParam) else None


COMMANDS = list(_leaves(typer.main.get_command(app)))


def _argv(path, command, target) -> list[str]:
    """Arguments for ``command``: ``ESCAPE`` for ``target``, plausible values for everything else required."""
    argv = list(path)
    for param in command.params:
        kind = _kind(param)
        value = ESCAPE if param is target else VALID.get(kind, "x1")
        if param.param_type_name == "argument":
            if param.required or param is target:
                argv.append(value)
        elif param is target or (param.required and not param.is_flag):
            argv += [param.opts[0], value]
        elif param.required:  # a required --yes/--no switch
            argv.append(param.opts[0])
    return argv


CASES = [
    pytest.param(path, command, param, id=f"{' '.join(path)} {param.name}")
    for path, command in COMMANDS
    for param in command.params
    if _kind(param) is not None
]


def test_the_walk_finds_the_commands_that_take_identifiers():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("path", "command", "param"), CASES)
def test_traversal_is_refused_by_every_command(tmp_path, monkeypatch, path, command, param):
    home = tmp_path / "home"
    monkeypatch.setenv("SANDBOX_HOME", str(home))
    monkeypatch.delenv("SANDBOX_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--as", "admin", *_argv(path, command, param)])
    assert result.exit_code == 2, result.output
    assert "E110" in result.output and "../escaped" in result.output
    assert not (tmp_path / "escaped").exists() and not home.exists()  # refused before anything was touched


def test_the_acting_user_is_an_identifier_too(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["--as", "../admin", "catalog", "list"])
    assert result.exit_code == 2 and "E110" in result.output


def test_every_identifier_parameter_is_typed_as_one():
    untyped = [
        f"{' '.join(path)} {param.name}"
        for path, command in COMMANDS
        for param in command.params
        if param.name in ID_NAMES and _kind(param) is None
    ]
    assert untyped == []
