"""Whether a cell of the ledger sheet shows its number as a percentage.

A unit that types "100%" into 完成进度 in Excel or WPS stores the number 1 under a
percent format; calamine gives values, not formats, so a 1 alone cannot tell 100 % from
1 %. The answer is looked up only for the cells that need it (a 1 in the percent column:
rare), from the cell's style in an .xlsx and from its value type in an .ods.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from dataclasses import dataclass

from defusedxml import ElementTree as SafeET

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: built-in number formats 9 ("0%") and 10 ("0.00%")
BUILTIN_PERCENT = frozenset({9, 10})
#: styles.xml is parsed whole: beyond this it is not looked at (the answer is "cannot tell")
MAX_STYLES_BYTES = 4 * 1024 * 1024
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # literal text, escaped characters, [colour]/[conditions]
_S_ATTR = re.compile(rb"""\ss\s*=\s*["'](\d+)["']""")


def is_percent_code(code: str) -> bool:
    """A format code that multiplies by 100 and shows %: a % outside quotes and escapes."""
    return "%" in _QUOTED.sub("", code)


@dataclass
class PercentCells:
    """Answers "is this ledger-sheet cell shown as a percentage?"; ``None`` when it cannot tell.

    For an .xlsx it keeps the file and the ledger sheet's part and looks only when asked;
    for an .ods the reader hands over the cells whose value type is ``percentage``.
    """

    xlsx: bytes = b""
    part: str = ""
    ods_cells: frozenset[str] | None = None

    def __call__(self, ref: str) -> bool | None:
        if self.ods_cells is not None:
            return ref in self.ods_cells
        if not self.xlsx or not self.part:
            return None
        try:
            style = self._style_of(ref)
            percent = self._percent_styles
        except (zipfile.BadZipFile, KeyError, ValueError, SafeET.ParseError, OSError):
            return None
        return None if percent is None else style in percent

    @functools.cached_property
    def _sheet(self) -> bytes:
        with zipfile.ZipFile(io.BytesIO(self.xlsx)) as zf:
            return zf.read(self.part)

    def _style_of(self, ref: str) -> int:
        """The cell's style index (0 when it names none or is absent)."""
        sheet = self._sheet
        tag = re.search(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*[\"']" + re.escape(ref.encode("ascii"))
                        + rb"[\"'][^>]*>", sheet)
        if tag is None:
            return 0
        style = _S_ATTR.search(tag.group())
        return int(style.group(1)) if style else 0

    @functools.cached_property
    def _percent_styles(self) -> frozenset[int] | None:
        """Indexes into cellXfs whose number format shows a percentage."""
        with zipfile.ZipFile(io.BytesIO(self.xlsx)) as zf:
            info = zf.NameToInfo.get("xl/styles.xml")
            if info is None:
                return frozenset()
            if info.file_size > MAX_STYLES_BYTES:
                return None
            root = SafeET.fromstring(zf.read(info))
        custom = {int(el.get("numFmtId") or -1): el.get("formatCode") or ""
                  for el in root.iter(f"{MAIN_NS}numFmt")}
        percent_ids = BUILTIN_PERCENT | {i for i, code in custom.items() if is_percent_code(code)}
        xfs = root.find(f"{MAIN_NS}cellXfs")
        if xfs is None:
            return frozenset()
        return frozenset(i for i, xf in enumerate(xfs.iter(f"{MAIN_NS}xf"))
                         if int(xf.get("numFmtId") or 0) in percent_ids)
