"""``ledger units add --from NOTICE``: every unit a notice names, added to the units directory.

Each name the directory does not know within the programme's scope becomes a row of that
scope: the full name where :data:`ABBREVIATIONS` knows the short one (县发改委 →
县发展和改革委员会), the name as written kept as an alias, the kind guessed, no e-mail,
and 备注 “待核实” until the office has checked it. A name that writes another area or
level (洛宁县住建局, 市生态环境局宜川分局 in a county notice) is never added to this scope:
it is listed for the office to decide (docs/programme-add.md). The workbook is edited in
place, so the office's formatting and rows stay as they were.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ledger.areas import LEVELS, area_of, level_of
from ledger.errors import InputError
from ledger.fsutil import write_bytes_atomic
from ledger.registry.model import Task
from ledger.registry.raw import UNIT_FIELDS, RawNotice
from ledger.registry.units import (
    HEADER_NOTES,
    HEADERS,
    LIST_SEP,
    PENDING,
    SHEET,
    Unit,
    UnitDirectory,
    normalize_name,
    open_directory,
    resolve_list,
)

#: short names of departments (after the level word 县/区/市) → their full names
ABBREVIATIONS: dict[str, str] = {
    "发改委": "发展和改革委员会",
    "发改局": "发展和改革局",
    "住建局": "住房和城乡建设局",
    "城管局": "城市管理局",
    "教体局": "教育和体育局",
    "应急局": "应急管理局",
    "人社局": "人力资源和社会保障局",
    "自规局": "自然资源和规划局",
    "自然资源规划局": "自然资源和规划局",
    "交通局": "交通运输局",
    "卫健委": "卫生健康委员会",
    "卫健局": "卫生健康局",
    "市场监管局": "市场监督管理局",
    "文旅局": "文化和旅游局",
    "文广旅局": "文化广电和旅游局",
    "工信局": "工业和信息化局",
    "科技局": "科学技术局",
    "国资委": "国有资产监督管理委员会",
    "医保局": "医疗保障局",
    "退役军人局": "退役军人事务局",
    "审批局": "行政审批服务局",
    "行政审批局": "行政审批服务局",
    "政数局": "政务服务和大数据管理局",
    "机关事务局": "机关事务管理局",
    "民宗局": "民族宗教事务局",
    "人防办": "人民防空办公室",
    "公积金中心": "住房公积金管理中心",
    "残联": "残疾人联合会",
    "妇联": "妇女联合会",
    "科协": "科学技术协会",
    "工商联": "工商业联合会",
    "人武部": "人民武装部",
    "政府办": "人民政府办公室",
    "委办": "委办公室",
    "委编办": "委机构编制委员会办公室",
    "委网信办": "委网络安全和信息化委员会办公室",
}
#: full name → the short name offices write most (for the alias of a unit written in full)
SHORT_NAMES: dict[str, str] = {}
for _short, _full in ABBREVIATIONS.items():
    SHORT_NAMES.setdefault(_full, _short)

GROUP_KIND, TOWN_KIND, COMPANY_KIND, STATIONED_KIND = "群组", "镇街", "企业", "驻地单位"
_COLLECTIVE_HEADS = ("各", "相关", "有关", "其他", "其它", "全县", "全区", "全市", "所属", "沿线")
_COLLECTIVE_TAILS = ("各单位", "各部门", "成员单位", "有关单位", "相关单位", "有关部门", "相关部门")
_TOWN_TAILS = ("街道办事处", "办事处", "街道", "镇人民政府", "乡人民政府", "镇政府", "乡政府", "镇", "乡")
_COMPANY_TAILS = ("有限公司", "有限责任公司", "公司", "集团", "银行", "分行", "支行", "合作社")
_STATIONED = ("税务局", "气象局", "消防救援", "人武部", "人民武装部", "分局", "海关", "烟草", "邮政")
#: bare names that begin with a level character without it being one (市场监管局)
_NOT_LEVEL_WORDS = ("市场",)


@dataclass(frozen=True)
class Naming:
    """What a written name becomes in the directory: its full name, aliases and kind."""

    written: str
    name: str
    aliases: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Refused:
    """A name not added to the programme's scope, and why."""

    written: str
    reason: str


@dataclass
class UnitsPlan:
    """What ``units add`` does to the directory for one notice."""

    scope: str
    new: list[Unit] = field(default_factory=list)
    #: units of the scope that get the notice's short name as a further alias: unit → its aliases after
    aliases: list[tuple[Unit, tuple[str, ...]]] = field(default_factory=list)
    known: list[str] = field(default_factory=list)  # names the directory already resolves
    refused: list[Refused] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.new or self.aliases)


def kind_of(rest: str, level: str) -> str:
    """The kind a name (without its level word) suggests: 镇街, 企业, 驻地单位 or 县直部门."""
    if rest.endswith(_TOWN_TAILS):
        return TOWN_KIND
    if rest.endswith(_COMPANY_TAILS):
        return COMPANY_KIND
    if any(word in rest for word in _STATIONED):
        return STATIONED_KIND
    return f"{level}直部门" if level else "部门"


def is_collective(name: str) -> bool:
    """各乡镇, 相关部门, 县直各单位: a notice's word for several units (a 群组 row)."""
    return name.startswith(_COLLECTIVE_HEADS) or name.endswith(_COLLECTIVE_TAILS) or "各" in name[1:4]


def name_unit(written: str, scope: str) -> Naming | Refused:
    """The directory row for *written* in *scope*, or why it is not this scope's unit."""
    name = normalize_name(written)
    if is_collective(name):
        return Naming(name, name, (), GROUP_KIND)
    level = level_of(scope)
    area = area_of(name)
    if area and area != scope:
        return Refused(name, f"写明了其他地区“{area}”，不是“{scope}”的单位")
    if area:
        rest = name[len(area):]
    elif name[:1] in LEVELS and not name.startswith(_NOT_LEVEL_WORDS) and len(name) > 2:
        if name[0] != level:
            return Refused(name, f"以“{name[0]}”开头，是{name[0]}级单位的写法，不是“{scope}”的单位")
        rest = name[1:]
    else:
        rest = name
    kind = kind_of(rest, level)
    if kind == COMPANY_KIND:
        return Naming(name, name, (), kind)
    if kind == TOWN_KIND:
        town = next((rest[: -len(t)] for t in ("人民政府", "政府") if rest.endswith(t) and len(rest) > len(t) + 1), "")
        return Naming(name, rest, (town,) if town else (), kind)
    full = ABBREVIATIONS.get(rest, rest)
    canonical = level + full
    # the short name in its level form (县住建局): bare and 宜川县… forms find it too (units.py)
    short = level + (rest if rest != full else SHORT_NAMES.get(full, full))
    return Naming(name, canonical, (short,) if short != canonical else (), kind)


def notice_names(notice: RawNotice) -> list[str]:
    """Every unit list a notice's tasks carry (牵头/配合/责任单位), in order."""
    return [task.fields[label] for task in notice.tasks for label in UNIT_FIELDS if task.fields.get(label)]


def plan_units(directory: UnitDirectory, lists: Iterable[str], scope: str, source: str) -> UnitsPlan:
    """What adding the units of *lists* (unit lists as a notice writes them) to *scope* means."""
    plan = UnitsPlan(scope)
    namings: dict[str, Naming] = {}
    for text in lists:
        for item in resolve_list(directory, text, scope)[1]:
            if item.unit is not None:
                plan.known.append(item.raw)
                continue
            naming = name_unit(item.meant or item.raw, scope)
            if isinstance(naming, Refused):
                if naming not in plan.refused:
                    plan.refused.append(naming)
                continue
            before = namings.get(naming.name)
            aliases = (*before.aliases, *naming.aliases) if before else naming.aliases
            namings[naming.name] = replace(naming, aliases=tuple(dict.fromkeys(aliases)))
    note = f"{PENDING}（ledger units add 从{source}添加）"
    extra: dict[int, tuple[Unit, tuple[str, ...]]] = {}
    for naming in namings.values():
        existing = directory.get(naming.name, scope)
        if existing is None:
            plan.new.append(Unit(naming.name, scope, naming.aliases, naming.kind, note=note))
        elif existing.scope == scope:
            unit, aliases = extra.get(id(existing), (existing, existing.aliases))
            extra[id(existing)] = (unit, tuple(dict.fromkeys((*aliases, *naming.aliases))))
        else:
            plan.refused.append(Refused(naming.written, f"名录中已有通用单位“{existing.name}”，但它没有“{naming.written}”"
                                                        "这个简称；请在名录中为它补上"))
    plan.aliases = [(unit, aliases) for unit, aliases in extra.values() if aliases != unit.aliases]
    return plan


def updated(directory: UnitDirectory, plan: UnitsPlan) -> UnitDirectory:
    """The directory as it will be: refused (nothing written) if the result is ambiguous."""
    changed = {id(unit): replace(unit, aliases=aliases) for unit, aliases in plan.aliases}
    result = UnitDirectory([*(changed.get(id(u), u) for u in directory.units()), *plan.new])
    if result.problems:
        lines = "\n".join(p.message for p in result.problems[:10])
        raise InputError(f"按通知添加单位后，单位名录会有 {len(result.problems)} 处冲突，未做改动：\n{lines}")
    return result


def apply_plan(path: Path, directory: UnitDirectory, plan: UnitsPlan) -> None:
    """Write *plan* into the workbook at *path*: new rows appended, aliases filled in place; every
    other cell, row, column and format stays. A directory not yet there is created."""
    result = updated(directory, plan)
    if not path.exists():
        result.save(path)
        return
    wb, rows, header_at, cols = open_directory(path, data_only=False)
    sheet = wb[SHEET]
    if "note" not in cols:
        cols["note"] = _add_note_column(sheet, header_at + 1, len(rows[header_at]))
    for unit, aliases in plan.aliases:
        sheet.cell(row=directory.row_of(unit), column=cols["aliases"] + 1, value=LIST_SEP.join(aliases))
    last = max((i + 1 for i, row in enumerate(rows) if any(v not in (None, "") for v in row)), default=header_at + 1)
    for offset, unit in enumerate(plan.new, start=1):
        for key, value in _cells(unit).items():
            if value:
                sheet.cell(row=last + offset, column=cols[key] + 1, value=value).data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes_atomic(path, buf.getvalue())


def _add_note_column(sheet: object, header_row: int, width: int) -> int:
    """A 备注 header after the last header cell (a directory written before the column existed)."""
    from openpyxl.comments import Comment

    column = width
    while sheet.cell(row=header_row, column=column).value in (None, ""):  # type: ignore[attr-defined]
        column -= 1
    cell = sheet.cell(row=header_row, column=column + 1, value=HEADERS["note"])  # type: ignore[attr-defined]
    cell.comment = Comment(HEADER_NOTES["note"], "ledger", width=260, height=90)
    return column


def _cells(unit: Unit) -> dict[str, str]:
    return {"name": unit.name, "scope": unit.scope, "aliases": LIST_SEP.join(unit.aliases), "kind": unit.kind,
            "note": unit.note}


#: review flags of an import that said a name was not in the directory (ledger.registry.units)
_UNKNOWN_FLAGS = ("unknown-unit：", "unit-other-scope：")


def rename_in_registry(registry_tasks: Sequence[Task], directory: UnitDirectory, scope: str) -> tuple[int, int]:
    """A registry imported before its units were in the directory, brought in line with it: names
    made the directory's (县发改委 → 县发展和改革委员会) and the review flags that said a name now
    found was not in the directory dropped. (names renamed, flags dropped)."""
    renamed = dropped = 0
    for task in registry_tasks:
        found: set[str] = set()
        for attr in ("lead_units", "cooperating_units", "responsible_units"):
            names = getattr(task, attr)
            for i, name in enumerate(names):
                unit = directory.get(name, scope)
                if unit is None:
                    continue
                found.add(name)
                if unit.name != name:
                    names[i] = unit.name
                    renamed += 1
            setattr(task, attr, list(dict.fromkeys(names)))
        kept = [flag for flag in task.review
                if not (flag.startswith(_UNKNOWN_FLAGS) and any(f"单位“{n}”" in flag for n in found))]
        dropped += len(task.review) - len(kept)
        task.review = kept
    return renamed, dropped
