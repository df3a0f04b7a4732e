"""Read a notice file whatever it really is: text, Word (.docx) or a 任务分解表 workbook.

The file's first bytes decide, not its name: offices rename files, save GBK text, send
old .doc/.xls files and PDFs. Whatever cannot be read becomes an :class:`InputError`
that names the file and says what to do; nothing here writes files.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import docx
import python_calamine as calamine
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from ledger.cnum import cn_numeral
from ledger.errors import InputError
from ledger.problems import Problem
from ledger.registry.notice import (
    TableBlock,
    annex_heading,
    find_doc_number,
    finish,
    parse_blocks,
    parse_date,
    text_lines,
    tidy_title,
)
from ledger.registry.raw import RawNotice, RawTask
from ledger.registry.table_style import TableHeader, cell_text, find_header, header_error, read_table
from ledger.sniff import OLE2_MAGIC, ZIP_MAGICS, ole2_names

WORD_EXTS = (".docx", ".docm", ".dotx")
EXCEL_EXTS = (".xlsx", ".xlsm", ".xls", ".et")
OLD_WORD_EXTS = (".doc", ".wps")
_CALAMINE_ERRORS = (
    calamine.CalamineError, calamine.PasswordError, calamine.XmlError, calamine.ZipError, OSError, ValueError,
)
_DOCX_ERRORS = (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError, etree.LxmlError)


def read_notice(path: Path, *, require_tasks: bool = True) -> RawNotice:
    """Read one notice file into a :class:`RawNotice`; raise :class:`InputError` if it cannot be,
    or (with *require_tasks*) if it holds no task: ``programme add`` reads a notice's header facts
    even when its tasks come in a separate 任务分解表."""
    path = Path(path)
    done = finish if require_tasks else _finish_if_tasks
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"找不到文件 {path}。请检查文件名和路径。") from None
    except OSError as exc:
        raise InputError(f"无法读取 {name}（{exc.strerror}）。请检查文件是否被其他程序占用或没有读取权限。") from None
    if not data.strip():
        raise _empty(name)
    ext = path.suffix.lower()
    if data.startswith(ZIP_MAGICS):
        return done(_read_zip(path, name))
    if data.startswith(OLE2_MAGIC):
        return done(_read_ole(path, name, data))
    _refuse_other_formats(data, name, ext)
    text = decode_text(data, name)
    if not text.strip():
        raise _empty(name)  # only a byte-order mark
    if ext == ".csv":
        return done(_read_csv(text, name))
    return done(parse_blocks(_text_blocks(text, name), name))


def _finish_if_tasks(notice: RawNotice) -> RawNotice:
    return finish(notice) if notice.tasks else notice


def _empty(name: str) -> InputError:
    return InputError(f"{name} 是空文件（文件为空）。请检查是否选错了文件，或重新保存通知后再导入。")


def _read_csv(text: str, name: str) -> RawNotice:
    """A 任务分解表 saved as CSV: one table, the rows above its header as title lines."""
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    header = find_header(rows)
    if header is None:
        raise header_error(name)
    preamble = [c for row in rows[: header.row] for c in row if c]
    return parse_blocks([*preamble, _Table(rows, header, name)], name)


def _refuse_other_formats(data: bytes, name: str, ext: str) -> None:
    """Formats we recognise but cannot read, and office extensions on non-office content."""
    if data.startswith(b"%PDF"):
        raise InputError(
            f"{name} 是 PDF 文件，无法直接读取。请用 WPS/Word 把它转换为 .docx，或复制全文存为 .txt 后再导入。"
        )
    if data.lstrip().startswith(b"{\\rtf"):
        raise InputError(f"{name} 是 RTF 文件，无法直接读取。请用 Word 或 WPS 打开后另存为 .docx 再导入。")
    if ext in WORD_EXTS + OLD_WORD_EXTS:
        raise InputError(
            f"{name} 不是有效的 Word 文档：文件内容不是 Word 格式（可能是改了扩展名的其他文件，或文件已损坏）。"
            "请用 Word 或 WPS 打开后另存为 .docx 再导入。"
        )
    if ext in EXCEL_EXTS:
        raise InputError(
            f"{name} 不是有效的 Excel 文件：文件内容不是 Excel 格式（可能是网页导出的表格或改了扩展名的文件）。"
            "请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"
        )


def decode_text(data: bytes, name: str) -> str:
    """Text as offices save it: UTF-8 (with or without BOM), GBK/GB18030, or UTF-16 ("Unicode")."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data.decode("utf-8-sig")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif b"\x00" in data:
            raise _not_text(name)
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(
            f"{name}：无法识别文件编码（已尝试 UTF-8 和 GBK/GB18030），或者它不是文本文件。"
            "请用记事本或 WPS 打开后另存为 UTF-8 编码的 .txt，或直接导入 .docx。"
        ) from None
    controls = sum(1 for c in text if unicodedata.category(c) in ("Cc", "Co", "Cn") and c not in "\t\n\r\f\v")
    if controls > max(2, len(text) // 100):
        raise _not_text(name)
    return text


def _not_text(name: str) -> InputError:
    return InputError(
        f"{name} 不是文本文件（内容是二进制数据），无法读取。请检查是否选错了文件；"
        "通知请导入 .txt、.md、.docx 或任务分解表 .xlsx。"
    )


def _text_blocks(text: str, name: str) -> list[str | TableBlock | None]:
    """Lines of a text notice; a markdown or tab-separated 任务分解表 inside it becomes a table."""
    lines = text_lines(text)
    blocks: list[str | TableBlock | None] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _table_cells(lines[j]) is not None:
            j += 1
        rows = [cells for cells in map(_table_cells, lines[i:j]) if cells]
        header = find_header(rows) if len(rows) >= 2 else None
        if header is not None:
            blocks.append(_Table(rows, header, name))
            i = j
        else:
            blocks.append(lines[i])
            i += 1
    return blocks


def _table_cells(line: str | None) -> list[str] | None:
    """``| 序号 | 重点任务 |`` or tab-separated cells; [] for a ``|---|`` rule; None for prose."""
    if line is None:
        return None
    stripped = line.strip()
    if stripped.startswith("|") and stripped.count("|") >= 3:
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        return [] if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c) else cells
    if stripped.count("\t") >= 2:
        return [c.strip() for c in stripped.split("\t")]
    return None


class _Table:
    """A task table found in the body, read when the notice reaches it."""

    def __init__(self, rows: Sequence[Sequence[str]], header: TableHeader, source: str) -> None:
        self.rows, self.header, self.source = rows, header, source

    def tasks(self, annex: int | None, headings: list[str]) -> tuple[list[RawTask], list[Problem]]:
        return read_table(self.rows, self.source, self.header, annex=annex, headings=headings)


def _read_zip(path: Path, name: str) -> RawNotice:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise InputError(
            f"{name} 已损坏，无法打开（压缩包结构不完整，可能没有下载或复制完整）。"
            "请重新获取文件，或用 Word/Excel/WPS 打开后另存一份再导入。"
        ) from None
    if "word/document.xml" in parts:
        return _read_docx(path, name)
    if "xl/workbook.xml" in parts:
        return _read_workbook(path, name)
    raise InputError(
        f"{name} 既不是 Word 文档（.docx）也不是 Excel 工作簿（.xlsx）。"
        "请另存为 .docx 或 .xlsx（WPS 的 .wps/.et 同样需要另存）后再导入。"
    )


def _read_ole(path: Path, name: str, data: bytes) -> RawNotice:
    """OLE2 containers by their stream names: old .xls (readable), old .doc and
    password-protected files (not)."""
    try:
        streams = ole2_names(data)
    except ValueError:
        raise InputError(
            f"{name} 已损坏，无法打开（旧格式 Office 文件的结构不完整，可能没有下载或复制完整）。"
            "请重新获取文件，或用 Word/Excel/WPS 打开后另存为 .docx 或 .xlsx 再导入。"
        ) from None
    if {"EncryptionInfo", "EncryptedPackage"} & streams:
        raise InputError(
            f"{name} 设有打开密码（加密文件），无法读取。请在 Word/Excel/WPS 中取消密码，"
            "另存为 .docx 或 .xlsx 后再导入。"
        )
    if "WordDocument" in streams:
        raise InputError(
            f"{name} 是旧版 Word 文档（.doc），无法直接读取。请用 Word 或 WPS 打开后另存为 .docx 再导入。"
        )
    if {"Workbook", "Book"} & streams:
        return _read_workbook(path, name)
    raise InputError(
        f"{name} 是旧格式的 Office 文件，但不是可识别的 Word 或 Excel 文件。请另存为 .docx 或 .xlsx 后再导入。"
    )


# --- Word ---------------------------------------------------------------------------------


def _read_docx(path: Path, name: str) -> RawNotice:
    """Paragraphs in body order, task tables read where they stand."""
    try:
        document = docx.Document(str(path))
        blocks = list(_docx_blocks(document, name))
    except _DOCX_ERRORS:
        raise InputError(
            f"{name} 不是有效的 .docx 文档或已损坏，无法读取。请用 Word 或 WPS 打开后另存为 .docx 再导入。"
        ) from None
    return parse_blocks(blocks, name)


def _docx_blocks(document: docx.document.Document, name: str) -> Iterator[str | TableBlock]:
    numbering = _Numbering(document)
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = numbering.label(block) + block.text
            yield from text.splitlines() or [""]
        elif isinstance(block, Table):
            rows = _docx_rows(block)
            header = find_header(rows)
            if header is not None:
                yield _Table(rows, header, name)
            else:
                for row in rows:  # a layout table (e.g. the 文号 in a box): its text, once per cell
                    for cell in dict.fromkeys(c for c in row if c.strip()):
                        yield from cell.splitlines()
                yield ""


def _docx_rows(table: Table) -> list[list[str]]:
    """Cell texts; python-docx repeats a merged cell's text in every grid cell it covers."""
    try:
        return [[cell.text for cell in row.cells] for row in table.rows]
    except (IndexError, ValueError):
        return []


class _Numbering:
    """Word's automatic list numbers (1. / （一）), which paragraph text does not contain."""

    def __init__(self, document: docx.document.Document) -> None:
        try:
            self.root = document.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            self.root = None
        self.counters: dict[str, list[int]] = {}

    def label(self, paragraph: Paragraph) -> str:
        if self.root is None or not paragraph.text.strip():
            return ""
        num_id, ilvl = self._num_pr(paragraph)
        if num_id is None:
            return ""
        abstract = self.root.xpath(f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
        if not abstract:
            return ""
        levels = self.root.xpath(f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl')
        by_level = {int(lvl.get(qn("w:ilvl"), "0")): lvl for lvl in levels}
        if ilvl not in by_level:
            return ""
        counts = self.counters.setdefault(abstract[0], [0] * 10)
        counts[ilvl] = counts[ilvl] + 1 if counts[ilvl] else _start(by_level[ilvl])
        for deeper in range(ilvl + 1, len(counts)):
            counts[deeper] = 0
        text = _attr(by_level[ilvl], "w:lvlText")
        if _attr(by_level[ilvl], "w:numFmt") in ("bullet", "none") or not text:
            return ""
        for level in range(ilvl + 1):
            lvl = by_level.get(level)
            value = counts[level] or (_start(lvl) if lvl is not None else 1)
            fmt = _attr(lvl, "w:numFmt") if lvl is not None else "decimal"
            text = text.replace(f"%{level + 1}", _format_number(value, fmt))
        return text + ("" if text.endswith((" ", "、")) else " ")

    def _num_pr(self, paragraph: Paragraph) -> tuple[str | None, int]:
        for owner in (paragraph._p, getattr(paragraph.style, "element", None)):
            if owner is None:
                continue
            num_pr = owner.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num_pr is not None:
                num_id = num_pr.find(qn("w:numId"))
                ilvl = num_pr.find(qn("w:ilvl"))
                level = int(ilvl.get(qn("w:val"), "0")) if ilvl is not None else 0
                value = num_id.get(qn("w:val")) if num_id is not None else None
                return (value if value and value != "0" else None), level
        return None, 0


def _attr(lvl: etree._Element | None, tag: str) -> str:
    node = lvl.find(qn(tag)) if lvl is not None else None
    return node.get(qn("w:val"), "") if node is not None else ""


def _start(lvl: etree._Element | None) -> int:
    value = _attr(lvl, "w:start")
    return int(value) if value.isdigit() else 1


def _format_number(n: int, fmt: str) -> str:
    if fmt.startswith(("chinese", "ideograph", "japaneseCounting", "taiwanese")):
        return cn_numeral(n)
    if fmt.startswith("decimalEnclosedCircle") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    return str(n)


# --- Excel --------------------------------------------------------------------------------


def _read_workbook(path: Path, name: str) -> RawNotice:
    """Every visible sheet with a 任务分解表 header; several such sheets are annexes 1..n."""
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        sheets = [
            (meta.name, _sheet_rows(book.get_sheet_by_name(meta.name)))
            for meta in book.sheets_metadata
            if meta.visible == calamine.SheetVisibleEnum.Visible and meta.typ == calamine.SheetTypeEnum.WorkSheet
        ]
    except calamine.PasswordError:
        raise InputError(f"{name} 设有密码，无法读取。请在 Excel/WPS 中取消密码后另存为 .xlsx 再导入。") from None
    except _CALAMINE_ERRORS:
        raise InputError(
            f"{name} 不是有效的 Excel 工作簿或已损坏，无法读取。请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"
        ) from None
    tables = [(sheet, rows, header) for sheet, rows in sheets if (header := find_header(rows)) is not None]
    if not tables:
        raise header_error(name, sheets[0][0] if len(sheets) == 1 else None)
    notice = RawNotice(source=name)
    for ordinal, (sheet, rows, header) in enumerate(tables, start=1):
        preamble = [c for row in rows[: header.row] for c in dict.fromkeys(row) if c.strip()]
        annex = next((a[0] for a in map(annex_heading, preamble) if a), None)
        if annex is None and len(tables) > 1:
            annex = ordinal
        if annex is not None:
            notice.annexes[annex] = _sheet_title(preamble) or sheet
        notice.title = notice.title or _sheet_title(preamble)
        notice.doc_number = notice.doc_number or find_doc_number(preamble)
        notice.issued = notice.issued or next((d for d in map(parse_date, preamble) if d), None)
        tasks, problems = read_table(rows, name, header, annex=annex, sheet=sheet)
        notice.tasks.extend(tasks)
        notice.problems.extend(problems)
    return notice


def _sheet_title(preamble: Sequence[str]) -> str:
    candidates = [t for t in preamble if not annex_heading(t) and not parse_date(t)]
    return tidy_title(max(candidates, key=len)) if candidates else ""


def _sheet_rows(sheet: calamine.CalamineSheet) -> list[list[str]]:
    """Cell texts from A1, each merged range filled with its top-left value."""
    rows = [[cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                rows[r][c] = value
    return rows
