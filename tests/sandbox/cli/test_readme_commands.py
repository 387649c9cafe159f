"""The README and the CLI stay in step: every ``sandbox …`` command the README names exists."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from sandbox.cli import app

README = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
#: ``sandbox [--as USER] group[|group…] [command[|command…]]`` in backticks or a code block.
MENTION = re.compile(
    r"sandbox(?: --as [\w-]+)? ((?:[a-z][\w-]*\|)*[a-z][\w-]*)(?: ((?:[a-z][\w-]*\|)*[a-z][\w-]*))?"
)


def code() -> str:
    """The README's code: spans in backticks and fenced blocks."""
    blocks = re.findall(r"```\w*\n(.*?)```", README, flags=re.S)
    return "\n".join([*blocks, *re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.S))])


def mentions() -> set[tuple[str, ...]]:
    found = set()
    for match in MENTION.finditer(code()):
        groups, commands = match.group(1).split("|"), (match.group(2) or "").split("|")
        for group in groups:
            found |= {(group, command) if command else (group,) for command in commands}
    return found


def test_every_command_the_readme_names_exists():
    root = typer.main.get_command(app)
    missing = []
    for mention in sorted(mentions()):
        group = root.commands.get(mention[0])
        if group is None:
            missing.append(" ".join(mention))
            continue
        if len(mention) == 2 and hasattr(group, "commands") and mention[1] not in group.commands:
            missing.append(" ".join(mention))
    assert missing == []
    assert len(mentions()) > 30
