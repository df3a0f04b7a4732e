"""What every command shares: clean Chinese failures, the workspace, JSON and problem output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click

from ledger.errors import LedgerError

if TYPE_CHECKING:  # loaded by the commands that use them, not for --help
    from ledger import config
    from ledger.problems import Problem
    from ledger.run import Run


def fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn LedgerError into a Chinese one-line error (traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (LedgerError, OSError) as exc:
            ctx = click.get_current_context()
            if ctx.find_root().obj and ctx.find_root().obj.get("debug"):
                raise
            # an OSError is a read or write that no stage turned into a LedgerError: say which file
            from ledger.fsutil import os_error_text

            raise click.ClickException(str(exc) if isinstance(exc, LedgerError) else os_error_text(exc)) from exc

    return wrapper


def workspace() -> config.Workspace:
    """The workspace chosen by --workspace or $LEDGER_WORKSPACE, else the one the current directory
    is in, with what a killed run left in it removed."""
    from ledger import config
    from ledger.fsutil import clean_leftovers

    obj = click.get_current_context().find_root().obj or {}
    ws = config.load(obj.get("workspace"))
    clean_leftovers([ws.paths.out, ws.paths.source_data, ws.paths.store.parent])
    return ws


def open_run(programme: str, period: str) -> Run:
    """The run of one command: this workspace, *programme*, *period* (text in its cycle)."""
    from ledger.run import Run

    return Run.open(workspace(), programme, period)


def open_month(programme: str, month: str) -> Run:
    """The run of a monthly command (assess, bulletin): *month* as 2022-06."""
    from ledger.run import Run

    return Run.open_month(workspace(), programme, month)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def echo_problems(problems: Iterable[Problem]) -> None:
    for p in problems:
        click.echo(p.render(), err=False)


def summary_line(problems: list[Problem]) -> str:
    from ledger.problems import count

    errors, warnings = count(problems)
    return f"错误 {errors} 个，提示 {warnings} 个"


def _with_programme(option: str, text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(option, option.lstrip("-"), required=True, help=text)(func)
        return click.option("--programme", "-p", "programme", required=True, help="项目编号（ledger.toml 中的编号）。")(func)

    return decorate


programme_period = _with_programme("--period", "报送周期，如 2022-W23（周）、2022-06（月）、2023-Q2（季）、2021-06-14（日）。")
programme_month = _with_programme("--month", "考核月份，如 2022-06。")
