"""The parsed copy of a registry: used while the workbook is unchanged, rebuilt when it changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_workspace, small_registry

from ledger.config import Workspace
from ledger.errors import WorkspaceError
from ledger.registry import cache, workbook
from ledger.registry.workbook import read_registry, write_registry


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", small_registry())


def test_second_read_comes_from_the_copy(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    first, problems = read_registry(ws, "351")
    assert cache.cache_path(ws, "351").is_file() and problems == []
    parsed: list[Path] = []
    real = workbook.read_registry_file
    monkeypatch.setattr(workbook, "read_registry_file", lambda path, pid=None: parsed.append(path) or real(path, pid))
    again, _ = read_registry(ws, "351")
    assert parsed == [] and [t.to_json() for t in again.tasks] == [t.to_json() for t in first.tasks]


def test_an_edited_workbook_is_read_again(ws: Workspace) -> None:
    read_registry(ws, "351")
    edited = small_registry()
    edited.tasks[0].text = "建设综合交通枢纽（修订）"
    write_registry(edited, ws.registry_path("351"))
    registry, _ = read_registry(ws, "351")
    assert registry.tasks[0].text == "建设综合交通枢纽（修订）"


def test_a_damaged_or_foreign_copy_is_not_used(ws: Workspace) -> None:
    read_registry(ws, "351")
    copy = cache.cache_path(ws, "351")
    for junk in (b"not a pickle", b"\x80\x05N."):  # garbage; a pickled None
        copy.write_bytes(junk)
        registry, _ = read_registry(ws, "351")
        assert [t.id for t in registry.tasks] == [t.id for t in small_registry().tasks]


def test_new_parsing_code_invalidates_the_copy(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    read_registry(ws, "351")
    monkeypatch.setattr(cache, "parser_fingerprint", lambda: "another version of the parser")
    parsed = []
    real = workbook.read_registry_file
    monkeypatch.setattr(workbook, "read_registry_file", lambda path, pid=None: parsed.append(path) or real(path, pid))
    read_registry(ws, "351")
    assert parsed == [ws.registry_path("351")]


def test_a_copy_that_cannot_be_written_only_costs_the_copy(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only out/ or a full disk (injected: tests run as root, who may write anywhere)."""
    def refuse(path, data):
        raise WorkspaceError(f"无法写入目录 {path.parent}：Read-only file system。")

    monkeypatch.setattr(cache, "write_bytes_atomic", refuse)
    registry, _ = read_registry(ws, "351")
    assert len(registry.tasks) == 5 and not cache.cache_path(ws, "351").exists()


def test_the_units_directory_has_a_copy_too(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The directory is parsed once (with openpyxl, which commands that only read it then never
    load) and read from its copy while units.xlsx is unchanged; an edited directory is read again."""
    from ledger.registry.units import Unit, UnitDirectory

    first = cache.load_directory(ws)
    parsed: list[Path] = []
    real = UnitDirectory.load.__func__
    monkeypatch.setattr(UnitDirectory, "load", classmethod(lambda cls, path: parsed.append(path) or real(cls, path)))
    again = cache.load_directory(ws)
    assert parsed == [] and [u.name for u in again.units()] == [u.name for u in first.units()]
    assert again.get("市交通运输局") is not None
    UnitDirectory([*first.units(), Unit("市测试新单位", "洛阳市")]).save(ws.paths.units)
    edited = cache.load_directory(ws)
    assert parsed == [ws.paths.units] and edited.get("市测试新单位", "洛阳市") is not None


def test_the_copy_brings_the_registry_hash_along(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """generate writes the registry's content hash into every workbook; read from its copy, a
    registry does not encode its 50,000 tasks again for it. The hash is that of the JSON of
    export_json, whether computed task by task or brought along."""
    import hashlib
    import json

    from ledger.registry.model import export_json

    expected = hashlib.sha256(json.dumps(export_json([small_registry()]), ensure_ascii=False,
                                         sort_keys=True).encode("utf-8")).hexdigest()
    assert small_registry().content_hash() == expected
    read_registry(ws, "351")
    encoded: list[int] = []
    real = json.JSONEncoder.encode
    monkeypatch.setattr(json.JSONEncoder, "encode", lambda self, o: encoded.append(1) or real(self, o))
    registry, _ = read_registry(ws, "351")
    assert registry.content_hash() == expected and encoded == []
    registry.tasks = registry.tasks[:2]  # another task list: computed again
    assert registry.content_hash() != expected and encoded


@pytest.mark.parametrize("large", [True, False])
def test_a_large_copy_is_kept_out_of_the_cyclic_gc(ws: Workspace, monkeypatch: pytest.MonkeyPatch, large: bool) -> None:
    """The objects of a large copy are frozen once read (the collector would walk a million of
    them three times in a long collect); a small copy's are left to the collector."""
    import gc

    read_registry(ws, "351")  # makes the copy
    monkeypatch.setattr(cache, "FREEZE_BYTES", 0 if large else cache.cache_path(ws, "351").stat().st_size + 1)
    gc.unfreeze()
    try:
        registry, _ = read_registry(ws, "351")
        frozen = gc.get_freeze_count()
        assert (frozen > 0) is large
        if large:  # the registry itself is among them: the collector no longer tracks it as young
            assert not any(o is registry for o in gc.get_objects(generation=0))
            assert frozen >= len(registry.tasks)
    finally:
        gc.unfreeze()


def test_a_stale_copy_is_not_frozen(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy made from an earlier workbook is read, found stale and dropped: nothing is frozen."""
    import gc

    read_registry(ws, "351")
    edited = small_registry()
    edited.tasks[0].text = "建设综合交通枢纽（修订）"
    write_registry(edited, ws.registry_path("351"))
    monkeypatch.setattr(cache, "FREEZE_BYTES", 0)
    gc.unfreeze()
    try:
        registry, _ = read_registry(ws, "351")
        assert registry.tasks[0].text == "建设综合交通枢纽（修订）" and gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
