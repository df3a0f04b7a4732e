"""The hand-built month the assess and bulletin tests share: a registry and four weeks of
judgements that hit every scoring rule (docs/rules.md) at least once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledger.consolidate.model import Judgement
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task

REPO_CONFIG = Path(__file__).resolve().parents[1] / "ledger.toml"
MONTH = "2022-06"
WEEKS = ("2022-W22", "2022-W23", "2022-W24", "2022-W25")  # Fridays 6/3, 6/10, 6/17, 6/24
TRANSPORT = "市交通运输局"
NDRC = "市发展和改革委员会"
PLANNING = "市自然资源和规划局"
HRSS = "市人力资源和社会保障局"
RELICS = "市文物局"
EDUCATION = "市教育局"
# Expected totals of the hand-built month (docs/rules.md defaults).
TOTALS = {RELICS: 105, TRANSPORT: 100, EDUCATION: 100, NDRC: 96, HRSS: 95, PLANNING: 85}


def make_registry() -> Registry:
    info = ProgrammeInfo("351", "城市提质", "洛城提办文〔2022〕11号", "领导小组办公室", date(2022, 5, 7))

    def task(tid: str, lead: list[str], text: str, **kw) -> Task:
        return Task(id=tid, programme="351", path=["专项行动"], text=text, lead_units=lead, **kw)

    return Registry(info, [
        task("351-A1-01", [TRANSPORT], "机场综合保障能力提升项目，完成立项。", deadline_text="2022年12月底前",
             deadline=date(2022, 12, 31)),
        task("351-A1-02", [TRANSPORT, NDRC], "综合交通枢纽规划编制。", deadline=date(2022, 6, 30),
             milestones=[Milestone(date(2022, 6, 10), "形成初稿")]),
        task("351-A2-01", [PLANNING], "城市风貌管控长效机制。", deadline_text="长期坚持", ongoing=True),
        task("351-A2-02", [PLANNING], "老城街区更新方案编制。", deadline_text="2022年6月底前",
             deadline=date(2022, 6, 30), milestones=[Milestone(date(2022, 6, 10), "完成方案")]),
        task("351-A3-01", [HRSS], "青年人才公寓筹集。", deadline=date(2022, 12, 31)),
        task("351-A3-02", [NDRC], "青年创业扶持资金。", deadline_text="2022年10月底前", deadline=date(2022, 10, 31)),
        task("351-A4-01", [RELICS], "遗址公园展示工程。", deadline_text="2022年9月底前", deadline=date(2022, 9, 30)),
        task("351-A3-03", [HRSS], "就业创业体验馆。", deadline=date(2022, 6, 30)),
        task("351-A5-01", [EDUCATION], "校园周边环境整治。", deadline=date(2022, 12, 31)),
    ])


def judgement(week: int, task: str, unit: str, light: str = "green", status: str = "按序时推进", **kw) -> Judgement:
    kw.setdefault("report_state", "on_time")
    kw.setdefault("progress", "本期推进有关工作。")
    kw.setdefault("percent", 50)
    kw.setdefault("schedule_percent", 50)
    return Judgement(programme="351", period=WEEKS[week], task_id=task, unit=unit, light=light,
                     reason=kw.pop("reason", ""), status=status, **kw)


def month_judgements() -> dict[str, list[Judgement]]:
    """The hand-built month, judged as consolidate judges (docs/rules.md): every scoring rule is hit
    at least once."""
    weeks: dict[str, list[Judgement]] = {w: [] for w in WEEKS}
    for i, week in enumerate(WEEKS):
        rows = weeks[week]
        # 交通: two yellow task-periods (−2), two early milestones (+2) → 100
        rows.append(judgement(i, "351-A1-01", TRANSPORT, early_milestones=2 if i == 2 else 0))
        rows.append(judgement(i, "351-A1-02", TRANSPORT, "yellow" if i in (1, 2) else "green",
                       "滞后" if i in (1, 2) else "按序时推进", reason="偏差-15" if i in (1, 2) else ""))
        # 发改: late in W23 (−1), red in W22 (−2), yellow in W25 (−1) → 96
        state = "late" if i == 1 else "on_time"
        rows.append(judgement(i, "351-A1-02", NDRC, report_state=state))
        light = {0: "red", 3: "yellow"}.get(i, "green")
        rows.append(judgement(i, "351-A3-02", NDRC, light, "滞后" if light != "green" else "按序时推进", report_state=state,
                       reason={"red": "偏差-40", "yellow": "偏差-20"}.get(light, ""),
                       percent=10 if light == "red" else 50))
        # 规划: copied W22 (−1), red W22 (−2), overdue from W23 (−3 once), missing W24 (−3),
        # rejected W25 (−3); its ongoing task unreported: yellow in W24 (−1), red in W25, the second
        # period running (−2) → 85
        state = {2: "missing", 3: "rejected"}.get(i, "on_time")
        unreported = state != "on_time"
        carried = {"carried": unreported, "carried_from": "2022-W23" if unreported else "",
                   "unreported": unreported, "unreported_periods": i - 1 if unreported else 0}
        said = {2: "未报送（沿用第23周数据：常态化推进）", 3: "连续2期退回未改（沿用第23周数据：常态化推进）"}
        rows.append(judgement(i, "351-A2-01", PLANNING, {2: "yellow", 3: "red"}.get(i, "green"),
                       "未报送" if unreported else "常态化推进", report_state=state, copied=i == 0,
                       reason=said.get(i, "常态化推进"), schedule_percent=None, **carried))
        rows.append(judgement(i, "351-A2-02", PLANNING, "red", "滞后" if i == 0 else "未报送" if unreported else "逾期未完成",
                       report_state=state, overdue=i > 0, reason="偏差-35" if i == 0 else "节点逾期",
                       milestone_due=date(2022, 6, 10), milestone_text="完成方案", percent=40, schedule_percent=90,
                       **carried))
        # 人社: 7 task-periods without real progress, capped at 5 (−5) → 95
        rows.append(judgement(i, "351-A3-01", HRSS, progress="同上期" if i == 1 else "", copied=i == 1))
        rows.append(judgement(i, "351-A3-03", HRSS, status="已完成" if i == 3 else "按序时推进", progress=""))
        # 文物: 4 + 3 + 1 early milestones, bonus capped at 5 → 105
        rows.append(judgement(i, "351-A4-01", RELICS, status="已完成" if i == 3 else "超序时",
                       early_milestones={0: 4, 1: 3, 2: 1}.get(i, 0)))
        # 教育: clean → 100
        rows.append(judgement(i, "351-A5-01", EDUCATION))
    return weeks
