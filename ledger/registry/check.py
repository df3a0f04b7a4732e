"""``registry check``: what a reviewer must still fix before the registry is used."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.problems import Problem, ProblemType
from ledger.registry.model import Registry, Task
from ledger.registry.units import UNKNOWN_UNIT, UnitDirectory
from ledger.registry.workbook import TASK_SHEET

GROUP_LEAD = ProblemType(
    "group-lead", "error",
    "牵头单位“{value}”是一类单位的统称，不能作为牵头单位；请改为具体单位（可写多个，用“、”分隔）。",
)
MISSING_LEAD = ProblemType("missing-lead", "error", "没有牵头单位，请填写牵头单位。")
NO_DEADLINE = ProblemType(
    "no-deadline", "warning", "没有完成时限且未标为常态化，请填写完成时限（日期）或在“常态化”填“是”。"
)
REVIEW_PENDING = ProblemType("review-pending", "warning", "待审核：{value}")
MILESTONE_AFTER_DEADLINE = ProblemType(
    "milestone-after-deadline", "warning", "时间节点 {value} 晚于完成时限，请核对。"
)


def check_registry(registry: Registry, directory: UnitDirectory, scope: str = "", file: str = "") -> list[Problem]:
    """Semantic checks over a registry already read without structural errors."""
    problems: list[Problem] = []
    for task in registry.tasks:
        problems.extend(_check_task(task, directory, scope, file))
    return problems


def _check_task(task: Task, directory: UnitDirectory, scope: str, file: str) -> Iterable[Problem]:
    where = {"file": file or None, "sheet": TASK_SHEET, "task": task.id}
    if not task.lead_units:
        yield MISSING_LEAD(**where)
    for name in task.lead_units:
        unit = directory.get(name, scope)
        if unit is None:
            yield _unknown(directory, name, scope, where)
        elif unit.is_group:
            yield GROUP_LEAD(value=name, **where)
    for name in [*task.cooperating_units, *task.responsible_units]:
        if directory.get(name, scope) is None:
            yield _unknown(directory, name, scope, where)
    if task.deadline is None and not task.ongoing and not task.done:
        yield NO_DEADLINE(**where)
    if task.deadline is not None:
        for m in task.milestones:
            if m.due > task.deadline:
                yield MILESTONE_AFTER_DEADLINE(value=f"{m.due.isoformat()} {m.text}", **where)
    for flag in task.review:
        yield REVIEW_PENDING(value=flag, **where)


def _unknown(directory: UnitDirectory, name: str, scope: str, where: dict) -> Problem:
    suggestions = directory.resolve(name, scope).suggestions
    hint = f"（是否为：{'、'.join(suggestions)}？）" if suggestions else ""
    return UNKNOWN_UNIT(value=name, hint=hint, **where)
