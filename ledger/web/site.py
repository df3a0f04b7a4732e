"""What every page shares: the workspace, runs, templates, limits, messages after an action.

One :class:`Site` per server process. Each request loads ``ledger.toml`` afresh (an edit
shows on the next page) and opens its own :class:`~ledger.run.Run` in a worker thread; a
programme's parsed registry is kept between requests while its workbook is unchanged.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ledger import config
from ledger.errors import LedgerError
from ledger.periods import CHINA, Period
from ledger.problems import Problem
from ledger.registry.model import Registry
from ledger.resources import shipped
from ledger.run import Run
from ledger.store import Store
from ledger.templating import WORKSPACE_TEMPLATES
from ledger.web.security import CSRF_FIELD, Refused, bounded, check_csrf, csrf_token

if TYPE_CHECKING:
    from ledger.registry.units import UnitDirectory

KiB = 1024
MiB = 1024 * KiB
WEB_TEMPLATES = "web"


@dataclass(frozen=True)
class Limits:
    """What one POST may bring (docs/web.md, 上传限制); Starlette's defaults are far larger."""

    upload_bytes: int = 200 * MiB  # one upload request, all files together
    upload_files: int = 200  # files in one upload request
    form_bytes: int = 64 * KiB  # any other form
    fields: int = 20  # form fields that are not files
    field_bytes: int = 16 * KiB  # one such field


@dataclass
class Message:
    """What an action did, shown once on the page it returns to."""

    title: str
    lines: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ok: bool = True


class Messages:
    """Messages waiting to be shown after a redirect, by a random key (the last hundred)."""

    def __init__(self, keep: int = 100) -> None:
        self._items: OrderedDict[str, Message] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def put(self, message: Message) -> str:
        key = secrets.token_hex(8)
        with self._lock:
            self._items[key] = message
            while len(self._items) > self._keep:
                self._items.popitem(last=False)
        return key

    def take(self, key: str | None) -> Message | None:
        with self._lock:
            return self._items.pop(key, None) if key else None


class Site:
    """The server's state: the workspace root, its clock, limits, secret and template environment."""

    def __init__(self, root: Path, *, clock: Callable[[], datetime] | None = None, limits: Limits | None = None,
                 pdf: bool = True) -> None:
        self.root = root
        self.clock = clock or (lambda: datetime.now(CHINA))
        self.limits = limits or Limits()
        self.pdf = pdf
        self.secret = secrets.token_bytes(32)
        self.messages = Messages()
        self.env = template_environment(root)
        self._kept_values: dict[tuple[str, str], tuple[tuple[Any, ...], Any]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def workspace(self) -> config.Workspace:
        return config.load(self.root)

    def run(self, programme_id: str, period: str | Period, ws: config.Workspace | None = None) -> Run:
        """A run of *programme_id* for *period* at the site's clock: the registry and the units
        directory shared between requests, the store this thread's."""
        ws = ws or self.workspace()
        programme = ws.programme(programme_id)
        return Run.open(ws, programme.id, period, registry=self.registry(ws, programme.id), store=self.store(ws),
                        directory=self.directory(ws), now=self.clock())

    def store(self, ws: config.Workspace) -> Store:
        """This thread's connection to the history store, opened (and checked) once per worker
        thread, and again when the database file is replaced (``ledger store rebuild``)."""
        from ledger.run import open_workspace_store

        held = getattr(self._local, "store", None)
        if held is not None and held[0] == _identity(ws.paths.store):
            return held[1]
        if held is not None:
            held[1].close()
        opened = open_workspace_store(ws)
        self._local.store = (_identity(ws.paths.store), opened)
        return opened

    def directory(self, ws: config.Workspace) -> UnitDirectory | None:
        """The units directory, read again only when its workbook changed; None when it cannot be
        read (the run then says why, should a stage need it)."""
        from ledger.registry.api import load_directory

        try:
            return self._kept(("units", ""), (_stamp(ws.paths.units),), lambda: load_directory(ws))
        except LedgerError:
            return None

    def month_run(self, programme_id: str, month: str) -> Run:
        from ledger.periods import parse_month

        return self.run(programme_id, parse_month(month))

    def registry(self, ws: config.Workspace, programme_id: str) -> Registry:
        """The programme's registry (errors in it stop the request), parsed again only when its
        workbook changed."""
        from ledger.registry.workbook import load_registry

        return self._kept(("registry", programme_id), (_stamp(ws.registry_path(programme_id)),),
                          lambda: load_registry(ws, programme_id))

    def registry_problems(self, ws: config.Workspace, programme_id: str) -> list[Problem]:
        """What ``ledger registry check`` finds in the programme's registry, checked again only when
        the registry, the units directory or ledger.toml changed."""
        from ledger.registry.api import check

        stamps = (_stamp(ws.registry_path(programme_id)), _stamp(ws.paths.units), _stamp(ws.root / config.CONFIG_NAME))
        return self._kept(("check", programme_id), stamps, lambda: check(ws, [programme_id])[programme_id])

    def _kept(self, key: tuple[str, str], stamps: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """*compute()*, or what it returned last for *key* while *stamps* (files' identities) are the same."""
        with self._lock:
            kept = self._kept_values.get(key)
        if kept is not None and kept[0] == stamps and None not in stamps:
            return kept[1]
        value = compute()
        with self._lock:
            self._kept_values[key] = (stamps, value)
        return value


def _identity(path: Path) -> tuple[str, int] | None:
    """Which file is at *path* (its inode), None when there is none."""
    try:
        return str(path), path.stat().st_ino
    except OSError:
        return None


def _stamp(path: Path) -> tuple[Any, ...] | None:
    """A file's identity: path, inode, size and modification time (None when it is missing)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_ino, st.st_size, st.st_mtime_ns


def template_environment(root: Path) -> jinja2.Environment:
    """The page templates: the workspace's ``templates/web/`` first, then the shipped ones;
    everything autoescaped, a missing variable an error."""
    folders = [root / WORKSPACE_TEMPLATES / WEB_TEMPLATES, shipped("web", "templates")]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(p), encoding="utf-8") for p in folders]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    return env


def site_of(request: Request) -> Site:
    return request.app.state.site


def url(request: Request, name: str, **params: Any) -> str:
    """The path of route *name*, each parameter percent-encoded (unit names are Chinese)."""
    return route_paths(request.app)[name].format(**{k: quote(str(v), safe="") for k, v in params.items()})


def route_paths(app: Any) -> dict[str, str]:
    """Each named route's path with ``{parameter}`` places, looked up once per app (a page of a
    thousand rows builds thousands of links)."""
    paths = getattr(app.state, "route_paths", None)
    if paths is None:
        paths = {r.name: r.path_format for r in app.routes if isinstance(r, Route)}
        app.state.route_paths = paths
    return paths


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    site = site_of(request)
    message = site.messages.take(request.query_params.get("msg"))
    html = site.env.get_template(template).render(
        **context, request=request, message=message, csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(request, site.secret), url=lambda name, **p: url(request, name, **p),
        static=lambda path: str(request.app.url_path_for("static", path=path)),
    )
    return HTMLResponse(html, status_code=status)


async def page(request: Request, template: str, build: Callable[..., dict[str, Any]], *args: Any) -> HTMLResponse:
    """Render *template* with what *build(site, *args)* returns, built in a worker thread."""
    context = await run_in_threadpool(build, site_of(request), *args)
    return render(request, template, context)


async def read_form(request: Request, *, upload: bool = False) -> FormData:
    """The POST's form within the site's limits, its CSRF token checked; a :class:`Refused` otherwise."""
    site = site_of(request)
    limits = site.limits
    bounded_request = bounded(request, limits.upload_bytes if upload else limits.form_bytes)
    try:
        form = await bounded_request.form(max_files=limits.upload_files if upload else 0, max_fields=limits.fields,
                                          max_part_size=limits.field_bytes)
    except HTTPException as exc:  # python-multipart's refusals, in English
        raise Refused(400, _form_refusal(str(exc.detail), limits, upload)) from exc
    check_csrf(request, site.secret, form)
    return form


def _form_refusal(detail: str, limits: Limits, upload: bool) -> str:
    if "Too many files" in detail:
        return f"一次最多上传 {limits.upload_files} 个文件，请分批上传。" if upload else "这里不接受文件。"
    if "Too many fields" in detail:
        return f"表单项过多（上限 {limits.fields} 个）。"
    if "maximum size" in detail:
        return f"表单中的文字过长（每项上限 {limits.field_bytes // KiB} KB）。"
    return "提交的内容格式不对，请刷新页面后重新提交。"


def done(request: Request, message: Message, name: str, **params: Any) -> RedirectResponse:
    """After an action: back to the page *name*, showing *message* once (POST, redirect, GET)."""
    key = site_of(request).messages.put(message)
    return RedirectResponse(f"{url(request, name, **params)}?msg={key}", status_code=303)


def action(work: Callable[..., Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A POST handler: the form read within limits and its CSRF token checked, then *work(request, form)*."""
    async def handler(request: Request) -> Response:
        form = await read_form(request)
        return await work(request, form)

    handler.__name__ = work.__name__
    handler.__doc__ = work.__doc__
    return handler
