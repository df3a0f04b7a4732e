"""在线报送: the pages a unit opens through its own link (``/u/<token>/…``).

The link (``request.state.link``, checked by :func:`ledger.web.auth.unit`) is the only thing that
names the programme and the unit: no request parameter can point at another. A unit sees the
period that is due (and the one before, for a late report), its tasks and due time, its own
workbook, an upload of the filled file, the form of 在线填报, and its own receipts. Uploads and
forms go through ``collect`` exactly as the office's files do, as the unit's own
(``collect(..., unit=...)`` sends another unit's file back), each counted against the link's
limits for the period and written to the web log.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from ledger import layout
from ledger.periods import Period, parse_period, period_containing
from ledger.problems import Problem
from ledger.run import Run
from ledger.store import Link, WebEvent
from ledger.web import fill
from ledger.web.auth import address, unit
from ledger.web.pages.upload import Judged, clean_name, judge, log_verdicts
from ledger.web.security import Refused
from ledger.web.site import KiB, Message, Site, done, read_form, render, site_of

FILE_FIELD = "file"


def open_periods(site: Site, link: Link) -> list[Period]:
    """The periods the unit may report through its link, the one due first: the period that
    contains today, and the one before (first while its due time has not passed)."""
    from ledger.reporting import due_for

    ws = site.workspace()
    programme = ws.programme(link.programme)
    now = site.clock()
    current = period_containing(now.date(), programme.reporting.cycle)
    previous = current.previous()
    with site.run(programme.id, previous, ws) as run:
        still_due = now <= due_for(run.programme, run.registry, link.unit, previous)
    return [previous, current] if still_due else [current, previous]


def chosen_period(site: Site, link: Link, key: str | None) -> Period:
    """The period *key* if the link may report it (the due one when *key* is None), else a 404."""
    periods = open_periods(site, link)
    if key is None:
        return periods[0]
    for period in periods:
        if period.key == key:
            return period
    raise Refused(404, f"此链接只能报送{'和'.join(p.label() for p in periods)}的台账。")


@dataclass
class Receipted:
    """One file the unit sent, as its page lists it."""

    id: int
    period: str
    file: str
    received: str
    outcome: str
    outcome_name: str
    errors: list[Problem] = field(default_factory=list)
    receipt: bool = False


def overview(site: Site, link: Link, key: str | None) -> dict[str, Any]:
    """What the unit's page shows for one period."""
    from ledger.collect.receipts import RECEIPTS_DIR, receipts_by_key
    from ledger.due import day_and_time, lateness_text
    from ledger.periods import PeriodError
    from ledger.reporting import OUTCOME_NAMES, period_status, received_text

    period = chosen_period(site, link, key)
    periods = open_periods(site, link)
    with site.run(link.programme, period) as run:
        row = next((r for r in period_status(run) if r.unit == link.unit), None)
        forms, _source = fill.task_forms(run, link.unit)
        history = list(reversed(run.store.history(run.programme.id, link.unit)))
        programme, now, year = run.programme, run.now, run.period.year
        usage = run.store.link_usage(link.id, period.key)
        folders: dict[str, dict[str, Path]] = {}
        sent = []
        for sub in history:
            if sub.period not in folders:
                folders[sub.period] = receipts_by_key(run.ws.out_dir(programme.id, sub.period) / RECEIPTS_DIR)
            try:
                label = parse_period(sub.period, programme.reporting.cycle).label()
            except PeriodError:
                label = sub.period
            sent.append(Receipted(sub.id, label, sub.source_name,
                                  received_text(sub.received_at, sub.received_source, year), sub.outcome,
                                  OUTCOME_NAMES.get(sub.outcome, sub.outcome), [p for p in sub.problems if p.is_error],
                                  sub.sha256[:8] in folders[sub.period]))
    due = row.due if row else None
    countdown = ""
    if due is not None:
        countdown = f"距截止还有{lateness_text(now, due)}" if now < due else f"已过截止时间{lateness_text(due, now)}"
    received = received_text(row.received_at, row.received_source, year) if row and row.received_at else ""
    return {
        "link": link, "programme": programme, "period": period, "periods": periods, "row": row, "received": received,
        "due": day_and_time(due, year) if due else "—", "countdown": countdown, "past_due": due is not None and now > due,
        "forms": forms, "sent": sent[:30], "limits": site.limits, "usage": usage,
    }


async def _page(request: Request, key: str | None) -> Response:
    link = request.state.link
    context = await run_in_threadpool(overview, site_of(request), link, key)
    return render(request, "report.html", context)


@unit
async def home(request: Request) -> Response:
    """The unit's page: the period that is due now."""
    return await _page(request, None)


@unit
async def period_page(request: Request) -> Response:
    return await _page(request, request.path_params["period"])


def _workbook(site: Site, link: Link, key: str) -> tuple[bytes, str]:
    """The unit's 工作台账 of the period: the one the office generated (and mailed), else made now
    as ``ledger generate`` makes it (see :func:`_on_record`)."""
    from ledger.generate import generated_workbooks

    period = chosen_period(site, link, key)
    with site.run(link.programme, period) as run:
        name = layout.workbook_name(period.key, link.unit)
        if not run.registry.tasks_led_by(link.unit):
            raise Refused(404, "本期没有需要你单位报送的任务。")
        _on_record(run, link.unit)
        made = generated_workbooks(run).get(link.unit)
        if made is not None:
            return made.read_bytes(), name
        return _build(run, link.unit), name


def _on_record(run: Run, unit: str) -> None:
    """When the office's record of what it sent (generate's manifests, docs/reliability.md) covers
    the period but not *unit*, generate the unit's workbook as ``ledger generate --unit`` does, so
    that what the unit returns can be checked against a record; a period without any record is
    left so (its workbooks are checked by their seal)."""
    from ledger.generate import generate
    from ledger.generate.prefill import previous_from_store

    recorded = run.store.manifests(run.programme.id, run.period.key)
    if recorded and unit not in recorded:
        generate(run, units=[unit], previous_for=previous_from_store(run) if run.has_history else None)


def _build(run: Run, unit: str, entered: layout.Entered | None = None) -> bytes:
    """The unit's workbook as ``ledger generate`` makes it (pre-filled from the store), with *entered*."""
    from ledger.generate import build_workbook, index_registry
    from ledger.generate.prefill import previous_from_store

    previous = previous_from_store(run)(unit) if run.has_history else None
    return build_workbook(run.registry, run.programme, run.period, unit, previous, key=run.key,
                          index=index_registry(run.registry), paper=run.ws.printing.ledger, entered=entered)


@unit
async def workbook(request: Request) -> Response:
    """Download the unit's own 工作台账 of the period."""
    from urllib.parse import quote

    from ledger.web.files import MEDIA_TYPES

    data, name = await run_in_threadpool(_workbook, site_of(request), request.state.link, request.path_params["period"])
    return Response(data, media_type=MEDIA_TYPES[".xlsx"],
                    headers={"content-disposition": f"attachment; filename*=utf-8''{quote(name)}"})


def _room(site: Site, link: Link, period: Period) -> int:
    """Bytes the link may still send for *period*; a 429 when its files or bytes are used up."""
    limits = site.limits
    files, used = site.store(site.workspace()).link_usage(link.id, period.key)
    if files >= limits.link_files or used >= limits.link_bytes:
        raise Refused(429, f"本期经此链接已提交 {files} 次（共 {used / 1048576:.1f} MB），达到上限（{limits.link_files} 次、"
                           f"{limits.link_bytes // 1048576} MB）。如确需再次报送，请与督查室联系。")
    return limits.link_bytes - used


def _verdict_message(judged: Judged, period: Period) -> Message:
    """What the unit is told right after sending: the verdict, its problems and its receipt."""
    if judged.wrong_period is not None:
        which = judged.wrong_label or "其他期次"
        return Message(f"这是{which}的台账，本页收取的是{period.label()}的台账，未登记。", ok=False,
                       lines=["请下载本期的工作台账填写后重新上传。"])
    if not judged.verdicts:
        return Message("未收到可以登记的台账文件。", [p.render() for p in judged.problems + judged.skipped], ok=False)
    v = judged.verdicts[0]
    title = {"accepted": "已收到，通过校验。", "rejected": "已收到，但未通过校验，已退回：请按下列问题修改后重新报送。",
             "duplicate": "这份文件此前已经收到过（内容完全相同），不再重复登记。",
             "superseded": "已收到；本期已有你单位更晚报送的内容，本文件仅存档。"}.get(v.outcome, v.text)
    return Message(title, [f"收到时间：{v.received}"], v.problems, ok=v.outcome != "rejected", detail=tidy(v.receipt))


def tidy(receipt: str) -> str:
    """A receipt as a page shows it: the blank lines its template leaves where a section is empty
    (a file keeps them) drawn as one."""
    return re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", receipt).strip()


def _stamp_now(path: Path, now: datetime) -> None:
    """A unit's file is received when the server gets it: a modification time after *now* makes
    collect take the time of collecting (a browser's file time says nothing here)."""
    moment = (now + timedelta(days=1)).timestamp()
    os.utime(path, (moment, moment))


@unit
async def upload(request: Request) -> Response:
    """The unit uploads its filled workbook: judged at once, the verdict and receipt shown."""
    site = site_of(request)
    link: Link = request.state.link
    period = await run_in_threadpool(chosen_period, site, link, request.path_params["period"])
    room = await run_in_threadpool(_room, site, link, period)
    limits = site.limits
    form = await read_form(request, upload=True, size=min(limits.link_file_bytes, room) + 64 * KiB, files=1, fields=4)
    try:
        item = form.get(FILE_FIELD)
        if not isinstance(item, UploadFile) or not item.filename:
            raise Refused(400, "没有收到文件：请先选择填好的工作台账。")
        with tempfile.TemporaryDirectory(prefix="ledger-link-") as tmp:
            path = Path(tmp) / clean_name(item.filename, 0)
            await run_in_threadpool(_copy, item, path, site.clock())
            sizes = {path.name: path.stat().st_size}
            judged = await run_in_threadpool(judge, site, link.programme, period.key, [path], None, False, link.unit)
    finally:
        await form.close()
    await run_in_threadpool(log_verdicts, site, request, judged, sizes, link.programme, period.key, link=link)
    return done(request, _verdict_message(judged, period), "report_period", token=request.path_params["token"],
                period=period.key)


def _copy(item: UploadFile, path: Path, now: datetime) -> None:
    import shutil

    with path.open("wb") as out:
        item.file.seek(0)
        shutil.copyfileobj(item.file, out, 1024 * 1024)
    _stamp_now(path, now)


@unit
async def fill_page(request: Request) -> Response:
    """在线填报: the form, pre-filled."""
    site = site_of(request)
    context = await run_in_threadpool(_form_context, site, request.state.link, request.path_params["period"], None)
    return render(request, "report_fill.html", context)


def _form_context(site: Site, link: Link, key: str, typed: dict[str, dict[str, str]] | None,
                  info: dict[str, str] | None = None, problems: list[Problem] | None = None) -> dict[str, Any]:
    from ledger.due import day_and_time
    from ledger.generate import index_registry
    from ledger.reporting import due_for

    period = chosen_period(site, link, key)
    with site.run(link.programme, period) as run:
        forms, source = fill.task_forms(run, link.unit, typed)
        if not forms:
            raise Refused(404, "本期没有需要你单位报送的任务。")
        rest = fill.place(forms, problems or [], index_registry(run.registry).columns)
        due = due_for(run.programme, run.registry, link.unit, period)
        programme = run.programme
    return {"link": link, "programme": programme, "period": period, "forms": forms, "source": source,
            "info": info or {}, "info_fields": fill.INFO, "fields": fill.FIELDS, "main": fill.MAIN, "more": fill.MORE,
            "statuses": layout.UNIT_STATUSES, "no_percent": layout.NO_PERCENT[0], "rest": rest,
            "errors": sum(f.errors for f in forms) + sum(p.is_error for p in rest),
            "due": day_and_time(due, period.year), "field_name": fill.field_name}


@dataclass
class Saved:
    """What saving the form came to: a verdict (stored), or the form again with collect's problems."""

    judged: Judged | None = None
    problems: list[Problem] = field(default_factory=list)
    size: int = 0
    name: str = ""


def _save(site: Site, link: Link, period: Period, rows: dict[str, dict[str, str]], info: dict[str, str]) -> Saved:
    """The unit's workbook with what it typed, checked as collect checks it; stored (as the
    unit's own, through the same collect) only when it would be accepted."""
    from ledger.collect.api import check_file

    with site.run(link.programme, period) as run:
        _on_record(run, link.unit)
        data = _build(run, link.unit, fill.entered(rows, info, run.now))
        name = layout.workbook_name(period.key, link.unit).replace(".xlsx", f"{fill.WEB_SUFFIX}.xlsx")
        with tempfile.TemporaryDirectory(prefix="ledger-fill-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            _stamp_now(path, run.now)
            problems = check_file(run, path, unit=link.unit)
            if any(p.is_error for p in problems):
                return Saved(problems=problems, size=len(data), name=name)
            judged = judge(site, link.programme, period.key, [path], None, False, link.unit)
    return Saved(judged, size=len(data), name=name)


@unit
async def save(request: Request) -> Response:
    """在线填报 saved: a submission exactly as the same values in the workbook would be."""
    site = site_of(request)
    link: Link = request.state.link
    period = await run_in_threadpool(chosen_period, site, link, request.path_params["period"])
    await run_in_threadpool(_room, site, link, period)
    tasks = await run_in_threadpool(_tasks, site, link, period)
    form = await read_form(request, size=site.limits.fill_bytes,
                           fields=len(tasks) * len(layout.INPUT_KEYS) + len(fill.INFO) + 2)
    rows, info = fill.from_form(form, tasks)
    saved = await run_in_threadpool(_save, site, link, period, rows, info)
    if saved.judged is None:
        now, where = site.clock(), address(request)
        await run_in_threadpool(site.log, WebEvent(now, where, "fill-refused", link_id=link.id, programme=link.programme,
                                                   period=period.key, unit=link.unit, verdict="not-saved",
                                                   detail=f"{sum(p.is_error for p in saved.problems)} 处错误"))
        context = await run_in_threadpool(_form_context, site, link, period.key, rows, info, saved.problems)
        return render(request, "report_fill.html", context)  # the form again, to correct (nothing stored)
    await run_in_threadpool(log_verdicts, site, request, saved.judged, {saved.name: saved.size}, link.programme,
                            period.key, link=link, event="fill")
    return done(request, _verdict_message(saved.judged, period), "report_period", token=request.path_params["token"],
                period=period.key)


def _tasks(site: Site, link: Link, period: Period) -> list[Any]:
    with site.run(link.programme, period) as run:
        tasks = run.registry.tasks_led_by(link.unit)
    if not tasks:
        raise Refused(404, "本期没有需要你单位报送的任务。")
    return tasks


def _receipt(site: Site, link: Link, submission_id: int) -> dict[str, Any]:
    from ledger.collect.receipts import RECEIPTS_DIR, receipts_by_key

    ws = site.workspace()
    store = site.store(ws)
    sub = store.submission(submission_id)
    if sub is None or sub.programme != link.programme or sub.unit != link.unit:
        raise Refused(404, "没有这份回执。")
    found = receipts_by_key(ws.out_dir(sub.programme, sub.period) / RECEIPTS_DIR).get(sub.sha256[:8])
    if found is None:
        raise Refused(404, "这份文件的回执尚未写出，请稍后再看，或与督查室联系。")
    return {"link": link, "programme": ws.programme(link.programme), "submission": sub,
            "text": tidy(found.read_text(encoding="utf-8"))}


@unit
async def receipt(request: Request) -> Response:
    """One of the unit's own receipts, as text on a page."""
    context = await run_in_threadpool(_receipt, site_of(request), request.state.link, request.path_params["submission"])
    return render(request, "report_receipt.html", context)
