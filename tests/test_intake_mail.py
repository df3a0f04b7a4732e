"""Mail as units' clients write it (RFC 5322): folded headers, any order, mbox, CRLF/LF, signed,
forwarded and Outlook .msg mail, Chinese attachment names in every encoding offices meet."""

from __future__ import annotations

import base64
import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import JT, XLSX_MIME, filled, reply_mail
from outlook_msg import message_tree, msg_file

from ledger.cli import main
from ledger.collect.intake import gather
from ledger.config import Workspace
from ledger.periods import CHINA
from ledger.sniff import sniff

NOW = datetime(2022, 6, 11, 9, 0, tzinfo=CHINA)
SENT = datetime(2022, 6, 10, 15, 30, tzinfo=CHINA)
LONG_SENDER = "市人力资源和社会保障局"
NAME = "2022-W23_市交通运输局_工作台账.xlsx"


def workbook(ws: Workspace, tmp_path: Path) -> bytes:
    return filled(ws, JT, tmp_path / "filled").read_bytes()


def client_mail(data: bytes, *, sender: str = f"{LONG_SENDER} <rsj@example.org>") -> EmailMessage:
    """What a mail client writes: Python's email package with its default policy."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "office@example.org"
    msg["Subject"] = "报送第23周工作台账"
    msg["Date"] = "Fri, 10 Jun 2022 15:30:00 +0800"
    msg.set_content("请查收。")
    msg.add_attachment(data, maintype=XLSX_MIME[0], subtype=XLSX_MIME[1], filename=NAME)
    return msg


def taken(tmp_path: Path, raw: bytes, name: str = "reply.eml") -> tuple[list, list]:
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    (box / name).write_bytes(raw)
    intake = gather([box], tmp_path / "stage", now=NOW)
    return [(i.name.split(" / ")[-1], i.received_at, i.received_source, i.path.read_bytes()) for i in intake.items], \
        [(p.code, p.value) for p in intake.problems]


def test_a_folded_from_header_is_mail(ws: Workspace, tmp_path: Path) -> None:
    """The issue's dropped report: the From header of a long encoded name starts on its own line."""
    data = workbook(ws, tmp_path)
    raw = client_mail(data).as_bytes()
    assert raw.startswith(b"From:\n ")  # folded exactly as the email package writes it
    items, problems = taken(tmp_path, raw)
    assert problems == []
    assert items == [(NAME, SENT, "email", data)]


def _reordered(raw: bytes) -> bytes:
    head, body = raw.split(b"\n\n", 1)
    fields: list[bytes] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    return b"\n".join(reversed(fields)) + b"\n\n" + body


@pytest.mark.parametrize("variant", ["lf", "crlf", "mbox", "reordered", "wire"])
def test_any_header_order_line_end_and_mbox_line(ws: Workspace, tmp_path: Path, variant: str) -> None:
    data = workbook(ws, tmp_path)
    msg = client_mail(data)
    raw = {
        "lf": msg.as_bytes(),
        "crlf": msg.as_bytes().replace(b"\n", b"\r\n"),
        "mbox": b"From rsj@example.org Fri Jun 10 15:30:00 2022\n" + msg.as_bytes(),
        "reordered": _reordered(msg.as_bytes()),
        "wire": msg.as_bytes(policy=SMTP),
    }[variant]
    assert sniff(raw).kind == "eml"
    items, problems = taken(tmp_path, raw)
    assert (items, problems) == ([(NAME, SENT, "email", data)], [])


def _raw_mail(parts: bytes, boundary: str = "OUTER", content_type: str = "multipart/mixed", extra: str = "") -> bytes:
    return (f"From: a@example.org\nTo: office@example.org\nSubject: x\nDate: Fri, 10 Jun 2022 15:30:00 +0800\n"
            f"MIME-Version: 1.0\nContent-Type: {content_type}; boundary=\"{boundary}\"{extra}\n\n").encode() + parts


def _part(data: bytes, disposition: bytes, content_type: bytes = b"application/octet-stream") -> bytes:
    return (b"Content-Type: " + content_type + b"\nContent-Disposition: " + disposition
            + b"\nContent-Transfer-Encoding: base64\n\n" + base64.encodebytes(data))


CN_NAME = "台账（第23周）.xlsx"


@pytest.mark.parametrize("disposition", [
    b"attachment; filename*=UTF-8''" + "".join(f"%{b:02X}" for b in CN_NAME.encode()).encode(),  # RFC 2231
    b'attachment; filename="=?UTF-8?B?' + base64.b64encode(CN_NAME.encode()) + b'?="',  # RFC 2047
    b'attachment; filename="=?GB2312?B?' + base64.b64encode(CN_NAME.encode("gb2312")) + b'?="',
    b'attachment; filename="=?GBK?Q?' + b"".join(b"=%02X" % c for c in CN_NAME.encode("gbk")) + b'?="',
    b'attachment; filename="=?GB18030?B?' + base64.b64encode(CN_NAME.encode("gb18030")) + b'?="',
    b'attachment; filename="' + CN_NAME.encode("gbk") + b'"',  # raw 8-bit GBK, as some clients write
    b'attachment; filename="' + CN_NAME.encode("utf-8") + b'"',  # raw 8-bit UTF-8
], ids=["rfc2231", "rfc2047-utf8", "rfc2047-gb2312", "rfc2047-gbk-q", "rfc2047-gb18030", "raw-gbk", "raw-utf8"])
def test_chinese_attachment_names_in_every_encoding(ws: Workspace, tmp_path: Path, disposition: bytes) -> None:
    data = workbook(ws, tmp_path)
    raw = _raw_mail(b"--OUTER\n" + _part(data, disposition) + b"--OUTER--\n")
    items, problems = taken(tmp_path, raw)
    assert (items, problems) == ([(CN_NAME, SENT, "email", data)], [])


def test_nested_multiparts_and_an_8bit_body(ws: Workspace, tmp_path: Path) -> None:
    data = workbook(ws, tmp_path)
    inner = (b"--INNER\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
             + "请查收第23周台账。".encode() + b"\n--INNER\n"
             + _part(data, b'attachment; filename="a.xlsx"') + b"--INNER--\n")
    raw = _raw_mail(b"--OUTER\nContent-Type: multipart/related; boundary=\"INNER\"\n\n" + inner + b"--OUTER--\n")
    items, problems = taken(tmp_path, raw)
    assert (items, problems) == ([("a.xlsx", SENT, "email", data)], [])


def test_an_smime_signed_mail(ws: Workspace, tmp_path: Path) -> None:
    """multipart/signed (RFC 5751): the signed part holds the attachment, the signature is no file to collect."""
    data = workbook(ws, tmp_path)
    signed = client_mail(data)
    del signed["From"], signed["To"], signed["Subject"], signed["Date"]
    body = (b"--SIGNED\n" + signed.as_bytes() + b"\n--SIGNED\n"
            + _part(b"0\x82\x05\x00fake-pkcs7-signature", b'attachment; filename="smime.p7s"',
                    b'application/pkcs7-signature; name="smime.p7s"') + b"--SIGNED--\n")
    raw = _raw_mail(body, "SIGNED", "multipart/signed",
                    '; protocol="application/pkcs7-signature"; micalg=sha-256')
    items, problems = taken(tmp_path, raw)
    assert (items, problems) == ([(NAME, SENT, "email", data)], [])


def test_a_forwarded_mail_counts_from_when_the_office_got_it(ws: Workspace, tmp_path: Path) -> None:
    data = workbook(ws, tmp_path)
    original = client_mail(data)
    original.replace_header("Date", "Thu, 09 Jun 2022 10:00:00 +0800")
    forward = EmailMessage()
    forward["From"] = "分管领导 <leader@example.org>"
    forward["To"] = "office@example.org"
    forward["Subject"] = "转发：报送第23周工作台账"
    forward["Date"] = "Fri, 10 Jun 2022 15:30:00 +0800"
    forward.set_content("转给你们登记。")
    forward.add_attachment(original)  # message/rfc822
    items, problems = taken(tmp_path, forward.as_bytes())
    assert (items, problems) == ([(NAME, SENT, "email", data)], [])


def test_an_outlook_msg_with_a_forwarded_message_inside(ws: Workspace, tmp_path: Path) -> None:
    data = workbook(ws, tmp_path)
    inner = message_tree(subject="原邮件", sender_name="甲", sender="a@example.org",
                         sent=datetime(2022, 6, 9, tzinfo=UTC), attachments=[("内层.xlsx", data)], embedded=True)
    raw = msg_file(subject="报送第23周工作台账", sender_name=LONG_SENDER, sender="rsj@example.org",
                   sent=SENT.astimezone(UTC), attachments=[(NAME, data), ("转发", inner)])
    assert sniff(raw).kind == "msg"
    items, problems = taken(tmp_path, raw, "报送.msg")
    assert problems == []
    assert items == [(NAME, SENT, "email", data), ("内层.xlsx", SENT, "email", data)]


def test_the_test_msg_file_reads_in_another_reader_too(ws: Workspace, tmp_path: Path) -> None:
    """The .msg writer of the tests against an independent reader, where it is installed."""
    extract_msg = pytest.importorskip("extract_msg")
    data = workbook(ws, tmp_path)
    path = tmp_path / "x.msg"
    path.write_bytes(msg_file(subject="报送", sender_name=LONG_SENDER, sender="rsj@example.org",
                              sent=SENT.astimezone(UTC), attachments=[(NAME, data)]))
    with extract_msg.openMsg(str(path)) as msg:
        assert msg.subject == "报送"
        assert [bytes(a.data) for a in msg.attachments] == [data]


def test_what_is_skipped_is_a_warning_in_the_run(ws: Workspace, tmp_path: Path) -> None:
    data = workbook(ws, tmp_path)
    msg = client_mail(data)
    msg.add_attachment(b"%PDF-1.4 scanned letter", maintype="application", subtype="pdf", filename="说明.pdf")
    inbox = tmp_path / "inbox"
    reply_mail(inbox / "empty.eml", [])
    (inbox / "reply.eml").write_bytes(msg.as_bytes())
    (inbox / "notes.txt").write_text("备忘", encoding="utf-8")
    res = CliRunner().invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.output.splitlines() if line.startswith("[警告]")]
    assert len(warnings) == 3
    assert any("说明.pdf" in w and "已跳过" in w for w in warnings)
    assert any("empty.eml" in w and "没有工作簿附件" in w for w in warnings)
    assert any("notes.txt" in w for w in warnings)
    assert "通过\t市交通运输局" in res.output


def test_a_folded_header_mail_is_collected_and_the_unit_is_not_missing(ws: Workspace, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "reply.eml").write_bytes(client_mail(workbook(ws, tmp_path)).as_bytes())
    shutil.rmtree(tmp_path / "filled")
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 0 and "已跳过" not in res.output, res.output
    res = runner.invoke(main, ["-w", str(ws.root), "status", "-p", "351", "--period", "2022-W23"])
    assert f"按时\t{JT}\t6月10日 15:30（邮件发送时间）\t截止 6月10日 16:00" in res.output
