"""Charts drawn as SVG on the server: a period's lights by unit, one task's progress over periods.

Only geometry is computed here; the numbers come from the lights consolidation stored
(``Store.lights``), and the SVG is a template, so every name in it is escaped. A period's
lights chart is an image of its own (``lights.svg``), so the status board does not wait
for a period's every light to be read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ledger.web.site import Site, site_of

LIGHT_ORDER = ("green", "yellow", "red")
CHART_UNITS = 25  # units drawn; those with most red, then yellow, first
ROW = 22
LABEL = 230
BAR = 520


@dataclass
class UnitBar:
    unit: str
    counts: dict[str, int]
    segments: list[tuple[str, float, float, int]] = field(default_factory=list)  # light, x, width, count


@dataclass
class LightsChart:
    totals: dict[str, int]
    bars: list[UnitBar]
    units: int
    width: int
    height: int

    @property
    def consolidated(self) -> bool:
        return sum(self.totals.values()) > 0


def lights_chart(rows: list[dict[str, Any]], order: list[str]) -> LightsChart:
    """Stacked bars of each unit's lights (most red first), scaled to the unit with most rows."""
    per_unit: dict[str, Counter[str]] = {}
    for r in rows:
        per_unit.setdefault(str(r["unit"]), Counter())[str(r["light"])] += 1
    position = {u: i for i, u in enumerate(order)}
    ranked = sorted(per_unit, key=lambda u: (-per_unit[u]["red"], -per_unit[u]["yellow"], position.get(u, len(order))))
    widest = max((sum(c.values()) for c in per_unit.values()), default=1)
    bars = []
    for unit in ranked[:CHART_UNITS]:
        counts = per_unit[unit]
        bar, x = UnitBar(unit, {k: counts[k] for k in LIGHT_ORDER}), float(LABEL)
        for light in LIGHT_ORDER:
            width = BAR * counts[light] / widest
            if counts[light]:
                bar.segments.append((light, x, width, counts[light]))
            x += width
        bars.append(bar)
    totals = Counter(str(r["light"]) for r in rows)
    return LightsChart({k: totals[k] for k in LIGHT_ORDER}, bars, len(per_unit), LABEL + BAR + 110,
                       60 + ROW * max(len(bars), 1))


def _lights(site: Site, programme_id: str, key: str) -> LightsChart:
    with site.run(programme_id, key) as run:
        rows = run.store.lights(run.programme.id, run.period.key)
        return lights_chart(rows, run.registry.lead_units())


async def lights_svg(request: Request) -> Response:
    """The period's lights as an SVG image."""
    p = request.path_params
    site = site_of(request)
    chart = await run_in_threadpool(_lights, site, p["programme"], p["period"])
    svg = site.env.get_template("lights.svg").render(chart=chart, compact=request.query_params.get("compact") == "1")
    return Response(svg, media_type="image/svg+xml")


@dataclass
class Line:
    unit: str
    points: list[tuple[float, float, str, int | None]]  # x, y, light, percent

    @property
    def path(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _, p in self.points if p is not None)


@dataclass
class ProgressChart:
    labels: list[tuple[float, str]]
    lines: list[Line]
    schedule: str
    width: int = 640
    height: int = 220
    top: int = 16
    bottom: int = 180
    left: int = 44


def progress_chart(periods: list[str], cells: dict[str, dict[str, Any]], units: list[str],
                   schedule: dict[str, int | None]) -> ProgressChart:
    """完成进度 of each lead unit over *periods* (cells[unit][period] = judgement row), with 序时进度 dashed."""
    chart = ProgressChart([], [], "")
    span = max(len(periods) - 1, 1)
    step = (chart.width - chart.left - 24) / span

    def xy(i: int, percent: float) -> tuple[float, float]:
        return chart.left + i * step, chart.bottom - (chart.bottom - chart.top) * max(0, min(percent, 100)) / 100

    chart.labels = [(chart.left + i * step, key) for i, key in enumerate(periods)]
    for unit in units:
        points = []
        for i, key in enumerate(periods):
            row = cells.get(unit, {}).get(key)
            if row is None:
                continue
            percent = row.get("percent")
            x, y = xy(i, percent or 0)
            points.append((x, y, str(row.get("light", "")), percent))
        chart.lines.append(Line(unit, points))
    chart.schedule = " ".join(f"{xy(i, s)[0]:.1f},{xy(i, s)[1]:.1f}" for i, key in enumerate(periods)
                              if (s := schedule.get(key)) is not None)
    return chart
