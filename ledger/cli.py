"""Command line: parse options, call one library function, print text or JSON.

Exit codes: 0 ok, 1 problems found or the tool could not go on, 2 usage error. The
commands live in :mod:`ledger.commands`, one module per stage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger import __version__
from ledger.commands import cycle, report
from ledger.commands import registry as registry_commands
from ledger.commands import store as store_commands
from ledger.commands.common import echo_problems, fail_cleanly, workspace


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), envvar="LEDGER_WORKSPACE",
              help="工作区目录（含 ledger.toml），默认为当前目录，也可用环境变量 LEDGER_WORKSPACE。")
@click.option("--debug", is_flag=True, help="出错时显示完整的调用栈（供开发人员排查）。")
@click.version_option(__version__, prog_name="ledger")
@click.pass_context
def main(ctx: click.Context, workspace: Path | None, debug: bool) -> None:
    """ledger：督查工作台账工具——任务清单、台账生成、收集、汇总和考核通报。"""
    ctx.obj = {"workspace": workspace, "debug": debug}


@main.command()
@fail_cleanly
def demo() -> None:
    """在示例数据上演示完整流程（写入 out/demo/），并打印摘要。"""
    from ledger.demo import run_demo

    ws, steps = run_demo(workspace())
    click.echo(f"演示工作区：{ws.root}")
    for i, step in enumerate(steps, start=1):
        click.echo(f"\n{i}. {step.title}")
        for line in step.lines:
            click.echo(f"   {line}")
        echo_problems(step.problems)
        for path in step.paths:
            click.echo(f"   → {path.relative_to(ws.root) if path.is_relative_to(ws.root) else path}")
    failed = any(p.is_error for s in steps for p in s.problems)
    sys.exit(1 if failed else 0)


for command in (registry_commands.registry, cycle.generate_cmd, cycle.collect_cmd, cycle.status_cmd, cycle.mail,
                report.consolidate_cmd, report.assess_cmd, report.bulletin_cmd, store_commands.store):
    main.add_command(command)
