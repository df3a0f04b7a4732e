"""An xlsxwriter workbook packed into .xlsx bytes quickly: generate writes a thousand a period.

``Workbook.close()`` deflates every part at zlib's default level through :mod:`zipfile`,
which on a 工作台账 costs more than writing its cells. :func:`pack` does what ``close()``
does for a workbook held in memory — the same preparation, the same parts from xlsxwriter's
own packager, in the same order, with the same fixed timestamp — then deflates the parts at
level 1 (about a fifth larger; any zip reader reads them alike) and writes the zip itself
(:func:`zip_parts`: the same bytes on every system, no per-part overhead of :mod:`zipfile`).
Parts that come out the same for every workbook (styles, theme, properties) are deflated
once, and the shared strings are written in one pass (:class:`_Packager`).
``tests/test_fastrows.py`` compares every part with what ``close()`` writes.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager

from ledger.generate.notes import NotesComments, NotesVml
from ledger.generate.xmltext import escape_controls, escape_markup

#: zlib level of the parts: fast; level 6 (xlsxwriter's) gains a fifth in size at ten times the time
LEVEL = 1
#: Excel's epoch, the timestamp xlsxwriter gives every part written in memory: 1980-01-01 00:00
DOS_TIME, DOS_DATE = 0, (1 << 5) | 1
#: deflated parts kept for reuse, by their bytes (a period's workbooks share a dozen)
DEFLATED_KEPT = 64
_DEFLATED: OrderedDict[bytes, tuple[int, bytes]] = OrderedDict()


def pack(wb: xlsxwriter.Workbook) -> bytes:
    """The .xlsx bytes of *wb* (made with ``{"in_memory": True}``, no VBA project); *wb* is
    closed afterwards, as by ``wb.close()``."""
    if not wb.in_memory or wb.vba_project:
        raise ValueError("pack() takes an in-memory workbook without a VBA project")
    parts = [(name, handle.getvalue() if is_binary else handle.getvalue().encode("utf-8"))
             for handle, name, is_binary in _parts(wb)]
    wb.fileclosed = True
    # Each sheet holds the workbook's bound add_format: the one reference cycle of a workbook.
    # Broken, the workbook is freed when its last reference goes instead of by the cyclic
    # collector, which otherwise spends a fifth of generate's time tracing dead workbooks.
    for sheet in wb.worksheets_objs:
        sheet.workbook_add_format = None
    return zip_parts(parts)


def zip_parts(parts: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip archive of *parts* (name, bytes), in order, each deflated, all dated 1980-01-01."""
    out = bytearray()
    central = bytearray()
    count = 0
    for name, data in parts:
        crc, deflated = _deflate(data)
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else 0x800
        fields = (20, flags, 8, DOS_TIME, DOS_DATE, crc, len(deflated), len(data), len(encoded), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, len(out)) + encoded
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + encoded
        out += deflated
        count += 1
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def _deflate(data: bytes) -> tuple[int, bytes]:
    """CRC-32 and raw deflate of *data*, reused when the same bytes were deflated lately."""
    found = _DEFLATED.get(data)
    if found is not None:
        _DEFLATED.move_to_end(data)
        return found
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    found = zlib.crc32(data), compressor.compress(data) + compressor.flush()
    if len(data) <= 16384:  # properties, styles, theme: the parts that repeat
        _DEFLATED[data] = found
        if len(_DEFLATED) > DEFLATED_KEPT:
            _DEFLATED.popitem(last=False)
    return found


def _parts(wb: xlsxwriter.Workbook) -> list[tuple[io.StringIO | io.BytesIO, str, bool]]:
    """The parts ``Workbook._store_workbook`` zips, made the way it makes them."""
    packager = _Packager()
    if not wb.worksheets():
        wb.add_worksheet()
    if wb.worksheet_meta.activesheet == 0:
        wb.worksheets_objs[0].selected = 1
        wb.worksheets_objs[0].hidden = 0
    for sheet in wb.worksheets():
        if sheet.index == wb.worksheet_meta.activesheet:
            sheet.active = 1
    wb._prepare_sst_string_data()
    wb._prepare_vml()
    wb._prepare_defined_names()
    wb._prepare_drawings()
    wb._add_chart_data()
    wb._prepare_tables()
    wb._prepare_metadata()
    packager._add_workbook(wb)
    packager._set_tmpdir(wb.tmpdir)
    packager._set_in_memory(True)
    return packager._create_package()


#: parts kept for reuse (styles, content types), by name and what they are made of (:meth:`_Packager._reuse`)
PARTS_KEPT = 32
_KEPT: OrderedDict[tuple[str, tuple[Any, ...]], str] = OrderedDict()


def _style_key(xf_format: Format) -> tuple[Any, ...]:
    """Everything of a cell format that xlsxwriter's styles writer reads."""
    return (xf_format._get_format_key(), xf_format.font_extend, xf_format.font_condense, xf_format.font_scheme,
            xf_format.hyperlink, xf_format.xf_id, xf_format.color_indexed, xf_format.num_format_index,
            xf_format.font_index, xf_format.has_font, xf_format.fill_index, xf_format.has_fill,
            xf_format.border_index, xf_format.has_border, xf_format.dxf_index)


class _Packager(Packager):
    """xlsxwriter's packager (``Workbook._get_packager`` is there to be replaced), with the
    shared strings written in one pass instead of an element writer call and three regular
    expressions a string, the notes a string each and the styles reused: the same bytes
    (``tests/test_fastrows.py``)."""

    def _write_styles_file(self) -> None:
        """The styles part, written by xlsxwriter once for each set of formats and reused: a
        period's workbooks mostly use the same formats in the same order."""
        wb = self.workbook
        if wb.dxf_formats or wb.custom_colors:
            super()._write_styles_file()
            return
        key = (wb.font_count, wb.border_count, wb.fill_count, wb.has_comments, tuple(wb.num_formats),
               repr(wb.palette), *map(_style_key, wb.xf_formats))
        self._reuse("xl/styles.xml", key, super()._write_styles_file)

    def _write_content_types_file(self) -> None:
        """The content types, written by xlsxwriter once for each set of parts and reused, for a
        workbook of worksheets, shared strings and notes only (what generate writes)."""
        wb = self.workbook
        sheets = wb.worksheets()
        if (wb.image_types or self.chart_count or self.drawing_count or wb.vba_project or wb.custom_properties
                or wb.has_metadata or wb._has_feature_property_bags() or wb.embedded_images.has_images()
                or any(sheet.is_chartsheet or sheet.tables for sheet in sheets)):
            super()._write_content_types_file()
            return
        key = (len(sheets), self.num_vml_files, self.num_comment_files, bool(wb.str_table.count))
        self._reuse("[Content_Types].xml", key, super()._write_content_types_file)

    def _reuse(self, name: str, key: tuple[Any, ...], write: Callable[[], None]) -> None:
        """Part *name* as kept for *key*, else as *write* writes it (and kept for the next time)."""
        found = _KEPT.get((name, key))
        if found is None:
            write()
            handle, written, _ = self.filenames[-1]
            if written != name:
                raise AssertionError(f"{written} written instead of {name}")
            _KEPT[name, key] = handle.getvalue()
            if len(_KEPT) > PARTS_KEPT:
                _KEPT.popitem(last=False)
        else:
            _KEPT.move_to_end((name, key))
            self._filename(name).write(found)

    def _write_vml_files(self) -> None:
        """The notes' drawings, each note's shape in one string (:class:`NotesVml`)."""
        sheets = self.workbook.worksheets()
        if any(sheet.has_header_vml for sheet in sheets):
            super()._write_vml_files()  # header images: xlsxwriter numbers their drawings among the notes'
            return
        index = 1
        for sheet in sheets:
            if sheet.has_vml:
                vml = NotesVml()
                vml._set_xml_writer(self._filename(f"xl/drawings/vmlDrawing{index}.vml"))
                vml._assemble_xml_file(sheet.vml_data_id, sheet.vml_shape_id, sheet.comments_list, sheet.buttons_list)
                index += 1

    def _write_comment_files(self) -> None:
        """The notes, each in one string (:class:`NotesComments`)."""
        index = 1
        for sheet in self.workbook.worksheets():
            if sheet.has_comments:
                notes = NotesComments()
                notes._set_xml_writer(self._filename(f"xl/comments{index}.xml"))
                notes._assemble_xml_file(sheet.comments_list)
                index += 1

    def _write_shared_strings_file(self) -> None:
        table = self.workbook.str_table
        if not table.count:
            return
        out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               f'count="{table.count}" uniqueCount="{table.unique_count}">']
        out += map(_shared_string, table.string_array)
        out.append("</sst>")
        self._filename("xl/sharedStrings.xml").write("".join(out))


@functools.lru_cache(maxsize=8192)
def _shared_string(text: str) -> str:
    """One ``<si>`` as xlsxwriter's SharedStrings writes it: control characters as ``_xHHHH_``
    (and a literal ``_xHHHH_`` escaped), rich strings as they are, whitespace preserved at
    either end, ``& < >`` escaped. Remembered: a period's workbooks share many strings."""
    text = escape_controls(text)
    if text.startswith("<r>") and text.endswith("</r>"):
        return f"<si>{text}</si>"
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<si><t{space}>{escape_markup(text)}</t></si>"
