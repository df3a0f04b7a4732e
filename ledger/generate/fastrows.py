"""xlsxwriter's worksheet with its bulk rows written in one pass: generate's hot loop.

Writing a cell through xlsxwriter's public API costs a few microseconds of checks and
bookkeeping, and writing it out as XML a few more; a 工作台账 has a thousand cells, so
that was most of the time of a workbook. :class:`RowsSheet` takes whole rows (every cell
with its format) and writes their XML itself, byte for byte as xlsxwriter writes the same
cells (``tests/test_fastrows.py`` compares them): shared strings enter the table in the
order the cells are given, formats get their index when the rows are written out, as
xlsxwriter does. Everything else on the sheet — merged ranges, comments, validations,
page setup — goes through xlsxwriter's API as usual.

The rows put here come after every row written through the API (the title and headers
above them), in order, and their cells carry their own formats (no row or column format).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet


@dataclass(frozen=True)
class Rich:
    """A rich string cell's runs, as ``Worksheet.write_rich_string`` takes them (formats and
    texts, without the cell's own format)."""

    parts: tuple[Any, ...]


#: a cell: (zero-based column, value, format); the value a str, an int or float, a
#: :class:`Rich` string, or None for a formatted blank (a blank without format is no cell)
Cell = tuple[int, "str | int | float | Rich | None", "Format | None"]
#: strings up to this long cannot exceed Excel's limit of 32,767 UTF-16 units; longer ones
#: go through xlsxwriter's write_string, which checks and shortens them
_SHORT = 16383
#: a prepared cell: (column, kind, value, format); kind "s" (value: the shared string's
#: index), "n" (a number) or "b" (a formatted blank)
_Prepared = tuple[int, str, Any, "Format | None"]


class RowsSheet(Worksheet):
    """An xlsxwriter worksheet that also takes whole rows (:meth:`put_row`); add it with
    ``workbook.add_worksheet(name, worksheet_class=RowsSheet)``."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[int, list[_Prepared]] = {}
        self._last = -1

    def put_row(self, row: int, cells: Iterable[Cell], height: float | None = None) -> None:
        """Write a row of *cells*, with its *height* in points if given. Their strings enter
        the shared string table in the order given, as with one write call per cell."""
        if row <= self._last:
            raise ValueError(f"rows are put in order: row {row} after row {self._last}")
        if height is not None:
            self.set_row(row, height)
        index = self.str_table._get_shared_string_index
        prepared: list[_Prepared] = []
        for col, value, cell_format in cells:
            if isinstance(value, str):
                if len(value) <= _SHORT:
                    prepared.append((col, "s", index(value), cell_format))
                    continue
                self.write_string(row, col, value, cell_format)
                prepared.append(self._taken(row, col))
            elif value is None:
                if cell_format is not None:
                    prepared.append((col, "b", None, cell_format))
            elif isinstance(value, Rich):
                self.write_rich_string(row, col, *value.parts, cell_format)
                prepared.append(self._taken(row, col))
            else:
                prepared.append((col, "n", value, cell_format))
        if prepared:
            prepared.sort(key=_column)
            self._check_dimensions(row, prepared[0][0])
            self._check_dimensions(row, prepared[-1][0])
        elif height is None:
            return  # nothing to write: no row, as with write calls of nothing but blanks
        self._rows[row] = prepared  # no cells but a height: an empty row
        self._last = row

    def _taken(self, row: int, col: int) -> _Prepared:
        """The string cell xlsxwriter just stored at (*row*, *col*), taken out of its table."""
        cell = self.table[row].pop(col)
        if not self.table[row]:
            del self.table[row]
        return col, "s", cell.string, cell.format

    def _write_rows(self) -> None:
        """xlsxwriter writes the rows above the put ones, then the put rows follow."""
        if not self._rows:
            super()._write_rows()
            return
        last = self.dim_rowmax
        self.dim_rowmax = min(self._rows) - 1
        above: dict[int, str] = {}
        try:
            if self.dim_rowmax >= self.dim_rowmin:
                super()._write_rows()
                above = dict(self.row_spans)
        finally:
            self.dim_rowmax = last
        self._write_put_rows(above)

    def _write_put_rows(self, above: dict[int, str]) -> None:
        spans = self._spans(above)
        letters = [xl_col_to_name(c) for c in range((self.dim_colmax or 0) + 1)]
        styles: dict[int, str] = {}
        write = self.fh.write
        for row, cells in self._rows.items():
            if not cells:
                self._write_empty_row(row, spans.get(row // 16), self.row_info.get(row))
                continue
            self._write_row(row, spans.get(row // 16), self.row_info.get(row))
            number = row + 1
            out = []
            for col, kind, value, cell_format in cells:
                if cell_format is None:
                    style = ""
                else:
                    style = styles.get(id(cell_format))
                    if style is None:
                        style = styles[id(cell_format)] = f' s="{cell_format._get_xf_index()}"'
                if kind == "s":
                    out.append(f'<c r="{letters[col]}{number}"{style} t="s"><v>{value}</v></c>')
                elif kind == "n":
                    out.append(f'<c r="{letters[col]}{number}"{style}><v>{value:.16G}</v></c>')
                else:
                    out.append(f'<c r="{letters[col]}{number}"{style}/>')
            out.append("</row>")
            write("".join(out))

    def _spans(self, above: dict[int, str]) -> dict[int, str]:
        """xlsxwriter's ``spans`` of each block of 16 rows: its first and last column holding a
        cell or a comment, the rows written above in the same block included."""
        found: dict[int, tuple[int, int]] = {}
        for block, text in above.items():
            low, high = text.split(":")
            found[block] = (int(low) - 1, int(high) - 1)
        for row, cells in self._rows.items():
            if not cells:
                continue
            low, high = cells[0][0], cells[-1][0]
            if row in self.comments:
                low, high = min(low, *self.comments[row]), max(high, *self.comments[row])
            block = row // 16
            if block in found:
                low, high = min(low, found[block][0]), max(high, found[block][1])
            found[block] = (low, high)
        return {block: f"{low + 1}:{high + 1}" for block, (low, high) in found.items()}


def _column(cell: _Prepared) -> int:
    return cell[0]
