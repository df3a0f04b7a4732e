"""When a file was received, and how that is known: an e-mail's Date, a loose file's modification
time, the time the office gives (--received-at), the collection time only when nothing else."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CG, JT, filled, reply_mail

from ledger.cli import main
from ledger.collect.api import collect
from ledger.collect.intake import gather
from ledger.config import Workspace
from ledger.errors import InputError
from ledger.periods import CHINA
from ledger.reporting import period_status

NOW = datetime(2022, 6, 13, 9, 0, tzinfo=CHINA)  # Monday after the due Friday


def saved_at(path: Path, moment: datetime) -> Path:
    """The file as the mail client saved it at *moment* (its modification time)."""
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    return path


def test_loose_files_are_received_when_they_were_saved(ws: Workspace, tmp_path: Path, open_run) -> None:
    inbox = tmp_path / "inbox"
    saved_at(filled(ws, JT, inbox), datetime(2022, 6, 10, 15, 40, tzinfo=CHINA))  # before 16:00
    saved_at(filled(ws, CG, inbox), datetime(2022, 6, 10, 19, 5, tzinfo=CHINA))  # after it
    run = open_run(now=NOW)
    files = {f.unit: (f.received_at, f.received_source) for f in collect(run, [inbox]).files}
    assert files == {JT: (datetime(2022, 6, 10, 15, 40, tzinfo=CHINA), "mtime"),
                     CG: (datetime(2022, 6, 10, 19, 5, tzinfo=CHINA), "mtime")}
    states = {r.unit: r.state for r in period_status(run)}
    assert (states[JT], states[CG]) == ("on_time", "late")


def test_a_modification_time_after_the_collection_is_no_evidence(tmp_path: Path) -> None:
    """Saved on Monday, collected with the clock at Sunday: the collection time is all there is."""
    box = tmp_path / "box"
    box.mkdir()
    (box / "a.xlsx").write_bytes(b"PK\x03\x04")
    saved_at(box / "a.xlsx", NOW)
    later = gather([box], tmp_path / "s1", now=datetime(2022, 6, 12, tzinfo=CHINA))
    assert [(i.received_at, i.received_source) for i in later.items] == [(datetime(2022, 6, 12, tzinfo=CHINA),
                                                                         "collected")]


def test_received_at_for_the_whole_folder_but_not_for_mail(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)  # saved now, but the clerk knows it arrived on Friday afternoon
    attachment = filled(ws, CG, tmp_path / "att")
    reply_mail(inbox / "cg.eml", [(attachment.name, attachment.read_bytes())],
               date="Fri, 10 Jun 2022 18:00:00 +0800")
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23",
                               "--received-at", "2022-06-10 15:00"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["-w", str(ws.root), "status", "-p", "351", "--period", "2022-W23"])
    lines = {line.split("\t")[1]: line for line in res.output.splitlines() if "\t" in line}
    assert lines[JT] == f"按时\t{JT}\t6月10日 15:00（收集时指定的收到时间）\t截止 6月10日 16:00"
    assert lines[CG] == f"逾期\t{CG}\t6月10日 18:00（邮件发送时间）\t截止 6月10日 16:00"


def test_a_received_time_in_the_future_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="晚于现在"):
        gather([tmp_path / "a.xlsx"], tmp_path / "s", now=NOW, given=datetime(2022, 6, 14, tzinfo=CHINA))


def test_a_mail_dated_after_the_collection_counts_from_the_collection(ws: Workspace, tmp_path: Path) -> None:
    attachment = filled(ws, JT, tmp_path / "att")
    reply_mail(tmp_path / "box" / "x.eml", [(attachment.name, attachment.read_bytes())],
               date="Tue, 14 Jun 2022 09:00:00 +0800")  # the sender's clock is a day ahead
    intake = gather([tmp_path / "box"], tmp_path / "s", now=NOW)
    assert [(i.received_at, i.received_source) for i in intake.items] == [(NOW, "collected")]
    assert [p.code for p in intake.problems] == ["mail-future-date"]


def test_status_gives_the_year_when_it_is_not_the_periods(ws: Workspace, tmp_path: Path) -> None:
    """Week 52 of 2022 reported in January 2023: the received time says 2023年."""
    inbox = tmp_path / "inbox"
    saved_at(filled(ws, JT, inbox, period="2022-W52"), datetime(2023, 1, 2, 10, 0, tzinfo=CHINA))
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W52"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["-w", str(ws.root), "status", "-p", "351", "--period", "2022-W52"])
    assert f"逾期\t{JT}\t2023年1月2日 10:00（文件修改时间）\t截止 12月30日 16:00" in res.output
