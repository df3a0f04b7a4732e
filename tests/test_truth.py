"""Lights, scores, praise and the bulletin tell what the units really did (docs/rules.md).

A month built by hand through real workbooks, e-mails and the store — June 2022, weeks 22
to 25 of programme 351, a workbook per lead unit per week:

* 市交通运输局 reports on time, on schedule; it co-leads one task with 市住房和城乡建设局;
* 市商务局 never replies;
* 市城市管理局 reports in weeks 22–23, is sent back in weeks 24–25 and never fixes it;
* 市发展和改革委员会 reports every week a day late, on schedule;
* 市文明办 reports on time, its ongoing task with 常态化推进 and 完成进度 left as "/";
* 市教育局 reports on time; in week 25 it reports 滞后 though only 5 points behind 序时.

Every light and reason of week 25, every 按单位 count, every grade and rank, the praise and
criticism lists are asserted, and the bulletin's figures must equal the 汇总表's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import returned as rt
from conftest import make_workspace, reply_mail

from ledger import layout
from ledger.assess import assess
from ledger.assess.content import bulletin_context
from ledger.collect.api import collect
from ledger.config import Workspace
from ledger.consolidate.api import Summary, consolidate
from ledger.consolidate.model import GREEN, RED, YELLOW
from ledger.generate import generate
from ledger.periods import CHINA, Period, periods_in_month
from ledger.registry.model import ProgrammeInfo, Registry, Task
from ledger.reporting import due_for
from ledger.run import Run
from ledger.schedule import schedule_percent, steps

JT, ZJ, SW, CG, FG, WM, JY = ("市交通运输局", "市住房和城乡建设局", "市商务局", "市城市管理局", "市发展和改革委员会",
                              "市文明办", "市教育局")
ISSUED = date(2022, 5, 7)
END = date(2022, 12, 31)
WEEKS = ("2022-W22", "2022-W23", "2022-W24", "2022-W25")


def registry() -> Registry:
    def task(tid: str, text: str, leads: list[str], **kw: object) -> Task:
        return Task(tid, "351", ["一、交通枢纽建设工程"], text, lead_units=leads, lead_units_raw=leads, **kw)

    return Registry(ProgrammeInfo("351", "测试项目", issued=ISSUED), [
        task("351-A1-01", "综合交通枢纽建设", [JT], deadline=END),
        task("351-A1-02", "城市更新片区改造", [JT, ZJ], deadline=END),
        task("351-A1-03", "商贸流通体系建设", [SW], deadline=END),
        task("351-A1-04", "背街小巷整治", [CG], deadline=END),
        task("351-A1-05", "重大项目谋划", [FG], deadline=END),
        task("351-A1-06", "文明城市常态化创建", [WM], deadline_text="长期坚持", ongoing=True),
        task("351-A1-07", "校园周边环境整治", [JY], deadline=END),
    ])


def on_schedule(task: Task, period: Period) -> int:
    return schedule_percent(steps(task), ISSUED, period.end) or 0


def reply(ws: Workspace, reg: Registry, unit: str, period: Period, week: int, inbox: Path) -> None:
    """The unit's workbook for *period*, filled as it would, e-mailed at the time it would."""
    due = due_for(ws.programme("351"), reg, unit, period)
    values: dict[str, dict[str, object]] = {}
    for task in reg.tasks_led_by(unit):
        row: dict[str, object] = {"progress": f"{unit}第{week}周推进{task.text}", "cumulative": "按计划推进",
                                  "percent": on_schedule(task, period), "status": layout.ON_SCHEDULE}
        if task.ongoing:
            row.update(percent="/", status=layout.ONGOING)
        if unit == JY and period.key == "2022-W25":
            row.update(percent=on_schedule(task, period) - 5, status=layout.LAGGING)
        if unit == CG and period.key in ("2022-W24", "2022-W25"):
            row.update(status="差不多完成")  # not a status: sent back, and never fixed
        values[task.id] = row
    book = inbox / "files" / f"{period.key}_{unit}_工作台账.xlsx"
    book.parent.mkdir(parents=True, exist_ok=True)
    with Run.open(ws, "351", period, registry=reg) as run:
        [made] = generate(run, units=[unit])  # records what the unit was sent
    book.write_bytes(made.path.read_bytes())
    rt.fill(book, values)
    sent = due + (timedelta(hours=20) if unit == FG else -timedelta(hours=2))
    reply_mail(inbox / f"{period.key}_{unit}.eml", [(book.name, book.read_bytes())],
               date=format_datetime(sent.astimezone(CHINA)), sender=f"{unit} <unit@example.org>")
    book.unlink()


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict[str, Summary], object, dict]]:
    reg = registry()
    ws = make_workspace(tmp_path_factory.mktemp("truth") / "ws", reg)
    periods = periods_in_month(2022, 6, "weekly")
    assert [p.key for p in periods] == list(WEEKS)
    summaries: dict[str, Summary] = {}
    with Run.open_month(ws, "351", "2022-06", registry=reg) as base:
        for week, period in enumerate(periods, start=22):
            run = base.for_period(period)
            inbox = ws.root / "inbox" / period.key
            for unit in reg.lead_units():
                if unit != SW:
                    reply(ws, reg, unit, period, week, inbox)
            run.now = max(due_for(run.programme, reg, u, period) for u in reg.lead_units()) + timedelta(days=2)
            result = collect(run, [inbox])
            assert {f.unit: f.outcome for f in result.files}[CG] == (
                "rejected" if period.key in ("2022-W24", "2022-W25") else "accepted")
            summaries[period.key] = consolidate(run, write=False)
        assessment = assess(base)
        ctx = bulletin_context(assessment, ws.programme("351"), reg, number=1, issued=date(2022, 7, 4))
        yield ws, summaries, assessment, ctx


def test_every_light_and_reason_of_the_last_week(month) -> None:
    _, summaries, _, _ = month
    reg = registry()
    w25 = next(p for p in periods_in_month(2022, 6, "weekly") if p.key == "2022-W25")
    sched = {t.id: on_schedule(t, w25) for t in reg.tasks}
    w23 = next(p for p in periods_in_month(2022, 6, "weekly") if p.key == "2022-W23")
    cg_carried = on_schedule(reg.task("351-A1-04"), w23)
    got = {(j.task_id, j.unit): (j.light, j.reason, j.status) for j in summaries["2022-W25"].judgements}
    s = sched
    assert got == {
        ("351-A1-01", JT): (GREEN, f"进度正常（序时{s['351-A1-01']}%，实际{s['351-A1-01']}%）", "按序时推进"),
        ("351-A1-02", JT): (GREEN, f"进度正常（序时{s['351-A1-02']}%，实际{s['351-A1-02']}%）", "按序时推进"),
        ("351-A1-02", ZJ): (GREEN, f"进度正常（序时{s['351-A1-02']}%，实际{s['351-A1-02']}%）", "按序时推进"),
        # never replied: red at once, not green with "未报送"
        ("351-A1-03", SW): (RED, "未报送，无进展数据", "未报送"),
        # sent back twice running: red, the carried data labelled with its period
        ("351-A1-04", CG): (RED, f"连续2期退回未改（沿用第23周数据：实际{cg_carried}%）", "未报送"),
        # late every week: the light is about the task, the lateness costs points
        ("351-A1-05", FG): (GREEN, f"进度正常（序时{s['351-A1-05']}%，实际{s['351-A1-05']}%）", "按序时推进"),
        # ongoing, 完成进度 "/": reported honestly and green
        ("351-A1-06", WM): (GREEN, "常态化推进", "常态化推进"),
        # self-reported 滞后 though within 10 points of 序时: at least yellow, in its own words
        ("351-A1-07", JY): (YELLOW, f"自报滞后（序时{s['351-A1-07']}%，实际{s['351-A1-07'] - 5}%）", "滞后"),
    }


def test_the_sent_back_unit_was_yellow_the_first_week_and_nobody_unreported_is_green(month) -> None:
    _, summaries, _, _ = month
    cg24 = next(j for j in summaries["2022-W24"].judgements if j.unit == CG)
    assert (cg24.light, cg24.unreported_periods) == (YELLOW, 1) and cg24.reason.startswith("退回未改（沿用第23周数据")
    for summary in summaries.values():
        for j in summary.judgements:
            if j.unreported:
                assert j.light != GREEN and j.status == "未报送", (summary.period.key, j)


def test_by_unit_counts_unreported_tasks_on_their_own(month) -> None:
    _, summaries, _, _ = month
    cols = ["tasks", "completed", "on_schedule", "lagging", "not_started", "unreported", "overdue",
            GREEN, YELLOW, RED, "report_state"]
    df = summaries["2022-W25"].by_unit.set_index("unit")
    assert {u: df.loc[u, cols].tolist() for u in df.index} == {
        JT: [2, 0, 2, 0, 0, 0, 0, 2, 0, 0, "on_time"],
        ZJ: [1, 0, 1, 0, 0, 0, 0, 1, 0, 0, "on_time"],
        SW: [1, 0, 0, 0, 0, 1, 0, 0, 0, 1, "missing"],
        CG: [1, 0, 0, 0, 0, 1, 0, 0, 0, 1, "rejected"],
        FG: [1, 0, 1, 0, 0, 0, 0, 1, 0, 0, "late"],
        WM: [1, 0, 1, 0, 0, 0, 0, 1, 0, 0, "on_time"],
        JY: [1, 0, 0, 1, 0, 0, 0, 0, 1, 0, "on_time"],
    }


def test_grades_and_ranks_follow_reporting(month) -> None:
    _, _, assessment, _ = month
    got = {s.unit: (s.rank, s.total, s.grade) for s in assessment.scores}
    assert got == {
        JT: (1, 100, "优秀"), ZJ: (1, 100, "优秀"), WM: (1, 100, "优秀"),
        JY: (4, 99, "优秀"),  # one yellow
        FG: (5, 96, "优秀"),  # late four times: −1 each
        CG: (6, 91, "良好"),  # 91 points, but two periods sent back and not fixed: at most 良好
        SW: (7, 80, "一般"),  # no accepted report all month: 一般, and last whatever its points
    }
    sw = next(s for s in assessment.scores if s.unit == SW)
    assert [i.rule for i in sw.items].count("missing") == 4 and "没有合格台账" in sw.grade_note
    assert [s.unit for s in assessment.scores][-1] == SW


def test_praise_and_criticism_have_written_rules(month) -> None:
    _, _, _, ctx = month
    assert [u["unit"] for u in ctx["honour_units"]] == [JT, ZJ, WM]  # on time, no red, 优秀; at most 3
    assert "均按时报送、没有红灯和逾期未完成任务、考核等次为优秀" in ctx["praise_rule"]
    assert [(u["unit"], u["reasons"]) for u in ctx["shame_units"]] == [
        (SW, "第22周、第23周、第24周、第25周未报送，红灯4项次，得分80分、排名靠后"),
        (CG, "第24周、第25周退回未改，红灯1项次，得分91分、排名靠后"),
        (FG, "得分96分、排名靠后"),
    ]
    praised = {u["unit"] for u in ctx["honour_units"]}
    assert not praised & {SW, CG, FG}  # nobody missing, sent back or late is praised


def test_the_bulletin_says_the_summary_s_numbers(month) -> None:
    _, summaries, _, ctx = month
    counts = summaries["2022-W25"].counts
    ov = ctx["overview"]
    assert (ov["tasks"], ov["total"], ov["overdue"]) == (counts["tasks"], counts["rows"], counts["overdue"])
    for key in ("completed", "on_track", "lagging", "not_started", "unreported", GREEN, YELLOW, RED):
        assert ov[key]["count"] == counts[key], key
    assert (ov[GREEN]["count"], ov[YELLOW]["count"], ov[RED]["count"], ov["unreported"]["count"]) == (5, 1, 2, 2)
    by_unit = summaries["2022-W25"].by_unit.set_index("unit")
    for row in ctx["chart_units"]:
        assert [row[k] for k in (GREEN, YELLOW, RED)] == by_unit.loc[row["unit"], [GREEN, YELLOW, RED]].tolist()
    detail = {(d["task_id"], d["unit"]): d["light_key"] for d in ctx["detail"]}
    assert detail == {(j.task_id, j.unit): j.light for j in summaries["2022-W25"].judgements}
    # 三、进展滞后的任务: every red and yellow row, the unreported ones included
    assert [(t["task_id"], t["unit"], t["light"]) for t in ctx["lagging"]] == [
        ("351-A1-03", SW, "红灯"), ("351-A1-04", CG, "红灯"), ("351-A1-07", JY, "黄灯")]
    assert (ctx["red_count"], ctx["yellow_count"]) == (2, 1)


def test_the_bulletin_quotes_only_the_notice(month) -> None:
    ws, _, _, ctx = month
    assert ctx["requirement"] == ws.programme("351").reporting.requirement == "建立工作台账，实行周督导检查、月考核通报制度"
    assert "cadence_phrase" not in ctx
    assert ctx["copy_to"] == "领导小组组长、副组长，领导小组各成员单位"  # the issuer is a 领导小组办公室
