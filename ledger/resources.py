"""Files shipped inside the package: default templates, a new workspace's files, the sample.

They are found through ``importlib.resources``, so they are there whether ``ledger`` runs
from a source checkout, an editable install or an installed wheel. pip installs packages
unpacked, so each resource is a real path (jinja2, docxtpl and shutil need one).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ledger.config import CONFIG_NAME
from ledger.errors import WorkspaceError

SAMPLE = "sample"
SKELETON = "skeleton"
TEMPLATES = "templates"


def shipped(*parts: str) -> Path:
    """The file or folder ``ledger/<parts…>`` of the installed package."""
    return Path(str(resources.files("ledger").joinpath(*parts)))


def sample_root() -> Path:
    """The sample workspace (``ledger.toml`` and ``source_data/``).

    A wheel carries it as ``ledger/sample/``, copied at build time from the repository's own
    ``ledger.toml`` and ``source_data/`` (see setup.py); in a source checkout the checkout
    itself is the sample, so there is one copy of it.
    """
    for root in (shipped(SAMPLE), shipped().parent):
        if (root / CONFIG_NAME).is_file() and (root / "source_data").is_dir():
            return root
    raise WorkspaceError(f"找不到 ledger 自带的示例数据（{shipped(SAMPLE)}）。请重新安装 ledger。")
