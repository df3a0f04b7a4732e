"""Reporting upward: `ledger consolidate`, `assess` and `bulletin`."""

from __future__ import annotations

from typing import Any

import click

from ledger.commands.common import (
    echo_json,
    fail_cleanly,
    open_month,
    open_run,
    programme_month,
    programme_period,
)
from ledger.progress import on_terminal


@click.command("consolidate")
@programme_period
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出汇总内容（总表、按单位、滞后及逾期、本期变化、报送情况）。")
@fail_cleanly
def consolidate_cmd(programme: str, period: str, as_json: bool) -> None:
    """汇总一期台账：判定每项任务的红黄绿灯及原因，写出 out/<项目>/<周期>/汇总表.xlsx。"""
    from ledger.consolidate.api import consolidate

    with open_run(programme, period) as run, on_terminal("汇总", as_json=as_json) as progress:
        summary = consolidate(run, progress=progress)
    if as_json:
        echo_json(summary.to_json())
        return
    for line in summary.lines():
        click.echo(line)


@click.command("assess")
@programme_month
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出得分、扣分明细和排名。")
@fail_cleanly
def assess_cmd(programme: str, month: str, as_json: bool) -> None:
    """月度考核：按各周期的报送和任务灯色为牵头单位打分、排名（扣分逐项可查），写出考核得分.xlsx。"""
    from ledger.assess import assess

    with open_month(programme, month) as run:
        result = assess(run)
    if as_json:
        echo_json(result.to_json())
        return
    click.echo(f"{result.month.label()}考核（{len(result.periods)} 个报送周期，{len(result.scores)} 个牵头单位）：")
    for s in result.scores:
        click.echo(f"{s.rank:>3}\t{s.unit}\t{s.total:g} 分\t{s.grade}\t{s.change}")
    for note in result.notes:
        click.echo(f"[提示] {note}")
    click.echo(f"得分及扣分明细已写入 {result.xlsx}")


@click.command("bulletin")
@programme_month
@click.option("--date", "issued", type=click.DateTime(["%Y-%m-%d"]), help="成文日期（默认今天），如 2022-07-05。")
@click.option("--no-pdf", is_flag=True, help="不生成 PDF（不调用 LibreOffice）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出生成的文件。")
@fail_cleanly
def bulletin_cmd(programme: str, month: str, issued: Any, no_pdf: bool, as_json: bool) -> None:
    """生成月度考核通报：公文格式的 .docx（模板 templates/bulletin.docx 可在 Word 中修改）、HTML 预览和 PDF。"""
    from ledger.assess import write_bulletin

    with open_month(programme, month) as run:
        files = write_bulletin(run, pdf=not no_pdf, issued=issued.date() if issued else None)
    if as_json:
        echo_json(files.to_json())
        return
    click.echo(f"第 {files.number} 期考核通报：")
    for label, path in (("Word", files.docx), ("HTML", files.html), ("PDF", files.pdf), ("图表", files.chart)):
        if path:
            click.echo(f"   {label} → {path}")
    for warning in files.warnings:
        click.echo(f"[提示] {warning}")
