"""What the notice readers extract, before units and deadlines are resolved.

Also the one vocabulary both readers use: the names a label (``牵头单位：``) or a table
column is written under, and the problems that mark a numbered item not imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ledger.problems import Problem, ProblemType

#: The labels a task may carry, normalised (full/half-width colon stripped).
FIELD_LABELS = ("牵头领导", "责任领导", "牵头单位", "配合单位", "责任单位", "完成时限")
LEADER_FIELDS = ("牵头领导", "责任领导")
UNIT_FIELDS = ("牵头单位", "配合单位", "责任单位")

#: Field → the names notices write it under, as a label line or a table column.
#: A 时间节点 column is read next to 完成时限; as a label it adds to 完成时限.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "牵头领导": ("牵头领导", "牵头市领导", "牵头区领导", "牵头县领导", "分包领导"),
    "责任领导": ("责任领导", "分管领导", "责任市领导", "责任区领导", "责任县领导"),
    "牵头单位": ("牵头单位", "牵头部门", "主责单位", "牵头责任单位"),
    "配合单位": ("配合单位", "配合部门", "协办单位", "参与单位"),
    "责任单位": ("责任单位", "责任部门", "责任主体", "承办单位"),
    "完成时限": ("完成时限", "完成时间", "时限要求", "办结时限", "完成期限", "时限"),
    "时间节点": ("时间节点", "节点要求", "进度安排"),
}
#: Label as written → the field of :data:`FIELD_LABELS` it fills.
LABEL_ALIASES: dict[str, str] = {
    name: "完成时限" if canon == "时间节点" else canon for canon, names in FIELD_NAMES.items() for name in names
}

ITEM_WITHOUT_UNIT = ProblemType(
    "notice-item-without-unit",
    "warning",
    "条目“{value}”写了领导或完成时限，但没有牵头单位、责任单位或配合单位，未作为任务导入；请核对。",
)
ITEM_NOT_IMPORTED = ProblemType(
    "item-not-imported",
    "warning",
    "编号条目“{value}”{reason}，但没有读出牵头单位、责任单位或配合单位，未作为任务导入。如它是一项任务，"
    "请在原文中为它另起一行写明“牵头单位：……”后重新导入，或在任务清单中手工补上；如它不是任务，可不处理。",
)
ROW_WITHOUT_TASK = ProblemType(
    "table-row-without-task", "warning", "这一行写了单位或时限，但“重点任务”一栏是空的，已跳过；请核对。"
)
#: Codes of the problems that each stand for one numbered item (or table row) not imported.
NOT_IMPORTED = frozenset(t.code for t in (ITEM_WITHOUT_UNIT, ITEM_NOT_IMPORTED, ROW_WITHOUT_TASK))


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

    @property
    def items(self) -> int:
        """Numbered items (table rows) seen: every one is a task or has a problem saying why not."""
        return len(self.tasks) + sum(1 for p in self.problems if p.code in NOT_IMPORTED)
