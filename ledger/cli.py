"""Command line: parse options, call one library function, print text or JSON.

Exit codes: 0 ok, 1 problems found or the tool could not go on, 2 usage error.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from ledger import __version__, config
from ledger.errors import LedgerError
from ledger.problems import Problem, count


def _fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn LedgerError into a Chinese one-line error (traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LedgerError as exc:
            ctx = click.get_current_context()
            if ctx.find_root().obj and ctx.find_root().obj.get("debug"):
                raise
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _workspace() -> config.Workspace:
    obj = click.get_current_context().find_root().obj or {}
    return config.load(obj.get("workspace"))


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _echo_problems(problems: Iterable[Problem]) -> None:
    for p in problems:
        click.echo(p.render(), err=False)


def _summary_line(problems: list[Problem]) -> str:
    errors, warnings = count(problems)
    return f"错误 {errors} 个，提示 {warnings} 个"


class ChineseGroup(click.Group):
    """A group whose usage errors are still exit code 2 (click's default)."""


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), envvar="LEDGER_WORKSPACE",
              help="工作区目录（含 ledger.toml），默认为当前目录，也可用环境变量 LEDGER_WORKSPACE。")
@click.option("--debug", is_flag=True, help="出错时显示完整的调用栈（供开发人员排查）。")
@click.version_option(__version__, prog_name="ledger")
@click.pass_context
def main(ctx: click.Context, workspace: Path | None, debug: bool) -> None:
    """ledger：督查工作台账工具——任务清单、台账生成、收集、汇总和考核通报。"""
    ctx.obj = {"workspace": workspace, "debug": debug}


# ---- registry ------------------------------------------------------------------------

@main.group()
def registry() -> None:
    """任务清单：从通知导入、列出、检查、导出。"""


@registry.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--programme", "-p", help="项目编号（ledger.toml 中的 programmes.<编号>）；不填则按文号匹配。")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="任务清单写到此路径（默认 source_data/<项目>/registry.xlsx）。")
@click.option("--force", is_flag=True, help="覆盖已有的任务清单（原文件自动备份，已审核的任务编号保留）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出导入的任务。")
@_fail_cleanly
def registry_import(files: tuple[Path, ...], programme: str | None, output: Path | None, force: bool,
                    as_json: bool) -> None:
    """从通知（.txt/.md/.docx 或任务分解表 .xlsx/.xls）导入任务清单。"""
    from ledger.registry.api import import_registry
    from ledger.registry.model import export_json

    ws = _workspace()
    outcome = import_registry(ws, list(files), programme, output, force)
    problems = outcome.result.problems
    if as_json:
        _echo_json(export_json([outcome.result.registry]))
    else:
        reg = outcome.result.registry
        click.echo(f"已导入项目“{reg.programme.id}”（{reg.programme.title}）：{len(reg.tasks)} 项任务。")
        click.echo(f"任务清单已写入 {outcome.path}")
        if outcome.backup:
            click.echo(f"原任务清单已备份为 {outcome.backup}")
        _echo_problems(problems)
        if problems:
            click.echo(f"需审核：{_summary_line(problems)}。请在 Excel 中审核“审核标记”列后运行 ledger registry check。")
    sys.exit(1 if any(p.is_error for p in problems) else 0)


@registry.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@_fail_cleanly
def registry_list(as_json: bool) -> None:
    """列出已配置的项目及其任务数。"""
    from ledger.registry.api import list_programmes

    rows = list_programmes(_workspace())
    if as_json:
        _echo_json({"programmes": rows})
        return
    for r in rows:
        tasks = "尚未导入" if r["tasks"] is None else f"{r['tasks']} 项任务"
        click.echo(f"{r['id']}\t{r['title']}\t{r['doc_number'] or '—'}\t{tasks}")


@registry.command("check")
@click.argument("programmes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出问题清单。")
@_fail_cleanly
def registry_check(programmes: tuple[str, ...], as_json: bool) -> None:
    """检查任务清单：未知单位、牵头单位缺失或为统称、时限不明、编号重复等。有错误时退出码为 1。"""
    from ledger.registry.api import check

    result = check(_workspace(), programmes or None)
    all_problems = [p for ps in result.values() for p in ps]
    if as_json:
        _echo_json({
            "valid": not any(p.is_error for p in all_problems),
            "programmes": {pid: [p.as_dict() for p in ps] for pid, ps in result.items()},
        })
    else:
        for pid, ps in result.items():
            click.echo(f"项目 {pid}：{_summary_line(ps)}")
            _echo_problems(ps)
    sys.exit(1 if any(p.is_error for p in all_problems) else 0)


@registry.command("export")
@click.argument("programme")
@click.option("--json", "as_json", is_flag=True, default=True, help="以 JSON 输出（默认）。")
@_fail_cleanly
def registry_export(programme: str, as_json: bool) -> None:
    """以 JSON 导出一个项目的任务清单。"""
    from ledger.registry.api import load
    from ledger.registry.model import export_json

    _echo_json(export_json([load(_workspace(), programme)]))


# ---- demo ----------------------------------------------------------------------------

@main.command()
@_fail_cleanly
def demo() -> None:
    """在示例数据上演示完整流程（写入 out/demo/），并打印摘要。"""
    from ledger.demo import run_demo

    ws, steps = run_demo(_workspace())
    click.echo(f"演示工作区：{ws.root}")
    for i, step in enumerate(steps, start=1):
        click.echo(f"\n{i}. {step.title}")
        for line in step.lines:
            click.echo(f"   {line}")
        _echo_problems(step.problems)
        for path in step.paths:
            click.echo(f"   → {path.relative_to(ws.root) if path.is_relative_to(ws.root) else path}")
    failed = any(p.is_error for s in steps for p in s.problems)
    sys.exit(1 if failed else 0)
