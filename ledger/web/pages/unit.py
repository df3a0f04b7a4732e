"""单位: one lead unit's every received file (verdict, receipt, the original as archived) and
its monthly scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ledger.problems import Problem
from ledger.web import known
from ledger.web.files import catalogue, download
from ledger.web.security import Refused
from ledger.web.site import Site, page, site_of


@dataclass
class Received:
    id: int
    period: str
    period_label: str
    file: str
    received: str
    outcome: str
    outcome_name: str
    problems: list[Problem] = field(default_factory=list)
    receipt_id: str = ""


def unit_view(site: Site, programme_id: str, unit: str) -> dict[str, Any]:
    from ledger.collect.receipts import RECEIPTS_DIR, receipts_by_key
    from ledger.periods import PeriodError, parse_period
    from ledger.reporting import OUTCOME_NAMES, received_text

    ws = site.workspace()
    programme = ws.programme(programme_id)
    with site.run(programme.id, known.current_period(programme, site.clock().date()), ws) as run:
        if unit not in run.registry.lead_units():
            raise Refused(404, f"单位“{unit}”不是项目 {programme.id} 的牵头单位。")
        tasks = run.registry.tasks_led_by(unit)
        history = run.store.history(programme.id, unit)
        months = known.worked_months(ws, programme)
        scores = []
        for month in reversed(months):
            row = next((s for s in run.store.scores(programme.id, month) if s.get("unit") == unit), None)
            if row is not None:
                scores.append((month, row))
    folders: dict[str, tuple[dict[str, Path], dict[Path, str]]] = {}
    files = []
    for sub in reversed(history):
        if sub.period not in folders:
            folder = ws.out_dir(programme.id, sub.period)
            folders[sub.period] = (receipts_by_key(folder / RECEIPTS_DIR),
                                   {k.path: k.id for k in catalogue(folder).values()})
        receipts, ids = folders[sub.period]
        try:
            period = parse_period(sub.period, programme.reporting.cycle)
            label = period.label()
        except PeriodError:
            period, label = None, sub.period
        found = receipts.get(sub.sha256[:8])
        files.append(Received(
            sub.id, sub.period, label, sub.source_name,
            received_text(sub.received_at, sub.received_source, period.year if period else None),
            sub.outcome, OUTCOME_NAMES.get(sub.outcome, sub.outcome),
            sorted(sub.problems, key=lambda p: not p.is_error), ids.get(found, "") if found else "",
        ))
    return {"programme": programme, "unit": unit, "tasks": tasks, "files": files, "scores": scores}


async def show(request: Request) -> Response:
    p = request.path_params
    return await page(request, "unit.html", unit_view, p["programme"], p["unit"])


def _original(site: Site, programme_id: str, submission_id: int) -> tuple[Path, str]:
    from ledger.fsutil import safe_filename

    ws = site.workspace()
    programme = ws.programme(programme_id)
    with site.run(programme.id, known.current_period(programme, site.clock().date()), ws) as run:
        sub = run.store.submission(submission_id)
    if sub is None or sub.programme != programme.id or not sub.archived_path.is_file():
        raise Refused(404, "历史库中没有这个文件。")
    name = safe_filename(sub.source_name.split(" / ")[-1].strip()) or sub.archived_path.name
    if Path(name).suffix.lower() != sub.archived_path.suffix.lower():
        name += sub.archived_path.suffix
    return sub.archived_path, name


async def original(request: Request) -> Response:
    """A received file exactly as it came in, from the archive, by its number in the store."""
    p = request.path_params
    path, name = await run_in_threadpool(_original, site_of(request), p["programme"], p["submission"])
    return download(path, name)
