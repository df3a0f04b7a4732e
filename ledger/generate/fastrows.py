"""xlsxwriter's worksheet with its bulk rows written in one pass: generate's hot loop.

Writing a cell through xlsxwriter's public API costs a few microseconds of checks and
bookkeeping, and writing it out as XML a few more; a 工作台账 has a thousand cells, so
that was most of the time of a workbook. :class:`RowsSheet` takes whole rows (every cell
with its format) and writes their XML itself, byte for byte as xlsxwriter writes the same
cells (``tests/test_fastrows.py`` compares them): shared strings enter the table in the
order the cells are given, formats get the index xlsxwriter gives them when it writes the
rows out, rich strings are the runs its ``write_rich_string`` makes. Everything else on the
sheet — merged ranges, comments, validations, page setup — goes through xlsxwriter's API as usual.

The rows put here come after every row written through the API (the title and signature
rows above them), in order, and their cells carry their own formats (no row or column format).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from io import StringIO
from operator import itemgetter
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import RowInfo, Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from ledger.generate.xmltext import escape_text


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


class RowsSheet(Worksheet):
    """An xlsxwriter worksheet that also takes whole rows (:meth:`put_row`); add it with
    ``workbook.add_worksheet(name, worksheet_class=RowsSheet)``."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[int, tuple[int, int, str] | None] = {}  # row → (first col, last col, XML); None: empty
        self._last = -1
        self._styles: dict[Format | None, str] = {None: ""}  # format → its s="…" attribute
        self._run_props: dict[Format, str] = {}  # format → the <rPr> of a rich string run in it

    def put_row(self, row: int, cells: Iterable[Cell], height: float | None = None) -> None:
        """Write a row of *cells*, with its *height* in points if given. Their strings enter
        the shared string table in the order given, as with one write call per cell.

        The cells' XML is made here, once: their formats take their index in the workbook now,
        in the order xlsxwriter gives them when it writes the sheet out (every format of the
        rows written through the API above first, see :meth:`_index_formats_above`). So a
        workbook's sheets holding put rows are filled one after the other, each wholly before
        the next is begun; otherwise only the numbering of the formats differs."""
        if row <= self._last:
            raise ValueError(f"rows are put in order: row {row} after row {self._last}")
        if self._last < 0:
            self._index_formats_above()
        if height is not None:
            self._height(row, height)
        sst = self.str_table
        strings = sst.string_table  # SharedStringTable._get_shared_string_index, inline for plain strings
        counted = 0
        prepared: list[tuple[int, str, Format | None]] = []  # (column, the cell's XML after its style, format)
        append = prepared.append
        for col, value, cell_format in cells:
            kind = value.__class__
            if kind is str and len(value) <= _SHORT:  # type: ignore[arg-type]
                index = strings.get(value)
                if index is None:
                    index = strings[value] = sst.unique_count
                    sst.unique_count += 1
                counted += 1
                append((col, f' t="s"><v>{index}</v></c>', cell_format))
            elif value is None:
                if cell_format is not None:
                    append((col, "/>", cell_format))
            elif kind is int or kind is float:
                append((col, f"><v>{value:.16G}</v></c>", cell_format))
            else:
                cell = self._other(row, col, value, cell_format)
                if cell is not None:
                    append(cell)
        sst.count += counted
        if not prepared:
            if height is None:
                return  # nothing to write: no row, as with write calls of nothing but blanks
            self._rows[row] = None  # no cells but a height: an empty row
            self._last = row
            return
        prepared.sort(key=_FIRST)
        first, last = prepared[0][0], prepared[-1][0]
        self._check_dimensions(row, first)
        self._check_dimensions(row, last)
        styles = self._styles
        letters = _LETTERS
        number = str(row + 1)
        out = []
        for col, tail, cell_format in prepared:
            style = styles.get(cell_format)
            if style is None:
                style = styles[cell_format] = f' s="{cell_format._get_xf_index()}"'  # type: ignore[union-attr]
            letter = letters.get(col) or _letter(col)
            out.append(f'<c r="{letter}{number}"{style}{tail}')
        out.append("</row>")
        self._rows[row] = (first, last, "".join(out))
        self._last = row

    def _height(self, row: int, height: float) -> None:
        """``set_row(row, height)``: what it stores for a height alone, without its checks of
        the other options (a height of 0, which hides the row, goes through it)."""
        pixels = int(height * 4.0 / 3.0 + 0.5)
        if pixels == 0 or not 0 <= row < self.xls_rowmax:
            self.set_row(row, height)
            return
        self._check_dimensions(row, self.dim_colmin if self.dim_colmin is not None else 0)
        self.row_info[row] = RowInfo(height=pixels)
        self.row_sizes[row] = [pixels, False]  # what comments and images are placed by

    def _other(self, row: int, col: int, value: Any, cell_format: Format | None) -> tuple[int, str, Format | None] | None:
        """A cell of a long string, a rich string or a number of another type (None when
        xlsxwriter refused a rich string: it says why)."""
        if isinstance(value, str):
            if len(value) <= _SHORT:
                return col, f' t="s"><v>{self.str_table._get_shared_string_index(value)}</v></c>', cell_format
            self.write_string(row, col, value, cell_format)
            return self._taken(row, col)
        if isinstance(value, Rich):
            rich = self._rich(value.parts)
            if rich is not None:
                return col, f' t="s"><v>{self.str_table._get_shared_string_index(rich)}</v></c>', cell_format
            self.write_rich_string(row, col, *value.parts, cell_format)  # xlsxwriter checks what _rich does not take
            return self._taken(row, col) if col in self.table.get(row, {}) else None
        return col, f"><v>{value:.16G}</v></c>", cell_format

    def _taken(self, row: int, col: int) -> tuple[int, str, Format | None]:
        """The string cell xlsxwriter just stored at (*row*, *col*), taken out of its table."""
        cell = self.table[row].pop(col)
        if not self.table[row]:
            del self.table[row]
        return col, f' t="s"><v>{cell.string}</v></c>', cell.format

    def _index_formats_above(self) -> None:
        """Give the formats of what was written through the API their index, in the order
        xlsxwriter's writer does: column formats, then row by row the row's format and its
        cells' formats from left to right."""
        for col in sorted(self.col_info):
            if self.col_info[col].column_format is not None:
                self.col_info[col].column_format._get_xf_index()
        for row in sorted(set(self.table) | set(self.row_info)):
            info = self.row_info.get(row)
            row_format = info.row_format if info else None
            if row_format is not None:
                row_format._get_xf_index()
            for col in sorted(self.table.get(row, ())):
                cell_format = self.table[row][col].format
                if cell_format is not None:
                    cell_format._get_xf_index()
                elif row_format is None and col in self.col_info and self.col_info[col].column_format is not None:
                    self.col_info[col].column_format._get_xf_index()

    def _rich(self, parts: tuple[Any, ...]) -> str | None:
        """The shared string xlsxwriter's ``write_rich_string`` makes of *parts* when they are
        an optional plain text and then (format, text) runs with no text empty and no longer
        than any string may be; else None."""
        runs = []
        start = 0
        if parts and isinstance(parts[0], str):
            if not parts[0]:
                return None
            runs.append(f"<r>{_text_element(parts[0])}</r>")
            start = 1
        rest = parts[start:]
        if len(parts) <= 2 or len(rest) % 2 or sum(len(p) for p in parts if isinstance(p, str)) > _SHORT:
            return None
        for i in range(0, len(rest), 2):
            run_format, text = rest[i], rest[i + 1]
            if not isinstance(run_format, Format) or not isinstance(text, str) or not text:
                return None
            props = self._run_props.get(run_format)
            if props is None:
                props = self._run_props[run_format] = self._font_xml(run_format)
            runs.append(f"<r>{props}{_text_element(text)}</r>")
        return "".join(runs)

    def _font_xml(self, run_format: Format) -> str:
        """The ``<rPr>`` xlsxwriter writes for a rich string run in *run_format*."""
        self.rstring = XMLwriter()
        self.rstring._set_filehandle(StringIO())
        self._write_font(run_format)
        return self.rstring.fh.getvalue()

    def _write_rows(self) -> None:
        """xlsxwriter writes the rows above the put ones, then the put rows follow."""
        if not self._rows:
            super()._write_rows()
            return
        last = self.dim_rowmax
        self.dim_rowmax = min(self._rows) - 1
        try:
            if self.dim_rowmax >= self.dim_rowmin:
                super()._write_rows()
            else:
                self._calculate_spans()
        finally:
            self.dim_rowmax = last
        self._write_put_rows()

    def _write_put_rows(self) -> None:
        spans = self.row_spans
        write = self.fh.write
        infos = self.row_info
        original, default = self.original_row_height, self.default_row_height
        dy = ' x14ac:dyDescent="0.25"' if self.excel_version == 2010 else ""
        for row, put in self._rows.items():
            span = spans.get(row // 16)
            info = infos.get(row)
            if info is not None and (info.row_format is not None or info.hidden or info.level or info.collapsed):
                if put is None:
                    self._write_empty_row(row, span, info)
                else:
                    self._write_row(row, span, info)
                    write(put[2])
                continue
            # the <row> xlsxwriter's _write_row writes for a row with at most a height
            height = default if info is None or info.height is None else info.height
            tag = f'<row r="{row + 1}"'
            if span:
                tag += f' spans="{span}"'
            if height != original or height != default:
                tag += f' ht="{height * 0.75:.16g}" customHeight="1"'
            write(f"{tag}{dy}/>" if put is None else f"{tag}{dy}>{put[2]}")

    def _calculate_spans(self) -> None:
        """xlsxwriter's ``spans`` of each block of 16 rows (its first and last column holding a
        cell or a comment) of the rows written through the API, widened by the put rows."""
        super()._calculate_spans()
        found: dict[int, tuple[int, int]] = {}
        for block, text in self.row_spans.items():
            low, high = text.split(":")
            found[block] = (int(low) - 1, int(high) - 1)
        for row, put in self._rows.items():
            if put is None:
                continue
            low, high = put[0], put[1]
            if row in self.comments:
                low, high = min(low, *self.comments[row]), max(high, *self.comments[row])
            block = row // 16
            if block in found:
                low, high = min(low, found[block][0]), max(high, found[block][1])
            found[block] = (low, high)
        self.row_spans = {block: f"{low + 1}:{high + 1}" for block, (low, high) in found.items()}


_LETTERS: dict[int, str] = {}
_FIRST = itemgetter(0)


def _letter(col: int) -> str:
    found = _LETTERS[col] = xl_col_to_name(col)
    return found


def _text_element(text: str) -> str:
    """A rich string run's ``<t>`` as xlsxwriter writes it."""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<t{space}>{escape_text(text)}</t>"


