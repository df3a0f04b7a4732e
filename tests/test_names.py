"""Names never break a run: any length, any bytes; one receipt that cannot be written stops no other."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner
from conftest import CG, JT, filled

from ledger.cli import main
from ledger.config import Workspace
from ledger.fsutil import NAME_MAX_BYTES, readable_name, safe_filename


def collect_json(ws: Workspace, inbox: Path):
    args = ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23", "--json"]
    res = CliRunner().invoke(main, args)
    return res, json.loads(res.output) if res.output.startswith("{") else None


def test_safe_filename_bounds_any_name_and_keeps_long_ones_apart() -> None:
    long_a, long_b = "关于" * 80 + "甲", "关于" * 80 + "乙"
    a, b = safe_filename(long_a), safe_filename(long_b)
    assert len(a.encode()) <= NAME_MAX_BYTES and len(b.encode()) <= NAME_MAX_BYTES
    assert a != b and a.startswith("关于关于")
    assert safe_filename("a/b:c\n\udcff.") == "a_b_c__"
    assert safe_filename(" . ") == "_" and safe_filename("NUL.txt") == "_NUL.txt"
    assert safe_filename("市交通运输局") == "市交通运输局"  # ordinary names unchanged


def test_a_name_in_undecodable_bytes_reads_as_gbk() -> None:
    raw = os.fsdecode("工作台账.xlsx".encode("gbk"))
    assert readable_name(raw) == "工作台账.xlsx"
    assert readable_name(os.fsdecode(b"\xff\xfe.xlsx")) == "\ufffd\ufffd.xlsx"
    assert readable_name("a\nb.xlsx") == "a b.xlsx"


def test_a_long_name_and_a_name_of_raw_bytes_are_collected_with_receipts(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    long_name = "关于报送第二十三周工作台账的函" * 5 + "附件表.xls"  # 238 bytes, a CSV: a file name may be this long, a receipt name may not
    assert len(long_name.encode()) == 238
    (inbox / long_name).write_text("序号,任务\n1,示例\n", encoding="utf-8")
    gbk = os.fsencode(inbox) + b"/" + "城管局台账.xlsx".encode("gbk")  # saved on Windows, copied to this disk
    with open(gbk, "wb") as fh:
        fh.write(filled(ws, CG, tmp_path / "cg").read_bytes())
    filled(ws, JT, inbox)  # comes after both in name order: its receipt must be written too
    res, out = collect_json(ws, inbox)
    assert out is not None, res.output
    assert res.exit_code == 1  # the CSV is sent back
    by_file = {f["file"]: f for f in out["submissions"]}
    assert by_file[long_name]["outcome"] == "rejected"
    assert by_file["城管局台账.xlsx"]["outcome"] == "accepted"
    receipts = sorted((ws.root / "out" / "351" / "2022-W23" / "receipts").glob("*_回执.txt"))
    assert len(receipts) == 3
    assert all(len(p.name.encode()) < 200 for p in receipts)
    assert any(p.name.startswith("关于报送") for p in receipts)


def test_one_receipt_that_cannot_be_written_stops_no_other(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    filled(ws, CG, inbox)
    filled(ws, JT, inbox)
    folder = ws.root / "out" / "351" / "2022-W23" / "receipts"
    res, out = collect_json(ws, inbox)
    assert res.exit_code == 0 and out is not None
    cg_receipt = next(folder.glob(f"{CG}_*_回执.txt"))
    # the same files again after the receipts were lost, one of them blocked by a folder of its name
    for p in folder.iterdir():
        p.unlink()
    cg_receipt.mkdir()
    res, out = collect_json(ws, inbox)
    assert out is not None, res.output  # the run's JSON is printed all the same
    assert res.exit_code == 1
    assert [(p["code"], p["file"].endswith(f"{CG}_工作台账.xlsx")) for p in out["problems"]] == [
        ("receipt-not-written", True)]
    assert len(list(folder.glob(f"{JT}_*_回执.txt"))) == 1
