"""registry import proposes the due rule a notice states (docs/due-rules.md)."""

import shutil
from datetime import time
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.config import Reporting
from ledger.registry.reporting_rule import notice_lines, propose

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("sentence", "keys"), [
    ("每周督查结果由各牵头单位于每周五 16 时前，以工作台账的形式上报市交通运输局。",
     {"cycle": "weekly", "due_weekday": 5, "due_time": time(16, 0)}),
    ("各牵头单位于每月25日前报送工作台账。", {"cycle": "monthly", "due_day": 25}),
    ("请于每周四下午5点前上报工作台账。", {"cycle": "weekly", "due_weekday": 4, "due_time": time(17, 0)}),
    ("每季度末由牵头单位向区政府汇报重点工作进度。", {"cycle": "quarterly", "due": "last_workday"}),
    ("每季度最后一个月二十日前报送工作进展。", {"cycle": "quarterly", "due_day": 20}),
    ("每月结束后5个工作日内报送上月工作进展。", {"cycle": "monthly", "due_workdays_after": 5}),
    ("各牵头单位每日18时前报送当日进展情况。", {"cycle": "daily", "due_time": time(18, 0)}),
])
def test_each_way_a_notice_says_it(sentence: str, keys: dict) -> None:
    (proposal,) = propose(["一、工作要求", sentence])
    assert dict(proposal.keys) == keys
    assert proposal.annex is None


def test_a_sentence_about_something_else_proposes_nothing() -> None:
    """每月 and 每日 are everywhere in a notice; only a sentence about reporting progress counts."""
    assert propose(["社区干部每月召开一次党群议事会。", "每日工作开展情况由施工单位负责记录。"]) == []


def test_annexes_get_their_own_rule_and_wrapped_lines_are_joined() -> None:
    found = propose(["各单位要高度重视。", "附件1", "交通枢纽建设工程", "各牵头单位于每周五",
                     "16时前报送工作台账。", "附件 2", "城市风貌提升工程", "每周督查结果于每周五18时前以工作台账形式上报。"])
    assert [(p.annex, dict(p.keys)["due_time"]) for p in found] == [("A1", time(16)), ("A2", time(18))]


def test_what_differs_from_ledger_toml() -> None:
    (proposal,) = propose(["各牵头单位于每月25日前报送工作台账。"])
    configured = Reporting(title="t", cycle="monthly", due_weekday=5, due_time=time(17))
    assert proposal.differs(configured) == ['due = "weekday"']
    assert "due_day = 25" in proposal.toml()
    assert proposal.describe(configured) == '“每月25日前” → 每月25日17时（cycle = "monthly"，due_day = 25）'


def test_a_word_notice_is_read_too(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("各牵头单位于每月25日前报送工作台账。")
    document.save(tmp_path / "n.docx")
    assert [dict(p.keys) for p in propose(notice_lines(tmp_path / "n.docx"))] == [{"cycle": "monthly", "due_day": 25}]


NOTICE_25 = """关于印发测试月报工作方案的通知
测政〔2024〕3号
各有关单位：
现将有关事项通知如下。
一、推进重点项目建设
1.推进重点交通项目建设。12月底前，完成年度投资计划。
牵头单位：市交通运输局
二、工作要求
各牵头单位于每月25日前，以工作台账形式报送工作进展情况。
测试市人民政府
2024年3月1日
"""


def test_registry_import_of_a_monthly_notice_proposes_due_day_25(tmp_path: Path) -> None:
    shutil.copy2(REPO / "ledger.toml", tmp_path / "ledger.toml")
    shutil.copytree(REPO / "source_data", tmp_path / "source_data")
    with open(tmp_path / "ledger.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[programmes.yuebao]\ntitle = "测试月报"\ndoc_number = "测政〔2024〕3号"\nissued = 2024-03-01\n'
                 'cycle = "monthly"\ndue_weekday = 5\ndue_time = "17:00"\noffice = "市督查室"\n')
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE_25, encoding="utf-8")
    res = CliRunner().invoke(main, ["-w", str(tmp_path), "registry", "import", str(notice), "-p", "yuebao"])
    assert "Traceback" not in res.output
    assert "“每月25日前” → 每月25日17时" in res.output
    assert 'due = "weekday"' in res.output  # what ledger.toml says now
    assert "due_day = 25" in res.output  # what it should say


def test_the_proposed_rule_is_what_every_text_then_says(tmp_path: Path) -> None:
    """每月25日前: once ledger.toml says due_day = 25, the workbook, the mail, the receipt, the status
    and the bulletin all say the 25th (not the month's last Friday, 3月29日)."""
    import email
    import email.policy

    import openpyxl
    import returned

    from ledger.assess.content import due_text
    from ledger.config import load

    shutil.copy2(REPO / "ledger.toml", tmp_path / "ledger.toml")
    shutil.copytree(REPO / "source_data", tmp_path / "source_data")
    config = tmp_path / "ledger.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[programmes.yuebao]\ntitle = "测试月报"\n'
                      'doc_number = "测政〔2024〕3号"\nissued = 2024-03-01\ncycle = "monthly"\ndue_weekday = 5\n'
                      'due_time = "17:00"\noffice = "市督查室"\nemail = "dcs@example.org"\n', encoding="utf-8")
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE_25, encoding="utf-8")
    runner = CliRunner()

    def ledger(*args: str) -> str:
        res = runner.invoke(main, ["-w", str(tmp_path), *args])
        assert "Traceback" not in res.output, res.output
        return res.output

    assert "due_day = 25" in ledger("registry", "import", str(notice), "-p", "yuebao")
    config.write_text(config.read_text(encoding="utf-8").replace('cycle = "monthly"\ndue_weekday = 5\n',
                                                                 'cycle = "monthly"\ndue_day = 25\n'), encoding="utf-8")
    ledger("generate", "-p", "yuebao", "--period", "2024-03")
    period_dir = tmp_path / "out" / "yuebao" / "2024-03"
    workbook = period_dir / "templates" / "2024-03_市交通运输局_工作台账.xlsx"
    guide = {r[0]: r[1] for r in openpyxl.load_workbook(workbook)["填报说明"].iter_rows(values_only=True) if r[0]}
    assert guide["报送时限"] == "2024年3月25日（星期一）17:00前（每月25日17时前）"
    ledger("mail", "drafts", "-p", "yuebao", "--period", "2024-03")
    draft = email.message_from_bytes((period_dir / "outbox" / "2024-03_市交通运输局.eml").read_bytes(),
                                     policy=email.policy.default)
    assert draft["Subject"].startswith("【请于3月25日17时前报送】")
    assert "请于3月25日17时前" in draft.get_body().get_content()
    inbox = tmp_path / "inbox"
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "市交通运输局 <jt@example.org>", "dcs@example.org", "回复"
    msg["Date"] = "Tue, 26 Mar 2024 10:00:00 +0800"
    filled = returned.fill(workbook, out=tmp_path / workbook.name)
    msg.add_attachment(filled.read_bytes(), maintype="application", subtype="octet-stream", filename=workbook.name)
    inbox.mkdir()
    (inbox / "reply.eml").write_bytes(msg.as_bytes())
    ledger("collect", str(inbox), "-p", "yuebao", "--period", "2024-03")
    [receipt] = (period_dir / "receipts").glob("*_回执.txt")
    text = receipt.read_text(encoding="utf-8")
    assert "已登记（通过）" in text and "截止时间：3月25日 17:00" in text and "截止3月25日17时，收到3月26日10时，逾期17小时" in text
    assert "截止 3月25日 17:00" in ledger("status", "-p", "yuebao", "--period", "2024-03")
    assert due_text(load(tmp_path).programme("yuebao")) == "每月25日17时"  # the bulletin's 下步工作要求
