"""任务清单: the registry with filters (annex, lead unit, light, due this month), a page at a
time, and the problems ``ledger registry check`` finds in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ledger.errors import LedgerError
from ledger.registry.model import Task
from ledger.web import known
from ledger.web.site import Site, page

PAGE = 100
SHOWN_PROBLEMS = 200  # errors first; `ledger registry check` lists them all


@dataclass(frozen=True)
class Filters:
    annex: str = ""
    unit: str = ""
    light: str = ""
    due_month: bool = False
    page: int = 1

    @classmethod
    def of(cls, query: Any) -> Filters:
        number = query.get("page", "1")
        return cls(query.get("annex", ""), query.get("unit", ""), query.get("light", ""),
                   query.get("due") == "month", int(number) if number.isdigit() and 0 < int(number) < 10**6 else 1)

    def query(self, **change: Any) -> str:
        """This filter as a query string, with *change* applied."""
        from urllib.parse import urlencode

        values = {"annex": self.annex, "unit": self.unit, "light": self.light,
                  "due": "month" if self.due_month else "", "page": self.page, **change}
        return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == 1)})


def due_in_month(task: Task, today: date) -> bool:
    """A deadline or milestone of the task falls in *today*'s month."""
    days = [m.due for m in task.milestones] + ([task.deadline] if task.deadline else [])
    return any((d.year, d.month) == (today.year, today.month) for d in days)


def task_list(site: Site, programme_id: str, filters: Filters) -> dict[str, Any]:
    from ledger.consolidate.model import LIGHT_NAMES
    from ledger.consolidate.summary import FILE_NAME

    ws = site.workspace()
    programme = ws.programme(programme_id)
    today = site.clock().date()
    if not ws.registry_path(programme.id).is_file():
        problems, registry = [], None
    else:
        problems = site.registry_problems(ws, programme.id)
        try:
            registry = site.registry(ws, programme.id)
        except LedgerError:  # errors that stop every stage: the problems say which
            registry = None
    lights: dict[tuple[str, str], str] = {}
    lights_period = None
    tasks: list[Task] = []
    if registry is not None:
        for period in reversed(known.worked_periods(ws, programme)):
            if (ws.out_dir(programme.id, period.key) / FILE_NAME).is_file():
                lights_period = period
                break
        if lights_period is not None and filters.light:  # a period's every light is read only to filter by them
            with site.run(programme.id, lights_period, ws) as run:
                lights = {(str(r["task_id"]), str(r["unit"])): str(r["light"])
                          for r in run.store.lights(programme.id, lights_period.key)}
        tasks = [t for t in registry.tasks if _keep(t, filters, lights, today)]
    pages = max(1, -(-len(tasks) // PAGE))
    number = min(filters.page, pages)
    errors = sum(p.is_error for p in problems)
    return {
        "programme": programme, "errors": errors, "warnings": len(problems) - errors,
        "problems": sorted(problems, key=lambda p: not p.is_error)[:SHOWN_PROBLEMS], "filters": filters,
        "registry": registry,
        "tasks": tasks[(number - 1) * PAGE:number * PAGE], "matched": len(tasks), "page_number": number,
        "pages": pages, "lights": lights, "lights_period": lights_period, "light_names": LIGHT_NAMES,
        "annexes": {k: r.title for k, r in programme.annexes.items()},
        "units": registry.lead_units() if registry is not None else [], "today": today,
    }


def _keep(task: Task, f: Filters, lights: dict[tuple[str, str], str], today: date) -> bool:
    if f.annex and task.annex != f.annex:
        return False
    if f.unit and f.unit not in task.lead_units:
        return False
    if f.light and not any(lights.get((task.id, u)) == f.light for u in task.lead_units):
        return False
    return not f.due_month or due_in_month(task, today)


async def show(request: Request) -> Response:
    return await page(request, "tasks.html", task_list, request.path_params["programme"],
                      Filters.of(request.query_params))
