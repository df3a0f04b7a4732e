"""``registry check``: what a reviewer must still fix before the registry is used."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.problems import Problem, ProblemType
from ledger.registry.addresses import lead_unit_problems
from ledger.registry.model import Registry, Task
from ledger.registry.units import SHEET, Unit, UnitDirectory, unknown_problem
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
UNIT_PENDING = ProblemType(
    "unit-pending", "warning",
    "单位“{value}”尚未核实（备注为“{note}”：这一行是从通知中自动添加的）。请核对单位名称、简称和类别，"
    "填写联系人和邮箱，核实后删去备注中的“待核实”。",
)
NO_SCOPE = ProblemType(
    "programme-no-scope", "warning",
    "项目“{value}”没有层级范围：ledger.toml 中没有 scope，也不能从发文机关（issuer）得出。单位只按名录中唯一的名称查找，"
    "可能认成其他县区的同名单位。请在 ledger.toml 的 [programmes.{value}] 中填写 scope（如 scope = \"宜川县\"）。",
)
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
    return unknown_problem(directory.resolve(name, scope), scope, **where)


def check_units(registry: Registry, directory: UnitDirectory, scope: str, units_file: str) -> list[Problem]:
    """What the units directory must still say before the programme's mail goes out: every lead
    unit's address (written, well formed, no placeholder, not another scope's unit's), rows
    added from a notice and not yet checked, and a programme without a scope."""
    problems: list[Problem] = []
    if not scope and any(u.scope for u in directory.units()):
        problems.append(NO_SCOPE(value=registry.programme.id))
    leads: dict[int, Unit] = {}
    used: dict[int, Unit] = {}
    for task in registry.tasks:
        for names, into in ((task.lead_units, (leads, used)), (task.cooperating_units, (used,)),
                            (task.responsible_units, (used,))):
            for name in names:
                unit = directory.get(name, scope)
                if unit is not None:
                    for found in into:
                        found.setdefault(id(unit), unit)
    by_row = lambda unit: directory.row_of(unit) or 0  # noqa: E731 - the directory's order
    for unit in sorted(leads.values(), key=by_row):
        if not unit.is_group:
            problems.extend(lead_unit_problems(directory, unit, scope, units_file))
    for unit in sorted(used.values(), key=by_row):
        if unit.pending:
            problems.append(UNIT_PENDING(value=unit.name, note=unit.note, file=units_file, sheet=SHEET,
                                         row=directory.row_of(unit)))
    return problems
