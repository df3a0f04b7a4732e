"""本期: one programme's period — the status board, its files, and the actions of the cycle.

Each action calls what the command of the same name calls (``ledger generate``, ``mail
drafts``, ``mail reminders``, ``consolidate``) and returns to the board with what it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ledger.due import day_and_time
from ledger.errors import LedgerError
from ledger.periods import Period, parse_period, to_china_time
from ledger.problems import Problem
from ledger.web import known
from ledger.web.files import download, lookup, zip_response
from ledger.web.overview import glance, period_files
from ledger.web.site import Message, Site, action, done, page, render, site_of

SHOWN_PROBLEMS = 3  # per unit on the board; the receipt has them all


@dataclass
class BoardRow:
    """One lead unit on the status board."""

    unit: str
    state: str
    name: str
    due: str
    received: str = "—"
    file: str = ""
    submission_id: int | None = None
    errors: int = 0
    warnings: int = 0
    problems: list[Problem] = field(default_factory=list)
    receipt_id: str = ""
    workbook_id: str = ""


def period_of(site: Site, programme_id: str, key: str) -> tuple[Any, Period]:
    """The workspace's programme and the period *key* of its cycle (a LedgerError if either is unknown)."""
    ws = site.workspace()
    programme = ws.programme(programme_id)
    return ws, parse_period(key, programme.reporting.cycle)


def board(site: Site, programme_id: str, key: str) -> dict[str, Any]:
    """Everything the 本期 page shows."""
    from ledger.collect.receipts import RECEIPTS_DIR, receipts_by_key
    from ledger.generate import TEMPLATES_DIR
    from ledger.reporting import period_status, received_text

    ws = site.workspace()
    with site.run(programme_id, key, ws) as run:
        period, year = run.period, run.period.year
        rows = period_status(run)
        subs = {s.id: s for s in run.store.current_submissions(run.programme.id, period.key)}
        files = period_files(run)
        ids = files.ids
        receipts = receipts_by_key(run.out_dir() / RECEIPTS_DIR)
        board_rows = []
        for r in rows:
            row = BoardRow(r.unit, r.state, r.name, day_and_time(r.due, year))
            wb = files.workbooks.get(r.unit)
            row.workbook_id = ids.get(f"{TEMPLATES_DIR}/{wb.name}", "") if wb else ""
            sub = subs.get(r.submission_id) if r.submission_id is not None else None
            if sub is not None and r.received_at is not None:
                row.received = received_text(r.received_at, r.received_source, year)
                row.file, row.submission_id = sub.source_name, sub.id
                row.errors = sum(p.is_error for p in sub.problems)
                row.warnings = len(sub.problems) - row.errors
                row.problems = sorted(sub.problems, key=lambda p: not p.is_error)[:SHOWN_PROBLEMS]
                found = receipts.get(sub.sha256[:8])
                row.receipt_id = ids.get(f"{RECEIPTS_DIR}/{found.name}", "") if found else ""
            board_rows.append(row)
        view = glance(run, rows, files)
        programme = run.programme
    return {
        "programme": programme, "period": period, "glance": view, "rows": board_rows, "mails": files.mails,
        "summary_id": files.summary_id, "workbooks": len(files.workbooks),
        "nav": _nav(ws, programme, period, site), "month": known.month_of(period), "limits": site.limits,
    }


def _nav(ws: Any, programme: Any, period: Period, site: Site) -> dict[str, Any]:
    """Links to the neighbouring periods, today's, and the periods worked so far."""
    worked = known.worked_periods(ws, programme)
    today = known.current_period(programme, site.clock().date())
    return {"previous": period.previous(), "next": period.next(), "today": today,
            "worked": [p for p in worked if p != period][-12:]}


async def show(request: Request) -> Response:
    p = request.path_params
    return await page(request, "period.html", board, p["programme"], p["period"])


async def _act(request: Request, work: Any, anchor: str, *args: Any) -> Response:
    """Run *work(site, programme, period, *args)* in a worker thread; back to the board with its message."""
    p = request.path_params
    try:
        message = await run_in_threadpool(work, site_of(request), p["programme"], p["period"], *args)
    except LedgerError as exc:
        message = Message("未能完成", [str(exc)], ok=False)
    response = done(request, message, "period", programme=p["programme"], period=p["period"])
    response.headers["location"] += f"#{anchor}"
    return response


def _generate(site: Site, programme_id: str, key: str, force: bool) -> Message:
    from ledger.generate import generate
    from ledger.generate.prefill import previous_from_store

    with site.run(programme_id, key) as run:
        previous_for = previous_from_store(run) if run.has_history else None
        made = generate(run, previous_for=previous_for, force=force)
    return Message(f"已生成 {len(made)} 个工作台账，共 {sum(g.tasks for g in made)} 项任务。")


def _drafts(site: Site, programme_id: str, key: str) -> Message:
    from ledger.generate import generated_workbooks
    from ledger.mail import write_drafts

    with site.run(programme_id, key) as run:
        made = generated_workbooks(run)
        if not made:
            raise LedgerError("本期尚未生成工作台账，请先点“生成台账”。")
        missing = [u for u in run.registry.lead_units() if u not in made]
        drafts, problems = write_drafts(run, made)
    lines = [f"以下单位尚无工作台账，未写草稿：{'、'.join(missing)}"] if missing else []
    return Message(f"已写邮件草稿 {len(drafts)} 封。", lines, problems, ok=not any(p.is_error for p in problems))


def _reminders(site: Site, programme_id: str, key: str) -> Message:
    from ledger.mail import reminder_reasons, write_reminders
    from ledger.reporting import period_status

    with site.run(programme_id, key) as run:
        rows = period_status(run)
        drafts, problems = write_reminders(run, reminder_reasons(run, rows))
    title = (f"催报草稿 {len(drafts)} 封（未报送 {sum(r.state == 'missing' for r in rows)}，"
             f"退回 {sum(r.state == 'rejected' for r in rows)}）。")
    return Message(title, [], problems, ok=not any(p.is_error for p in problems))


def _consolidate(site: Site, programme_id: str, key: str) -> Message:
    from ledger.consolidate.api import consolidate

    with site.run(programme_id, key) as run:
        summary = consolidate(run)
    return Message("已汇总。", summary.lines())


@action
async def generate(request: Request, form: FormData) -> Response:
    return await _act(request, _generate, "generate", form.get("force") == "1")


@action
async def mail_drafts(request: Request, form: FormData) -> Response:
    return await _act(request, _drafts, "mail")


@action
async def reminders(request: Request, form: FormData) -> Response:
    return await _act(request, _reminders, "mail")


@action
async def consolidate(request: Request, form: FormData) -> Response:
    return await _act(request, _consolidate, "consolidate")


def _folder(site: Site, programme_id: str, key: str) -> Path:
    ws, period = period_of(site, programme_id, key)
    return ws.out_dir(programme_id, period.key)


async def file(request: Request) -> Response:
    """One file of the period's folder, by id."""
    p = request.path_params
    folder = await run_in_threadpool(_folder, site_of(request), p["programme"], p["period"])
    return download(lookup(folder, p["fid"]).path)


def _workbooks(site: Site, programme_id: str, key: str) -> tuple[list[Path], str]:
    from ledger.generate import generated_workbooks

    with site.run(programme_id, key) as run:
        return list(generated_workbooks(run).values()), f"{run.period.key}_工作台账.zip"


async def workbooks_zip(request: Request) -> Response:
    """The period's workbooks as one .zip."""
    p = request.path_params
    paths, name = await run_in_threadpool(_workbooks, site_of(request), p["programme"], p["period"])
    if not paths:
        raise LedgerError("本期尚未生成工作台账。")
    return zip_response(paths, name)


def _mail(site: Site, programme_id: str, key: str, fid: str) -> dict[str, Any]:
    ws, period = period_of(site, programme_id, key)
    known_file = lookup(ws.out_dir(programme_id, period.key), fid)
    if not known_file.name.endswith(".eml"):
        raise LedgerError("这不是邮件文件。")
    data = known_file.path.read_bytes()
    msg = BytesParser(policy=policy.default).parsebytes(data)
    raw = BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)
    body = msg.get_body(preferencelist=("plain",))
    headers = [(name, _decoded(raw[key])) for name, key in
               (("发件人", "From"), ("收件人", "To"), ("抄送", "Cc"), ("主题", "Subject")) if raw[key]]
    if msg["Date"] is not None and msg["Date"].datetime is not None:
        headers.append(("日期", day_and_time(to_china_time(msg["Date"].datetime))))
    return {
        "programme": ws.programme(programme_id), "period": period, "file": known_file, "headers": headers,
        "body": body.get_content() if body is not None else "",
        "attachments": [part.get_filename() or "（未命名附件）" for part in msg.iter_attachments()],
    }


def _decoded(value: Any) -> str:
    """A header as a person reads it: encoded words decoded and joined as RFC 2047 says (Python's
    address parser puts a space between two encoded words of one name)."""
    from email.header import decode_header, make_header

    return " ".join(str(make_header(decode_header(str(value)))).split())


async def mail_preview(request: Request) -> Response:
    """An e-mail draft as the unit will read it."""
    p = request.path_params
    context = await run_in_threadpool(_mail, site_of(request), p["programme"], p["period"], p["fid"])
    return render(request, "mail.html", context)
