"""What the pre-check (:mod:`ledger.collect.safety`) holds a file against and reports.

The :class:`Limits` a returned workbook must keep to, the problem types a breach of them
raises, the :class:`Check` that collects those problems for one file (and :class:`Stop`,
raised when checking further is pointless), and the :class:`XlsxFacts` that the pre-check of
an .xlsx hands on to the reader. The zip-level checks (:mod:`ledger.collect.safety`) and the
streaming scans (:mod:`ledger.collect.scan`) both build on this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.problems import Problem, ProblemType

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Limits:
    """What a returned workbook may use before any reader sees it (docs/reliability.md)."""

    max_file_bytes: int = 20 * MiB
    max_parts: int = 1000
    max_part_bytes: int = 100 * MiB
    max_total_bytes: int = 200 * MiB
    bomb_min_bytes: int = 100 * KiB
    bomb_ratio: float = 0.01
    max_rows: int = 100_000
    max_cols: int = 200
    max_cells: int = 2_000_000
    #: rows × columns from A1 to a sheet's farthest cell with content: what a reader holds in
    #: memory for the sheet however few cells have content (calamine keeps the whole rectangle).
    max_area: int = 2_000_000
    max_cell_chars: int = 32_767
    #: workbook.xml, its rels: parsed whole, so kept small.
    max_meta_bytes: int = 4 * MiB
    #: a saved e-mail (.eml, .msg): larger than any mail server lets through
    max_mail_bytes: int = 64 * MiB
    #: multiparts and attached messages inside one another (a reply forwarded a few times: 3–6)
    max_mime_depth: int = 20
    #: parts of one mail, counted before it is parsed (a reply with a few attachments: under 20)
    max_mime_parts: int = 500
    #: attached files of one mail, forwarded messages' included
    max_attachments: int = 100


DEFAULT_LIMITS = Limits()
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384

_FIX = "请用 Excel 或 WPS 打开后另存为 .xlsx，再重新报送"
FILE_EMPTY = ProblemType("file-empty", "error", "文件是空的（0 字节），请重新保存台账后报送")
FILE_TOO_LARGE = ProblemType("file-too-large", "error", "文件大小 {value} 超过上限 {limit}，请删除多余内容后另存为 .xlsx 重新报送")
FILE_ENCRYPTED = ProblemType("file-encrypted", "error", "文件已加密，请取消密码后重新报送")
FILE_NOT_SPREADSHEET = ProblemType("file-not-spreadsheet", "error", "文件实际是{what}，不是 Excel 工作簿（只改了扩展名不行），" + _FIX)
FILE_UNSUPPORTED = ProblemType("file-format-unsupported", "error", "不支持{what}格式，" + _FIX)
FILE_CORRUPT = ProblemType("file-corrupt", "error", "文件已损坏或不完整，请重新保存为 .xlsx 后报送")
ZIP_TOO_MANY_PARTS = ProblemType("zip-too-many-parts", "error", "文件内部含 {value} 个部件，超过上限 {limit} 个，" + _FIX)
ZIP_PART_TOO_LARGE = ProblemType("zip-part-too-large", "error", "文件内部部件 {part} 解压后 {value}，超过上限 {limit}，请删除多余内容后另存为 .xlsx 重新报送")
ZIP_TOO_LARGE = ProblemType("zip-too-large", "error", "文件解压后共 {value}，超过上限 {limit}，请删除多余内容后另存为 .xlsx 重新报送")
ZIP_BOMB = ProblemType("zip-bomb", "error", "文件内部部件 {part} 压缩比异常（解压后 {value}），疑似压缩炸弹，已拒收；" + _FIX)
XML_DTD_FORBIDDEN = ProblemType("xml-dtd-forbidden", "error", "文件内部部件 {part} 含 DTD 或实体声明，可能被篡改，已拒收；" + _FIX)
SHEET_TOO_MANY_ROWS = ProblemType("sheet-too-many-rows", "error", "工作表用到第 {value} 行，超过上限 {limit} 行，请删除多余的行后重新报送")
SHEET_TOO_WIDE = ProblemType("sheet-too-wide", "error", "工作表用到第 {value} 列，超过上限 {limit} 列，请删除多余的列后重新报送")
SHEET_TOO_MANY_CELLS = ProblemType("sheet-too-many-cells", "error", "工作簿的单元格超过 {limit} 个，请删除多余内容后重新报送")
SHEET_TOO_SPREAD = ProblemType(
    "sheet-too-spread", "error",
    "工作表有内容的单元格一直延伸到第 {rows} 行、第 {cols} 列（最远处：{value}），读取时要占用 {area} 个单元格的范围，"
    "超过上限 {limit} 个；多半是远处的单元格有多余内容，请删除这些内容（在 Excel 中按 Ctrl+End 可跳到最远处）后重新报送")
CELL_OUT_OF_RANGE = ProblemType("cell-out-of-range", "error", "单元格位置“{value}”超出 Excel 表格范围或无效，文件可能被篡改，请重新保存为 .xlsx 后报送")
CELL_TOO_LONG = ProblemType("cell-too-long", "error", "单元格文字超过 {limit} 个字符，请精简后重新报送")
SHEET_PART_MISSING = ProblemType("sheet-part-missing", "error", "工作表的数据部件 {value} 缺失，文件不完整，请在 Excel 中重新保存为 .xlsx 后报送")
MACRO_FILE = ProblemType("macro-file", "warning", "文件含宏，宏已忽略；请另存为 .xlsx")



def format_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"



@dataclass
class XlsxFacts:
    """What the pre-check of an .xlsx learnt on its way that the reader needs too, so that the
    reader parses workbook.xml and scans the sheets no second time.

    ``sheets``: sheet name → worksheet part (listed sheets whose part exists); ``defined``:
    workbook-scoped defined names → their text as written; ``merged``: part → merged ranges
    (upper case, as written); ``formula_parts``: parts holding at least one formula;
    ``links``: external-link parts (another file, or a DDE link to a program) → what they name.
    """

    sheets: dict[str, str] = field(default_factory=dict)
    defined: dict[str, str] = field(default_factory=dict)
    merged: dict[str, list[str]] = field(default_factory=dict)
    formula_parts: set[str] = field(default_factory=set)
    links: dict[str, str] = field(default_factory=dict)



class Stop(Exception):
    """A problem makes further checks of this file (or sheet) pointless."""


@dataclass
class Check:
    """Problems found so far in one file, with its display name filled in."""

    file: str
    limits: Limits
    problems: list[Problem] = field(default_factory=list)
    cells: int = 0
    facts: XlsxFacts | None = None

    def add(self, ptype: ProblemType, **kw: Any) -> None:
        self.problems.append(ptype(file=self.file, **kw))

    def stop(self, ptype: ProblemType, **kw: Any) -> None:
        self.add(ptype, **kw)
        raise Stop
