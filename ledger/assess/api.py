"""``assess``: the month's judgements from the store → scores, ranking, 考核得分.xlsx.

Scores are kept in the store's scores table (``Store.save_scores``), so next month's
ranking shows the change of place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ledger.assess.score import UnitScore, score_units
from ledger.assess.workbook import scores_workbook
from ledger.consolidate.judge import judge_and_save
from ledger.consolidate.model import Judgement
from ledger.errors import LedgerError
from ledger.fsutil import write_bytes_atomic
from ledger.periods import CYCLE_NAMES, Period, periods_in_month
from ledger.rules import ScoringRules
from ledger.run import Run

SCORES_FILE = "考核得分.xlsx"


class NothingToAssess(LedgerError):
    """The month has no periods, or no judgements yet."""


@dataclass
class Assessment:
    """One programme's month: the periods it covers, the judgements, the ranked scores."""

    programme: str
    month: Period
    periods: list[Period]
    judgements: list[tuple[Period, list[Judgement]]]
    scores: list[UnitScore]  # best first
    rules: ScoringRules
    previous_month: str
    has_previous: bool
    xlsx: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ranking(self) -> list[tuple[int, str, float, str]]:
        """(rank, unit, total, change) best first."""
        return [(s.rank, s.unit, s.total, s.change) for s in self.scores]

    def to_json(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "month": self.month.key,
            "periods": [p.key for p in self.periods],
            "previous_month": self.previous_month,
            "has_previous": self.has_previous,
            "rules": asdict(self.rules),
            "scores": [s.to_row() for s in self.scores],
            "xlsx": str(self.xlsx) if self.xlsx else None,
            "notes": list(self.notes),
        }


def assess(run: Run, *, out_dir: Path | None = None) -> Assessment:
    """Score every lead unit for the run's month, store the scores and write 考核得分.xlsx.

    Periods are those whose due day falls in the month (``periods_in_month``); a period
    with no stored judgements is judged (and saved) on the spot.
    """
    programme_id, month, store, ws = run.programme.id, run.period, run.store, run.ws
    periods, month_rows = month_judgements(run)
    prev = month.previous()
    prev_rows = store.scores(programme_id, prev.key)
    prev_ranks = {str(r["unit"]): int(r["rank"]) for r in prev_rows} if prev_rows else None
    scores = score_units(month_rows, ws.scoring, previous_ranks=prev_ranks)
    store.save_scores(programme_id, month.key, [s.to_row() for s in scores])
    result = Assessment(
        programme=programme_id, month=month, periods=periods, judgements=month_rows, scores=scores,
        rules=ws.scoring, previous_month=prev.key, has_previous=prev_ranks is not None,
    )
    if prev_ranks is None:
        result.notes.append(f"{prev.label()}尚无考核结果，本月不显示位次变化。")
    target = (ws.inside(out_dir) if out_dir else run.out_dir()) / SCORES_FILE
    data = scores_workbook(run.programme.title, month, periods, scores, ws.scoring)
    result.xlsx = write_bytes_atomic(target, data)
    return result


def month_judgements(run: Run) -> tuple[list[Period], list[tuple[Period, list[Judgement]]]]:
    """The periods of the run's month and their judgements (judged and saved where the store
    has none yet); NothingToAssess when the month has no period or a period no judgement."""
    programme_id, month = run.programme.id, run.period
    cycle = run.programme.reporting.cycle
    periods = periods_in_month(month.start.year, month.start.month, cycle)
    if not periods:
        raise NothingToAssess(
            f"{month.label()}没有到期的报送期次（项目“{programme_id}”按{CYCLE_NAMES[cycle]}报送），"
            f"无法考核。请换一个有报送期次的月份。"
        )
    out: list[tuple[Period, list[Judgement]]] = []
    empty: list[Period] = []
    for period in periods:
        rows = [Judgement.from_row(r) for r in run.store.lights(programme_id, period.key)]
        if not rows:
            rows = judge_and_save(run.for_period(period)).judgements
        if not rows:
            empty.append(period)
        out.append((period, rows))
    if empty:
        keys = "、".join(p.key for p in empty)
        first = empty[0].key
        raise NothingToAssess(
            f"{month.label()}的期次 {keys} 还没有汇总亮灯结果，无法考核。"
            f"请先运行 ledger consolidate --programme {programme_id} --period {first}（每个期次各运行一次），再考核。"
        )
    return periods, out
