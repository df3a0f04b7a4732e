"""E-mail drafts (工作台账 and 催报) and sending them through a real local SMTP server."""

from __future__ import annotations

import email
import re
import shutil
import ssl
import subprocess
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path

import jinja2
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import Collector, free_port

from ledger import config
from ledger.errors import LedgerError
from ledger.mail import build_message, send_drafts, write_drafts, write_reminders
from ledger.periods import CHINA
from ledger.problems import flatten
from ledger.registry.units import Unit, UnitDirectory
from ledger.run import Run
from ledger.templating import environment, render

REPO = Path(__file__).resolve().parents[1]
JTJ = "市交通运输局"
ZJJ = "市住房和城乡建设局"
WMB = "市文明办"
PERIOD = "2022-W23"
SUBJECT = f"【请于6月10日16时前报送】洛阳市城市提质“351”工程行动六大专项行动2022年第23周工作台账（{JTJ}）"
WORKBOOK_BYTES = b"PK\x03\x04" + bytes(range(256)) * 40


def make_ws(tmp_path: Path, smtp: str = "") -> config.Workspace:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    text = (REPO / "ledger.toml").read_text(encoding="utf-8")
    (root / "ledger.toml").write_text(text + ("\n[smtp]\n" + smtp if smtp else ""), encoding="utf-8")
    return config.load(root)


def directory() -> UnitDirectory:
    return UnitDirectory([
        Unit(name=JTJ, scope="洛阳市", email="jtj@luoyang.gov.cn"),
        Unit(name=ZJJ, scope="洛阳市", email="zjj@luoyang.gov.cn；zjj-2@luoyang.gov.cn"),
        Unit(name=WMB, scope="洛阳市", email=""),
    ])


def workbooks(tmp_path: Path, *units: str) -> dict[str, Path]:
    folder = tmp_path / "wb"
    folder.mkdir(exist_ok=True)
    out = {}
    for i, unit in enumerate(units):
        path = folder / f"351_{PERIOD}_{unit}.xlsx"
        path.write_bytes(WORKBOOK_BYTES + bytes([i]))
        out[unit] = path
    return out


def parse(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


def address(raw: bytes, field: str) -> tuple[str, str]:
    """Display name and address of a header, decoded per RFC 2047.

    policy.default's address parser keeps the space between two adjacent encoded words
    of a folded display name (a long Chinese office name); the legacy decoder drops it,
    as RFC 2047 and mail clients do.
    """
    value = email.message_from_bytes(raw)[field]
    return parseaddr(str(make_header(decode_header(value))))


def body_text(msg) -> str:
    """The plain-text body with line ends as a reader sees them (the wire form is CRLF)."""
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


# ---- templates -----------------------------------------------------------------------

def test_missing_variable_raises():
    with pytest.raises(jinja2.UndefinedError):
        environment(None).from_string("{{ unit }}：{{ nonexistent }}").render(unit="x")
    with pytest.raises(jinja2.UndefinedError) as info:
        render(None, "mail_ledger.txt.j2", unit=JTJ)
    assert isinstance(info.value, LedgerError)
    assert "mail_ledger.txt.j2" in str(info.value)


def test_missing_template_is_a_ledger_error(tmp_path):
    with pytest.raises(LedgerError, match="找不到模板"):
        render(make_ws(tmp_path), "no_such.txt.j2")


def test_workspace_template_overrides_default(tmp_path):
    ws = make_ws(tmp_path)
    (ws.root / "templates").mkdir()
    (ws.root / "templates" / "mail_ledger.txt.j2").write_text(
        "自定义正文：{{ unit }}，请于{{ due_text }}前报送。\n", encoding="utf-8"
    )
    drafts, problems = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), workbooks(tmp_path, JTJ))
    assert problems == []
    assert body_text(parse(drafts[0].path.read_bytes())) == f"自定义正文：{JTJ}，请于6月10日16时前报送。\n"
    # A typo in the office's own template fails loudly instead of sending a blank.
    (ws.root / "templates" / "mail_ledger.txt.j2").write_text("{{ unti }}", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), workbooks(tmp_path, JTJ))


def test_a_workspace_template_added_later_wins_in_the_same_process(tmp_path):
    """Templates are compiled once per process, yet a workspace template the office adds (or
    edits) after a default was used is the one used next."""
    ws = make_ws(tmp_path)
    context = {"unit": JTJ, "programme_title": "城市提质", "period_label": "第23周", "period_key": PERIOD,
               "due_text": "6月10日16时", "office": "办公室", "contact": "张三", "phone": "1", "email": "a@b.c",
               "sign_date": "2022年6月6日", "attachment_name": "台账.xlsx"}
    assert "自定义" not in render(ws, "mail_ledger.txt.j2", **context)
    (ws.root / "templates").mkdir()
    (ws.root / "templates" / "mail_ledger.txt.j2").write_text("自定义：{{ unit }}\n", encoding="utf-8")
    assert render(ws, "mail_ledger.txt.j2", **context) == f"自定义：{JTJ}\n"


# ---- drafts --------------------------------------------------------------------------

MONDAY_9 = datetime(2022, 6, 6, 9, 0, tzinfo=CHINA)


def test_draft_headers_body_and_attachment(tmp_path):
    ws = make_ws(tmp_path)
    books = workbooks(tmp_path, JTJ)
    drafts, problems = write_drafts(Run.open(ws, "351", PERIOD, directory=directory(), now=MONDAY_9), books)
    assert problems == []
    [draft] = drafts
    assert draft.path == ws.out_dir("351", PERIOD) / "outbox" / f"{PERIOD}_{JTJ}.eml"
    assert draft.to == ("jtj@luoyang.gov.cn",)
    assert draft.subject == SUBJECT
    assert draft.attachment == books[JTJ]

    raw = draft.path.read_bytes()
    assert raw.isascii()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert re.search(rb"filename\*(0\*)?=utf-8''", raw)  # RFC 2231, possibly continued
    msg = parse(raw)
    assert msg["Subject"] == SUBJECT
    assert address(raw, "From") == ("洛阳市城市提质工作领导小组办公室", "tizhi-office@example.org")
    assert address(raw, "To") == (JTJ, "jtj@luoyang.gov.cn")
    assert msg["Date"] == "Mon, 06 Jun 2022 09:00:00 +0800"
    assert msg["Message-ID"].endswith("@example.org>")

    body = body_text(msg)
    assert body.startswith(f"{JTJ}：")
    for text in ("2022年第23周 6月6日—6月10日", "6月10日16时前", "不要修改工作表名称", "插入",
                 "0379-00000000", books[JTJ].name, "洛阳市城市提质工作领导小组办公室\n2022年6月6日"):
        assert text in body

    [att] = list(msg.iter_attachments())
    assert att.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert att.get_filename() == books[JTJ].name
    assert att.get_content() == books[JTJ].read_bytes()


def test_annex_uses_its_own_due_time_and_office(tmp_path):
    ws = make_ws(tmp_path)
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), workbooks(tmp_path, JTJ), annex="A2")
    raw = drafts[0].path.read_bytes()
    assert parse(raw)["Subject"] == f"【请于6月10日18时前报送】洛阳市城市风貌提升工程2022年第23周工作台账（{JTJ}）"
    assert address(raw, "From") == ("市自然资源和规划局", "csfm@example.org")


def test_drafts_are_deterministic(tmp_path):
    ws = make_ws(tmp_path)
    books = workbooks(tmp_path, JTJ, ZJJ)
    monday = datetime(2022, 6, 6, 9, 30, tzinfo=CHINA)  # drafts are dated when drafted: the same moment each run
    first, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory(), now=monday), books)
    before = {d.unit: d.path.read_bytes() for d in first}
    again, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory(), now=monday), books)
    elsewhere, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory(), now=monday), books,
                                out_dir=tmp_path / "other")
    assert {d.unit: d.path.read_bytes() for d in again} == before
    assert {d.unit: d.path.read_bytes() for d in elsewhere} == before
    assert all(d.path.parent == tmp_path / "other" for d in elsewhere)
    ids = {parse(data)["Message-ID"] for data in before.values()}
    assert len(ids) == 2
    # Two addresses in one directory cell (separated by a full-width ；) both receive it.
    assert next(d for d in first if d.unit == ZJJ).to == ("zjj@luoyang.gov.cn", "zjj-2@luoyang.gov.cn")


def test_units_without_email_get_problems_and_no_draft(tmp_path):
    ws = make_ws(tmp_path)
    units = UnitDirectory([
        Unit(name=JTJ, scope="洛阳市", email="jtj@luoyang.gov.cn"),
        Unit(name=WMB, scope="洛阳市", email=""),
        Unit(name=ZJJ, scope="洛阳市", email="zjj at luoyang.gov.cn"),
    ])
    books = workbooks(tmp_path, WMB, JTJ, "不存在的单位", ZJJ)
    drafts, problems = write_drafts(Run.open(ws, "351", PERIOD, directory=units), books)
    assert [d.unit for d in drafts] == [JTJ]
    assert flatten(problems, ("code", "severity", "value")) == [
        ("missing-email", "error", WMB),
        ("missing-email", "error", "不存在的单位"),
        ("bad-email", "error", "zjj at luoyang.gov.cn"),
    ]
    assert "电子邮箱" in problems[0].message and "source_data/units.xlsx" in problems[0].message
    assert WMB in problems[0].message and "名录" in problems[1].message
    outbox = ws.out_dir("351", PERIOD) / "outbox"
    assert sorted(p.name for p in outbox.iterdir()) == [f"{PERIOD}_{JTJ}.eml"]


def test_placeholder_addresses_are_reported_and_other_scopes_addresses_refused(tmp_path):
    ws = make_ws(tmp_path)
    units = UnitDirectory([
        Unit(name=JTJ, scope="洛阳市", email="u0027@example.org"),
        Unit(name=ZJJ, scope="洛阳市", email="zjj@luoyang.gov.cn；zjj@luoning.gov.cn"),
        Unit(name="县住房和城乡建设局", scope="洛宁县", email="zjj@luoning.gov.cn"),
        Unit(name="县城市管理局", scope="洛宁县", aliases=("县城管局",), email="cgj@luoning.gov.cn"),
    ])
    books = workbooks(tmp_path, JTJ, ZJJ, "县城管局")
    drafts, problems = write_drafts(Run.open(ws, "351", PERIOD, directory=units), books)
    assert flatten(problems, ("code", "severity", "value")) == [
        ("placeholder-email", "warning", "u0027@example.org"),  # drafted, but it will not arrive: said so
        ("address-other-scope", "error", "zjj@luoning.gov.cn"),  # 洛宁县's address: not used for 洛阳市
        ("missing-email", "error", "县城管局"),  # 洛宁县's unit: no draft to it from a 洛阳市 programme
    ]
    assert {d.unit: d.to for d in drafts} == {JTJ: ("u0027@example.org",), ZJJ: ("zjj@luoyang.gov.cn",)}
    assert "层级范围“洛宁县”的“县住房和城乡建设局”" in problems[1].message
    assert "洛宁县" in problems[2].message and "不向其他层级范围的单位发送" in problems[2].message


def test_reminders(tmp_path):
    ws = make_ws(tmp_path)
    reasons = {JTJ: "截至报送时限仍未报送", WMB: "未报送", ZJJ: "报送的台账中“完成进度”填写为“八成”，已退回"}
    due = datetime(2022, 6, 10, 16, 0, tzinfo=CHINA)
    drafts, problems = write_reminders(Run.open(ws, "351", PERIOD, directory=directory(), now=due), reasons)
    assert flatten(problems, ("code", "value")) == [("missing-email", WMB)]
    assert [d.unit for d in drafts] == [JTJ, ZJJ]
    assert all(d.attachment is None and d.path.name.endswith("_催报.eml") for d in drafts)
    msg = parse(drafts[1].path.read_bytes())
    assert msg["Subject"] == f"【催报】洛阳市城市提质“351”工程行动六大专项行动2022年第23周工作台账（{ZJJ}）"
    assert msg["Date"] == "Fri, 10 Jun 2022 16:00:00 +0800"
    assert not msg.is_multipart()
    body = body_text(msg)
    assert "“完成进度”填写为“八成”，已退回" in body and "6月10日16时" in body
    # A reminder and the ledger mail to the same unit are distinct files and messages.
    ledger_drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), workbooks(tmp_path, ZJJ))
    assert ledger_drafts[0].path != drafts[1].path
    assert parse(ledger_drafts[0].path.read_bytes())["Message-ID"] != msg["Message-ID"]


def test_build_message_without_attachment_is_single_part(tmp_path):
    from datetime import datetime

    msg = build_message(sender="a@example.org", to=["b@example.org"], subject="主题", body="正文\n",
                        attachment=None, date=datetime(2022, 6, 6, 9), message_id="<x@example.org>")
    assert msg["Date"] == "Mon, 06 Jun 2022 09:00:00 +0800"
    assert body_text(parse(msg.as_bytes())) == "正文\n"


def test_a_long_chinese_subject_is_folded_into_encoded_words_that_read_back(tmp_path):
    from datetime import datetime

    subject = "【回执·已登记（逾期）】洛阳市城市提质“351”工程行动六大专项行动2022年第23周 6月6日—6月10日工作台账（市交通运输局）"
    raw = bytes(build_message(sender="a@example.org", to=["b@example.org"], subject=subject, body="正文\n",
                              attachment=None, date=datetime(2022, 6, 6, 9), message_id="<x@example.org>"))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and max(len(line) for line in head.split(b"\r\n")) <= 78
    assert parse(raw)["Subject"] == subject
    assert b"=?utf-8?b?" in head


@pytest.mark.parametrize("sender, to, subject, body", [
    ("office@example.org", ["unit@example.org"], "【回执·已登记】第23周工作台账（市交通运输局）", "市交通运输局：\n\n    已收到。\n"),
    ("office@example.org", ["a@example.org", "b.c-d@sub.example.org"], "【回执·退回】" + "很长的主题" * 20,
     "第一行\r\n第二行\r\n" + "正文" * 300 + "\n\n\n"),
    ("office@example.org", ["a@example.org"], "主题", ""),
    ("office@example.org", ["a@example.org"], "主题", "no newline at the end"),
    # not plain: written by the email package, the same bytes all the same
    ("督查室 <office@example.org>", ["unit@example.org"], "主题", "正文\n"),
    ("office@example.org", [f"unit{n:04d}@example.org" for n in range(8)], "主题", "正文\n"),
    ("office@example.org", ["unit@example.org"], "ascii subject", "正文\n"),
    ("office@example.org", [], "主题", "正文\n"),
])
def test_a_reply_written_directly_has_the_bytes_the_email_package_writes(sender, to, subject, body, monkeypatch):
    """Replies (one per collected file) are written without the email package when their headers
    are plain; the bytes are those of build_message, and the message reads back the same."""
    from ledger.mail.message import message_bytes

    args = dict(sender=sender, to=to, subject=subject, body=body, date=datetime(2022, 6, 6, 9, 30),
                message_id="<0123abcd.ledger@ledger.invalid>")
    import ledger.mail.message as message

    calls = []
    monkeypatch.setattr(message, "build_message", lambda **kw: calls.append(kw) or build_message(**kw))
    raw = message_bytes(**args)
    assert (not calls) == (sender.isascii() and 0 < len(", ".join(to)) <= 70 and not subject.isascii())
    assert raw == bytes(build_message(attachment=None, **args))
    assert parse(raw)["Subject"] == subject
    assert body_text(parse(raw)).replace("\r\n", "\n").rstrip("\n") == body.replace("\r\n", "\n").rstrip("\n")


# ---- sending through a real SMTP server ----------------------------------------------

def test_send_plain_and_no_resend(tmp_path, smtp_server):
    handler = Collector()
    port = smtp_server(handler)
    ws = make_ws(tmp_path, f'host = "127.0.0.1"\nport = {port}\nstarttls = false\n')
    books = workbooks(tmp_path, JTJ, ZJJ)
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory(), now=MONDAY_9), books)
    outbox = drafts[0].path.parent
    reviewed = {d.path.name: d.path.read_bytes() for d in drafts}

    sent, problems = send_drafts(ws, outbox, now=datetime(2022, 6, 7, 10, 30, tzinfo=CHINA))
    assert problems == []
    assert sorted(p.name for p in sent) == sorted(d.path.name for d in drafts)
    assert all(p.parent == outbox / "sent" for p in sent)
    assert list(outbox.glob("*.eml")) == []
    by_unit = {}
    for mail_from, rcpts, data, _, _ in handler.received:
        assert mail_from == "tizhi-office@example.org"
        by_unit[address(data, "To")[0]] = (rcpts, parse(data), data)
    assert by_unit[ZJJ][0] == ["zjj@luoyang.gov.cn", "zjj-2@luoyang.gov.cn"]
    rcpts, msg, data = by_unit[JTJ]
    assert rcpts == ["jtj@luoyang.gov.cn"]
    assert msg["Subject"] == SUBJECT
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == books[JTJ].name
    assert att.get_content() == books[JTJ].read_bytes()
    # What went out is what was reviewed in the outbox, dated when it was sent; sent/ keeps it.
    assert msg["Date"] == "Tue, 07 Jun 2022 10:30:00 +0800"
    draft = reviewed[f"{PERIOD}_{JTJ}.eml"]
    assert b"Date: Mon, 06 Jun 2022 09:00:00 +0800" in draft
    undated = [re.sub(rb"(?m)^Date: .*\n", b"", d.replace(b"\r\n", b"\n")) for d in (data, draft)]
    assert undated[0] == undated[1]
    assert data == (outbox / "sent" / f"{PERIOD}_{JTJ}.eml").read_bytes()

    # Sending again sends nothing; drafting the same mails again, even days later (another date
    # in the header and the 落款), does not queue them again.
    assert send_drafts(ws, outbox) == ([], [])
    again, problems = write_drafts(Run.open(ws, "351", PERIOD, directory=directory(),
                                            now=datetime(2022, 6, 9, 11, tzinfo=CHINA)), books)
    assert again == []
    assert flatten(problems, ("code", "severity")) == [("already-sent", "warning")] * 2
    assert len(handler.received) == 2


def test_sending_tells_its_progress_message_by_message(tmp_path, smtp_server):
    from test_progress import Recorder

    port = smtp_server(Collector())
    ws = make_ws(tmp_path, f'host = "127.0.0.1"\nport = {port}\nstarttls = false\n')
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory(), now=MONDAY_9),
                             workbooks(tmp_path, JTJ, ZJJ))
    progress = Recorder()
    sent, problems = send_drafts(ws, drafts[0].path.parent, progress=progress)
    assert problems == [] and len(sent) == 2
    names = sorted(d.path.name for d in drafts)
    assert (progress.total, progress.what, progress.count) == (2, "封邮件", 2)
    assert [name for name, n in progress.done if n] == names  # each told once it went out


def test_one_refused_message_does_not_stop_the_rest(tmp_path, smtp_server):
    handler = Collector(refuse="jtj@luoyang.gov.cn")
    port = smtp_server(handler)
    ws = make_ws(tmp_path, f'host = "127.0.0.1"\nport = {port}\nstarttls = false\n')
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), workbooks(tmp_path, JTJ, ZJJ))
    outbox = drafts[0].path.parent
    sent, problems = send_drafts(ws, outbox)
    assert [p.name for p in sent] == [f"{PERIOD}_{ZJJ}.eml"]
    assert flatten(problems, ("code", "file")) == [("send-failed", str(outbox / f"{PERIOD}_{JTJ}.eml"))]
    assert "550" in problems[0].message
    assert [p.name for p in outbox.glob("*.eml")] == [f"{PERIOD}_{JTJ}.eml"]
    assert len(handler.received) == 1


def test_starttls_required_but_not_offered(tmp_path, smtp_server):
    port = smtp_server(Collector())
    ws = make_ws(tmp_path, f'host = "127.0.0.1"\nport = {port}\nstarttls = true\n')
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), workbooks(tmp_path, JTJ))
    with pytest.raises(LedgerError, match="STARTTLS"):
        send_drafts(ws, drafts[0].path.parent)
    assert drafts[0].path.is_file()


def test_connection_refused_is_a_ledger_error(tmp_path):
    ws = make_ws(tmp_path, f'host = "127.0.0.1"\nport = {free_port()}\nstarttls = false\n')
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), workbooks(tmp_path, JTJ))
    with pytest.raises(LedgerError, match="无法连接邮件服务器"):
        send_drafts(ws, drafts[0].path.parent)
    assert drafts[0].path.is_file()


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("需要 openssl 生成测试证书")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def test_send_with_starttls_and_auth(tmp_path, smtp_server, monkeypatch):
    cert, key = self_signed_cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data == (b"dcs", b"s3cret-123")
        return AuthResult(success=ok, handled=False, auth_data="dcs" if ok else None)

    handler = Collector()
    port = smtp_server(handler, tls_context=server_ctx, require_starttls=True,
                       authenticator=authenticator, auth_required=True)
    ws = make_ws(tmp_path, f'host = "127.0.0.1"\nport = {port}\nstarttls = true\n'
                           'username = "dcs"\npassword_env = "TEST_LEDGER_SMTP_PW"\n')
    books = workbooks(tmp_path, JTJ)
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), books)
    outbox = drafts[0].path.parent
    client_ctx = ssl.create_default_context(cafile=str(cert))

    monkeypatch.delenv("TEST_LEDGER_SMTP_PW", raising=False)
    with pytest.raises(LedgerError, match="TEST_LEDGER_SMTP_PW"):
        send_drafts(ws, outbox, ssl_context=client_ctx)
    with pytest.raises(LedgerError, match="登录邮件服务器"):
        send_drafts(ws, outbox, password="wrong", ssl_context=client_ctx)
    assert handler.received == [] and drafts[0].path.is_file()

    monkeypatch.setenv("TEST_LEDGER_SMTP_PW", "s3cret-123")
    sent, problems = send_drafts(ws, outbox, ssl_context=client_ctx)
    assert problems == [] and len(sent) == 1
    [(mail_from, rcpts, data, over_tls, auth)] = handler.received
    assert over_tls and auth == "dcs"
    assert rcpts == ["jtj@luoyang.gov.cn"]
    [att] = list(parse(data).iter_attachments())
    assert att.get_filename() == books[JTJ].name
    assert att.get_content() == books[JTJ].read_bytes()


def test_send_over_implicit_tls_when_configured(tmp_path, smtp_server):
    """smtp.ssl = true: TLS from the first byte (SMTPS), on whatever port the office uses."""
    cert, key = self_signed_cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    handler = Collector()
    port = smtp_server(handler, ssl_context=server_ctx)
    ws = make_ws(tmp_path, f'host = "127.0.0.1"\nport = {port}\nssl = true\nstarttls = false\ntimeout = 5\n')
    assert (ws.smtp.ssl, ws.smtp.timeout) == (True, 5)
    books = workbooks(tmp_path, JTJ)
    drafts, _ = write_drafts(Run.open(ws, "351", PERIOD, directory=directory()), books)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    (tmp_path / "plain").mkdir()
    plain = make_ws(tmp_path / "plain", f'host = "127.0.0.1"\nport = {port}\nstarttls = false\ntimeout = 2\n')
    with pytest.raises(LedgerError):  # the server speaks TLS only: a plain client gets nowhere
        send_drafts(plain, drafts[0].path.parent, ssl_context=client_ctx)
    assert handler.received == []
    sent, problems = send_drafts(ws, drafts[0].path.parent, ssl_context=client_ctx)
    assert problems == [] and len(sent) == 1
    [(_, rcpts, _, _, _)] = handler.received
    assert rcpts == ["jtj@luoyang.gov.cn"]


@pytest.mark.parametrize(("text", "message"), [
    ("timeout = 0\n", "smtp.timeout"), ('timeout = "30"\n', "smtp.timeout"), ('ssl = "yes"\n', "smtp.ssl")])
def test_bad_smtp_settings_are_named(tmp_path, text, message):
    with pytest.raises(LedgerError, match=message):
        make_ws(tmp_path, text)


def test_smtp_defaults(tmp_path):
    ws = make_ws(tmp_path, 'host = "mail.example.org"\n')
    assert (ws.smtp.ssl, ws.smtp.timeout, ws.smtp.starttls) == (None, 30, True)
