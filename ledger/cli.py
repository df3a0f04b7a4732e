"""Command line: parse options, call one library function, print text or JSON.

Exit codes: 0 ok, 1 problems found or the tool could not go on, 2 usage error. The
commands live in :mod:`ledger.commands`, one module per stage.
"""

from __future__ import annotations

from pathlib import Path

import click

from ledger import __version__
from ledger.commands import cycle, onboard, report, serve, start
from ledger.commands import registry as registry_commands
from ledger.commands import store as store_commands
from ledger.commands.chinese import ChineseGroup


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), envvar="LEDGER_WORKSPACE",
              help="工作区目录（含 ledger.toml）；默认从当前目录起逐级向上查找，也可用环境变量 LEDGER_WORKSPACE。")
@click.option("--debug", is_flag=True, help="出错时显示完整的调用栈（供开发人员排查）。")
@click.version_option(__version__, prog_name="ledger", message="%(prog)s 版本 %(version)s", help="显示版本号并退出。")
@click.pass_context
def main(ctx: click.Context, workspace: Path | None, debug: bool) -> None:
    """ledger：督查工作台账工具——任务清单、台账生成、收集、汇总和考核通报。"""
    ctx.obj = {"workspace": workspace, "debug": debug}


for command in (start.init_cmd, start.demo_cmd, onboard.programme, onboard.units, registry_commands.registry, cycle.generate_cmd, cycle.collect_cmd,
                cycle.status_cmd, cycle.mail, report.consolidate_cmd, report.assess_cmd, report.bulletin_cmd,
                store_commands.store, serve.serve_cmd):
    main.add_command(command)
