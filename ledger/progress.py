"""Progress of long work (collect, generate, consolidate, mail send, demo) on the terminal.

A stage reports to a :class:`Progress`: how many items there are, then each item as it is
done. The library's default, :data:`QUIET`, shows nothing; the command line passes
:func:`on_terminal`, which draws a bar on stderr — done/total, the current file, time left —
only when stderr is a terminal and the output is not JSON, so that nothing extra reaches a
pipe, a log file or a script. rich is imported only then, and the bar is redrawn by the
caller, never by a thread of its own (a thread would keep collect from forking its workers).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: the bar is redrawn at most this often (seconds), and once more at the end
REDRAW_S = 0.1


class Progress:
    """What long work reports to; this base shows nothing."""

    def start(self, total: int, what: str) -> None:
        """*total* items of the kind *what* (文件, 台账, 步骤) are to be done."""

    def advance(self, current: str = "", n: int = 1) -> None:
        """*n* more items are done; *current* names the last of them (a file, a unit, a step)."""


QUIET = Progress()


class _Bar(Progress):
    """A rich progress bar on stderr."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("剩余"),
            TimeRemainingColumn(), TextColumn("{task.fields[current]}"),
            console=Console(stderr=True), auto_refresh=False, transient=False,
        )
        self._task = self._bar.add_task(label, total=None, current="")
        self._label = label
        self._drawn = 0.0
        self._bar.start()

    def start(self, total: int, what: str) -> None:
        self._bar.update(self._task, total=total, description=f"{self._label}（{what}）")
        self._draw(force=True)

    def advance(self, current: str = "", n: int = 1) -> None:
        task = self._bar.tasks[self._task]
        done = task.completed + n
        total = task.total if task.total is None else max(task.total, done)  # a mail may hold several files
        self._bar.update(self._task, completed=done, total=total, current=_short(current))
        self._draw()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._drawn >= REDRAW_S:
            self._bar.refresh()
            self._drawn = now

    def stop(self) -> None:
        self._bar.refresh()
        self._bar.stop()


def _short(name: str, width: int = 40) -> str:
    """The end of a long file name, which tells files apart."""
    return name if len(name) <= width else "…" + name[-(width - 1):]


def shows(as_json: bool = False, stream: Any = None) -> bool:
    """Whether a bar is drawn: on a terminal, not for JSON output."""
    stream = sys.stderr if stream is None else stream
    return not as_json and bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def on_terminal(label: str, *, as_json: bool = False) -> Iterator[Progress]:
    """A :class:`Progress` labelled *label* drawn on stderr when :func:`shows`, else :data:`QUIET`."""
    if not shows(as_json):
        yield QUIET
        return
    bar = _Bar(label)
    try:
        yield bar
    finally:
        bar.stop()
