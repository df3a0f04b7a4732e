"""What every text says about when reports are due, from the one rule of ledger.toml.

:meth:`ledger.periods.Period.due` computes a period's due time from a programme's (or an
annex's) :class:`~ledger.config.Reporting`; this module words that rule and those times in
Chinese, so that mails, workbooks, receipts, status and the bulletin say the same thing
(docs/due-rules.md). Texts are given without the final 前: callers write "请于{text}前报送".
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from ledger.cnum import WEEKDAY_NAMES
from ledger.config import Reporting
from ledger.periods import CYCLE_NAMES, cn_date

HOLIDAY_TEXTS = {
    "keep": "",
    "before": "遇法定节假日提前到节前最后一个工作日",
    "after": "遇法定节假日顺延到节后第一个工作日",
}


def hour_text(at: time) -> str:
    """16时 / 16时30分."""
    return f"{at.hour}时" + (f"{at.minute}分" if at.minute else "")


def rule_text(reporting: Reporting) -> str:
    """The rule as a notice words it: 每周五16时 / 每月25日16时 / 每季度末最后一个工作日17时 …"""
    cycle, hour = reporting.cycle, hour_text(reporting.due_time)
    if cycle == "daily":
        return f"每日{hour}"
    every = f"每{CYCLE_NAMES[cycle]}"
    rule = reporting.due
    if rule == "last_workday":
        return f"{every}{'末' if cycle == 'quarterly' else ''}最后一个工作日{hour}"
    if rule == "workdays_after":
        return f"{every}结束后第{reporting.due_workdays_after}个工作日{hour}"
    if rule == "day":
        short = "（当月没有该日的为月末）" if reporting.due_day > 28 else ""
        month = "季度最后一个月" if cycle == "quarterly" else "月"
        return f"每{month}{reporting.due_day}日{short}{hour}"
    weekday = f"周{WEEKDAY_NAMES[reporting.due_weekday - 1]}"
    if cycle == "weekly":
        return f"每{weekday}{hour}"
    return f"{every}最后一个{weekday}{hour}"


def rule_sentence(reporting: Reporting) -> str:
    """The rule with what happens on a holiday: 每周五16时前（遇法定节假日提前到节前最后一个工作日）."""
    holiday = HOLIDAY_TEXTS.get(reporting.holidays, "")
    return f"{rule_text(reporting)}前" + (f"（{holiday}）" if holiday else "")


def moment_text(moment: datetime, ref_year: int | None = None) -> str:
    """6月10日16时 (16时30分), with the year when it is not *ref_year* (always without one)."""
    day = cn_date(moment.date(), ref_year) if ref_year is not None else f"{moment.month}月{moment.day}日"
    return day + hour_text(moment.time())


def day_and_time(moment: datetime, ref_year: int | None = None) -> str:
    """2024年3月25日 17:00, or 3月25日 17:00 when the year is *ref_year*."""
    return f"{cn_date(moment.date(), ref_year)} {moment:%H:%M}"


def due_date_text(when: datetime) -> str:
    """2022年6月10日（星期五）16:00前: the due time as the workbook's 填报说明 gives it."""
    return f"{cn_date(when.date())}（星期{WEEKDAY_NAMES[when.weekday()]}）{when:%H:%M}前"


def lateness_text(due: datetime, received: datetime) -> str:
    """How late *received* is after *due*: 20小时 / 2天3小时 / 45分钟 (empty when on time)."""
    if received <= due:
        return ""
    minutes = int((received - due) / timedelta(minutes=1)) or 1
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if not days and not hours:
        return f"{mins}分钟"
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else ""]
    if not days and mins:
        parts.append(f"{mins}分钟")
    return "".join(parts)
