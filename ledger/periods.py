"""Reporting periods: ``2022-W23`` (weekly), ``2022-06`` (monthly), ``2023-Q2``
(quarterly), ``2021-06-14`` (daily), and the due time of each."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ledger.cnum import cn_numeral
from ledger.config import Reporting
from ledger.errors import LedgerError

CYCLE_NAMES = {"daily": "日", "weekly": "周", "monthly": "月", "quarterly": "季度"}
_EXAMPLES = {"daily": "2021-06-14", "weekly": "2022-W23", "monthly": "2022-06", "quarterly": "2023-Q2"}
_PATTERNS = {
    "weekly": re.compile(r"^(\d{4})-?W(\d{1,2})$", re.I),
    "monthly": re.compile(r"^(\d{4})-(\d{1,2})$"),
    "quarterly": re.compile(r"^(\d{4})-?Q([1-4])$", re.I),
    "daily": re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
}
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


class PeriodError(LedgerError):
    """A period string is malformed or does not match the programme's cycle."""


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period; ``start``..``end`` are inclusive calendar days."""

    start: date
    end: date
    cycle: str
    key: str

    @property
    def workdays(self) -> tuple[date, date]:
        """First and last working day (Mon–Fri) shown in titles: 6月6日—6月10日."""
        first, last = self.start, self.end
        while first.weekday() >= 5 and first < last:
            first += timedelta(days=1)
        while last.weekday() >= 5 and last > first:
            last -= timedelta(days=1)
        return first, last

    @property
    def year(self) -> int:
        """The year the period's dates are read in (a date of another year shows its year): that of
        its last working day, so week 52 of 2022 (to Sunday 2023-01-01) is 2022's."""
        return self.workdays[1].year

    def label(self) -> str:
        """Chinese label for titles: 2022年第23周 6月6日—6月10日."""
        if self.cycle == "weekly":
            first, last = self.workdays
            week = self.start.isocalendar().week
            return f"{self.start.isocalendar().year}年第{week}周 {_md(first)}—{_md(last)}"
        if self.cycle == "monthly":
            return f"{self.start.year}年{self.start.month}月"
        if self.cycle == "quarterly":
            return f"{self.start.year}年第{cn_numeral((self.start.month - 1) // 3 + 1)}季度"
        return f"{self.start.year}年{self.start.month}月{self.start.day}日"

    def short_label(self) -> str:
        """Label without the date range: 第23周 / 6月 / 第二季度 / 6月14日."""
        if self.cycle == "weekly":
            return f"第{self.start.isocalendar().week}周"
        if self.cycle == "monthly":
            return f"{self.start.month}月"
        if self.cycle == "quarterly":
            return f"第{cn_numeral((self.start.month - 1) // 3 + 1)}季度"
        return _md(self.start)

    def due(self, reporting: Reporting) -> datetime:
        """When reports for this period are due: :meth:`due_day` at the configured time."""
        return datetime.combine(self.due_day(reporting), reporting.due_time)

    def due_day(self, reporting: Reporting) -> date:
        """The day reports for this period are due, by the rule of *reporting* (docs/due-rules.md).

        Daily: that day. ``weekday``: that weekday of the week, or its last occurrence in a
        month or quarter. ``day``: that day of the month (of a quarter's last month; the
        month's last day when it is shorter). ``last_workday``: the period's last working
        day. ``workdays_after``: the N-th working day after the period ends. A ``weekday`` or
        ``day`` due day that is a public holiday moves as ``holidays`` says; the working-day
        rules fall on working days already.
        """
        rule = reporting.due
        if self.cycle == "daily":
            day = self.start
        elif rule == "last_workday":
            day = self.end
            while not is_workday(day) and day > self.start:
                day -= timedelta(days=1)
            return day
        elif rule == "workdays_after":
            day, counted = self.end, 0
            while counted < reporting.due_workdays_after:
                day += timedelta(days=1)
                counted += is_workday(day)
            return day
        elif rule == "day" and self.cycle in ("monthly", "quarterly"):
            day = self.end.replace(day=min(reporting.due_day, self.end.day))
        elif self.cycle == "weekly":
            day = self.start + timedelta(days=reporting.due_weekday - 1)
        else:
            day = self.end
            while day.isoweekday() != reporting.due_weekday:
                day -= timedelta(days=1)
        return shift_off_holiday(day, reporting.holidays)

    def previous(self) -> Period:
        return period_containing(self.start - timedelta(days=1), self.cycle)

    def next(self) -> Period:
        return period_containing(self.end + timedelta(days=1), self.cycle)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


CHINA = timezone(timedelta(hours=8), "CST")


def to_china_time(moment: datetime) -> datetime:
    """Aware Beijing time, the clock due times in ledger.toml are written in.

    A naive *moment* is taken to be Beijing time already (due times, ``now`` in tests).
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA)


def cn_date(day: date, ref_year: int | None = None) -> str:
    """2022年6月30日 (no zero padding), or 6月30日 when the year is *ref_year*."""
    if ref_year is not None and day.year == ref_year:
        return _md(day)
    return f"{day.year}年{_md(day)}"


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def parse_period(text: str, cycle: str) -> Period:
    """Parse *text* as a period of *cycle*; raise :class:`PeriodError` with a Chinese hint."""
    if cycle not in _PATTERNS:
        raise PeriodError(f"未知的报送周期“{cycle}”。")
    text = text.strip()
    m = _PATTERNS[cycle].match(text)
    expected = f"该项目按{CYCLE_NAMES[cycle]}报送，期次应写作 {_EXAMPLES[cycle]} 这样的格式"
    if not m:
        other = [c for c, p in _PATTERNS.items() if p.match(text)]
        hint = f"（“{text}”是按{CYCLE_NAMES[other[0]]}的写法）" if other else ""
        raise PeriodError(f"期次“{text}”格式不对{hint}：{expected}。")
    nums = [int(g) for g in m.groups()]
    try:
        if cycle == "weekly":
            start = date.fromisocalendar(nums[0], nums[1], 1)
            end = start + timedelta(days=6)
        elif cycle == "monthly":
            start = date(nums[0], nums[1], 1)
            end = date(nums[0], nums[1], calendar.monthrange(nums[0], nums[1])[1])
        elif cycle == "quarterly":
            start = date(nums[0], 3 * nums[1] - 2, 1)
            end_month = 3 * nums[1]
            end = date(nums[0], end_month, calendar.monthrange(nums[0], end_month)[1])
        else:
            start = end = date(nums[0], nums[1], nums[2])
    except ValueError:
        raise PeriodError(f"期次“{text}”不是有效的日期或周次：{expected}。") from None
    return Period(start=start, end=end, cycle=cycle, key=_key(start, cycle))


def parse_month(text: str) -> Period:
    """``2022-06`` (or ``2022-6``) as a monthly period, whatever a programme's cycle (assess and
    the bulletin work by month); a Chinese error otherwise."""
    m = _MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(f"月份“{text}”格式不对，应写作 2022-06 这样的格式（年-月）。")
    return parse_period(f"{m.group(1)}-{int(m.group(2)):02d}", "monthly")


def period_containing(day: date, cycle: str) -> Period:
    """The period of *cycle* that contains *day*."""
    if cycle == "weekly":
        iso = day.isocalendar()
        return parse_period(f"{iso.year}-W{iso.week:02d}", cycle)
    if cycle == "monthly":
        return parse_period(f"{day.year}-{day.month:02d}", cycle)
    if cycle == "quarterly":
        return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}", cycle)
    return parse_period(day.isoformat(), cycle)


def periods_in_month(year: int, month: int, cycle: str) -> list[Period]:
    """Periods whose due day falls in the month (weeks by their Friday)."""
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    out: list[Period] = []
    p = period_containing(first, cycle)
    while p.start <= last:
        anchor = p.start + timedelta(days=4) if cycle == "weekly" else p.end
        if first <= anchor <= last:
            out.append(p)
        p = p.next()
    return out


def _key(start: date, cycle: str) -> str:
    if cycle == "weekly":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if cycle == "monthly":
        return f"{start.year}-{start.month:02d}"
    if cycle == "quarterly":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.isoformat()


def is_workday(day: date) -> bool:
    """A working day by the State Council's calendar (调休 Saturdays included, holidays not);
    Monday to Friday in years the chinese-calendar package does not know yet."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def shift_off_holiday(day: date, rule: str) -> date:
    """Move a due day that falls on a public holiday (or its weekend) to a working day.

    ``before``: the last working day before it; ``after``: the first one after it
    (调休 Saturdays count as working days); ``keep``: unchanged. Years the
    chinese-calendar package does not know yet are left unchanged.
    """
    if rule == "keep":
        return day
    import chinese_calendar

    step = timedelta(days=-1 if rule == "before" else 1)
    moved = day
    try:
        for _ in range(31):
            if chinese_calendar.is_workday(moved):
                return moved
            moved += step
    except NotImplementedError:
        return day
    return day
