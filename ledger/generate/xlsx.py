"""The 工作台账 workbook itself, written with xlsxwriter.

Sheets: 工作台账 (the ledger, protected without a password, inputs unlocked),
填报说明 (due time, receiving office, statuses, rules) and a very hidden metadata
sheet; plus defined names so a file that lost its hidden sheet can still say what it is.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import xlsxwriter
from rapidfuzz import fuzz, process
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ledger import __version__, layout, printing
from ledger.config import Programme
from ledger.errors import InputError
from ledger.generate.content import RegistryIndex, due_in, guide_lines, index_registry
from ledger.generate.fastrows import Cell, Rich, RowsSheet
from ledger.generate.package import pack
from ledger.layout import PreviousReport, milestone_line, task_cells
from ledger.periods import Period
from ledger.printing import row_height
from ledger.registry.model import Registry, Task
from ledger.reporting import reporting_for_unit
from ledger.schedule import schedule_text
from ledger.secret import key_id

GENERATOR = f"ledger {__version__}"
AUTHOR = "ledger"
XLSX_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False}
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
LOCKED_FILL = "#F2F2F2"
HEADER_FILL = "#D9D9D9"
DUE_FILL = "#FFF2CC"
DUE_COLOR = "#C00000"
BODY_PT = 11
# Protection lets units resize rows and columns, nothing else.
PROTECT_OPTIONS = {"format_columns": True, "format_rows": True}
# Text starting with these gets Excel's quote prefix so editing it cannot revive a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_INFO_VALUE_WIDTH = 16


_BODY = {"font_name": BODY_FONT, "font_size": BODY_PT}
_CELL = {**_BODY, "text_wrap": True, "valign": "top", "border": 1}
#: the named cell formats of a 工作台账
FORMAT_SPECS: dict[str, dict[str, Any]] = {
    "title": {"font_name": TITLE_FONT, "font_size": 18, "align": "center", "valign": "vcenter", "text_wrap": True},
    "info_label": {**_BODY, "bold": True, "align": "right", "valign": "vcenter"},
    "info_unit": {**_BODY, "valign": "vcenter", "bottom": 1},
    "info_value": {**_BODY, "valign": "vcenter", "bottom": 1, "locked": False},
    "header": {**_CELL, "bold": True, "align": "center", "valign": "vcenter", "bg_color": HEADER_FILL},
    "locked": {**_CELL, "bg_color": LOCKED_FILL},
    "locked_center": {**_CELL, "bg_color": LOCKED_FILL, "align": "center"},
    "due": {**_CELL, "bg_color": DUE_FILL},
    "due_all": {**_CELL, "bg_color": DUE_FILL, "bold": True, "font_color": DUE_COLOR},
    "input": {**_CELL, "locked": False},
    "input_center": {**_CELL, "locked": False, "align": "center"},
    "run": _BODY,
    "run_due": {**_BODY, "bold": True, "font_color": DUE_COLOR},
    "guide_title": {"font_name": TITLE_FONT, "font_size": 16, "align": "center", "valign": "vcenter"},
    "guide_label": {**_BODY, "bold": True, "valign": "top", "text_wrap": True},
    "guide_text": {**_BODY, "valign": "top", "text_wrap": True},
}
#: each format made once a process, (name, quoted, the workbook's default properties) → format;
#: a workbook takes copies (:meth:`_Formats.make`)
_PROTOTYPES: dict[tuple[str, bool, tuple[tuple[str, Any], ...]], Format] = {}


class _Formats:
    """Named cell formats of one workbook, with quote-prefixed variants made on demand."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self._wb = wb
        self._made: dict[tuple[str, bool], Format] = {}

    def __call__(self, name: str, text: object = None) -> Format:
        key = (name, isinstance(text, str) and text.startswith(FORMULA_STARTS))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self.make(*key)
        return made

    def make(self, name: str, quoted: bool) -> Format:
        """What ``workbook.add_format`` makes of the spec, copied from the process's own one
        (its properties set, its key made) instead of set property by property again."""
        wb = self._wb
        key = (name, quoted, tuple(wb.default_format_properties.items()))
        prototype = _PROTOTYPES.get(key)
        if prototype is None:
            spec = dict(FORMAT_SPECS[name], quote_prefix=True) if quoted else FORMAT_SPECS[name]
            prototype = _PROTOTYPES[key] = Format({**wb.default_format_properties, **spec}, {}, {})
            prototype._get_format_key()
        made = copy.copy(prototype)
        made.xf_format_indices, made.dxf_format_indices = wb.xf_format_indices, wb.dxf_format_indices
        wb.formats.append(made)
        return made


def build_workbook(*args: Any, **kwargs: Any) -> bytes:
    """The .xlsx bytes of a unit's 工作台账: :func:`build_with_digests` without the digests."""
    return build_with_digests(*args, **kwargs)[0]


def build_with_digests(
    registry: Registry,
    programme: Programme,
    period: Period,
    unit: str,
    previous: Mapping[str, PreviousReport] | None = None,
    *,
    key: bytes,
    index: RegistryIndex | None = None,
    paper: str = "A4",
    entered: layout.Entered | None = None,
) -> tuple[bytes, list[tuple[str, str]]]:
    """The .xlsx bytes of *unit*'s 工作台账 for *period* (the same inputs give the same bytes), and
    the (task id, row digest) of each task row in sheet order: what the office records as sent
    (:class:`ledger.store.Manifest`).

    *previous* maps task id → the unit's last accepted report (pre-fills 上期进展 and the unit's
    last values). *key* is the workspace's secret (:func:`ledger.secret.workspace_key`): the
    checksums in the hidden sheet are made with it. *index* (from :func:`index_registry`) saves
    re-hashing the registry for every unit. *entered*: what the unit typed on the web page,
    written into its cells as if typed in the workbook (the archived original of a web report).
    The workbook is written with xlsxwriter and packed by :func:`ledger.generate.package.pack`.
    """
    index = index or index_registry(registry)
    tasks = index.tasks_by_unit.get(unit)
    if not tasks:
        raise unknown_unit(unit, list(index.tasks_by_unit))
    title = layout.title(programme.title, period)
    wb = xlsxwriter.Workbook(io.BytesIO(), XLSX_OPTIONS)
    wb.set_properties({
        "title": title, "subject": unit, "author": AUTHOR, "comments": GENERATOR,
        "company": programme.issuer or programme.reporting.office,
        "created": datetime.combine(period.start, datetime.min.time()),
    })
    fmt = _Formats(wb)
    sheet = wb.add_worksheet(layout.LEDGER_SHEET, worksheet_class=RowsSheet)
    guide = wb.add_worksheet(layout.GUIDE_SHEET, worksheet_class=RowsSheet)
    meta = wb.add_worksheet(layout.META_SHEET, worksheet_class=RowsSheet)
    rows = _write_ledger(sheet, fmt, index.columns, programme, period, unit, tasks, previous or {}, paper, key,
                         entered or layout.Entered({}))
    _write_guide(guide, fmt, guide_lines(programme, period, unit, reporting_for_unit(programme, tasks)))
    digests = [(task_id, digest) for task_id, _row, digest in rows]
    values: dict[str, Any] = {
        "programme": programme.id, "period": period.key, "cycle": period.cycle, "unit": unit,
        "layout_version": layout.LAYOUT_VERSION, "registry_hash": index.registry_hash, "generator": GENERATOR,
        "key_id": key_id(key),
        "mac": layout.manifest_mac(key, programme.id, period.key, unit, layout.LAYOUT_VERSION, digests),
    }
    _write_meta(meta, values, rows)
    for key in layout.NAMED_KEYS:
        text = str(values[key]).replace('"', '""')
        wb.define_name(layout.defined_name(key), f'="{text}"')
    sheet.activate()
    return pack(wb), digests


def unknown_unit(unit: str, known: Sequence[str]) -> InputError:
    """The error for a unit that leads no task, naming the closest lead units."""
    close = [m[0] for m in process.extract(unit, known, scorer=fuzz.WRatio, limit=5, score_cutoff=50)]
    hint = f"相近的牵头单位：{'、'.join(close)}。" if close else f"本项目共有 {len(known)} 个牵头单位。"
    return InputError(f"“{unit}”不是本项目任何任务的牵头单位，无法生成台账。{hint}请按任务清单中的名称填写。")


def _write_ledger(
    sheet: RowsSheet, fmt: _Formats, columns: Sequence[layout.Column], programme: Programme,
    period: Period, unit: str, tasks: Sequence[Task], previous: Mapping[str, PreviousReport], paper: str,
    key: bytes, entered: layout.Entered,
) -> list[tuple[str, int, str]]:
    """Title, signature rows, headers and task rows; return (task id, Excel row, keyed checksum) per task."""
    last_col = len(columns) - 1
    pos = {c.key: i for i, c in enumerate(columns)}
    for i, col in enumerate(columns):
        sheet.set_column(i, i, col.width)
    plan = print_plan(columns, paper)
    first_end = plan.breaks[0] - 1 if plan.breaks else last_col  # the signature rows stay on page 1
    title = layout.title(programme.title, period)
    sheet.set_row(layout.TITLE_ROW, 42)
    sheet.merge_range(layout.TITLE_ROW, 0, layout.TITLE_ROW, first_end, "", fmt("title"))
    sheet.write_string(layout.TITLE_ROW, 0, title, fmt("title", title))
    _write_info_rows(sheet, fmt, columns[:first_end + 1], unit, entered.info)
    header = fmt("header")
    sheet.put_row(layout.HEADER_ROW, [(i, c.header, header) for i, c in enumerate(columns)],
                  row_height([(c.header, c.width) for c in columns], minimum=30))
    ref_year = programme.issued.year if programme.issued else period.start.year
    rows = []
    # (position, key, format name, width) of the columns written from task_cells; 完成时限 may change
    written = [(pos[c.key], c.key, _base_format(c), c.width) for c in columns if c.key not in ("seq", "milestones")]
    plain = {name: fmt(name) for name in ("locked_center", "due_all", *(base for _, _, base, _ in written))}
    milestones_width = columns[pos["milestones"]].width
    for n, task in enumerate(tasks):
        r = layout.FIRST_TASK_ROW + n
        cells = task_cells(task, ref_year, previous.get(task.id),
                           schedule_text(task, programme.issued, period.end, ref_year))
        if task.id in entered.rows:
            cells.update((k, v) for k, v in entered.rows[task.id].items() if k in layout.INPUT_KEYS)
        due_deadline = due_in(task.deadline, period)
        row: list[Cell] = [(pos["seq"], n + 1, plain["locked_center"])]
        texts = [(cells["milestones"], milestones_width)]  # what the row's height is made for
        for c, name, base, width in written:
            value = cells.get(name)
            if isinstance(value, str):
                texts.append((value, width))
            if due_deadline and name == "deadline":
                base = "due_all"
            if value.__class__ is str and value.startswith(FORMULA_STARTS):  # type: ignore[union-attr]
                row.append((c, value, fmt(base, value)))
            else:
                row.append((c, value if value or isinstance(value, int) else None, plain[base]))
        note = _milestones(row, fmt, pos["milestones"], task, ref_year, period)
        sheet.put_row(r, row, row_height(texts))
        if note:
            sheet.write_comment(r, pos["milestones"], note, {"author": AUTHOR, "x_scale": 2.2, "y_scale": 1.6})
        if len(dict.fromkeys(task.lead_units)) > 1:
            sheet.write_comment(r, pos["lead"], co_lead_note(task, unit), {"author": AUTHOR, "x_scale": 1.6})
        rows.append((task.id, r + 1, layout.row_digest([cells[k] for k in layout.CHECKSUM_KEYS], key)))
    _validate(sheet, pos, layout.FIRST_TASK_ROW, tasks, unit)
    sheet.freeze_panes(layout.FIRST_TASK_ROW, 0)
    # On paper the title heads every page (the page header) and the column headers repeat.
    printing.apply(sheet, plan, repeat_rows=(layout.HEADER_ROW, layout.HEADER_ROW), title=title,
                   first_row=layout.INFO_ROW, last=(layout.FIRST_TASK_ROW + len(tasks) - 1, last_col))
    sheet.protect("", PROTECT_OPTIONS)
    return rows


def _base_format(column: layout.Column) -> str:
    """The format a task row's cell of *column* takes (a 完成时限 due this period: ``due_all``)."""
    if column.locked:
        return "locked_center" if column.key == "schedule" else "locked"
    return "input_center" if column.kind in ("percent", "status") else "input"


def print_plan(columns: Sequence[layout.Column], paper: str) -> printing.PrintPlan:
    """The 工作台账 on *paper*: one page wide when every column fits at 9 pt, else the reference
    columns on pages of their own behind the key columns (docs/printing.md)."""
    first_reference = next((i for i, c in enumerate(columns) if c.reference), None)
    keys = sum(1 for c in columns if c.key in layout.KEY_COLUMNS)
    return printing.plan([c.width for c in columns], paper, BODY_PT,
                         bands=(first_reference,) if first_reference else (), repeat=keys)


def _milestones(row: list[Cell], fmt: _Formats, c: int, task: Task, ref_year: int | None, period: Period) -> str:
    """时间节点, one per line, into *row*; those due this period in bold red on a fill. Return
    the note for a cell with due milestones ("" when none is due)."""
    lines = [(milestone_line(m, ref_year), due_in(m.due, period)) for m in task.milestones]
    if not lines:
        row.append((c, None, fmt("locked")))
        return ""
    text = "\n".join(t for t, _ in lines)
    due = [t for t, is_due in lines if is_due]
    if not due:
        row.append((c, text, fmt("locked", text)))
        return ""
    if len(due) == len(lines):
        row.append((c, text, fmt("due_all", text)))
    else:
        runs: list[list[Any]] = []  # [is_due, text], neighbours with the same look merged
        for i, (line, is_due) in enumerate(lines):
            piece = line + ("\n" if i < len(lines) - 1 else "")
            if runs and runs[-1][0] == is_due:
                runs[-1][1] += piece
            else:
                runs.append([is_due, piece])
        parts: list[Any] = []
        for is_due, piece in runs:
            parts += [fmt("run_due" if is_due else "run"), piece]
        row.append((c, Rich(tuple(parts)), fmt("due")))
    return f"本期（{period.label()}）到期的时间节点：\n" + "\n".join(due) + "\n请在“本期进展情况”中说明完成情况。"


def _write_info_rows(sheet: Worksheet, fmt: _Formats, columns: Sequence[layout.Column], unit: str,
                     info: Mapping[str, str]) -> None:
    """The signature rows (layout.INFO_LINES) within the first page's *columns*:
    "填报单位（盖章）：<unit>" locked in one cell, then per other field a label cell and a blank
    value cell open for typing; each spans the columns its text needs and a row's last value
    runs to the band's end, so nothing is cut off in print."""
    widths = [c.width for c in columns]
    last = len(columns) - 1
    for r, fields in enumerate(layout.INFO_LINES, start=layout.INFO_ROW):
        sheet.set_row(r, 26)
        col = 0
        for n, field in enumerate(fields):
            if col > last:
                break
            if r == layout.INFO_ROW and n == 0:
                text = f"{field}：{unit}"
                end = _span(widths, col, 2 * len(text) + 1)
                _put(sheet, r, col, end, text, fmt("info_unit", text))
                col = end + 1
                continue
            label = f"{field}："
            label_end = _span(widths, col, 2 * len(label) + 1)
            value_end = last if n == len(fields) - 1 else _span(widths, label_end + 1, _INFO_VALUE_WIDTH)
            _put(sheet, r, col, label_end, label, fmt("info_label"))
            value = info.get(field, "")
            _put(sheet, r, label_end + 1, max(value_end, label_end + 1), value, fmt("info_value", value))
            col = value_end + 1


def _span(widths: Sequence[float], start: int, need: float) -> int:
    """The last column such that columns start..last are together at least *need* wide."""
    end, have = start, widths[start]
    while have < need and end + 1 < len(widths):
        end += 1
        have += widths[end]
    return end


def _put(sheet: Worksheet, row: int, first: int, last: int, text: str, cell_format: Format) -> None:
    if last > first:
        sheet.merge_range(row, first, row, last, "", cell_format)
    if text:
        sheet.write_string(row, first, text, cell_format)
    else:
        sheet.write_blank(row, first, None, cell_format)


def _validate(sheet: Worksheet, pos: Mapping[str, int], first: int, tasks: Sequence[Task], unit: str) -> None:
    """A status dropdown (arrow shown: 'dropdown': True); whole numbers 0–100 on 完成进度, except
    on ongoing tasks, whose cell may stay empty or hold "/" (an input message says so); and on
    the 本期进展 cell of a co-led task, a message naming the other lead units."""
    last = first + len(tasks) - 1
    c = pos["status"]
    sheet.data_validation(first, c, last, c, {
        "validate": "list", "source": list(layout.UNIT_STATUSES), "dropdown": True,
        "input_title": "推进状态", "input_message": "请从下拉列表中选择推进状态。",
        "error_title": "推进状态无效", "error_message": f"请从下拉列表中选择：{'、'.join(layout.UNIT_STATUSES)}。",
    })
    c = pos["percent"]
    for start, end, ongoing in _runs([t.ongoing for t in tasks], first):
        if ongoing:
            sheet.data_validation(start, c, end, c, {
                "validate": "any", "input_title": "常态化任务",
                "input_message": ONGOING_PERCENT_MESSAGE,
            })
            continue
        sheet.data_validation(start, c, end, c, {
            "validate": "integer", "criteria": "between", "minimum": 0, "maximum": 100,
            "input_title": "完成进度（%）", "input_message": "请填写0到100之间的整数，不带百分号，如：80。",
            "error_title": "完成进度无效", "error_message": "完成进度应为0到100之间的整数（不带百分号），如：80。",
        })
    c = pos["progress"]
    for r, task in enumerate(tasks, start=first):
        others = [u for u in dict.fromkeys(task.lead_units) if u != unit]
        if others:
            sheet.data_validation(r, c, r, c, {
                "validate": "any", "input_title": "共同牵头", "input_message": co_lead_note(task, unit)[:255]})


ONGOING_PERCENT_MESSAGE = "常态化任务：完成进度可不填（或填“/”），推进状态请选“常态化推进”；此类任务不设“已完成”。"


def co_lead_note(task: Task, unit: str) -> str:
    """共同牵头：市文明办、市教育局；请报本单位承担部分."""
    return f"共同牵头：{'、'.join(dict.fromkeys(task.lead_units))}；请报本单位承担部分。"


def _runs(flags: Sequence[bool], first: int) -> list[tuple[int, int, bool]]:
    """(first row, last row, flag) of each run of equal *flags*, rows counted from *first*."""
    out: list[tuple[int, int, bool]] = []
    for i, flag in enumerate(flags):
        if out and out[-1][2] == flag:
            out[-1] = (out[-1][0], first + i, flag)
        else:
            out.append((first + i, first + i, flag))
    return out


def _write_guide(sheet: RowsSheet, fmt: _Formats, lines: Sequence[tuple[str, str]]) -> None:
    widths = (14, 80)
    sheet.set_column(0, 0, widths[0])
    sheet.set_column(1, 1, widths[1])
    sheet.set_row(0, 36)
    sheet.merge_range(0, 0, 0, 1, "", fmt("guide_title"))
    sheet.write_string(0, 0, "填报说明", fmt("guide_title"))
    for r, (label, text) in enumerate(lines, start=1):
        sheet.put_row(r, [(0, label or None, fmt("guide_label", label) if label else None),
                          (1, text or None, fmt("guide_text", text) if text else None)],
                      row_height([(label, widths[0]), (text, widths[1])], minimum=18))
    printing.apply(sheet, printing.plan(widths, "A4", BODY_PT, landscape=False))
    sheet.protect("", PROTECT_OPTIONS)


def _write_meta(sheet: RowsSheet, values: Mapping[str, Any], rows: Sequence[tuple[str, int, str]]) -> None:
    """Key/value rows (layout.META_KEYS), the marker, then (task id, Excel row, checksum) rows."""
    for r, key in enumerate(layout.META_KEYS):
        value = values[key]
        sheet.put_row(r, [(0, key, None), (1, value if isinstance(value, int) else str(value), None)])
    marker = len(layout.META_KEYS)
    sheet.put_row(marker, [(0, layout.TASK_ROWS_MARKER, None)])
    for r, (task_id, excel_row, checksum) in enumerate(rows, start=marker + 1):
        sheet.put_row(r, [(0, task_id, None), (1, excel_row, None), (2, checksum, None)])
    sheet.very_hidden()
