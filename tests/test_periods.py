from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.config import Reporting
from ledger.periods import PeriodError, parse_period, period_containing, periods_in_month

FRIDAY_16 = Reporting(title="t", due_weekday=5, due_time=time(16, 0))


def test_week_label_and_due():
    p = parse_period("2022-W23", "weekly")
    assert (p.start, p.end) == (date(2022, 6, 6), date(2022, 6, 12))
    assert p.label() == "2022年第23周 6月6日—6月10日"
    assert p.due(FRIDAY_16) == datetime(2022, 6, 10, 16, 0)
    assert p.previous().key == "2022-W22"
    assert p.next().key == "2022-W24"


@pytest.mark.parametrize(
    "text, cycle, start, end, label",
    [
        ("2022-06", "monthly", date(2022, 6, 1), date(2022, 6, 30), "2022年6月"),
        ("2023-Q2", "quarterly", date(2023, 4, 1), date(2023, 6, 30), "2023年第二季度"),
        ("2021-06-14", "daily", date(2021, 6, 14), date(2021, 6, 14), "2021年6月14日"),
        ("2020-W53", "weekly", date(2020, 12, 28), date(2021, 1, 3), "2020年第53周 12月28日—1月1日"),
    ],
)
def test_other_cycles(text, cycle, start, end, label):
    p = parse_period(text, cycle)
    assert (p.start, p.end, p.label()) == (start, end, label)


def test_monthly_due_is_last_configured_weekday():
    p = parse_period("2022-06", "monthly")
    assert p.due(FRIDAY_16) == datetime(2022, 6, 24, 16, 0)


@pytest.mark.parametrize("text, cycle", [("2022-06", "weekly"), ("2022-W60", "weekly"), ("2022-13", "monthly"),
                                         ("第23周", "weekly"), ("2022-02-30", "daily")])
def test_bad_periods_explain(text, cycle):
    with pytest.raises(PeriodError) as err:
        parse_period(text, cycle)
    assert text in str(err.value)


def test_weeks_of_a_month_by_friday():
    assert [p.key for p in periods_in_month(2022, 6, "weekly")] == ["2022-W22", "2022-W23", "2022-W24", "2022-W25"]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
       st.sampled_from(["daily", "weekly", "monthly", "quarterly"]))
def test_containing_round_trip(day, cycle):
    p = period_containing(day, cycle)
    assert p.contains(day)
    assert parse_period(p.key, cycle) == p
    assert p.previous().end < p.start and p.next().start > p.end


def test_due_day_moves_off_public_holidays_when_configured() -> None:
    from datetime import datetime, time

    from ledger.config import Reporting
    from ledger.periods import parse_period

    week22 = parse_period("2022-W22", "weekly")  # Friday 2022-06-03 is 端午节
    keep = Reporting(title="t", due_weekday=5, due_time=time(16, 0))
    assert week22.due(keep) == datetime(2022, 6, 3, 16, 0)
    before = Reporting(title="t", due_weekday=5, due_time=time(16, 0), holidays="before")
    after = Reporting(title="t", due_weekday=5, due_time=time(16, 0), holidays="after")
    assert week22.due(before) == datetime(2022, 6, 2, 16, 0)
    assert week22.due(after) == datetime(2022, 6, 6, 16, 0)
    # National Day 2022: Friday 10-07 is a holiday and Saturday 10-08 a 调休 working day.
    week40 = parse_period("2022-W40", "weekly")
    assert week40.due(before) == datetime(2022, 9, 30, 16, 0)
    assert week40.due(after) == datetime(2022, 10, 8, 16, 0)
    # An ordinary Friday does not move.
    assert parse_period("2022-W23", "weekly").due(before) == datetime(2022, 6, 10, 16, 0)


def test_holiday_rule_is_checked_in_ledger_toml(tmp_path) -> None:
    from pathlib import Path

    import pytest

    from ledger import config
    from ledger.errors import ConfigError

    text = (Path(__file__).parents[1] / "ledger.toml").read_text(encoding="utf-8")
    (tmp_path / "ledger.toml").write_text(text.replace('holidays = "before"', 'holidays = "sometimes"'),
                                          encoding="utf-8")
    with pytest.raises(ConfigError, match=r"programmes\.351\.holidays"):
        config.load(tmp_path)
    (tmp_path / "ledger.toml").write_text(text, encoding="utf-8")
    assert config.load(tmp_path).programme("351").reporting.holidays == "before"
    assert config.load(tmp_path).programme("351").reporting_for("A2").holidays == "before"
