"""Builders for notices as offices receive them: a workspace, Word files, PDF text.

Everything is written by the tests into ``tmp_path``; nothing binary is committed. The
PDF text is real: a .docx with a running header and ``— n —`` page numbers, rendered
by LibreOffice and extracted by ``pdftotext``, so page breaks fall where a renderer
puts them.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from ledger import config
from ledger.registry.units import Unit, UnitDirectory

REPO = Path(__file__).resolve().parents[1]
#: the sample notices the tests read, by a short name: the shipped ones (source_data/notices)
#: and a speech that names no task (tests/data/notices)
SAMPLE_NOTICES = {
    "351": REPO / "source_data" / "notices" / "351_洛城提办文2022-11号.txt",
    "pingtai": REPO / "source_data" / "notices" / "pingtai_洛政2022-17号.txt",
    "yanshi": REPO / "source_data" / "notices" / "yanshi_偃政2023-6号.txt",
    "luoning": REPO / "source_data" / "notices" / "luoning_宁政办2021-17号.txt",
    "speech": REPO / "tests" / "data" / "notices" / "speech_深化改革全会精神.txt",
}

#: Where a paragraph of a PDF notice is cut by a page break written into the .docx.
BREAK = "\x00PAGE\x00"


def workspace(root: Path, pid: str, scope: str, issued: date, units: Sequence[Unit]) -> config.Workspace:
    """A workspace with one programme of *scope* and a units directory of *units*."""
    (root / "source_data").mkdir(parents=True, exist_ok=True)
    (root / "ledger.toml").write_text(
        f'[workspace]\nsource_data = "source_data"\nout = "out"\nunits = "source_data/units.xlsx"\n\n'
        f'[programmes.{pid}]\ntitle = "测试项目"\nissued = {issued.isoformat()}\nscope = "{scope}"\n'
        'cycle = "monthly"\n',
        encoding="utf-8",
    )
    UnitDirectory(units).save(root / "source_data" / "units.xlsx")
    return config.load(root)


def word_notice(path: Path, paragraphs: Sequence[str], header: str = "", page_numbers: bool = False) -> Path:
    """A .docx of *paragraphs*; ``\\n`` in a paragraph is a soft line break (``<w:br/>``),
    :data:`BREAK` a page break inside the paragraph. *header* repeats on every page and
    *page_numbers* puts ``— n —`` in the footer, as 公文 print them."""
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(16)
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
        section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if page_numbers:
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.add_run("— ")
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run, text = OxmlElement("w:r"), OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        footer._p.append(field)
        footer.add_run(" —")
    for text in paragraphs:
        paragraph = document.add_paragraph()
        for n, piece in enumerate(text.split(BREAK)):
            if n:
                paragraph.add_run().add_break(WD_BREAK.PAGE)
            for m, line in enumerate(piece.split("\n")):
                if m:
                    paragraph.add_run().add_break()
                paragraph.add_run(line)
    document.save(path)
    return path


def pdf_text(source: Path, layout: bool, profile: Path) -> str:
    """*source* rendered to PDF by LibreOffice, then extracted by ``pdftotext``."""
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice (soffice) or pdftotext not installed")
    outdir = source.parent / "pdf"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=180,
    )
    pdf = outdir / f"{source.stem}.pdf"
    target = outdir / f"{source.stem}{'-layout' if layout else ''}.txt"
    subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(pdf), str(target)],
                   check=True, capture_output=True, timeout=60)
    return target.read_text(encoding="utf-8")
