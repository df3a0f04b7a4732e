"""The registry workbook: ``source_data/<programme>/registry.xlsx``.

People review and edit it in Excel or WPS; reading it back finds columns by their
header text (a reviewer may reorder columns) and reports each bad cell as a Problem.
"""

from __future__ import annotations

import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import python_calamine as calamine

from ledger import printing
from ledger.config import Workspace
from ledger.errors import InputError
from ledger.fsutil import atomic_path
from ledger.problems import Problem, ProblemType
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task

_CALAMINE_ERRORS = (calamine.CalamineError, calamine.PasswordError, calamine.XmlError, calamine.ZipError,
                    zipfile.BadZipFile, OSError, ValueError, KeyError)
TASK_SHEET = "任务清单"
INFO_SHEET = "项目信息"
HELP_SHEET = "说明"
LIST_SEP = "、"
PATH_SEP = " / "
YES = "是"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int


# The review columns first: on A4 they print on the first pages, the units and the path on
# pages of their own behind 任务编号 (REGISTRY_BANDS); the flags and the
# notice's own wording of the units are on screen only (docs/printing.md). The reader
# finds columns by header, so the order is free.
COLUMNS: tuple[Column, ...] = (
    Column("id", "任务编号", 10),
    Column("text", "重点任务", 36),
    Column("lead_units", "牵头单位", 14),
    Column("deadline_text", "完成时限（原文）", 14),
    Column("deadline", "完成时限（日期）", 11),
    Column("milestones", "时间节点", 22),
    Column("review", "审核标记", 20),
    Column("path", "层级路径", 20),
    Column("leaders", "牵头领导", 8),
    Column("cooperating_units", "配合单位", 40),
    Column("responsible_units", "责任单位", 40),
    Column("note", "备注", 10),
    Column("ongoing", "常态化", 6),
    Column("done", "已完成", 6),
    Column("lead_units_raw", "牵头单位（原文）", 20),
    Column("cooperating_units_raw", "配合单位（原文）", 40),
    Column("responsible_units_raw", "责任单位（原文）", 40),
)
#: first column of each printed band after the first, the columns repeated in front of them,
#: and how many columns print
REGISTRY_BANDS = (7,)
REGISTRY_REPEAT = 1
REGISTRY_PRINTED = 12
BODY_PT = 11
#: the 项目信息 and 说明 sheets print on A4 portrait
INFO_WIDTHS = (14, 56)
HELP_WIDTH = 72
REQUIRED = ("id", "text", "lead_units", "deadline")
INFO_KEYS = (
    ("id", "项目编号"),
    ("title", "项目名称"),
    ("doc_number", "文号"),
    ("issuer", "发文单位"),
    ("issued", "发文日期"),
)
MILESTONE_LINE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})\s*[：:\s]\s*(.*?)\s*$")

BAD_DATE = ProblemType(
    "registry-bad-date", "error", "“{value}”不是日期，请写成 2022-12-31 这样的格式，或留空表示无明确时限。"
)
BAD_MILESTONE = ProblemType(
    "registry-bad-milestone", "error", "时间节点“{value}”格式不对，每行应写成“2022-06-30 完成立项”。"
)
DUPLICATE_ID = ProblemType("duplicate-id", "error", "任务编号“{value}”重复，请为每项任务使用不同的编号。")
MISSING_ID = ProblemType("missing-id", "error", "任务编号为空，请填写编号（如 351-A1-03）。")
MISSING_TEXT = ProblemType("missing-text", "error", "重点任务内容为空。")
BAD_FLAG = ProblemType("registry-bad-flag", "error", "“{value}”应填“是”或留空。")

HELP_TEXT = (
    "本表是任务清单（台账的唯一来源），由 ledger registry import 从通知生成，经人工审核后使用。",
    "可以修改：重点任务、单位、完成时限（日期）、时间节点、常态化、已完成、备注；可以调整列的顺序。",
    "请不要修改：任务编号（各单位报回的台账靠它对应任务）、表头文字、工作表名称。",
    "单位之间用“、”分隔，填写单位名录（source_data/units.xlsx）中的规范名称。",
    "完成时限（日期）写成 2022-12-31；无明确时限的留空，并在“常态化”填“是”。",
    "时间节点每行一个，写成“2022-06-30 完成立项”。",
    "“审核标记”列出导入时需要人工确认的内容，确认或改正后可清空该格。",
    "修改后运行 ledger registry check 检查。",
)


def registry_path(ws: Workspace, programme_id: str) -> Path:
    return ws.registry_path(programme_id)


def write_registry(registry: Registry, path: Path, paper: str = "A4") -> Path:
    """Write *registry* to *path* atomically, formatted for review and to print on *paper*
    (openpyxl is loaded only to write: commands that read the registry never pay for it)."""
    import openpyxl

    wb = openpyxl.Workbook()
    info = wb.active
    info.title = INFO_SHEET
    _write_info(info, registry)
    ws = wb.create_sheet(TASK_SHEET)
    _write_tasks(ws, registry.tasks, f"{registry.programme.title or registry.programme.id}任务清单", paper)
    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.column_dimensions["A"].width = HELP_WIDTH
    wrap = _wrap()
    for i, line in enumerate(HELP_TEXT, start=1):
        help_ws.cell(row=i, column=1, value=line).alignment = wrap
    for sheet, widths in ((info, INFO_WIDTHS), (help_ws, (HELP_WIDTH,))):
        printing.apply_openpyxl(sheet, printing.plan(widths, paper, BODY_PT, landscape=False))
    wb.active = 1
    fixed = datetime(2000, 1, 1)
    if registry.programme.issued:
        fixed = datetime.combine(registry.programme.issued, datetime.min.time())
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = wb.properties.lastModifiedBy = "ledger"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _write_info(sheet: Any, registry: Registry) -> None:
    from openpyxl.styles import Font

    prog = registry.programme.to_json()
    for letter, width in zip("AB", INFO_WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    rows = [(label, prog[key] or "") for key, label in INFO_KEYS]
    rows += [(f"附件 {key}", title) for key, title in registry.annexes.items()]
    wrap = _wrap()
    for row, (label, value) in enumerate(rows, start=1):
        cell = sheet.cell(row=row, column=1, value=label)
        cell.font, cell.alignment = Font(bold=True), wrap
        _set_text(sheet.cell(row=row, column=2), value)
        sheet.cell(row=row, column=2).alignment = wrap


def _write_tasks(sheet: Any, tasks: Sequence[Task], title: str, paper: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    header_fill = PatternFill("solid", fgColor="DDEBF7")
    review_fill = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="top")
    for col, spec in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=col, value=spec.header)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[column_letter(col)].width = spec.width
    sheet.row_dimensions[1].height = printing.row_height([(c.header, c.width) for c in COLUMNS], minimum=30)
    for r, task in enumerate(tasks, start=2):
        values = task_to_cells(task)
        # explicit heights: LibreOffice does not grow the rows of an openpyxl file for wrapped text
        sheet.row_dimensions[r].height = printing.row_height([(values[c.key], c.width) for c in COLUMNS])
        for col, spec in enumerate(COLUMNS, start=1):
            cell = sheet.cell(row=r, column=col)
            _set_text(cell, values[spec.key])
            cell.alignment = wrap
            if task.review and spec.key == "review":
                cell.fill = review_fill
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{column_letter(len(COLUMNS))}{max(1, len(tasks) + 1)}"
    printed = COLUMNS[:REGISTRY_PRINTED]
    plan = printing.plan([c.width for c in printed], paper, BODY_PT, bands=REGISTRY_BANDS, repeat=REGISTRY_REPEAT)
    printing.apply_openpyxl(sheet, plan, repeat_rows="1:1", title=title)
    sheet.print_area = f"A1:{column_letter(REGISTRY_PRINTED)}{max(1, len(tasks) + 1)}"


def _wrap() -> Any:
    from openpyxl.styles import Alignment

    return Alignment(wrap_text=True, vertical="top")


def _set_text(cell: Any, value: str) -> None:
    """Store *value* as text, never as a formula."""
    cell.value = value
    if isinstance(value, str) and value:
        cell.data_type = "s"
        if value[0] in "=+-@":
            cell.quotePrefix = True


def task_to_cells(task: Task) -> dict[str, str]:
    """The text of each registry column for *task*."""
    return {
        "id": task.id,
        "path": PATH_SEP.join(task.path),
        "text": task.text,
        "leaders": LIST_SEP.join(task.leaders),
        "lead_units": LIST_SEP.join(task.lead_units),
        "cooperating_units": LIST_SEP.join(task.cooperating_units),
        "responsible_units": LIST_SEP.join(task.responsible_units),
        "deadline_text": task.deadline_text,
        "deadline": task.deadline.isoformat() if task.deadline else "",
        "ongoing": YES if task.ongoing else "",
        "done": YES if task.done else "",
        "milestones": "\n".join(f"{m.due.isoformat()} {m.text}" for m in task.milestones),
        "lead_units_raw": LIST_SEP.join(task.lead_units_raw),
        "cooperating_units_raw": LIST_SEP.join(task.cooperating_units_raw),
        "responsible_units_raw": LIST_SEP.join(task.responsible_units_raw),
        "review": "\n".join(task.review),
        "note": task.note,
    }


# ---- reading -------------------------------------------------------------------------

def read_registry(ws: Workspace, programme_id: str) -> tuple[Registry, list[Problem]]:
    """Read the registry of a configured programme, from its parsed copy when the workbook
    has not changed since (:mod:`ledger.registry.cache`)."""
    from ledger.registry import cache

    ws.programme(programme_id)
    path = ws.registry_path(programme_id)
    if not path.is_file():
        raise InputError(
            f"找不到项目“{programme_id}”的任务清单 {path}。请先运行 ledger registry import 导入通知。"
        )
    return cache.cached(ws, programme_id, path, lambda: read_registry_file(path, programme_id))


def read_registry_file(path: Path, programme_id: str | None = None) -> tuple[Registry, list[Problem]]:
    """Read and validate a registry workbook; structural failures raise InputError.

    python-calamine reads it (a 50,000-task registry in about a second; openpyxl took 20).
    """
    name = path.name
    try:
        wb = calamine.CalamineWorkbook.from_path(str(path))
        sheets = list(wb.sheet_names)
        if TASK_SHEET not in sheets:
            raise InputError(f"任务清单 {path} 缺少工作表“{TASK_SHEET}”，请不要修改工作表名称。")
        info = _read_info(wb.get_sheet_by_name(INFO_SHEET).to_python()) if INFO_SHEET in sheets else {}
        rows = wb.get_sheet_by_name(TASK_SHEET).to_python(skip_empty_area=False)
    except _CALAMINE_ERRORS as exc:
        raise InputError(f"无法打开任务清单 {path}：{exc}。请确认它是 .xlsx 文件且未损坏。") from exc
    prog_id = programme_id or info.get("id") or path.parent.name
    problems: list[Problem] = []
    issued = _parse_date(info.get("issued", ""))
    programme = ProgrammeInfo(
        id=prog_id,
        title=info.get("title", ""),
        doc_number=info.get("doc_number", ""),
        issuer=info.get("issuer", ""),
        issued=issued,
    )
    annexes = {k[3:].strip(): v for k, v in info.items() if k.startswith("附件 ")}
    if not rows:
        raise InputError(f"任务清单 {path} 的工作表“{TASK_SHEET}”是空的。")
    cols = _find_columns(rows[0])
    missing = [c.header for c in COLUMNS if c.key in REQUIRED and c.key not in cols]
    if missing:
        raise InputError(
            f"任务清单 {path} 的工作表“{TASK_SHEET}”缺少列：{'、'.join(missing)}。请恢复表头文字。"
        )
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for r, row in enumerate(rows[1:], start=2):
        cells = {key: _text(row[i]) if i < len(row) else "" for key, i in cols.items()}
        if not any(cells.values()):
            continue
        task, row_problems = _task_from_cells(cells, cols, prog_id, r, name)
        problems.extend(row_problems)
        if task.id:
            if task.id in seen:
                problems.append(DUPLICATE_ID(file=name, sheet=TASK_SHEET, cell=_cell(cols, "id", r), value=task.id))
            seen[task.id] = r
        tasks.append(task)
    return Registry(programme=programme, tasks=tasks, annexes=annexes), problems


def _read_info(rows: Sequence[Sequence[Any]]) -> dict[str, str]:
    labels = {label: key for key, label in INFO_KEYS}
    out: dict[str, str] = {}
    for row in rows:
        if not row or row[0] is None:
            continue
        label = _text(row[0])
        value = _text(row[1]) if len(row) > 1 else ""
        out[labels.get(label, label)] = value
    return out


def _find_columns(header: Sequence[Any]) -> dict[str, int]:
    by_header = {re.sub(r"\s+", "", c.header): c.key for c in COLUMNS}
    found: dict[str, int] = {}
    for i, value in enumerate(header):
        key = by_header.get(re.sub(r"\s+", "", _text(value)).replace("(", "（").replace(")", "）"))
        if key and key not in found:
            found[key] = i
    return found


def _cell(cols: dict[str, int], key: str, row: int) -> str:
    return f"{column_letter(cols[key] + 1)}{row}"


def column_letter(n: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split(text: str) -> list[str]:
    """Unit and leader names of a cell; interned, since the same few hundred names recur in
    every task (a 50,000-task registry then holds each once, in memory and in its parsed copy)."""
    return [sys.intern(p.strip()) for p in re.split(r"[、\n]", text) if p.strip()]


def _parse_date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def _task_from_cells(
    cells: dict[str, str], cols: dict[str, int], prog_id: str, r: int, file: str
) -> tuple[Task, list[Problem]]:
    problems: list[Problem] = []

    def at(key: str) -> dict[str, Any]:
        return {"file": file, "sheet": TASK_SHEET, "cell": _cell(cols, key, r), "task": cells.get("id") or None}

    if not cells.get("id"):
        problems.append(MISSING_ID(**at("id")))
    if not cells.get("text"):
        problems.append(MISSING_TEXT(**at("text")))
    deadline = None
    if cells.get("deadline"):
        deadline = _parse_date(cells["deadline"])
        if deadline is None:
            problems.append(BAD_DATE(value=cells["deadline"], **at("deadline")))
    flags = {}
    for key in ("ongoing", "done"):
        value = cells.get(key, "")
        if value not in ("", YES, "否"):
            problems.append(BAD_FLAG(value=value, **at(key)))
        flags[key] = value == YES
    milestones = []
    for line in cells.get("milestones", "").splitlines():
        if not line.strip():
            continue
        m = MILESTONE_LINE.match(line)
        due = _parse_date(m[1]) if m else None
        if due is None:
            problems.append(BAD_MILESTONE(value=line.strip(), **at("milestones")))
            continue
        milestones.append(Milestone(due=due, text=sys.intern(m[2])))
    task = Task(
        id=cells.get("id", ""),
        programme=prog_id,
        path=[sys.intern(p.strip()) for p in cells.get("path", "").split(PATH_SEP) if p.strip()],
        text=cells.get("text", ""),
        lead_units=_split(cells.get("lead_units", "")),
        lead_units_raw=_split(cells.get("lead_units_raw", "")),
        cooperating_units=_split(cells.get("cooperating_units", "")),
        cooperating_units_raw=_split(cells.get("cooperating_units_raw", "")),
        responsible_units=_split(cells.get("responsible_units", "")),
        responsible_units_raw=_split(cells.get("responsible_units_raw", "")),
        leaders=_split(cells.get("leaders", "")),
        deadline_text=sys.intern(cells.get("deadline_text", "")),
        deadline=deadline,
        ongoing=flags["ongoing"],
        done=flags["done"],
        milestones=sorted(milestones),
        review=[line for line in cells.get("review", "").splitlines() if line.strip()],
        note=cells.get("note", ""),
    )
    return task, problems


def load_registry(ws: Workspace, programme_id: str) -> Registry:
    """The registry of *programme_id*; raise if it has structural errors."""
    registry, problems = read_registry(ws, programme_id)
    errors = [p for p in problems if p.is_error]
    if errors:
        lines = "\n".join(p.render() for p in errors[:20])
        more = f"\n……共 {len(errors)} 个错误。" if len(errors) > 20 else ""
        raise InputError(
            f"任务清单 {ws.registry_path(programme_id)} 有错误，请先改正"
            f"（ledger registry check {programme_id}）：\n{lines}{more}"
        )
    return registry
