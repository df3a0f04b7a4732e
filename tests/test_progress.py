"""Long commands show their progress on stderr when it is a terminal (a pseudo-terminal here),
and nothing extra when stderr is a pipe or the output is JSON."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CG, JT, ZJ, filled, make_workspace, small_registry

from ledger.progress import QUIET, Progress, on_terminal, shows

LEDGER = [sys.executable, "-m", "ledger"]
W23 = ["-p", "351", "--period", "2022-W23"]


class Recorder(Progress):
    """What a stage told its progress."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.what = ""
        self.done: list[tuple[str, int]] = []

    def start(self, total: int, what: str) -> None:
        self.total, self.what = total, what

    def advance(self, current: str = "", n: int = 1) -> None:
        self.done.append((current, n))

    @property
    def count(self) -> int:
        return sum(n for _, n in self.done)


def on_pty(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run *args* with stderr on a pseudo-terminal: exit code, stdout, what the terminal showed."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=120)
    os.close(master)
    return code, out, shown.decode("utf-8", "replace")


@pytest.fixture()
def inbox(ws, tmp_path: Path) -> Path:
    for unit in (JT, CG, ZJ):
        filled(ws, unit, tmp_path / "inbox")
    return tmp_path / "inbox"


def test_a_terminal_shows_done_total_the_current_file_and_time_left(ws, inbox: Path) -> None:
    code, out, shown = on_pty([*LEDGER, "-w", str(ws.root), "generate", *W23], ws.root)
    assert code == 0 and "已生成 3 个工作台账" in out
    assert "生成台账（台账）" in shown and "3/3" in shown and "剩余" in shown
    assert "已生成" not in shown  # the report itself goes to stdout
    code, out, shown = on_pty([*LEDGER, "-w", str(ws.root), "collect", str(inbox), *W23], ws.root)
    assert "收到 3 个文件" in out
    assert "收取（文件）" in shown and "3/3" in shown and "工作台账.xlsx" in shown  # the file being collected
    code, out, shown = on_pty([*LEDGER, "-w", str(ws.root), "consolidate", *W23], ws.root)
    assert code == 0 and "汇总（步骤）" in shown and "3/3" in shown


@pytest.mark.parametrize("command", [["generate", *W23], ["consolidate", *W23]])
def test_nothing_extra_on_a_pipe_or_with_json(ws, command: list[str]) -> None:
    piped = subprocess.run([*LEDGER, "-w", str(ws.root), *command], cwd=ws.root, capture_output=True, text=True,
                           timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""
    code, out, shown = on_pty([*LEDGER, "-w", str(ws.root), *command, "--json"], ws.root)
    assert code == 0 and out.lstrip().startswith("{") and shown == ""


def test_collect_piped_or_json_prints_no_progress(ws, inbox: Path) -> None:
    piped = subprocess.run([*LEDGER, "-w", str(ws.root), "collect", str(inbox), *W23], cwd=ws.root,
                           capture_output=True, text=True, timeout=120)
    assert "收到 3 个文件" in piped.stdout and piped.stderr == ""
    code, out, shown = on_pty([*LEDGER, "-w", str(ws.root), "collect", str(inbox), *W23, "--json"], ws.root)
    assert out.lstrip().startswith("{") and shown == ""


def test_the_bar_is_only_for_a_terminal(tmp_path: Path) -> None:
    with open(tmp_path / "log", "w") as log:
        assert not shows(stream=log)
    with on_terminal("收取") as progress:  # pytest captures stderr: not a terminal
        assert progress is QUIET


def test_stages_count_what_they_do(tmp_path: Path) -> None:
    """The library's stages say how many items there are and report each one."""
    from ledger.collect.api import collect
    from ledger.consolidate.api import consolidate
    from ledger.generate import generate
    from ledger.run import Run

    ws = make_workspace(tmp_path / "ws", small_registry())
    made = Recorder()
    generate(Run.open(ws, "351", "2022-W23"), progress=made)
    assert (made.total, made.what, made.count) == (3, "台账", 3)
    assert {name for name, _ in made.done} == {JT, CG, ZJ}
    for unit in (JT, CG):
        filled(ws, unit, tmp_path / "inbox")
    judged = Recorder()
    with Run.open(ws, "351", "2022-W23") as run:
        collect(run, [tmp_path / "inbox"], progress=judged)
        summed = Recorder()
        consolidate(run, progress=summed)
    assert (judged.total, judged.what, judged.count) == (2, "文件", 2)
    assert (summed.total, summed.count) == (3, 3) and summed.done[-1] == ("汇总表.xlsx", 1)
