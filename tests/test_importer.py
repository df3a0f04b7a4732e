"""Importing notices into registries: the shipped seeds, ids, leaders, re-import."""

import json
import shutil
from pathlib import Path

import pytest

from ledger import config
from ledger.errors import InputError
from ledger.registry.api import RegistryExists, check, import_registry
from ledger.registry.importer import ProgrammeNotFound, split_leaders, task_id
from ledger.registry.raw import NOT_IMPORTED, RawTask
from ledger.registry.workbook import read_registry_file

REPO = Path(__file__).resolve().parents[1]
NOTICES = REPO / "source_data" / "notices"


@pytest.fixture
def ws(tmp_path) -> config.Workspace:
    """A scratch copy of the repository workspace (never writes into the repo)."""
    shutil.copy2(REPO / "ledger.toml", tmp_path / "ledger.toml")
    shutil.copytree(REPO / "source_data", tmp_path / "source_data")
    return config.load(tmp_path)


@pytest.mark.parametrize("text, names", [
    ("朱 蕾", ["朱蕾"]),
    ("申俊涛 薛超峰", ["申俊涛", "薛超峰"]),
    ("朱 蕾 薛超峰", ["朱蕾", "薛超峰"]),
    ("朱蕾、李 良", ["朱蕾", "李良"]),
    ("", []),
])
def test_split_leaders(text, names):
    assert split_leaders(text) == names


def test_task_ids():
    raw = RawTask(annex=2, headings=[], number="2.", key=(1, 2), text="x")
    assert task_id("351", raw) == "351-A2-01-02"
    assert task_id("pingtai", RawTask(annex=None, headings=[], number="12.", key=(12,), text="x")) == "pingtai-12"


@pytest.mark.parametrize("pid, notice, count", [
    ("351", "351_洛城提办文2022-11号.txt", 66),
    ("pingtai", "pingtai_洛政2022-17号.txt", 66),
    ("yanshi", "yanshi_偃政2023-6号.txt", 98),
    ("luoning", "luoning_任务分解表.xlsx", 26),
])
def test_seed_counts_and_ids(ws, pid, notice, count):
    out = import_registry(ws, [NOTICES / notice], pid, output=ws.root / "imp" / f"{pid}.xlsx")
    reg = out.result.registry
    assert len(reg.tasks) == count
    # Every numbered item of the samples is a task: nothing reported as not imported.
    assert [(c.source, c.items, c.tasks) for c in out.result.counts] == [(notice, count, count)]
    assert not [p for p in out.result.problems if p.code in NOT_IMPORTED]
    ids = [t.id for t in reg.tasks]
    assert len(set(ids)) == count
    assert all(t.lead_units for t in reg.tasks)
    assert not [p for p in out.result.problems if p.code == "unknown-unit"]
    back, problems = read_registry_file(out.path, pid)
    assert [t.id for t in back.tasks] == ids and problems == []


def test_programme_found_by_doc_number(ws):
    out = import_registry(ws, [NOTICES / "yanshi_偃政2023-6号.txt"], output=ws.root / "imp" / "y.xlsx")
    assert out.result.registry.programme.id == "yanshi"


def test_unmatched_doc_number_needs_programme(ws, tmp_path):
    notice = tmp_path / "n.txt"
    notice.write_text("某某通知\n某政〔2030〕1号\n\n1. 做好工作。\n\n牵头单位：市发改委\n", encoding="utf-8")
    with pytest.raises(ProgrammeNotFound, match="--programme"):
        import_registry(ws, [notice])


def test_co_led_task_belongs_to_each_lead(ws):
    out = import_registry(ws, [NOTICES / "351_洛城提办文2022-11号.txt"], "351", output=ws.root / "i.xlsx")
    reg = out.result.registry
    co_led = [t for t in reg.tasks if len(t.lead_units) > 1]
    assert co_led
    t = co_led[0]
    for unit in t.lead_units:
        assert t in reg.tasks_led_by(unit)


def test_reimport_needs_force_and_keeps_reviewed_ids(ws):
    notice = NOTICES / "pingtai_洛政2022-17号.txt"
    target = ws.registry_path("pingtai")
    with pytest.raises(RegistryExists):
        import_registry(ws, [notice], "pingtai")
    # A reviewer renamed an id by hand.
    import openpyxl

    wb = openpyxl.load_workbook(target)
    sheet = wb["任务清单"]
    old_id, sheet["A2"] = sheet["A2"].value, "pingtai-01-hand"
    wb.save(target)
    out = import_registry(ws, [notice], "pingtai", force=True)
    assert out.backup is not None and out.backup.exists()
    ids = [t.id for t in out.result.registry.tasks]
    assert ids[0] == "pingtai-01-hand" and old_id not in ids


@pytest.mark.parametrize("content, suffix", [
    (b"", ".txt"),
    ("这是一份没有任务的通知。\n各单位：请认真贯彻。\n".encode(), ".txt"),
    (b"plain text pretending", ".docx"),
])
def test_bad_input_writes_nothing(ws, tmp_path, content, suffix):
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(content)
    target = ws.root / "imp" / "x.xlsx"
    with pytest.raises(InputError) as err:
        import_registry(ws, [bad], "351", output=target)
    assert "bad" in str(err.value)
    assert not target.exists() and not target.parent.exists()


def test_gbk_notice_imports(ws, tmp_path):
    text = (NOTICES / "yanshi_偃政2023-6号.txt").read_text(encoding="utf-8")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(text.encode("gb18030"))
    out = import_registry(ws, [gbk], "yanshi", output=ws.root / "imp" / "g.xlsx")
    assert len(out.result.registry.tasks) == 98


def test_shipped_registries_check_clean(ws):
    result = check(ws)
    assert set(result) == {"351", "pingtai", "yanshi", "luoning"}
    for pid, problems in result.items():
        assert [p.render() for p in problems if p.is_error] == [], pid


def test_export_shape(ws):
    from click.testing import CliRunner

    from ledger.cli import main

    res = CliRunner().invoke(main, ["-w", str(ws.root), "registry", "export", "351", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["programmes"][0]["doc_number"] == "洛城提办文〔2022〕11号"
    task = data["tasks"][0]
    for key in ("id", "programme", "path", "text", "lead_units", "lead_units_raw", "cooperating_units",
                "cooperating_units_raw", "responsible_units", "responsible_units_raw", "leaders",
                "deadline_text", "deadline", "ongoing", "milestones"):
        assert key in task
    assert len(data["tasks"]) == 66
