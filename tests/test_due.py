"""Due rules (docs/due-rules.md): every rule of ledger.toml, the due day it gives, and its words."""

from datetime import date, datetime, time
from pathlib import Path

import pytest

from ledger import config
from ledger.config import Reporting
from ledger.due import lateness_text, moment_text, rule_sentence, rule_text
from ledger.errors import ConfigError
from ledger.periods import parse_period


def rep(cycle: str, **kw: object) -> Reporting:
    return Reporting(title="t", cycle=cycle, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("cycle", "period", "rule", "due", "text"), [
    # weekly, as before: the weekday of the ISO week
    ("weekly", "2022-W23", {}, datetime(2022, 6, 10, 16), "每周五16时"),
    # monthly by day of month: 每月25日前
    ("monthly", "2024-03", {"due": "day", "due_day": 25}, datetime(2024, 3, 25, 16), "每月25日16时"),
    # a day the month does not have: its last day
    ("monthly", "2024-02", {"due": "day", "due_day": 31}, datetime(2024, 2, 29, 16),
     "每月31日（当月没有该日的为月末）16时"),
    # the old monthly reading stays what due_weekday alone says: the month's last Friday
    ("monthly", "2024-03", {}, datetime(2024, 3, 29, 16), "每月最后一个周五16时"),
    # the last working day of the month: 2024-03-31 is a Sunday
    ("monthly", "2024-03", {"due": "last_workday"}, datetime(2024, 3, 29, 16), "每月最后一个工作日16时"),
    # 季度末: 2023-09-29 is 中秋 and 9-30 a Saturday, so the quarter's last working day is 9-28
    ("quarterly", "2023-Q3", {"due": "last_workday"}, datetime(2023, 9, 28, 16), "每季度末最后一个工作日16时"),
    # a day of the quarter's last month
    ("quarterly", "2023-Q2", {"due": "day", "due_day": 20}, datetime(2023, 6, 20, 16), "每季度最后一个月20日16时"),
    # N working days after the period: October 2023 starts with the National Day holiday, and
    # 10-07 (Saturday) and 10-08 (Sunday) are 调休 working days
    ("monthly", "2023-09", {"due": "workdays_after", "due_workdays_after": 3}, datetime(2023, 10, 9, 16),
     "每月结束后第3个工作日16时"),
    ("daily", "2021-06-14", {}, datetime(2021, 6, 14, 16), "每日16时"),
])
def test_every_rule_gives_its_due_day_and_says_it(cycle, period, rule, due, text) -> None:
    reporting = rep(cycle, **rule)
    assert parse_period(period, cycle).due(reporting) == due
    assert rule_text(reporting) == text


@pytest.mark.parametrize(("holidays", "due"), [
    ("keep", date(2022, 5, 1)), ("before", date(2022, 4, 29)), ("after", date(2022, 5, 5)),
])
def test_holidays_apply_to_a_day_of_the_month(holidays, due) -> None:
    """每月1日: 2022-05-01 is 劳动节; 4-30 (a Saturday) was no working day, 5-4 was 调休 off."""
    reporting = rep("monthly", due="day", due_day=1, holidays=holidays)
    assert parse_period("2022-05", "monthly").due_day(reporting) == due


def test_the_sentence_names_the_holiday_rule() -> None:
    assert rule_sentence(rep("monthly", due="day", due_day=25, holidays="before")) == \
        "每月25日16时前（遇法定节假日提前到节前最后一个工作日）"
    assert rule_sentence(rep("weekly")) == "每周五16时前"


def test_moments_and_lateness_in_words() -> None:
    due = datetime(2024, 6, 10, 16)
    assert moment_text(due) == "6月10日16时"
    assert moment_text(datetime(2024, 6, 10, 16, 30), 2023) == "2024年6月10日16时30分"
    assert lateness_text(due, datetime(2024, 6, 11, 12)) == "20小时"
    assert lateness_text(due, datetime(2024, 6, 12, 19)) == "2天3小时"
    assert lateness_text(due, datetime(2024, 6, 10, 16, 45)) == "45分钟"
    assert lateness_text(due, due) == ""


MINIMAL = '[programmes.demo]\ntitle = "示例项目"\nissued = 2024-01-05\n'


def load(tmp_path: Path, extra: str) -> config.Workspace:
    (tmp_path / "ledger.toml").write_text(MINIMAL + extra, encoding="utf-8")
    return config.load(tmp_path)


def test_toml_keys_of_every_rule(tmp_path: Path) -> None:
    ws = load(tmp_path, 'cycle = "monthly"\ndue_day = 25\ndue_time = "17:00"\n'
                        '[programmes.demo.annexes.A1]\ntitle = "一"\ndue = "last_workday"\n'
                        '[programmes.demo.annexes.A2]\ntitle = "二"\ndue_workdays_after = 5\n'
                        '[programmes.demo.annexes.A3]\ntitle = "三"\n')
    prog = ws.programme("demo")
    assert (prog.reporting.due, prog.reporting.due_day) == ("day", 25)
    assert prog.reporting_for("A1").due == "last_workday"
    assert (prog.reporting_for("A2").due, prog.reporting_for("A2").due_workdays_after) == ("workdays_after", 5)
    assert (prog.reporting_for("A3").due, prog.reporting_for("A3").due_day) == ("day", 25)  # inherited
    assert parse_period("2024-03", "monthly").due(prog.reporting) == datetime(2024, 3, 25, 17)


@pytest.mark.parametrize(("extra", "named"), [
    ('cycle = "weekly"\ndue_day = 25\n', "programmes.demo.due_day"),
    ('cycle = "monthly"\ndue_day = 32\n', "programmes.demo.due_day"),
    ('cycle = "monthly"\ndue = "day"\n', "programmes.demo.due_day"),
    ('cycle = "monthly"\ndue = "soon"\n', "programmes.demo.due"),
    ('cycle = "monthly"\ndue = "last_workday"\ndue_day = 25\n', "programmes.demo.due"),
    ('cycle = "monthly"\ndue_day = 25\ndue_workdays_after = 3\n', "programmes.demo"),
    ('cycle = "daily"\ndue = "last_workday"\n', "programmes.demo.due"),
])
def test_a_rule_that_cannot_be_meant_is_named(tmp_path: Path, extra: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load(tmp_path, extra)


def test_the_old_keys_still_mean_what_they_meant(tmp_path: Path) -> None:
    ws = load(tmp_path, 'cycle = "weekly"\ndue_weekday = "周四"\ndue_time = "16:30"\n')
    reporting = ws.programme("demo").reporting
    assert (reporting.due, reporting.due_weekday, reporting.due_time) == ("weekday", 4, time(16, 30))
    assert rule_text(reporting) == "每周四16时30分"
