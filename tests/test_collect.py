"""collect end to end: folders, e-mails, zips → verdicts, store, receipts, status."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CG, DUE_W23, JT, PERIOD, ZJ, filled, reply_mail, small_registry

from ledger.cli import main
from ledger.collect.api import collect
from ledger.collect.receipts import write_receipts
from ledger.config import Workspace
from ledger.mail.replies import write_replies
from ledger.periods import CHINA, to_china_time
from ledger.registry.units import UnitDirectory
from ledger.reporting import period_status
from ledger.run import Run, open_workspace_store
from ledger.store.archive import count_originals


def test_inbox_verdicts_status_and_receipts(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    # 交通运输局 by e-mail before the due time; 城管局 a loose file, collected after it.
    attachment = filled(ws, JT, tmp_path / "a")
    reply_mail(inbox / f"{attachment.stem}.eml", [(attachment.name, attachment.read_bytes())],
               date="Fri, 10 Jun 2022 15:59:00 +0800", sender="clerk@example.org")
    filled(ws, CG, inbox)
    now = datetime(2022, 6, 10, 18, 30, tzinfo=CHINA)
    with open_workspace_store(ws) as store:
        result = collect(Run.open(ws, "351", "2022-W23", now=now, store=store), [inbox])
        outcomes = {f.unit: (f.outcome, f.received_source) for f in result.files}
        assert outcomes == {JT: ("accepted", "email"), CG: ("accepted", "collected")}
        rows = period_status(Run.open(ws, "351", "2022-W23", now=now, store=store))
        states = {r.unit: (r.state, r.received_at) for r in rows}
        assert states == {
            JT: ("on_time", datetime(2022, 6, 10, 15, 59, tzinfo=CHINA)),
            CG: ("late", now),
            ZJ: ("missing", None),
        }
        assert [r.due for r in rows if r.unit == JT] == [DUE_W23]
        run = Run.open(ws, "351", "2022-W23", now=now, store=store)
        receipts = write_receipts(run, result)
        replies = write_replies(run, receipts)
        audit_rows = len(store.audit())
        # Collecting the same inbox again changes nothing.
        again = collect(Run.open(ws, "351", "2022-W23", now=now, store=store), [inbox])
        assert {f.outcome for f in again.files} == {"duplicate"}
        assert len(store.audit()) == audit_rows
    texts = {r.unit: r.text_path.read_text(encoding="utf-8") for r in receipts}
    assert "已登记（通过）" in texts[JT] and "收到时间：6月10日 15:59（邮件发送时间）" in texts[JT]
    assert sorted(replies) == sorted(r.file for r in receipts) and all(p.is_file() for p in replies.values())
    directory = UnitDirectory.load(ws.paths.units)
    replies = {r.unit: email.message_from_bytes(replies[r.file].read_bytes(), policy=email.policy.default)
               for r in receipts}
    jt_to = [a.addr_spec for a in replies[JT]["To"].addresses]
    assert jt_to == [directory.get(JT, "洛阳市").email, "clerk@example.org"]  # the unit, and who sent it
    assert [a.addr_spec for a in replies[CG]["To"].addresses] == [directory.get(CG, "洛阳市").email]
    assert "已登记" in replies[JT]["Subject"]
    assert archived(ws) == 2


def archived(ws: Workspace) -> int:
    """Originals in the archive (its journal aside)."""
    return count_originals(ws.paths.out / "archive")


def test_rejected_then_corrected_supersedes(ws: Workspace, tmp_path: Path) -> None:
    first = tmp_path / "first"
    filled(ws, CG, first, status="差不多")
    now = datetime(2022, 6, 10, 12, 0, tzinfo=CHINA)
    with open_workspace_store(ws) as store:
        result = collect(Run.open(ws, "351", "2022-W23", now=now, store=store), [first])
        [item] = result.files
        assert item.outcome == "rejected" and item.unit == CG
        assert {p.code for p in item.problems} >= {"status-invalid"}
        assert {r.unit: r.state for r in period_status(Run.open(ws, "351", "2022-W23", now=now, store=store))}[CG] == "rejected"
        receipt = write_receipts(Run.open(ws, "351", "2022-W23", store=store), result)[0].text
        assert receipt == next((ws.out_dir("351", "2022-W23") / "receipts").glob("*_回执.txt")).read_text(
            encoding="utf-8")
        assert "退回（请修改后重新报送）" in receipt and "推进状态“差不多”无效" in receipt
        assert "351-A5-01" in receipt
        second = tmp_path / "second"
        filled(ws, CG, second)
        fixed = collect(Run.open(ws, "351", "2022-W23", now=now.replace(hour=15), store=store), [second])
        assert [f.outcome for f in fixed.files] == ["accepted"]
        third = tmp_path / "third"
        filled(ws, CG, third, progress="再次更新进展")
        collect(Run.open(ws, "351", "2022-W23", now=now.replace(hour=15, minute=30), store=store), [third])
        history = [(s.outcome, to_china_time(s.received_at).hour, to_china_time(s.received_at).minute)
                   for s in store.history("351", CG)]
        assert history == [("rejected", 12, 0), ("superseded", 15, 0), ("accepted", 15, 30)]
        [current] = [s for s in store.current_submissions("351", "2022-W23") if s.unit == CG]
        assert {e.progress for e in store.entries(current.id)} == {"再次更新进展"}


def test_other_period_file_is_refused_but_not_stored(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox, period="2022-W24")
    now = datetime(2022, 6, 10, 12, 0, tzinfo=CHINA)
    with open_workspace_store(ws) as store:
        stopped = collect(Run.open(ws, "351", "2022-W23", now=now, store=store), [inbox])
        assert (stopped.wrong_period, stopped.files, stopped.held) == ("2022-W24", [], 1)  # a typo in --period?
        [wrong] = collect(Run.open(ws, "351", "2022-W23", now=now, store=store), [inbox], other_periods=True).files
        assert wrong.outcome == "other_period" and "wrong-period" in {p.code for p in wrong.problems}
        assert store.history("351") == []
        [right] = collect(Run.open(ws, "351", "2022-W24", now=now, store=store), [inbox]).files
        assert right.outcome == "accepted"


def test_broken_and_zipped_files(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"2022-W23_{ZJ}_工作台账.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    good = filled(ws, JT, tmp_path / "z")
    with zipfile.ZipFile(inbox / "回复.zip", "w") as zf:
        zf.write(good, good.name)
    with open_workspace_store(ws) as store:
        files = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox]).files
    verdicts = {f.unit: f.outcome for f in files}
    assert verdicts == {ZJ: "rejected", JT: "accepted"}
    broken = next(f for f in files if f.unit == ZJ)
    assert broken.problems[0].is_error and broken.problems[0].file.endswith("工作台账.xlsx")


def test_cli_collect_and_status_json(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)
    filled(ws, CG, inbox, percent="很多")
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23", "--json"])
    assert res.exit_code == 1, res.output  # one file rejected
    data = json.loads(res.output)
    subs = {s["unit"]: s for s in data["submissions"]}
    assert subs[JT]["outcome"] == "accepted" and subs[CG]["outcome"] == "rejected"
    assert {"code", "severity", "sheet", "cell", "message"} <= set(subs[CG]["problems"][0])
    assert any(p["code"] == "percent-invalid" for p in subs[CG]["problems"])
    res = runner.invoke(main, ["-w", str(ws.root), "status", "-p", "351", "--period", "2022-W23", "--json"])
    assert res.exit_code == 0, res.output
    units = {u["unit"]: u for u in json.loads(res.output)["units"]}
    assert units[CG]["state"] == "rejected" and units[ZJ]["state"] == "missing"
    assert units[JT]["state"] == "late"  # saved (its modification time) now, long after 2022
    assert units[JT]["received_source"] == "mtime"
    res = runner.invoke(main, ["-w", str(ws.root), "mail", "reminders", "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 0, res.output
    outbox = ws.out_dir("351", "2022-W23") / "outbox"
    names = sorted(p.name for p in outbox.glob("*催报*.eml"))
    assert names == [f"2022-W23_{ZJ}_催报.eml", f"2022-W23_{CG}_催报.eml"]


def test_cli_collect_in_worker_processes_gives_the_same_verdicts(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)
    filled(ws, CG, inbox, percent="很多")
    runner = CliRunner()
    args = ["collect", str(inbox), "-p", "351", "--period", "2022-W23", "--json", "--no-receipts"]
    other = shutil.copytree(ws.root, tmp_path / "other")
    outcomes = []
    for root, jobs in ((ws.root, "1"), (other, "2")):
        res = runner.invoke(main, ["-w", str(root), *args, "--jobs", jobs])
        assert res.exit_code == 1, res.output  # one file rejected
        subs = json.loads(res.output)["submissions"]
        outcomes.append([{k: v for k, v in s.items() if k != "received_at"} for s in subs])  # the time of collection
    assert outcomes[0] == outcomes[1] and {s["outcome"] for s in outcomes[0]} == {"accepted", "rejected"}


def test_next_period_prefilled_from_last_accepted_report(ws: Workspace, tmp_path: Path) -> None:
    import openpyxl

    from ledger import layout

    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox, progress="完成可研批复", cumulative="累计完成30%", percent=30, status="按序时推进")
    with open_workspace_store(ws) as store:
        collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox])
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ws.root), "generate", "-p", "351", "--period", "2022-W24", "--unit", JT])
    assert res.exit_code == 0, res.output
    path = ws.out_dir("351", "2022-W24") / "templates" / layout.workbook_name("2022-W24", JT)
    sheet = openpyxl.load_workbook(path)[layout.LEDGER_SHEET]
    headers = [c.value for c in sheet[layout.HEADER_ROW + 1]]
    cols = layout.find_columns(headers)
    row = layout.FIRST_TASK_ROW + 1
    values = {k: sheet.cell(row, cols[k] + 1).value for k in ("task_id", "previous", "cumulative", "percent", "status")}
    assert values == {"task_id": "351-A1-01", "previous": "完成可研批复", "cumulative": "累计完成30%",
                      "percent": 30, "status": "按序时推进"}
    res = runner.invoke(main, ["-w", str(ws.root), "generate", "-p", "351", "--period", "2022-W24", "--unit", JT,
                               "--no-prefill"])
    sheet = openpyxl.load_workbook(path)[layout.LEDGER_SHEET]
    assert sheet.cell(row, cols["previous"] + 1).value in (None, "")


def test_cli_generate_then_mail_drafts(ws: Workspace) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ws.root), "mail", "drafts", "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 1 and "ledger generate" in res.output
    res = runner.invoke(main, ["-w", str(ws.root), "generate", "-p", "351", "--period", "2022-W23", "--json"])
    assert res.exit_code == 0, res.output
    made = json.loads(res.output)["workbooks"]
    assert sorted(w["unit"] for w in made) == sorted([JT, CG, ZJ])
    res = runner.invoke(main, ["-w", str(ws.root), "mail", "drafts", "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 0, res.output
    outbox = ws.out_dir("351", "2022-W23") / "outbox"
    assert sorted(p.name for p in outbox.glob("*.eml")) == sorted(f"2022-W23_{u}.eml" for u in (JT, CG, ZJ))
    res = runner.invoke(main, ["-w", str(ws.root), "generate", "-p", "351", "--period", "2022-W23", "--unit", "市交通局局"])
    assert res.exit_code == 1 and "市交通运输局" in res.output


def test_missing_before_the_due_time_is_not_yet_late(ws: Workspace) -> None:
    with open_workspace_store(ws) as store:
        early = period_status(Run.open(ws, "351", "2022-W23", now=datetime(2022, 6, 9, 12, 0, tzinfo=CHINA), store=store))
        after = period_status(Run.open(ws, "351", "2022-W23", now=datetime(2022, 6, 10, 18, 1, tzinfo=CHINA), store=store))
    assert {r.state for r in early} == {"missing"} and not any(r.past_due for r in early)
    assert all(r.past_due for r in after)
    assert early[0].as_dict()["past_due"] is False
    # 市住建局 leads only annex A6 tasks, which are due at 18:00 rather than the programme's 16:00.
    assert {r.unit: r.due.hour for r in early} == {JT: 16, CG: 16, ZJ: 18}


def test_an_unforeseen_reader_failure_rejects_only_that_file(ws: Workspace, tmp_path: Path, monkeypatch) -> None:
    import ledger.collect.verdict as api

    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)
    filled(ws, CG, inbox)
    real = api.read_returned

    def flaky(path: Path, *, display_name: str | None = None, **kw: object):
        if CG in (display_name or ""):
            raise TypeError("reader bug")
        return real(path, display_name=display_name, **kw)

    monkeypatch.setattr(api, "read_returned", flaky)
    with open_workspace_store(ws) as store:
        files = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=1).files
    verdicts = {f.unit: (f.outcome, [p.code for p in f.problems]) for f in files}
    assert verdicts == {JT: ("accepted", []), CG: ("rejected", ["file-unreadable"])}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_stored_before_is_not_read_again(jobs: int, ws: Workspace, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes already stored for this period take their stored verdict unread (a duplicate, nothing
    written), in their place among the files judged; for another period they are judged."""
    import ledger.collect.verdict as verdict

    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)
    filled(ws, CG, inbox, percent="很多")
    with open_workspace_store(ws) as store:
        first = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=1).files
        audit = store.audit()
        filled(ws, ZJ, inbox)
        read: list[str] = []
        real = verdict.read_returned
        monkeypatch.setattr(verdict, "read_returned",
                            lambda path, **kw: read.append(kw["display_name"]) or real(path, **kw))
        again = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=jobs).files
        assert [(f.unit, f.outcome) for f in again] == [(JT, "duplicate"), (ZJ, "accepted"), (CG, "duplicate")]
        assert [(f.problems, f.submission_id, f.sha256) for f in (again[0], again[2])] == \
               [(f.problems, f.submission_id, f.sha256) for f in first]
        assert [a["source_name"] for a in store.audit()] == [a["source_name"] for a in audit] + [again[1].file]
        if jobs == 1:  # workers keep their own counts
            assert read == [again[1].file]
        read.clear()
        [jt] = [f for f in collect(Run.open(ws, "351", "2022-W24", now=DUE_W23, store=store), [inbox], jobs=1,
                                   other_periods=True).files if f.unit == JT]
    assert jt.outcome == "other_period" and "wrong-period" in {p.code for p in jt.problems}
    assert len(read) == 3


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_that_cannot_be_read_is_refused_and_the_rest_goes_on(jobs: int, ws: Workspace, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that vanished or lost its read permission between listing and reading (the OS
    error is injected: tests run as root, who may read anything) is refused, not stored, with
    a receipt; the other files are collected."""
    inbox = tmp_path / "inbox"
    good = filled(ws, JT, inbox)
    locked = filled(ws, CG, inbox)
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with open_workspace_store(ws) as store:
        result = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=jobs)
        history = store.history("351")
    by_file = {Path(f.file).name: f for f in result.files}
    refused = by_file[locked.name]
    assert (refused.outcome, refused.unit, refused.submission_id) == ("rejected", CG, None)
    assert [(p.code, p.value) for p in refused.problems] == [("file-not-read", "Permission denied")]
    assert by_file[good.name].outcome == "accepted"
    assert [s.source_name for s in history] == [good.name]
    receipts = write_receipts(Run.open(ws, "351", "2022-W23"), result)
    assert len(receipts) == 2


def test_a_file_changed_after_judging_is_not_recorded(ws: Workspace, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """When judging could not archive a file, the parent reads it again to store it: if the bytes
    differ from those judged, that file is refused (file-changed) and not recorded; the other
    files of the run are stored."""
    from ledger.collect import pool, verdict

    inbox = tmp_path / "inbox"
    path = filled(ws, JT, inbox)
    other = filled(ws, CG, inbox)
    monkeypatch.setattr(verdict, "archived", lambda judged, context, data: judged)  # as if the archive failed
    judge = verdict.judge_file

    def judge_then_edit(item, context):
        judged = judge(item, context)
        if item.path == path:
            path.write_bytes(path.read_bytes() + b"\0")  # the clerk saves the file again meanwhile
        return judged

    monkeypatch.setattr(pool, "judge_file", judge_then_edit)
    with open_workspace_store(ws) as store:
        result = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=1)
        history = store.history("351")
    by_name = {Path(f.file).name: f for f in result.files}
    changed = by_name[path.name]
    assert (changed.outcome, changed.unit, changed.submission_id) == ("rejected", JT, None)
    assert [p.code for p in changed.problems] == ["file-changed"]
    assert "收集过程中被改动" in changed.problems[0].message
    assert [s.source_name for s in history] == [other.name]


def test_collect_for_one_unit_sends_back_another_units_file(ws: Workspace, tmp_path: Path) -> None:
    """A unit reporting through its own link may only hand in its own ledger; another unit's sent
    there is the sender's file, sent back, not a report of the unit it names."""
    inbox = tmp_path / "inbox"
    own, other = filled(ws, JT, inbox), filled(ws, CG, inbox)
    with open_workspace_store(ws) as store:
        files = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], unit=JT).files
    verdicts = {f.file: (f.unit, f.outcome, [p.code for p in f.problems if p.is_error]) for f in files}
    assert verdicts == {own.name: (JT, "accepted", []), other.name: (JT, "rejected", ["wrong-unit"])}


def test_a_period_typo_stores_nothing_and_asks(ws: Workspace, tmp_path: Path) -> None:
    """Week 23's files collected as week 24: nothing stored, no receipt, a question, exit 1; --yes goes
    on, and a file of another period is listed as not collected, never sent back to its unit."""
    inbox = tmp_path / "inbox"
    for unit in (JT, CG, ZJ):
        filled(ws, unit, inbox)
    args = ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W24"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output
    assert "这些文件属于2022年第23周 6月6日—6月10日，是否应为 --period 2022-W23？" in res.output
    assert "未登记任何文件，也未生成回执" in res.output
    with open_workspace_store(ws) as store:
        assert store.history("351") == [] and store.audit() == []
    assert not (ws.out_dir("351", "2022-W24") / "receipts").exists()
    assert list((ws.paths.out / "archive").rglob("*.xlsx")) == []
    res = CliRunner().invoke(main, [*args, "--yes"])
    assert res.exit_code == 0, res.output
    assert res.output.count("不属于本期，未登记") >= 3 and "[警告]" in res.output
    assert not (ws.out_dir("351", "2022-W24") / "receipts").exists()
    with open_workspace_store(ws) as store:
        assert store.history("351") == []


def test_entered_values_are_written_where_a_unit_types_them_and_judged_as_collect_would(
        ws: Workspace, tmp_path: Path) -> None:
    """The web page's form: what a unit typed, written into its generated workbook (the archived
    original), checked without storing anything, then collected as any returned workbook."""
    import openpyxl

    from ledger import layout
    from ledger.collect.api import check_file
    from ledger.generate import build_workbook

    t1, t2, t3 = (t.id for t in small_registry().tasks_led_by(JT))
    rows: dict[str, dict[str, object]] = {
        t1: {"progress": "完成立项批复", "cumulative": "完成前期工作", "percent": 30, "status": "按序时推进",
             "issues": "无", "next_steps": "开工准备", "coordination": "", "note": "=SUM(A1)"},
        t2: {"progress": "优化线路3条", "percent": "/", "status": "常态化推进"},
        t3: {"progress": "", "percent": "大部分", "status": "差不多"},
    }
    path = tmp_path / "web" / f"{PERIOD}_{JT}_工作台账（在线填报）.xlsx"
    path.parent.mkdir()
    now = datetime(2022, 6, 9, 10, 0, tzinfo=CHINA)
    with Run.open(ws, "351", PERIOD, now=now) as run:
        entered = layout.Entered(rows, {"填报人": "张三", "填报时间": "2022年6月9日 10:00"})
        path.write_bytes(build_workbook(run.registry, run.programme, run.period, JT, key=run.key, entered=entered))
        sheet = openpyxl.load_workbook(path)[layout.LEDGER_SHEET]
        header = {c.value: c.column for c in sheet[layout.HEADER_ROW + 1]}
        first = layout.FIRST_TASK_ROW + 1
        assert sheet.cell(first, header["本期进展情况"]).value == "完成立项批复"
        assert sheet.cell(first, header["完成进度（%）"]).value == 30
        assert sheet.cell(first, header["备注"]).value == "=SUM(A1)"  # text, never a formula
        assert sheet.cell(first, header["备注"]).data_type == "s"
        info = [c.value for row in sheet.iter_rows(min_row=2, max_row=3) for c in row if c.value]
        assert "张三" in info and "2022年6月9日 10:00" in info
        problems = check_file(run, path, unit=JT)
        assert sorted((p.code, p.task) for p in problems) == [
            ("percent-invalid", t3), ("progress-missing", t3), ("status-invalid", t3)]
        assert run.store.history("351") == []  # checked, nothing stored
        assert "wrong-unit" in [p.code for p in check_file(run, path, unit=CG)]
        rows[t3] = {"progress": "选址完成", "percent": 20, "status": "滞后"}
        path.write_bytes(build_workbook(run.registry, run.programme, run.period, JT, key=run.key,
                                     entered=layout.Entered(rows)))
        assert check_file(run, path, unit=JT) == []
        result = collect(run, [path], unit=JT)
        [item] = result.files
        assert item.outcome == "accepted"
        entries = {e.task_id: e for e in run.store.entries(item.submission_id)}
    assert (entries[t1].progress, entries[t1].percent, entries[t1].problems_text, entries[t1].note) == \
        ("完成立项批复", 30, "无", "=SUM(A1)")
    assert (entries[t2].percent, entries[t2].status) == (None, "常态化推进")
    assert (entries[t3].progress, entries[t3].percent, entries[t3].status) == ("选址完成", 20, "滞后")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_stores_its_files_in_batches(jobs: int, ws: Workspace, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are stored BATCH_MAX at a time, each batch in one transaction with its originals
    flushed to disk together (not a transaction and an fsync per file), in input order."""
    from ledger.collect import api
    from ledger.store import archive as archiving
    from ledger.store.sqlite import SQLiteStore

    monkeypatch.setattr(api, "BATCH_MAX", 3)
    inbox = tmp_path / "inbox"
    for n in range(4):
        for unit in (JT, CG):
            filled(ws, unit, inbox / str(n), progress=f"第{n}稿")
    batches: list[int] = []
    flushed: list[int] = []
    real_ingest, real_flush = SQLiteStore.ingest_many, archiving.flush_to_disk
    monkeypatch.setattr(SQLiteStore, "ingest_many", lambda self, batch: batches.append(len(batch)) or real_ingest(self, batch))
    monkeypatch.setattr(archiving, "flush_to_disk", lambda files, **kw: flushed.append(len(list(files))) or real_flush(files, **kw))
    with open_workspace_store(ws) as store:
        result = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=jobs)
        recorded = sorted((s.id, s.outcome) for s in store.history("351"))
    assert batches == [3, 3, 2] and flushed == [3, 3, 2]
    assert [f.submission_id for f in result.files] == [n for n, _ in recorded] == list(range(1, 9))
    assert [outcome for _, outcome in recorded].count("accepted") == 2  # the last of each unit; the rest superseded


def test_jobs_1_judges_in_the_calling_thread_and_starts_none(ws: Workspace, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With one job every file is judged by the thread that stores it: a second thread judging
    ahead cost a fifth of collect's CPU in handing the GIL over and saved no time."""
    import threading

    from ledger.collect import pool

    seen: list[tuple[str, int]] = []
    real = pool.judge_file
    monkeypatch.setattr(pool, "judge_file", lambda item, context: seen.append(
        (threading.current_thread().name, threading.active_count())) or real(item, context))
    inbox = tmp_path / "inbox"
    for unit in (JT, CG):
        filled(ws, unit, inbox)
    before = threading.active_count()
    with open_workspace_store(ws) as store:
        result = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=1)
    assert [f.outcome for f in result.files] == ["accepted", "accepted"]
    assert seen == [(threading.current_thread().name, before)] * 2


def test_forked_workers_share_the_registry_lookups_of_this_process(ws: Workspace, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry's lookups are built before the workers are forked: a worker building its own
    would copy every task's memory page into its own memory (tens of MB on a large registry)."""
    import os

    from ledger.collect import pool
    from ledger.registry.model import TaskIndex

    if not pool.can_fork():
        pytest.skip("workers are forks only on Linux")
    built = tmp_path / "built"
    real = TaskIndex.build.__func__

    def build(cls, *args):
        with open(built, "a") as fh:
            fh.write(f"{os.getpid()}\n")  # the process that built it, whichever it is
        return real(cls, *args)

    monkeypatch.setattr(TaskIndex, "build", classmethod(build))
    inbox = tmp_path / "inbox"
    for n in range(3):
        for unit in (JT, CG):
            filled(ws, unit, inbox / str(n), progress=f"第{n}稿")
    built.unlink(missing_ok=True)  # generating the files built lookups of their own
    with open_workspace_store(ws) as store:
        result = collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [inbox], jobs=2)
    assert len(result.files) == 6 and {f.outcome for f in result.files} == {"accepted"}
    assert built.read_text().split() == [str(os.getpid())]
