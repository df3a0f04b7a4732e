"""`ledger units add --from NOTICE`: a notice's units in the directory, named in full, edited in place."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import returned as rt
import yichuan
from click.testing import CliRunner
from openpyxl.styles import PatternFill

from ledger.cli import main
from ledger.errors import InputError
from ledger.registry.model import ProgrammeInfo, Registry, Task
from ledger.registry.units import HEADERS, PENDING, SHEET, Unit, UnitDirectory
from ledger.registry.units_add import (
    Naming,
    Refused,
    UnitsPlan,
    apply_plan,
    name_unit,
    plan_units,
    rename_in_registry,
)

SCOPE = "宜川县"


@pytest.mark.parametrize(("written", "name", "aliases", "kind"), [
    ("县发改委", "县发展和改革委员会", ("县发改委",), "县直部门"),
    ("发改委", "县发展和改革委员会", ("县发改委",), "县直部门"),  # bare: the scope's level
    ("宜川县住建局", "县住房和城乡建设局", ("县住建局",), "县直部门"),  # the scope's name: its level word
    ("县住房和城乡建设局", "县住房和城乡建设局", ("县住建局",), "县直部门"),  # in full: the short name as alias
    ("县城管局", "县城市管理局", ("县城管局",), "县直部门"),
    ("县教体局", "县教育和体育局", ("县教体局",), "县直部门"),
    ("县应急局", "县应急管理局", ("县应急局",), "县直部门"),
    ("县人社局", "县人力资源和社会保障局", ("县人社局",), "县直部门"),
    ("县政府办", "县人民政府办公室", ("县政府办",), "县直部门"),
    ("县委办", "县委办公室", ("县委办",), "县直部门"),
    ("市场监管局", "县市场监督管理局", ("县市场监管局",), "县直部门"),  # 市场 is no level word
    ("县财政局", "县财政局", (), "县直部门"),
    ("县人武部", "县人民武装部", ("县人武部",), "驻地单位"),
    ("丹州街道", "丹州街道", (), "镇街"),
    ("秋林镇人民政府", "秋林镇人民政府", ("秋林镇",), "镇街"),
    ("宜川县供电公司", "宜川县供电公司", (), "企业"),
    ("各乡镇", "各乡镇", (), "群组"),
    ("县直各部门", "县直各部门", (), "群组"),
])
def test_names_in_full_with_the_short_name_as_alias(written: str, name: str, aliases: tuple[str, ...],
                                                     kind: str) -> None:
    assert name_unit(written, SCOPE) == Naming(written, name, aliases, kind)


@pytest.mark.parametrize(("written", "why"), [
    ("洛川县住建局", "写明了其他地区“洛川县”"),
    ("市生态环境局宜川分局", "以“市”开头"),
])
def test_another_areas_or_levels_unit_is_not_this_scopes(written: str, why: str) -> None:
    refused = name_unit(written, SCOPE)
    assert isinstance(refused, Refused) and why in refused.reason


def test_a_city_scope_uses_its_own_level() -> None:
    assert name_unit("市发改委", "延安市") == Naming("市发改委", "市发展和改革委员会", ("市发改委",), "市直部门")
    assert isinstance(name_unit("县发改委", "延安市"), Refused)


def test_plan_adds_once_and_gives_an_existing_unit_the_short_name() -> None:
    directory = UnitDirectory([Unit("县住房和城乡建设局", SCOPE, (), "县直部门", email="zjj@yichuan.gov.cn"),
                               Unit("县发展和改革委员会", "洛川县", ("县发改委",))])
    plan = plan_units(directory, ["县发改委、县住建局", "县发改委", "丹州街道、各乡镇"], SCOPE, "宜政办〔2024〕9号")
    assert [(u.name, u.scope, u.aliases, u.kind, u.email) for u in plan.new] == [
        ("县发展和改革委员会", SCOPE, ("县发改委",), "县直部门", ""),  # 洛川县's of the same name is not 宜川县's
        ("丹州街道", SCOPE, (), "镇街", ""),
        ("各乡镇", SCOPE, (), "群组", ""),
    ]
    assert all(u.pending and "宜政办〔2024〕9号" in u.note for u in plan.new)
    assert [(u.name, aliases) for u, aliases in plan.aliases] == [("县住房和城乡建设局", ("县住建局",))]
    assert plan.known == []


def test_workbook_is_edited_in_place(tmp_path: Path) -> None:
    """The office's formatting, extra columns and rows stay; a directory written before 备注 existed
    gets the column; LibreOffice reads the result as ledger does."""
    path = tmp_path / "units.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = SHEET
    old_headers = [h for k, h in HEADERS.items() if k != "note"]
    sheet.append([*old_headers, "办公地址"])
    sheet.append(["县住房和城乡建设局", SCOPE, None, "县直部门", None, "王五", "zjj@yichuan.gov.cn", None, "丹州路1号"])
    sheet["A2"].fill = PatternFill("solid", fgColor="FFFF00")
    sheet.column_dimensions["A"].width = 41
    wb.save(path)
    directory = UnitDirectory.load(path)
    plan = plan_units(directory, ["县发改委、住建局"], SCOPE, "宜政办〔2024〕9号")
    apply_plan(path, directory, plan)
    wb = openpyxl.load_workbook(path)
    sheet = wb[SHEET]
    header = [c.value for c in sheet[1]]
    assert header == [*old_headers, "办公地址", "备注"]
    assert sheet["A2"].fill.fgColor.rgb.endswith("FFFF00") and sheet.column_dimensions["A"].width == 41
    assert [c.value for c in sheet[2]][:9] == ["县住房和城乡建设局", SCOPE, "县住建局", "县直部门", None, "王五",
                                              "zjj@yichuan.gov.cn", None, "丹州路1号"]
    loaded = UnitDirectory.load(path)
    assert [u.name for u in loaded.units()] == ["县住房和城乡建设局", "县发展和改革委员会"]
    assert loaded.get("发改委", SCOPE).note.startswith(PENDING) and loaded.get("县住建局", SCOPE).email
    if rt.soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    saved = rt.convert(path, "xlsx", tmp_path / "lo", tmp_path / "profile")
    assert UnitDirectory.load(saved).units() == loaded.units()


def test_a_plan_that_would_make_the_directory_ambiguous_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "units.xlsx"
    UnitDirectory([Unit("县财政局", SCOPE)]).save(path)
    before = path.read_bytes()
    plan = UnitsPlan(SCOPE, new=[Unit("县财政局", SCOPE)])
    with pytest.raises(InputError, match="冲突，未做改动"):
        apply_plan(path, UnitDirectory.load(path), plan)
    assert path.read_bytes() == before


def test_registry_names_made_the_directorys() -> None:
    directory = UnitDirectory([Unit("县发展和改革委员会", SCOPE, ("县发改委",)), Unit("县财政局", SCOPE)])
    task = Task("yc-01", "yc", [], "任务", lead_units=["县发改委"], cooperating_units=["县财政局", "县审计局"],
                review=["unknown-unit：单位“县发改委”不在单位名录中。", "unknown-unit：单位“县财政局”不在单位名录中。",
                        "unknown-unit：单位“县审计局”不在单位名录中。", "deadline-defaulted：……"])
    registry = Registry(ProgrammeInfo("yc", "测试"), [task])
    assert rename_in_registry(registry.tasks, directory, SCOPE) == (1, 2)
    assert task.lead_units == ["县发展和改革委员会"] and task.cooperating_units == ["县财政局", "县审计局"]
    assert task.review == ["unknown-unit：单位“县审计局”不在单位名录中。", "deadline-defaulted：……"]


def test_command_needs_the_programme_first(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    CliRunner().invoke(main, ["init", str(root)])
    res = CliRunner().invoke(main, ["-w", str(root), "units", "add", "--from", str(yichuan.write_notice(tmp_path))])
    assert res.exit_code == 1
    assert "ledger.toml 中没有对应的项目" in res.output and "ledger programme add" in res.output
