"""The app: routes of every page, the safety middleware, and failures shown as a Chinese page.

``create_app`` is what ``ledger serve`` runs under uvicorn and what the tests drive
through Starlette's ``TestClient``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ledger.errors import LedgerError, UnknownProgramme
from ledger.fsutil import os_error_text
from ledger.periods import PeriodError
from ledger.resources import shipped
from ledger.web import charts, known
from ledger.web.pages import home, month, period, task, tasks, unit, upload
from ledger.web.security import Guard, HostCheck, Refused
from ledger.web.site import Limits, Site, render, site_of, url

PERIOD = "/p/{programme}/period/{period}"
MONTH = "/p/{programme}/month/{month}"


async def programme_home(request: Request) -> Response:
    """A programme's address: its period that contains today."""
    site = site_of(request)
    programme = site.workspace().programme(request.path_params["programme"])
    current = known.current_period(programme, site.clock().date())
    return RedirectResponse(url(request, "period", programme=programme.id, period=current.key), status_code=302)


def routes() -> list[Route | Mount]:
    post = ["POST"]
    return [
        Route("/", home.show, name="home"),
        Route("/p/{programme}", programme_home, name="programme"),
        Route(PERIOD, period.show, name="period"),
        Route(f"{PERIOD}/generate", period.generate, methods=post, name="generate"),
        Route(f"{PERIOD}/mail/drafts", period.mail_drafts, methods=post, name="mail_drafts"),
        Route(f"{PERIOD}/mail/reminders", period.reminders, methods=post, name="reminders"),
        Route(f"{PERIOD}/consolidate", period.consolidate, methods=post, name="consolidate"),
        Route(f"{PERIOD}/upload", upload.upload, methods=post, name="upload"),
        Route(f"{PERIOD}/file/{{fid}}", period.file, name="period_file"),
        Route(f"{PERIOD}/workbooks.zip", period.workbooks_zip, name="workbooks_zip"),
        Route(f"{PERIOD}/mail/{{fid}}", period.mail_preview, name="mail_preview"),
        Route(f"{PERIOD}/lights.svg", charts.lights_svg, name="lights"),
        Route("/p/{programme}/task/{task}", task.show, name="task"),
        Route("/p/{programme}/unit/{unit}", unit.show, name="unit"),
        Route("/p/{programme}/original/{submission:int}", unit.original, name="original"),
        Route(MONTH, month.show, name="month"),
        Route(f"{MONTH}/assess", month.assess, methods=post, name="assess"),
        Route(f"{MONTH}/bulletin", month.bulletin, methods=post, name="bulletin"),
        Route(f"{MONTH}/file/{{fid}}", month.file, name="month_file"),
        Route(f"{MONTH}/preview", month.preview, name="preview"),
        Route("/p/{programme}/tasks", tasks.show, name="tasks"),
        Mount("/static", StaticFiles(directory=shipped("web", "static")), name="static"),
    ]


def failure(request: Request, status: int, text: str) -> Response:
    """A failure as the page shows it: a row for the upload script, text for an image, else a page."""
    if request.headers.get(upload.FRAGMENT_HEADER) == "1":
        return render(request, "_failure.html", {"text": text}, status)
    if request.url.path.endswith(".svg"):
        return PlainTextResponse(text, status_code=status)
    return render(request, "error.html", {"text": text, "status": status}, status)


async def on_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return failure(request, exc.status, exc.message)


async def on_ledger_error(request: Request, exc: Exception) -> Response:
    status = 404 if isinstance(exc, UnknownProgramme | PeriodError) else 400
    return failure(request, status, str(exc))


async def on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    text = {404: "没有这个页面。", 405: "不能这样打开这个地址。"}.get(exc.status_code, "请求有误。")
    return failure(request, exc.status_code, text)


async def on_os_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OSError)
    return failure(request, 500, os_error_text(exc))


async def on_crash(request: Request, exc: Exception) -> Response:
    """Anything else: a page saying so (the server logs the traceback)."""
    return failure(request, 500, "程序出错，未能完成。请把终端中显示的错误信息告诉技术人员。")


def create_app(root: Path, hosts: Iterable[str], *, clock: Callable[[], datetime] | None = None,
               limits: Limits | None = None, pdf: bool = True) -> Starlette:
    """The app for the workspace at *root*, answering only the ``Host`` names *hosts*."""
    hosts = list(hosts)
    app = Starlette(
        routes=routes(),
        middleware=[Middleware(HostCheck, hosts=hosts), Middleware(Guard, hosts=hosts)],
        exception_handlers={Refused: on_refused, LedgerError: on_ledger_error, HTTPException: on_http,
                            OSError: on_os_error, Exception: on_crash},
    )
    app.state.site = Site(root, clock=clock, limits=limits, pdf=pdf)
    return app
