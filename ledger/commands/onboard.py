"""A new notice: `ledger programme add` (ledger.toml and the registry) and `ledger units add`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ledger.commands.common import echo_problems, fail_cleanly, summary_line, workspace

if TYPE_CHECKING:
    from ledger.config import Workspace
    from ledger.problems import Problem
    from ledger.registry.onboard import ProgrammeOutcome, UnitsOutcome
    from ledger.registry.units_add import UnitsPlan

NOTICE = click.Path(exists=True, dir_okay=False, path_type=Path)
#: import problems about unit names, listed together by name (units add settles them)
UNIT_CODES = ("unknown-unit", "unit-other-scope")


@click.group("programme")
def programme() -> None:
    """项目：从新通知添加项目（写入 ledger.toml 并导入任务清单）。"""


@programme.command("add")
@click.argument("notice", type=NOTICE, metavar="通知文件")
@click.option("--id", "programme_id", metavar="编号",
              help="项目编号（英文字母、数字、- 和 _），如 yc2024；默认由文号得出（宜政办〔2024〕9号 → p2024-9）。")
@click.option("--scope", default="", metavar="层级范围", help="层级范围，如 宜川县；默认由发文机关得出。")
@click.option("--issued", type=click.DateTime(["%Y-%m-%d"]), metavar="日期",
              help="成文日期，如 2024-03-01；只在通知中找不到时需要。")
@click.option("--units", "with_units", is_flag=True, help="同时把通知中的单位加入单位名录（同 ledger units add --from 通知文件）。")
@fail_cleanly
def programme_add(notice: Path, programme_id: str | None, scope: str, issued: datetime | None,
                  with_units: bool) -> None:
    """从新通知添加项目：读出文号、发文机关、成文日期、标题、层级范围、报送要求和通报周期，写入 ledger.toml，导入任务清单，列出需要核对的内容。"""
    from ledger.registry.onboard import add_programme

    ws = workspace()
    day = issued.date() if issued is not None else None
    outcome = add_programme(ws, notice, programme_id, scope=scope, issued=day, with_units=with_units)
    pid = outcome.programme_id
    if outcome.added:
        click.echo(f"已从 {notice.name} 读出项目，写入 ledger.toml：")
        for line in outcome.added.splitlines():
            click.echo(f"   {line}")
    else:
        existing = ws.programme(pid)
        which = f"文号 {existing.doc_number} 的项目" if existing.doc_number else f"项目“{existing.title}”（{existing.issued}）"
        click.echo(f"{which}已在 ledger.toml 中（编号 {pid}），未重复添加。")
    for note in outcome.notes:
        click.echo(note)
    if outcome.units is not None:
        echo_units(outcome.units)
    problems = _echo_import(ws, outcome)
    _echo_review(outcome, problems)
    _echo_next(ws, notice, outcome)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


def _echo_import(ws: Workspace, outcome: ProgrammeOutcome) -> list[Problem]:
    """The registry import's report; unit-name problems listed once by name when units add would settle them."""
    from ledger.commands.registry import echo_due_rules

    if outcome.registry_kept is not None:
        click.echo(f"任务清单 {ws.shown(outcome.registry_kept)} 已存在，未重新导入（重新导入请运行 ledger registry import "
                   f"通知文件 -p {outcome.programme_id} --force，已审核的任务编号保留）。")
        return []
    imported = outcome.imported
    if imported is None:
        return []
    if outcome.created_units is not None:
        click.echo(f"已新建空白单位名录 {ws.shown(outcome.created_units)}。")
    for count in imported.result.counts:
        click.echo(f"{count.source}：识别编号条目 {count.items} 个，导入任务 {count.tasks} 个")
    click.echo(f"任务清单已写入 {ws.shown(imported.path)}")
    fresh = workspace()
    echo_due_rules(fresh, outcome.programme_id, imported.proposals)
    problems = list(imported.result.problems)
    names = list(dict.fromkeys(p.value for p in problems if p.code in UNIT_CODES))
    if names and outcome.pending is not None and outcome.pending.new:
        click.echo(f"[错误] 通知中有 {len(names)} 个单位名称不在单位名录的本项目层级范围（{outcome.pending.scope}）中："
                   f"{'、'.join(names)}。运行 ledger units add --from 通知文件 可以把它们加入名录。")
        echo_problems(p for p in problems if p.code not in UNIT_CODES)
    else:
        echo_problems(problems)
    return problems


def _echo_review(outcome: ProgrammeOutcome, problems: list[Problem]) -> None:
    """What the office should check: values that are defaults or guesses, and what the notice lacks."""
    items = [f"{f.key}：{f.review}" for f in outcome.facts.facts if f.review and outcome.added]
    items += [f"{m}：通知中没有找到，请在 ledger.toml 中填写" for m in outcome.facts.missing if outcome.added]
    if problems:
        items.append(f"任务清单：{summary_line(problems)}，请在 Excel 中审核“审核标记”列")
    if items:
        click.echo("需要核对：")
        for i, item in enumerate(items, start=1):
            click.echo(f"   {i}. {item}")


def _echo_next(ws: Workspace, notice: Path, outcome: ProgrammeOutcome) -> None:
    from ledger.config import load
    from ledger.periods import period_containing

    pid = outcome.programme_id
    prog = load(ws.root).programme(pid)
    period = period_containing(prog.issued, prog.reporting.cycle).key
    steps = []
    if outcome.pending is not None and outcome.pending.new:
        steps.append((f"ledger units add --from {notice}", f"把通知中的 {len(outcome.pending.new)} 个单位加入单位名录"))
    steps += [(f"（在 Excel 中打开 {ws.shown(ws.paths.units)}）", "核对“待核实”的单位，填写电子邮箱"),
              (f"ledger registry check {pid}", "检查任务清单和单位名录"),
              (f"ledger generate -p {pid} --period {period}", "生成第一期工作台账"),
              (f"ledger mail drafts -p {pid} --period {period}", "写报送通知邮件草稿")]
    click.echo("下一步：")
    for command, what in steps:
        click.echo(f"   {command}    {what}")


@click.group("units")
def units() -> None:
    """单位名录：把通知中的单位加入单位名录。"""


@units.command("add")
@click.option("--from", "notice", required=True, type=NOTICE, metavar="通知文件", help="通知文件：把其中的单位加入单位名录。")
@click.option("--programme", "-p", help="项目编号；不填则按通知的文号找到项目。")
@fail_cleanly
def units_add(notice: Path, programme: str | None) -> None:
    """把通知中的单位加入单位名录（本项目的层级范围）：简称补全为规范名称并作为别名，猜测类别，邮箱留空，备注“待核实”。"""
    from ledger.registry.onboard import add_units

    echo_units(add_units(workspace(), notice, programme))


def echo_units(outcome: UnitsOutcome) -> None:
    """What units add did, the names it left for the office, and where to go on."""
    plan = outcome.plan
    parts = [f"新增 {len(plan.new)} 个单位"]
    if plan.aliases:
        parts.append(f"为 {len(plan.aliases)} 个单位补充简称")
    if plan.known:
        parts.append(f"通知中另有 {len(set(plan.known))} 个名称已在名录中")
    click.echo(f"单位名录 {outcome.units_path.name}（层级范围“{plan.scope}”）：{'，'.join(parts)}。")
    for unit in plan.new:
        aliases = f"简称 {'、'.join(unit.aliases)}；" if unit.aliases else ""
        click.echo(f"   + {unit.name}（{aliases}{unit.kind or '类别待填'}；待核实）")
    for unit, aliases in plan.aliases:
        click.echo(f"   ~ {unit.name}：简称改为 {'、'.join(aliases)}")
    _echo_refused(plan)
    if outcome.registry_backup is not None:
        click.echo(f"任务清单已按名录更新：{outcome.renamed} 处单位名称换成规范名称，{outcome.settled} 条“不在单位名录中”的"
                   f"审核标记已清除（原文件备份为 {outcome.registry_backup.name}）。")
    if plan.new:
        click.echo(f"请在 Excel 中打开 {outcome.units_path.name}：核对备注为“待核实”的行（名称、简称、类别），填写联系人和"
                   f"电子邮箱，核实后删去“待核实”；然后运行 ledger registry check {outcome.programme_id}。")


def _echo_refused(plan: UnitsPlan) -> None:
    if not plan.refused:
        return
    click.echo(f"以下 {len(plan.refused)} 个名称没有加入层级范围“{plan.scope}”，请核对：")
    for refused in plan.refused:
        click.echo(f"   ! {refused.written}：{refused.reason}。如它承担本项目的任务：名录中已有的，把它的“层级范围”改为空"
                   "（各层级通用）；没有的，在名录中手工添加一行。")
