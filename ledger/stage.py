"""What every stage after the registry needs from a workspace.

The reviewed registry, the history store, and the reporting rules that apply to one
lead unit, each loaded the same way by generate, collect, consolidate and assess.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.config import Programme, Reporting, Workspace
from ledger.registry.api import load
from ledger.registry.model import Registry, Task
from ledger.store import Store, open_store


def load_registry(ws: Workspace, programme_id: str) -> Registry:
    """The programme's reviewed registry; errors in it stop the stage with their list."""
    return load(ws, programme_id)


def open_workspace_store(ws: Workspace) -> Store:
    """The history store configured in ledger.toml, originals archived under out/archive."""
    return open_store(ws.paths.store, archive_dir=ws.paths.out / "archive")


def reporting_for_unit(programme: Programme, tasks: Sequence[Task]) -> Reporting:
    """The annex's reporting rules when all of a unit's tasks are in one annex, else the programme's.

    A unit whose tasks all sit in one annex follows that annex's due time and office.
    """
    annexes = {t.annex for t in tasks}
    return programme.reporting_for(annexes.pop() if len(annexes) == 1 else None)


def unit_reporting(programme: Programme, registry: Registry, unit: str) -> Reporting:
    """Reporting rules for one lead unit of *registry*."""
    return reporting_for_unit(programme, registry.tasks_led_by(unit))
