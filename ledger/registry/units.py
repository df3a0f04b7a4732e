"""The units directory (source_data/units.xlsx) and unit-name normalisation.

Notices name the same unit many ways (市发改委, 发改委, 洛阳市发展和改革委员会) and a
short name means different units at different levels (发改委 in a 偃师区 notice is the
district's). So every unit belongs to a 层级范围 (scope), lookups are scoped, and the
directory workbook — edited by the office — lists each unit's canonical name and aliases.

Two implicit rules save listing every variant: within scope 洛阳市 (level 市) the forms
洛阳市X and 市X are the same key, and a bare X is also tried as 市X.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.errors import InputError
from ledger.fsutil import write_bytes_atomic
from ledger.problems import Problem, ProblemType


@dataclass(frozen=True)
class Unit:
    """One unit (or a placeholder group) of the directory.

    ``scope`` is the administrative level whose notices use this unit's short names
    (e.g. "洛阳市", "偃师区", "洛宁县"); a programme configures its scope in ledger.toml.
    ``members`` is non-empty only for groups such as 各城市区政府（管委会）.
    """

    name: str
    scope: str = ""
    aliases: tuple[str, ...] = ()
    kind: str = ""
    members: tuple[str, ...] = ()
    contact: str = ""
    email: str = ""
    phone: str = ""
    #: the office's note; "待核实…" marks a row ledger added from a notice and nobody checked yet
    note: str = ""

    @property
    def is_group(self) -> bool:
        return bool(self.members) or self.kind == "群组"

    @property
    def addresses(self) -> tuple[str, ...]:
        """The e-mail addresses in the 电子邮箱 cell (several separated by ；、, or spaces)."""
        return tuple(dict.fromkeys(a for a in _ADDRESS_SPLIT.split(self.email.strip()) if a))

    @property
    def pending(self) -> bool:
        """Added by ``ledger units add`` and not yet checked by the office."""
        return self.note.startswith(PENDING)


@dataclass(frozen=True)
class Resolved:
    """One name from a unit list: as written, and what it resolved to."""

    raw: str
    unit: Unit | None
    suggestions: tuple[str, ...] = field(default=())
    meant: str = ""  # an unknown name with the list's shared prefix: 网信办 after 市委宣传部 → 市委网信办
    #: units of other scopes carrying the name: never used for this scope, named in the error
    elsewhere: tuple[Unit, ...] = field(default=())

    def hint(self) -> str:
        """What an unknown-unit message adds: the name the list meant and likely units."""
        parts = [f"按前文应为“{self.meant}”"] if self.meant and self.meant != self.raw else []
        if self.suggestions:
            parts.append(f"是否为：{'、'.join(self.suggestions)}？")
        return f"（{'；'.join(parts)}）" if parts else ""


UNKNOWN_UNIT = ProblemType(
    "unknown-unit", "error",
    "单位“{value}”不在单位名录中{hint}。请在 source_data/units.xlsx 中补充该单位或别名，或改正名称。",
)
UNIT_OTHER_SCOPE = ProblemType(
    "unit-other-scope", "error",
    "单位“{value}”在本项目的层级范围“{scope}”中找不到；单位名录中只有{others}用这个名称，"
    "程序不会跨层级范围使用它们。如是本项目范围内的单位，请运行 ledger units add --from 通知文件 添加，"
    "或在 source_data/units.xlsx 中添加一行层级范围为“{scope}”的单位；如确是该单位承担本项目的任务，"
    "请把它的“层级范围”改为空（各层级通用）。",
)
UNIT_DUPLICATE = ProblemType(
    "unit-duplicate", "error",
    "名称或别名“{value}”在层级范围“{scope}”中已被第 {other} 行的单位“{owner}”使用；"
    "同一层级范围内每个名称只能指向一个单位，请删除或改正其中一处。",
)
UNIT_MEMBER_UNKNOWN = ProblemType(
    "unit-member-unknown", "error",
    "群组“{group}”的成员单位“{value}”在层级范围“{scope}”中找不到；请先在名录中添加该单位，或改正成员名称。",
)
UNIT_NAME_MISSING = ProblemType(
    "unit-name-missing", "error", "这一行填写了内容，但“单位名称”是空的；请填写单位名称或删除这一行。"
)

SHEET = "单位名录"
#: how a row added from a notice is marked in the 备注 column until the office has checked it
PENDING = "待核实"
HELP_SHEET = "填写说明"
LIST_SEP = "、"
GROUP_KIND = "群组"
#: Column key → header text; all are required so that load → save never loses data.
HEADERS: dict[str, str] = {
    "name": "单位名称",
    "scope": "层级范围",
    "aliases": "简称/别名",
    "kind": "类别",
    "members": "成员单位",
    "contact": "联系人",
    "email": "电子邮箱",
    "phone": "联系电话",
    "note": "备注",
}
#: columns a workbook may lack (written before they existed); every other one is required
OPTIONAL_HEADERS = ("note",)
_HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "规范名称", "单位"),
    "scope": ("层级范围", "层级", "范围"),
    "aliases": ("简称/别名", "简称、别名", "别名/简称", "简称", "别名"),
    "kind": ("类别", "单位类别", "类型"),
    "members": ("成员单位", "成员"),
    "contact": ("联系人",),
    "email": ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail"),
    "phone": ("联系电话", "电话"),
    "note": ("备注", "核实情况"),
}
_WIDTHS = {"name": 30, "scope": 10, "aliases": 40, "kind": 10, "members": 50, "contact": 12, "email": 24,
           "phone": 16, "note": 30}
HEADER_SCAN = 5
FIXED_TIME = datetime(2000, 1, 1)

HELP_TEXT = (
    "本表是单位名录：导入通知时，通知中写的单位名称（简称、全称、省略“市”字的写法等）都按本表换成规范名称。",
    "单位名称：台账和通报中使用的规范名称，如“市发展和改革委员会”“区住房和城乡建设局”“县财政局”。",
    "层级范围：单位所属的层级，如 洛阳市、偃师区、洛宁县，须与 ledger.toml 中项目的 scope 一致；"
    "留空表示各层级通用（如洛阳军分区）。同一简称在不同层级指不同单位（偃师区通知中的“发改委”是区发改委）。",
    "简称/别名：通知中出现的其他写法，多个用“、”分隔。在“洛阳市”范围内，“洛阳市X”与“市X”视为同一写法，"
    "只写“X”也会按“市X”查找，因此“市发改委”一项即可覆盖“发改委”“洛阳市发改委”。",
    "同一层级范围内（含通用单位），每个名称或别名只能指向一个单位，否则导入时无法判断，程序会报错并指出行号。",
    "类别：市直部门、区直部门、县直部门、县区政府、镇街、企业、驻地单位、群组等。",
    "群组（类别填“群组”）：通知中的统称，如“各城市区政府（管委会）”“相关镇（街道）”。"
    "成员单位填写其包含的具体单位（用“、”分隔，须是本表中同一层级范围的单位）；暂不确定的可留空，由审核人处理。",
    "联系人、电子邮箱、联系电话：台账发送和催报使用。“（待补充）”和 example.org（.com、.net）的邮箱是占位内容，"
    "请改为真实信息；没有邮箱或邮箱是占位内容的牵头单位，ledger registry check 和 ledger mail drafts 都会提示。",
    "备注：“待核实”表示这一行是 ledger units add 从通知中自动添加的，名称按常用简称补全（如“县发改委”→"
    "“县发展和改革委员会”）。请核对单位名称、简称、类别，填写联系人和邮箱，核实后删去“待核实”。",
    "可以增加行、调整行和列的顺序；请不要修改表头文字和工作表名称。",
)
#: for a directory built from a seed file (the sample's), appended to :data:`HELP_TEXT`
SEED_NOTE = ("本表可由 python -m ledger.registry.units_build 从 source_data/units_seed.toml 重新生成；"
             "重新生成时会保留本表中已填写的联系人、邮箱和电话。")
#: a short note on each header cell (shown when the pointer rests on it in Excel/WPS)
HEADER_NOTES: dict[str, str] = {
    "name": "规范名称，如“县发展和改革委员会”。台账、通报都用这个名称。",
    "scope": "所属层级，如 宜阳县；须与 ledger.toml 中项目的 scope 一致。留空表示各层级通用。",
    "aliases": "通知中出现的其他写法，如“县发改委、发改委”，用“、”分隔。",
    "kind": "如 县直部门、镇街、企业；通知中的统称（如“各乡镇”）填“群组”。",
    "members": "仅群组填写：包含的单位，用“、”分隔。",
    "contact": "联系人姓名。",
    "email": "接收台账和催报邮件的地址。",
    "phone": "联系电话。",
    "note": "“待核实”：由 ledger 从通知中添加，请核对名称、类别并填写邮箱后删去。",
}

_OPEN, _CLOSE = "（〔【《", "）〕】》"
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_ADDRESS_SPLIT = re.compile(r"[;；,，、\s]+")
#: domains reserved for examples (RFC 2606): mail to them never arrives
PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")
PLACEHOLDER_TLDS = (".example", ".invalid", ".test", ".localhost")
_EMPTY_NAMES = {"无", "暂无", "/", "-", "—", "——", "－"}
_GOV_SUFFIXES = ("人民政府（管委会）", "政府（管委会）", "人民政府", "政府", "管委会")
_LEVEL_PREFIXES = ("市委", "县委", "区委", "市", "县", "区")


def is_address(text: str) -> bool:
    """Whether *text* is written like one e-mail address."""
    return bool(_ADDRESS.match(text))


def is_placeholder(address: str) -> bool:
    """An address at a domain reserved for examples (u0001@example.org): it never arrives."""
    domain = address.rsplit("@", 1)[-1].lower().rstrip(".")
    return domain.endswith(PLACEHOLDER_TLDS) or any(
        domain == d or domain.endswith("." + d) for d in PLACEHOLDER_DOMAINS)


def normalize_name(text: str) -> str:
    """A unit name as a lookup key: NFKC, no whitespace, full-width brackets, no stray punctuation."""
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"\s+", "", text)
    text = text.replace("(", "（").replace(")", "）").replace("[", "〔").replace("]", "〕")
    return text.strip("。.：:、，,；;")


def _split_top(text: str, seps: str) -> list[str]:
    """Split *text* on any of *seps* outside brackets: 各县（市、区）政府 stays whole."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch in seps and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _clean_items(raw: str) -> Iterator[str]:
    """One 、-separated item → names: trailing 等 dropped, "涧西区等相关县区政府" split in two."""
    name = normalize_name(raw)
    name = re.sub(r"等(单位|部门)?$", "", name)
    m = re.fullmatch(r"(.+?)等((?:相关|有关|各|其他|其它).+)", name)
    if m:
        yield from (m.group(1), m.group(2))
    elif name and name not in _EMPTY_NAMES:
        yield name


def _groups(text: str) -> list[list[str]]:
    """Unit list → groups (split on ，；) of names (split on 、), duplicates removed."""
    text = unicodedata.normalize("NFKC", text or "").replace("(", "（").replace(")", "）")
    seen: set[str] = set()
    out: list[list[str]] = []
    for chunk in _split_top(text, "，,；;"):
        group = []
        for item in _split_top(chunk, "、"):
            for name in _clean_items(item):
                if name not in seen:
                    seen.add(name)
                    group.append(name)
        if group:
            out.append(group)
    return out


def split_units(text: str) -> list[str]:
    """Names in a unit list as written, cleaned of layout artefacts, in order, without duplicates."""
    return [name for group in _groups(text) for name in group]


def _level(scope: str) -> str:
    return scope[-1] if scope and scope[-1] in "市区县" else ""


def _variants(key: str, scope: str) -> list[str]:
    """Keys to try for *key* in *scope*: 洛阳市X ≡ 市X, and bare X → 市X."""
    out = [key]
    level = _level(scope)
    if not level:
        return out
    if key.startswith(scope) and len(key) > len(scope):
        out.append(level + key[len(scope):])
    else:
        if key.startswith(level):
            out.append(scope + key[1:])
        out.append(level + key)
    return out


def _prefix_of(name: str, scope: str) -> str:
    """The level prefix a list writes once: "市自然资源和规划局、财政局" shares 市."""
    for prefix in (f"{scope}委", scope, *_LEVEL_PREFIXES) if scope else _LEVEL_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return prefix
    return ""


def _prefix_level(prefix: str, scope: str) -> str:
    """The level a written prefix names: 市委/市 → 市; the scope's own name → its level."""
    if scope and prefix.startswith(scope):
        return _level(scope)
    return prefix[0] if prefix[:1] in ("市", "区", "县") else ""


def _gov_suffix(name: str) -> str:
    return next((s for s in _GOV_SUFFIXES if name.endswith(s) and len(name) > len(s)), "")


class UnitDirectory:
    """All units, indexed by canonical name and alias per scope."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units = list(units)
        self._index: dict[str, dict[str, Unit]] = {}
        self.problems: list[Problem] = []
        self._build([i + 2 for i in range(len(self._units))], "")

    # ---- building and checking ---------------------------------------------------

    def _build(self, rows: Sequence[int], file: str) -> None:
        """Index every name and alias; record duplicates and unknown members as problems."""
        self._index = {}
        self.problems = []
        self._rows = {id(unit): row for unit, row in zip(self._units, rows, strict=True)}
        owner_row: dict[tuple[str, str], int] = {}
        owner: dict[tuple[str, str], Unit] = {}
        where = {"file": file or None, "sheet": SHEET}
        for unit, row in zip(self._units, rows, strict=True):
            table = self._index.setdefault(unit.scope, {})
            for key in dict.fromkeys(normalize_name(k) for k in (unit.name, *unit.aliases)):
                if not key:
                    continue
                clash = self._clash(key, unit.scope)
                if clash is not None and clash is not unit:
                    other = owner_row[(clash.scope, key)]
                    self.problems.append(UNIT_DUPLICATE(
                        value=key, scope=unit.scope or "通用", other=other, owner=owner[(clash.scope, key)].name,
                        row=row, **where,
                    ))
                    continue
                table[key] = unit
                owner_row[(unit.scope, key)] = row
                owner[(unit.scope, key)] = unit
        for unit, row in zip(self._units, rows, strict=True):
            for member in unit.members:
                if self.get(member, unit.scope) is None:
                    self.problems.append(UNIT_MEMBER_UNKNOWN(
                        value=member, group=unit.name, scope=unit.scope or "通用", row=row, **where
                    ))

    def _clash(self, key: str, scope: str) -> Unit | None:
        """The unit already holding *key* where a unit of *scope* would be visible too."""
        if scope:
            return self._index.get(scope, {}).get(key) or self._index.get("", {}).get(key)
        return next((t[key] for t in self._index.values() if key in t), None)

    # ---- reading and writing -----------------------------------------------------

    @classmethod
    def read(cls, path: Path) -> tuple[UnitDirectory, list[Problem]]:
        """Read the workbook; unreadable files or missing headers raise, bad rows are problems."""
        path = Path(path)
        units, rows, problems = _read_rows(path)
        directory = cls.__new__(cls)
        directory._units = units
        directory._build(rows, path.name)
        return directory, problems + directory.problems

    @classmethod
    def load(cls, path: Path) -> UnitDirectory:
        """Read the workbook and refuse it if any row is wrong (the directory must be unambiguous)."""
        directory, problems = cls.read(path)
        errors = [p for p in problems if p.is_error]
        if errors:
            shown = "\n".join(p.render() for p in errors[:20])
            more = f"\n……另有 {len(errors) - 20} 处" if len(errors) > 20 else ""
            raise InputError(f"单位名录 {path} 有 {len(errors)} 处错误，请改正后再运行：\n{shown}{more}")
        return directory

    def save(self, path: Path, help_text: Sequence[str] = HELP_TEXT) -> None:
        """Write the workbook atomically; the same units always give the same bytes.

        The header cells carry :data:`HEADER_NOTES`; *help_text* fills the 填写说明 sheet.
        """
        import openpyxl  # writing only: commands that read the directory never load it
        from openpyxl.comments import Comment
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        wb = openpyxl.Workbook()
        sheet = wb.active
        sheet.title = SHEET
        fill = PatternFill("solid", fgColor="DDEBF7")
        for col, (key, header) in enumerate(HEADERS.items(), start=1):
            cell = sheet.cell(row=1, column=col, value=header)
            cell.font = Font(bold=True)
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center", vertical="center")
            cell.comment = Comment(HEADER_NOTES[key], "ledger", width=260, height=90)
            sheet.column_dimensions[get_column_letter(col)].width = _WIDTHS[key]
        wrap = Alignment(wrap_text=True, vertical="top")
        for r, unit in enumerate(self._units, start=2):
            for col, value in enumerate(_unit_cells(unit).values(), start=1):
                cell = sheet.cell(row=r, column=col)
                _set_text(cell, value)
                cell.alignment = wrap
        sheet.freeze_panes = "B2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(self._units) + 1}"
        help_sheet = wb.create_sheet(HELP_SHEET)
        help_sheet.column_dimensions["A"].width = 110
        for i, line in enumerate(help_text, start=1):
            help_sheet.cell(row=i, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")
        wb.properties.created = FIXED_TIME
        wb.properties.creator = wb.properties.lastModifiedBy = "ledger"
        buf = io.BytesIO()
        wb.save(buf)
        write_bytes_atomic(path, _deterministic_zip(buf.getvalue()))

    # ---- lookups -----------------------------------------------------------------

    def get(self, name: str, scope: str = "") -> Unit | None:
        """The unit called *name* (canonical name or alias) in *scope* or the common set.

        Without a scope a name is found only if exactly one unit anywhere carries it.
        """
        key = normalize_name(name)
        if not key:
            return None
        if scope:
            own, common = self._index.get(scope, {}), self._index.get("", {})
            for variant in _variants(key, scope):
                unit = own.get(variant) or common.get(variant)
                if unit is not None:
                    return unit
            return None
        found = {(u.scope, u.name): u for table in self._index.values() if (u := table.get(key)) is not None}
        return next(iter(found.values())) if len(found) == 1 else None

    def resolve(self, name: str, scope: str = "") -> Resolved:
        """Like :meth:`get`, but unknown names come with up to three likely units."""
        return self._resolve(normalize_name(name), scope, "", "")

    def _resolve(self, name: str, scope: str, prefix: str, suffix: str, level: str = "") -> Resolved:
        """*name* in *scope*, completed by the prefix/suffix its list wrote once.

        With a *level* (the prefix's: 市 for 市委), a name found only bare must be a unit
        of that level: "市委宣传部、网信办" never makes 网信办 the district's.
        """
        unit = None
        shared = prefix and not _prefix_of(name, scope)
        if shared:
            unit = self.get(prefix + name, scope)
            if unit is None and prefix.endswith("委"):
                unit = self.get(prefix[:-1] + name, scope)  # 市委 + 文明办 → 市文明办
        if unit is None:
            unit = self.get(name, scope)
            if unit is not None and shared and level and _level(unit.scope) not in ("", level):
                unit = None
        if unit is None and suffix and not _gov_suffix(name):
            unit = self.get(name + suffix, scope)
        if unit is None and (tail := _gov_suffix(name)):
            base = self.get(name[: -len(tail)], scope)
            unit = base if base is not None and not base.is_group else None
        if unit is not None:
            return Resolved(name, unit)
        meant = prefix + name if shared else ""
        return Resolved(name, None, self.suggest(name, scope), meant, self.elsewhere(meant or name, scope))

    def elsewhere(self, name: str, scope: str) -> tuple[Unit, ...]:
        """Units of scopes other than *scope* (and the common set) that *name* means there: what a
        lookup in *scope* must not fall back on (县发改委 of 洛宁县 is not 宜川县's)."""
        if not scope:
            return ()
        found = (self.get(name, other) for other in self._index if other not in ("", scope))
        return tuple(dict.fromkeys(u for u in found if u is not None and u.scope not in ("", scope)))

    def suggest(self, name: str, scope: str = "", limit: int = 3) -> tuple[str, ...]:
        """Canonical names most similar to *name* among the units visible in *scope*."""
        from rapidfuzz import fuzz, process

        key = normalize_name(name)
        if not key:
            return ()
        tables = [self._index.get(scope, {}), self._index.get("", {})] if scope else list(self._index.values())
        choices: dict[str, Unit] = {}
        for table in tables:
            for k, unit in table.items():
                choices.setdefault(k, unit)
        level = _level(scope)
        queries = {key, level + key[len(scope):] if key.startswith(scope) and level else level + key}
        best: dict[str, float] = {}
        for query in queries:
            for k, score, _ in process.extract(query, list(choices), scorer=fuzz.ratio, limit=10, score_cutoff=60):
                unit_name = choices[k].name
                best[unit_name] = max(best.get(unit_name, 0.0), score)
        return tuple(sorted(best, key=lambda n: (-best[n], n))[:limit])

    def expand(self, group: str, scope: str = "") -> list[Unit]:
        """The units a group stands for (nested groups flattened); a plain unit gives itself."""
        unit = self.get(group, scope)
        if unit is None:
            return []
        out: dict[tuple[str, str], Unit] = {}
        self._expand(unit, out, set())
        return list(out.values())

    def _expand(self, unit: Unit, out: dict[tuple[str, str], Unit], seen: set[tuple[str, str]]) -> None:
        ident = (unit.scope, unit.name)
        if ident in seen:
            return
        seen.add(ident)
        if not unit.members:
            if not unit.is_group:
                out.setdefault(ident, unit)
            return
        for member in unit.members:
            found = self.get(member, unit.scope)
            if found is not None:
                self._expand(found, out, seen)

    def address_owners(self, address: str) -> list[Unit]:
        """Every unit whose 电子邮箱 holds *address* (compared without case)."""
        wanted = address.lower()
        return [u for u in self._units if any(a.lower() == wanted for a in u.addresses)]

    def row_of(self, unit: Unit) -> int | None:
        """The workbook row of *unit* (counted as in Excel), None for a unit not read from one."""
        return self._rows.get(id(unit))

    def units(self, scope: str | None = None) -> list[Unit]:
        """All units in workbook order, or those of one scope ("" = the common set)."""
        return [u for u in self._units if scope is None or u.scope == scope]

    def __len__(self) -> int:
        return len(self._units)


def unknown_problem(item: Resolved, scope: str, **where: object) -> Problem:
    """The error for a name that did not resolve: another scope's unit named, or an unknown one."""
    if item.elsewhere:
        others = "、".join(f"层级范围“{u.scope}”的“{u.name}”" for u in item.elsewhere)
        return UNIT_OTHER_SCOPE(value=item.raw, scope=scope, others=others, **where)
    return UNKNOWN_UNIT(value=item.raw, hint=item.hint(), **where)


def resolve_list(directory: UnitDirectory, text: str, scope: str) -> tuple[list[str], list[Resolved]]:
    """Split a unit list and resolve each name, honouring a shared prefix or suffix written once.

    "市自然资源和规划局、财政局、住建局" → 市财政局, 市住建局 (prefix); "洛龙区、涧西区人民政府"
    → 洛龙区人民政府 (suffix). A prefix carries on when the name that wrote it is a unit of
    that level (市场监管局 in a district is the district's, so its 市 is no prefix), or when
    it is unknown but plainly a level (市委…); the names after it are then read at that
    level only, and within the scope of the unit that wrote it when the programme has
    none. Returns the names as split and one :class:`Resolved` per name.
    """
    raw: list[str] = []
    resolved: list[Resolved] = []
    prefix = level = ""
    within = scope
    for group in _groups(text):
        suffix = _gov_suffix(group[-1]) if len(group) > 1 else ""
        for name in group:
            item = directory._resolve(name, within, prefix, suffix, level)
            raw.append(name)
            resolved.append(item)
            own = _prefix_of(name, scope)
            own_level = _prefix_level(own, scope)
            unit = item.unit
            if own and unit is not None and _level(unit.scope) in ("", own_level):
                prefix, level = own, own_level
                within = scope or unit.scope
            elif own.endswith("委") and unit is None:
                prefix, level = own, own_level
    return raw, resolved


# ---- workbook helpers ------------------------------------------------------------


def _unit_cells(unit: Unit) -> dict[str, str]:
    return {
        "name": unit.name,
        "scope": unit.scope,
        "aliases": LIST_SEP.join(unit.aliases),
        "kind": unit.kind,
        "members": LIST_SEP.join(unit.members),
        "contact": unit.contact,
        "email": unit.email,
        "phone": unit.phone,
        "note": unit.note,
    }


def _set_text(cell: Any, value: str) -> None:
    """Store *value* as text, never as a formula."""
    cell.value = value or None
    if value:
        cell.data_type = "s"
        if value[0] in "=+-@":
            cell.quotePrefix = True


def _deterministic_zip(data: bytes) -> bytes:
    """Re-pack an .xlsx with fixed timestamps so equal content gives equal bytes."""
    out = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\2", body)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def split_list(text: str) -> tuple[str, ...]:
    """An alias/member cell → names: split on 、，； or line breaks, brackets respected."""
    text = unicodedata.normalize("NFKC", text).replace("(", "（").replace(")", "）")
    names = (normalize_name(p) for p in _split_top(text, "、，,；;\n"))
    return tuple(dict.fromkeys(n for n in names if n))


def _norm_header(text: str) -> str:
    return re.sub(r"[\s*＊:：]", "", unicodedata.normalize("NFKC", text)).lower()


def _header_columns(row: Sequence[object]) -> dict[str, int]:
    wanted = {_norm_header(s): key for key, names in _HEADER_SYNONYMS.items() for s in names}
    cols: dict[str, int] = {}
    for i, value in enumerate(row):
        key = wanted.get(_norm_header(_text(value)))
        if key and key not in cols:
            cols[key] = i
    return cols


def open_directory(path: Path, *, data_only: bool = True) -> tuple[Any, list[tuple[Any, ...]], int, dict[str, int]]:
    """The workbook at *path*, the rows of its 单位名录 sheet, the header's index among them and
    the columns it names; a missing file, sheet or column raises :class:`InputError`."""
    if not path.is_file():
        raise InputError(f"找不到单位名录 {path}。新建工作区请运行 ledger init；从通知添加单位请运行 "
                         "ledger units add --from 通知文件。")
    import openpyxl  # a parsed copy is used while the workbook is unchanged (ledger.registry.cache)
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, data_only=data_only)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(f"无法打开单位名录 {path}：{exc}。请确认它是 .xlsx 文件且未损坏。") from exc
    if SHEET not in wb.sheetnames:
        raise InputError(f"单位名录 {path} 缺少工作表“{SHEET}”，请不要修改工作表名称。")
    rows = list(wb[SHEET].iter_rows(values_only=True))
    header_at, cols = 0, {}
    for i, row in enumerate(rows[:HEADER_SCAN]):
        found = _header_columns(row)
        if "name" in found:
            header_at, cols = i, found
            break
    missing = [HEADERS[k] for k in HEADERS if k not in cols and k not in OPTIONAL_HEADERS]
    if missing:
        where = f"第 {header_at + 1} 行" if cols else f"前 {HEADER_SCAN} 行"
        raise InputError(
            f"单位名录 {path} 的工作表“{SHEET}”{where}的表头缺少列：{'、'.join(missing)}。"
            f"表头应为：{'、'.join(HEADERS.values())}（顺序不限，“备注”可以没有），请恢复表头文字。"
        )
    return wb, rows, header_at, cols


def _read_rows(path: Path) -> tuple[list[Unit], list[int], list[Problem]]:
    """Units of the workbook with their row numbers; structural damage raises InputError."""
    _, rows, header_at, cols = open_directory(path)
    units: list[Unit] = []
    numbers: list[int] = []
    problems: list[Problem] = []
    for r, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        cells = {key: _text(row[cols[key]]) if key in cols and cols[key] < len(row) else "" for key in HEADERS}
        if not any(cells.values()):
            continue
        name = normalize_name(cells["name"])
        if not name:
            problems.append(UNIT_NAME_MISSING(file=path.name, sheet=SHEET, row=r))
            continue
        units.append(Unit(
            name=name,
            scope=normalize_name(cells["scope"]),
            aliases=tuple(a for a in split_list(cells["aliases"]) if a != name),
            kind=cells["kind"],
            members=split_list(cells["members"]),
            contact=cells["contact"],
            email=cells["email"],
            phone=cells["phone"],
            note=cells["note"],
        ))
        numbers.append(r)
    return units, numbers, problems
