"""完成时限 parsing: the forms of docs/registry-import.md, every deadline in the seeds, grammar properties."""

import calendar
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.problems import CATALOGUE
from ledger.registry.deadlines import (
    DEADLINE_AMBIGUOUS,
    DEADLINE_APPROXIMATE,
    DEADLINE_DEFAULTED,
    DEADLINE_UNPARSED,
    milestones_in_text,
    parse_deadline,
)
from ledger.registry.model import Milestone

NOTICES = Path(__file__).resolve().parents[1] / "source_data" / "notices"
# The shipped sample notices, with their dates.
SEEDS = {
    "351_洛城提办文2022-11号.txt": date(2022, 5, 7),
    "pingtai_洛政2022-17号.txt": date(2022, 4, 13),
    "yanshi_偃政2023-6号.txt": date(2023, 5, 4),
}
ISSUED = date(2022, 5, 7)
D = date


def codes(info):
    return [p.code for p in info.problems]


@pytest.mark.parametrize("text, due", [
    ("2022年12月底前", D(2022, 12, 31)),
    ("2022年12月。", D(2022, 12, 31)),
    ("12月底完成", D(2022, 12, 31)),
    ("6月底前", D(2022, 6, 30)),
    ("2月底前", D(2022, 2, 28)),
    ("6月下旬", D(2022, 6, 30)),
    ("年底前", D(2022, 12, 31)),
    ("全年", D(2022, 12, 31)),
    ("年内", D(2022, 12, 31)),
    ("2023年竣工", D(2023, 12, 31)),
    ("2023年底前", D(2023, 12, 31)),
    ("2022年9月30日前", D(2022, 9, 30)),
    ("9月30日", D(2022, 9, 30)),
    ("9月30号前", D(2022, 9, 30)),
    ("2024年第三季度", D(2024, 9, 30)),
    ("三季度末", D(2022, 9, 30)),
    ("第一季度", D(2022, 3, 31)),
    ("2023年第4季度", D(2023, 12, 31)),
    ("上半年", D(2022, 6, 30)),
    ("2023年下半年", D(2023, 12, 31)),
    ("十二月底前", D(2022, 12, 31)),
    ("二〇二三年三月底前", D(2023, 3, 31)),
    ("2022年十二月三十一日前", D(2022, 12, 31)),
    ("2022—2025年", D(2025, 12, 31)),
    ("2022-2025年", D(2025, 12, 31)),
    ("2022 年 12 月底前", D(2022, 12, 31)),
    ("２０２２年６月底前", D(2022, 6, 30)),
    ("2022年6月份完成方案设计并报国家文物局。", D(2022, 6, 30)),
    ("提请市人大2022年9月完成立法调研", D(2022, 9, 30)),
    ("2022年6月底前编制完成并上报国家文物局。", D(2022, 6, 30)),
])
def test_single_date_forms(text, due):
    info = parse_deadline(text, issued=ISSUED)
    assert (info.due, info.ongoing, info.done, info.milestones, info.problems) == (due, False, False, (), ())
    assert info.text == text.strip()


def test_year_comes_from_the_notice():
    assert parse_deadline("6月底前", issued=D(2023, 2, 1)).due == D(2023, 6, 30)
    # ...until the text names another year
    info = parse_deadline("2023年6月底前完成设计，12月底前开工", issued=ISSUED)
    assert [m.due for m in info.milestones] == [D(2023, 6, 30), D(2023, 12, 31)]


@pytest.mark.parametrize("text, due", [
    ("12月前", D(2022, 11, 30)),
    ("10月前", D(2022, 9, 30)),
    ("1月前", D(2021, 12, 31)),
])
def test_month_before_is_flagged_as_ambiguous(text, due):
    info = parse_deadline(text, issued=ISSUED)
    assert info.due == due
    assert codes(info) == ["deadline-ambiguous"]
    problem = info.problems[0]
    assert problem.severity == "warning" and problem.value == text
    assert f"{due.year}年{due.month}月{due.day}日" in problem.message


@pytest.mark.parametrize("text, due, rule", [
    ("6月中旬", D(2022, 6, 20), "中旬"),
    ("6月中旬前", D(2022, 6, 20), "中旬"),
    ("6月上旬", D(2022, 6, 10), "上旬"),
    ("2023年6月上旬前", D(2023, 6, 10), "上旬"),
    ("6月初", D(2022, 6, 10), "月初"),
    ("6月中", D(2022, 6, 20), "月中"),
])
def test_part_of_a_month_takes_its_last_day_and_is_flagged(text, due, rule):
    info = parse_deadline(text, issued=ISSUED)
    assert info.due == due and not info.ongoing
    assert codes(info) == ["deadline-approximate"]
    problem = info.problems[0]
    assert problem.value == text and rule in problem.message
    assert f"{due.year}年{due.month}月{due.day}日" in problem.message


@pytest.mark.parametrize("text, due", [
    ("2025年二季度末", D(2025, 6, 30)),
    ("2025年一季度末", D(2025, 3, 31)),
    ("三季度末", D(2022, 9, 30)),
    ("2025年四季度末前", D(2025, 12, 31)),
    ("2025年上半年", D(2025, 6, 30)),
    ("下半年", D(2022, 12, 31)),
    ("2025.8.31", D(2025, 8, 31)),
    ("2025/8/31", D(2025, 8, 31)),
    ("2025-8-31", D(2025, 8, 31)),
    ("2025-08-31前", D(2025, 8, 31)),
    ("8.31", D(2022, 8, 31)),
    ("8/31前", D(2022, 8, 31)),
    ("10.15", D(2022, 10, 15)),
])
def test_quarter_half_year_and_numeric_dates(text, due):
    info = parse_deadline(text, issued=ISSUED)
    assert (info.due, info.ongoing, info.problems) == (due, False, ())


def test_short_numeric_date_that_may_have_lost_a_zero_is_flagged():
    info = parse_deadline("8.3", issued=ISSUED)
    assert info.due == D(2022, 8, 3) and codes(info) == ["deadline-approximate"]
    assert "8.30" in info.problems[0].message


@pytest.mark.parametrize("text", ["2025.2.30", "完成3.5万户改造", "13.5", "3.5万户"])
def test_numbers_that_are_no_dates(text):
    assert parse_deadline(text, issued=ISSUED).due is None


@pytest.mark.parametrize("text", ["每月底前", "每季度通报一次", "每周报送", "每月25日前报送进展", "每年12月底前报送总结",
                                  "按月调度", "定期通报"])
def test_recurring_duties_are_ongoing(text):
    info = parse_deadline(text, issued=ISSUED)
    assert (info.due, info.ongoing, info.milestones, info.problems) == (None, True, (), ())


def test_dated_step_then_recurring_duty():
    info = parse_deadline("2022年6月底前完成验收，此后每月通报进展", issued=ISSUED)
    assert info.ongoing and info.due == D(2022, 6, 30)
    assert info.milestones == (Milestone(D(2022, 6, 30), "完成验收"),)


@pytest.mark.parametrize("text", ["长期坚持", "长期保持", "持续开展", "常态化", "常态化推进", "持续推进"])
def test_ongoing_without_date(text):
    info = parse_deadline(text, issued=ISSUED)
    assert (info.due, info.ongoing, info.milestones, info.problems) == (None, True, (), ())


@pytest.mark.parametrize("text, due, label", [
    ("2022年12月底前，并常态化", D(2022, 12, 31), "2022年12月底前"),
    ("2022年6月底前,并常态化", D(2022, 6, 30), "2022年6月底前"),
    ("2022年3月底前完成，长期坚持。", D(2022, 3, 31), "完成"),
    ("2022 年 6 月底前打造亮点，长期保持。", D(2022, 6, 30), "打造亮点"),
    ("2022年6月底前划定重点片区，其他长期坚持。", D(2022, 6, 30), "划定重点片区"),
])
def test_dated_then_ongoing(text, due, label):
    info = parse_deadline(text, issued=ISSUED)
    assert info.ongoing and info.due == due
    assert info.milestones == (Milestone(due, label),)
    assert info.problems == ()


def test_done():
    info = parse_deadline("已完成", issued=ISSUED)
    assert info.done and info.due == ISSUED and info.problems == ()


def test_several_dated_clauses_become_milestones():
    info = parse_deadline("6月底前，完成立项；9月底前，完成招投标；12月底前，开工建设", issued=ISSUED)
    assert info.milestones == (
        Milestone(D(2022, 6, 30), "完成立项"),
        Milestone(D(2022, 9, 30), "完成招投标"),
        Milestone(D(2022, 12, 31), "开工建设"),
    )
    assert info.due == D(2022, 12, 31) and not info.ongoing


def test_milestones_are_sorted_and_carry_their_subject():
    text = ("垃圾实现“日产日清”基本要求；小广告治理 2022 年 3 月底前实现动态清零；乱搭乱建 2022 年 9 月 30 日前完成"
            "拆除工作；揽线治理 3 月底前实现基本规范；常态化开展教育劝导和整治活动。")
    info = parse_deadline(text, issued=ISSUED)
    assert info.milestones == (
        Milestone(D(2022, 3, 31), "小广告治理实现动态清零"),
        Milestone(D(2022, 3, 31), "揽线治理实现基本规范"),
        Milestone(D(2022, 9, 30), "乱搭乱建完成拆除工作"),
    )
    assert info.due == D(2022, 9, 30) and info.ongoing


def test_wrapped_line_fragment_is_ignored():
    text = "2022年4月启动研学营地建设，2022年12月竣工。2022年9月启动露营主题公园建设，2023年竣工。2022年"
    info = parse_deadline(text, issued=ISSUED)
    assert [(m.due, m.text) for m in info.milestones] == [
        (D(2022, 4, 30), "启动研学营地建设"),
        (D(2022, 9, 30), "启动露营主题公园建设"),
        (D(2022, 12, 31), "竣工"),
        (D(2023, 12, 31), "竣工"),
    ]
    assert info.due == D(2023, 12, 31)


def test_milestones_from_task_text():
    task = "加快工程建设。2022年6月底前完成立项，9月底前开工，12月底前主体完工。"
    info = parse_deadline("2022年12月底前", issued=ISSUED, task_text=task)
    assert info.milestones == (
        Milestone(D(2022, 6, 30), "完成立项"),
        Milestone(D(2022, 9, 30), "开工"),
        Milestone(D(2022, 12, 31), "主体完工"),
    )
    assert info.due == D(2022, 12, 31)


def test_task_text_alone_sets_the_deadline_without_default():
    task = "推进保障房建设,6月底前,完成前期手续办理;9月底前,项目全面开工建设。"
    info = parse_deadline("", issued=ISSUED, task_text=task, default=D(2022, 12, 31))
    assert info.due == D(2022, 9, 30) and info.problems == ()
    assert [m.text for m in info.milestones] == ["完成前期手续办理", "项目全面开工建设"]


def test_task_text_targets_are_not_milestones():
    task = ("加快燃气管网建设,10月底前,完成新增供热面积100万平方米;12月底前,开工改造2000年底以前建成的小区,"
            "确保2025年底,全市集中供热普及率达到95%,按照2025年底城市公厕密度标准建设。")
    assert [m.due for m in milestones_in_text(task, year=2022)] == [D(2022, 10, 31), D(2022, 12, 31)]


def test_task_text_later_than_the_field_is_dropped():
    info = parse_deadline("2022年12月底前", issued=ISSUED, task_text="6月底前,完成设计;2023年6月底前,完成验收。")
    assert info.due == D(2022, 12, 31)
    assert [m.due for m in info.milestones] == [D(2022, 6, 30), D(2022, 12, 31)]


def test_ambiguous_month_in_task_text_is_flagged():
    task = "6月底前,完成手续办理。12月前,全市实现竣工交付42个项目。"
    info = parse_deadline("", issued=ISSUED, task_text=task)
    assert info.due == D(2022, 11, 30) and codes(info) == ["deadline-ambiguous"]


def test_empty_uses_programme_default():
    info = parse_deadline("  ", issued=ISSUED, default=D(2022, 12, 31))
    assert info.due == D(2022, 12, 31) and codes(info) == ["deadline-defaulted"]
    assert info.problems[0].severity == "warning"
    assert "默认" in info.problems[0].message and "2022年12月31日" in info.problems[0].message


def test_empty_without_default_is_left_to_the_registry_check():
    info = parse_deadline("", issued=ISSUED)
    assert (info.due, info.ongoing, info.done, info.problems) == (None, False, False, ())


@pytest.mark.parametrize("text", ["抓紧推进", "自2022年3月起", "2月30日前", "统一月度考核", "hello"])
def test_unreadable_text_is_flagged(text):
    info = parse_deadline(text, issued=ISSUED, default=D(2022, 12, 31))
    assert info.due is None and codes(info) == ["deadline-unparsed"]
    assert f"“{text}”" in info.problems[0].message and "请填写" in info.problems[0].message


def test_problem_codes_are_registered():
    for ptype in (DEADLINE_AMBIGUOUS, DEADLINE_APPROXIMATE, DEADLINE_DEFAULTED, DEADLINE_UNPARSED):
        assert CATALOGUE[ptype.code] is ptype and ptype.severity == "warning"


# -- every 完成时限 of the seed notices ------------------------------------------------------------

def seed_deadlines():
    for name, issued in SEEDS.items():
        for n, line in enumerate((NOTICES / name).read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("完成时限"):
                yield pytest.param(re.sub(r"^完成时限\s*[:：]?", "", line), issued, id=f"{name[:7]}:{n}")


SEED_DEADLINES = list(seed_deadlines())


def test_seed_deadline_count():
    # 000 (351) writes 完成时限 per task; 002 and 004 write no 完成时限 lines at all.
    assert len(SEED_DEADLINES) == 66


@pytest.mark.parametrize("text, issued", SEED_DEADLINES)
def test_every_seed_deadline_is_understood(text, issued):
    info = parse_deadline(text, issued=issued)
    assert info.due is not None or info.ongoing or info.done
    assert set(codes(info)) <= {"deadline-ambiguous"}
    if info.milestones:
        assert info.due == info.milestones[-1].due
        assert all(m.text for m in info.milestones)


def numbered_tasks(name):
    text = (NOTICES / name).read_text(encoding="utf-8")
    return re.findall(r"^\d+\s*\.\s*(.+)$", text, flags=re.M)


def test_pingtai_task_text_milestones():
    tasks = numbered_tasks("pingtai_洛政2022-17号.txt")
    assert len(tasks) == 66
    found = [milestones_in_text(t, year=2022) for t in tasks]
    assert all(m.due.year == 2022 for ms in found for m in ms)  # no 2000/2025 targets
    assert sum(1 for ms in found if ms) >= 50
    airport = found[3]  # 4.加快机场综合保障能力提升工程
    assert [m.due for m in airport] == [D(2022, 6, 30), D(2022, 9, 30), D(2022, 11, 30), D(2022, 12, 31)]
    assert airport[1].text.startswith("完成项目立项(代可研)评审")


def test_yanshi_task_text_has_no_false_dates():
    tasks = numbered_tasks("yanshi_偃政2023-6号.txt")
    assert len(tasks) == 98
    assert all(m.due == D(2023, 12, 31) for t in tasks for m in milestones_in_text(t, year=2023))


# -- grammar properties ----------------------------------------------------------------------------

CN_DIGITS = "〇一二三四五六七八九"


def cn(n: int) -> str:
    """12 → 十二, 30 → 三十, 7 → 七."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "")


def month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


@st.composite
def written_dates(draw):
    """(text, issued, expected due, flag code or None) for a random date in a random written form."""
    d = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
    y, m = d.year, d.month
    issued = date(y, draw(st.integers(1, 12)), 1)
    q = (m - 1) // 3 + 1
    forms = [
        (f"{y}年{m}月底前", month_end(y, m), False),
        (f"{y} 年 {m} 月底前", month_end(y, m), False),
        (f"{y}年{m}月。", month_end(y, m), False),
        (f"{m}月底完成", month_end(y, m), False),
        (f"{cn(m)}月底前", month_end(y, m), False),
        (f"{''.join(CN_DIGITS[int(c)] for c in str(y))}年{cn(m)}月", month_end(y, m), False),
        (f"{y}年{m}月{d.day}日前", d, False),
        (f"{m}月{d.day}日", d, False),
        (f"{y}年{cn(m)}月{cn(d.day)}日前", d, False),
        (f"{m}月中旬", date(y, m, 20), "deadline-approximate"),
        (f"{m}月上旬", date(y, m, 10), "deadline-approximate"),
        (f"{y}.{m}.{d.day}", d, False),
        (f"{y}/{m:02d}/{d.day}前", d, False),
        (f"{y}年{m}月下旬", month_end(y, m), False),
        (f"{y}年第{cn(q)}季度", month_end(y, 3 * q), False),
        (f"{cn(q)}季度末", month_end(y, 3 * q), False),
        (f"{y}年底前", date(y, 12, 31), False),
        (f"{y}年{m}月前", date(y, m, 1) - timedelta(days=1), "deadline-ambiguous"),
    ]
    return draw(st.sampled_from(forms)) + (issued,)


@settings(max_examples=300, deadline=None)
@given(written_dates())
def test_written_dates_round_trip(case):
    text, due, flag, issued = case
    info = parse_deadline(text, issued=issued)
    assert info.due == due, text
    assert codes(info) == ([flag] if flag else [])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.dates(date(2022, 1, 1), date(2022, 12, 31)), st.sampled_from(["完成立项", "开工建设", "竣工"])),
                min_size=2, max_size=5))
def test_clauses_become_sorted_milestones(steps):
    text = "；".join(f"{d.month}月{d.day}日前，{verb}" for d, verb in steps)
    info = parse_deadline(text, issued=ISSUED)
    expected = sorted(set((d, verb) for d, verb in steps), key=lambda s: s[0])
    assert sorted((m.due, m.text) for m in info.milestones) == sorted(expected)
    assert [m.due for m in info.milestones] == sorted(m.due for m in info.milestones)
    assert info.due == max(d for d, _ in steps)


GRAMMAR = ["2022", "2023", "年", "月", "日", "号", "底", "前", "末", "中旬", "上旬", "下旬", "季度", "第", "上半年",
           "下半年", "十", "二", "三", "〇", "1", "12", "30", "—", "，", "；", "。", "长期坚持", "常态化", "已完成",
           "完成立项", "确保", "自", "起", " ", "年底", "全年", ".", "/", "-", "每", "每月", "每季度"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(GRAMMAR) | st.text(max_size=4), max_size=25),
       st.lists(st.sampled_from(GRAMMAR) | st.text(max_size=4), max_size=25),
       st.dates(date(1990, 1, 1), date(2100, 12, 31)),
       st.none() | st.dates())
def test_any_text_never_raises_and_due_is_never_before_milestones(field, task, issued, default):
    info = parse_deadline("".join(field), issued=issued, task_text="".join(task), default=default)
    if info.milestones:
        assert info.due is not None and all(m.due <= info.due for m in info.milestones)
        assert info.due == info.milestones[-1].due
    assert all(p.code in {"deadline-ambiguous", "deadline-approximate", "deadline-defaulted", "deadline-unparsed"}
               for p in info.problems)
    for m in milestones_in_text("".join(task), year=issued.year):
        assert isinstance(m.due, date)
