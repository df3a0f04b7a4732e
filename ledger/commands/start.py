"""Getting started: `ledger init` makes a workspace, `ledger demo` shows the whole cycle."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.commands.common import echo_problems, fail_cleanly, workspace
from ledger.progress import on_terminal


@click.command("init")
@click.argument("folder", required=False, default=".", metavar="[目录]",
                type=click.Path(file_okay=False, path_type=Path))
@fail_cleanly
def init_cmd(folder: Path) -> None:
    """新建工作区：带说明的 ledger.toml、空白单位名录、source_data/ 和 out/ 文件夹、README.txt。已有工作区不会被覆盖。"""
    from ledger.workspace_init import init_workspace

    done = init_workspace(folder)
    click.echo(f"已在 {done.root} 新建工作区：")
    for path in done.written:
        click.echo(f"   + {path.relative_to(done.root)}")
    for path in done.kept:
        click.echo(f"   = {path.relative_to(done.root)}（已存在，保留原文件）")
    click.echo("下一步：把通知放进 source_data/notices/，运行 ledger programme add 通知文件（在 ledger.toml 中添加项目"
               "并导入任务清单）和 ledger units add --from 通知文件（把通知中的单位加入单位名录 source_data/units.xlsx，"
               "再在 Excel 中填写邮箱），说明见 README.txt。先看完整流程可运行 ledger demo。")


@click.command("demo")
@fail_cleanly
def demo_cmd() -> None:
    """用自带的示例数据演示完整流程（写入本工作区的 out/demo/），并打印摘要。"""
    from ledger.demo import run_demo

    with on_terminal("演示") as progress:
        ws, steps = run_demo(workspace().paths.out / "demo", progress=progress)
    click.echo(f"演示工作区：{ws.root}")
    for i, step in enumerate(steps, start=1):
        click.echo(f"\n{i}. {step.title}")
        for line in step.lines:
            click.echo(f"   {line}")
        echo_problems(step.problems)
        for path in step.paths:
            click.echo(f"   → {path.relative_to(ws.root) if path.is_relative_to(ws.root) else path}")
    click.echo(f"\n在浏览器中查看演示结果（首页、各期报送情况、汇总、考核通报）：\n   ledger --workspace {ws.root} serve --open")
    failed = any(p.is_error for s in steps for p in s.problems)
    sys.exit(1 if failed else 0)
