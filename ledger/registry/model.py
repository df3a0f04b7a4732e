"""The task registry's data model: what every later stage reads."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any


@dataclass(frozen=True, order=True, slots=True)
class Milestone:
    """A dated step inside a task (时间节点), e.g. 2022-06-30 完成立项."""

    due: date
    text: str


@dataclass(slots=True)
class Task:
    """One task of a programme, as reviewed in the registry workbook."""

    id: str
    programme: str
    path: list[str]
    text: str
    lead_units: list[str] = field(default_factory=list)
    lead_units_raw: list[str] = field(default_factory=list)
    cooperating_units: list[str] = field(default_factory=list)
    cooperating_units_raw: list[str] = field(default_factory=list)
    responsible_units: list[str] = field(default_factory=list)
    responsible_units_raw: list[str] = field(default_factory=list)
    leaders: list[str] = field(default_factory=list)
    deadline_text: str = ""
    deadline: date | None = None
    ongoing: bool = False
    done: bool = False
    milestones: list[Milestone] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    note: str = ""

    def __reduce__(self) -> tuple[type[Task], tuple[Any, ...]]:
        # Pickled as a plain tuple of field values: a 50,000-task registry is sent to every
        # collect worker, and this halves its size and the time to load it.
        return Task, tuple(getattr(self, name) for name in _TASK_FIELDS)

    @property
    def annex(self) -> str | None:
        """The annex/special action key ("A1") the task belongs to, if any."""
        head = self.id.split("-")
        for part in head[1:]:
            if part.startswith("A") and part[1:].isdigit():
                return part
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "programme": self.programme,
            "path": list(self.path),
            "text": self.text,
            "lead_units": list(self.lead_units),
            "lead_units_raw": list(self.lead_units_raw),
            "cooperating_units": list(self.cooperating_units),
            "cooperating_units_raw": list(self.cooperating_units_raw),
            "responsible_units": list(self.responsible_units),
            "responsible_units_raw": list(self.responsible_units_raw),
            "leaders": list(self.leaders),
            "deadline_text": self.deadline_text,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "ongoing": self.ongoing,
            "done": self.done,
            "milestones": [{"due": m.due.isoformat(), "text": m.text} for m in self.milestones],
            "review": list(self.review),
        }


_TASK_FIELDS = tuple(f.name for f in fields(Task))


@dataclass
class ProgrammeInfo:
    """The notice a registry came from."""

    id: str
    title: str
    doc_number: str = ""
    issuer: str = ""
    issued: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "issued": self.issued.isoformat() if self.issued else None,
        }


@dataclass(frozen=True)
class TaskIndex:
    """A registry's tasks by id (the first of a repeated id wins) and by lead unit.

    ``by_unit`` keeps registry order, lists a co-led task under each of its lead
    units, and its keys are the lead units in order of first appearance.
    """

    key: tuple[int, int]
    by_id: dict[str, Task]
    by_unit: dict[str, tuple[Task, ...]]

    @classmethod
    def build(cls, key: tuple[int, int], tasks: list[Task]) -> TaskIndex:
        by_id: dict[str, Task] = {}
        by_unit: dict[str, list[Task]] = {}
        for t in tasks:
            by_id.setdefault(t.id, t)  # the first of a repeated id wins
            for u in dict.fromkeys(t.lead_units):
                by_unit.setdefault(u, []).append(t)
        return cls(key, by_id, {u: tuple(ts) for u, ts in by_unit.items()})


@dataclass
class Registry:
    """A programme and its tasks, in registry order."""

    programme: ProgrammeInfo
    tasks: list[Task]
    annexes: dict[str, str] = field(default_factory=dict)

    def index(self) -> TaskIndex:
        """Lookups by id and by lead unit, built once per task list.

        Stages treat a loaded registry as read-only; the index is rebuilt when the task
        list is replaced or grows, not when a task inside it is edited in place.
        """
        key = (id(self.tasks), len(self.tasks))
        cached = self.__dict__.get("_cache")
        if cached is None or cached.key != key:
            cached = TaskIndex.build(key, self.tasks)
            self.__dict__["_cache"] = cached
        return cached

    def task(self, task_id: str) -> Task:
        try:
            return self.index().by_id[task_id]
        except KeyError:
            raise KeyError(task_id) from None

    def lead_units(self) -> list[str]:
        """Every lead unit, in order of first appearance."""
        return list(self.index().by_unit)

    def tasks_led_by(self, unit: str) -> list[Task]:
        return list(self.index().by_unit.get(unit, ()))

    def content_hash(self) -> str:
        """SHA-256 of the registry's meaning (not of the workbook bytes): of the JSON of
        :func:`export_json` (keys sorted), encoded task by task rather than held whole. A
        registry read from its parsed copy brings its hash along (:meth:`remember_hash`)."""
        known = self.__dict__.get("_hash")
        if known is not None and known[0] == (id(self.tasks), len(self.tasks)):
            return str(known[1])
        encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
        digest = hashlib.sha256(f'{{"programmes": {encode([self.programme.to_json()])}, "tasks": ['.encode())
        for n, task in enumerate(self.tasks):
            digest.update(((", " if n else "") + encode(task.to_json())).encode())
        digest.update(b"]}")
        return digest.hexdigest()

    def remember_hash(self, digest: str) -> None:
        """Take *digest* as :meth:`content_hash` of the task list as it is now (one computed when
        the same registry was read before); like :meth:`index`, it is not noticed when a task is
        edited in place."""
        self.__dict__["_hash"] = ((id(self.tasks), len(self.tasks)), digest)


def export_json(registries: list[Registry]) -> dict[str, Any]:
    """The ``registry export --json`` shape."""
    return {
        "programmes": [r.programme.to_json() for r in registries],
        "tasks": [t.to_json() for r in registries for t in r.tasks],
    }
