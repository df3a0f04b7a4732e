"""``consolidate``: lights and reasons, counts, changes, and the 汇总表 read back.

A hand-built history of programme 351 (weekly, issued 2022-05-07) over 2022-W24..W26:
a three-milestone task that misses its first milestone, a task co-led by two units
(one finishes early, one goes yellow twice then stops reporting), an ongoing task past
its milestone, a copied progress text, a unit whose last file was rejected and a unit
that never reports.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from conftest import make_workspace

from ledger import config
from ledger.consolidate.api import consolidate
from ledger.consolidate.judge import judge_and_save, judge_task
from ledger.consolidate.model import GREEN, RED, YELLOW, Judgement
from ledger.consolidate.summary import FILE_NAME, SHEETS
from ledger.periods import parse_period
from ledger.problems import Problem
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task
from ledger.registry.workbook import write_registry
from ledger.rules import LightRules
from ledger.run import Run
from ledger.schedule import schedule_percent, steps
from ledger.store import Entry, Received, open_store

REPO_CONFIG = Path(__file__).resolve().parents[1] / "ledger.toml"
CST = timezone(timedelta(hours=8))
NOW = datetime(2022, 7, 4, 9, 0, tzinfo=CST)
TRANSPORT, NDRC, CITY, PLANNING = "市交通运输局", "市发展和改革委员会", "市城市管理局", "市自然资源和规划局"
ISSUED = date(2022, 5, 7)
FORMULA = '=HYPERLINK("http://evil.example","点我")'
FILTERS = {"csv": "csv:Text - txt - csv (StarCalc):44,34,76", "xlsx": "xlsx"}  # 76 = UTF-8
PLUS, MINUS, AT = "+1 加快推进", "-5%（较上期）", "@SUM(A1)"


def make_registry() -> Registry:
    info = ProgrammeInfo("351", "城市提质", "洛城提办文〔2022〕11号", "领导小组办公室", ISSUED)

    def task(tid: str, leads: list[str], **kw) -> Task:
        return Task(id=tid, programme="351", path=[kw.pop("category", "交通枢纽建设工程")],
                    text=kw.pop("text", f"任务{tid}。"), lead_units=leads, **kw)

    return Registry(info, [
        task("351-A1-1", [TRANSPORT], text="机场改扩建：6月底前完成立项，9月底前完成招投标，12月底前开工建设。",
             deadline_text="2022年12月底前", deadline=date(2022, 12, 31), cooperating_units=["市财政局"],
             milestones=[Milestone(date(2022, 6, 30), "完成立项"), Milestone(date(2022, 9, 30), "完成招投标"),
                         Milestone(date(2022, 12, 31), "开工建设")]),
        task("351-A1-2", [TRANSPORT, NDRC], text="综合交通枢纽规划编制。", deadline_text="2022年6月底前",
             deadline=date(2022, 6, 30)),
        task("351-A1-3", [TRANSPORT], text="公交站台改造。", deadline=date(2022, 7, 5)),
        task("351-A5-1", [CITY], category="城市治理提升工程", text="建立城市管理长效机制。",
             deadline_text="2022年6月底前建立机制，并常态化推进", deadline=date(2022, 6, 30), ongoing=True,
             milestones=[Milestone(date(2022, 6, 30), "建立长效机制")]),
        task("351-A5-2", [CITY], category="城市治理提升工程", text="背街小巷整治。", deadline=date(2022, 12, 31)),
        task("351-A2-1", [PLANNING], category="城市风貌提升工程", text="城市设计导则编制。",
             deadline=date(2022, 9, 30)),
        task("351-A2-2", [PLANNING], category="城市风貌提升工程", text="历史街区保护规划。",
             deadline=date(2022, 6, 30)),
        task("351-A2-3", [PLANNING], category="城市风貌提升工程", text="风貌管控办法出台。",
             deadline_text="已完成", deadline=ISSUED, done=True),
    ])


def e(task_id: str, row: int, progress: str, percent: int | None, status: str, **kw) -> Entry:
    return Entry(task_id, row, progress, kw.get("cumulative", ""), percent, status, kw.get("problems", ""),
                 kw.get("next_steps", ""), kw.get("coordination", ""), "")


# unit -> period -> (received at, accepted?, entries)
HISTORY = {
    TRANSPORT: {
        "2022-W24": (datetime(2022, 6, 17, 10), True, (
            e("351-A1-1", 4, "完成可研编制", 20, "按序时推进"), e("351-A1-2", 5, "完成初稿", 80, "按序时推进"),
            e("351-A1-3", 6, "完成设计", 60, "滞后"))),
        "2022-W25": (datetime(2022, 6, 24, 9), True, (
            e("351-A1-1", 4, "完成可研评审", 25, "按序时推进"), e("351-A1-2", 5, "全部完成", 100, "已完成"),
            e("351-A1-3", 6, "完成招标", 50, "滞后", problems="资金未到位"))),
        "2022-W26": (datetime(2022, 7, 1, 15), True, (
            e("351-A1-1", 4, "完成立项前期工作", 30, "按序时推进"), e("351-A1-2", 5, "全部完成", 100, "已完成"),
            e("351-A1-3", 6, "完成主体改造", 90, "滞后"))),
    },
    NDRC: {
        "2022-W24": (datetime(2022, 6, 17, 11), True, (e("351-A1-2", 4, "收集资料", 60, "滞后"),)),
        "2022-W25": (datetime(2022, 6, 24, 17, 30), True, (e("351-A1-2", 4, "征求意见", 70, "滞后"),)),
    },
    CITY: {
        "2022-W24": (datetime(2022, 6, 17, 9), True, (
            e("351-A5-1", 4, "起草制度", 70, "按序时推进"), e("351-A5-2", 5, "完成方案编制", 10, "按序时推进"))),
        "2022-W25": (datetime(2022, 6, 24, 17), True, (
            e("351-A5-1", 4, "制度送审", 90, "正常推进"),
            e("351-A5-2", 5, "  完成方案\n编制 ", 20, "按序时推进", cumulative=MINUS, problems=FORMULA,
              next_steps=PLUS, coordination=AT))),
        "2022-W26": (datetime(2022, 7, 1, 12), False, ()),
    },
}


def build_store(path: Path):
    store = open_store(path)
    for unit, periods in HISTORY.items():
        for key, (at, accepted, entries) in periods.items():
            data = f"{unit}-{key}".encode()
            store.ingest(Received(
                sha256=hashlib.sha256(data).hexdigest(), source_name=f"{key}_{unit}_工作台账.xlsx", data=data,
                detected_type="xlsx", received_at=at.replace(tzinfo=CST), received_source="email",
                sender="unit@example.org", programme="351", period=key, unit=unit,
                outcome="accepted" if accepted else "rejected", entries=entries,
                problems=() if accepted else (Problem("status-invalid", "error", "推进状态无效"),),
            ))
    return store


def make_ws(root: Path) -> config.Workspace:
    return make_workspace(root)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """W24, W25, W26 consolidated in turn on one store (lights stored per period)."""
    root = tmp_path_factory.mktemp("consolidate")
    ws = make_ws(root / "ws")
    registry = make_registry()
    store = build_store(root / "ws" / "out" / "ledger.sqlite")
    out = {}
    for key in ("2022-W24", "2022-W25", "2022-W26"):
        out[key] = consolidate(Run.open(ws, "351", key, store=store, registry=registry, now=NOW), out_dir=root / key)
    yield ws, registry, store, out
    store.close()


def lights(summary) -> dict[tuple[str, str], tuple]:
    return {(j.task_id, j.unit): (j.light, j.reason, j.status) for j in summary.judgements}


# --- judgement ----------------------------------------------------------------------------

def test_steps_share_the_task_and_schedule_runs_per_step():
    t1 = make_registry().tasks[0]
    assert [(s.due, s.share, s.final) for s in steps(t1)] == [
        (date(2022, 6, 30), 33, False), (date(2022, 9, 30), 67, False), (date(2022, 12, 31), 100, True)]
    plan = steps(t1)
    assert schedule_percent(plan, ISSUED, date(2022, 6, 19)) == 27  # 43/54 of the first third
    assert schedule_percent(plan, ISSUED, date(2022, 6, 30)) == 33
    assert schedule_percent(plan, ISSUED, date(2022, 8, 15)) == 50  # halfway 6/30 → 9/30: 33 + 17
    assert schedule_percent(plan, ISSUED, date(2023, 1, 5)) == 100
    assert schedule_percent(plan, ISSUED, date(2022, 5, 1)) == 0
    single = steps(make_registry().tasks[4])  # 12/31 only: plain elapsed share
    assert schedule_percent(single, ISSUED, date(2022, 6, 26)) == 21  # 50/238


def test_lights_week_24(run):
    got = lights(run[3]["2022-W24"])
    assert got == {
        ("351-A1-1", TRANSPORT): (GREEN, "进度正常（序时27%，实际20%）", "按序时推进"),
        ("351-A1-2", TRANSPORT): (GREEN, "进度正常（序时80%，实际80%）", "按序时推进"),
        ("351-A1-2", NDRC): (YELLOW, "偏差−20个百分点（序时80%，实际60%）", "滞后"),
        ("351-A1-3", TRANSPORT): (YELLOW, "偏差−13个百分点（序时73%，实际60%）", "滞后"),
        ("351-A5-1", CITY): (GREEN, "进度正常（序时80%，实际70%）", "按序时推进"),
        ("351-A5-2", CITY): (GREEN, "进度正常（序时18%，实际10%）", "按序时推进"),
        ("351-A2-1", PLANNING): (RED, "未报送，无进展数据", "未报送"),
        ("351-A2-2", PLANNING): (RED, "未报送，无进展数据", "未报送"),
        ("351-A2-3", PLANNING): (RED, "未报送，无进展数据", "未报送"),
    }


def test_lights_week_25_escalate_yellow_twice_and_count_early_completion(run):
    summary = run[3]["2022-W25"]
    assert lights(summary) == {
        ("351-A1-1", TRANSPORT): (GREEN, "进度正常（序时31%，实际25%）", "按序时推进"),
        ("351-A1-2", TRANSPORT): (GREEN, "已完成", "已完成"),
        ("351-A1-2", NDRC): (RED, "连续2期黄灯：偏差−23个百分点（序时93%，实际70%）", "滞后"),
        ("351-A1-3", TRANSPORT): (RED, "偏差−35个百分点（序时85%，实际50%）", "滞后"),
        ("351-A5-1", CITY): (GREEN, "进度正常（序时93%，实际90%）", "按序时推进"),
        ("351-A5-2", CITY): (GREEN, "进度正常（序时21%，实际20%）", "按序时推进"),
        ("351-A2-1", PLANNING): (RED, "未报送，无进展数据", "未报送"),
        ("351-A2-2", PLANNING): (RED, "未报送，无进展数据", "未报送"),
        ("351-A2-3", PLANNING): (RED, "未报送，无进展数据", "未报送"),
    }
    by = {(j.task_id, j.unit): j for j in summary.judgements}
    assert by[("351-A1-2", TRANSPORT)].early_milestones == 1
    assert sum(j.early_milestones for j in summary.judgements) == 1
    assert by[("351-A5-2", CITY)].copied  # "  完成方案\n编制 " is "完成方案编制" again
    assert [k for k, j in by.items() if j.copied] == [("351-A5-2", CITY)]
    assert by[("351-A1-2", NDRC)].yellow_streak == 2 and by[("351-A1-2", NDRC)].report_state == "late"


def test_lights_week_26_missed_milestone_ongoing_carried_and_missing(run):
    summary = run[3]["2022-W26"]
    assert lights(summary) == {
        ("351-A1-1", TRANSPORT): (RED, "时间节点6月30日（完成立项）已过仍未完成", "滞后"),
        ("351-A1-2", TRANSPORT): (GREEN, "已完成", "已完成"),
        ("351-A1-2", NDRC): (RED, "未报送，完成时限6月30日已过", "未报送"),
        ("351-A1-3", TRANSPORT): (YELLOW, "完成时限7月5日临近，进展滞后", "滞后"),
        ("351-A5-1", CITY): (YELLOW, "退回未改（沿用第25周数据：实际90%）", "未报送"),
        ("351-A5-2", CITY): (YELLOW, "退回未改（沿用第25周数据：实际20%）", "未报送"),
        ("351-A2-1", PLANNING): (RED, "未报送，无进展数据", "未报送"),
        ("351-A2-2", PLANNING): (RED, "未报送，完成时限6月30日已过", "未报送"),
        ("351-A2-3", PLANNING): (RED, "未报送，无进展数据", "未报送"),
    }
    by = {(j.task_id, j.unit): j for j in summary.judgements}
    assert all(len(j.reason) <= 30 for j in summary.judgements)
    assert [k for k, j in by.items() if j.overdue] == [
        ("351-A1-1", TRANSPORT), ("351-A1-2", NDRC), ("351-A2-2", PLANNING)]
    t1 = by[("351-A1-1", TRANSPORT)]  # wrote 按序时推进, but 30% < the first milestone's 33%
    assert (t1.reported_status, t1.percent, t1.milestone_due, t1.milestone_text) == (
        "按序时推进", 30, date(2022, 9, 30), "完成招投标")
    ongoing = by[("351-A5-1", CITY)]  # 90% at its passed milestone, yet never overdue
    assert not ongoing.overdue and ongoing.schedule_percent is None and ongoing.carried
    assert (ongoing.unreported, ongoing.unreported_periods, ongoing.reported_status) == (True, 1, "按序时推进")
    ndrc = by[("351-A1-2", NDRC)]
    assert (ndrc.report_state, ndrc.carried, ndrc.carried_from, ndrc.percent) == ("missing", True, "2022-W25", 70)
    city = by[("351-A5-2", CITY)]
    assert (city.report_state, city.carried, city.copied) == ("rejected", True, False)
    never = by[("351-A2-1", PLANNING)]
    assert (never.report_state, never.carried, never.percent, never.schedule_percent) == ("missing", False, None, 39)
    assert never.unreported and never.unreported_periods == 9  # no report since the notice (2022-05-07)
    done = by[("351-A1-2", TRANSPORT)]
    assert not done.copied and done.early_milestones == 0  # 全部完成 twice: done, not copied


def test_lights_are_stored_per_period_and_a_red_that_caught_up_stays_red_in_its_period(run):
    store = run[2]
    w25 = [Judgement.from_row(r) for r in store.lights("351", "2022-W25")]
    w26 = [Judgement.from_row(r) for r in store.lights("351", "2022-W26")]
    assert w25 == run[3]["2022-W25"].judgements and w26 == run[3]["2022-W26"].judgements
    t6 = ("351-A1-3", TRANSPORT)
    assert {(j.task_id, j.unit): j.light for j in w25}[t6] == RED
    assert {(j.task_id, j.unit): j.light for j in w26}[t6] == YELLOW


def test_previous_lights_are_judged_when_not_stored(tmp_path, run):
    ws = make_ws(tmp_path / "ws")
    with build_store(tmp_path / "fresh.sqlite") as store:
        summary = consolidate(Run.open(ws, "351", "2022-W26", store=store, registry=make_registry(), now=NOW), write=False)
        assert store.lights("351", "2022-W25") == []  # judged on the fly, not saved
        assert len(store.lights("351", "2022-W26")) == 9
    assert summary.judgements == run[3]["2022-W26"].judgements
    assert summary.changes.to_dict("records") == run[3]["2022-W26"].changes.to_dict("records")


def test_judge_task_edge_cases():
    reg = make_registry()
    period = parse_period("2022-W25", "weekly")
    rules = LightRules()
    ongoing, plain = reg.tasks[3], reg.tasks[4]
    w27 = parse_period("2022-W27", "weekly")
    lagging = judge_task(ongoing, CITY, e(ongoing.id, 4, "暂停", 50, "滞后"), period=w27, issued=ISSUED, rules=rules)
    assert (lagging.light, lagging.reason, lagging.status, lagging.overdue) == (
        YELLOW, "常态化任务，自报滞后", "常态化推进", False)
    zero = judge_task(plain, CITY, e(plain.id, 4, "", 0, ""), period=period, issued=ISSUED, rules=rules)
    assert (zero.light, zero.status, zero.deviation) == (YELLOW, "未启动", -21)
    no_percent = judge_task(plain, CITY, e(plain.id, 4, "推进中", None, "滞后"), period=period, issued=ISSUED,
                            rules=rules)
    assert (no_percent.light, no_percent.reason) == (YELLOW, "自报滞后，未填完成进度")
    strict = LightRules(red_after_yellow_periods=3)
    prev = Judgement("351", "2022-W24", plain.id, CITY, YELLOW, "", "滞后", yellow_streak=1)
    second = judge_task(plain, CITY, e(plain.id, 4, "x", 5, "滞后"), period=period, issued=ISSUED, rules=strict,
                        previous=prev)
    assert (second.light, second.yellow_streak) == (YELLOW, 2)
    long_text = Task("351-X-1", "351", ["x"], "x", [CITY], deadline=date(2022, 12, 31),
                     milestones=[Milestone(date(2022, 6, 1), "完成全部二十七个街区的现场踏勘和方案设计工作")])
    missed = judge_task(long_text, CITY, e("351-X-1", 4, "x", 10, "按序时推进"), period=period, issued=ISSUED,
                        rules=rules)
    assert missed.light == RED and len(missed.reason) <= 30 and missed.reason.startswith("时间节点6月1日（完成全部")


def test_judge_and_save_saves_lights(tmp_path):
    ws = make_ws(tmp_path / "ws")
    with build_store(tmp_path / "s.sqlite") as store:
        got = judge_and_save(Run.open(ws, "351", "2022-W24", registry=make_registry(), store=store, now=NOW)).judgements
        assert [Judgement.from_row(r) for r in store.lights("351", "2022-W24")] == got
        assert len(got) == 9


# --- tables -------------------------------------------------------------------------------

def test_by_unit_counts(run):
    df = run[3]["2022-W26"].by_unit
    cols = ["unit", "tasks", "completed", "on_schedule", "lagging", "not_started", "unreported", "overdue",
            GREEN, YELLOW, RED, "copied", "report_state"]
    # a unit without an accepted report has its tasks under 未报送, never under 正常推进, and none green
    assert df[cols].values.tolist() == [
        [TRANSPORT, 3, 1, 0, 2, 0, 0, 1, 1, 1, 1, 0, "on_time"],
        [NDRC, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, "missing"],
        [CITY, 2, 0, 0, 0, 0, 2, 0, 0, 2, 0, 0, "rejected"],
        [PLANNING, 3, 0, 0, 0, 0, 3, 1, 0, 0, 3, 0, "missing"],
    ]
    w25 = run[3]["2022-W25"].by_unit.set_index("unit")
    assert w25.loc[CITY, "copied"] == 1 and w25.loc[NDRC, "report_state"] == "late"
    assert w25.loc[TRANSPORT, "early_milestones"] == 1
    assert run[3]["2022-W26"].counts == {
        "tasks": 8, "rows": 9, GREEN: 1, YELLOW: 3, RED: 5, "overdue": 3, "completed": 1, "on_track": 0,
        "lagging": 2, "not_started": 0, "unreported": 6, "copied": 0, "early_milestones": 0, "units": 4,
        "on_time": 1, "late": 0, "missing": 2, "rejected": 1}


def test_changes_rows(run):
    keep = ["task_id", "unit", "light_before", "light_after", "status_before", "status_after", "copied", "change"]
    w25 = run[3]["2022-W25"].changes[keep].values.tolist()
    assert w25 == [
        ["351-A1-2", NDRC, YELLOW, RED, "滞后", "滞后", False, "由黄灯转为红灯"],
        ["351-A1-3", TRANSPORT, YELLOW, RED, "滞后", "滞后", False, "由黄灯转为红灯"],
        ["351-A1-2", TRANSPORT, GREEN, GREEN, "按序时推进", "已完成", False, "状态由按序时推进变为已完成"],
        ["351-A5-2", CITY, GREEN, GREEN, "按序时推进", "按序时推进", True, "本期进展与上期相同（照抄上期）"],
    ]
    w26 = run[3]["2022-W26"].changes[keep].values.tolist()
    assert w26 == [
        ["351-A1-1", TRANSPORT, GREEN, RED, "按序时推进", "滞后", False, "由绿灯转为红灯；状态由按序时推进变为滞后"],
        ["351-A5-1", CITY, GREEN, YELLOW, "按序时推进", "未报送", False, "由绿灯转为黄灯；状态由按序时推进变为未报送"],
        ["351-A5-2", CITY, GREEN, YELLOW, "按序时推进", "未报送", False, "由绿灯转为黄灯；状态由按序时推进变为未报送"],
        ["351-A1-3", TRANSPORT, RED, YELLOW, "滞后", "滞后", False, "由红灯转为黄灯"],
        ["351-A1-2", NDRC, RED, RED, "滞后", "未报送", False, "状态由滞后变为未报送"],
    ]
    assert run[3]["2022-W24"].changes.empty and run[3]["2022-W24"].previous_period is None


def test_lagging_sorted_by_severity_and_reporting(run):
    lag = run[3]["2022-W26"].lagging
    assert lag[["task_id", "unit", "light"]].values.tolist() == [
        ["351-A1-2", NDRC, RED], ["351-A1-1", TRANSPORT, RED], ["351-A2-2", PLANNING, RED],
        ["351-A2-1", PLANNING, RED], ["351-A2-3", PLANNING, RED],
        ["351-A1-3", TRANSPORT, YELLOW], ["351-A5-2", CITY, YELLOW], ["351-A5-1", CITY, YELLOW]]
    rep = run[3]["2022-W26"].reporting
    assert rep[["unit", "state", "due", "received_at", "note"]].values.tolist() == [
        [TRANSPORT, "on_time", "2022-07-01 16:00", "2022-07-01 15:00", ""],
        [NDRC, "missing", "2022-07-01 16:00", "", "沿用第25周数据"],
        [CITY, "rejected", "2022-07-01 18:00", "2022-07-01 12:00", "沿用第25周数据"],
        [PLANNING, "missing", "2022-07-01 18:00", "", "无历史数据"],
    ]
    ov = run[3]["2022-W26"].overview.set_index(["task_id", "unit"])
    assert ov.loc[("351-A1-2", NDRC), "report"] == "未报送，沿用第25周数据"
    assert ov.loc[("351-A5-2", CITY), "report"] == "退回待改，沿用第25周数据"
    assert ov.loc[("351-A2-1", PLANNING), "report"] == "未报送，无历史数据"
    assert ov.loc[("351-A1-2", TRANSPORT), "other_leads"] == NDRC
    assert ov.loc[("351-A1-1", TRANSPORT), "milestone"] == "9月30日前 完成招投标"


# --- the workbook -------------------------------------------------------------------------

def _sheet_values(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_workbook_sheets_values_and_layout(run):
    path = run[3]["2022-W26"].path
    assert path.name == FILE_NAME and path.is_file()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEETS)
    ov = wb["总表"]
    assert ov["A1"].value == "洛阳市城市提质“351”工程行动六大专项行动工作推进情况汇总表（2022年第26周 6月27日—7月1日）"
    assert ov["A1"].font.name == "方正小标宋简体" and ov["A4"].font.name == "仿宋"
    header = [c.value for c in ov[3]]
    # what a meeting reads first (one verdict per row: 判定 and its 判定依据), the rest behind it
    assert header[:12] == ["序号", "任务编号", "重点任务", "牵头单位", "完成时限", "当前节点", "完成进度（%）",
                           "序时进度（%）", "偏差（百分点）", "自报状态", "判定", "判定依据"]
    assert header[12:19] == ["本期进展情况", "累计完成情况（形象进度）", "存在问题及原因", "下步工作计划",
                             "需协调解决事项", "报送情况", "照抄上期"]
    assert header[19:] == ["其他牵头单位", "配合单位", "所属类别"]  # the registry's: on screen, not printed
    assert "判定状态" not in header and "灯号" not in header
    col = {h: i for i, h in enumerate(header)}
    rows = _sheet_values(ov)[3:]
    assert len(rows) == 9 and ov.max_row == 12
    assert [r[0] for r in rows] == list(range(1, 10))
    by_key = {(r[col["任务编号"]], r[col["牵头单位"]]): r for r in rows}
    t1 = by_key[("351-A1-1", TRANSPORT)]
    assert t1[col["判定"]] == "红灯" and t1[col["判定依据"]] == "时间节点6月30日（完成立项）已过仍未完成"
    assert t1[col["完成进度（%）"]] == 30 and t1[col["当前节点"]] == "9月30日前 完成招投标"
    never = by_key[("351-A2-1", PLANNING)]
    assert never[col["完成进度（%）"]] is None and never[col["偏差（百分点）"]] is None
    assert never[col["报送情况"]] == "未报送，无历史数据"
    assert by_key[("351-A1-2", NDRC)][col["报送情况"]] == "未报送，沿用第25周数据"
    assert ov.freeze_panes == "C4"
    assert ov.auto_filter.ref == f"A3:{openpyxl.utils.get_column_letter(len(header))}12"
    # printed on A4 landscape at a fixed scale that keeps 11 pt text at 9 pt or more, in two bands
    # of columns with 序号/任务编号/重点任务 repeated, the title and note in the page header
    assert ov.page_setup.orientation == "landscape" and ov.page_setup.paperSize == 9
    assert not ov.sheet_properties.pageSetUpPr or not ov.sheet_properties.pageSetUpPr.fitToPage
    assert 82 <= int(ov.page_setup.scale) <= 100
    assert [b.id for b in ov.col_breaks.brk] == [12]
    assert ov.print_title_rows == "$3:$3" and ov.print_title_cols == "$A:$C"
    assert ov["A1"].value in ov.oddHeader.center.text and "共8项任务" in ov.oddHeader.center.text
    assert ov.print_area == "'总表'!$A$3:$S$12"
    for name in ("按单位", "滞后及逾期", "本期变化", "报送情况"):  # one page wide, the title from the sheet
        sheet = wb[name]
        assert 82 <= int(sheet.page_setup.scale or 100) <= 100 and not sheet.col_breaks.brk, name
        assert sheet.print_title_rows == "$1:$3", name
    assert "第 &P 页 共 &N 页" in ov.oddFooter.center.text

    unit = wb["按单位"]
    uh = [c.value for c in unit[3]]
    assert uh == ["牵头单位", "任务数", "已完成", "正常推进", "滞后", "未启动", "未报送", "逾期", "绿灯", "黄灯",
                  "红灯", "照抄上期", "报送情况"]
    assert _sheet_values(unit)[3:] == [
        [TRANSPORT, 3, 1, 0, 2, 0, 0, 1, 1, 1, 1, 0, "按时报送"],
        [NDRC, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, "未报送"],
        [CITY, 2, 0, 0, 0, 0, 2, 0, 0, 2, 0, 0, "退回待改"],
        [PLANNING, 3, 0, 0, 0, 0, 3, 1, 0, 0, 3, 0, "未报送"],
        ["合计", 9, 1, 0, 2, 0, 6, 3, 1, 3, 5, 0, None],
    ]
    assert unit.auto_filter.ref == "A3:M7"  # 合计 (row 8) stays out of the filter
    lag = _sheet_values(wb["滞后及逾期"])[3:]
    assert [(r[0], r[1], r[2], r[4]) for r in lag] == [
        (1, "红灯", "351-A1-2", NDRC), (2, "红灯", "351-A1-1", TRANSPORT), (3, "红灯", "351-A2-2", PLANNING),
        (4, "红灯", "351-A2-1", PLANNING), (5, "红灯", "351-A2-3", PLANNING), (6, "黄灯", "351-A1-3", TRANSPORT),
        (7, "黄灯", "351-A5-2", CITY), (8, "黄灯", "351-A5-1", CITY)]
    changes = _sheet_values(wb["本期变化"])
    assert changes[1][0].startswith("与上期（第25周）相比：灯号变化4项，状态变化4项；照抄上期0项")
    assert [(r[1], r[4], r[5], r[6]) for r in changes[3:]][:2] == [
        ("351-A1-1", "由绿灯转为红灯；状态由按序时推进变为滞后", "绿灯", "红灯"),
        ("351-A5-1", "由绿灯转为黄灯；状态由按序时推进变为未报送", "绿灯", "黄灯")]
    rep = _sheet_values(wb["报送情况"])
    assert rep[1][0] == "应报送4个单位：按时报送1个，逾期报送0个，未报送2个，退回待改1个。"
    assert [r[:5] for r in rep[3:]] == [
        [1, TRANSPORT, "按时报送", "2022-07-01 16:00", "2022-07-01 15:00"], [2, NDRC, "未报送", "2022-07-01 16:00", None],
        [3, CITY, "退回待改", "2022-07-01 18:00", "2022-07-01 12:00"], [4, PLANNING, "未报送", "2022-07-01 18:00", None]]


def test_workbook_conditional_formats_and_charts(run):
    path = run[3]["2022-W26"].path
    wb = openpyxl.load_workbook(path)
    ov = wb["总表"]
    header = [c.value for c in ov[3]]
    letter = openpyxl.utils.get_column_letter(header.index("判定") + 1)
    rules = {str(rng.sqref): [(r.type, r.operator, r.formula, r.dxf.fill.bgColor.rgb if r.dxf.fill else None)
                              for r in rng.rules] for rng in ov.conditional_formatting}
    assert rules[f"{letter}4:{letter}12"] == [
        ("cellIs", "equal", ['"绿灯"'], "FFC6EFCE"), ("cellIs", "equal", ['"黄灯"'], "FFFFEB9C"),
        ("cellIs", "equal", ['"红灯"'], "FFFFC7CE")]
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        charts = sorted(n for n in names if n.startswith("xl/charts/chart"))
        kinds = [re.findall(r"<c:(pieChart|barChart)>", z.read(n).decode()) for n in charts]
        assert kinds == [["pieChart"], ["pieChart"], ["barChart"]]
        bar = z.read(charts[2]).decode()
        assert "统计图!$E$4:$E$7" in bar and "统计图!$H$4:$H$7" in bar and "<c:grouping val=\"stacked\"/>" in bar
        sheet_xml = {n: z.read(n).decode() for n in names if n.startswith("xl/worksheets/sheet")}
        assert not any("<f>" in x for x in sheet_xml.values())
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
    pie_data = _sheet_values(wb["统计图"])
    assert pie_data[2][:3] == ["推进状态", "任务数", "占比"]
    assert [r[:2] for r in pie_data[3:6]] == [["已完成", 1], ["滞后", 2], ["未报送", 6]]
    assert pie_data[7][:2] == ["报送情况", "单位数"] and [r[:2] for r in pie_data[8:11]] == [
        ["按时报送", 1], ["未报送", 2], ["退回待改", 1]]
    assert [r[4:8] for r in pie_data[3:7]] == [[TRANSPORT, 1, 1, 1], [NDRC, 0, 0, 1], [CITY, 0, 2, 0],
                                               [PLANNING, 0, 0, 3]]


def test_text_that_looks_like_a_formula_stays_text(run):
    path = run[3]["2022-W26"].path
    wb = openpyxl.load_workbook(path)
    ov = wb["总表"]
    header = [c.value for c in ov[3]]
    row = next(r for r in ov.iter_rows(min_row=4) if r[1].value == "351-A5-2")
    cells = {h: row[i] for i, h in enumerate(header)}
    for head, value in (("存在问题及原因", FORMULA), ("下步工作计划", PLUS), ("累计完成情况（形象进度）", MINUS),
                        ("需协调解决事项", AT)):
        assert cells[head].value == value and cells[head].data_type == "s"
        assert cells[head].quotePrefix, head
    assert not cells["任务编号"].quotePrefix


def test_same_inputs_same_bytes(run, tmp_path):
    ws, registry, store, out = run
    again = consolidate(Run.open(ws, "351", "2022-W26", store=store, registry=registry, now=NOW), out_dir=tmp_path)
    assert again.path.read_bytes() == out["2022-W26"].path.read_bytes()


def test_json_and_default_paths_through_the_workspace(tmp_path):
    ws = make_ws(tmp_path / "ws")
    write_registry(make_registry(), ws.registry_path("351"))
    build_store(ws.paths.store).close()
    summary = consolidate(Run.open(ws, "351", "2022-W26", now=NOW))
    assert summary.path == ws.paths.out / "351" / "2022-W26" / FILE_NAME and summary.path.is_file()
    data = json.loads(json.dumps(summary.to_json(), ensure_ascii=False))
    assert data["period"] == "2022-W26" and data["counts"]["red"] == 5
    assert set(data) >= {"overview", "by_unit", "lagging", "changes", "reporting", "counts"}
    never = next(r for r in data["overview"] if r["task_id"] == "351-A2-1")
    assert never["percent"] is None and never["schedule"] == 39 and never["light"] == RED
    assert never["status"] == "未报送" and never["reason"] == "未报送，无进展数据"
    assert len(data["overview"]) == 9 and len(data["by_unit"]) == 4
    assert summary.lines()[0].startswith("351 2022年第26周")


def test_libreoffice_opens_the_summary(run, tmp_path):
    soffice = shutil.which("soffice")
    if not soffice:
        pytest.skip("soffice not installed")
    src = run[3]["2022-W26"].path
    for fmt in ("csv", "xlsx"):
        outdir = tmp_path / fmt
        try:
            subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                            "--convert-to", FILTERS[fmt], "--outdir", str(outdir), str(src)],
                           check=True, capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.skip("soffice timed out")
    text = (tmp_path / "csv" / "汇总表.csv").read_text(encoding="utf-8")
    assert "351-A1-1" in text and "时间节点6月30日（完成立项）已过仍未完成" in text
    assert FORMULA.replace('"', '""') in text  # written as text, not evaluated
    wb = openpyxl.load_workbook(tmp_path / "xlsx" / "汇总表.xlsx")
    assert wb.sheetnames == list(SHEETS)
    assert wb["按单位"]["A4"].value == TRANSPORT and wb["按单位"]["J4"].value == 1


# --- streaming and helpers ----------------------------------------------------------------

def test_streamed_text_is_escaped_quoted_and_kept_exactly(tmp_path):
    import io

    import xlsxwriter
    from openpyxl.utils.escape import unescape

    from ledger.consolidate import stream

    texts = ["a & b <c> \"d\"", "_x0041_ literal", "tab\tand\nnewline", " lead", "trail ", "-5", "+1", "@x",
             "=1+1", "普通文本", "a|=b", "ctl\x01char", "x" * 40000]
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True})
    sheet = wb.add_worksheet("s")
    sheet.write_string(0, 0, "head")
    plain, quoted = wb.add_format({"border": 1}), wb.add_format({"border": 1, "quote_prefix": True})
    stream.write_templates(sheet, 1, [plain, plain], [quoted, quoted])
    wb.close()
    rows = [(t, i) for i, t in enumerate(texts)]
    stream.finish(buf.getvalue(), tmp_path / "s.xlsx",
                  [stream.BulkRows("s", 1, len(rows), ["text", "number"], [20, 8], rows)])
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["s"]
    # openpyxl leaves Excel's _xHHHH_ escapes in place; Excel and LibreOffice decode them.
    got = [(unescape(r[0].value), r[1].value) for r in ws.iter_rows(min_row=2)]
    assert ws.max_row == len(texts) + 1 and ws.dimensions == f"A1:B{len(texts) + 1}"
    assert got == [(t[:stream.MAX_CELL], i) for i, t in enumerate(texts)]
    quoted_rows = {r[0].value for r in ws.iter_rows(min_row=2) if r[0].quotePrefix}
    assert quoted_rows == {"-5", "+1", "@x", "=1+1"}
    heights = {r: ws.row_dimensions[r].height for r in (4, 11)}
    # narrow (ASCII) characters count about half a CJK one: "tab\tand" and "newline" take a line each
    assert heights == {4: 2 * 14.5 + 5, 11: 20}


def test_light_rows_match_to_row_and_indexed_registry_matches(run):
    from ledger.consolidate.judge import light_rows

    js = run[3]["2022-W26"].judgements
    assert list(light_rows(js)) == [j.to_row() for j in js]
    reg = make_registry()
    scanned_units = list(dict.fromkeys(u for t in reg.tasks for u in t.lead_units))
    assert reg.lead_units() == scanned_units
    assert all(reg.tasks_led_by(u) == [t for t in reg.tasks if u in t.lead_units]
               for u in scanned_units + ["无此单位"])
