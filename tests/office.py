"""An office's workspace for the web page's tests: the shipped programmes, and one week of 351
worked through the library as the command line would (generate, mail drafts, three units'
returned ledgers collected, consolidated, the month assessed and its bulletin written).

One unit's progress text is a script tag, as a hostile or careless unit might type it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import returned as rt
from conftest import free_port, make_workspace

from ledger.config import Workspace
from ledger.periods import CHINA
from ledger.registry.model import Registry
from ledger.run import Run

PROGRAMME = "351"
PERIOD = "2022-W23"
MONTH = "2022-06"
XSS = "<script>alert(1)</script>"
#: the clock of the office's page: Thursday of week 23, before the Friday deadline
NOW = datetime(2022, 6, 9, 10, 0, tzinfo=CHINA)


@dataclass
class Office:
    ws: Workspace
    registry: Registry
    returned: dict[str, Path]  # unit → its filled ledger, as collected
    units: list[str]  # the period's lead units, registry order

    @property
    def xss_unit(self) -> str:
        return self.units[0]


def returned_ledger(ws: Workspace, registry: Registry, unit: str, folder: Path, period: str = PERIOD,
                    **values: object) -> Path:
    """*unit*'s generated ledger of *period*, filled in as the unit would (every task: *values*)."""
    from ledger.generate import build_workbook
    from ledger.periods import parse_period
    from ledger.secret import workspace_key

    path = folder / f"{period}_{unit}_工作台账.xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    programme = ws.programme(PROGRAMME)
    path.write_bytes(build_workbook(registry, programme, parse_period(period, programme.reporting.cycle), unit,
                                    key=workspace_key(ws.root)))
    return rt.fill(path, {t.id: dict(values) for t in registry.tasks_led_by(unit)})


def build(root: Path, *, bulletin: bool = True) -> Office:
    """The workspace at *root*, worked through week 23 of 351 (see the module docstring)."""
    from ledger.collect.api import collect
    from ledger.collect.receipts import write_receipts
    from ledger.consolidate.api import consolidate
    from ledger.generate import generate
    from ledger.mail import write_drafts

    ws = make_workspace(root, source_data=True)
    with Run.open(ws, PROGRAMME, PERIOD, now=NOW) as run:
        registry = run.registry
        units = registry.lead_units()
        made = generate(run, units=units[:6])
        write_drafts(run, {g.unit: g.path for g in made})
        inbox = root / "inbox"
        returned = {units[0]: returned_ledger(ws, registry, units[0], inbox, progress=XSS)}
        for unit in units[1:3]:
            returned[unit] = returned_ledger(ws, registry, unit, inbox)
        write_receipts(run, collect(run, [inbox]))
        consolidate(run)
    if bulletin:
        from ledger.assess import write_bulletin

        with Run.open_month(ws, PROGRAMME, MONTH, now=NOW) as month:
            write_bulletin(month, pdf=False, issued=NOW.date())
    return Office(ws, registry, returned, units)


@contextlib.contextmanager
def serving(root: Path, log: Path, start_s: float = 60) -> Iterator[str]:
    """``ledger serve`` for the workspace at *root* on a free port, as a person starts it; its
    address once it answers. Stopped (and waited for) on leaving."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ledger", "-w", str(root), "serve", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("ledger serve did not start:\n" + log.read_text(encoding="utf-8", errors="replace")) \
                        from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
