"""``ledger consolidate``: judge one period, store its lights, write 汇总表.xlsx.

The library returns a :class:`Summary` of pandas DataFrames; the CLI prints
:meth:`Summary.lines` or, with ``--json``, :meth:`Summary.to_json`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from ledger.config import Programme
from ledger.consolidate import tables
from ledger.consolidate.judge import PeriodJudgement, judge_and_save
from ledger.consolidate.model import GREEN, LIGHTS, RED, YELLOW, Judgement, count_rows
from ledger.consolidate.summary import (
    BY_UNIT,
    CHANGES,
    CHART_UNITS,
    CHARTS,
    FILE_NAME,
    LAGGING,
    OVERVIEW,
    REPORTING,
    ChartData,
    SheetText,
    write_workbook,
)
from ledger.periods import Period, cn_date, parse_period
from ledger.progress import QUIET, Progress
from ledger.registry.model import Registry
from ledger.reporting import STATE_NAMES, STATES
from ledger.run import Run

TABLES = ("overview", "by_unit", "lagging", "changes", "reporting")


@dataclass
class Summary:
    """One period's consolidation: the tables of the workbook, the judgements, the counts."""

    programme: str
    period: Period
    previous_period: str | None
    overview: pd.DataFrame
    by_unit: pd.DataFrame
    lagging: pd.DataFrame
    changes: pd.DataFrame
    reporting: pd.DataFrame
    judgements: list[Judgement]
    counts: dict[str, int]
    path: Path | None = None

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def to_json(self) -> dict[str, Any]:
        """The same content as the workbook, as plain data (missing numbers are null)."""
        return {
            "programme": self.programme, "period": self.period.key, "label": self.period.label(),
            "previous_period": self.previous_period, "path": str(self.path) if self.path else None,
            "counts": dict(self.counts), **{name: records(self.table(name)) for name in TABLES},
        }

    def lines(self) -> list[str]:
        """What ``ledger consolidate`` prints without --json."""
        c = self.counts
        out = [
            f"{self.programme} {self.period.label()}：任务{c['tasks']}项（按牵头单位{c['rows']}行），"
            f"绿灯{c[GREEN]}、黄灯{c[YELLOW]}、红灯{c[RED]}，未报送{c['unreported']}项，逾期{c['overdue']}项，"
            f"照抄上期{c['copied']}项。",
            f"报送：应报{c['units']}个单位，按时{c['on_time']}个，逾期{c['late']}个，"
            f"未报送{c['missing']}个，退回待改{c['rejected']}个。",
            f"本期变化：{len(self.changes)}项。",
        ]
        if self.path:
            out.append(f"汇总表已写入 {self.path}")
        return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with None for missing values and plain Python numbers."""
    plain = frame.astype(object).where(frame.notna(), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in plain.to_dict("records")]


def consolidate(run: Run, *, out_dir: Path | None = None, write: bool = True, progress: Progress = QUIET) -> Summary:
    """Judge the run's period (lights saved in the store), build the tables, write the workbook
    to ``out_dir`` (default ``out/<programme>/<period>/``) unless *write* is false. *progress*
    is told of each of these steps."""
    progress.start(3 if write else 2, "步骤")
    progress.advance("判定红黄绿灯", 0)
    result = judge_and_save(run)
    progress.advance("汇总各表")
    summary = summarise(run.programme, run.registry, result)
    progress.advance(f"写出 {FILE_NAME}" if write else "")
    if write:
        target = Path(out_dir) if out_dir is not None else run.out_dir()
        summary.path = write_workbook(target / FILE_NAME, _texts(run.programme, summary), _tables(summary),
                                      _charts(summary), paper=run.ws.printing.summary)
        progress.advance(FILE_NAME)
    return summary


def summarise(programme: Programme, registry: Registry, result: PeriodJudgement) -> Summary:
    """The five tables and the counts of one judged period."""
    cycle = result.period.cycle
    overview = tables.overview(registry, result, cycle, programme.issued.year)
    prev = result.previous_period.key if result.previous else None
    js = result.judgements
    states = Counter(r.status.state for r in result.reports.values())
    counts = {**count_rows(js), "units": len(result.reports), **{s: states[s] for s in STATES}}
    return Summary(
        programme=programme.id, period=result.period, previous_period=prev, overview=overview,
        by_unit=tables.by_unit(registry, result), lagging=tables.lagging(overview),
        changes=tables.changes(result, overview, cycle), reporting=tables.reporting(result, cycle),
        judgements=js, counts=counts,
    )


def _tables(summary: Summary) -> dict[str, pd.DataFrame]:
    by_unit = summary.by_unit
    total = {k: int(by_unit[k].sum()) for k in by_unit.columns if k not in ("unit", "report_state", "report")}
    with_total = pd.concat([by_unit, pd.DataFrame([{"unit": "合计", **total, "report": ""}])], ignore_index=True)
    return {name: (with_total if name == "by_unit" else summary.table(name)) for name in TABLES}


def _charts(summary: Summary) -> ChartData:
    units = summary.by_unit[["unit", *LIGHTS]]
    if len(units) > CHART_UNITS:
        order = units.assign(_o=range(len(units))).sort_values([RED, YELLOW, "_o"], ascending=[False, False, True])
        units = order.head(CHART_UNITS).drop(columns="_o")
    states = Counter(summary.reporting["state"])
    return ChartData(
        status=tables.status_shares(summary.judgements),
        report=[(STATE_NAMES[s], states[s]) for s in STATES],
        units=units.reset_index(drop=True), units_total=len(summary.by_unit),
    )


def _texts(programme: Programme, summary: Summary) -> SheetText:
    c = summary.counts
    period = summary.period
    if summary.previous_period:
        prev_label = parse_period(summary.previous_period, period.cycle).short_label()
        ch = summary.changes
        changes = (f"与上期（{prev_label}）相比：灯号变化{int(ch['light_changed'].sum())}项，"
                   f"状态变化{int(ch['status_changed'].sum())}项；照抄上期{int(ch['copied'].sum())}项。")
    else:
        changes = f"无上期汇总数据，仅列出照抄上期的任务（{c['copied']}项）。"
    notes = {
        OVERVIEW: (f"共{c['tasks']}项任务（按牵头单位计{c['rows']}行）：绿灯{c[GREEN]}项、黄灯{c[YELLOW]}项、"
                   f"红灯{c[RED]}项；未报送{c['unreported']}项（不亮绿灯），逾期{c['overdue']}项。"
                   f"序时进度截至{cn_date(period.end)}。"),
        BY_UNIT: (f"共{c['units']}个牵头单位。正常推进含按序时推进、超序时、常态化推进；未报送为本期没有合格台账的任务；"
                  "逾期含完成时限或时间节点已过仍未完成的任务。"),
        LAGGING: f"红灯{c[RED]}项、黄灯{c[YELLOW]}项，按严重程度排列（逾期在前，偏差大的在前）。",
        CHANGES: changes,
        REPORTING: (f"应报送{c['units']}个单位：按时报送{c['on_time']}个，逾期报送{c['late']}个，"
                    f"未报送{c['missing']}个，退回待改{c['rejected']}个。"),
        CHARTS: f"绿灯{c[GREEN]}项、黄灯{c[YELLOW]}项、红灯{c[RED]}项。",
    }
    return SheetText(
        programme_title=programme.title, period_label=period.label(),
        company=programme.issuer or programme.reporting.office,
        created=datetime.combine(period.start, time()), notes=notes,
    )
