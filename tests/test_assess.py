"""``assess``: monthly scores from hand-built judgements, with exact deductions and ranks."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from month import (  # the hand-built month
    EDUCATION,
    HRSS,
    MONTH,
    NDRC,
    PLANNING,
    RELICS,
    REPO_CONFIG,
    TOTALS,
    TRANSPORT,
    WEEKS,
    judgement,
    make_registry,
    month_judgements,
)

from ledger import config
from ledger.assess import NothingToAssess, assess
from ledger.assess import api as assess_api
from ledger.assess.score import UnitScore, change_text, fmt_points, rank_scores
from ledger.assess.workbook import ITEMS_SHEET, RANKING_HEADERS, RANKING_SHEET, RULES_SHEET
from ledger.errors import LedgerError
from ledger.run import Run
from ledger.store import open_store


@pytest.fixture
def ws(tmp_path: Path) -> config.Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(REPO_CONFIG, root / config.CONFIG_NAME)
    return config.load(root)


@pytest.fixture
def store(ws: config.Workspace):
    st = open_store(ws.paths.store)
    for week, rows in month_judgements().items():
        st.save_lights("351", week, [j.to_row() for j in rows])
    yield st
    st.close()


def _items(result, unit: str) -> list[tuple[str, str, str, float]]:
    score = next(s for s in result.scores if s.unit == unit)
    return [(i.rule, i.period, i.task_id, i.points) for i in score.items]


def test_totals_ranks_and_grades(ws, store) -> None:
    result = assess(Run.open_month(ws, "351", MONTH, store=store, registry=make_registry()))
    assert {s.unit: s.total for s in result.scores} == TOTALS
    assert [(s.rank, s.unit) for s in result.scores] == [
        (1, RELICS), (2, TRANSPORT), (2, EDUCATION), (4, NDRC), (5, HRSS), (6, PLANNING)]
    assert {s.unit: s.grade for s in result.scores}[PLANNING] == "良好"
    assert all(s.grade == "优秀" for s in result.scores if s.unit != PLANNING)
    assert [p.key for p in result.periods] == list(WEEKS)


def test_late_missing_rejected_and_red(ws, store) -> None:
    result = assess(Run.open_month(ws, "351", MONTH, store=store))
    assert _items(result, NDRC) == [
        ("red", WEEKS[0], "351-A3-02", -2), ("late", WEEKS[1], "", -1), ("yellow", WEEKS[3], "351-A3-02", -1)]
    score = next(s for s in result.scores if s.unit == NDRC)
    assert (score.report, score.task, score.bonus) == (-1, -3, 0)
    assert score.reports == {"on_time": 3, "late": 1}


def test_overdue_once_a_month_without_extra_red(ws, store) -> None:
    result = assess(Run.open_month(ws, "351", MONTH, store=store))
    assert _items(result, PLANNING) == [
        ("no_progress", WEEKS[0], "351-A2-01", -1),
        ("red", WEEKS[0], "351-A2-02", -2),
        ("overdue", WEEKS[1], "351-A2-02", -3),
        ("missing", WEEKS[2], "", -3),
        ("yellow", WEEKS[2], "351-A2-01", -1),  # not reporting costs the light of the unreported task too
        ("rejected", WEEKS[3], "", -3),
        ("red", WEEKS[3], "351-A2-01", -2),
    ]
    overdue = next(i for i in next(s for s in result.scores if s.unit == PLANNING).items if i.rule == "overdue")
    assert "完成方案" in overdue.note and "2022年6月10日" in overdue.note
    assert "第23周、第24周、第25周不再另扣红灯分" in overdue.note


def test_no_progress_capped_and_done_tasks_exempt(ws, store) -> None:
    result = assess(Run.open_month(ws, "351", MONTH, store=store))
    items = _items(result, HRSS)
    assert items == [
        ("no_progress", WEEKS[0], "351-A3-01", -1), ("no_progress", WEEKS[0], "351-A3-03", -1),
        ("no_progress", WEEKS[1], "351-A3-01", -1), ("no_progress", WEEKS[1], "351-A3-03", -1),
        ("no_progress", WEEKS[2], "351-A3-01", -1), ("no_progress", WEEKS[2], "351-A3-03", 0),
        ("no_progress", WEEKS[3], "351-A3-01", 0),
    ]  # W25 351-A3-03 is 已完成: no deduction at all
    notes = [i.note for i in next(s for s in result.scores if s.unit == HRSS).items]
    assert notes[2] == "本期进展照抄上期，扣1分"
    assert notes[0] == "本期进展未填写，扣1分"
    assert notes[5] == "本期进展未填写（本月无实质进展扣分已达上限5分，不再扣分）"


def test_early_bonus_capped(ws, store) -> None:
    result = assess(Run.open_month(ws, "351", MONTH, store=store))
    assert _items(result, RELICS) == [
        ("early", WEEKS[0], "351-A4-01", 4), ("early", WEEKS[1], "351-A4-01", 1), ("early", WEEKS[2], "351-A4-01", 0)]
    notes = [i.note for i in next(s for s in result.scores if s.unit == RELICS).items]
    assert notes[0] == "提前完成时间节点4个，加4分"
    assert notes[1] == "提前完成时间节点3个，加1分（本月加分上限5分，本项只计1分）"
    assert _items(result, TRANSPORT) == [
        ("yellow", WEEKS[1], "351-A1-02", -1), ("yellow", WEEKS[2], "351-A1-02", -1),
        ("early", WEEKS[2], "351-A1-01", 2)]


def test_weights_come_from_ledger_toml(tmp_path: Path) -> None:
    root = tmp_path / "ws2"
    root.mkdir()
    text = REPO_CONFIG.read_text(encoding="utf-8").replace("late = 1\n", "late = 2\n")
    text = text.replace("missing = 3\n", "missing = 10\n")
    (root / config.CONFIG_NAME).write_text(text, encoding="utf-8")
    workspace = config.load(root)
    with open_store(workspace.paths.store) as st:
        for week, rows in month_judgements().items():
            st.save_lights("351", week, [j.to_row() for j in rows])
        result = assess(Run.open_month(workspace, "351", MONTH, store=st))
    totals = {s.unit: s.total for s in result.scores}
    assert totals[NDRC] == 95  # late 2 instead of 1
    assert totals[PLANNING] == 78  # missing 10 instead of 3; rejected keeps its own weight


def test_floor(ws) -> None:
    with open_store(ws.paths.store) as st:
        for i, week in enumerate(WEEKS):
            rows = [judgement(i, f"351-X-{n:02d}", "市甲局", "red", "滞后", report_state="missing", carried=True)
                    for n in range(20)]
            st.save_lights("351", week, [j.to_row() for j in rows])
        result = assess(Run.open_month(ws, "351", MONTH, store=st))
    (score,) = result.scores
    assert score.raw_total == 100 - 4 * 3 - 80 * 2
    assert score.total == 0 and score.floored and score.grade == "一般"


def test_change_against_previous_month(ws, store) -> None:
    store.save_scores("351", "2022-05", [
        {"unit": RELICS, "rank": 3}, {"unit": TRANSPORT, "rank": 1}, {"unit": EDUCATION, "rank": 2},
        {"unit": HRSS, "rank": 5}, {"unit": PLANNING, "rank": 4},
    ])
    result = assess(Run.open_month(ws, "351", MONTH, store=store))
    changes = {s.unit: s.change for s in result.scores}
    assert changes == {RELICS: "↑2", TRANSPORT: "↓1", EDUCATION: "—", NDRC: "新", HRSS: "—", PLANNING: "↓2"}
    assert result.has_previous and not result.notes


def test_first_month_shows_no_change_and_says_why(ws, store) -> None:
    result = assess(Run.open_month(ws, "351", MONTH, store=store))
    assert {s.change for s in result.scores} == {"—"}
    assert not result.has_previous
    assert result.notes == ["2022年5月尚无考核结果，本月不显示位次变化。"]


def test_scores_are_stored_for_next_month(ws, store) -> None:
    assess(Run.open_month(ws, "351", MONTH, store=store))
    rows = store.scores("351", "2022-06")
    assert {r["unit"]: (r["rank"], r["total"]) for r in rows}[PLANNING] == (6, 85)
    assert rows[0]["items"][0]["rule_name"] == "提前完成节点"
    assert store.scores("351", "2022-07") == []
    assert store.lights("351", "score:2022-06") == []  # scores are not lights


def test_workbook_ranking_items_and_rules(ws, store) -> None:
    result = assess(Run.open_month(ws, "351", MONTH, store=store))
    assert result.xlsx == ws.out_dir("351", MONTH) / "考核得分.xlsx"
    wb = openpyxl.load_workbook(result.xlsx)
    assert wb.sheetnames == [RANKING_SHEET, ITEMS_SHEET, RULES_SHEET]
    ranking = wb[RANKING_SHEET]
    assert tuple(c.value for c in ranking[3]) == RANKING_HEADERS
    assert tuple(c.value for c in ranking[4]) == (1, RELICS, 0, 0, 5, 105, "优秀", "—")
    assert tuple(c.value for c in ranking[9]) == (6, PLANNING, -7, -8, 0, 85, "良好", "—")
    assert ranking.print_title_rows == "$3:$3"
    items = list(wb[ITEMS_SHEET].iter_rows(min_row=2, values_only=True))
    assert len(items) == sum(len(s.items) for s in result.scores)
    assert (PLANNING, "第23周", "351-A2-02", "逾期未完成", -3) == items[-5][:5]
    rules = {r[1]: r[2] for r in wb[RULES_SHEET].iter_rows(min_row=2, values_only=True)}
    assert rules["scoring.missing"] == 3 and rules["scoring.bonus_cap"] == 5
    assert rules["scoring.missing_grade_cap"] == "良好" and rules["scoring.criticism"] == "黑榜"
    assert wb.properties.created.date() == date(2022, 6, 1)


def test_workbook_is_deterministic_and_text_is_never_a_formula(ws, store) -> None:
    first = assess(Run.open_month(ws, "351", MONTH, store=store)).xlsx.read_bytes()
    second = assess(Run.open_month(ws, "351", MONTH, store=store)).xlsx.read_bytes()
    assert first == second
    for week in WEEKS:
        rows = [dict(r, unit="=HYPERLINK(\"http://x\")") for r in store.lights("351", week)]
        store.save_lights("351", week, rows)
    path = assess(Run.open_month(ws, "351", MONTH, store=store)).xlsx
    cell = openpyxl.load_workbook(path)[RANKING_SHEET]["B4"]
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"


def test_json_round_trips(ws, store) -> None:
    data = json.loads(json.dumps(assess(Run.open_month(ws, "351", MONTH, store=store)).to_json(), ensure_ascii=False))
    assert data["month"] == MONTH and data["periods"] == list(WEEKS)
    assert data["scores"][0]["unit"] == RELICS and data["scores"][0]["bonus"] == 5
    assert data["rules"]["overdue"] == 3


def test_month_without_periods(ws) -> None:
    with open_store(ws.paths.store) as st, pytest.raises(NothingToAssess, match="没有到期的报送期次"):
        assess(Run.open_month(ws, "yanshi", "2023-05", store=st))


def test_month_without_judgements_says_run_consolidate(ws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assess_api, "judge_and_save", lambda run: SimpleNamespace(judgements=[]))
    with open_store(ws.paths.store) as st, pytest.raises(NothingToAssess) as err:
        assess(Run.open_month(ws, "351", MONTH, store=st, registry=make_registry()))
    message = str(err.value)
    assert "ledger consolidate --programme 351 --period 2022-W22" in message
    assert "2022-W25" in message


def test_a_period_without_stored_lights_is_judged(ws, monkeypatch: pytest.MonkeyPatch) -> None:
    weeks = month_judgements()
    asked = []

    def judge(run):
        asked.append(run.period.key)
        return SimpleNamespace(judgements=weeks[run.period.key])

    monkeypatch.setattr(assess_api, "judge_and_save", judge)
    with open_store(ws.paths.store) as st:
        for week in WEEKS[:3]:
            st.save_lights("351", week, [j.to_row() for j in weeks[week]])
        result = assess(Run.open_month(ws, "351", MONTH, store=st, registry=make_registry()))
    assert asked == ["2022-W25"]
    assert {s.unit: s.total for s in result.scores} == TOTALS


@pytest.mark.parametrize("text", ["2022-13", "2022/06", "六月", ""])
def test_bad_month(ws, text: str) -> None:
    with pytest.raises(LedgerError, match="2022-06 这样的格式"):
        assess(Run.open_month(ws, "351", text))


def test_points_text() -> None:
    assert [fmt_points(v) for v in (1.0, 0.5, -2.0, 94.5, -0.0)] == ["1", "0.5", "-2", "94.5", "0"]
    assert fmt_points(2, signed=True) == "+2" and fmt_points(0, signed=True) == "0"


def test_ranks_share_ties_and_change_words() -> None:
    scores = [UnitScore(u, items=[]) for u in "abcd"]
    for s, start in zip(scores, (90, 95, 95, 80), strict=True):
        s.start = start
    rank_scores(scores)
    assert [s.rank for s in scores] == [3, 1, 1, 4]
    assert change_text(2, 4, has_previous=True) == "↑2"
    assert change_text(3, 2, has_previous=True) == "↓1"
    assert change_text(3, 3, has_previous=True) == "—"
    assert change_text(3, None, has_previous=True) == "新"
    assert change_text(3, None, has_previous=False) == "—"
