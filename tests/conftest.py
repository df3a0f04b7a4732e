"""Shared fixtures: a small workspace with its registry, runs, generated and filled workbooks,
a store, and a real SMTP server on loopback.

Tests build what they need in ``tmp_path`` and never write into the repository's ``out/``.
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from ledger.config import Workspace, load
from ledger.generate import generate
from ledger.periods import CHINA
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task
from ledger.registry.workbook import write_registry
from ledger.run import Run, open_workspace_store
from ledger.store import Store

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:  # the helper modules (returned, hostile, …) import as top-level names
    sys.path.insert(0, str(TESTS))

import returned as rt  # noqa: E402

JT, CG, ZJ = "市交通运输局", "市城市管理局", "市住房和城乡建设局"
T1, T2, T3 = "351-A1-01", "351-A1-02", "351-A1-03"
PERIOD = "2022-W23"
DUE_W23 = datetime(2022, 6, 10, 16, 0, tzinfo=CHINA)
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def small_registry() -> Registry:
    """Programme 351 in five tasks: 交通运输局 leads three (one co-led with 城管局, ongoing),
    城管局 one, 住建局 one (annex A6, due at 18:00 in ledger.toml)."""
    def task(tid: str, text: str, leads: list[str], **kw: object) -> Task:
        return Task(tid, "351", ["一、专项行动"], text, lead_units=leads, lead_units_raw=leads, **kw)

    return Registry(ProgrammeInfo("351", "测试项目"), [
        task(T1, "建设综合交通枢纽", [JT], deadline=date(2022, 12, 31),
             milestones=[Milestone(date(2022, 6, 30), "完成立项"), Milestone(date(2022, 12, 31), "开工")]),
        task(T2, "优化公交线网", [JT, CG], ongoing=True, deadline_text="长期坚持"),
        task(T3, "推进停车设施建设", [JT], deadline=date(2022, 10, 31)),
        task("351-A5-01", "整治占道经营", [CG], deadline=date(2022, 8, 31)),
        task("351-A6-01", "推进体制改革", [ZJ], deadline=date(2022, 9, 30)),
    ])


def make_workspace(root: Path, *registries: Registry, config_text: str | None = None,
                   source_data: bool = False) -> Workspace:
    """A workspace at *root*: the repository's ledger.toml (or *config_text*), its units directory
    (or, with *source_data*, all of its source_data) and *registries* written as reviewed."""
    root.mkdir(parents=True, exist_ok=True)
    if config_text is None:
        shutil.copy(REPO / "ledger.toml", root / "ledger.toml")
    else:
        (root / "ledger.toml").write_text(config_text, encoding="utf-8")
    if source_data:
        shutil.copytree(REPO / "source_data", root / "source_data", dirs_exist_ok=True)
    else:
        (root / "source_data").mkdir(exist_ok=True)
        shutil.copy(REPO / "source_data" / "units.xlsx", root / "source_data" / "units.xlsx")
    ws = load(root)
    for registry in registries:
        write_registry(registry, ws.registry_path(registry.programme.id))
    return ws


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    """A workspace holding :func:`small_registry` as programme 351."""
    return make_workspace(tmp_path / "ws", small_registry())


@pytest.fixture()
def store(ws: Workspace) -> Iterator[Store]:
    """The workspace's history store, open for the test."""
    with open_workspace_store(ws) as opened:
        yield opened


@pytest.fixture()
def open_run(ws: Workspace) -> Iterator[Callable[..., Run]]:
    """``open_run(period="2022-W23", **kw)``: a run of programme 351 in ``ws``, closed after the test."""
    opened: list[Run] = []

    def make(period: str = PERIOD, **kwargs: object) -> Run:
        run = Run.open(ws, "351", period, **kwargs)  # type: ignore[arg-type]
        opened.append(run)
        return run

    yield make
    for run in opened:
        run.close()


def generated(ws: Workspace, unit: str, folder: Path, period: str = PERIOD,
              registry: Registry | None = None) -> Path:
    """*unit*'s 工作台账 for *period*, made by generate (which records in the workspace's store what
    the unit was sent), copied to *folder* under its usual name."""
    with Run.open(ws, "351", period, registry=registry or small_registry()) as run:
        [made] = generate(run, units=[unit])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / made.path.name
    shutil.copyfile(made.path, path)
    return path


def filled(ws: Workspace, unit: str, folder: Path, period: str = PERIOD, **values: object) -> Path:
    """:func:`generated`, then every task row filled as a unit would (defaults overridden by *values*)."""
    path = generated(ws, unit, folder, period)
    return rt.fill(path, {t.id: dict(values) for t in small_registry().tasks if unit in t.lead_units})


def reply_mail(path: Path, attachments: list[tuple[str, bytes]], *, date: str = "Fri, 10 Jun 2022 15:30:00 +0800",
               sender: str = "市交通运输局 <jt@example.org>", subject: str = "报送第23周工作台账") -> Path:
    """An e-mail as a unit's mail client writes it (Python's email package), with workbook attachments."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "office@example.org"
    msg["Subject"] = subject
    msg["Date"] = date
    msg.set_content("请查收。")
    for name, data in attachments:
        msg.add_attachment(data, maintype=XLSX_MIME[0], subtype=XLSX_MIME[1], filename=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msg.as_bytes())
    return path


# --- a real SMTP server on loopback ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """aiosmtpd handler that keeps what it receives and can refuse one recipient."""

    def __init__(self, refuse: str = ""):
        self.received: list[tuple[str, list[str], bytes, bool, object]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
             session.ssl is not None, session.auth_data)
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., int]]:
    """``smtp_server(handler, **controller_kwargs)`` starts an aiosmtpd server; returns its port."""
    from aiosmtpd.controller import Controller

    started = []

    def start(handler: object, **kwargs: object) -> int:
        port = free_port()
        ctl = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
        ctl.start()
        started.append(ctl)
        return port

    yield start
    for ctl in started:
        ctl.stop()
