"""The summary workbook (汇总表.xlsx): five table sheets and a chart sheet.

xlsxwriter (constant_memory, no formula or URL guessing, fixed document properties)
writes titles, headers, formats, filters, conditional colours, print settings and the
charts; :mod:`ledger.consolidate.stream` then streams the table rows in. Fonts and print
settings follow the 工作台账: 方正小标宋简体 title, 仿宋 body, A4 landscape, one page wide,
header rows repeated, page numbers in the footer.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from ledger import __version__, printing
from ledger.consolidate import stream
from ledger.consolidate.model import GREEN, LIGHT_FILLS, LIGHT_NAMES, RED, YELLOW
from ledger.fsutil import atomic_path

FILE_NAME = "汇总表.xlsx"
OVERVIEW, BY_UNIT, LAGGING, CHANGES, REPORTING, CHARTS = "总表", "按单位", "滞后及逾期", "本期变化", "报送情况", "统计图"
SHEETS = (OVERVIEW, BY_UNIT, LAGGING, CHANGES, REPORTING, CHARTS)
XLSX_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False}
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
HEADER_FILL = "#D9D9D9"
BODY_PT = 11
CHART_COLOURS = {GREEN: "#00B050", YELLOW: "#FFC000", RED: "#FF0000"}
# Pie slice colours by category name; a name not listed keeps Excel's default.
SLICE_COLOURS = {
    "已完成": "#00B050", "正常推进": "#5B9BD5", "常态化推进": "#70AD47", "滞后": "#FFC000", "未启动": "#A5A5A5",
    "逾期未完成": "#FF0000", "无报送数据": "#D9D9D9",
    "按时报送": "#00B050", "逾期报送": "#FFC000", "未报送": "#FF0000", "退回待改": "#7030A0",
}
TITLE_ROW, NOTE_ROW, HEADER_ROW, FIRST_ROW = 0, 1, 2, 3
CHART_UNITS = 40  # the lights-by-unit chart shows at most this many units


@dataclass(frozen=True)
class Col:
    """One column of a table sheet: DataFrame key, header, width, kind, display mapping."""

    key: str
    header: str
    width: float
    kind: str = "text"  # text | center | number | signed
    show: Callable[[Any], Any] | None = None


def _light(v: Any) -> str:
    return LIGHT_NAMES.get(v, "")


def _yes(v: Any) -> str:
    return "是" if v else ""


SEQ = Col("#seq", "序号", 4, "number")
#: the columns repeated in front of each further band of columns when a sheet prints in bands
KEY_COLUMNS = 3
# One verdict per row: the light with its reason (判定, 判定依据); the unit's own status is
# shown as what it said (自报状态), the tool's corrected status only counts in 按单位.
# The columns a meeting reads come first, so that they print on the first pages; the unit's
# texts print on pages of their own behind 序号/任务编号/重点任务; the registry's reference
# columns at the end are on screen only (docs/printing.md).
OVERVIEW_COLS = (
    SEQ, Col("task_id", "任务编号", 9), Col("text", "重点任务", 30), Col("unit", "牵头单位", 10),
    Col("deadline", "完成时限", 10), Col("milestone", "当前节点", 12), Col("percent", "完成进度（%）", 6, "number"),
    Col("schedule", "序时进度（%）", 6, "number"), Col("deviation", "偏差（百分点）", 6, "signed"),
    Col("reported_status", "自报状态", 7, "center"), Col("light", "判定", 5, "center", _light),
    Col("reason", "判定依据", 16),
    Col("progress", "本期进展情况", 22), Col("cumulative", "累计完成情况（形象进度）", 12),
    Col("problems", "存在问题及原因", 12), Col("next_steps", "下步工作计划", 12),
    Col("coordination", "需协调解决事项", 10), Col("report", "报送情况", 10), Col("copied", "照抄上期", 5, "center", _yes),
    Col("other_leads", "其他牵头单位", 10), Col("cooperating", "配合单位", 14), Col("category", "所属类别", 10),
)
#: first column of each band after the first (the printed 总表 on A4)
OVERVIEW_BANDS = (12,)
#: the 总表's columns that print (the rest are the registry's, on screen only)
OVERVIEW_PRINTED = 19
BY_UNIT_COLS = (
    Col("unit", "牵头单位", 18), Col("tasks", "任务数", 6, "number"), Col("completed", "已完成", 6, "number"),
    Col("on_schedule", "正常推进", 6, "number"), Col("lagging", "滞后", 6, "number"),
    Col("not_started", "未启动", 6, "number"), Col("unreported", "未报送", 6, "number"),
    Col("overdue", "逾期", 6, "number"), Col(GREEN, "绿灯", 6, "number"), Col(YELLOW, "黄灯", 6, "number"),
    Col(RED, "红灯", 6, "number"), Col("copied", "照抄上期", 6, "number"), Col("report", "报送情况", 14, "center"),
)
LAGGING_COLS = (
    SEQ, Col("light", "判定", 5, "center", _light), Col("task_id", "任务编号", 9), Col("text", "重点任务", 30),
    Col("unit", "牵头单位", 10), Col("milestone", "当前节点", 12), Col("percent", "完成进度（%）", 6, "number"),
    Col("schedule", "序时进度（%）", 6, "number"), Col("deviation", "偏差（百分点）", 6, "signed"),
    Col("reason", "判定依据", 16), Col("problems", "存在问题及原因", 14), Col("coordination", "需协调解决事项", 12),
)
CHANGES_COLS = (
    SEQ, Col("task_id", "任务编号", 9), Col("text", "重点任务", 24), Col("unit", "牵头单位", 10),
    Col("change", "变化情况", 18), Col("light_before", "上期灯号", 5, "center", _light),
    Col("light_after", "本期灯号", 5, "center", _light), Col("status_before", "上期状态", 7, "center"),
    Col("status_after", "本期状态", 7, "center"), Col("progress", "本期进展情况", 22),
)
REPORTING_COLS = (
    SEQ, Col("unit", "牵头单位", 18), Col("state_name", "报送情况", 9, "center"), Col("due", "截止时间", 15, "center"),
    Col("received_at", "收到时间", 15, "center"), Col("source", "时间依据", 9, "center"),
    Col("file", "文件名", 26), Col("note", "说明", 18),
)


@dataclass(frozen=True)
class SheetText:
    """What the workbook says around the tables."""

    programme_title: str
    period_label: str
    company: str
    created: datetime
    notes: Mapping[str, str]  # sheet name -> the line under its title


class _Formats:
    """The workbook's formats, made once (xlsxwriter formats are per workbook)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        body = {"font_name": BODY_FONT, "font_size": BODY_PT}
        cell = {**body, "text_wrap": True, "valign": "top", "border": 1}
        self.title = wb.add_format({"font_name": TITLE_FONT, "font_size": 18, "align": "center",
                                    "valign": "vcenter", "text_wrap": True})
        self.note = wb.add_format({**body, "valign": "vcenter", "text_wrap": True})
        self.header = wb.add_format({**cell, "bold": True, "align": "center", "valign": "vcenter",
                                     "bg_color": HEADER_FILL})
        specs = {
            "text": cell, "center": {**cell, "align": "center"},
            "number": {**cell, "align": "center"}, "signed": {**cell, "align": "center", "num_format": "+0;-0;0"},
        }
        self.cell = {k: wb.add_format(v) for k, v in specs.items()}
        self.quoted = {k: wb.add_format({**v, "quote_prefix": True}) for k, v in specs.items()}
        self.lights = {k: wb.add_format({"bg_color": f"#{bg}", "font_color": f"#{fg}", "bold": True})
                       for k, (bg, fg) in LIGHT_FILLS.items()}
        self.alert = wb.add_format({"font_color": "#C00000", "bold": True})
        self.warn = wb.add_format({"bg_color": "#FCE4D6", "font_color": "#C65911"})
        self.count = wb.add_format({**body, "align": "center", "border": 1})
        self.share = wb.add_format({**body, "align": "center", "border": 1, "num_format": "0.0%"})
        self.label = wb.add_format({**body, "border": 1})


@dataclass(frozen=True)
class ChartData:
    """What the 统计图 sheet plots: (name, count) pairs and per-unit light counts."""

    status: Sequence[tuple[str, int]]
    report: Sequence[tuple[str, int]]
    units: pd.DataFrame  # unit, green, yellow, red; at most CHART_UNITS rows
    units_total: int


def write_workbook(target: Path, text: SheetText, tables: Mapping[str, pd.DataFrame], charts: ChartData,
                   paper: str = "A4") -> Path:
    """Write 汇总表.xlsx atomically, to print on *paper*; the same inputs give the same bytes."""
    specs = {OVERVIEW: ("overview", OVERVIEW_COLS), BY_UNIT: ("by_unit", BY_UNIT_COLS),
             LAGGING: ("lagging", LAGGING_COLS), CHANGES: ("changes", CHANGES_COLS),
             REPORTING: ("reporting", REPORTING_COLS)}
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, XLSX_OPTIONS)
    wb.set_properties({
        "title": f"{text.programme_title}工作推进情况汇总表（{text.period_label}）", "subject": text.period_label,
        "author": "ledger", "company": text.company, "comments": f"ledger {__version__}", "created": text.created,
    })
    fmt = _Formats(wb)
    bulks = []
    for name, (key, cols) in specs.items():
        frame = tables[key]
        sheet = wb.add_worksheet(name)
        title = (f"{text.programme_title}工作推进情况汇总表（{text.period_label}）" if name == OVERVIEW
                 else f"{name}（{text.period_label}）")
        _table_sheet(sheet, fmt, cols, title, text.notes.get(name, ""), len(frame),
                     frozen_cols=2 if name == OVERVIEW else 0, total_row=name == BY_UNIT,
                     paper=paper, bands=OVERVIEW_BANDS if name == OVERVIEW else (),
                     printed=OVERVIEW_PRINTED if name == OVERVIEW else len(cols))
        bulks.append(stream.BulkRows(
            sheet=name, first_row=FIRST_ROW, count=len(frame), kinds=[_kind(c) for c in cols],
            widths=[c.width for c in cols], rows=_rows(frame, cols),
        ))
    _chart_sheet(wb, wb.add_worksheet(CHARTS), fmt, text, charts, paper)
    wb.get_worksheet_by_name(OVERVIEW).activate()
    wb.close()
    with atomic_path(target) as tmp:
        stream.finish(buf.getvalue(), tmp, bulks)
    return target


def _kind(col: Col) -> str:
    return "number" if col.kind in ("number", "signed") else "text"


def _rows(frame: pd.DataFrame, cols: Sequence[Col]):
    """Display values row by row: per column a list of references to the frame's values
    (texts are not copied), zipped lazily into rows as the stream asks for them."""
    columns: list[Any] = []
    for col in cols:
        if col is SEQ:
            columns.append(range(1, len(frame) + 1))
            continue
        if col.key not in frame:
            columns.append([""] * len(frame))
            continue
        values = frame[col.key].tolist()
        if col.show:
            values = [col.show(v) for v in values]
        elif col.kind in ("number", "signed"):
            values = [None if v is None or v is pd.NA or v != v else int(v) for v in values]
        elif frame[col.key].isna().any():
            values = [None if v is None or v is pd.NA or v != v else v for v in values]
        columns.append(values)
    return zip(*columns, strict=True)


def _table_sheet(sheet, fmt: _Formats, cols: Sequence[Col], title: str, note: str, count: int,
                 frozen_cols: int = 0, total_row: bool = False, paper: str = "A4", bands: Sequence[int] = (),
                 printed: int = 0) -> None:
    """Title, note line, headers, template rows and everything that depends on the row count.

    A *total_row* (the last row, 合计) is left out of the filter so sorting keeps it last.
    The sheet prints at 9 pt or more: one page wide when its columns fit, else in *bands*
    (first columns of the bands after the first) behind the key columns, its title and note
    then in the page header (docs/printing.md). Only the first *printed* columns print.
    """
    last_col = len(cols) - 1
    last_row = FIRST_ROW + max(count, 1) - 1
    for c, col in enumerate(cols):
        sheet.set_column(c, c, col.width)
    sheet.set_row(TITLE_ROW, 36)
    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, "", fmt.title)
    sheet.write_string(TITLE_ROW, 0, title, fmt.title)
    sheet.set_row(NOTE_ROW, 22)
    sheet.merge_range(NOTE_ROW, 0, NOTE_ROW, last_col, "", fmt.note)
    if note:
        sheet.write_string(NOTE_ROW, 0, note, fmt.note)
    sheet.set_row(HEADER_ROW, 32)
    for c, col in enumerate(cols):
        sheet.write_string(HEADER_ROW, c, col.header, fmt.header)
    stream.write_templates(sheet, FIRST_ROW, [fmt.cell[col.kind] for col in cols],
                           [fmt.quoted[col.kind] for col in cols])
    for c, col in enumerate(cols):
        if col.key in ("light", "light_before", "light_after"):
            for light, cf in fmt.lights.items():
                sheet.conditional_format(FIRST_ROW, c, last_row, c, {
                    "type": "cell", "criteria": "==", "value": f'"{LIGHT_NAMES[light]}"', "format": cf})
        elif col.key in (YELLOW, RED, "overdue", "unreported"):
            sheet.conditional_format(FIRST_ROW, c, last_row, c, {
                "type": "cell", "criteria": ">", "value": 0, "format": fmt.lights[RED if col.key != YELLOW else YELLOW]})
        elif col.key in ("report", "state_name"):
            for word, cf in (("未报送", fmt.alert), ("退回", fmt.alert), ("逾期", fmt.warn)):
                sheet.conditional_format(FIRST_ROW, c, last_row, c, {
                    "type": "text", "criteria": "containing", "value": word, "format": cf})
        elif col.key == "copied" and col.show:
            sheet.conditional_format(FIRST_ROW, c, last_row, c, {
                "type": "cell", "criteria": "==", "value": '"是"', "format": fmt.warn})
    sheet.autofilter(HEADER_ROW, 0, max(last_row - int(total_row), FIRST_ROW), last_col)
    sheet.freeze_panes(FIRST_ROW, frozen_cols)
    printed = printed or len(cols)
    plan = printing.plan([c.width for c in cols[:printed]], paper, BODY_PT, bands=bands, repeat=KEY_COLUMNS)
    sheet.center_horizontally()
    if plan.breaks:
        printing.apply(sheet, plan, repeat_rows=(HEADER_ROW, HEADER_ROW), title=title, note=note,
                       first_row=HEADER_ROW, last=(last_row, printed - 1))
    else:
        printing.apply(sheet, plan, repeat_rows=(TITLE_ROW, HEADER_ROW))


CHART_SHEET_WIDTHS = (14, 9, 9, 2, 22, 8, 8, 8)


def _chart_sheet(wb, sheet, fmt: _Formats, text: SheetText, charts: ChartData, paper: str) -> None:
    """Small data tables and, under them, three native charts: status shares, report states,
    lights by unit; each chart whole on a printed page."""
    for c, width in enumerate(CHART_SHEET_WIDTHS):
        sheet.set_column(c, c, width)
    sheet.set_row(TITLE_ROW, 36)
    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, 7, "", fmt.title)
    sheet.write_string(TITLE_ROW, 0, f"统计图（{text.period_label}）", fmt.title)
    sheet.merge_range(NOTE_ROW, 0, NOTE_ROW, 7, "", fmt.note)
    sheet.write_string(NOTE_ROW, 0, text.notes.get(CHARTS, ""), fmt.note)
    status = [(k, v) for k, v in charts.status if v]
    report = [(k, v) for k, v in charts.report if v]
    light_units = charts.units
    n_units = len(light_units)
    second = HEADER_ROW + len(status) + 2
    # The tables are written row by row (constant_memory): both left tables and the unit table share rows.
    left = {HEADER_ROW: ("推进状态", "任务数", "占比"), second: ("报送情况", "单位数", "占比")}
    for i, (k, v) in enumerate(status):
        left[HEADER_ROW + 1 + i] = (k, v, v / max(sum(x for _, x in status), 1))
    for i, (k, v) in enumerate(report):
        left[second + 1 + i] = (k, v, v / max(sum(x for _, x in report), 1))
    last = max(max(left), HEADER_ROW + n_units)
    for r in range(HEADER_ROW, last + 1):
        if r in left:
            a, b, c = left[r]
            header = r in (HEADER_ROW, second)
            sheet.write_string(r, 0, a, fmt.header if header else fmt.label)
            if header:
                sheet.write_string(r, 1, b, fmt.header)
                sheet.write_string(r, 2, c, fmt.header)
            else:
                sheet.write_number(r, 1, b, fmt.count)
                sheet.write_number(r, 2, c, fmt.share)
        if r == HEADER_ROW:
            for c, h in enumerate(("牵头单位", "绿灯", "黄灯", "红灯"), start=4):
                sheet.write_string(r, c, h, fmt.header)
        elif r - HEADER_ROW - 1 < n_units:
            row = light_units.iloc[r - HEADER_ROW - 1]
            sheet.write_string(r, 4, str(row["unit"]), fmt.label)
            for c, key in enumerate((GREEN, YELLOW, RED), start=5):
                sheet.write_number(r, c, int(row[key]), fmt.count)
    _place_charts(wb, sheet, charts, status, report, last)
    printing.apply(sheet, printing.plan(CHART_SHEET_WIDTHS, paper, BODY_PT), repeat_rows=(TITLE_ROW, TITLE_ROW))
    sheet.set_h_pagebreaks(_chart_breaks(last, n_units))


# Chart sizes in pixels, chosen to print at 100 % inside an A4 landscape page (docs/printing.md).
PIE_SIZE = (360, 300)
BAR_WIDTH = 740
PIE_ROWS = 16  # rows (20 px each) the pies take up, a gap included
PAGE_ROWS = 30  # rows of 15 pt that fit below the repeated title on an A4 landscape page


def _bar_height(n_units: int) -> int:
    return max(288, n_units * 20 + 120)


def _place_charts(wb: Any, sheet: Any, charts: ChartData, status: Sequence[tuple[str, int]],
                  report: Sequence[tuple[str, int]], last: int) -> None:
    """The two pies side by side under the tables, the lights-by-unit bar under them."""
    n_units = len(charts.units)
    top = last + 2
    second = HEADER_ROW + len(status) + 2
    sheet.insert_chart(top, 0, _pie(wb, "任务推进状态", HEADER_ROW, status, "percentage"),
                       {"x_scale": PIE_SIZE[0] / 480, "y_scale": PIE_SIZE[1] / 288})
    sheet.insert_chart(top, 0, _pie(wb, "台账报送情况", second, report, "value"),
                       {"x_offset": PIE_SIZE[0] + 20, "x_scale": PIE_SIZE[0] / 480, "y_scale": PIE_SIZE[1] / 288})
    bar = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for c, key in enumerate((GREEN, YELLOW, RED), start=5):
        bar.add_series({
            "name": [CHARTS, HEADER_ROW, c], "categories": [CHARTS, HEADER_ROW + 1, 4, HEADER_ROW + max(n_units, 1), 4],
            "values": [CHARTS, HEADER_ROW + 1, c, HEADER_ROW + max(n_units, 1), c],
            "fill": {"color": CHART_COLOURS[key]}, "gap": 60,
        })
    bar.set_title({"name": charts_title(n_units, charts.units_total), "name_font": {"size": 12, "bold": True}})
    bar.set_y_axis({"reverse": True, "num_font": {"size": 9}, "interval_unit": 1})  # every unit's name
    most = int(charts.units[[GREEN, YELLOW, RED]].sum(axis=1).max()) if n_units else 0  # longest stacked bar
    bar.set_x_axis({"num_format": "0", "major_unit": max(1, -(-most // 10)), "min": 0, "num_font": {"size": 9}})
    bar.set_legend({"position": "bottom", "font": {"size": 10}})
    sheet.insert_chart(top + PIE_ROWS, 0, bar, {"x_scale": BAR_WIDTH / 480, "y_scale": _bar_height(n_units) / 288})


def _chart_breaks(last: int, n_units: int) -> list[int]:
    """Row breaks that keep the pies and the bar chart each whole on a page."""
    top = last + 2
    breaks = []
    start = 0
    if top + PIE_ROWS - start > PAGE_ROWS:
        breaks.append(top)
        start = top
    bar_rows = -(-_bar_height(n_units) * 3 // 4 // 15)  # px → pt → rows
    if top + PIE_ROWS + bar_rows - start > PAGE_ROWS:
        breaks.append(top + PIE_ROWS)
    return breaks


def charts_title(shown: int, total: int) -> str:
    if shown < total:
        return f"各牵头单位红黄绿灯情况（红黄灯最多的{shown}个单位）"
    return "各牵头单位红黄绿灯情况"


def _pie(wb: Any, name: str, header: int, slices: Sequence[tuple[str, Any]], label: str) -> Any:
    """A pie over the rows under *header* on the chart sheet, one colour per category."""
    last = header + max(len(slices), 1)
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({
        "name": name, "categories": [CHARTS, header + 1, 0, last, 0], "values": [CHARTS, header + 1, 1, last, 1],
        # the categories are in the legend: labels with the share only do not overlap
        "data_labels": {label: True, "leader_lines": True, "position": "best_fit", "font": {"size": 9}},
        "points": [{"fill": {"color": SLICE_COLOURS.get(k, "#5B9BD5")}} for k, _ in slices],
    })
    pie.set_title({"name": f"{name}占比" if label == "percentage" else name, "name_font": {"size": 12, "bold": True}})
    pie.set_legend({"position": "right", "font": {"size": 10}})
    return pie
