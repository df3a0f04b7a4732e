"""A mail or zip archive that cannot be opened whole is refused alone: recorded in the store's audit
with its reason, archived as received, a receipt (and a reply to its sender), listed by the run and
its JSON, exit code 1; the files beside it are collected as ever."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import sqlite3
from pathlib import Path

import hostile as h
from click.testing import CliRunner
from conftest import CG, JT, filled
from outlook_msg import message_tree, msg_file

from ledger.cli import main
from ledger.collect.intake import gather
from ledger.collect.limits import Limits
from ledger.collect.mail import mime_shape
from ledger.config import Workspace
from ledger.periods import CHINA

ARGS = ["collect", "-p", "351", "--period", "2022-W23"]


def run(ws: Workspace, inbox: Path, *extra: str):
    return CliRunner().invoke(main, ["-w", str(ws.root), *ARGS[:1], str(inbox), *ARGS[1:], *extra])


def audit(ws: Workspace) -> dict[str, dict]:
    conn = sqlite3.connect(ws.paths.store)
    conn.row_factory = sqlite3.Row
    try:
        return {r["source_name"]: dict(r) for r in conn.execute("SELECT * FROM audit")}
    finally:
        conn.close()


def test_refused_mail_and_zip_are_recorded_with_receipts_and_the_run_goes_on(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    jt = filled(ws, JT, tmp_path / "jt")
    cg = filled(ws, CG, inbox)  # collected beside them
    h.deep_mail(inbox, "层层转发.eml", 1000, (jt.name, jt.read_bytes()))
    h.wide_mail(inbox, "宽邮件.eml", 10_000, (jt.name, jt.read_bytes()))
    h.zip_in_zip(inbox, "合集.zip")
    h.archive_bomb(inbox, "压缩包炸弹.zip", mib=110)
    res = run(ws, inbox, "--json")
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    by_file = {f["file"]: f for f in out["submissions"]}
    assert by_file[cg.name]["outcome"] == "accepted"
    refused = {name: [p["code"] for p in f["problems"]] for name, f in by_file.items() if f["unopened"]}
    assert refused == {"层层转发.eml": ["mail-too-deep"], "宽邮件.eml": ["mail-too-many-parts"],
                       "合集.zip / 内层.zip": ["archive-nested"], "压缩包炸弹.zip": ["zip-bomb"]}
    assert {by_file[n]["outcome"] for n in refused} == {"rejected"}
    assert by_file["层层转发.eml"]["received_source"] == "email"  # the headers were read: its Date counts
    # the store's audit: each with its reason; the originals archived as received
    rows = audit(ws)
    for name, codes in refused.items():
        assert rows[name]["verdict"] == "rejected" and rows[name]["reason_code"] == codes[0]
    original = (inbox / "层层转发.eml").read_bytes()
    archived = next((ws.root / "out" / "archive").rglob(f"{hashlib.sha256(original).hexdigest()}.*"))
    assert archived.read_bytes() == original
    # a receipt for each; a reply to the mails' sender (the zips have none to go to)
    folder = ws.root / "out" / "351" / "2022-W23" / "receipts"
    texts = [p.read_text(encoding="utf-8") for p in folder.glob("*_回执.txt")]
    assert len(texts) == 5
    assert sum("嵌套了 1000 层" in t for t in texts) == 1 and sum("疑似压缩炸弹" in t for t in texts) == 1
    replies = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in folder.glob("*_回执.eml")]
    to_clerk = [m for m in replies if "clerk@example.org" in str(m["To"])]
    assert len(to_clerk) == 2 and all(m["Subject"].startswith("【回执·退回】") for m in to_clerk)
    # the text summary names them; a second run finds them stored and parses nothing
    res = run(ws, inbox)
    assert "有 4 个邮件或压缩包未打开" in res.output and "层层转发.eml" in res.output, res.output
    assert res.output.count("重复文件") == 5


def test_mime_shape_counts_before_parsing() -> None:
    boundary_mail = (b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n'
                     b"Content-Type: message/rfc822\r\n\r\n"
                     b'Content-Type: multipart/alternative; boundary="i"\r\n\r\n--i\r\n\r\na\r\n--i\r\n\r\nb\r\n--i--\r\n'
                     b"--o\r\n\r\nc\r\n--o--\r\n")
    # root, the forwarded message, its two alternatives, the last part: 3 levels under the root
    assert mime_shape(boundary_mail) == (6, 3)
    assert mime_shape(b"Subject: x\r\n\r\n-- \r\nsignature\r\n") == (1, 0)  # a signature line is not a part


def test_limits_are_what_refuses(tmp_path: Path) -> None:
    """The same mail is opened or refused by the limits alone (they are settings, not magic numbers)."""
    mail = h.many_attachments_mail(tmp_path, "m.eml", 5, b"x")
    now = __import__("datetime").datetime(2022, 6, 11, tzinfo=CHINA)
    assert [i.refusal for i in gather([mail], tmp_path / "s1", now=now).items] == [None] * 5
    [item] = gather([mail], tmp_path / "s2", now=now, limits=Limits(max_attachments=4)).items
    assert item.refusal is not None and [p.code for p in item.refusal.problems] == ["mail-too-many-attachments"]
    [item] = gather([mail], tmp_path / "s3", now=now, limits=Limits(max_mime_parts=5)).items
    assert item.refusal is not None and [p.code for p in item.refusal.problems] == ["mail-too-many-parts"]


def test_an_outlook_message_nested_too_deep_is_refused(tmp_path: Path) -> None:
    sent = __import__("datetime").datetime(2022, 6, 10, 9, 0, tzinfo=CHINA)
    tree = message_tree(subject="台账", sender_name="科员", sender="clerk@example.org", sent=sent,
                        attachments=[("台账.xlsx", b"x")], embedded=True)
    for _ in range(24):
        tree = message_tree(subject="转发", sender_name="科员", sender="clerk@example.org", sent=sent,
                            attachments=[("转发.msg", tree)], embedded=True)
    path = tmp_path / "转发.msg"
    path.write_bytes(msg_file(subject="转发", sender_name="科员", sender="clerk@example.org", sent=sent,
                              attachments=[("转发.msg", tree)]))
    [item] = gather([path], tmp_path / "s", now=sent.replace(hour=12)).items
    assert item.refusal is not None and [p.code for p in item.refusal.problems] == ["mail-too-deep"]
    assert item.sender == "科员 <clerk@example.org>" and item.received_source == "email"
