"""Receipts belong to the bytes they answer and are never rewritten; they say how late a file is."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from conftest import CG, JT, filled, reply_mail

from ledger.cli import main
from ledger.collect.api import collect
from ledger.collect.receipts import write_receipts
from ledger.config import Workspace
from ledger.mail.replies import write_replies
from ledger.periods import CHINA

FRIDAY = datetime(2022, 6, 10, 18, 0, tzinfo=CHINA)


def inbox_of_two(ws: Workspace, tmp_path: Path) -> Path:
    """交通运输局 by e-mail on time, 城管局's file sent back (a status that is not in the list)."""
    inbox = tmp_path / "inbox"
    attachment = filled(ws, JT, tmp_path / "att")
    reply_mail(inbox / "jt.eml", [(attachment.name, attachment.read_bytes())],
               date="Fri, 10 Jun 2022 15:00:00 +0800", sender="clerk@example.org")
    filled(ws, CG, inbox, status="差不多")
    return inbox


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


def receipts_run(run, inbox: Path):
    result = collect(run, [inbox])
    receipts = write_receipts(run, result)
    return result, receipts, write_replies(run, receipts)


def test_collecting_the_same_folder_again_rewrites_nothing(ws: Workspace, tmp_path: Path, open_run) -> None:
    inbox = inbox_of_two(ws, tmp_path)
    _, receipts, replies = receipts_run(open_run(now=FRIDAY), inbox)
    folder = receipts[0].text_path.parent
    assert len(replies) == 2
    first = snapshot(folder)
    texts = {r.unit: r.text for r in receipts}
    assert "已登记（通过）" in texts[JT] and "退回（请修改后重新报送）" in texts[CG]
    # the next morning, the same folder again
    result, again, replies = receipts_run(open_run(now=FRIDAY + timedelta(hours=15)), inbox)
    assert {f.outcome for f in result.files} == {"duplicate"}
    assert [r.written for r in again] == [False, False] and replies == {}
    assert snapshot(folder) == first  # byte for byte, not even touched
    subjects = {r.unit: email.message_from_bytes((folder / f"{r.stem}_回执.eml").read_bytes(),
                                                 policy=email.policy.default)["Subject"] for r in again}
    assert subjects[CG].startswith("【回执·退回】") and subjects[JT].startswith("【回执·已登记】")


def test_the_cli_says_a_repeat_has_its_receipt(ws: Workspace, tmp_path: Path) -> None:
    inbox = inbox_of_two(ws, tmp_path)
    args = ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"]
    runner = CliRunner()
    assert runner.invoke(main, args).exit_code == 1  # one file sent back
    res = runner.invoke(main, args)
    assert res.output.count("重复文件，已有回执") == 2, res.output
    assert "新写 0 份" in res.output
    assert "重复报送" not in res.output


KILL_AFTER_STORING = """
import os, signal, sys
import ledger.collect.receipts as receipts
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # kill -9: the store has committed, no receipt is written
receipts.write_receipts = killed
from ledger.cli import main
sys.argv = ["ledger", *sys.argv[1:]]
main()
"""


def test_after_a_kill_the_recovery_run_writes_the_first_verdicts(ws: Workspace, tmp_path: Path) -> None:
    inbox = inbox_of_two(ws, tmp_path)
    args = ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"]
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_STORING, *args], capture_output=True, timeout=120)
    assert killed.returncode == -9
    folder = ws.out_dir("351", "2022-W23") / "receipts"
    assert not folder.exists()
    res = CliRunner().invoke(main, args)
    assert "（此前已登记，补写回执）" in res.output
    texts = {p.name.split("_")[0]: p.read_text(encoding="utf-8") for p in folder.glob("*_回执.txt")}
    assert "已登记（通过）" in texts[JT] and "退回（请修改后重新报送）" in texts[CG]
    assert not any("重复" in t for t in texts.values())
    assert "收到时间：6月10日 15:00（邮件发送时间）" in texts[JT]  # the first run's, from the store
    recovered = snapshot(folder)
    assert len(recovered) == 4  # two receipts, two replies
    CliRunner().invoke(main, args)
    assert snapshot(folder) == recovered


def test_a_late_receipt_says_how_late_and_what_it_costs(ws: Workspace, tmp_path: Path, open_run) -> None:
    attachment = filled(ws, JT, tmp_path / "att")
    reply_mail(tmp_path / "inbox" / "jt.eml", [(attachment.name, attachment.read_bytes())],
               date="Sat, 11 Jun 2022 12:00:00 +0800")
    _, [receipt], replies = receipts_run(open_run(now=datetime(2022, 6, 13, 9, tzinfo=CHINA)), tmp_path / "inbox")
    assert "逾期情况：截止6月10日16时，收到6月11日12时，逾期20小时；按考核办法，逾期报送的当期扣1分。" in receipt.text
    assert receipt.text.rstrip().endswith("2022年6月13日")  # dated when it was written
    reply = email.message_from_bytes(replies[receipt.file].read_bytes(), policy=email.policy.default)
    assert reply["Subject"].startswith("【回执·已登记（逾期）】")
    assert reply["Date"] == "Mon, 13 Jun 2022 09:00:00 +0800"


def test_an_on_time_receipt_says_nothing_of_lateness(ws: Workspace, tmp_path: Path, open_run) -> None:
    _, receipts, _ = receipts_run(open_run(now=FRIDAY), inbox_of_two(ws, tmp_path))
    texts = {r.unit: r.text for r in receipts}
    assert "逾期" not in texts[JT]
    # sent back after the due time: resending is late, and the receipt says so
    assert "尽快重新报送（截止时间已过，重新报送的按逾期报送计）" in texts[CG]


def test_receipts_of_a_run_compile_their_template_once(ws: Workspace, tmp_path: Path, open_run,
                                                        monkeypatch) -> None:
    """One jinja2 environment per process: the receipt template is compiled for the first
    receipt and reused for the others (and for a second run), not compiled per file."""
    import jinja2

    from ledger import templating

    compiled: list[str | None] = []
    compile_ = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, *args, **kwargs):
        compiled.append(name)
        return compile_(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    templating._environment.cache_clear()
    for n in range(4):  # four different returns from each unit
        for unit in (JT, CG):
            filled(ws, unit, tmp_path / ("first" if n < 3 else "later") / str(n), progress=f"第{n}次报送")
    _, receipts, _ = receipts_run(open_run(now=FRIDAY), tmp_path / "first")
    assert sum(r.written for r in receipts) == 6
    assert compiled.count("receipt.txt.j2") == 1
    _, receipts, _ = receipts_run(open_run(now=FRIDAY), tmp_path / "later")  # a second run, same process
    assert sum(r.written for r in receipts) == 2
    assert compiled.count("receipt.txt.j2") == 1


def test_receipts_rendered_while_collecting_are_those_written_after(ws: Workspace, tmp_path: Path, open_run,
                                                                    monkeypatch) -> None:
    """The command line renders receipts and replies as each batch of files is stored (while the
    workers judge the next), and writes them all at the end: the same receipts and replies as
    when they are made from the finished result."""
    from ledger.collect import api
    from ledger.collect.receipts import Receipts, receipt_text
    from ledger.mail.replies import Replies

    inbox = inbox_of_two(ws, tmp_path)
    filled(ws, JT, inbox / "again", progress="又改了一稿")
    run = open_run(now=FRIDAY)
    ahead, replies, told = Receipts(run), Replies(run), []

    def stored(result, files):
        told.extend(files)
        replies.add(ahead.add(result, files))

    monkeypatch.setattr(api, "BATCH_MAX", 1)  # a transaction a file: three calls
    result = collect(run, [inbox], on_stored=stored)
    assert told == result.files and len(told) == 3
    assert not (run.out_dir() / "receipts").exists()  # nothing written before the end
    receipts = write_receipts(run, result, prepared=ahead)
    drafts = write_replies(run, receipts, prepared=replies)
    assert [r.text for r in receipts] == [receipt_text(run, result, f) for f in result.files]
    assert all(r.text_path.read_text(encoding="utf-8") == r.text for r in receipts)
    assert sorted(drafts) == sorted(f.file for f in result.files) and all(p.is_file() for p in drafts.values())
