"""Import notices into a registry: read → resolve units and deadlines → ids → Registry.

The readers (:mod:`ledger.registry.sources`) return what the notice says; this module
decides what it means for the registry and records every doubt as a review flag.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from ledger.areas import area_of
from ledger.config import Programme, Workspace
from ledger.errors import LedgerError
from ledger.problems import Problem, ProblemType
from ledger.registry.deadlines import parse_deadline
from ledger.registry.model import ProgrammeInfo, Registry, Task
from ledger.registry.raw import RawNotice, RawTask
from ledger.registry.sources import read_notice
from ledger.registry.units import UnitDirectory, resolve_list, unknown_problem

LEAD_FROM_RESPONSIBLE = ProblemType(
    "lead-from-responsible", "warning", "未写牵头单位，按惯例由列第一位的责任单位“{value}”牵头，请确认。"
)


class ProgrammeNotFound(LedgerError):
    """A notice's 文号 matches no configured programme and none was named."""


@dataclass(frozen=True)
class NoticeCount:
    """One notice's numbered items (table rows) and how many of them became tasks.

    Every item not imported has a problem saying so (:data:`ledger.registry.raw.NOT_IMPORTED`).
    """

    source: str
    items: int
    tasks: int


@dataclass
class ImportResult:
    """What one ``registry import`` produced, before it is written."""

    registry: Registry
    problems: list[Problem]
    sources: list[str]
    counts: list[NoticeCount] = field(default_factory=list)


def match_programme(ws: Workspace, notice: RawNotice, programme_id: str | None) -> Programme:
    """The programme a notice belongs to: named, or found by its 文号."""
    if programme_id:
        return ws.programme(programme_id)
    doc = norm_doc(notice.doc_number)
    for prog in ws.programmes.values():
        if doc and norm_doc(prog.doc_number) == doc:
            return prog
    known = "；".join(f"{p.id}（{p.doc_number or '无文号'}）" for p in ws.programmes.values())
    found = f"文号“{notice.doc_number}”" if notice.doc_number else "未识别出文号"
    raise ProgrammeNotFound(
        f"{notice.source}：{found}，与 ledger.toml 中的项目都不对应（{known}）。请用 --programme 指定项目。"
    )


def norm_doc(doc: str) -> str:
    """A 文号 compared without brackets and spaces: 宜政办〔2024〕9号 = 宜政办[2024]9号."""
    return re.sub(r"[\s〔〕\[\]()（）]", "", doc)


def import_notices(
    ws: Workspace,
    paths: Sequence[Path],
    directory: UnitDirectory,
    programme_id: str | None = None,
    previous: Registry | None = None,
) -> ImportResult:
    """Read *paths* (one programme) and build its registry; *previous* keeps hand-edited ids."""
    notices = [read_notice(Path(p)) for p in paths]
    programmes = {match_programme(ws, n, programme_id).id for n in notices}
    if len(programmes) > 1:
        raise ProgrammeNotFound(
            f"这些文件属于不同的项目（{'、'.join(sorted(programmes))}），请分别导入，或用 --programme 指定一个项目。"
        )
    prog = ws.programme(programmes.pop())
    if not prog.scope:  # neither configured nor the configured issuer's: the notice's issuer's area
        prog = dataclasses.replace(prog, scope=next((s for n in notices if (s := area_of(n.issuer))), ""))
    problems: list[Problem] = []
    tasks: list[Task] = []
    annexes: dict[str, str] = {}
    for notice in notices:
        problems.extend(notice.problems)
        for number, title in notice.annexes.items():
            annexes.setdefault(f"A{number}", prog.annexes[f"A{number}"].title if f"A{number}" in prog.annexes else title)
        for raw in notice.tasks:
            task, task_problems = build_task(raw, prog, directory, annexes)
            tasks.append(task)
            problems.extend(task_problems)
    if previous is not None:
        keep_ids(tasks, previous.tasks)
    first = notices[0]
    info = ProgrammeInfo(
        id=prog.id,
        title=prog.title or first.title,
        doc_number=prog.doc_number or first.doc_number,
        issuer=prog.issuer or first.issuer,
        issued=prog.issued or first.issued,
    )
    counts = [NoticeCount(n.source, n.items, len(n.tasks)) for n in notices]
    return ImportResult(Registry(info, tasks, annexes), problems, [n.source for n in notices], counts)


def task_id(programme_id: str, raw: RawTask) -> str:
    """Stable id from the numbering: ``351-A1-03``, ``351-A2-01-02``, ``pingtai-12``."""
    parts = [programme_id]
    if raw.annex is not None:
        parts.append(f"A{raw.annex}")
    parts.extend(f"{k:02d}" for k in raw.key)
    return "-".join(parts)


def split_leaders(text: str) -> list[str]:
    """"朱 蕾 薛超峰" → ["朱蕾", "薛超峰"]: formal documents pad two-character names."""
    tokens = [t for t in re.split(r"[\s、，,；;]+", text.replace("\u3000", " ")) if t]
    names: list[str] = []
    i = 0
    while i < len(tokens):
        if len(tokens[i]) == 1 and i + 1 < len(tokens) and len(tokens[i + 1]) == 1:
            names.append(tokens[i] + tokens[i + 1])
            i += 2
        else:
            names.append(tokens[i])
            i += 1
    return names


def build_task(
    raw: RawTask, prog: Programme, directory: UnitDirectory, annexes: dict[str, str]
) -> tuple[Task, list[Problem]]:
    """Resolve one raw task's units and deadline into a registry :class:`Task`."""
    tid = task_id(prog.id, raw)
    where = {"file": raw.source, "row": raw.line or None, "task": tid}
    problems: list[Problem] = []
    units: dict[str, tuple[list[str], list[str]]] = {}
    for label, key in (("牵头单位", "lead"), ("配合单位", "coop"), ("责任单位", "resp")):
        raw_names, resolved = resolve_list(directory, raw.fields.get(label, ""), prog.scope)
        canonical = []
        for item in resolved:
            if item.unit is None:
                problems.append(unknown_problem(item, prog.scope, **where))
                canonical.append(item.raw)
            else:
                canonical.append(item.unit.name)
        units[key] = (raw_names, _dedupe(canonical))
    lead_raw, lead = units["lead"]
    if not lead and units["resp"][1]:
        lead_raw, lead = units["resp"][0][:1], units["resp"][1][:1]
        problems.append(LEAD_FROM_RESPONSIBLE(value=lead[0], **where))
    leaders = split_leaders(raw.fields.get("牵头领导", "") + " " + raw.fields.get("责任领导", ""))
    info = parse_deadline(
        raw.fields.get("完成时限", ""), issued=prog.issued, task_text=raw.text, default=prog.default_deadline
    )
    deadline_problems = [_relocate(p, where) for p in info.problems]
    problems.extend(deadline_problems)
    path = []
    if raw.annex is not None:
        path.append(annexes.get(f"A{raw.annex}", f"附件{raw.annex}"))
    path.extend(raw.headings)
    task = Task(
        id=tid,
        programme=prog.id,
        path=path,
        text=raw.text,
        lead_units=lead,
        lead_units_raw=lead_raw,
        cooperating_units=units["coop"][1],
        cooperating_units_raw=units["coop"][0],
        responsible_units=units["resp"][1],
        responsible_units_raw=units["resp"][0],
        leaders=leaders,
        deadline_text=info.text,
        deadline=info.due,
        ongoing=info.ongoing,
        done=info.done,
        milestones=list(info.milestones),
        review=[f"{p.code}：{p.message}" for p in problems],
    )
    return task, problems


def _relocate(p: Problem, where: dict) -> Problem:
    return Problem(p.code, p.severity, p.message, value=p.value, **where)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def keep_ids(tasks: list[Task], old: Sequence[Task]) -> None:
    """Give re-imported tasks the ids a reviewer already used, matched by text."""
    by_text = {_norm_text(t.text): t.id for t in old}
    taken = set()
    for t in tasks:
        old_id = by_text.get(_norm_text(t.text))
        if old_id is None:
            best = max(old, key=lambda o: fuzz.ratio(_norm_text(o.text), _norm_text(t.text)), default=None)
            if best is not None and fuzz.ratio(_norm_text(best.text), _norm_text(t.text)) >= 90:
                old_id = best.id
        if old_id and old_id not in taken:
            t.id = old_id
            taken.add(old_id)


def _norm_text(text: str) -> str:
    return re.sub(r"\s+", "", text)
