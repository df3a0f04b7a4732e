"""Fill a generated 工作台账 as a unit would, with openpyxl, and the edits units make.

``fill`` writes every task's input cells (defaults overridden per task) and then runs
*transform* on the open workbook for structural edits: ``insert_column``,
``move_column_to_end``, ``sort_tasks``, ``delete_meta``, ``merge``… Text is written as
text (a progress beginning with "=" stays text); :class:`Formula` writes a live formula.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet

from ledger import layout

HEADER_ROW = layout.HEADER_ROW + 1  # Excel row of the headers
DEFAULTS: dict[str, object] = {
    "progress": "完成方案编制，召开推进会1次",
    "cumulative": "累计完成投资的40%",
    "percent": 40,
    "status": layout.ON_SCHEDULE,
}


@dataclass(frozen=True)
class Formula:
    """A live formula typed by the unit (openpyxl stores no cached value for it)."""

    text: str


def columns(ws: Worksheet) -> dict[str, int]:
    """Layout key → 1-based column, from the header row."""
    headers = [c.value for c in ws[HEADER_ROW]]
    return {k: i + 1 for k, i in layout.find_columns(headers).items()}


def task_rows(ws: Worksheet) -> dict[str, int]:
    """Task id → Excel row."""
    col = columns(ws)["task_id"]
    return {str(ws.cell(r, col).value): r for r in range(HEADER_ROW + 1, ws.max_row + 1)
            if ws.cell(r, col).value}


def put(ws: Worksheet, row: int, col: int, value: object) -> None:
    """Write like a person typing: text stays text, Formula becomes a formula."""
    cell = ws.cell(row, col)
    if isinstance(value, Formula):
        cell.value = value.text
    else:
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"


def fill(
    path: Path,
    values_by_task: Mapping[str, Mapping[str, object]] | None = None,
    *,
    status: str | None = None,
    transform: Callable[[Workbook, Worksheet], Any] | None = None,
    out: Path | None = None,
) -> Path:
    """Fill every task of the ledger at *path* (defaults, then *values_by_task*); save to *out*."""
    wb = load_workbook(path)
    ws = wb[layout.LEDGER_SHEET]
    cols = columns(ws)
    for task_id, r in task_rows(ws).items():
        values = {**DEFAULTS, **({"status": status} if status else {}), **(values_by_task or {}).get(task_id, {})}
        for key, value in values.items():
            put(ws, r, cols[key], value)
    if transform is not None:
        transform(wb, ws)
    target = out or path
    wb.save(target)
    return target


# --- structural edits ---------------------------------------------------------------------------


def _shift_merges(ws: Worksheet, edit: Callable[[], None], col_from: int, by: int) -> None:
    """Run a column insert/delete and shift merged ranges right of *col_from* as Excel would."""
    ranges = [CellRange(str(r)) for r in ws.merged_cells.ranges]
    for r in ranges:
        ws.unmerge_cells(str(r))
    edit()
    for r in ranges:
        if r.min_col >= col_from:
            r.shift(col_shift=by)
        elif r.max_col >= col_from:
            r.expand(right=by)
        ws.merge_cells(r.coord)


def insert_column(ws: Worksheet, before_key: str, header: str, fill_value: object = None) -> None:
    """Insert a column before *before_key*'s column, with *header* and a value in every task row."""
    col = columns(ws)[before_key]
    rows = list(task_rows(ws).values())
    _shift_merges(ws, lambda: ws.insert_cols(col), col, 1)
    ws.cell(HEADER_ROW, col).value = header
    for r in rows:
        put(ws, r, col, fill_value)


def move_column_to_end(ws: Worksheet, key: str) -> None:
    """Cut *key*'s column and paste it after the last column."""
    col = columns(ws)[key]
    last = ws.max_column + 1
    for r in range(HEADER_ROW, ws.max_row + 1):
        ws.cell(r, last).value = ws.cell(r, col).value
    _shift_merges(ws, lambda: ws.delete_cols(col), col + 1, -1)


def delete_column(ws: Worksheet, key: str) -> None:
    col = columns(ws)[key]
    _shift_merges(ws, lambda: ws.delete_cols(col), col + 1, -1)


def sort_tasks(ws: Worksheet, reverse: bool = True) -> None:
    """Sort the task rows by task id (values only), as a unit using Excel's sort would."""
    rows = sorted(task_rows(ws).values())
    data = [[ws.cell(r, c).value for c in range(1, ws.max_column + 1)] for r in rows]
    tid = columns(ws)["task_id"] - 1
    data.sort(key=lambda vals: str(vals[tid]), reverse=reverse)
    for r, vals in zip(rows, data, strict=True):
        for c, v in enumerate(vals, start=1):
            put(ws, r, c, v)


def delete_meta(wb: Workbook, names: bool = True) -> None:
    """Remove the hidden meta sheet and (by default) the LEDGER_ defined names."""
    del wb[layout.META_SHEET]
    if names:
        for name in [n for n in wb.defined_names if n.startswith(layout.DEFINED_NAME_PREFIX)]:
            del wb.defined_names[name]


def set_meta(wb: Workbook, key: str, value: object) -> None:
    """Change one key of the meta sheet (and its defined name, if any)."""
    meta = wb[layout.META_SHEET]
    for row in meta.iter_rows(min_col=1, max_col=2):
        if row[0].value == key:
            row[1].value = value
    name = layout.DEFINED_NAME_PREFIX + key.upper()
    if name in wb.defined_names:
        wb.defined_names[name].attr_text = f'"{value}"'


def meta_task_rows(wb: Workbook) -> dict[str, int]:
    """Task id → row of the meta sheet that lists it."""
    meta = wb[layout.META_SHEET]
    first = len(layout.META_KEYS) + 2
    return {str(meta.cell(r, 1).value): r for r in range(first, meta.max_row + 1) if meta.cell(r, 1).value}


def reseal(wb: Workbook, ws: Worksheet, digest: Callable[[list[object]], str], key: bytes | None) -> None:
    """Recompute every checksum of the meta sheet from the sheet as it stands with *digest*, and the
    seal with *key* (or drop it): what someone who rebuilds the checksums from the source does."""
    meta = wb[layout.META_SHEET]
    rows, cols = task_rows(ws), columns(ws)
    listed = []
    for task_id, r in meta_task_rows(wb).items():
        values = [ws.cell(rows[task_id], cols[k]).value for k in layout.CHECKSUM_KEYS]
        meta.cell(r, 3).value = digest(values)
        listed.append((task_id, meta.cell(r, 3).value))
    keys = {meta.cell(r, 1).value: r for r in range(1, len(layout.META_KEYS) + 1)}
    value = {k: str(meta.cell(r, 2).value) for k, r in keys.items()}
    mac = layout.manifest_mac(key, value["programme"], value["period"], value["unit"], value["layout_version"],
                              listed) if key else ""
    meta.cell(keys["mac"], 2).value = mac


def forge_locked(wb: Workbook, ws: Worksheet, task_id: str, key: str, value: str, *, with_key: bytes | None = None) -> None:
    """Edit a locked cell of *task_id* and rebuild the checksums: with the plain formula of layouts 1–3,
    or HMAC under *with_key* (a key that is not the workspace's), resealing with it."""
    ws.protection.sheet = False
    ws.cell(task_rows(ws)[task_id], columns(ws)[key]).value = value
    digest = (lambda v: layout.row_digest(v, with_key)) if with_key else layout.row_checksum
    reseal(wb, ws, digest, with_key)


def delete_task(wb: Workbook, ws: Worksheet, task_id: str) -> None:
    """Delete *task_id*'s row and its line in the hidden sheet (a unit hiding a task)."""
    ws.delete_rows(task_rows(ws)[task_id])
    wb[layout.META_SHEET].delete_rows(meta_task_rows(wb)[task_id])


def rename_task(wb: Workbook, ws: Worksheet, task_id: str, new_id: str) -> None:
    """Change *task_id* to *new_id* in its row and in the hidden sheet."""
    ws.cell(task_rows(ws)[task_id], columns(ws)["task_id"]).value = new_id
    wb[layout.META_SHEET].cell(meta_task_rows(wb)[task_id], 1).value = new_id


def as_layout_3(wb: Workbook, ws: Worksheet) -> None:
    """What an earlier ledger wrote (layout 3): plain checksums, no key id, no seal."""
    set_meta(wb, "layout_version", 3)
    reseal(wb, ws, layout.row_checksum, None)
    set_meta(wb, "key_id", "")


def cell_of(ws: Worksheet, task_id: str, key: str) -> str:
    """A1 reference of *key*'s cell in *task_id*'s row, as the file stands now."""
    col = columns(ws)[key]
    return f"{ws.cell(1, col).column_letter}{task_rows(ws)[task_id]}"


def set_cached_values(path: Path, values: Mapping[str, object]) -> None:
    """Give openpyxl-written formulas a cached result, as Excel would on save."""
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode("utf-8")
    for ref, value in values.items():
        xml, n = re.subn(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*(?:/>|>\s*</v>)', rf"\g<1><v>{value}</v>", xml)
        assert n == 1, f"no formula without value at {ref}"
    parts[sheet] = xml.encode("utf-8")
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    tmp.replace(path)


# --- LibreOffice --------------------------------------------------------------------------------


def soffice() -> str | None:
    return shutil.which("soffice")


def convert(source: Path, fmt: str, outdir: Path, profile: Path) -> Path:
    """Save *source* through LibreOffice as *fmt* (xlsx, ods, xls) into *outdir*."""
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [soffice() or "soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", fmt, "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=120,
    )
    result = outdir / f"{source.stem}.{fmt}"
    assert result.is_file(), f"LibreOffice wrote no {fmt}"
    return result
