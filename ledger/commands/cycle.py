"""The weekly cycle: `ledger generate`, `mail`, `collect` and `status`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ledger.commands.common import (
    echo_json,
    echo_problems,
    fail_cleanly,
    open_run,
    programme_period,
)
from ledger.errors import LedgerError
from ledger.progress import on_terminal

if TYPE_CHECKING:
    from ledger.collect.api import CollectedFile, CollectResult


@click.command("generate")
@programme_period
@click.option("--unit", "units", multiple=True, help="只生成该牵头单位的台账（可重复，可写单位名录中的简称或别名）；默认全部牵头单位。")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（工作区内），默认 out/<项目>/<周期>/templates/。")
@click.option("--no-prefill", is_flag=True, help="不从历史记录预填上期进展。")
@click.option("--force", is_flag=True, help="本期台账已发出、重新生成的内容又有不同时，仍然覆盖（须重新发送）。")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, show_default=True,
              help="并行进程数；0 表示自动（单位较多时使用全部 CPU 核）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出生成的文件。")
@fail_cleanly
def generate_cmd(programme: str, period: str, units: tuple[str, ...], output: Path | None, no_prefill: bool,
                 force: bool, jobs: int, as_json: bool) -> None:
    """为每个牵头单位生成本期工作台账（.xlsx），上期已报的内容自动预填。"""
    from ledger.generate import generate
    from ledger.generate.prefill import previous_from_store

    with open_run(programme, period) as run, on_terminal("生成台账", as_json=as_json) as progress:
        # no history yet: nothing to pre-fill (and no store is created for it)
        previous_for = previous_from_store(run) if not no_prefill and run.has_history else None
        made = generate(run, units=units or None, out_dir=output.resolve() if output else None, jobs=jobs,
                        previous_for=previous_for, force=force, progress=progress)
    if as_json:
        echo_json({"workbooks": [{"unit": g.unit, "path": str(g.path), "tasks": g.tasks, "sha256": g.sha256}
                                  for g in made]})
        return
    click.echo(f"已生成 {len(made)} 个工作台账，共 {sum(g.tasks for g in made)} 项任务：")
    for g in made:
        click.echo(f"   {g.unit}（{g.tasks} 项）→ {g.path}")


@click.command("collect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="路径...")
@programme_period
@click.option("--received-at", type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%d"]),
              help="这些文件（邮件除外）的收到时间，如 \"2024-03-25 17:00\"；不填则按文件修改时间。")
@click.option("--yes", is_flag=True, help="多数文件属于其他期次时仍按 --period 收集（其他期次的文件不登记）。")
@click.option("--no-receipts", is_flag=True, help="不生成回执。")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, show_default=True,
              help="并行读取的进程数；0 表示自动（文件较多时比 CPU 核数多一个进程），1 表示不另起进程。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出每个文件的处理结果。")
@fail_cleanly
def collect_cmd(paths: tuple[Path, ...], programme: str, period: str, received_at: datetime | None, yes: bool,
                no_receipts: bool, jobs: int, as_json: bool) -> None:
    """收集各单位报回的工作台账（文件夹、.xlsx/.xls/.ods、.eml/.msg 邮件、.zip），校验、登记并生成回执。有退回时退出码为 1。"""
    from ledger.collect.api import collect
    from ledger.collect.outcome import outcome_text, run_problems, shown_problems
    from ledger.collect.receipts import Receipts, write_receipts
    from ledger.mail.replies import Replies, write_replies
    from ledger.periods import CHINA

    with open_run(programme, period) as run:
        given = received_at.replace(tzinfo=CHINA) if received_at else None
        # receipts and replies are rendered as files are stored (while the workers judge the
        # next ones) and written once every file is collected
        ahead, replies = (None if no_receipts else Receipts(run)), Replies(run)

        def stored(result: CollectResult, files: list[CollectedFile]) -> None:
            if ahead is not None:
                replies.add(ahead.add(result, files))

        with on_terminal("收取", as_json=as_json) as progress:
            result = collect(run, list(paths), jobs=jobs, received_at=given, other_periods=yes, progress=progress,
                             on_stored=stored)
        if result.wrong_period is not None:
            _refuse_wrong_period(result, programme, as_json)
        receipts = [] if ahead is None else write_receipts(run, result, prepared=ahead)
        write_replies(run, receipts, result.problems, prepared=replies)
    # a refused file, or a problem of the run (a receipt not written): exit 1
    failed = any(f.outcome == "rejected" for f in result.files) or any(p.is_error for p in result.problems)
    if as_json:
        echo_json({"submissions": [f.as_dict() for f in result.files],
                    "problems": [p.as_dict() for p in result.problems]})
        sys.exit(1 if failed else 0)
    click.echo(f"{result.programme.title} {result.period.label()}：收到 {len(result.files)} 个文件。")
    by_key = {r.key: r for r in receipts}
    for f in result.files:
        click.echo(f"{outcome_text(f, by_key)}\t{f.unit or '（单位不明）'}\t{f.file}")
        echo_problems(shown_problems(f))
    echo_problems(run_problems(result))
    if receipts:
        click.echo(f"回执已写入 {receipts[0].text_path.parent}（新写 {sum(r.written for r in receipts)} 份）")
    if result.unopened:
        click.echo(f"[警告] 有 {len(result.unopened)} 个邮件或压缩包未打开（原因见上），其中的文件都未收取，"
                   "已登记并写了回执：" + "、".join(f.file for f in result.unopened))
    for p in result.skipped:
        click.echo(f"[警告] {p.where()}：{p.message}")
    for f in result.other_period:
        click.echo(f"[警告] {f.file}：不属于本期（{result.period.label()}），未登记，也未生成回执；"
                   f"请用 --period 指定该文件所属的期次另行收集。")
    sys.exit(1 if failed else 0)


def _refuse_wrong_period(result: CollectResult, programme: str, as_json: bool) -> None:
    """A run whose files are mostly another period's: nothing was stored; ask, exit 1."""
    label = result.wrong_period_label()
    question = (f"这些文件属于{label}，是否应为 --period {result.wrong_period}？" if label else
                f"这些文件大多不属于{result.period.label()}，请检查 --period。")
    note = (f"共 {result.held} 个文件，未登记任何文件，也未生成回执。如确需按 --period {result.period.key} 收集，"
            "请加 --yes（其他期次的文件不会登记）。")
    if as_json:
        echo_json({"submissions": [], "wrong_period": result.wrong_period, "question": question, "note": note})
    else:
        click.echo(question)
        click.echo(note)
    sys.exit(1)


@click.command("status")
@programme_period
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@fail_cleanly
def status_cmd(programme: str, period: str, as_json: bool) -> None:
    """各牵头单位本期报送情况：按时、逾期、未报、退回，及收到时间。"""
    from ledger.due import day_and_time
    from ledger.reporting import NOT_YET_DUE, STATE_SHORT, period_status, received_text

    with open_run(programme, period) as run:
        per, rows = run.period, period_status(run)
    if as_json:
        echo_json({"programme": programme, "period": per.key, "units": [r.as_dict() for r in rows]})
        return
    click.echo(f"{per.label()} 报送情况（共 {len(rows)} 个牵头单位）")
    year = per.year
    for r in rows:
        when = received_text(r.received_at, r.received_source, year) if r.received_at else "—"
        label = STATE_SHORT[r.state] + (NOT_YET_DUE if r.state == "missing" and not r.past_due else "")
        click.echo(f"{label}\t{r.unit}\t{when}\t截止 {day_and_time(r.due, year)}")
    counts = {s: sum(r.state == s for r in rows) for s in STATE_SHORT}
    click.echo("，".join(f"{STATE_SHORT[s]} {n}" for s, n in counts.items()))


@click.group()
def mail() -> None:
    """邮件：生成报送通知草稿、催报草稿，并通过 SMTP 发送。"""


@mail.command("drafts")
@programme_period
@fail_cleanly
def mail_drafts(programme: str, period: str) -> None:
    """为本期已生成的工作台账各写一封报送通知邮件草稿（附件为该单位的台账）。"""
    from ledger.generate import TEMPLATES_DIR, generated_workbooks
    from ledger.mail.drafts import write_notices

    with open_run(programme, period) as run:
        made = generated_workbooks(run)
        if not made:
            raise LedgerError(f"{run.out_dir() / TEMPLATES_DIR} 中没有本期工作台账。"
                              f"请先运行 ledger generate -p {programme} --period {run.period.key}。")
        lead_units = run.registry.lead_units()
        drafts, problems, note = write_notices(run, made)
    click.echo(f"已写邮件草稿 {len(drafts)} 封 → {drafts[0].path.parent if drafts else '—'}")
    if note:
        click.echo(note)
    missing = sorted(set(lead_units) - set(made))
    if missing:
        click.echo(f"以下单位尚无工作台账，未写草稿：{'、'.join(missing)}")
    echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


@mail.command("send")
@programme_period
@click.option("--receipts", is_flag=True, help="发送本期的回执邮件（receipts/ 中的 .eml），而不是 outbox/ 中的邮件。")
@click.option("--yes", is_flag=True, help="不再确认，直接发送。")
@fail_cleanly
def mail_send(programme: str, period: str, receipts: bool, yes: bool) -> None:
    """通过 ledger.toml 中配置的 SMTP 服务器发送待发邮件（密码取自环境变量），已发的移入 sent/；发送前逐封核对催报是否仍然属实。"""
    from ledger.collect.receipts import RECEIPTS_DIR
    from ledger.mail import OUTBOX, send_drafts
    from ledger.mail.drafts import withdraw_drafts
    from ledger.mail.recheck import stale_reminders

    with open_run(programme, period) as run:
        ws, outbox = run.ws, run.out_dir() / (RECEIPTS_DIR if receipts else OUTBOX)
        stale = [] if receipts or not outbox.is_dir() else stale_reminders(run, outbox)
    if stale:
        moved = withdraw_drafts(outbox, [s.path for s in stale])
        click.echo(f"以下 {len(stale)} 封催报已不属实，未发送，已移入 {moved[0].parent}：")
        for s in stale:
            click.echo(f"   {s.unit}：{s.now}")
    pending = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    if not pending:
        click.echo(f"{outbox} 中没有待发送的邮件。")
        return
    if not yes:
        click.confirm(f"将通过 {ws.smtp.host}:{ws.smtp.port} 发送 {len(pending)} 封邮件，是否继续？", abort=True)
    with on_terminal("发送邮件") as progress:
        sent, problems = send_drafts(ws, outbox, progress=progress)
    click.echo(f"已发送 {len(sent)} 封，移入 {outbox / 'sent'}。")
    echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


@mail.command("reminders")
@programme_period
@fail_cleanly
def mail_reminders(programme: str, period: str) -> None:
    """为未报送和被退回的单位生成催报邮件草稿（写入 out/<项目>/<周期>/outbox/）。"""
    from ledger.mail import reminder_reasons, write_reminders
    from ledger.reporting import period_status

    with open_run(programme, period) as run:
        rows = period_status(run)
        drafts, problems = write_reminders(run, reminder_reasons(run, rows))
    click.echo(f"催报草稿 {len(drafts)} 封（未报送 {sum(r.state == 'missing' for r in rows)}，"
               f"退回 {sum(r.state == 'rejected' for r in rows)}）。")
    for d in drafts:
        click.echo(f"   → {d.path}")
    echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)
