"""generate's fast paths write what xlsxwriter writes: rows put whole (RowsSheet) give the bytes of
one write call per cell, and pack() gives the parts of Workbook.close() (deflated faster)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import xlsxwriter
from conftest import make_workspace, small_registry

from ledger.generate import package
from ledger.generate.fastrows import Rich, RowsSheet
from ledger.generate.package import pack, zip_parts
from ledger.generate.xlsx import XLSX_OPTIONS, build_workbook
from ledger.layout import PreviousReport
from ledger.periods import parse_period
from ledger.registry.model import Milestone, Task

LONG = "长" * 20000  # over half Excel's limit: xlsxwriter checks its UTF-16 length itself


def _rows(fmts: dict[str, Any]) -> list[tuple[int, float | None, list[tuple[int, Any, Any]]]]:
    """Rows as generate puts them: strings (a formula-like one quoted), numbers, formatted
    blanks, rich strings (one starting with plain text, with markup and control characters and
    spaces at the ends of runs; one of two texts in a row, which xlsxwriter runs itself), a very
    long string, an empty row with a height, a hidden row (height 0), cells out of order, formats
    first used out of order."""
    bold, red, plain = fmts["bold"], fmts["red"], fmts["plain"]
    return [
        (4, 43.5, [(0, 1, plain), (1, "351-A1-01", bold), (2, "=SUM(A1)", fmts["quoted"]), (3, None, plain),
                   (5, 2.5, plain), (4, "建设“综合”交通枢纽 & <停车场>\n第二行", plain)]),
        (5, None, [(0, 2, plain), (1, "351-A1-01", bold), (2, Rich((red, "6月10日前 完成立项\n", plain, "开工")), plain),
                   (7, None, None)]),
        (6, 20, []),  # a height, no cells: an empty row
        (7, 18, [(0, 3, None), (1, LONG, plain), (2, " 前后有空格 ", None)]),
        (8, None, [(6, Rich((" 前 & <b>\x01_x0041_", red, "红\x1f ", plain, "尾 ")), fmts["wide"]),
                   (3, Rich(("甲", "乙", red, "丙")), fmts["narrow"])]),
        (9, 0, [(0, "高度为0：隐藏的行", None)]),
        (40, 30, [(19, "第二块的行", bold)]),
    ]


def _book(put: bool) -> bytes:
    """A workbook with a title row through the API and then the rows, put whole or cell by cell;
    then a second sheet the same way, its title in a format of its own and rows in formats of
    both sheets."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, XLSX_OPTIONS)
    wb.set_properties({"created": datetime(2022, 6, 6)})  # not the clock: the two books are compared
    fmts = {"bold": wb.add_format({"bold": True, "border": 1}), "plain": wb.add_format({"text_wrap": True}),
            "red": wb.add_format({"font_color": "#C00000", "bold": True}),
            "quoted": wb.add_format({"quote_prefix": True}), "wide": wb.add_format({"align": "center"}),
            "narrow": wb.add_format({"italic": True}), "guide": wb.add_format({"font_size": 16}),
            "text": wb.add_format({"valign": "top"})}
    sheet = wb.add_worksheet("工作台账", worksheet_class=RowsSheet if put else None)
    sheet.set_row(0, 42)
    sheet.merge_range(0, 0, 0, 5, "标题", fmts["bold"])
    sheet.write_string(3, 0, "序号", fmts["bold"])
    for row, height, cells in _rows(fmts):
        _add(sheet, put, row, height, cells)
        if row == 5:
            sheet.write_comment(5, 2, "本期到期的时间节点", {"author": "ledger", "x_scale": 2.2})
    second = wb.add_worksheet("填报说明", worksheet_class=RowsSheet if put else None)
    second.merge_range(0, 0, 0, 1, "", fmts["guide"])
    second.write_string(0, 0, "填报说明", fmts["guide"])
    _add(second, put, 1, 30, [(1, "说明", fmts["text"]), (0, "项目", fmts["bold"])])
    _add(second, put, 2, None, [(1, "二", fmts["plain"]), (0, None, fmts["narrow"])])
    wb.close()
    return buf.getvalue()


def _add(sheet: Any, put: bool, row: int, height: float | None, cells: list[tuple[int, Any, Any]]) -> None:
    if put:
        sheet.put_row(row, cells, height)
    else:
        _write(sheet, row, height, cells)


def _write(sheet: Any, row: int, height: float | None, cells: list[tuple[int, Any, Any]]) -> None:
    """The same cells, one xlsxwriter write call each (what generate did before)."""
    if height is not None:
        sheet.set_row(row, height)
    for col, value, cell_format in cells:
        if isinstance(value, Rich):
            sheet.write_rich_string(row, col, *value.parts, cell_format)
        elif isinstance(value, str):
            sheet.write_string(row, col, value, cell_format)
        elif value is None:
            sheet.write_blank(row, col, None, cell_format)
        else:
            sheet.write_number(row, col, value, cell_format)


def _parts(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def test_rows_put_whole_give_the_bytes_of_one_write_call_per_cell() -> None:
    put, written = _book(put=True), _book(put=False)
    assert put == written
    sheet = dict(_parts(put))["xl/worksheets/sheet1.xml"].decode()
    assert '<row r="7" spans="1:7" ht="20.25" customHeight="1"/>' in sheet  # the empty row kept its height
    # a put row reaching further right widens the span of the rows above it in its block of 16
    assert '<row r="1" spans="1:7" ht="42" customHeight="1">' in sheet
    assert '<row r="41" spans="20:20" ht="30" customHeight="1">' in sheet  # a block of rows of its own


def test_rows_must_be_put_in_order() -> None:
    wb = xlsxwriter.Workbook(io.BytesIO(), XLSX_OPTIONS)
    sheet = wb.add_worksheet("x", worksheet_class=RowsSheet)
    sheet.put_row(5, [(0, "a", None)])
    try:
        sheet.put_row(5, [(0, "b", None)])
    except ValueError as exc:
        assert "in order" in str(exc)
    else:
        raise AssertionError("a row put twice was taken")
    wb.close()


def _ledger(ws, previous: bool) -> Callable[[], bytes]:
    """generate's workbook of 交通运输局, with milestones due (a note, a rich string), a co-led
    task, an ongoing one, a formula-like text and (optionally) last period's report pre-filled."""
    registry = small_registry()
    registry.tasks[0].milestones = [Milestone(date(2022, 6, 10), "完成立项"), Milestone(date(2022, 9, 30), "开工")]
    registry.tasks.append(Task("351-A1-04", "351", ["一、专项行动"], "=HYPERLINK(\"x\") 街区更新",
                               lead_units=["市交通运输局"], deadline=date(2022, 6, 10)))
    programme = ws.programme("351")
    period = parse_period("2022-W23", programme.reporting.cycle)
    prior = {t.id: PreviousReport("上期做了", "累计", 40, "滞后") for t in registry.tasks} if previous else None
    return lambda: build_workbook(registry, programme, period, "市交通运输局", prior, key=b"k" * 32)


def _closed(wb: xlsxwriter.Workbook) -> bytes:
    """What xlsxwriter's own Workbook.close() writes for the workbook generate packs."""
    wb.close()
    return wb.filename.getvalue()


def test_pack_gives_the_parts_close_writes(tmp_path, monkeypatch) -> None:
    from ledger.generate import xlsx

    ws = make_workspace(tmp_path / "ws", small_registry())
    package._KEPT.clear()
    for previous in (False, True):
        build = _ledger(ws, previous)
        packed = build()
        kept = len(package._KEPT)
        assert packed == build()  # the same bytes every time, the second time with styles and content types kept
        assert len(package._KEPT) == kept >= 2
        with monkeypatch.context() as mp:
            mp.setattr(xlsx, "pack", _closed)
            closed = build()
        assert _parts(packed) == _parts(closed) and packed != closed  # the same parts, another zip
        names = [name for name, _ in _parts(packed)]
        assert "xl/comments1.xml" in names and "xl/drawings/vmlDrawing1.vml" in names


def test_zip_parts_is_a_zip_any_reader_takes() -> None:
    parts = [("[Content_Types].xml", b"<Types/>"), ("xl/sharedStrings.xml", "<sst>工作台账</sst>".encode()),
             ("docProps/空.xml", b"")]
    data = zip_parts(parts)
    assert _parts(data) == parts
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert zf.getinfo("docProps/空.xml").flag_bits & 0x800  # a non-ASCII name says it is UTF-8


def test_pack_writes_tricky_shared_strings_as_close_does() -> None:
    """Control characters, a literal _xHHHH_, non-characters, spaces at either end, markup
    characters, a line break at the end, a rich string: the shared strings pack() writes in
    one pass are those xlsxwriter's writer writes."""
    texts = ["a\x01b\x1fc", "文字_x0041_", "x\ufffey\uffff", " 前", "后 ", "\t制表", "a & <b> \"c\"", "行\n",
             "&amp;", "<r>不是富文本</r>", "普通"]

    def book() -> xlsxwriter.Workbook:
        wb = xlsxwriter.Workbook(io.BytesIO(), XLSX_OPTIONS)
        wb.set_properties({"created": datetime(2022, 6, 6)})  # not the clock: the two books are compared
        sheet = wb.add_worksheet("s")
        red = wb.add_format({"font_color": "#C00000"})
        for r, text in enumerate(texts):
            sheet.write_string(r, 0, text)
        sheet.write_rich_string(len(texts), 0, red, "红", " 与黑 ")
        return wb

    closed = book()
    closed.close()
    assert _parts(pack(book())) == _parts(closed.filename.getvalue())


def test_formats_copied_from_the_process_s_own_give_the_bytes_of_add_format(tmp_path, monkeypatch) -> None:
    from ledger.generate import xlsx

    ws = make_workspace(tmp_path / "ws", small_registry())
    builds = [_ledger(ws, previous) for previous in (False, True)]
    copied = [build() for build in builds]
    assert xlsx._PROTOTYPES

    def fresh(self, name: str, quoted: bool):
        spec = dict(xlsx.FORMAT_SPECS[name], quote_prefix=True) if quoted else xlsx.FORMAT_SPECS[name]
        return self._wb.add_format(spec)

    monkeypatch.setattr(xlsx._Formats, "make", fresh)
    assert [build() for build in builds] == copied


def test_pack_writes_notes_as_close_does() -> None:
    """Notes with markup and control characters, spaces at either end, no author or two authors,
    shown or hidden, another colour, font and size, at the sheet's edges and on two sheets: the
    comments and drawings pack() writes a note at a time are those xlsxwriter's writers write."""

    def book() -> xlsxwriter.Workbook:
        wb = xlsxwriter.Workbook(io.BytesIO(), XLSX_OPTIONS)
        wb.set_properties({"created": datetime(2022, 6, 6)})  # not the clock: the two books are compared
        sheet = wb.add_worksheet("s")
        sheet.set_row(3, 40)
        sheet.write_comment(0, 0, "第一行 & <批注>", {"author": "ledger", "x_scale": 2.2, "y_scale": 1.6})
        sheet.write_comment(3, 2, " 前后空格\x01_x0041_ ", {"visible": True, "color": "#C0FFC0"})
        sheet.write_comment(5, 16383, "最右一列", {"author": "办公室", "font_name": "仿宋", "font_size": 11})
        sheet.write_comment(1048575, 1, "最后一行\n第二行", {"author": "ledger", "width": 300, "height": 20})
        other = wb.add_worksheet("t")
        other.write_comment(2, 2, "另一张表", {"author": "ledger"})
        return wb

    closed = book()
    closed.close()
    packed = dict(_parts(pack(book())))
    assert "xl/comments2.xml" in packed and "xl/drawings/vmlDrawing2.vml" in packed
    assert packed == dict(_parts(closed.filename.getvalue()))
