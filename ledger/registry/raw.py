"""What the notice readers extract, before units and deadlines are resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ledger.problems import Problem

#: The labels a task may carry, normalised (full/half-width colon stripped).
FIELD_LABELS = ("牵头领导", "责任领导", "牵头单位", "配合单位", "责任单位", "完成时限")


@dataclass
class RawTask:
    """One task as written in the source, before normalisation.

    ``key`` holds the numeric positions of the task's numbered levels below the annex
    (``(3,)`` for （三）, ``(1, 2)`` for 2. under （一）), enough to make ids unique within
    the annex. ``fields`` maps a label of :data:`FIELD_LABELS` to its value as written
    (wrapped lines joined).
    """

    annex: int | None
    headings: list[str]
    number: str
    key: tuple[int, ...]
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    line: int = 0
    source: str = ""


@dataclass
class RawNotice:
    """A whole notice: its header facts, annex titles and tasks."""

    source: str
    title: str = ""
    doc_number: str = ""
    issuer: str = ""
    issued: date | None = None
    annexes: dict[int, str] = field(default_factory=dict)
    tasks: list[RawTask] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
