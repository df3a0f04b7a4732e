"""Docs generated from code stay true: every command has help and is in the README,
and CI runs exactly the README's test command."""

from pathlib import Path

import click
import pytest

from ledger.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def all_commands(group: click.Group, prefix: str = "ledger") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, full))
        else:
            out.append((full, cmd))
    return out


COMMANDS = all_commands(main)


def test_there_are_commands_to_document():
    assert len(COMMANDS) >= 5


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_has_chinese_help_and_is_documented(name: str, cmd: click.Command):
    assert cmd.help, f"{name} has no help text"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in cmd.help), f"{name} help is not Chinese"
    assert f"`{name}" in README, f"{name} is missing from the README command reference"


def fenced_blocks(text: str) -> list[str]:
    blocks, current, inside = [], [], False
    for line in text.splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append("\n".join(current))
                current = []
            inside = not inside
        elif inside:
            current.append(line)
    return blocks


def test_readme_opens_with_demo_and_test_commands_and_ci_runs_the_test_one():
    demo, tests = fenced_blocks(README)[:2]
    assert "ledger demo" in demo
    assert "pytest" in tests
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert tests.strip() in ci.splitlines()
