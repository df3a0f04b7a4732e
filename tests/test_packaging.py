"""The wheel is what a normal install gets: it must carry the templates, the files of
``ledger init`` and the sample workspace, and ledger must find them there.

The wheel is built offline from a copy of the sources (nothing is written into the
repository); CI also installs it non-editable in a fresh venv and runs ``ledger init``
and ``ledger demo`` with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "ledger.toml")
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.bak.xlsx", "~$*", ".~lock*")
TEMPLATES = ("bulletin.docx", "bulletin.html.j2", "mail_ledger.txt.j2", "mail_reminder.txt.j2", "receipt.txt.j2")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        shutil.copy2(REPO / name, src / name)
    for folder in ("ledger", "source_data"):
        shutil.copytree(REPO / folder, src / folder, ignore=JUNK)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(dist), str(src)], check=True, capture_output=True, timeout=300)
    [built] = dist.glob("ledger-*.whl")
    return built


def sample_files() -> dict[str, bytes]:
    """The repository's sample workspace as the wheel should carry it."""
    found = {"ledger.toml": (REPO / "ledger.toml").read_bytes()}
    for path in sorted((REPO / "source_data").rglob("*")):
        if path.is_file() and not JUNK(str(path.parent), [path.name]):
            found[str(path.relative_to(REPO))] = path.read_bytes()
    return found


def test_wheel_carries_templates_skeleton_and_the_sample(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in TEMPLATES:
            assert zf.read(f"ledger/templates/{name}") == (REPO / "ledger" / "templates" / name).read_bytes()
        web = [p for p in (REPO / "ledger" / "web").rglob("*") if p.is_file() and p.parent.name in ("templates", "static")]
        assert len(web) >= 10
        for path in web:  # the web page's templates, style sheet and script
            assert zf.read(str(path.relative_to(REPO))) == path.read_bytes()
        for name in ("ledger.toml", "README.txt"):
            assert zf.read(f"ledger/skeleton/{name}") == (REPO / "ledger" / "skeleton" / name).read_bytes()
        assert "ledger/py.typed" in names
        sample = {n.removeprefix("ledger/sample/"): zf.read(n) for n in names if n.startswith("ledger/sample/")}
        assert sample == sample_files()
        assert any(n.startswith("source_data/notices/") for n in sample)
        entry_points = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "ledger = ledger.cli:main" in entry_points
    modules = {str(p.relative_to(REPO)) for p in (REPO / "ledger").rglob("*.py")
               if (p.parent / "__init__.py").is_file()}
    assert modules <= names


def test_installed_wheel_finds_its_own_data_and_makes_a_workspace(wheel: Path, tmp_path: Path) -> None:
    """The wheel unpacked as pip installs it, imported ahead of the checkout."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    code = ("import sys, ledger, ledger.templating as t, ledger.resources as r\n"
            "print(ledger.__file__); print(t.DEFAULT_TEMPLATES); print(r.sample_root())\n"
            "from ledger.cli import main\n"
            "main(['init', sys.argv[1]])\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("LEDGER_WORKSPACE", None)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "新工作区")], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    package, templates, sample = out.stdout.splitlines()[:3]
    assert Path(package).parent == site / "ledger"
    assert Path(templates) == site / "ledger" / "templates"
    assert Path(sample) == site / "ledger" / "sample"
    assert "已在" in out.stdout
    assert (tmp_path / "新工作区" / "ledger.toml").read_bytes() == (REPO / "ledger" / "skeleton" / "ledger.toml").read_bytes()
