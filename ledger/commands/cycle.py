"""The weekly cycle: `ledger generate`, `mail`, `collect` and `status`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.commands.common import (
    echo_json,
    echo_problems,
    fail_cleanly,
    open_run,
    programme_period,
)
from ledger.errors import LedgerError


@click.command("generate")
@programme_period
@click.option("--unit", "units", multiple=True, help="只生成该牵头单位的台账（可重复，可写单位名录中的简称或别名）；默认全部牵头单位。")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（工作区内），默认 out/<项目>/<周期>/templates/。")
@click.option("--no-prefill", is_flag=True, help="不从历史记录预填上期进展。")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, show_default=True,
              help="并行进程数；0 表示自动（单位较多时使用全部 CPU 核）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出生成的文件。")
@fail_cleanly
def generate_cmd(programme: str, period: str, units: tuple[str, ...], output: Path | None, no_prefill: bool,
                 jobs: int, as_json: bool) -> None:
    """为每个牵头单位生成本期工作台账（.xlsx），上期已报的内容自动预填。"""
    from ledger.generate import generate
    from ledger.generate.prefill import previous_from_store

    with open_run(programme, period) as run:
        # no history yet: nothing to pre-fill (and no store is created for it)
        previous_for = previous_from_store(run) if not no_prefill and run.has_history else None
        made = generate(run, units=units or None, out_dir=output.resolve() if output else None, jobs=jobs,
                        previous_for=previous_for)
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
@click.option("--no-receipts", is_flag=True, help="不生成回执。")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, show_default=True,
              help="并行读取的进程数；0 表示自动（文件较多时每个 CPU 核两个进程），1 表示不另起进程。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出每个文件的处理结果。")
@fail_cleanly
def collect_cmd(paths: tuple[Path, ...], programme: str, period: str, no_receipts: bool, jobs: int,
                as_json: bool) -> None:
    """收集各单位报回的工作台账（文件夹、.xlsx/.xls/.ods、.eml 邮件、.zip），校验、登记并生成回执。有退回时退出码为 1。"""
    from ledger.collect.api import collect
    from ledger.collect.receipts import write_receipts
    from ledger.mail.replies import write_replies
    from ledger.reporting import OUTCOME_NAMES

    with open_run(programme, period) as run:
        result = collect(run, list(paths), jobs=jobs)
        receipts = [] if no_receipts else write_receipts(run, result)
        write_replies(run, receipts)
    rejected = any(f.outcome == "rejected" for f in result.files)
    if as_json:
        echo_json({"submissions": [f.as_dict() for f in result.files],
                    "problems": [p.as_dict() for p in result.problems]})
        sys.exit(1 if rejected else 0)
    click.echo(f"{result.programme.title} {result.period.label()}：收到 {len(result.files)} 个文件。")
    for f in result.files:
        click.echo(f"{OUTCOME_NAMES[f.outcome]}\t{f.unit or '（单位不明）'}\t{f.file}")
        echo_problems(p for p in f.problems if f.outcome == "rejected" or not p.is_error)
    echo_problems(result.problems)
    if receipts:
        click.echo(f"回执已写入 {receipts[0].text_path.parent}")
    sys.exit(1 if rejected else 0)


@click.command("status")
@programme_period
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@fail_cleanly
def status_cmd(programme: str, period: str, as_json: bool) -> None:
    """各牵头单位本期报送情况：按时、逾期、未报、退回，及收到时间。"""
    from ledger.reporting import NOT_YET_DUE, SOURCE_NAMES, STATE_SHORT, period_status

    with open_run(programme, period) as run:
        per, rows = run.period, period_status(run)
    if as_json:
        echo_json({"programme": programme, "period": per.key, "units": [r.as_dict() for r in rows]})
        return
    click.echo(f"{per.label()} 报送情况（共 {len(rows)} 个牵头单位）")
    for r in rows:
        when = f"{r.received_at:%m-%d %H:%M}（{SOURCE_NAMES[r.received_source or 'collected']}）" if r.received_at else "—"
        label = STATE_SHORT[r.state] + (NOT_YET_DUE if r.state == "missing" and not r.past_due else "")
        click.echo(f"{label}\t{r.unit}\t{when}\t截止 {r.due:%m-%d %H:%M}")
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
    from ledger import layout
    from ledger.generate import TEMPLATES_DIR
    from ledger.mail import write_drafts

    with open_run(programme, period) as run:
        folder = run.out_dir() / TEMPLATES_DIR
        workbooks = {u: folder / layout.workbook_name(run.period.key, u) for u in run.registry.lead_units()}
        made = {u: p for u, p in workbooks.items() if p.is_file()}
        if not made:
            raise LedgerError(f"{folder} 中没有本期工作台账。请先运行 ledger generate -p {programme} --period {run.period.key}。")
        drafts, problems = write_drafts(run, made)
    click.echo(f"已写邮件草稿 {len(drafts)} 封 → {drafts[0].path.parent if drafts else '—'}")
    missing = sorted(set(workbooks) - set(made))
    if missing:
        click.echo(f"以下单位尚无工作台账，未写草稿：{'、'.join(missing)}")
    echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


@mail.command("send")
@programme_period
@click.option("--yes", is_flag=True, help="不再确认，直接发送。")
@fail_cleanly
def mail_send(programme: str, period: str, yes: bool) -> None:
    """通过 ledger.toml 中配置的 SMTP 服务器发送待发邮件（密码取自环境变量），已发的移入 sent/。"""
    from ledger.mail import send_drafts

    with open_run(programme, period) as run:
        ws, outbox = run.ws, run.out_dir() / "outbox"
    pending = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    if not pending:
        click.echo(f"{outbox} 中没有待发送的邮件。")
        return
    if not yes:
        click.confirm(f"将通过 {ws.smtp.host}:{ws.smtp.port} 发送 {len(pending)} 封邮件，是否继续？", abort=True)
    sent, problems = send_drafts(ws, outbox)
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
