"""考核得分.xlsx: the ranking, every deduction and bonus line by line, and the rules used.

Written with xlsxwriter in memory: text through ``write_string`` (never a formula), fixed
document properties, so the same month gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import fields
from datetime import datetime
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ledger import __version__
from ledger.assess.score import UnitScore, fmt_points
from ledger.periods import Period
from ledger.rules import ScoringRules

XLSX_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False}
FONT = "仿宋"
TITLE_FONT = "方正小标宋简体"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
RANKING_SHEET, ITEMS_SHEET, RULES_SHEET = "得分排名", "扣分明细", "评分规则"
RANKING_HEADERS = ("名次", "单位", "台账分", "任务分", "加分", "总分", "等次", "位次变化")
ITEM_HEADERS = ("单位", "期次", "任务编号", "规则", "分值", "说明")
RULE_LABELS = {
    "start": "基础分", "floor": "最低分", "late": "逾期报送（每期扣）", "missing": "未报送（每期扣）",
    "rejected": "退回未重报（每期扣）", "no_progress": "无实质进展（每项每期扣）",
    "no_progress_cap": "无实质进展每月最多扣", "yellow": "黄灯（每项每期扣）", "red": "红灯（每项每期扣）",
    "overdue": "逾期未完成（每项每月扣）", "early_bonus": "提前完成节点（每个加）", "bonus_cap": "每月最多加",
    "excellent": "优秀（不低于）", "good": "良好（不低于）",
    "missing_grade_cap": "有未报送或退回未改期次的单位最高等次", "no_report_grade": "全月没有合格台账的单位等次",
    "praise_grade": "通报表扬须达到的等次", "honour_size": "通报表扬最多单位数", "shame_size": "得分最低的批评单位数",
    "criticism": "批评的称谓",
}


def scores_workbook(
    title: str, month: Period, periods: list[Period], scores: list[UnitScore], rules: ScoringRules
) -> bytes:
    """The bytes of 考核得分.xlsx for one programme and month."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, XLSX_OPTIONS)
    wb.set_properties({
        "title": title, "subject": month.key, "author": "ledger", "comments": f"ledger {__version__}",
        "created": datetime.combine(month.start, datetime.min.time()),
    })
    base = {"font_name": FONT, "font_size": 11, "border": 1, "valign": "vcenter", "text_wrap": True}
    fmt = {
        "title": wb.add_format({"font_name": TITLE_FONT, "font_size": 16, "align": "center", "valign": "vcenter"}),
        "note": wb.add_format({"font_name": FONT, "font_size": 10}),
        "header": wb.add_format({**base, "bold": True, "align": "center", "bg_color": "#D9D9D9"}),
        "text": wb.add_format(base),
        "quoted": wb.add_format({**base, "quote_prefix": True}),
        "center": wb.add_format({**base, "align": "center"}),
        "number": wb.add_format({**base, "align": "center", "num_format": "0.##"}),
    }
    ranking = wb.add_worksheet(RANKING_SHEET)
    _ranking(ranking, fmt, title, month, periods, scores)
    _items(wb.add_worksheet(ITEMS_SHEET), fmt, scores)
    _rules(wb.add_worksheet(RULES_SHEET), fmt, rules)
    ranking.activate()
    wb.close()
    return buf.getvalue()


def _text(ws: Worksheet, row: int, col: int, value: str, fmt: dict[str, Any], style: str = "text") -> None:
    style = "quoted" if style == "text" and value.startswith(FORMULA_STARTS) else style
    ws.write_string(row, col, value, fmt[style])


def _header(ws: Worksheet, row: int, headers: tuple[str, ...], fmt: dict[str, Any]) -> None:
    for col, name in enumerate(headers):
        ws.write_string(row, col, name, fmt["header"])
    ws.repeat_rows(row)
    ws.freeze_panes(row + 1, 0)


def _ranking(ws: Worksheet, fmt: dict[str, Any], title: str, month: Period, periods: list[Period],
             scores: list[UnitScore]) -> None:
    ws.merge_range(0, 0, 0, len(RANKING_HEADERS) - 1, f"{title}{month.label()}份考核得分及排名", fmt["title"])
    ws.set_row(0, 30)
    covered = "、".join(p.short_label() for p in periods)
    ws.merge_range(1, 0, 1, len(RANKING_HEADERS) - 1, f"考核期次：{covered}。台账分、任务分为扣分（负数），明细见“{ITEMS_SHEET}”。",
                   fmt["note"])
    _header(ws, 2, RANKING_HEADERS, fmt)
    for r, s in enumerate(scores, start=3):
        ws.write_number(r, 0, s.rank, fmt["center"])
        _text(ws, r, 1, s.unit, fmt)
        for col, value in enumerate((s.report, s.task, s.bonus, s.total), start=2):
            ws.write_number(r, col, value, fmt["number"])
        _text(ws, r, 6, s.grade, fmt, "center")
        _text(ws, r, 7, s.change, fmt, "center")
    for col, width in enumerate((6, 34, 9, 9, 9, 9, 8, 10)):
        ws.set_column(col, col, width)
    _page(ws, landscape=False)


def _items(ws: Worksheet, fmt: dict[str, Any], scores: list[UnitScore]) -> None:
    _header(ws, 0, ITEM_HEADERS, fmt)
    r = 1
    for s in scores:
        for item in s.items:
            _text(ws, r, 0, s.unit, fmt)
            _text(ws, r, 1, item.period_label or item.period, fmt, "center")
            _text(ws, r, 2, item.task_id, fmt)
            _text(ws, r, 3, item.rule_name, fmt, "center")
            ws.write_number(r, 4, item.points, fmt["number"])
            _text(ws, r, 5, item.note, fmt)
            r += 1
        if s.floored:
            _text(ws, r, 0, s.unit, fmt)
            _text(ws, r, 3, "保底", fmt, "center")
            _text(ws, r, 5, f"扣分后低于{fmt_points(s.floor)}分，按{fmt_points(s.floor)}分计", fmt)
            r += 1
    ws.autofilter(0, 0, max(r - 1, 1), len(ITEM_HEADERS) - 1)
    for col, width in enumerate((30, 10, 16, 14, 8, 70)):
        ws.set_column(col, col, width)
    _page(ws, landscape=True)


def _rules(ws: Worksheet, fmt: dict[str, Any], rules: ScoringRules) -> None:
    _header(ws, 0, ("规则", "ledger.toml 配置项", "取值"), fmt)
    for r, f in enumerate(fields(rules), start=1):
        _text(ws, r, 0, RULE_LABELS.get(f.name, f.name), fmt)
        _text(ws, r, 1, f"scoring.{f.name}", fmt)
        value = getattr(rules, f.name)
        if isinstance(value, str):
            _text(ws, r, 2, value, fmt, "center")
        else:
            ws.write_number(r, 2, value, fmt["number"])
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 2, 10)
    _page(ws, landscape=False)


def _page(ws: Worksheet, *, landscape: bool) -> None:
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页 共 &N 页")
