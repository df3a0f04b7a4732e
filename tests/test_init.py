"""`ledger init`: a new workspace that loads, documents every key with its default, and is
never written over."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import openpyxl
import pytest
import returned as rt
from click.testing import CliRunner

from ledger import config
from ledger.cli import main
from ledger.registry.units import HEADERS, HELP_SHEET, SHEET, Unit, UnitDirectory
from ledger.resources import SKELETON, shipped
from ledger.rules import LightRules, ScoringRules

SKELETON_TOML = (shipped(SKELETON) / "ledger.toml").read_text(encoding="utf-8")
#: a commented-out setting or table header: "# key = value" or "# [table]"
SETTING = re.compile(r"^# (\[[\w.]+\]|[a-z_]+ = .*)$")


def init(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["init", *args], prog_name="ledger")
    return res.exit_code, res.output


def uncommented(text: str) -> str:
    """The skeleton with every commented-out setting switched on."""
    return "\n".join(line[2:] if SETTING.match(line) else line for line in text.splitlines())


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_makes_a_workspace_that_loads(tmp_path: Path) -> None:
    code, output = init(str(tmp_path / "宜阳"))
    assert code == 0, output
    root = tmp_path / "宜阳"
    assert sorted(tree(root)) == [".gitignore", "README.txt", "ledger.toml", "source_data/units.xlsx"]
    assert "/.ledger-secret" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()  # the key stays out of git
    assert (root / "out").is_dir() and (root / "source_data" / "notices").is_dir()
    for name in ("ledger.toml", "source_data/units.xlsx", "README.txt", "ledger demo"):
        assert name in output
    ws = config.load(root)
    assert ws.programmes == {}
    assert ws.paths == config.Paths(root.resolve() / "source_data", root.resolve() / "out",
                                    root.resolve() / "source_data" / "units.xlsx",
                                    root.resolve() / "out" / "ledger.sqlite")
    assert ws.smtp == config.SmtpSettings() and ws.lights == LightRules() and ws.scoring == ScoringRules()
    res = CliRunner().invoke(main, ["-w", str(root), "registry", "list"])
    assert res.exit_code == 0 and res.output == ""


def test_init_without_a_folder_uses_the_current_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert init()[0] == 0
    assert (tmp_path / "ledger.toml").is_file()


def test_init_refuses_an_existing_workspace_and_changes_nothing(tmp_path: Path) -> None:
    assert init(str(tmp_path))[0] == 0
    (tmp_path / "ledger.toml").write_text("# 已修改\n[programmes]\n", encoding="utf-8")
    before = tree(tmp_path)
    code, output = init(str(tmp_path))
    assert code == 1
    assert "已经是 ledger 工作区" in output and "未做任何改动" in output
    assert tree(tmp_path) == before


def test_init_keeps_files_already_there(tmp_path: Path) -> None:
    units = tmp_path / "source_data" / "units.xlsx"
    units.parent.mkdir(parents=True)
    UnitDirectory([Unit("县财政局", "宜阳县")]).save(units)
    kept = units.read_bytes()
    code, output = init(str(tmp_path))
    assert code == 0, output
    assert units.read_bytes() == kept
    assert "source_data/units.xlsx（已存在，保留原文件）" in output
    assert (tmp_path / "ledger.toml").is_file()


def test_init_refuses_a_file_as_the_folder(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("", encoding="utf-8")
    code, output = init(str(tmp_path / "x"))
    assert code == 2 and "是一个文件" in output  # click's own check, in Chinese


def test_empty_units_directory_has_the_readers_columns_and_a_guide(tmp_path: Path) -> None:
    init(str(tmp_path))
    path = tmp_path / "source_data" / "units.xlsx"
    directory, problems = UnitDirectory.read(path)
    assert len(directory) == 0 and problems == []
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [SHEET, HELP_SHEET] and HELP_SHEET == "填写说明"
    header = list(wb[SHEET][1])
    assert [c.value for c in header] == list(HEADERS.values())
    assert all(c.comment is not None and c.comment.text for c in header)  # each column explained
    guide = [c.value for c in wb[HELP_SHEET]["A"] if c.value]
    assert len(guide) >= 5 and not any("units_seed" in line for line in guide)
    # a clerk fills in a row: the reader takes it
    sheet = wb[SHEET]
    sheet.append(["县发展和改革委员会", "宜阳县", "县发改委、发改委", "县直部门", None, "张三", "fgw@example.gov.cn", None])
    wb.save(path)
    assert UnitDirectory.load(path).get("发改委", "宜阳县").name == "县发展和改革委员会"


def test_empty_units_directory_survives_libreoffice(tmp_path: Path) -> None:
    if rt.soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    init(str(tmp_path / "ws"))
    saved = rt.convert(tmp_path / "ws" / "source_data" / "units.xlsx", "xlsx", tmp_path / "lo", tmp_path / "profile")
    directory, problems = UnitDirectory.read(saved)
    assert len(directory) == 0 and problems == []


# ---- the commented ledger.toml ---------------------------------------------------------------


def test_skeleton_documents_every_key_the_loader_accepts() -> None:
    raw = tomllib.loads(uncommented(SKELETON_TOML))
    programme = raw["programmes"]["example"]
    assert set(programme) == config._PROGRAMME_KEYS
    assert set(programme["annexes"]["A1"]) <= config._REPORTING_KEYS
    assert set(raw["workspace"]) == {f.name for f in fields(config.Paths)}
    assert set(raw["smtp"]) == {f.name for f in fields(config.SmtpSettings)}
    assert set(raw["lights"]) == {f.name for f in fields(LightRules)}
    assert set(raw["scoring"]) == {f.name for f in fields(ScoringRules)}
    assert set(raw["print"]) == {f.name for f in fields(config.PrintSettings)}
    assert set(raw) == {"workspace", "programmes", "smtp", "lights", "scoring", "print"}


def test_skeleton_states_the_real_defaults(tmp_path: Path) -> None:
    (tmp_path / "ledger.toml").write_text(uncommented(SKELETON_TOML), encoding="utf-8")
    ws = config.load(tmp_path)
    assert ws.lights == LightRules() and ws.scoring == ScoringRules() and ws.printing == config.PrintSettings()
    # ssl has no fixed default (unset: SMTPS on port 465 without STARTTLS); the rest do
    assert ws.smtp == config.SmtpSettings(ssl=False)
    reporting, default = ws.programme("example").reporting, config.Reporting(title="")
    for key in ("cycle", "due_weekday", "due_time", "holidays", "office", "contact", "phone", "email", "bulletin"):
        assert getattr(reporting, key) == getattr(default, key), key
    assert ws.registry_path("example") == tmp_path / "source_data" / "example" / "registry.xlsx"


def test_skeleton_explains_every_key_in_chinese() -> None:
    table, explained = "", 0
    for line in uncommented(SKELETON_TOML).splitlines():
        if line.startswith("["):
            table = line
        elif re.match(r"[a-z_]+ = ", line) and ".annexes." not in table:  # the annex example repeats keys
            note = line.split("#", 1)[1] if "#" in line else ""
            assert any("\u4e00" <= ch <= "\u9fff" for ch in note), f"{table} {line}"
            explained += 1
    assert explained >= len(config._PROGRAMME_KEYS) + 30
