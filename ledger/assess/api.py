"""``assess``: the month's judgements from the store → scores, ranking, 考核得分.xlsx.

Scores are kept in the store's assessment rows under the key ``score:<month>``
(``Store.save_lights``), so next month's ranking change needs no schema change.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ledger.assess.score import UnitScore, score_units
from ledger.assess.workbook import scores_workbook
from ledger.config import Workspace
from ledger.consolidate.model import Judgement
from ledger.errors import LedgerError
from ledger.fsutil import write_bytes_atomic
from ledger.periods import CYCLE_NAMES, Period, parse_period, periods_in_month
from ledger.registry.model import Registry
from ledger.rules import ScoringRules
from ledger.store import Store

SCORES_FILE = "考核得分.xlsx"
SCORE_KEY = "score:{month}"
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


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


def parse_month(text: str) -> Period:
    """``2022-06`` (or ``2022-6``) as a monthly period; a Chinese error otherwise."""
    m = _MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise LedgerError(f"月份“{text}”格式不对，应写作 2022-06 这样的格式（年-月）。")
    return parse_period(f"{m.group(1)}-{int(m.group(2)):02d}", "monthly")


def assess(
    ws: Workspace,
    programme_id: str,
    month_text: str,
    *,
    store: Store | None = None,
    registry: Registry | None = None,
    out_dir: Path | None = None,
) -> Assessment:
    """Score every lead unit for *month_text*, store the scores and write 考核得分.xlsx.

    Periods are those whose due day falls in the month (``periods_in_month``); a period
    with no stored judgements is judged on the spot (``judge_period``) when possible.
    """
    programme = ws.programme(programme_id)
    month = parse_month(month_text)
    with _store(ws, store) as st:
        periods, month_rows = month_judgements(ws, programme_id, month, st, registry)
        prev = month.previous()
        prev_rows = st.lights(programme_id, SCORE_KEY.format(month=prev.key))
        prev_ranks = {str(r["unit"]): int(r["rank"]) for r in prev_rows} if prev_rows else None
        scores = score_units(month_rows, ws.scoring, previous_ranks=prev_ranks)
        st.save_lights(programme_id, SCORE_KEY.format(month=month.key), [s.to_row() for s in scores])
    result = Assessment(
        programme=programme_id, month=month, periods=periods, judgements=month_rows, scores=scores,
        rules=ws.scoring, previous_month=prev.key, has_previous=prev_ranks is not None,
    )
    if prev_ranks is None:
        result.notes.append(f"{prev.label()}尚无考核结果，本月不显示位次变化。")
    target = (ws.inside(out_dir) if out_dir else ws.out_dir(programme_id, month.key)) / SCORES_FILE
    data = scores_workbook(programme.title, month, periods, scores, ws.scoring)
    result.xlsx = write_bytes_atomic(target, data)
    return result


def month_judgements(
    ws: Workspace, programme_id: str, month: Period, store: Store, registry: Registry | None
) -> tuple[list[Period], list[tuple[Period, list[Judgement]]]]:
    """The month's periods and their judgements; NothingToAssess when any period has none."""
    programme = ws.programme(programme_id)
    cycle = programme.reporting.cycle
    periods = periods_in_month(month.start.year, month.start.month, cycle)
    if not periods:
        raise NothingToAssess(
            f"{month.label()}没有到期的报送期次（项目“{programme_id}”按{CYCLE_NAMES[cycle]}报送），"
            f"无法考核。请换一个有报送期次的月份。"
        )
    out: list[tuple[Period, list[Judgement]]] = []
    empty: list[Period] = []
    for period in periods:
        rows = [Judgement.from_row(r) for r in store.lights(programme_id, period.key)]
        if not rows:
            if registry is None:
                registry = _load_registry(ws, programme_id)
            rows = _judge(ws, programme_id, period, registry, store)
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


def _judge(ws: Workspace, programme_id: str, period: Period, registry: Registry, store: Store) -> list[Judgement]:
    """Judge a period that consolidation has not stored yet (empty if it cannot be done)."""
    try:
        from ledger.consolidate.judge import judge_period
    except ModuleNotFoundError as exc:  # consolidation not installed: only a missing module is tolerated
        if exc.name not in ("ledger.consolidate.judge", "ledger.consolidate"):
            raise
        return []
    return _as_judgements(judge_period(ws, programme_id, period, registry, store))


def _as_judgements(result: Any) -> list[Judgement]:
    rows = getattr(result, "judgements", result) or []
    out = []
    for r in rows:
        out.append(r if isinstance(r, Judgement) else Judgement.from_row(r.to_row() if hasattr(r, "to_row") else r))
    return out


def _load_registry(ws: Workspace, programme_id: str) -> Registry:
    from ledger.stage import load_registry

    return load_registry(ws, programme_id)


@contextlib.contextmanager
def _store(ws: Workspace, store: Store | None) -> Iterator[Store]:
    if store is not None:
        yield store
        return
    from ledger.stage import open_workspace_store

    opened = open_workspace_store(ws)
    try:
        yield opened
    finally:
        opened.close()
