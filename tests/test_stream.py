"""The 汇总表's streamed sheet XML (consolidate/stream.py) against xlsxwriter's own, part by part.

The same rows are written twice: streamed into template rows, and cell by cell by
xlsxwriter itself (constant-memory mode, which also writes inline strings). Every part
of the two packages but the streamed sheet must be identical byte for byte; in the sheet,
every cell must carry the same reference, style, type and text (XlsxWriter's own tests
compare generated files this way, part by part after parsing).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import xlsxwriter

from ledger.consolidate import stream

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SHEET = "xl/worksheets/sheet1.xml"
KINDS = ("number", "text", "text", "text")
WIDTHS = (6.0, 20.0, 30.0, 12.0)
ROWS = [
    (1, "按序时推进", "完成可研批复", ""),
    (2, "=HYPERLINK(\"http://x\")", "+1 加快推进", "-5%"),
    (3, "@SUM(A1)", "a & b < c > d", None),
    (None, " 前导空格", "尾随空格 ", "制表\t符"),
    (5, "控制\x01字符", "第一行\n第二行\n第三行", "_x0041_ 看似转义"),
    (6, "", "很长的进展情况" * 20, "完成"),
]


def _book(buf: io.BytesIO) -> tuple[xlsxwriter.Workbook, object, list, list]:
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False})
    wb.set_properties({"author": "ledger", "created": __import__("datetime").datetime(2022, 6, 1)})
    sheet = wb.add_worksheet("总表")
    plain = [wb.add_format({"border": 1, "align": "center" if k == "number" else "left"}) for k in KINDS]
    quoted = [wb.add_format({"border": 1, "align": "center" if k == "number" else "left", "quote_prefix": True})
              for k in KINDS]
    for c, w in enumerate(WIDTHS):
        sheet.set_column(c, c, w)
    sheet.write_string(0, 0, "标题")
    return wb, sheet, plain, quoted


def streamed(tmp_path: Path) -> tuple[bytes, list[float]]:
    buf = io.BytesIO()
    wb, sheet, plain, quoted = _book(buf)
    stream.write_templates(sheet, 1, plain, quoted)
    wb.close()
    target = tmp_path / "streamed.xlsx"
    stream.finish(buf.getvalue(), target, [stream.BulkRows("总表", 1, len(ROWS), KINDS, WIDTHS, iter(ROWS))])
    with zipfile.ZipFile(target) as z:
        heights = [float(r.get("ht")) for r in ET.fromstring(z.read(SHEET)).iter(f"{NS}row") if r.get("r") != "1"]
    return target.read_bytes(), heights


def by_xlsxwriter(heights: list[float]) -> bytes:
    buf = io.BytesIO()
    wb, sheet, plain, quoted = _book(buf)
    for r, (values, height) in enumerate(zip(ROWS, heights, strict=True), start=1):
        sheet.set_row(r, height)
        for c, v in enumerate(values):
            if v is None or v == "":
                sheet.write_blank(r, c, None, plain[c])
            elif KINDS[c] == "number":
                sheet.write_number(r, c, v, plain[c])
            else:
                fmt = quoted[c] if v.startswith(stream.FORMULA_STARTS) else plain[c]
                sheet.write_string(r, c, v, fmt)
    wb.close()
    return buf.getvalue()


def cells(xml: bytes) -> list[tuple]:
    """Per cell as written: reference, type and text (styles are compared resolved, below)."""
    out = []
    for c in ET.fromstring(xml).iter(f"{NS}c"):
        text = "".join(t.text or "" for t in c.iter(f"{NS}t")) or "".join(v.text or "" for v in c.iter(f"{NS}v"))
        out.append((c.get("r"), c.get("t"), text))
    return out


def styles(data: bytes) -> list[tuple]:
    """Per cell its resolved style (style numbers depend on the order formats are first used)."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [(c.coordinate, c.quotePrefix, c.alignment.horizontal, c.border.left.style, c.number_format)
            for row in sheet.iter_rows() for c in row]


def test_streamed_sheet_equals_xlsxwriters_own_part_by_part(tmp_path: Path) -> None:
    ours, heights = streamed(tmp_path)
    theirs = by_xlsxwriter(heights)
    with zipfile.ZipFile(io.BytesIO(ours)) as a, zipfile.ZipFile(io.BytesIO(theirs)) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in a.namelist():
            if name == SHEET:
                assert cells(a.read(name)) == cells(b.read(name))
            elif name != "xl/styles.xml":  # the same formats, numbered in order of first use
                assert a.read(name) == b.read(name), name
    assert styles(ours) == styles(theirs)


def test_streamed_rows_are_tall_enough_and_read_back(tmp_path: Path) -> None:
    data, heights = streamed(tmp_path)
    assert heights[0] == 20 and heights[4] >= 3 * 14.5 and heights[5] > heights[0]
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    got = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2, max_row=1 + len(ROWS))]
    want = [tuple(None if v in (None, "") else v for v in row) for row in ROWS]
    assert [r[0] for r in got] == [r[0] for r in want]
    assert got[1][1] == ROWS[1][1] and sheet["B3"].quotePrefix  # text that looks like a formula stays text
    assert got[2][2] == "a & b < c > d" and got[4][2] == "第一行\n第二行\n第三行"
