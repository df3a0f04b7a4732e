"""The workspace's secret and the record of what was sent: made on first use and kept private,
the same for commands that start together, and a collect that cannot check a record says so."""

from __future__ import annotations

import dataclasses
import multiprocessing
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CG, JT, filled, generated, small_registry

from ledger.cli import main
from ledger.config import Workspace
from ledger.errors import WorkspaceError
from ledger.registry.workbook import write_registry
from ledger.run import Run
from ledger.secret import SECRET_NAME, key_id, secret_path, workspace_key


def test_the_secret_is_made_once_private_and_out_of_git(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".gitignore").write_text("out/*", encoding="utf-8")  # no newline at the end
    key = workspace_key(root)
    path = secret_path(root)
    assert len(key) == 32 and workspace_key(root) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.parent == root  # not under out/, whose files leave the office
    assert (root / ".gitignore").read_text(encoding="utf-8").splitlines()[0] == "out/*"
    assert (root / ".gitignore").read_text(encoding="utf-8").splitlines().count(f"/{SECRET_NAME}") == 1
    assert len(key_id(key)) == 8 and key.hex()[:8] != key_id(key)  # the id does not give the key away


def _key_of(root: str) -> bytes:
    return workspace_key(Path(root))


def test_commands_starting_together_get_the_same_secret(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        keys = pool.map(_key_of, [str(tmp_path)] * 8)
    assert len(set(keys)) == 1 and keys[0] == workspace_key(tmp_path)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(SECRET_NAME)] == [SECRET_NAME]  # no leftovers


def test_a_damaged_secret_is_refused_with_advice(tmp_path: Path) -> None:
    secret_path(tmp_path).write_text("not hex", encoding="ascii")
    with pytest.raises(WorkspaceError, match="已损坏.*备份"):
        workspace_key(tmp_path)


def test_generating_again_replaces_the_record_and_collect_checks_the_last(ws: Workspace, tmp_path: Path) -> None:
    """The workbook generated first, returned after the office generated a corrected one (and told
    the unit to use it): its task text is not what the office sent last."""
    first = filled(ws, JT, tmp_path / "first")
    filled(ws, CG, tmp_path / "cg")
    with Run.open(ws, "351", "2022-W23") as run:
        recorded = run.store.manifests("351", "2022-W23")
    assert set(recorded) == {JT, CG} and recorded[JT].key_id == key_id(workspace_key(ws.root))
    corrected = small_registry()
    corrected.tasks[0] = dataclasses.replace(corrected.tasks[0], text="建设综合交通枢纽（含换乘中心）")
    write_registry(corrected, ws.registry_path("351"))
    generated(ws, JT, tmp_path / "corrected", registry=corrected)
    with Run.open(ws, "351", "2022-W23") as run:
        again = run.store.manifests("351", "2022-W23")
    assert again[CG] == recorded[CG] and again[JT].tasks[1:] == recorded[JT].tasks[1:]
    assert again[JT].tasks[0] != recorded[JT].tasks[0]
    args = ["-w", str(ws.root), "collect", str(first), "-p", "351", "--period", "2022-W23", "--json"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and '"code": "locked-changed"' in res.output and "含换乘中心" in res.output


def test_records_made_with_another_secret_stop_collect_before_anything_is_stored(ws: Workspace, tmp_path: Path) -> None:
    """The secret replaced (a workspace copied without it): the records of what was sent cannot be
    checked; collect says which key they need and stores nothing."""
    inbox = tmp_path / "inbox"
    filled(ws, JT, inbox)
    old_id = key_id(workspace_key(ws.root))
    secret_path(ws.root).unlink()
    new_id = key_id(workspace_key(ws.root))
    res = CliRunner().invoke(main, ["-w", str(ws.root), "collect", str(inbox), "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 1
    assert old_id in res.output and new_id in res.output and SECRET_NAME in res.output and "Traceback" not in res.output
    with Run.open(ws, "351", "2022-W23") as run:
        assert run.store.history("351") == []
