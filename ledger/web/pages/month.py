"""月度: a month's assessment and bulletin — scores with every deduction, the bulletin's
preview and its downloads (.docx, .pdf, 考核得分.xlsx)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ledger.errors import LedgerError
from ledger.periods import parse_month, periods_in_month
from ledger.web import known
from ledger.web.files import Known, catalogue, download, lookup
from ledger.web.security import PREVIEW_CSP, Refused
from ledger.web.site import Message, Site, action, done, page, site_of

BULLETIN = "考核通报"


def _files(folder: Path) -> dict[str, Known | None]:
    from ledger.assess.api import SCORES_FILE

    found = list(catalogue(folder, ("",)).values())

    def first(suffix: str) -> Known | None:
        return next((k for k in found if k.name.endswith(suffix)), None)

    return {"xlsx": first(SCORES_FILE), "docx": first(f"{BULLETIN}.docx"), "pdf": first(f"{BULLETIN}.pdf"),
            "html": first(f"{BULLETIN}.html"), "chart": first(".png")}


def month_view(site: Site, programme_id: str, month: str) -> dict[str, Any]:
    ws = site.workspace()
    programme = ws.programme(programme_id)
    key = parse_month(month)
    with site.month_run(programme.id, key.key) as run:
        scores = run.store.scores(programme.id, key.key)
        folder = run.out_dir()
    periods = periods_in_month(key.start.year, key.start.month, programme.reporting.cycle)
    months = known.worked_months(ws, programme)
    return {"programme": programme, "month": key, "scores": scores, "files": _files(folder), "periods": periods,
            "months": [m for m in months if m != key.key][-12:], "today": site.clock().date()}


async def show(request: Request) -> Response:
    p = request.path_params
    return await page(request, "month.html", month_view, p["programme"], p["month"])


def _assess(site: Site, programme_id: str, month: str, issued: date | None) -> Message:
    from ledger.assess import assess

    with site.month_run(programme_id, month) as run:
        result = assess(run)
    lines = [f"{s.rank}. {s.unit} {s.total:g} 分 {s.grade} {s.change}" for s in result.scores[:5]]
    return Message(f"{result.month.label()}考核：{len(result.periods)} 个报送周期，{len(result.scores)} 个牵头单位。",
                   lines + [f"提示：{n}" for n in result.notes])


def _bulletin(site: Site, programme_id: str, month: str, issued: date | None) -> Message:
    from ledger.assess import write_bulletin

    with site.month_run(programme_id, month) as run:
        files = write_bulletin(run, pdf=site.pdf, issued=issued)
    made = [label for label, path in (("Word", files.docx), ("HTML", files.html), ("PDF", files.pdf)) if path]
    return Message(f"第 {files.number} 期考核通报已生成（{'、'.join(made)}）。", [f"提示：{w}" for w in files.warnings])


async def _act(request: Request, form: FormData, work: Any) -> Response:
    p = request.path_params
    text = form.get("issued")
    try:
        issued = date.fromisoformat(text) if isinstance(text, str) and text else None
    except ValueError:
        raise Refused(400, f"成文日期“{text}”格式不对，应为 2022-07-05 这样的日期。") from None
    try:
        message = await run_in_threadpool(work, site_of(request), p["programme"], p["month"], issued)
    except LedgerError as exc:
        message = Message("未能完成", [str(exc)], ok=False)
    return done(request, message, "month", programme=p["programme"], month=p["month"])


@action
async def assess(request: Request, form: FormData) -> Response:
    return await _act(request, form, _assess)


@action
async def bulletin(request: Request, form: FormData) -> Response:
    return await _act(request, form, _bulletin)


def _folder(site: Site, programme_id: str, month: str) -> Path:
    ws = site.workspace()
    programme = ws.programme(programme_id)
    return ws.out_dir(programme.id, parse_month(month).key)


async def file(request: Request) -> Response:
    p = request.path_params
    folder = await run_in_threadpool(_folder, site_of(request), p["programme"], p["month"])
    return download(lookup(folder, p["fid"]).path)


async def preview(request: Request) -> Response:
    """The bulletin's HTML, framed by the month page: its own inline style allowed, no script at all."""
    p = request.path_params
    folder = await run_in_threadpool(_folder, site_of(request), p["programme"], p["month"])
    html = _files(folder)["html"]
    if html is None:
        raise Refused(404, "本月尚未生成考核通报。")
    return FileResponse(html.path, media_type="text/html; charset=utf-8",
                        headers={"content-security-policy": PREVIEW_CSP, "x-frame-options": "SAMEORIGIN"})
