"""任务: one task across the consolidated periods — each lead unit's light, 完成进度, status,
progress text and the reason for its light, as a chart and a table."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ledger.web import known
from ledger.web.charts import progress_chart
from ledger.web.security import Refused
from ledger.web.site import Site, page

PERIODS = 12  # the last worked periods shown


def task_view(site: Site, programme_id: str, task_id: str) -> dict[str, Any]:
    from ledger.consolidate.model import LIGHT_NAMES

    ws = site.workspace()
    programme = ws.programme(programme_id)
    periods = known.worked_periods(ws, programme)[-PERIODS:]
    with site.run(programme.id, known.current_period(programme, site.clock().date()), ws) as run:
        try:
            task = run.registry.task(task_id)
        except KeyError:
            raise Refused(404, f"项目 {programme.id} 的任务清单中没有任务 {task_id}。") from None
        cells: dict[str, dict[str, dict[str, Any]]] = {}
        schedule: dict[str, int | None] = {}
        shown = []
        for period in periods:
            rows = [r for r in run.store.lights(programme.id, period.key) if r.get("task_id") == task_id]
            if not rows:
                continue
            shown.append(period)
            for r in rows:
                cells.setdefault(str(r["unit"]), {})[period.key] = r
                schedule[period.key] = r.get("schedule_percent")
    chart = progress_chart([p.key for p in shown], cells, task.lead_units, schedule)
    chart.labels = [(x, p.short_label()) for (x, _), p in zip(chart.labels, shown, strict=True)]
    table = [(p, [(u, cells.get(u, {}).get(p.key)) for u in task.lead_units]) for p in reversed(shown)]
    return {"programme": programme, "task": task, "chart": chart, "table": table, "light_names": LIGHT_NAMES,
            "periods": PERIODS}


async def show(request: Request) -> Response:
    p = request.path_params
    return await page(request, "task.html", task_view, p["programme"], p["task"])

