"""`ledger registry`: import notices, list, check and export the task registry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ledger.commands.common import (
    echo_json,
    echo_problems,
    fail_cleanly,
    summary_line,
    workspace,
)

if TYPE_CHECKING:  # the notice readers (python-docx) are imported by the commands that read notices
    from ledger.config import Workspace
    from ledger.registry.reporting_rule import Proposal


@click.group()
def registry() -> None:
    """任务清单：从通知导入、列出、检查、导出。"""


@registry.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="通知文件...")
@click.option("--programme", "-p", help="项目编号（ledger.toml 中的 programmes.<编号>）；不填则按文号匹配。")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="任务清单写到此路径（默认 source_data/<项目>/registry.xlsx）。")
@click.option("--force", is_flag=True, help="覆盖已有的任务清单（原文件自动备份，已审核的任务编号保留）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出导入的任务。")
@fail_cleanly
def registry_import(files: tuple[Path, ...], programme: str | None, output: Path | None, force: bool,
                    as_json: bool) -> None:
    """从通知（.txt/.md/.docx 或任务分解表 .xlsx/.xls）导入任务清单。"""
    from ledger.registry.api import import_registry
    from ledger.registry.model import export_json

    ws = workspace()
    outcome = import_registry(ws, list(files), programme, output.resolve() if output else None, force)
    problems = outcome.result.problems
    for count in outcome.result.counts:  # on stderr with --json, so the JSON stays parseable
        click.echo(f"{count.source}：识别编号条目 {count.items} 个，导入任务 {count.tasks} 个", err=as_json)
    if as_json:
        echo_json(export_json([outcome.result.registry]))
    else:
        reg = outcome.result.registry
        click.echo(f"已导入项目“{reg.programme.id}”（{reg.programme.title}）：{len(reg.tasks)} 项任务。")
        click.echo(f"任务清单已写入 {outcome.path}")
        if outcome.backup:
            click.echo(f"原任务清单已备份为 {outcome.backup}")
        echo_due_rules(ws, reg.programme.id, outcome.proposals)
        echo_problems(problems)
        if problems:
            click.echo(f"需审核：{summary_line(problems)}。请在 Excel 中审核“审核标记”列后运行 ledger registry check。")
    sys.exit(1 if any(p.is_error for p in problems) else 0)


def echo_due_rules(ws: Workspace, programme_id: str, proposals: list[Proposal]) -> None:
    """What the notice says about when to report, and whether ledger.toml says the same."""
    from ledger.registry.reporting_rule import configured

    if not proposals:
        click.echo("报送时间：通知中未找到报送时间要求（如“每周五16时前”“每月25日前”），"
                   "请按通知核对 ledger.toml 中的设置（见 docs/due-rules.md）。")
        return
    programme = ws.programme(programme_id)
    for proposal in proposals:
        table = f"programmes.{programme_id}" + (f".{proposal.table}" if proposal.table else "")
        where = f"附件{proposal.annex.removeprefix('A')}" if proposal.annex else "通知"
        current = configured(programme, proposal)
        click.echo(f"报送时间：{where}要求{proposal.describe(current)}。")
        differs = proposal.differs(current)
        if differs:
            click.echo(f"   ledger.toml [{table}] 目前为 {'，'.join(differs)}；如按通知执行，请改为：")
            for line in proposal.toml().splitlines():
                click.echo(f"      {line}")
        else:
            click.echo(f"   与 ledger.toml [{table}] 的设置一致。")


@registry.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@fail_cleanly
def registry_list(as_json: bool) -> None:
    """列出已配置的项目及其任务数。"""
    from ledger.registry.api import list_programmes

    rows = list_programmes(workspace())
    if as_json:
        echo_json({"programmes": rows})
        return
    for r in rows:
        tasks = "尚未导入" if r["tasks"] is None else f"{r['tasks']} 项任务"
        click.echo(f"{r['id']}\t{r['title']}\t{r['doc_number'] or '—'}\t{tasks}")


@registry.command("check")
@click.argument("programmes", nargs=-1, metavar="[项目编号]...")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出问题清单。")
@fail_cleanly
def registry_check(programmes: tuple[str, ...], as_json: bool) -> None:
    """检查任务清单：未知单位、牵头单位缺失或为统称、时限不明、编号重复等。有错误时退出码为 1。"""
    from ledger.registry.api import check

    result = check(workspace(), programmes or None)
    all_problems = [p for ps in result.values() for p in ps]
    if as_json:
        echo_json({
            "valid": not any(p.is_error for p in all_problems),
            "programmes": {pid: [p.as_dict() for p in ps] for pid, ps in result.items()},
        })
    else:
        for pid, ps in result.items():
            click.echo(f"项目 {pid}：{summary_line(ps)}")
            echo_problems(ps)
    sys.exit(1 if any(p.is_error for p in all_problems) else 0)


@registry.command("export")
@click.argument("programme", metavar="项目编号")
@click.option("--json", "as_json", is_flag=True, default=True, help="以 JSON 输出（默认）。")
@fail_cleanly
def registry_export(programme: str, as_json: bool) -> None:
    """以 JSON 导出一个项目的任务清单。"""
    from ledger.registry.api import load
    from ledger.registry.model import export_json

    echo_json(export_json([load(workspace(), programme)]))
