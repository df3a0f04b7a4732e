"""Commands import what they use when they use it: ``ledger --help`` and ``ledger status`` start
without the libraries that read notices, write workbooks or draw charts (what they cost is
measured in bench/bench_cli.py; here only which modules are loaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_workspace, small_registry

#: libraries no quick query needs: data frames, Excel writers and readers, Word, charts, templates
HEAVY = ("pandas", "numpy", "openpyxl", "xlsxwriter", "docx", "docxtpl", "lxml", "matplotlib", "PIL", "jinja2",
         "rapidfuzz", "extract_msg", "olefile")

RUN_AND_LIST = """
import json, sys
from ledger.cli import main
out, sys.argv = sys.argv[1], ["ledger", *sys.argv[2:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(out, "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def loaded(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    """Exit code and the top-level packages loaded by ``ledger *args`` in a fresh interpreter."""
    out = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", RUN_AND_LIST, str(out), *args], capture_output=True, text=True,
                          timeout=120)
    assert out.exists(), done.stderr
    found = json.loads(out.read_text())
    return found["code"], {name.split(".")[0] for name in found["modules"]}


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["collect", "--help"]])
def test_help_loads_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    code, modules = loaded(tmp_path, *args)
    assert code == 0
    assert "ledger" in modules and "click" in modules
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert "sqlite3" not in modules  # help opens no store


def test_status_loads_no_heavy_library(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", small_registry())
    args = ["-w", str(ws.root), "status", "-p", "351", "--period", "2022-W23"]
    for _ in range(2):  # the first run parses registry.xlsx into its cache, the second reads the cache
        code, modules = loaded(tmp_path, *args)
        assert code == 0
        assert "sqlite3" in modules  # it did read the store
        assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_collect_loads_no_data_frame_writer_or_word_library(tmp_path: Path) -> None:
    """collect reads workbooks with python-calamine, mail with olefile, renders receipts with jinja2; pandas,
    openpyxl (once the units directory's parsed copy exists), Word and charts stay unloaded."""
    from conftest import JT, filled

    ws = make_workspace(tmp_path / "ws", small_registry())
    filled(ws, JT, tmp_path / "inbox")
    args = ["-w", str(ws.root), "collect", str(tmp_path / "inbox"), "-p", "351", "--period", "2022-W23"]
    code, _ = loaded(tmp_path, *args)  # parses the units directory into its copy
    assert code == 0
    code, modules = loaded(tmp_path, *args)  # the same file again: a duplicate with its receipt
    assert code == 0
    assert {"python_calamine", "jinja2", "sqlite3"} <= modules
    assert not modules & (set(HEAVY) - {"jinja2", "olefile"}), sorted(modules & set(HEAVY))  # olefile: .msg mail
