"""Checks of one returned 工作台账 read by :mod:`ledger.collect.reader`: whose file it is, and its content.

Every finding is a :class:`~ledger.problems.Problem` naming the cell as the unit sees it
in the file it sent (after its own sorting or inserted columns), so a receipt can say
"N7: 完成进度无效" and the unit finds N7. Rows are found by task id and columns by
header text, never by position.

What a file must hold comes from the office's own record of what it sent the unit
(:class:`Sent`, recorded by generate), not from what the file says about itself: its tasks,
and a keyed digest of each task's locked cells. Without a record for the period (generated
before records were kept) a file is checked as before, against the registry, and told so;
a keyed workbook (layout 4) then proves itself with the seal in its hidden sheet.
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ledger import layout
from ledger.collect.a1 import cell_ref, range_cells
from ledger.collect.limits import CELL_TOO_LONG, DEFAULT_LIMITS
from ledger.collect.reader import ReadWorkbook, find_header, formula_kind
from ledger.config import Programme
from ledger.periods import Period, PeriodError, parse_period
from ledger.problems import Problem, ProblemType, has_errors
from ledger.registry.model import Registry, Task, TaskIndex
from ledger.secret import key_id
from ledger.store.model import Entry, Manifest

_RESEND = "请使用本期下发的台账模板重新填报后报送"

# --- sheet and identification -------------------------------------------------------------------
NO_LEDGER_SHEET = ProblemType(
    "no-ledger-sheet", "error", "文件中找不到“工作台账”工作表（也没有带表头的工作表），" + _RESEND)
SHEET_RENAMED = ProblemType(
    "sheet-renamed", "warning", "工作表“工作台账”被改名为“{value}”，已按表头识别读取；下次请勿重命名工作表")
IDENTIFIED_BY_CONTENT = ProblemType(
    "identified-by-content", "warning",
    "文件中的隐藏识别信息已丢失，已根据标题、表头和任务编号识别为“{unit}”的台账；下次请直接在下发的文件中填写并保存为 .xlsx")
WRONG_PROGRAMME = ProblemType(
    "wrong-programme", "error", "文件不是“{expected}”的台账（文件属于：{value}），请报送本项目的台账")
WRONG_PERIOD = ProblemType(
    "wrong-period", "error", "文件是{value}的台账，本次收取的是{expected}的台账，请用本期下发的台账填报")
LAYOUT_VERSION_MISMATCH = ProblemType(
    "layout-version", "error", "台账模板版本为 {value}，与当前版本 {expected} 不符，" + _RESEND)
UNIT_UNKNOWN = ProblemType(
    "unit-unknown", "error", "填报单位“{value}”不是本项目的牵头单位，请确认是否用错了台账，" + _RESEND)
UNIT_NOT_FOUND = ProblemType(
    "unit-not-found", "error", "无法确定填报单位，请在第2行“填报单位”处填写单位名称，或" + _RESEND)
UNIT_MISMATCH = ProblemType(
    "unit-mismatch", "warning", "第2行填写的填报单位“{value}”与台账所属单位“{unit}”不一致，已按“{unit}”收取；如有误请联系接收单位")
WRONG_UNIT = ProblemType(
    "wrong-unit", "error", "这是“{value}”的台账，但应由“{expected}”报送，请报送本单位的台账")
NO_RECORD = ProblemType(
    "no-record", "error", "本办没有向“{unit}”发出过{period}的台账（本期的发出记录中没有这个单位），这份文件不是本办发出的"
    "（可能是其他地方的表格，或自行制作的），" + _RESEND)
NOT_SEALED = ProblemType(
    "not-sealed", "error", "文件中隐藏的校验信息{why}：这份文件不是本办生成的，或其中的任务和隐藏信息被改动过，" + _RESEND)
CHECKED_AGAINST_REGISTRY = ProblemType(
    "checked-against-registry", "warning",
    "本期台账生成时还没有保存发出记录（由旧版本生成），已按当前任务清单核对各项任务和系统生成的内容")

# --- columns and rows ---------------------------------------------------------------------------
HEADER_MISSING = ProblemType(
    "header-missing", "error", "工作表中找不到表头行（序号、任务编号、重点任务……），请勿修改或删除表头，" + _RESEND)
COLUMN_MISSING = ProblemType(
    "column-missing", "error", "找不到“{value}”列，请勿删除该列或修改表头，恢复后重新报送")
LOCKED_CHANGED = ProblemType(
    "locked-changed", "error", "系统生成的“{column}”内容被改动（应为“{expected}”），请恢复原内容；如任务有误请写在备注中")
TASK_MISSING = ProblemType(
    "task-missing", "error", "任务 {value} 所在的行被删除，请恢复该行并填写进展后重新报送")
TASK_RENAMED = ProblemType(
    "task-renamed", "error", "第 {line} 行的任务编号被改成了“{value}”，这一行是本台账的任务 {expected}；请把编号改回 {expected} 后重新报送")
TASK_DUPLICATE = ProblemType(
    "task-duplicate", "error", "任务 {value} 出现了不止一行（另见第 {first} 行），请删除多余的行，每项任务只填一行")
ROW_ADDED = ProblemType(
    "row-added", "error", "第 {line} 行{what}，不属于本台账的任何任务，请删除该行；需补充说明的请写在相应任务的备注中")
NOTE_BELOW_TABLE = ProblemType(
    "note-below-table", "warning", "第 {line} 行“{value}”写在表格下方，按落款或说明处理，不计入任何任务；"
    "如是某项任务的进展，请写在该任务行内")
#: how the signature and note lines that units type under a table begin (填报人：… 联系电话：…)
_NOTE_LINE = re.compile(r"^(填报人|填表人|审核人|审核|核稿|联系人|联系电话|电话|负责人|分管领导|主要领导|单位负责人|"
                        r"签字|签发|填报单位|报送单位|填报日期|日期|备注|说明|注)(\s*[:：]|\s)")

# --- input cells --------------------------------------------------------------------------------
STATUS_MISSING = ProblemType("status-missing", "error", "推进状态未填写，请从下拉列表中选择")
STATUS_INVALID = ProblemType(
    "status-invalid", "error", "推进状态“{value}”无效，请从下拉列表中选择：" + "、".join(layout.UNIT_STATUSES))
STATUS_NORMALISED = ProblemType(
    "status-normalised", "warning", "推进状态“{value}”已按“{status}”收取；下次请从下拉列表中选择")
STATUS_OVERDUE_CHOSEN = ProblemType(
    "status-overdue-chosen", "warning", "“逾期未完成”由系统根据完成时限判定，无需选择；请选择实际推进状态（如“滞后”）")
PERCENT_MISSING = ProblemType("percent-missing", "error", "完成进度未填写，请填写0到100之间的整数")
PERCENT_INVALID = ProblemType(
    "percent-invalid", "error", "完成进度“{value}”无法识别或超出0–100，请填写0到100之间的整数（不带百分号）")
PERCENT_NORMALISED = ProblemType(
    "percent-normalised", "warning", "完成进度“{value}”已按 {percent} 收取；下次请填写不带百分号的整数")
DONE_NOT_100 = ProblemType(
    "done-not-100", "error", "推进状态为“已完成”，但完成进度为 {value}，请将完成进度改为100或修改推进状态")
FULL_NOT_DONE = ProblemType(
    "percent-100-not-done", "warning", "完成进度为100，但推进状态为“{value}”；如已完成请选择“已完成”")
ONGOING_DONE = ProblemType(
    "ongoing-not-done", "warning", "本任务为常态化（长期坚持）任务，不设“已完成”，已按“常态化推进”收取；下次请选择“常态化推进”")
PROGRESS_MISSING = ProblemType(
    "progress-missing", "error", "本期进展情况未填写，请写明本期做了什么、达到什么程度")
MERGED_INPUT = ProblemType(
    "merged-input", "error", "单元格 {value} 被合并，每项任务须单独填写，请取消合并后分别填写")
_NO_FORMULA = "各单位填报的是数值和文字，不用公式：请删除公式，直接填写内容后重新报送"
FORMULA_IN_INPUT = ProblemType("formula-in-input", "error", "单元格含公式{shown}；" + _NO_FORMULA)
FORMULA_EXTERNAL = ProblemType(
    "formula-external-link", "error", "单元格含引用其他文件的外部链接公式“{value}”，其结果取决于对方电脑上的文件；" + _NO_FORMULA)
FORMULA_DDE = ProblemType(
    "formula-dde", "error", "单元格含 DDE 公式“{value}”，打开文件时会要求启动其他程序，已退回；" + _NO_FORMULA)
FILE_LINKS = ProblemType(
    "file-external-links", "error", "文件含指向其他文件或程序的链接（{value}），已退回；请在 Excel 中用“数据→编辑链接→断开链接”"
    "删除链接（或把有关单元格改为直接填写的内容）后重新保存报送")

_ENTRY_FIELDS = {"progress": "progress", "cumulative": "cumulative", "issues": "problems_text",
                 "next_steps": "next_steps", "coordination": "coordination", "note": "note"}


@dataclass(frozen=True)
class Sent:
    """What the office sent for the period being collected: the record of each unit's workbook
    (by unit; none for a period generated before records were kept), and the workspace key
    their digests are made with."""

    key: bytes = field(repr=False)
    manifests: Mapping[str, Manifest] = field(default_factory=dict)


@dataclass
class Checked:
    """The verdict on one workbook: whose it is, what it says, what is wrong with it."""

    programme: str | None
    period: str | None
    unit: str | None
    identified_by: str  # metadata | content | none
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not has_errors(self.problems)


@dataclass
class _Ctx:
    """One workbook under check: where problems go and how cells are named."""

    read: ReadWorkbook
    file: str
    registry: Registry
    programme: Programme
    period: Period
    sent: Sent
    problems: list[Problem] = field(default_factory=list)
    #: the checksum of a row's locked cells as the file's tasks are checked: keyed (a record, a
    #: sealed workbook), or layout 1–3's
    digest: Callable[[Sequence[object]], str] = layout.row_checksum
    keyed: bool = False

    def use_key(self) -> None:
        self.digest, self.keyed = functools.partial(layout.row_digest, key=self.sent.key), True

    def add(self, ptype: ProblemType, *, r: int | None = None, c: int | None = None, **kw: object) -> None:
        cell = cell_ref(r, c) if r is not None and c is not None else None
        row = r + 1 if r is not None else None
        self.problems.append(ptype(file=self.file, sheet=self.read.ledger_sheet, cell=cell, row=row, **kw))

    @functools.cached_property
    def formula_cells(self) -> frozenset[str]:
        """Cells of the ledger sheet holding a formula."""
        return frozenset(self.read.formulas)


def check_workbook(
    read: ReadWorkbook,
    *,
    file: str,
    registry: Registry,
    programme: Programme,
    period: Period,
    sent: Sent,
    expected_unit: str | None = None,
) -> Checked:
    """Identify *read* and check every task row against what was *sent*; entries come in the
    ledger's task order."""
    ctx = _Ctx(read, file, registry, programme, period, sent)
    if read.ledger_sheet is None:
        ctx.add(NO_LEDGER_SHEET)
        return Checked(None, None, None, "none", [], ctx.problems)
    if read.ledger_sheet != layout.LEDGER_SHEET:
        ctx.add(SHEET_RENAMED, value=read.ledger_sheet)
    header = find_header(read.rows)
    if header is None:
        ctx.add(HEADER_MISSING)
        return Checked(None, None, None, "none", [], ctx.problems)
    header_row, cols = header
    for col in layout.required_missing(cols):
        ctx.add(COLUMN_MISSING, r=header_row, c=None, value=col.header)
    ident = _identify(ctx, header_row, cols, expected_unit)
    if ident.stop:
        return Checked(ident.programme, ident.period, ident.unit, ident.by, [], ctx.problems)
    tasks = _expected(ctx, ident)
    if tasks is None:
        return Checked(ident.programme, ident.period, ident.unit, ident.by, [], ctx.problems)
    entries = _check_rows(ctx, header_row, cols, tasks)
    _check_links(ctx)
    return Checked(ident.programme, ident.period, ident.unit, ident.by, entries, ctx.problems)


# --- identification -----------------------------------------------------------------------------


@dataclass
class _Ident:
    programme: str | None = None
    period: str | None = None
    unit: str | None = None
    by: str = "none"
    stop: bool = False


def metadata(read: ReadWorkbook) -> dict[str, str]:
    """Identification from the meta sheet, each key falling back to its defined name."""
    found = {}
    for key in layout.NAMED_KEYS:
        value = read.meta.get(key) or read.defined.get(layout.defined_name(key), "")
        if value:
            found[key] = value.strip()
    return found


def _identify(ctx: _Ctx, header_row: int, cols: dict[str, int], expected_unit: str | None) -> _Ident:
    md = metadata(ctx.read)
    info_unit, info_at = _info_unit(ctx.read.rows[:header_row])
    if md:
        ident = _by_metadata(ctx, md)
    else:
        ident = _by_content(ctx, header_row, cols, info_unit)
    if ident.stop:
        return ident
    lead_units = list(ctx.registry.index().by_unit)
    if not ident.unit:
        ctx.add(UNIT_NOT_FOUND)
        ident.stop = True
        return ident
    if ident.unit not in ctx.registry.index().by_unit:
        match = next((u for u in lead_units if layout.squash(u) == layout.squash(ident.unit)), None)
        if match is None:
            ctx.add(UNIT_UNKNOWN, value=ident.unit)
            ident.stop = True
            return ident
        ident.unit = match
    if ident.by == "content":
        ctx.add(IDENTIFIED_BY_CONTENT, unit=ident.unit)
    elif info_unit and layout.squash(info_unit) != layout.squash(ident.unit) and info_at is not None:
        ctx.add(UNIT_MISMATCH, r=info_at[0], c=info_at[1], value=info_unit, unit=ident.unit)
    if expected_unit and layout.squash(expected_unit) != layout.squash(ident.unit):
        ctx.add(WRONG_UNIT, value=ident.unit, expected=expected_unit)
    return ident


def _period_label(key: str, cycle: str) -> str:
    try:
        return parse_period(key, cycle).label()
    except (PeriodError, ValueError):
        return key


def _by_metadata(ctx: _Ctx, md: dict[str, str]) -> _Ident:
    ident = _Ident(md.get("programme"), md.get("period"), md.get("unit"), "metadata")
    prog = ctx.programme
    if ident.programme != prog.id:
        ctx.add(WRONG_PROGRAMME, value=ident.programme or "未知项目", expected=prog.title)
        ident.stop = True
        return ident
    if ident.period != ctx.period.key:
        shown = _period_label(ident.period or "", ctx.read.meta.get("cycle") or ctx.period.cycle)
        ctx.add(WRONG_PERIOD, value=shown or "未知期次", expected=ctx.period.label())
    version = md.get("layout_version")
    if version and version not in {str(v) for v in layout.READABLE_LAYOUT_VERSIONS}:
        ctx.add(LAYOUT_VERSION_MISMATCH, value=version, expected=layout.LAYOUT_VERSION)
    return ident


def _by_content(ctx: _Ctx, header_row: int, cols: dict[str, int], info_unit: str | None) -> _Ident:
    """No metadata left: the title, the header row and the task ids must say whose file it is."""
    title = layout.squash("".join(str(v) for row in ctx.read.rows[:header_row] for v in row if v is not None))
    titles = {ctx.programme.title, ctx.registry.programme.title,
              *(r.title for r in ctx.programme.annexes.values())}
    known = ctx.registry.index().by_id
    ids = [str(row[cols["task_id"]]).strip() for row in ctx.read.rows[header_row + 1:]
           if cols["task_id"] < len(row) and row[cols["task_id"]] is not None]
    matched = [i for i in ids if i in known]
    if not any(layout.squash(t) and layout.squash(t) in title for t in titles) and not matched:
        ctx.add(WRONG_PROGRAMME, value=_title_text(ctx.read.rows) or "无法识别", expected=ctx.programme.title)
        return _Ident(stop=True)
    ident = _Ident(ctx.programme.id, ctx.period.key, info_unit, "content")
    if layout.squash(ctx.period.label()) not in title:
        found = re.search(r"[（(]([^（）()]*)[）)]\s*$", _title_text(ctx.read.rows))
        ctx.add(WRONG_PERIOD, r=0, c=0, value=found.group(1) if found else "未知期次",
                expected=ctx.period.label())
        ident.period = None
    if not ident.unit:
        ident.unit = _unit_from_tasks(ctx.registry.index(), matched)
    return ident


def _title_text(rows: Sequence[Sequence[object]]) -> str:
    return next((str(v).strip() for v in (rows[0] if rows else []) if v is not None), "")


def _info_unit(rows: Sequence[Sequence[object]]) -> tuple[str | None, tuple[int, int] | None]:
    """The unit written after 填报单位 in the info row, and its cell (zero-based)."""
    labels = tuple(f.split("（")[0] for f in layout.INFO_FIELDS)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = "" if value is None else str(value)
            if "填报单位" not in text:
                continue
            after = re.split(r"[:：]", text, maxsplit=1)
            rest = after[1].strip() if len(after) > 1 else ""
            if rest:
                return _cut_labels(rest, labels), (r, c)
            for c2 in range(c + 1, len(row)):
                nxt = "" if row[c2] is None else str(row[c2]).strip()
                if not nxt:
                    continue
                if nxt.startswith(labels):
                    return None, None
                return _cut_labels(nxt, labels), (r, c2)
            return None, None
    return None, None


def _cut_labels(text: str, labels: tuple[str, ...]) -> str | None:
    """"市交通运输局　填报人：张三" → "市交通运输局"."""
    cut = min((text.find(lb) for lb in labels[1:] if lb in text), default=len(text))
    return text[:cut].strip(" \u3000:：") or None


def _unit_from_tasks(index: TaskIndex, task_ids: Sequence[str]) -> str | None:
    """The one lead unit every listed task shares (a co-led task is in each lead unit's ledger)."""
    common: set[str] | None = None
    for tid in task_ids:
        units = set(index.by_id[tid].lead_units)
        common = units if common is None else common & units
    if not common:
        return None
    return next(u for u in index.by_unit if u in common)


# --- rows ---------------------------------------------------------------------------------------


@dataclass
class _Expected:
    """A task the ledger should hold, with the checksum written when it was generated."""

    task: Task | None
    task_id: str
    checksum: str | None


def _expected(ctx: _Ctx, ident: _Ident) -> list[_Expected] | None:
    """The tasks the file must hold, each with the digest of its locked cells (docs/reliability.md):
    those of the office's record for the unit; with no record for the period, those the sealed
    hidden sheet of a keyed workbook lists, else (layout 1–3, or no hidden sheet) as before. None
    when the file must not be checked further (no record of it, a broken seal)."""
    by_id = ctx.registry.index().by_id
    this_period = ident.period == ctx.period.key  # another period's file is not collected in this run
    if this_period and ctx.sent.manifests:
        manifest = ctx.sent.manifests.get(ident.unit or "")
        if manifest is None:
            ctx.add(NO_RECORD, unit=ident.unit, period=ctx.period.label())
            return None
        ctx.use_key()
        return [_Expected(by_id.get(tid), tid, digest) for tid, digest in manifest.tasks]
    version = ctx.read.meta.get("layout_version", "")
    readable = {str(v) for v in layout.READABLE_LAYOUT_VERSIONS}
    if version and version not in readable:
        return None  # a layout this reader does not know (layout-version): its checksums say nothing
    if version and int(version) >= layout.KEYED_LAYOUT_VERSION:
        why = _broken_seal(ctx)
        if why:
            ctx.add(NOT_SEALED, why=why)
            return None
        ctx.use_key()
        return [_Expected(by_id.get(tid), tid, digest) for tid, _row, digest in ctx.read.meta_rows]
    if this_period:
        ctx.add(CHECKED_AGAINST_REGISTRY)
    return _unrecorded(ctx, ident.unit)


def _unrecorded(ctx: _Ctx, unit: str | None) -> list[_Expected]:
    """Tasks as layouts 1–3 were checked: the hidden sheet's list with its plain checksums (an
    edit they do not cover is found against the registry), else the registry's tasks of *unit*."""
    if ctx.read.meta_rows:
        by_id = ctx.registry.index().by_id
        return [_Expected(by_id.get(tid), tid, checksum or None) for tid, _row, checksum in ctx.read.meta_rows]
    return [_Expected(t, t.id, None) for t in ctx.registry.index().by_unit.get(unit or "", ())]


def _broken_seal(ctx: _Ctx) -> str:
    """Why the seal of a keyed workbook's hidden sheet does not hold ("" when it does)."""
    meta = ctx.read.meta
    if meta.get("key_id") != key_id(ctx.sent.key):
        return "不是用本工作区的密钥生成的"
    tasks = [(tid, digest) for tid, _row, digest in ctx.read.meta_rows]
    want = layout.manifest_mac(ctx.sent.key, meta.get("programme", ""), meta.get("period", ""), meta.get("unit", ""),
                               meta.get("layout_version", ""), tasks)
    return "" if hmac.compare_digest(meta.get("mac", ""), want) else "与文件内容不符"


@dataclass(frozen=True)
class _Columns:
    """The positions the row checks read, worked out once per file rather than per row."""

    at: dict[str, int]
    width: int  # task rows are padded to this many cells, so every position indexes them
    checksum: tuple[int, ...] | None  # of CHECKSUM_KEYS; None when one of them is missing
    inputs: tuple[int, ...]  # of the INPUT_KEYS present, in that order
    entry: tuple[tuple[str, int | None], ...]  # (Entry attribute, position) per _ENTRY_FIELDS

    @classmethod
    def of(cls, cols: dict[str, int]) -> _Columns:
        have_checksum = all(k in cols for k in layout.CHECKSUM_KEYS)
        return cls(
            at=cols,
            width=max(cols.values()) + 1,
            checksum=tuple(cols[k] for k in layout.CHECKSUM_KEYS) if have_checksum else None,
            inputs=tuple(cols[k] for k in layout.INPUT_KEYS if k in cols),
            entry=tuple((attr, cols.get(key)) for key, attr in _ENTRY_FIELDS.items()),
        )

    def row(self, rows: Sequence[Sequence[object]], r: int) -> Sequence[object]:
        """Row *r*, cells missing past its end read as empty."""
        row = rows[r]
        return row if len(row) >= self.width else [*row, *[None] * (self.width - len(row))]


def _check_rows(ctx: _Ctx, header_row: int, cols: dict[str, int], tasks: list[_Expected]) -> list[Entry]:
    expected = {e.task_id: e for e in tasks}
    found: dict[str, int] = {}
    added: list[tuple[int, str]] = []
    tid_col = cols["task_id"]
    for r in range(header_row + 1, len(ctx.read.rows)):
        row = ctx.read.rows[r]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        tid = _cell_text(row[tid_col]) if tid_col < len(row) else ""
        if tid in expected:
            if tid in found:
                ctx.add(TASK_DUPLICATE, r=r, c=tid_col, task=tid, value=tid, first=found[tid] + 1)
                continue
            found[tid] = r
        else:
            added.append((r, tid))
    last_task_row = max(found.values(), default=header_row)
    columns = _Columns.of(cols)
    renamed = _renamed(ctx, columns, added, [e for e in tasks if e.task_id not in found])
    for r, tid in added:
        row = ctx.read.rows[r]
        if r in renamed:
            ctx.add(TASK_RENAMED, r=r, c=tid_col, task=renamed[r].task_id, value=tid, line=r + 1,
                    expected=renamed[r].task_id)
            continue
        first = next(c for c, v in enumerate(row) if v is not None and str(v).strip())
        note = _note_line(row) if r > last_task_row and not tid else None
        if note is not None:
            ctx.add(NOTE_BELOW_TABLE, r=r, c=first, value=note, line=r + 1)
            continue
        what = f"的任务编号“{tid}”不在本台账中" if tid else "没有任务编号"
        ctx.add(ROW_ADDED, r=r, c=first, value=tid or None, task=tid or None, line=r + 1, what=what)
    _merged_inputs(ctx, cols, set(found.values()))
    told = {exp.task_id for exp in renamed.values()}
    entries = []
    for exp in tasks:
        r = found.get(exp.task_id)
        if r is None:
            if exp.task_id not in told:
                ctx.add(TASK_MISSING, task=exp.task_id, value=exp.task_id)
            continue
        row = columns.row(ctx.read.rows, r)
        _check_locked(ctx, r, row, columns, exp)
        entries.append(_check_inputs(ctx, r, row, columns, exp))
    return entries


#: rows × tasks tried when telling a renamed task id from an added row and a deleted one
RENAME_TRIES = 10_000


def _renamed(ctx: _Ctx, columns: _Columns, added: list[tuple[int, str]],
             missing: list[_Expected]) -> dict[int, _Expected]:
    """Rows whose task id was changed: an unknown id on a row whose locked cells, under a missing
    task's id, give that task's digest. Tried only where the digests say something and within
    :data:`RENAME_TRIES` (beyond it they are reported as an added row and a missing task)."""
    candidates = [(r, tid) for r, tid in added if tid]
    missing = [m for m in missing if m.checksum]
    if columns.checksum is None or not candidates or not missing or len(candidates) * len(missing) > RENAME_TRIES:
        return {}
    at = layout.CHECKSUM_KEYS.index("task_id")
    found: dict[int, _Expected] = {}
    for r, _tid in candidates:
        values = [columns.row(ctx.read.rows, r)[c] for c in columns.checksum]
        for exp in missing:
            if exp not in found.values() and ctx.digest([*values[:at], exp.task_id, *values[at + 1:]]) == exp.checksum:
                found[r] = exp
                break
    return found


def _note_line(row: Sequence[object]) -> str | None:
    """The text of a signature or note line (填报人：张三 联系电话：…), else None: text only,
    beginning as such lines do."""
    cells = [v for v in row if v is not None and not (isinstance(v, str) and not v.strip())]
    if not all(isinstance(v, str) for v in cells):
        return None
    text = " ".join(str(v).strip() for v in cells)
    return text[:100] if _NOTE_LINE.match(layout.nfkc(text)) else None


def _cell_text(value: object) -> str:
    """A cell as text for an entry; numbers without a spurious .0, text kept as typed (= + - @ too)."""
    if type(value) is str:  # the common case first; the same as str(value).strip() below
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value).strip()


def _same(a: object, b: object) -> bool:
    """Equal as the row checksum sees it (whitespace and width blind)."""
    return layout.squash(a) == layout.squash(b)


#: what a locked cell should hold when only the digest of what was sent says so
SENT_TEXT = "本台账发出时的内容"


def _check_locked(ctx: _Ctx, r: int, row: Sequence[object], columns: _Columns, exp: _Expected) -> None:
    """The digest of the locked cells against the record's (or the file's own, without a record);
    name the cells that differ from the registry."""
    if columns.checksum is None:
        return  # a missing column is already an error of its own
    values = [row[c] for c in columns.checksum]
    if exp.checksum is not None and ctx.digest(values) == exp.checksum:
        return
    if exp.task is None:  # no longer in the registry: the digest is all there is to compare with
        if ctx.keyed and exp.checksum is not None:
            at = layout.CHECKSUM_KEYS.index("text")
            ctx.add(LOCKED_CHANGED, r=r, c=columns.at["text"], task=exp.task_id, value=_cell_text(values[at]),
                    column=layout.BY_KEY["text"].header, expected=SENT_TEXT)
        return
    ref_year = ctx.programme.issued.year if ctx.programme.issued else ctx.period.start.year
    want = layout.task_cells(exp.task, ref_year, None)
    differing = [(k, v) for k, v in zip(layout.CHECKSUM_KEYS, values, strict=True) if not _same(v, want[k])]
    if exp.checksum is not None and not differing:  # the registry changed since: what was sent is all we know
        want = {**want, "text": SENT_TEXT}
        differing = [("text", values[layout.CHECKSUM_KEYS.index("text")])]
    for key, value in differing:
        ctx.add(LOCKED_CHANGED, r=r, c=columns.at[key], task=exp.task_id, value=_cell_text(value),
                column=layout.BY_KEY[key].header, expected=want[key])


def _merged_inputs(ctx: _Ctx, cols: dict[str, int], task_rows: set[int]) -> None:
    """One problem per merged range that covers an input cell of a task row."""
    inputs = {cols[k] for k in layout.INPUT_KEYS if k in cols}
    for rng in ctx.read.merged:
        (top, left), (bottom, right) = range_cells(rng)
        if any(r in task_rows and c in inputs for r in range(top, bottom + 1) for c in range(left, right + 1)):
            ctx.add(MERGED_INPUT, r=top, c=left, value=rng)


def _check_inputs(ctx: _Ctx, r: int, row: Sequence[object], columns: _Columns, exp: _Expected) -> Entry:
    """The unit's cells of one task row: formulas, lengths, status, percent, progress."""
    task_id = exp.task_id
    ongoing = exp.task is not None and exp.task.ongoing
    _check_input_cells(ctx, r, row, columns.inputs, task_id)
    status = _check_status(ctx, r, row, columns.at.get("status"), task_id, ongoing)
    percent = _check_percent(ctx, r, row, columns.at.get("percent"), task_id, status, ongoing)
    texts = {attr: "" if c is None else _cell_text(row[c]) for attr, c in columns.entry}
    progress = texts[_ENTRY_FIELDS["progress"]]
    if "progress" in columns.at and not progress and status != layout.DONE:
        ctx.add(PROGRESS_MISSING, r=r, c=columns.at["progress"], task=task_id)
    return Entry(task_id=task_id, row=r + 1, percent=percent, status=status or "", **texts)


def _check_input_cells(ctx: _Ctx, r: int, row: Sequence[object], inputs: tuple[int, ...], task_id: str) -> None:
    """Formulas and over-long text in the unit's cells; cell references only if the file has formulas."""
    formulas = ctx.formula_cells
    limit = DEFAULT_LIMITS.max_cell_chars
    for c in inputs:
        raw = row[c]
        if formulas and (ref := cell_ref(r, c)) in formulas:
            _formula_problem(ctx, r, c, task_id, ctx.read.formula_text.get(ref, ""))
        if isinstance(raw, str) and len(raw) > limit:
            ctx.add(CELL_TOO_LONG, r=r, c=c, task=task_id, limit=limit)


def _formula_problem(ctx: _Ctx, r: int, c: int, task_id: str, text: str) -> None:
    """A formula in a unit's cell is sent back, by what it does: DDE, external link, or a formula.
    Its cached result is never taken: a unit types values (docs/reliability.md)."""
    kind = formula_kind(text) if text else "formula"
    shown = text if len(text) <= 80 else text[:80] + "…"
    if kind == "dde":
        ctx.add(FORMULA_DDE, r=r, c=c, task=task_id, value=shown)
    elif kind == "external":
        ctx.add(FORMULA_EXTERNAL, r=r, c=c, task=task_id, value=shown)
    else:
        ctx.add(FORMULA_IN_INPUT, r=r, c=c, task=task_id, value=shown or None, shown=f"“{shown}”" if shown else "")


def _check_links(ctx: _Ctx) -> None:
    """Formulas anywhere in the file, and link parts, that reach another file or a program (those
    in the unit's cells are reported already)."""
    reported = {p.cell for p in ctx.problems if p.code in (FORMULA_DDE.code, FORMULA_EXTERNAL.code)}
    parts = []
    for link in ctx.read.links:
        if link.cell is None:
            parts.append(link.text)
        elif not (link.sheet in (None, ctx.read.ledger_sheet) and link.cell in reported):
            ptype = FORMULA_DDE if link.kind == "dde" else FORMULA_EXTERNAL
            ctx.problems.append(ptype(file=ctx.file, sheet=link.sheet or ctx.read.ledger_sheet, cell=link.cell,
                                      value=link.text[:80]))
    if parts:
        ctx.add(FILE_LINKS, value="、".join(parts)[:200])


def _check_status(ctx: _Ctx, r: int, row: Sequence[object], c: int | None, task_id: str,
                  ongoing: bool = False) -> str | None:
    if c is None:
        return None
    text = _cell_text(row[c])
    if not text:
        ctx.add(STATUS_MISSING, r=r, c=c, task=task_id)
        return None
    status = layout.normalise_status(text)
    if status is None:
        ctx.add(STATUS_INVALID, r=r, c=c, task=task_id, value=text)
        return None
    if status == layout.OVERDUE:
        ctx.add(STATUS_OVERDUE_CHOSEN, r=r, c=c, task=task_id, value=text)
    elif ongoing and status == layout.DONE:  # an ongoing task is never done
        ctx.add(ONGOING_DONE, r=r, c=c, task=task_id, value=text)
        return layout.ONGOING
    elif text != status:
        ctx.add(STATUS_NORMALISED, r=r, c=c, task=task_id, value=text, status=status)
    return status


def _check_percent(
    ctx: _Ctx, r: int, row: Sequence[object], c: int | None, task_id: str, status: str | None,
    ongoing: bool = False,
) -> int | None:
    if c is None:
        return None
    raw = row[c]
    if ongoing and (raw is None or _cell_text(raw) in ("", *layout.NO_PERCENT)):
        return None  # an ongoing task may leave 完成进度 empty
    parsed = layout.parse_percent(raw)
    if parsed.empty:
        if status == layout.NOT_STARTED:
            return 0
        ctx.add(PERCENT_MISSING, r=r, c=c, task=task_id)
        return None
    if parsed.value is None:
        ctx.add(PERCENT_INVALID, r=r, c=c, task=task_id, value=_cell_text(raw))
        return None
    if parsed.value == 1 and isinstance(raw, int | float) and not isinstance(raw, bool):
        # "100%" typed in Excel or WPS is stored as the number 1 under a percent format: the
        # cell's format says so; a 1 under 已完成 is taken as 100 % whatever its format.
        if status == layout.DONE or (ctx.read.percent is not None and ctx.read.percent(cell_ref(r, c))):
            parsed = layout.Percent(100, normalised=True)
    if parsed.normalised:
        ctx.add(PERCENT_NORMALISED, r=r, c=c, task=task_id, value=_cell_text(raw), percent=parsed.value)
    if status == layout.DONE and parsed.value < 100:
        ctx.add(DONE_NOT_100, r=r, c=c, task=task_id, value=parsed.value)
    elif parsed.value == 100 and status is not None and status != layout.DONE and not ongoing:
        ctx.add(FULL_NOT_DONE, r=r, c=c, task=task_id, value=status)
    return parsed.value
