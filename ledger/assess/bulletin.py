"""``bulletin``: the monthly 考核通报 as Word (from templates/bulletin.docx), HTML and PDF.

The Word file is rendered with docxtpl from a template the office may reword in Word
(a ``templates/bulletin.docx`` in the workspace wins over the shipped one). Rendering
is strict: a variable the template uses but the data lacks stops with its name.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from ledger.assess import docx_layout
from ledger.assess.api import Assessment, assess
from ledger.assess.chart import light_chart, number_key
from ledger.assess.content import bulletin_context
from ledger.assess.pdf import docx_to_pdf
from ledger.config import Workspace
from ledger.fsutil import write_bytes_atomic, write_text_atomic
from ledger.run import Run
from ledger.templating import TemplateBroken, TemplateMissing, TemplateVariableError, render, search_path

DOCX_TEMPLATE = "bulletin.docx"
HTML_TEMPLATE = "bulletin.html.j2"
CHART_WIDTH_MM = 142


@dataclass
class BulletinFiles:
    """What ``write_bulletin`` wrote, and what it could not do (warnings in Chinese)."""

    docx: Path
    html: Path
    pdf: Path | None
    chart: Path
    number: int
    assessment: Assessment
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "docx": str(self.docx), "html": str(self.html), "pdf": str(self.pdf) if self.pdf else None,
            "chart": str(self.chart), "number": self.number, "xlsx": str(self.assessment.xlsx),
            "warnings": list(self.warnings),
        }


def write_bulletin(run: Run, *, out_dir: Path | None = None, pdf: bool = True,
                   issued: date | None = None) -> BulletinFiles:
    """Assess the run's month, then write the bulletin (.docx, .html, chart .png and, when
    LibreOffice is there and *pdf* is true, .pdf) to ``out/<programme>/<month>/``.

    The 期号 comes from the store: the same month keeps its number on a re-run.
    *issued* is the date printed on the bulletin (default: today).
    """
    ws, programme = run.ws, run.programme
    assessment = assess(run, out_dir=out_dir)
    month = assessment.month
    number = run.store.next_bulletin_number(programme.id, month.key)
    issued = issued or date.today()
    ctx = bulletin_context(assessment, programme, run.registry, number=number, issued=issued)
    folder = assessment.xlsx.parent if assessment.xlsx else run.out_dir()
    stem = f"{month.label()}份考核通报"
    warnings = list(assessment.notes)

    chart = light_chart(ctx["chart_units"])
    ctx["chart_note"] = "" if chart.font else number_key(ctx["chart_units"])
    if chart.warning:
        warnings.append(chart.warning)
    chart_path = write_bytes_atomic(folder / f"{month.label()}份亮灯情况图.png", chart.png)

    docx_path = write_bytes_atomic(folder / f"{stem}.docx", render_docx(ws, ctx, chart.png, issued))
    html = render(ws, HTML_TEMPLATE, **ctx, chart_src="data:image/png;base64," + base64.b64encode(chart.png).decode())
    html_path = write_text_atomic(folder / f"{stem}.html", html)

    pdf_target, pdf_path = folder / f"{stem}.pdf", None
    if pdf:
        result = docx_to_pdf(docx_path, pdf_target)
        pdf_path = result.path
        if result.message:
            warnings.append(result.message)
    if pdf_path is None and pdf_target.exists():
        pdf_target.unlink()  # an older PDF would disagree with the new Word file
        warnings.append(f"已删除上次生成的 {pdf_target.name}（与本次生成的 Word 文件不一致）。")
    return BulletinFiles(docx_path, html_path, pdf_path, chart_path, number, assessment, warnings)


def template_path(ws: Workspace | None, name: str = DOCX_TEMPLATE) -> Path:
    """The Word template: the workspace's ``templates/`` first, then the shipped one."""
    for folder in search_path(ws):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    where = "、".join(str(p) for p in search_path(ws))
    raise TemplateMissing(f"找不到 Word 模板 {name}（已查找：{where}）。"
                          "可运行 ledger/templates/build_bulletin_template.py 重新生成默认模板。")


def strict_environment() -> jinja2.Environment:
    """jinja2 for docxtpl: a missing variable raises, text is XML-escaped."""
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)


def render_docx(ws: Workspace | None, ctx: dict[str, Any], chart_png: bytes, issued: date,
                *, template: Path | None = None) -> bytes:
    """The bulletin .docx bytes: the template rendered, masthead fitted, signature placed."""
    path = template or template_path(ws)
    try:
        tpl = DocxTemplate(str(path))
        data = {**ctx, "chart": InlineImage(tpl, io.BytesIO(chart_png), width=Mm(CHART_WIDTH_MM))}
        tpl.render(data, strict_environment())
    except jinja2.UndefinedError as exc:
        raise TemplateVariableError(
            f"Word 模板 {path} 用到了未提供的变量（{exc.message}）。请检查模板中的变量名是否写错。"
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateBroken(
            f"Word 模板 {path} 中的模板标记有语法错误：{exc.message}。请在 Word 中改正 {{{{ }}}} 或 {{% %}} 标记后重试。"
        ) from exc
    document = tpl.docx
    docx_layout.sort_cell_properties(document)
    docx_layout.fit_masthead(document)
    docx_layout.align_signature(document)
    docx_layout.drop_empty_copy_to(document)
    docx_layout.keep_lead_ins(document)
    props = document.core_properties
    props.created = props.modified = datetime.combine(issued, datetime.min.time())
    buf = io.BytesIO()
    document.save(buf)
    return docx_layout.normalise_zip(buf.getvalue())
