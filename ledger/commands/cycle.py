"""The weekly cycle: `ledger generate`, `mail`, `collect` and `status`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.commands.common import (
    echo_json,
    echo_problems,
    fail_cleanly,
    programme_period,
    workspace,
)
from ledger.errors import LedgerError


@click.command("generate")
@programme_period
@click.option("--unit", "units", multiple=True, help="只生成该牵头单位的台账（可重复）；默认全部牵头单位。")
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
    from ledger.periods import parse_period
    from ledger.stage import open_workspace_store

    ws = workspace()
    out = output.resolve() if output else None
    if no_prefill or not ws.paths.store.is_file():  # no history yet: nothing to pre-fill
        made = generate(ws, programme, period, units=units or None, out_dir=out, jobs=jobs)
    else:
        key = parse_period(period, ws.programme(programme).reporting.cycle).key
        with open_workspace_store(ws) as store:
            made = generate(ws, programme, period, units=units or None, out_dir=out, jobs=jobs,
                            previous_for=previous_from_store(store, programme, key))
    if as_json:
        echo_json({"workbooks": [{"unit": g.unit, "path": str(g.path), "tasks": g.tasks, "sha256": g.sha256}
                                  for g in made]})
        return
    click.echo(f"已生成 {len(made)} 个工作台账，共 {sum(g.tasks for g in made)} 项任务：")
    for g in made:
        click.echo(f"   {g.unit}（{g.tasks} 项）→ {g.path}")


@click.command("collect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@programme_period
@click.option("--no-receipts", is_flag=True, help="不生成回执。")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, show_default=True,
              help="并行读取的进程数；0 表示自动（文件较多时每个 CPU 核两个进程），1 表示不另起进程。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出每个文件的处理结果。")
@fail_cleanly
def collect_cmd(paths: tuple[Path, ...], programme: str, period: str, no_receipts: bool, jobs: int,
                as_json: bool) -> None:
    """收集各单位报回的工作台账（文件夹、.xlsx/.xls/.ods、.eml 邮件、.zip），校验、登记并生成回执。有退回时退出码为 1。"""
    from ledger.collect.api import OUTCOME_NAMES, collect
    from ledger.collect.receipts import write_receipts
    from ledger.registry.api import load_directory
    from ledger.stage import load_registry

    ws = workspace()
    registry = load_registry(ws, programme)
    result = collect(ws, list(paths), programme, period, registry=registry, jobs=jobs)
    receipts = [] if no_receipts else write_receipts(ws, result, registry, load_directory(ws))
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


STATE_LABELS = {"on_time": "按时", "late": "逾期", "missing": "未报", "rejected": "退回"}


@click.command("status")
@programme_period
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@fail_cleanly
def status_cmd(programme: str, period: str, as_json: bool) -> None:
    """各牵头单位本期报送情况：按时、逾期、未报、退回，及收到时间。"""
    from ledger.collect.status import SOURCE_NAMES, status

    per, rows = status(workspace(), programme, period)
    if as_json:
        echo_json({"programme": programme, "period": per.key, "units": [r.as_dict() for r in rows]})
        return
    click.echo(f"{per.label()} 报送情况（共 {len(rows)} 个牵头单位）")
    for r in rows:
        when = f"{r.received_at:%m-%d %H:%M}（{SOURCE_NAMES[r.received_source or 'collected']}）" if r.received_at else "—"
        label = STATE_LABELS[r.state] + ("（未到截止时间）" if r.state == "missing" and not r.past_due else "")
        click.echo(f"{label}\t{r.unit}\t{when}\t截止 {r.due:%m-%d %H:%M}")
    counts = {s: sum(r.state == s for r in rows) for s in STATE_LABELS}
    click.echo("，".join(f"{STATE_LABELS[s]} {n}" for s, n in counts.items()))


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
    from ledger.periods import parse_period
    from ledger.registry.api import load_directory
    from ledger.stage import load_registry

    ws = workspace()
    per = parse_period(period, ws.programme(programme).reporting.cycle)
    folder = ws.out_dir(programme, per.key) / TEMPLATES_DIR
    workbooks = {u: folder / layout.workbook_name(per.key, u) for u in load_registry(ws, programme).lead_units()}
    made = {u: p for u, p in workbooks.items() if p.is_file()}
    if not made:
        raise LedgerError(f"{folder} 中没有本期工作台账。请先运行 ledger generate -p {programme} --period {per.key}。")
    drafts, problems = write_drafts(ws, programme, per.key, made, load_directory(ws))
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
    from ledger.periods import parse_period

    ws = workspace()
    per = parse_period(period, ws.programme(programme).reporting.cycle)
    outbox = ws.out_dir(programme, per.key) / "outbox"
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
    from ledger.collect.status import reminder_reasons, status
    from ledger.mail import write_reminders
    from ledger.registry.api import load_directory
    from ledger.stage import open_workspace_store

    ws = workspace()
    with open_workspace_store(ws) as store:
        per, rows = status(ws, programme, period, store=store)
        reasons = reminder_reasons(rows, store)
    drafts, problems = write_reminders(ws, programme, per.key, reasons, load_directory(ws))
    click.echo(f"催报草稿 {len(drafts)} 封（未报送 {sum(r.state == 'missing' for r in rows)}，"
               f"退回 {sum(r.state == 'rejected' for r in rows)}）。")
    for d in drafts:
        click.echo(f"   → {d.path}")
    echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)
