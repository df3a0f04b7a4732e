"""首页: every programme with the period that contains today and the periods worked last."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ledger.config import Programme
from ledger.errors import LedgerError
from ledger.web import known
from ledger.web.overview import Glance, glance, period_files
from ledger.web.site import Site, page

RECENT = 3  # worked periods shown besides today's


@dataclass
class Card:
    programme: Programme
    due_rule: str = ""
    error: str = ""
    periods: list[Glance] = field(default_factory=list)
    months: list[str] = field(default_factory=list)


def overview(site: Site) -> dict[str, Any]:
    from ledger.due import rule_sentence
    from ledger.reporting import period_status

    ws = site.workspace()
    today = site.clock().date()
    cards = []
    for programme in ws.programmes.values():
        card = Card(programme, rule_sentence(programme.reporting))
        cards.append(card)
        current = known.current_period(programme, today)
        worked = known.worked_periods(ws, programme)
        shown = [current] + [p for p in reversed(worked) if p != current][:RECENT]
        try:
            with site.run(programme.id, current, ws) as base:
                for period in shown:
                    run = base.for_period(period)
                    card.periods.append(glance(run, period_status(run), period_files(run)))
        except LedgerError as exc:  # a registry not imported yet, or with errors: say so, show the others
            card.error = str(exc)
        card.months = known.worked_months(ws, programme)[-3:]
    return {"cards": cards, "today": today}


async def show(request: Request) -> Response:
    return await page(request, "home.html", overview)
