"""`ledger consolidate`, `assess` and `bulletin` through the command line: exit codes, JSON, files."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import CG, JT, ZJ, filled

from ledger.cli import main
from ledger.config import Workspace


def invoke(ws: Workspace, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["-w", str(ws.root), *args])
    return res.exit_code, res.output


@pytest.fixture()
def collected(ws: Workspace, tmp_path: Path) -> Workspace:
    """Week 23 of June 2022: 交通运输局 and 城管局 reported (城管局 with a lagging task), 住建局 did not."""
    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)
    filled(ws, CG, inbox, percent=5, status="滞后")
    code, out = invoke(ws, "collect", str(inbox), "-p", "351", "--period", "2022-W23", "--no-receipts")
    assert code == 0, out
    return ws


def test_consolidate_prints_counts_and_writes_the_summary(collected: Workspace) -> None:
    code, out = invoke(collected, "consolidate", "-p", "351", "--period", "2022-W23")
    assert code == 0, out
    path = collected.out_dir("351", "2022-W23") / "汇总表.xlsx"
    assert f"汇总表已写入 {path}" in out and "应报3个单位" in out and "未报送1个" in out
    assert openpyxl.load_workbook(path).sheetnames[:2] == ["总表", "按单位"]


def test_consolidate_json_is_the_summary(collected: Workspace) -> None:
    code, out = invoke(collected, "consolidate", "-p", "351", "--period", "2022-W23", "--json")
    assert code == 0, out
    data = json.loads(out)
    states = {r["unit"]: r["state"] for r in data["reporting"]}
    assert states[ZJ] == "missing" and data["counts"]["missing"] == 1
    assert {r["unit"] for r in data["by_unit"]} == {JT, CG, ZJ}


def test_consolidate_usage_errors_are_chinese(ws: Workspace) -> None:
    code, out = invoke(ws, "consolidate", "-p", "351", "--period", "2022-06")
    assert code == 1 and "2022-W23" in out
    code, out = invoke(ws, "consolidate", "-p", "nope", "--period", "2022-W23")
    assert code == 1 and "未知的项目“nope”" in out


def test_assess_ranks_every_lead_unit_and_writes_the_scores(collected: Workspace) -> None:
    code, out = invoke(collected, "assess", "-p", "351", "--month", "2022-06", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["periods"] == ["2022-W22", "2022-W23", "2022-W24", "2022-W25"]
    assert {s["unit"] for s in data["scores"]} == {JT, CG, ZJ}
    assert Path(data["xlsx"]).is_file()
    code, out = invoke(collected, "assess", "-p", "351", "--month", "2022-6")
    assert code == 0 and "得分及扣分明细已写入" in out


def test_assess_bad_month(ws: Workspace) -> None:
    code, out = invoke(ws, "assess", "-p", "351", "--month", "六月")
    assert code == 1 and "2022-06 这样的格式" in out


def test_bulletin_writes_word_and_html(collected: Workspace) -> None:
    code, out = invoke(collected, "bulletin", "-p", "351", "--month", "2022-06", "--date", "2022-07-05", "--no-pdf",
                       "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["number"] == 1 and data["pdf"] is None
    html = Path(data["html"]).read_text(encoding="utf-8")
    assert Path(data["docx"]).is_file() and "2022年6月份工作推进情况的通报" in html
    code, out = invoke(collected, "bulletin", "-p", "351", "--month", "2022-06", "--date", "2022-07-05", "--no-pdf")
    assert code == 0 and "第 1 期考核通报" in out  # the same month keeps its number
