"""The units directory: seed coverage, list splitting, scopes, groups, workbook round trip."""

import re
from pathlib import Path

import openpyxl
import pytest

from ledger.errors import InputError
from ledger.registry.sources import read_notice
from ledger.registry.units import (
    HEADERS,
    SHEET,
    UNKNOWN_UNIT,
    Unit,
    UnitDirectory,
    is_placeholder,
    resolve_list,
    split_units,
    unknown_problem,
)
from ledger.registry.units_build import build

REPO = Path(__file__).resolve().parents[1]
NOTICES = REPO / "source_data" / "notices"
UNITS = REPO / "source_data" / "units.xlsx"
SEED_TOML = REPO / "source_data" / "units_seed.toml"


def seed(prefix: str, copy: str) -> Path:
    """The sample notice in the repository (*prefix* is the number it is known by in the tests)."""
    return NOTICES / copy


@pytest.fixture(scope="module")
def directory() -> UnitDirectory:
    return UnitDirectory.load(UNITS)


def names(resolved) -> list[str | None]:
    return [r.unit.name if r.unit else None for r in resolved]


# ---- coverage of the seeds -------------------------------------------------------

@pytest.mark.parametrize("path, scope, minimum", [
    (seed("000", "351_洛城提办文2022-11号.txt"), "洛阳市", 150),
    (seed("002", "pingtai_洛政2022-17号.txt"), "洛阳市", 60),
    (seed("004", "yanshi_偃政2023-6号.txt"), "偃师区", 200),
    (NOTICES / "luoning_任务分解表.xlsx", "洛宁县", 30),
], ids=["351", "pingtai", "yanshi", "luoning-table"])
def test_every_seed_unit_resolves(directory, path, scope, minimum):
    unknown, seen = [], 0
    for task in read_notice(path).tasks:
        for label in ("牵头单位", "配合单位", "责任单位"):
            for item in resolve_list(directory, task.fields.get(label, ""), scope)[1]:
                seen += 1
                if item.unit is None:
                    unknown.append((task.number, label, item.raw, item.suggestions))
    assert unknown == []
    assert seen >= minimum


def test_luoning_prose_units_resolve(directory):
    """003 has no unit labels: its duty list (“县住建局：…”) and member lists must resolve."""
    text = seed("003", "luoning_宁政办2021-17号.txt").read_text(encoding="utf-8")
    duties = text.split("各主要成员单位职责分工如下")[1].split("涉及的其他责任单位")[0]
    heads = re.findall(r"^([^：\n，。]{2,20})：", duties, flags=re.M)
    assert len(heads) >= 20 and "城关镇" not in heads
    members = re.search(r"成 员：(县纪委监委.+)", text).group(1)
    raw, resolved = resolve_list(directory, "、".join(heads) + "，" + members, "洛宁县")
    assert [r.raw for r in resolved if r.unit is None] == []
    assert {"城关镇", "城郊乡", "王范回族镇", "县城属地乡（镇）"} <= set(names(resolved))
    assert names(resolve_list(directory, "城关镇、城郊乡", "洛宁县")[1]) == ["城关镇", "城郊乡"]


def test_reporting_offices_are_units(directory):
    for office in ("市交通运输局", "市自然资源和规划局", "市人力资源和社会保障局", "市文明办",
                   "市城市管理局", "市住房和城乡建设局", "市发展和改革委员会"):
        assert directory.get(office, "洛阳市").name == office
    assert directory.get("县住房和城乡建设局", "洛宁县").name == "县住房和城乡建设局"


# ---- splitting -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("市发改委、财政局，市住建局；市城管局", ["市发改委", "财政局", "市住建局", "市城管局"]),
    ("各县（市、区）政府、各镇(街道)", ["各县（市、区）政府", "各镇（街道）"]),
    ("编 办、人社局\n、法　院", ["编办", "人社局", "法院"]),
    ("市自然资源和规\n划局、市住建局等", ["市自然资源和规划局", "市住建局"]),
    ("市文广旅局、商务局,涧西区等相关县区政府", ["市文广旅局", "商务局", "涧西区", "相关县区政府"]),
    ("市发改委、市发改委、财政局。", ["市发改委", "财政局"]),
    ("无", []),
    ("", []),
])
def test_split_units(text, expected):
    assert split_units(text) == expected


# ---- resolving -------------------------------------------------------------------

def test_shared_prefix(directory):
    # Without a scope only the written prefix can tell 财政局 is the city's.
    raw, resolved = resolve_list(directory, "市自然资源和规划局、财政局、住建局", "")
    assert raw == ["市自然资源和规划局", "财政局", "住建局"]
    assert names(resolved) == ["市自然资源和规划局", "市财政局", "市住房和城乡建设局"]
    assert names(resolve_list(directory, "市委组织部、宣传部", "洛阳市")[1]) == ["市委组织部", "市委宣传部"]
    # 市场监管局 is not 市 + 场监管局: the district's bureau in a 偃师 notice.
    assert names(resolve_list(directory, "市场监管局、金融局", "偃师区")[1]) == ["区市场监督管理局", "区金融局"]


def test_shared_suffix():
    d = UnitDirectory([Unit("甲区人民政府", "某市"), Unit("乙区人民政府", "某市"), Unit("丙镇", "某市")])
    raw, resolved = resolve_list(d, "甲区、乙区人民政府；丙镇人民政府", "某市")
    assert raw == ["甲区", "乙区人民政府", "丙镇人民政府"]
    assert names(resolved) == ["甲区人民政府", "乙区人民政府", "丙镇"]
    assert resolve_list(d, "甲区", "某市")[1][0].unit is None  # no suffix to share


def test_seed_suffix_list(directory):
    text = "伊川县、汝阳县、孟津区、洛龙区、瀍河区、伊滨区人民政府"
    assert names(resolve_list(directory, text, "洛阳市")[1]) == [
        "伊川县人民政府", "汝阳县人民政府", "孟津区人民政府", "洛龙区人民政府", "瀍河回族区人民政府", "伊滨区管委会",
    ]


def test_scope_separation(directory):
    assert directory.get("发改委", "洛阳市").name == "市发展和改革委员会"
    assert directory.get("洛阳市发展和改革委员会", "洛阳市").name == "市发展和改革委员会"
    assert directory.get("发改委", "偃师区").name == "区发展和改革委员会"
    assert directory.get("发改委", "偃师区").scope == "偃师区"
    assert directory.get("市发改委", "偃师区") is None
    assert directory.get("区发改委", "洛阳市") is None
    assert directory.get("住建局", "洛宁县").name == "县住房和城乡建设局"
    assert directory.get("发改委", "") is None  # ambiguous without a scope
    assert directory.get("洛阳军分区", "偃师区").scope == ""  # common units are seen everywhere


def test_another_scopes_unit_is_never_taken_and_is_named_in_the_error(directory):
    item = directory.resolve("县住建局", "宜阳县")  # 洛宁县 has a 县住建局; 宜阳县 has none in the directory
    assert item.unit is None
    assert [(u.scope, u.name) for u in item.elsewhere] == [("洛宁县", "县住房和城乡建设局")]
    problem = unknown_problem(item, "宜阳县", task="t-01")
    assert (problem.code, problem.severity, problem.value) == ("unit-other-scope", "error", "县住建局")
    assert "层级范围“洛宁县”的“县住房和城乡建设局”" in problem.message and "ledger units add" in problem.message
    assert directory.resolve("洛阳军分区", "宜阳县").unit.scope == ""  # a common unit is seen everywhere
    assert directory.elsewhere("市交通运输厅", "洛阳市") == ()
    unknown = unknown_problem(directory.resolve("市交通运输厅", "洛阳市"), "洛阳市")
    assert unknown.code == "unknown-unit" and "是否为：市交通运输局" in unknown.message


def test_a_directory_written_before_the_note_column_still_loads(directory):
    header = [c.value for c in openpyxl.load_workbook(UNITS, read_only=True)[SHEET][1]]
    assert "备注" not in header and len(directory) > 100  # the shipped directory predates the column
    assert list(HEADERS.values())[-1] == "备注"
    assert not any(u.pending for u in directory.units())


@pytest.mark.parametrize(("address", "placeholder"), [
    ("u0001@example.org", True), ("a@EXAMPLE.COM", True), ("a@mail.example.net", True), ("a@x.example", True),
    ("a@yichuan.gov.cn", False), ("a@example.org.cn", False), ("a@myexample.org", False),
])
def test_placeholder_addresses(address, placeholder):
    assert is_placeholder(address) is placeholder


def test_suggestions_for_typo(directory):
    item = directory.resolve("市交通运输厅", "洛阳市")
    assert item.unit is None
    assert item.suggestions[0] == "市交通运输局" and len(item.suggestions) <= 3
    assert "市发展和改革委员会" in directory.resolve("市发改委员会", "洛阳市").suggestions
    # Suggestions stay in scope: no city bureau offered in a 偃师 notice.
    assert all(not s.startswith("市") for s in directory.resolve("发改委员会", "偃师区").suggestions)
    p = UNKNOWN_UNIT(value="市交通运输厅", hint="（是否为：市交通运输局？）")
    assert p.code == "unknown-unit" and "市交通运输厅" in p.message and "units.xlsx" in p.message


def test_group_expansion(directory):
    city = [u.name for u in directory.expand("各城市区", "洛阳市")]
    assert city == ["老城区人民政府", "西工区人民政府", "瀍河回族区人民政府", "涧西区人民政府", "洛龙区人民政府",
                    "伊滨区管委会", "洛阳高新区管委会"]
    assert directory.get("各城市区政府(管委会)", "洛阳市").is_group
    assert [u.name for u in directory.expand("县城属地乡（镇）", "洛宁县")] == ["城关镇", "王范回族镇", "城郊乡"]
    assert len(directory.expand("各县（市、区）政府", "洛阳市")) == 17
    assert {"缑氏镇", "首阳山街道"} <= {u.name for u in directory.expand("各镇（街道）", "偃师区")}
    assert directory.expand("市发改委", "洛阳市") == [directory.get("市发改委", "洛阳市")]
    assert directory.expand("各金融机构", "偃师区") == []  # members not known yet
    assert directory.expand("没有这个群组", "洛阳市") == []
    nested = UnitDirectory([Unit("甲"), Unit("乙"), Unit("小组", members=("甲",)), Unit("大组", members=("小组", "乙", "大组"))])
    assert [u.name for u in nested.expand("大组")] == ["甲", "乙"]


# ---- the workbook ----------------------------------------------------------------

def test_shipped_directory_is_clean(directory):
    loaded, problems = UnitDirectory.read(UNITS)
    assert problems == []
    assert len(directory.units("洛阳市")) > 80 and directory.units("偃师区") and directory.units("洛宁县")
    people = [u for u in directory.units() if not u.is_group]
    assert all(re.fullmatch(r"u\d{4}@example\.org", u.email) and u.contact == "（待补充）" for u in people)
    assert len({u.email for u in people}) == len(people)


def test_round_trip_and_determinism(directory, tmp_path):
    units = [*directory.units(), Unit("=市某局+1", "某市", ("-1",), "企业", (), "张三", "a@b.cn", "13800000000",
                                             "待核实")]
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    UnitDirectory(units).save(first)
    back = UnitDirectory.load(first)
    assert back.units() == units
    back.save(second)
    assert first.read_bytes() == second.read_bytes()
    wb = openpyxl.load_workbook(first)
    assert wb.sheetnames == [SHEET, "填写说明"]
    assert [c.value for c in wb[SHEET][1]] == ["单位名称", "层级范围", "简称/别名", "类别", "成员单位", "联系人",
                                                "电子邮箱", "联系电话", "备注"]
    assert wb[SHEET].cell(row=len(units) + 1, column=1).data_type == "s"  # text, not a formula


def _edit(path: Path, edit) -> None:
    wb = openpyxl.load_workbook(path)
    edit(wb[SHEET])
    wb.save(path)


def test_headers_by_name_not_position(tmp_path):
    path = tmp_path / "u.xlsx"
    UnitDirectory([Unit("市财政局", "洛阳市", ("财政局",))]).save(path)

    def reorder(sheet):
        sheet.insert_rows(1)
        sheet["A1"] = "洛阳市单位名录"
        sheet.move_range("A2:A3", cols=8)  # 单位名称 moves to column I
    _edit(path, reorder)
    assert UnitDirectory.load(path).get("财政局", "洛阳市").name == "市财政局"


def test_missing_header_column(tmp_path):
    path = tmp_path / "u.xlsx"
    UnitDirectory([Unit("市财政局", "洛阳市")]).save(path)
    _edit(path, lambda s: s.delete_cols(4))
    with pytest.raises(InputError, match="缺少列：类别") as err:
        UnitDirectory.load(path)
    assert "u.xlsx" in str(err.value) and SHEET in str(err.value)


def test_unreadable_workbooks(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="bad.xlsx"):
        UnitDirectory.load(bad)
    with pytest.raises(InputError, match="找不到单位名录"):
        UnitDirectory.load(tmp_path / "none.xlsx")
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet9"
    wb.save(tmp_path / "nosheet.xlsx")
    with pytest.raises(InputError, match="缺少工作表“单位名录”"):
        UnitDirectory.load(tmp_path / "nosheet.xlsx")


def test_duplicate_alias_names_the_row(tmp_path):
    path = tmp_path / "u.xlsx"
    UnitDirectory([
        Unit("市财政局", "洛阳市", ("财政局",)),
        Unit("区财政局", "偃师区", ("财政局",)),  # same alias, other scope: fine
        Unit("市税务局", "洛阳市", ("财政局",)),  # row 4 clashes with row 2
        Unit("群组甲", "洛阳市", kind="群组", members=("市财政局", "市不存在局")),
    ]).save(path)
    _edit(path, lambda s: s.cell(row=7, column=2, value="洛阳市"))  # a row without a name
    _, problems = UnitDirectory.read(path)
    assert sorted((p.code, p.row) for p in problems) == [
        ("unit-duplicate", 4), ("unit-member-unknown", 5), ("unit-name-missing", 7),
    ]
    dup = next(p for p in problems if p.code == "unit-duplicate")
    assert dup.value == "财政局" and "第 2 行" in dup.message and dup.sheet == SHEET and dup.file == "u.xlsx"
    with pytest.raises(InputError, match="第 4 行"):
        UnitDirectory.load(path)


def test_common_unit_clash_is_a_problem():
    d = UnitDirectory([Unit("市财政局", "洛阳市", ("财政局",)), Unit("财政局")])
    assert [(p.code, p.row) for p in d.problems] == [("unit-duplicate", 3)]


def test_builder_keeps_filled_contacts(tmp_path):
    target = tmp_path / "units.xlsx"
    built = build(SEED_TOML, target)
    assert [u.name for u in built.units()] == [u.name for u in UnitDirectory.load(UNITS).units()]

    def fill(sheet):
        sheet["F2"], sheet["G2"], sheet["H2"] = "李四", "zzb@ly.gov.cn", "0379-1234567"
    _edit(target, fill)
    rebuilt = build(SEED_TOML, target).units()[0]
    assert (rebuilt.contact, rebuilt.email, rebuilt.phone) == ("李四", "zzb@ly.gov.cn", "0379-1234567")


def test_builder_refuses_ambiguous_seed(tmp_path):
    seed_file = tmp_path / "seed.toml"
    seed_file.write_text('["洛阳市"]\n"市直部门" = ["市财政局 | 财政局", "市税务局 | 财政局"]\n', encoding="utf-8")
    with pytest.raises(InputError, match="财政局"):
        build(seed_file, tmp_path / "u.xlsx")
    assert not (tmp_path / "u.xlsx").exists()


LEVELS = UnitDirectory([
    Unit("市委宣传部", "某市"), Unit("市委网信办", "某市"), Unit("市文明办", "某市"), Unit("市财政局", "某市"),
    Unit("区委宣传部", "某区", ("宣传部",)), Unit("区委网信办", "某区", ("网信办",)), Unit("区文明办", "某区", ("文明办",)),
    Unit("区财政局", "某区", ("财政局",)),
])


@pytest.mark.parametrize("scope", ["某市", ""])
def test_shared_prefix_stays_at_its_level(scope):
    # 市委宣传部、网信办、文明办: the city's 网信办 and 文明办 (市委 + 文明办 → 市文明办), never the district's.
    assert names(resolve_list(LEVELS, "市委宣传部、网信办、文明办", scope)[1]) == ["市委宣传部", "市委网信办", "市文明办"]
    assert names(resolve_list(LEVELS, "市委网信办、宣传部；财政局", scope)[1]) == ["市委网信办", "市委宣传部", "市财政局"]


def test_shared_prefix_of_another_level_is_reported_not_guessed():
    # A district notice naming city units: the prefix still says 市, so the district's units are wrong.
    raw, resolved = resolve_list(LEVELS, "市委宣传部、网信办、文明办", "某区")
    assert raw == ["市委宣传部", "网信办", "文明办"]
    assert names(resolved) == [None, None, None]
    assert resolved[1].meant == "市委网信办" and "按前文应为“市委网信办”" in resolved[1].hint()
    # Without a prefix the district's own names resolve as before.
    assert names(resolve_list(LEVELS, "宣传部、网信办、文明办", "某区")[1]) == ["区委宣传部", "区委网信办", "区文明办"]
