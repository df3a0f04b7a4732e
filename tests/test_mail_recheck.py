"""Reminders and sending re-check the facts: no 催报 to a unit that has reported since."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from conftest import CG, JT, ZJ, Collector, filled, reply_mail

from ledger.cli import main
from ledger.config import Workspace, load
from ledger.mail import reminder_reasons, write_reminders
from ledger.periods import CHINA
from ledger.reporting import period_status

AFTER_DUE = datetime(2022, 6, 10, 18, 0, tzinfo=CHINA)


def reminders(open_run, now: datetime) -> list[str]:
    run = open_run(now=now)
    drafts, _ = write_reminders(run, reminder_reasons(run, period_status(run)))
    return sorted(d.unit for d in drafts)


def outbox_units(ws: Workspace, folder: str = "") -> list[str]:
    outbox = ws.out_dir("351", "2022-W23") / "outbox" / folder
    found = []
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(str(msg["X-Ledger-Unit"]))
    return sorted(found)


def collect_late_file(ws: Workspace, tmp_path: Path, unit: str = JT) -> None:
    inbox = tmp_path / f"late-{unit}"
    attachment = filled(ws, unit, tmp_path / "att")
    reply_mail(inbox / "late.eml", [(attachment.name, attachment.read_bytes())], date="Sat, 11 Jun 2022 10:00:00 +0800")
    res = CliRunner().invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 0, res.output


def test_reminders_before_and_after_a_late_file(ws: Workspace, tmp_path: Path, open_run) -> None:
    assert reminders(open_run, AFTER_DUE) == sorted([JT, CG, ZJ])
    assert outbox_units(ws) == sorted([JT, CG, ZJ])
    collect_late_file(ws, tmp_path)
    # run again: the earlier drafts are replaced, 交通运输局 (late, but reported) gets none
    assert reminders(open_run, datetime(2022, 6, 11, 12, tzinfo=CHINA)) == sorted([CG, ZJ])
    assert outbox_units(ws) == sorted([CG, ZJ])


def with_smtp(ws: Workspace, port: int) -> Workspace:
    config = ws.root / "ledger.toml"
    config.write_text(config.read_text(encoding="utf-8") + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                      'starttls = false\n', encoding="utf-8")
    return load(ws.root)


def test_send_skips_a_reminder_that_is_no_longer_true(ws: Workspace, tmp_path: Path, open_run, smtp_server) -> None:
    handler = Collector()
    ws = with_smtp(ws, smtp_server(handler))
    reminders(open_run, AFTER_DUE)
    collect_late_file(ws, tmp_path)  # 交通运输局 reports after its 催报 was drafted
    res = CliRunner().invoke(main, ["-w", str(ws.root), "mail", "send", "-p", "351", "--period", "2022-W23", "--yes"])
    assert res.exit_code == 0, res.output
    assert f"{JT}：已于6月11日 10:00（邮件发送时间）报送（逾期报送）" in res.output
    sent_to = sorted(str(email.message_from_bytes(data, policy=email.policy.default)["X-Ledger-Unit"])
                     for _, _, data, _, _ in handler.received)
    assert sent_to == sorted([CG, ZJ])
    assert outbox_units(ws, "withdrawn") == [JT] and outbox_units(ws, "sent") == sorted([CG, ZJ])
    assert outbox_units(ws) == []


def test_send_skips_a_reminder_whose_rejected_file_was_replaced(ws: Workspace, tmp_path: Path, open_run,
                                                               smtp_server) -> None:
    handler = Collector()
    ws = with_smtp(ws, smtp_server(handler))
    inbox = tmp_path / "bad"
    filled(ws, CG, inbox, status="差不多")
    runner = CliRunner()
    runner.invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"])
    reminders(open_run, AFTER_DUE)  # 城管局: sent back; 交通运输局 and 住建局: missing
    second = tmp_path / "bad2"
    filled(ws, CG, second, status="还行")  # sent back again, for another reason: the 催报 text is stale
    runner.invoke(main, ["-w", str(ws.root), "collect", str(second), "-p", "351", "--period", "2022-W23"])
    res = runner.invoke(main, ["-w", str(ws.root), "mail", "send", "-p", "351", "--period", "2022-W23", "--yes"])
    assert f"{CG}：此后报送的" in res.output and "请重新生成催报" in res.output
    assert len(handler.received) == 2 and outbox_units(ws, "withdrawn") == [CG]


def test_send_receipts_sends_each_reply_once(ws: Workspace, tmp_path: Path, smtp_server) -> None:
    handler = Collector()
    ws = with_smtp(ws, smtp_server(handler))
    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)
    filled(ws, CG, inbox, status="差不多")
    runner = CliRunner()
    runner.invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"])
    args = ["-w", str(ws.root), "mail", "send", "-p", "351", "--period", "2022-W23", "--receipts", "--yes"]
    res = runner.invoke(main, args)
    assert res.exit_code == 0 and "已发送 2 封" in res.output, res.output
    subjects = sorted(str(email.message_from_bytes(d, policy=email.policy.default)["Subject"])[:8]
                      for _, _, d, _, _ in handler.received)
    assert subjects == ["【回执·已登记（", "【回执·退回】洛"]  # both late: collected now, long after 2022
    # collecting the folder again writes no reply, and nothing is sent twice
    runner.invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"])
    res = runner.invoke(main, args)
    assert "没有待发送的邮件" in res.output and len(handler.received) == 2
