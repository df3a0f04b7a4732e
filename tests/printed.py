"""What a printed output looks like on paper: LibreOffice renders it to PDF, pdfplumber measures.

The print rule (docs/printing.md) is checked on the PDF itself: the smallest text on every page,
text running off the page, which pages carry which column headers, page sizes and the lines a
page ends on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.printing import MIN_BODY_PT

#: pdfplumber reports font sizes from the text matrix; allow for rounding
SIZE_SLACK = 0.05
#: how far text may come to the paper's edge (pt): the page margins are wider than this
EDGE_PT = 10.0


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    lines: tuple[str, ...]  # text lines, top to bottom, blank ones dropped
    smallest: float | None  # the smallest font size on the page (pt); None without text
    left: float  # the leftmost and rightmost text (pt from the left edge)
    right: float
    rules: tuple[float, float] | None  # the leftmost and rightmost drawn line (table borders)

    @property
    def landscape(self) -> bool:
        return self.width > self.height

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def has(self, *words: str) -> bool:
        flat = "".join(self.text.split())
        return all("".join(w.split()) in flat for w in words)


def need_tools() -> str:
    """The soffice program, or skip: the print tests need LibreOffice and pdfplumber."""
    pytest.importorskip("pdfplumber")
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice 未安装")
    return soffice


def to_pdf(source: Path, outdir: Path) -> Path:
    """*source* (.xlsx, .docx) printed to PDF by LibreOffice, as an office would print it."""
    soffice = need_tools()
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / "lo-profile"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(outdir), str(source)], check=True, capture_output=True, timeout=240)
    pdf = outdir / f"{source.stem}.pdf"
    assert pdf.is_file(), f"LibreOffice wrote no PDF of {source.name}"
    return pdf


def pages(pdf: Path) -> list[Page]:
    import pdfplumber

    out = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            chars = [c for c in page.chars if c["text"].strip()]
            drawn = [*page.lines, *page.rects]
            lines = tuple(line["text"] for line in page.extract_text_lines() if line["text"].strip())
            out.append(Page(
                width=float(page.width), height=float(page.height), lines=lines,
                smallest=min((float(c["size"]) for c in chars), default=None),
                left=min((float(c["x0"]) for c in chars), default=0.0),
                right=max((float(c["x1"]) for c in chars), default=0.0),
                rules=(min(float(d["x0"]) for d in drawn), max(float(d["x1"]) for d in drawn)) if drawn else None,
            ))
    return out


def assert_legible(printed: list[Page], what: str) -> None:
    """Every page: text at MIN_BODY_PT or more, nothing beyond the paper's edges."""
    assert printed, f"{what}: no pages"
    for n, page in enumerate(printed, start=1):
        if page.smallest is not None:
            assert page.smallest >= MIN_BODY_PT - SIZE_SLACK, f"{what} 第{n}页：最小字号 {page.smallest:.1f} pt"
            assert page.left >= EDGE_PT and page.right <= page.width - EDGE_PT, \
                f"{what} 第{n}页：文字超出纸张（{page.left:.0f}–{page.right:.0f} / {page.width:.0f} pt）"


def smallest(printed: list[Page]) -> float:
    return min(p.smallest for p in printed if p.smallest is not None)


PAGE_NUMBER = re.compile(r"^[—–-]\s*\d+\s*[—–-]$")


def body_lines(page: Page) -> list[str]:
    """A bulletin page's lines without its page number (— 3 —)."""
    return [line for line in page.lines if not PAGE_NUMBER.match(line.strip())]


def assert_gongwen(printed: list[Page], masthead: list[str]) -> None:
    """The bulletin as GB/T 9704 lays it out (docs/printing.md): each masthead line on one line; no
    page ends on a heading or a line ending in "："; the annexes on landscape pages with their
    tables across the text block (225 mm); the 版记 alone at the foot of the last page, an even
    one, without a page number (a blank page before it when the annexes end on an even page)."""
    assert_legible(printed, "通报")
    squash = ["".join(x.split()) for x in printed[0].lines[:len(masthead)]]
    assert squash == ["".join(x.split()) for x in masthead], printed[0].lines[:3]
    last = printed[-1]
    assert len(printed) % 2 == 0, f"通报共 {len(printed)} 页：版记页应为偶数页"
    assert last.has("抄送") and last.has("印发") and not any(PAGE_NUMBER.match(x.strip()) for x in last.lines)
    before = [p for p in printed[:-1] if p.lines]
    assert all(not p.lines for p in printed[len(before):-1]), "版记页前只能是空白页"
    for n, page in enumerate(before, start=1):
        lines = body_lines(page)
        assert lines and not lines[-1].rstrip().endswith(("：", ":")), f"第{n}页以“{lines[-1]}”结尾"
    annex = [p for p in before if p.landscape]
    assert annex and before[-len(annex):] == annex, "附件应在正文之后的横向页上"
    text_block = 225 / 25.4 * 72
    for page in annex:
        if page.rules is not None:
            width = page.rules[1] - page.rules[0]
            assert abs(width - text_block) < 6, f"附件表格宽 {width:.0f} pt，版心宽 {text_block:.0f} pt"
