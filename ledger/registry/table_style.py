"""Table-style notices: a 任务分解表 (Word table or Excel sheet) → RawTasks.

Columns are found by their header *names* (synonyms, full/half width, spaces and line
breaks ignored), never by position, because every office orders and names them its own
way. A title row above the header is common; category rows spanning the table become
headings of the rows below them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ledger.cnum import cn_int
from ledger.errors import InputError
from ledger.problems import Problem
from ledger.registry.notice import clean_value, split_number
from ledger.registry.raw import FIELD_NAMES, LEADER_FIELDS, ROW_WITHOUT_TASK, UNIT_FIELDS, RawTask

#: Canonical column → header names it is written as (compared without spaces, half-width).
COLUMNS: dict[str, tuple[str, ...]] = {
    "序号": ("序号", "编号", "任务编号", "序", "no", "no."),
    "任务": ("重点任务", "任务内容", "工作任务", "具体任务", "主要任务", "任务名称", "重点工作", "工作内容",
             "任务事项", "工作事项", "重点事项", "重点工作任务", "任务"),
    "措施": ("具体措施", "工作措施", "主要措施", "推进措施", "落实措施", "细化措施", "工作举措", "工作目标",
             "目标任务", "任务目标", "具体内容", "年度目标"),
    **FIELD_NAMES,
}
FIELD_COLUMNS = (*LEADER_FIELDS, *UNIT_FIELDS)
_VALUE_COLUMNS = (*FIELD_COLUMNS, "完成时限", "时间节点")
#: How many rows from the top the header row may be found in.
HEADER_SCAN = 10
EXPECTED = "序号、重点任务（或任务内容/工作任务/具体任务）、牵头单位、配合单位、责任单位、牵头领导、完成时限"


@dataclass
class TableHeader:
    """Where the header is and which column holds what."""

    row: int
    data_start: int
    columns: dict[str, int] = field(default_factory=dict)


def cell_text(value: object) -> str:
    """An Excel/Word cell as text: 1.0 → "1", a date → "2022年6月30日"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == time() else value
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value).strip()


def _norm_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s*＊:：]", "", text).lower()


_SYNONYMS = sorted(((_norm_header(n), canon) for canon, names in COLUMNS.items() for n in names),
                   key=lambda p: len(p[0]), reverse=True)


def match_column(header: str) -> str | None:
    """The canonical column a header cell names: exact, then prefix, then contained (short cells)."""
    norm = _norm_header(header)
    if not norm:
        return None
    for name, canon in _SYNONYMS:
        if norm == name:
            return canon
    for name, canon in _SYNONYMS:
        if len(name) > 1 and norm.startswith(name):
            return canon
    if len(norm) <= 12:
        for name, canon in _SYNONYMS:
            if len(name) > 1 and name in norm:
                return canon
    return None


def _map_row(row: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(row):
        canon = match_column(cell)
        if canon and canon not in columns:
            columns[canon] = i
    return columns


def _usable(columns: dict[str, int]) -> bool:
    return ("任务" in columns or "措施" in columns) and any(c in columns for c in UNIT_FIELDS)


def find_header(rows: Sequence[Sequence[str]], scan: int = HEADER_SCAN) -> TableHeader | None:
    """The header row among the first *scan* rows, merged with a sub-header row below it."""
    for r, row in enumerate(rows[:scan]):
        columns = _map_row(row)
        if not _usable(columns):
            continue
        header = TableHeader(r, r + 1, columns)
        sub = _map_row(rows[r + 1]) if r + 1 < len(rows) else {}
        if sub and not _serial(_cell(rows[r + 1], columns.get("序号"))):
            merged = {c: i for c, i in columns.items() if i not in sub.values()}
            merged.update({c: i for c, i in sub.items() if c not in merged})
            if _usable(merged):
                header.columns, header.data_start = merged, r + 2
        return header
    return None


def header_error(source: str, sheet: str | None = None) -> InputError:
    where = f"{source}（工作表“{sheet}”）" if sheet else source
    return InputError(
        f"{where}：在前 {HEADER_SCAN} 行中找不到任务分解表的表头。表头一行应含这些列名（顺序不限）："
        f"{EXPECTED}。请检查表头的写法，或把任务整理成这样的表后再导入。"
    )


def _cell(row: Sequence[str], index: int | None, units: bool = False) -> str:
    """A cell's text with its line breaks joined: units one per line become a 、 list."""
    if index is None or index >= len(row):
        return ""
    lines = [part.strip() for part in str(row[index]).splitlines() if part.strip()]
    out = ""
    for part in lines:
        if not out:
            out = part
        elif units and out[-1] not in "、，,；;":
            out = f"{out}、{part}"
        else:
            out += " " + part if out[-1].isascii() and out[-1].isalnum() and part[0].isascii() else part
    return out


def _serial(text: str) -> tuple[int, ...] | None:
    """序号 as numbers: "3" → (3,), "1.2" → (1, 2), "（一）" → (1,), "一" → (1,)."""
    text = text.strip().rstrip("、.．")
    if re.fullmatch(r"\d{1,3}(?:[.．\-]\d{1,3})*", text):
        return tuple(int(p) for p in re.split(r"[.．\-]", text))
    m = re.fullmatch(r"[（(]?\s*([一二三四五六七八九十]{1,3}|\d{1,3})\s*[）)]?", text)
    if m:
        n = cn_int(m.group(1))
        return (n,) if n else None
    return None


class _Categories:
    """The stack of category headings above the current row."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, int, str]] = []  # (style, number, text)
        self.counts: dict[int, int] = {}

    def push(self, text: str) -> None:
        numbered = split_number(text)
        style = numbered[0] if numbered else "plain"
        styles = [s for s, _, _ in self.stack]
        if style in styles:
            del self.stack[styles.index(style):]
        level = len(self.stack)
        self.counts[level] = self.counts.get(level, 0) + 1
        for deeper in [k for k in self.counts if k > level]:
            del self.counts[deeper]
        num = numbered[1] if numbered else self.counts[level]
        self.stack.append((style, num, text))

    def headings(self) -> list[str]:
        return [t for _, _, t in self.stack]

    def path(self) -> tuple[int, ...]:
        return tuple(n for _, n, _ in self.stack)


def _category_mode(rows: Sequence[Sequence[str]], header: TableHeader) -> bool:
    """With both 重点任务 and 措施 columns, 重点任务 is a category when merged over several rows."""
    if "任务" not in header.columns or "措施" not in header.columns:
        return False
    previous = None
    for row in rows[header.data_start:]:
        task, measure = _cell(row, header.columns["任务"]), _cell(row, header.columns["措施"])
        if measure and (not task or task == previous):
            return True
        previous = task
    return False


def read_table(
    rows: Sequence[Sequence[str]],
    source: str,
    header: TableHeader,
    *,
    annex: int | None = None,
    headings: Sequence[str] = (),
    sheet: str | None = None,
) -> tuple[list[RawTask], list[Problem]]:
    """The tasks of one table; keys are full numbering paths until ``notice.finish``."""
    cols = header.columns
    category_mode = _category_mode(rows, header)
    text_col = cols["措施"] if category_mode or "任务" not in cols else cols["任务"]
    extra_col = cols.get("措施") if not category_mode and "任务" in cols else None
    header_cells = {_cell(rows[header.row], i) for i in cols.values()}
    categories = _Categories()
    tasks: list[RawTask] = []
    problems: list[Problem] = []
    last: RawTask | None = None
    group = ""
    for r in range(header.data_start, len(rows)):
        row = rows[r]
        cells = [_cell(row, i) for i in range(len(row))]
        filled = [c for c in cells if c]
        if not filled or set(filled) <= header_cells:
            continue
        serial = _cell(row, cols.get("序号"))
        text = _cell(row, text_col)
        values = {c: _cell(row, cols.get(c), units=c in FIELD_COLUMNS) for c in _VALUE_COLUMNS}
        if _is_category_row(cells, cols, text_col) or (
            not any(values.values()) and _is_category_serial(serial) and (serial or _looks_like_heading(text))
        ):
            label = serial if serial and not text.startswith(serial) else ""
            categories.push(_join_label(label, text or filled[0]))
            last = None
            continue
        if category_mode and _cell(row, cols["任务"]):
            group = _cell(row, cols["任务"])
        if extra_col is not None and _cell(row, extra_col):
            text = _join_text(text, _cell(row, extra_col))
        if not text:
            if last is not None and not serial:
                _merge_units(last, values)
            elif any(values.values()):
                problems.append(ROW_WITHOUT_TASK(file=source, sheet=sheet, row=r + 1, value=" ".join(filled)[:40]))
            continue
        if last is not None and text == last.text and serial == last.number:
            _merge_units(last, values)  # a merged 重点任务 cell repeated over rows with more units
            continue
        own = _serial(serial) or (len(tasks) + 1,)
        path = own if len(own) > 1 else categories.path() + own
        task_headings = list(headings) + categories.headings() + ([group] if category_mode and group else [])
        last = RawTask(
            annex=annex,
            headings=task_headings,
            number=serial,
            key=path,
            text=text,
            fields=_fields(values),
            line=r + 1,
            source=source,
        )
        tasks.append(last)
    return tasks, problems


def _is_category_row(cells: Sequence[str], cols: dict[str, int], text_col: int) -> bool:
    """One text spanning the row (merged), not a lone unit or a task still without units.

    The 序号 may stand apart ("一" | name merged over some columns) and a 备注 may be
    filled: a task's text never equals its own unit, leader or deadline, so the task
    column's text repeated in every filled field column is a merged category name,
    however many columns the merge covers.
    """
    filled = {i: c for i, c in enumerate(cells) if c}
    values = set(filled.values())
    if len(values) != 1:
        text = filled.get(text_col, "")
        spread = [filled[cols[c]] for c in _VALUE_COLUMNS if c in cols and cols[c] in filled]
        return bool(text and spread) and all(v == text for v in spread)
    if len(filled) > 1:
        return True
    (index, text), = filled.items()
    if index in {cols[c] for c in _VALUE_COLUMNS if c in cols}:
        return False
    if index in (cols.get("任务"), cols.get("措施")):
        return _looks_like_heading(text)
    return True


def _looks_like_heading(text: str) -> bool:
    return len(text) <= 30 and not text.endswith(("。", "；", ";"))


def _is_category_serial(serial: str) -> bool:
    return not serial or bool(re.fullmatch(r"[（(]?[一二三四五六七八九十]{1,3}[）)]?[、.．]?", serial))


def _join_label(label: str, text: str) -> str:
    """序号 "一" and text "年度改造目标" → "一、年度改造目标"."""
    if not label or text.startswith(label):
        return text
    if split_number(label + text):
        return label + text
    return f"{label}、{text}" if cn_int(label) else f"{label} {text}"


def _join_text(task: str, measure: str) -> str:
    return task + measure if task.endswith(("。", "：", ":", "；")) else f"{task}：{measure}"


def _fields(values: dict[str, str]) -> dict[str, str]:
    fields = {c: clean_value(values[c]) for c in FIELD_COLUMNS if values.get(c)}
    deadline, steps = values.get("完成时限", ""), values.get("时间节点", "")
    combined = "；".join(v for v in (steps, deadline) if v)
    if combined:
        fields["完成时限"] = combined
    return fields


def _merge_units(task: RawTask, values: dict[str, str]) -> None:
    for name, value in _fields(values).items():
        old = task.fields.get(name, "")
        if not old:
            task.fields[name] = value
        elif value not in old.split("、") and value != old and name != "完成时限":
            task.fields[name] = f"{old}、{value}"
