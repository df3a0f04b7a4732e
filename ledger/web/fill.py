"""在线填报: the workbook's input columns as a form, and the form back as the unit's workbook.

The fields are the 工作台账's own input columns (:data:`ledger.layout.COLUMNS`, unlocked), with
the workbook's vocabularies (:data:`ledger.layout.UNIT_STATUSES`) and hints. What a unit types
is written into its generated workbook (:func:`ledger.generate.build_workbook` with
:class:`ledger.layout.Entered`) and that workbook is judged by ``collect`` itself, so the form
knows no rule of its own: every message is collect's, placed back at the field it is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger import layout
from ledger.collect.a1 import parse_ref
from ledger.problems import Problem
from ledger.registry.model import Task
from ledger.run import Run
from ledger.schedule import schedule_text

#: the input columns in the order a phone shows them: what every report needs first
MAIN = ("progress", "status", "percent", "cumulative")
MORE = tuple(k for k in layout.INPUT_KEYS if k not in MAIN)
#: the signature fields a unit may fill in on the form (填报时间 is the time of saving)
INFO = ("填报人", "联系电话")
SAVED_AT = "填报时间"
#: the name the archived workbook of a web report carries (the board and receipts show it)
WEB_SUFFIX = "（在线填报）"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str  # text | status | percent


FIELDS = {c.key: Field(c.key, c.header, c.kind) for c in layout.COLUMNS if not c.locked}


def field_name(index: int, key: str) -> str:
    """The form field of task number *index*'s column *key*: ``t0-progress``."""
    return f"t{index}-{key}"


@dataclass
class TaskForm:
    """One task of the form: what the unit reads about it, what it has typed, what collect said."""

    index: int
    task: Task
    values: dict[str, str]
    deadline: str
    schedule: str
    previous: str
    milestones: list[str]
    co_lead: list[str]
    problems: dict[str, list[Problem]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(p.is_error for found in self.problems.values() for p in found)

    @property
    def more_open(self) -> bool:
        """Open 更多 when something is there (typed, or a problem)."""
        return any(self.values.get(k) or self.problems.get(k) for k in MORE)


def task_forms(run: Run, unit: str, typed: Mapping[str, Mapping[str, str]] | None = None
               ) -> tuple[list[TaskForm], str]:
    """The unit's tasks of the run's period as the form shows them, and where their values came
    from. With *typed* (by task id), those values; else this period's accepted report (to correct
    it); else what ``generate`` pre-fills from the last report (累计, 进度, 状态: 本期进展 is new each
    period, 上期进展 is shown beside it); else nothing."""
    programme, period = run.programme, run.period
    ref_year = programme.issued.year if programme.issued else period.start.year
    previous = _previous(run, unit)
    source, from_previous = "", False
    if typed is None:
        typed = _this_period(run, unit)
        source = "本期已报送的内容" if typed else ""
        from_previous = not typed and bool(previous)
        source = "上期报送的内容（本期进展请重新填写）" if from_previous else source
    out = []
    for i, task in enumerate(run.registry.tasks_led_by(unit)):
        cells = layout.task_cells(task, ref_year, previous.get(task.id),
                                  schedule_text(task, programme.issued, period.end, ref_year))
        values = {k: cells[k] for k in PREFILLED} if from_previous else typed.get(task.id, {})
        out.append(TaskForm(
            i, task, {k: "" if values.get(k) is None else str(values.get(k, "")) for k in layout.INPUT_KEYS},
            cells["deadline"], cells["schedule"], cells["previous"],
            [line for line in cells["milestones"].split("\n") if line],
            [u for u in dict.fromkeys(task.lead_units) if u != unit],
        ))
    return out, source


#: the input columns generate pre-fills from the last report
PREFILLED = ("cumulative", "percent", "status")


def _previous(run: Run, unit: str) -> Mapping[str, layout.PreviousReport]:
    from ledger.generate.prefill import previous_from_store

    return previous_from_store(run)(unit)


def _this_period(run: Run, unit: str) -> dict[str, dict[str, str]]:
    """The entries of the unit's accepted report of the run's period, as the form's values."""
    current = next((s for s in run.store.current_submissions(run.programme.id, run.period.key)
                    if s.unit == unit and s.outcome == "accepted"), None)
    rows = {}
    for e in run.store.entries(current.id) if current is not None else ():
        row = {key: str(getattr(e, attr)) for key, attr in layout.ENTRY_ATTRS.items()}
        row.update(percent="" if e.percent is None else str(e.percent), status=e.status)
        rows[e.task_id] = row
    return rows


def from_form(form: Mapping[str, Any], tasks: Sequence[Task]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The typed values by task id, and the signature fields, from a posted form."""
    rows = {}
    for i, task in enumerate(tasks):
        rows[task.id] = {k: _text(form.get(field_name(i, k))) for k in layout.INPUT_KEYS}
    info = {name: _text(form.get(f"info-{name}")) for name in INFO}
    return rows, info


def _text(value: Any) -> str:
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def entered(rows: Mapping[str, Mapping[str, str]], info: Mapping[str, str], saved: datetime) -> layout.Entered:
    """The typed values as a unit's workbook holds them: a whole 完成进度 as the number Excel would
    store, everything else as the text typed (so collect says of "80%" what it says in Excel)."""
    cells: dict[str, dict[str, object]] = {}
    for task_id, row in rows.items():
        typed: dict[str, object] = {k: v for k, v in row.items() if v}
        percent = row.get("percent", "")
        if percent.isascii() and percent.isdigit() and int(percent) <= 100:
            typed["percent"] = int(percent)
        cells[task_id] = typed
    signed = {k: v for k, v in info.items() if v}
    signed[SAVED_AT] = f"{saved:%Y年%-m月%-d日 %H:%M:%S}"
    return layout.Entered(cells, signed)


def place(forms: Sequence[TaskForm], problems: Sequence[Problem], columns: Sequence[layout.Column]) -> list[Problem]:
    """Put each of collect's problems at the field it names (by its task and its cell's column);
    return those that belong to no field."""
    by_task = {f.task.id: f for f in forms}
    rest = []
    for p in problems:
        form = by_task.get(p.task or "")
        key = _column(p.cell, columns)
        if form is None or key is None:
            rest.append(p)
            continue
        form.problems.setdefault(key if key in layout.INPUT_KEYS else "", []).append(p)
    return rest


def _column(cell: str | None, columns: Sequence[layout.Column]) -> str | None:
    if not cell:
        return None
    _row, col = parse_ref(cell)
    return columns[col].key if 0 <= col < len(columns) else None
