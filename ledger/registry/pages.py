"""Text that was laid out on pages: physical lines, page breaks and page furniture.

A notice that arrives as a PDF reaches the office as ``pdftotext`` output or as text
copied out of a viewer. Each page then repeats its running title at the top and a page
number (``— 3 —``) at the bottom, and a form feed starts every new page. Left in place,
the running title is joined into whatever paragraph the page break cut — a unit list,
a task's text. This module finds that furniture (the same line at the same place on
most pages) and removes it before paragraphs are joined, keeping line numbers as an
editor shows them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

#: A form feed ends no line: ``str.splitlines`` breaks there too, which shifts every
#: line number after a page break against what an editor shows. Word's manual line
#: break (a vertical tab in copied text) and the Unicode line separators do end one.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\v\x85\u2028\u2029]")
FORM_FEED = "\f"
PAGE_NUMBER = re.compile(
    r"^(?:[-—–－~～_\s]*\d{1,3}[-—–－~～_\s]*|第\s*\d+\s*页(?:\s*[，,/]?\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})$"
)
#: How many non-blank lines at the top and bottom of a page may be furniture.
EDGE = 2
#: A running title is short; a longer line is text.
FURNITURE_MAX = 40
_TERMINAL = "。！？!?；;：:"


def physical_lines(text: str) -> list[str]:
    """Lines numbered as an editor numbers them (a trailing newline ends the last line)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def is_page_number(line: str) -> bool:
    return bool(PAGE_NUMBER.match(line.replace(FORM_FEED, "").strip()))


def _key(line: str) -> str:
    """A line as compared across pages: no spaces, page numbers and years alike."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.replace(FORM_FEED, "")))


def _pages(lines: Sequence[str]) -> list[list[int]]:
    """Line indexes per page: form feeds start pages; without them a page number ends one."""
    if any(FORM_FEED in line for line in lines):
        starts = [i for i, line in enumerate(lines) if FORM_FEED in line and line.split(FORM_FEED)[0].strip() == ""]
        ends = starts
    else:
        ends = [i + 1 for i, line in enumerate(lines) if is_page_number(line) and line.strip()]
    bounds = [0, *[e for e in ends if 0 < e < len(lines)], len(lines)]
    return [list(range(a, b)) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _content(lines: Sequence[str], page: list[int]) -> list[int]:
    return [i for i in page if lines[i].replace(FORM_FEED, "").strip() and not is_page_number(lines[i])]


def strip_furniture(lines: Sequence[str], is_text: Callable[[str], bool]) -> list[str | None]:
    """*lines* with running headers/footers and the blank lines of page breaks set to None.

    A line is furniture when the same text (numbers aside) stands at the same place —
    among the first or last :data:`EDGE` lines — on at least two pages and on at least
    half of them, and stands there more often than anywhere else in the body (a unit
    that happens to open two pages also appears mid-page). The first page's top is the
    document's own (its title, 文号): it counts, but it is never removed. *is_text*
    vetoes lines that are certainly body text (a numbered item, a label line). Blank
    lines between one page's last line and the next page's first are no paragraph
    break either, so a label's value continues across them.
    """
    out: list[str | None] = [line.replace(FORM_FEED, "") for line in lines]
    pages = [page for page in _pages(lines) if _content(lines, page)]
    if len(pages) < 2:
        return out
    slots: list[dict[tuple[str, int], int]] = []  # per page: (edge, position) → line index
    for page in pages:
        content = _content(lines, page)
        edge = min(EDGE, len(content) // 2)
        here = {("top", k): content[k] for k in range(edge)}
        here.update({("bottom", k): content[-1 - k] for k in range(edge)})
        slots.append(here)
    at_edge = Counter((slot, _key(lines[i])) for here in slots for slot, i in here.items())
    edge_lines = {i for here in slots for i in here.values()}
    elsewhere = Counter(_key(lines[i]) for page in pages for i in _content(lines, page) if i not in edge_lines)
    needed = max(2, (len(pages) + 1) // 2)
    for n, here in enumerate(slots):
        for slot, i in here.items():
            text = (out[i] or "").strip()
            key = _key(lines[i])
            if (
                (n > 0 or slot[0] == "bottom")
                and at_edge[(slot, key)] >= needed
                and at_edge[(slot, key)] > elsewhere[key]
                and len(text) <= FURNITURE_MAX
                and not text.endswith(tuple(_TERMINAL))
                and not is_text(text)
            ):
                out[i] = None
    for before, after in zip(pages, pages[1:], strict=False):
        _join_break(out, before, after)
    return out


def _join_break(out: list[str | None], before: list[int], after: list[int]) -> None:
    """Blank lines, page numbers and furniture between two pages' text become None."""
    for i in reversed(before):
        line = out[i]
        if line is not None and line.strip() and not is_page_number(line):
            break
        out[i] = None
    for i in after:
        line = out[i]
        if line is not None and line.strip() and not is_page_number(line):
            break
        out[i] = None
