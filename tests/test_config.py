"""ledger.toml loading: every wrong or missing key is named in the message."""

from datetime import date, time
from pathlib import Path

import pytest

from ledger import config
from ledger.errors import ConfigError, UnknownProgramme, WorkspaceError

REPO = Path(__file__).resolve().parents[1]

MINIMAL = """
[programmes.demo]
title = "示例项目"
issued = 2022-05-07
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ledger.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_repository_is_a_workspace():
    ws = config.load(REPO)
    assert set(ws.programmes) >= {"351", "pingtai", "luoning", "yanshi"}
    p = ws.programme("351")
    assert p.doc_number == "洛城提办文〔2022〕11号"
    assert p.issued == date(2022, 5, 7)
    assert p.reporting.due_time == time(16, 0)
    assert p.reporting_for("A2").due_time == time(18, 0)
    assert p.reporting_for("A2").office == "市自然资源和规划局"
    # An annex inherits what it does not override.
    assert p.reporting_for("A2").cycle == "weekly"
    assert p.reporting_for(None) is p.reporting


def test_minimal_defaults(tmp_path):
    ws = config.load(write(tmp_path, MINIMAL))
    prog = ws.programme("demo")
    assert prog.reporting.cycle == "weekly"
    assert prog.reporting.due_weekday == 5
    assert ws.paths.units == tmp_path / "source_data" / "units.xlsx"
    assert ws.registry_path("demo") == tmp_path / "source_data" / "demo" / "registry.xlsx"


@pytest.mark.parametrize(
    "extra, key",
    [
        ('cycle = "fortnightly"', "programmes.demo.cycle"),
        ("due_weekday = 9", "programmes.demo.due_weekday"),
        ('due_time = "25:00"', "programmes.demo.due_time"),
        ('bogus = 1', "programmes.demo.bogus"),
        ('default_deadline = "明年"', "programmes.demo.default_deadline"),
        ("doc_number = 3", "programmes.demo.doc_number"),
    ],
)
def test_wrong_key_is_named(tmp_path, extra, key):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, MINIMAL + extra + "\n"))
    assert key in str(err.value)


def test_missing_required_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"programmes\.demo\.issued"):
        config.load(write(tmp_path, '[programmes.demo]\ntitle = "x"\n'))


def test_weekday_in_chinese(tmp_path):
    ws = config.load(write(tmp_path, MINIMAL + 'due_weekday = "周四"\n'))
    assert ws.programme("demo").reporting.due_weekday == 4


def test_annex_wrong_key(tmp_path):
    text = MINIMAL + '[programmes.demo.annexes.A1]\ntitle = "一"\ncolour = "red"\n'
    with pytest.raises(ConfigError, match=r"programmes\.demo\.annexes\.A1\.colour"):
        config.load(write(tmp_path, text))


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="ledger.toml"):
        config.load(tmp_path)
    with pytest.raises(ConfigError, match="格式错误"):
        config.load(write(tmp_path, "[programmes\n"))


def test_workspace_from_environment(tmp_path, monkeypatch):
    write(tmp_path, MINIMAL)
    monkeypatch.setenv("LEDGER_WORKSPACE", str(tmp_path))
    assert config.load().root == tmp_path.resolve()


def test_unknown_programme_lists_known(tmp_path):
    ws = config.load(write(tmp_path, MINIMAL))
    with pytest.raises(UnknownProgramme, match="demo"):
        ws.programme("nope")


def test_paths_stay_inside_workspace(tmp_path):
    ws = config.load(write(tmp_path, MINIMAL))
    assert ws.inside("out/x.xlsx") == (tmp_path / "out" / "x.xlsx").resolve()
    with pytest.raises(WorkspaceError):
        ws.inside("../elsewhere.xlsx")


@pytest.mark.parametrize(("extra", "key"), [
    ('[workspace]\nout = "{outside}"', "workspace.out"),
    ('[workspace]\nstore = "../x.sqlite"', "workspace.store"),
    ('[workspace]\nstore = "sqlite:///../x.sqlite"', "workspace.store"),
    ('[workspace]\nstore = "sqlite:///{outside}/x.sqlite"', "workspace.store"),
    ('[workspace]\nsource_data = "linked"', "workspace.source_data"),
    ('[workspace]\nunits = "linked/units.xlsx"', "workspace.units"),
    ('registry = "../registry.xlsx"', "programmes.demo.registry"),  # MINIMAL ends in [programmes.demo]
])
def test_paths_from_the_config_stay_inside_the_workspace(tmp_path: Path, extra: str, key: str) -> None:
    """Absolute, ../ and symlinked paths that lead out of the workspace are refused by key."""
    root, outside = tmp_path / "ws", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "linked").symlink_to(outside)
    with pytest.raises(ConfigError, match=f"ledger.toml：{key}") as caught:
        config.load(write(root, MINIMAL + extra.format(outside=outside) + "\n"))
    assert "之外" in str(caught.value) and str(tmp_path) in str(caught.value)


def test_paths_inside_the_workspace_are_taken(tmp_path: Path) -> None:
    text = (MINIMAL + '\n[workspace]\nout = "build/out"\nstore = "sqlite:///build/history.sqlite"\n'
            f'units = "{tmp_path / "dir" / "units.xlsx"}"\n')
    ws = config.load(write(tmp_path, text))
    assert ws.paths.out == tmp_path / "build" / "out"
    assert ws.paths.store == tmp_path / "build" / "history.sqlite"
    assert ws.paths.units == tmp_path / "dir" / "units.xlsx"


def test_a_default_path_symlinked_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (tmp_path / "disk").mkdir()
    (root / "out").symlink_to(tmp_path / "disk")
    with pytest.raises(ConfigError, match="workspace.out（默认值）"):
        config.load(write(root, MINIMAL))


def test_rules_defaults_and_overrides(tmp_path: Path) -> None:
    from ledger import config

    text = (Path(__file__).parents[1] / "ledger.toml").read_text(encoding="utf-8")
    (tmp_path / "ledger.toml").write_text(text.replace("late = 1", "late = 2"), encoding="utf-8")
    ws = config.load(tmp_path)
    assert ws.scoring.late == 2 and ws.scoring.missing == 3
    assert ws.lights.green_min_deviation == -10


@pytest.mark.parametrize(("old", "new", "key"), [
    ("warn_days = 7", "warn_days = \"七\"", "lights.warn_days"),
    ("bonus_cap = 5", "bonus_cap = 5\nbogus = 1", "scoring.bogus"),
    ("honour_size = 3", "honour_size = 2.5", "scoring.honour_size"),
])
def test_rules_bad_values_name_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    from ledger import config
    from ledger.errors import ConfigError

    text = (Path(__file__).parents[1] / "ledger.toml").read_text(encoding="utf-8")
    (tmp_path / "ledger.toml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config.load(tmp_path)


def test_fractional_weights_allowed_but_not_fractional_counts(tmp_path: Path) -> None:
    from ledger import config

    text = (Path(__file__).parents[1] / "ledger.toml").read_text(encoding="utf-8")
    (tmp_path / "ledger.toml").write_text(text.replace("late = 1", "late = 0.5"), encoding="utf-8")
    assert config.load(tmp_path).scoring.late == 0.5


# ---- TOML syntax errors in Chinese ---------------------------------------------------------


@pytest.mark.parametrize(("line", "what", "cause"), [
    ("title = “洛阳市项目”", "值无效", "全角引号“ ”"),
    ("title = ‘洛阳市项目’", "值无效", "全角引号‘ ’"),
    ('title ＝ "洛阳市项目"', "等号", "全角等号＝"),
    ('title："洛阳市项目"', "等号", "全角冒号："),
    ("title = 洛阳市项目", "值无效", "没有加引号"),
    ('title = "洛阳市项目', "引号", "只有一边有引号"),
    ("due_weekday = ５", "值无效", "全角数字"),
    ('title "洛阳市项目"', "等号", "缺少等号"),
])
def test_toml_error_names_line_column_text_and_cause(tmp_path: Path, line: str, what: str, cause: str) -> None:
    write(tmp_path, f'[programmes.demo]\nissued = 2022-05-07\n{line}\n')
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path)
    message = str(err.value)
    first, shown, caret, reason = message.splitlines()
    assert str(tmp_path / "ledger.toml") in first and "第 3 行第" in first and what in first
    assert shown.endswith(line) and "3 |" in shown
    assert caret.strip().endswith("^")
    assert reason.startswith("可能的原因：") and cause in reason
    assert "Invalid" not in message and "Expected" not in message


def test_toml_error_caret_points_at_the_column_counting_chinese_as_two(tmp_path: Path) -> None:
    write(tmp_path, '[programmes.demo]\ntitle = "洛阳" extra\n')
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path)
    first, shown, caret = str(err.value).splitlines()[:3]
    assert "第 2 行第 14 列" in first and "应换行" in first
    # 'title = "洛阳" ' is 13 characters, 15 terminal columns: the caret sits under "extra"
    assert caret.index("^") - caret.index("|") == shown.index("extra") + 2 - shown.index("|")


def test_full_width_quotes_inside_a_string_are_not_blamed(tmp_path: Path) -> None:
    write(tmp_path, '[programmes.demo]\ntitle = "洛阳市“351”工程" 多余\n')
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path)
    assert "全角引号" not in str(err.value)


def test_toml_error_without_a_likely_cause_still_says_where_in_chinese(tmp_path: Path) -> None:
    write(tmp_path, '[programmes.demo]\ntitle = "一"\ntitle = "二"\n')
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path)
    assert "第 3 行" in str(err.value) and "写了两次" in str(err.value)
    assert "可能的原因" not in str(err.value)


# ---- finding the workspace -----------------------------------------------------------------


def test_workspace_found_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, MINIMAL)
    deep = tmp_path / "out" / "yc2024" / "2024-03"
    deep.mkdir(parents=True)
    monkeypatch.delenv("LEDGER_WORKSPACE", raising=False)
    monkeypatch.chdir(deep)
    assert config.load().root == tmp_path.resolve()


def test_no_workspace_above_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    if any((p / "ledger.toml").is_file() for p in tmp_path.resolve().parents):
        pytest.skip("a ledger.toml above the temporary folder")
    with pytest.raises(ConfigError, match="ledger init") as err:
        config.load()
    assert str(tmp_path.resolve()) in str(err.value)


def test_explicit_workspace_is_not_searched_upwards(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    (tmp_path / "sub").mkdir()
    with pytest.raises(ConfigError, match="ledger init"):
        config.load(tmp_path / "sub")


def test_bulletin_settings_and_their_defaults(tmp_path):
    text = MINIMAL + 'requirement = "每月25日前报送工作台账"\naddressees = "各乡镇，县直各单位"\n'
    (tmp_path / "ledger.toml").write_text(text, encoding="utf-8")
    prog = config.load(tmp_path).programme("demo")
    assert prog.reporting.requirement == "每月25日前报送工作台账" and prog.addressees == "各乡镇，县直各单位"
    assert prog.copy_to is None and prog.bulletin_copy_to == ""  # a government issuer: no 抄送 by default
    (tmp_path / "ledger.toml").write_text(MINIMAL + 'copy_to = "县委办、县政府办"\n', encoding="utf-8")
    assert config.load(tmp_path).programme("demo").bulletin_copy_to == "县委办、县政府办"


@pytest.mark.parametrize(("table", "line", "key"), [
    ("lights", "never_reported_red = 1", "lights.never_reported_red"),
    ("scoring", 'missing_grade_cap = "特优"', "scoring.missing_grade_cap"),
    ("scoring", 'criticism = "点名"', "scoring.criticism"),
])
def test_rule_words_and_switches_are_checked(tmp_path, table: str, line: str, key: str):
    (tmp_path / "ledger.toml").write_text(MINIMAL + f"\n[{table}]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config.load(tmp_path)
