"""The registry commands through the CLI: exit codes, JSON, Chinese messages."""

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from ledger.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def wsdir(tmp_path) -> Path:
    shutil.copy2(REPO / "ledger.toml", tmp_path / "ledger.toml")
    shutil.copytree(REPO / "source_data", tmp_path / "source_data")
    return tmp_path


def run(wsdir: Path, *args: str):
    return CliRunner().invoke(main, ["-w", str(wsdir), *args])


def test_list_json(wsdir):
    res = run(wsdir, "registry", "list", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r for r in json.loads(res.output)["programmes"]}
    assert rows["351"]["tasks"] == 66 and rows["pingtai"]["tasks"] == 66 and rows["yanshi"]["tasks"] == 98
    assert rows["351"]["doc_number"] == "洛城提办文〔2022〕11号"


def test_check_clean_then_broken(wsdir):
    res = run(wsdir, "registry", "check", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["valid"] is True
    path = wsdir / "source_data" / "351" / "registry.xlsx"
    wb = openpyxl.load_workbook(path)
    sheet = wb["任务清单"]
    header = [c.value for c in sheet[1]]
    col = header.index("牵头单位") + 1
    sheet.cell(row=2, column=col, value="市发改委员会")
    sheet.cell(row=3, column=col, value="各城市区政府（管委会）")
    wb.save(path)
    res = run(wsdir, "registry", "check", "351", "--json")
    assert res.exit_code == 1
    codes = {p["code"] for p in json.loads(res.output)["programmes"]["351"]}
    assert {"unknown-unit", "group-lead"} <= codes
    text = run(wsdir, "registry", "check", "351")
    assert "市发改委员会" in text.output and "是否为" in text.output


def test_import_empty_file_exit_1_nothing_written(wsdir, tmp_path, monkeypatch):
    monkeypatch.chdir(wsdir)  # -o is taken relative to the current folder
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    res = run(wsdir, "registry", "import", str(empty), "--programme", "351", "-o", "new/r.xlsx")
    assert res.exit_code == 1
    assert "empty.txt" in res.output and "Traceback" not in res.output
    assert not (wsdir / "new").exists()


def test_import_prints_items_seen_and_tasks_imported(wsdir, monkeypatch):
    monkeypatch.chdir(wsdir)  # -o is taken relative to the current folder
    notice = wsdir / "source_data" / "notices" / "pingtai_洛政2022-17号.txt"
    res = run(wsdir, "registry", "import", str(notice), "-o", "new/p.xlsx")
    assert res.exit_code == 0, res.output
    assert "pingtai_洛政2022-17号.txt：识别编号条目 66 个，导入任务 66 个" in res.output
    assert (wsdir / "new" / "p.xlsx").is_file()


def test_import_refuses_overwrite(wsdir):
    notice = wsdir / "source_data" / "notices" / "pingtai_洛政2022-17号.txt"
    res = run(wsdir, "registry", "import", str(notice))
    assert res.exit_code == 1 and "--force" in res.output


def test_unknown_programme_and_bad_config(wsdir):
    res = run(wsdir, "registry", "export", "nope")
    assert res.exit_code == 1 and "未知的项目" in res.output
    (wsdir / "ledger.toml").write_text((wsdir / "ledger.toml").read_text(encoding="utf-8")
                                       + "\n[programmes.x]\ntitle='x'\nissued=2022-01-01\ncycle='yearly'\n",
                                       encoding="utf-8")
    res = run(wsdir, "registry", "list")
    assert res.exit_code == 1 and "programmes.x.cycle" in res.output


def test_usage_error_is_exit_2(wsdir):
    assert run(wsdir, "registry", "import").exit_code == 2


def test_commands_run_from_a_subfolder_and_take_paths_relative_to_it(wsdir, monkeypatch):
    here = wsdir / "out" / "yc2024" / "2024-03"
    here.mkdir(parents=True)
    monkeypatch.delenv("LEDGER_WORKSPACE", raising=False)
    monkeypatch.chdir(here)
    res = CliRunner().invoke(main, ["registry", "list"])
    assert res.exit_code == 0 and "洛城提办文〔2022〕11号" in res.output
    notice = Path("../../../source_data/notices/pingtai_洛政2022-17号.txt")
    res = CliRunner().invoke(main, ["registry", "import", str(notice), "-p", "pingtai", "-o", "pingtai.xlsx"])
    assert res.exit_code == 0, res.output
    assert (here / "pingtai.xlsx").is_file()


def test_outside_any_workspace_the_message_says_ledger_init(tmp_path_factory, monkeypatch):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    if any((p / "ledger.toml").is_file() for p in elsewhere.resolve().parents):
        pytest.skip("a ledger.toml above the temporary folder")
    monkeypatch.delenv("LEDGER_WORKSPACE", raising=False)
    monkeypatch.chdir(elsewhere)
    res = CliRunner().invoke(main, ["registry", "list"])
    assert res.exit_code == 1
    assert res.output.startswith("错误：当前目录") and "ledger init" in res.output


def test_check_takes_the_scope_from_the_notice_when_ledger_toml_has_none(wsdir):
    """偃政〔2023〕6号 without scope and issuer in ledger.toml: the registry's issuer (洛阳市偃师区人民政府,
    from the notice) still makes 发改委 the district's; the placeholder addresses are reported."""
    toml = wsdir / "ledger.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('issuer = "洛阳市偃师区人民政府"\n', "").replace('scope = "偃师区"\n', "")
    toml.write_text(text, encoding="utf-8")
    res = run(wsdir, "registry", "check", "yanshi", "--json")
    assert res.exit_code == 0, res.output
    problems = json.loads(res.output)["programmes"]["yanshi"]
    assert {p["code"] for p in problems} == {"placeholder-email"}
    assert all(p["file"] == "source_data/units.xlsx" and p["row"] for p in problems)


def test_check_without_any_scope_warns():
    from ledger.registry.check import check_units
    from ledger.registry.model import ProgrammeInfo, Registry, Task
    from ledger.registry.units import Unit, UnitDirectory

    directory = UnitDirectory([Unit("县财政局", "洛宁县", email="czj@luoning.gov.cn"),
                               Unit("县审计局", "洛宁县", note="待核实（ledger units add 从通知添加）")])
    registry = Registry(ProgrammeInfo("x", "测试"), [Task("x-01", "x", [], "任务", lead_units=["县财政局", "县审计局"])])
    found = [(p.code, p.value, p.row) for p in check_units(registry, directory, "", "source_data/units.xlsx")]
    assert found == [("programme-no-scope", "x", None), ("unit-no-email", "县审计局", 3), ("unit-pending", "县审计局", 3)]
