"""What the 工作台账 says around its task rows: the 填报说明, row heights, due marks.

The task rows' own texts (:func:`ledger.layout.task_cells`) live in the layout, which the
reader shares; this module holds what only the writer needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ledger import layout
from ledger.config import Programme, Reporting
from ledger.due import due_date_text, rule_sentence
from ledger.periods import Period
from ledger.registry.model import Registry, Task


@dataclass(frozen=True)
class RegistryIndex:
    """What every workbook of one registry shares; computed once, not per unit."""

    registry_hash: str
    columns: tuple[layout.Column, ...]
    tasks_by_unit: Mapping[str, tuple[Task, ...]]


def index_registry(registry: Registry) -> RegistryIndex:
    """Hash the registry, choose the columns, group tasks by lead unit (registry order).

    A co-led task is listed under each of its lead units. 牵头领导 is written only when
    some task of the programme names a leader, so all workbooks of a programme have
    the same columns.
    """
    with_leaders = any(t.leaders for t in registry.tasks)
    columns = tuple(c for c in layout.COLUMNS if c.key != "leaders" or with_leaders)
    return RegistryIndex(registry.content_hash(), columns, registry.index().by_unit)




def due_in(day: date | None, period: Period) -> bool:
    return day is not None and period.contains(day)


def guide_lines(programme: Programme, period: Period, unit: str, reporting: Reporting) -> list[tuple[str, str]]:
    """The 填报说明 sheet as (label, text) rows; an empty label continues the section above."""
    contact = "　".join(x for x in (reporting.contact, f"电话：{reporting.phone}" if reporting.phone else "") if x)
    notice = f"{programme.title}（{programme.doc_number}）" if programme.doc_number else programme.title
    rows = [
        ("项目", notice), ("填报单位", unit), ("报送期次", period.label()),
        ("报送时限", f"{due_date_text(period.due(reporting))}（{rule_sentence(reporting)}）"),
        ("接收单位", reporting.office), ("联系人", contact), ("电子邮箱", reporting.email), ("", ""),
    ]
    rows += [("推进状态说明" if i == 0 else "", f"{s}：{layout.STATUS_MEANINGS[s]}")
             for i, s in enumerate(layout.STATUSES)]
    rules = (
        "灰色单元格由系统生成（任务编号、重点任务、单位、完成时限、时间节点、上期进展），已锁定，请勿改动；"
        "白色单元格由本单位填写。",
        "除推进状态为“已完成”的任务外，每项任务都要填写“本期进展情况”，写明本期做了什么、达到什么程度，"
        "不要照抄上期内容。",
        "“完成进度（%）”填写0到100之间的整数，不带百分号；“推进状态”从下拉列表中选择。",
        "“序时进度”是按完成时限和时间节点算出的本期应达进度（第二行是当前节点应达到的进度），已锁定，"
        "供选择推进状态参考：实际进度明显低于序时进度的，请如实选择“滞后”。",
        "常态化（长期坚持）任务：推进状态选“常态化推进”，“完成进度”可不填或填“/”；此类任务不设“已完成”。",
        "“牵头单位”列有多个单位的任务为共同牵头任务（单元格右上角有批注），请报本单位承担部分的进展。",
        "标红的时间节点是本期到期的节点，请在“本期进展情况”中说明完成情况。",
        "请在第2行填写填报人、联系电话、填报时间和分管领导。",
        "请勿重命名、删除或新增工作表；请勿插入或删除行、列；请勿合并单元格；请勿修改表头。",
        "工作表已设置保护（无密码），仅为防止误改，请勿撤销保护后修改灰色单元格。",
        "如任务分工有误或需要补充说明，请写在“备注”或“需协调解决事项”栏，并与接收单位联系，不要删除该行。",
        "请保存为 .xlsx 格式（Excel 工作簿）后报送，不要另存为 .xls、.et、.wps 或 PDF。",
    )
    rows += [("", "")] + [("填报要求" if i == 0 else "", f"{i + 1}. {r}") for i, r in enumerate(rules)]
    return rows
