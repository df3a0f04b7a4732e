"""``ledger init``: a new, empty workspace that a clerk can fill in without guessing.

It writes the commented ``ledger.toml`` (every key with its meaning and default), an
empty units directory with the reader's own columns and its 填写说明 sheet, the folders
and a short README.txt. Nothing that exists is ever overwritten: a folder that already
holds ``ledger.toml`` is refused, and other files already there are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ledger.config import CONFIG_NAME
from ledger.errors import WorkspaceError
from ledger.fsutil import write_bytes_atomic
from ledger.registry.units import UnitDirectory
from ledger.resources import SKELETON, shipped

README = "README.txt"
#: files written from the skeleton, by their name there (a dot file would not be packaged)
FROM_SKELETON = {README: README, ".gitignore": "gitignore", CONFIG_NAME: CONFIG_NAME}
FOLDERS = ("source_data", "source_data/notices", "out")
UNITS = "source_data/units.xlsx"


@dataclass
class Created:
    """What ``init`` made, and what it found already there and kept."""

    root: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def init_workspace(target: Path) -> Created:
    """Make a workspace at *target* (created if missing); refuse one that has ``ledger.toml``."""
    root = Path(target).resolve()
    if (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{root} 已经是 ledger 工作区（已有 {CONFIG_NAME}），未做任何改动。"
                             "要新建工作区，请换一个文件夹。")
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} 是一个文件，不能作为工作区。请换一个文件夹名。")
    done = Created(root)
    for folder in FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    units = root / UNITS
    if units.exists():
        done.kept.append(units)
    else:
        UnitDirectory([]).save(units)
        done.written.append(units)
    for name, shipped_as in FROM_SKELETON.items():  # ledger.toml last: a workspace only once all is there
        path = root / name
        if path.exists():
            done.kept.append(path)
        else:
            done.written.append(write_bytes_atomic(path, (shipped(SKELETON) / shipped_as).read_bytes()))
    return done
