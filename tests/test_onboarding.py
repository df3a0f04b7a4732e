"""A new office, from an empty folder to the first mail drafts, without editing ledger.toml.

The notice (tests/yichuan.py) is a county's, monthly, due on the 25th, with abbreviated unit
names. The office's units directory already holds a neighbouring county's units (县发改委 of
洛川县, as copied from another workspace) and a city's unit (市生态环境局宜川分局 of 延安市):
neither may be taken for 宜川县's. Every step runs through the command line; the clerk's
only edits are in the units workbook, as the printed instructions say.
"""

from __future__ import annotations

import json
import tomllib
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path

import openpyxl
import pytest
import yichuan
from click.testing import CliRunner, Result

from ledger import config
from ledger.cli import main
from ledger.registry.units import SHEET, UnitDirectory
from ledger.registry.workbook import read_registry_file
from ledger.resources import SKELETON, shipped

PID = "yc2024"
NEIGHBOURS = [  # name, scope, aliases, kind, e-mail: typed in before the notice came
    ("县发展和改革委员会", "洛川县", "县发改委", "县直部门", "fgw@luochuan.gov.cn"),
    ("县住房和城乡建设局", "洛川县", "县住建局", "县直部门", "zjj@luochuan.gov.cn"),
    ("市生态环境局宜川分局", "延安市", "", "驻地单位", "ycfj@yanan.gov.cn"),
]
ADDRESSES = {name: f"u{i}@yichuan.gov.cn" for i, name in enumerate(yichuan.LEADS.values(), start=1)}


def ledger(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-w", str(root), *args], prog_name="ledger")


def edit_units(path: Path, change) -> None:
    """The clerk edits rows of the units workbook in Excel: change(row cells by header) per row."""
    wb = openpyxl.load_workbook(path)
    sheet = wb[SHEET]
    header = {cell.value: cell.column for cell in sheet[1] if cell.value}
    for r in range(2, sheet.max_row + 1):
        cells = {h: sheet.cell(row=r, column=c) for h, c in header.items()}
        if cells["单位名称"].value:
            change(cells)
    wb.save(path)


def units_rows(path: Path) -> list[dict[str, str]]:
    wb = openpyxl.load_workbook(path)
    rows = list(wb[SHEET].iter_rows(values_only=True))
    return [{h: v or "" for h, v in zip(rows[0], row, strict=False)} for row in rows[1:] if any(row)]


def problems_of(res: Result) -> list[dict]:
    return json.loads(res.output)["programmes"][PID]


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Path:
    """ledger init, the neighbours' rows typed in, the notice saved in source_data/notices/."""
    root = tmp_path_factory.mktemp("onboarding") / "宜川督查"
    res = CliRunner().invoke(main, ["init", str(root)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(root / "source_data" / "units.xlsx")
    header = [c.value for c in wb[SHEET][1]]
    for name, scope, aliases, kind, email in NEIGHBOURS:
        row = dict.fromkeys(header, None) | {"单位名称": name, "层级范围": scope, "简称/别名": aliases or None,
                                              "类别": kind, "电子邮箱": email}
        wb[SHEET].append(list(row.values()))
    wb.save(root / "source_data" / "units.xlsx")
    yichuan.write_notice(root / "source_data" / "notices")
    return root


def notice(root: Path) -> str:
    return str(root / "source_data" / "notices" / "宜政办〔2024〕9号.txt")


def test_whole_onboarding(office: Path) -> None:
    root = office
    toml_path = root / "ledger.toml"
    skeleton = (shipped(SKELETON) / "ledger.toml").read_text(encoding="utf-8")

    # 1. programme add: ledger.toml gains the programme, the registry is imported
    res = ledger(root, "programme", "add", notice(root), "--id", PID)
    assert res.exit_code == 1, res.output  # unit names not yet in the directory: errors to act on
    text = toml_path.read_text(encoding="utf-8")
    assert _is_kept_in(skeleton.splitlines(), text.splitlines())  # every line of the commented file stays
    prog = config.load(root).programme(PID)
    assert (prog.doc_number, prog.issuer, prog.issued.isoformat(), prog.scope) == (
        yichuan.DOC_NUMBER, yichuan.ISSUER, "2024-03-01", yichuan.SCOPE)
    assert prog.title == "宜川县2024年重点工作任务"
    rep = prog.reporting
    assert (rep.cycle, rep.due, rep.due_day, rep.due_time.isoformat("minutes")) == ("monthly", "day", 25, "16:00")
    assert (rep.office, rep.email, rep.contact, rep.phone, rep.bulletin) == (
        "宜川县政府督查室", yichuan.OFFICE_EMAIL, "李娜", "0911-4821234", "monthly")
    assert rep.requirement.startswith("各牵头单位要于每月25日前") and "@" not in rep.requirement
    for words in ("[programmes.yc2024]", "通知原文：“每月25日前”", "通知没有写明时刻", "识别编号条目 7 个，导入任务 7 个",
                  "与 ledger.toml [programmes.yc2024] 的设置一致", "需要核对：", "ledger units add --from",
                  "ledger generate -p yc2024 --period 2024-03"):
        assert words in res.output, words
    # 县发改委 is not 洛川县's: the import says so instead of taking it
    registry, _ = read_registry_file(root / "source_data" / PID / "registry.xlsx", PID)
    assert len(registry.tasks) == 7
    assert registry.tasks[0].lead_units == ["县发改委"]
    assert "洛川县" in " ".join(registry.tasks[0].review)
    assert "县发展和改革委员会" not in registry.lead_units()

    # ... and twice does not duplicate it
    again = ledger(root, "programme", "add", notice(root))
    assert again.exit_code == 0, again.output
    assert "未重复添加" in again.output and "已存在，未重新导入" in again.output
    assert toml_path.read_text(encoding="utf-8") == text
    assert tomllib.loads(text)["programmes"].keys() == {PID}

    # 2. units add: the notice's units under 宜川县, full names, short names as aliases, 待核实
    res = ledger(root, "units", "add", "--from", notice(root))
    assert res.exit_code == 0, res.output
    units_path = root / "source_data" / "units.xlsx"
    rows = units_rows(units_path)
    assert [r["单位名称"] for r in rows[:3]] == [n for n, *_ in NEIGHBOURS]  # the office's rows stay first
    assert [(r["层级范围"], r["电子邮箱"]) for r in rows[:3]] == [(s, e) for _, s, _, _, e in NEIGHBOURS]
    added = {r["单位名称"]: r for r in rows[3:]}
    for short, full in yichuan.LEADS.items():
        row = added[full]
        assert (row["层级范围"], row["简称/别名"], row["类别"], row["电子邮箱"]) == (yichuan.SCOPE, short, "县直部门", "")
        assert row["备注"].startswith("待核实")
    assert added["县自然资源局"]["层级范围"] == yichuan.SCOPE  # 自然资源局 after 县财政局: the shared 县
    assert added["丹州街道"]["类别"] == "镇街" and added["各乡镇"]["类别"] == "群组"
    assert "市生态环境局宜川分局" not in added and "市生态环境局宜川分局：以“市”开头" in res.output
    registry, _ = read_registry_file(root / "source_data" / PID / "registry.xlsx", PID)
    assert registry.lead_units() == [*yichuan.LEADS.values(), "市生态环境局宜川分局"]
    assert not any("县发改委" in flag for flag in registry.tasks[0].review)

    # 3. review: no address, a placeholder address, another scope's unit named as an error
    edit_units(units_path, lambda c: c["单位名称"].value == "县城市管理局" and setattr(c["电子邮箱"], "value",
                                                                                 "cgj@example.org"))
    res = ledger(root, "registry", "check", PID, "--json")
    assert res.exit_code == 1, res.output
    found = {(p["code"], p["value"]) for p in problems_of(res)}
    no_address = {v for c, v in found if c == "unit-no-email"}
    assert no_address == set(yichuan.LEADS.values()) - {"县城市管理局"}
    assert ("placeholder-email", "cgj@example.org") in found
    other = [p for p in problems_of(res) if p["code"] == "unit-other-scope"]
    assert [(p["value"], p["severity"]) for p in other] == [("市生态环境局宜川分局", "error")]
    assert "延安市" in other[0]["message"] and "市生态环境局宜川分局" in other[0]["message"]
    assert {v for c, v in found if c == "unit-pending"} >= set(yichuan.LEADS.values())
    assert not any(p["severity"] == "error" for p in problems_of(res) if p["code"] != "unit-other-scope")

    # 4. the clerk fills in the addresses (copying 洛川县's into 宜川's 住建局 by mistake), makes the
    #    city's unit common to every scope and clears 待核实
    def fill(cells):
        name = cells["单位名称"].value
        if name in ADDRESSES and cells["层级范围"].value == yichuan.SCOPE:
            cells["电子邮箱"].value = "zjj@luochuan.gov.cn" if name == "县住房和城乡建设局" else ADDRESSES[name]
            cells["备注"].value = None
        if name == "市生态环境局宜川分局":
            cells["层级范围"].value = None

    edit_units(units_path, fill)
    res = ledger(root, "registry", "check", PID, "--json")
    errors = [(p["code"], p["value"]) for p in problems_of(res) if p["severity"] == "error"]
    assert errors == [("address-other-scope", "zjj@luochuan.gov.cn")]

    # 5. generate and mail drafts: the borrowed address is refused, the others are drafted
    res = ledger(root, "generate", "-p", PID, "--period", "2024-03")
    assert res.exit_code == 0, res.output
    assert "已生成 7 个工作台账" in res.output
    res = ledger(root, "mail", "drafts", "-p", PID, "--period", "2024-03")
    assert res.exit_code == 1, res.output
    assert "zjj@luochuan.gov.cn" in res.output and "洛川县" in res.output
    outbox = root / "out" / PID / "2024-03" / "outbox"
    assert not (outbox / "2024-03_县住房和城乡建设局.eml").exists()

    edit_units(units_path, lambda c: c["单位名称"].value == "县住房和城乡建设局" and c["层级范围"].value == yichuan.SCOPE
               and setattr(c["电子邮箱"], "value", ADDRESSES["县住房和城乡建设局"]))
    res = ledger(root, "registry", "check", PID, "--json")
    assert res.exit_code == 0, res.output
    res = ledger(root, "mail", "drafts", "-p", PID, "--period", "2024-03")
    assert res.exit_code == 0, res.output
    sent_to = {}
    for path in sorted(outbox.glob("*.eml")):
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        unit = path.stem.split("_", 1)[1]
        sent_to[unit] = parseaddr(str(msg["To"]))[1]
        assert parseaddr(str(msg["From"]))[1] == yichuan.OFFICE_EMAIL
        assert "3月25日" in str(msg["Subject"]) and "宜川县2024年重点工作任务" in str(msg["Subject"])
    assert sent_to == {**ADDRESSES, "市生态环境局宜川分局": "ycfj@yanan.gov.cn"}
    directory = UnitDirectory.load(units_path)
    assert directory.get("县发改委", "洛川县").email == "fgw@luochuan.gov.cn"  # the neighbour's row untouched


def _is_kept_in(old: list[str], new: list[str]) -> bool:
    """Every line of *old* is in *new*, in the same order."""
    lines = iter(new)
    return all(any(line == other for other in lines) for line in old)
