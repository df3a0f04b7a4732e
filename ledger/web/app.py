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
from ledger.web.auth import office
from ledger.web.pages import home, links, month, period, report, signin, task, tasks, upload
from ledger.web.pages import unit as unit_page
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
    """Every address of the site and who may use it (docs/web.md lists them): the office's pages
    under ``/p/`` (read: viewer; act: clerk; links: admin), a unit's under ``/u/<its link>``."""
    post = ["POST"]
    viewer, clerk, admin = office("viewer"), office("clerk"), office("admin")
    unit = "/u/{token}"
    return [
        Route("/", viewer(home.show), name="home"),
        Route("/signin", signin.show, name="signin"),
        Route("/signin", signin.sign_in, methods=post, name="signin_post"),
        Route("/signout", signin.sign_out, methods=post, name="signout"),
        Route("/p/{programme}", viewer(programme_home), name="programme"),
        Route(PERIOD, viewer(period.show), name="period"),
        Route(f"{PERIOD}/generate", clerk(period.generate), methods=post, name="generate"),
        Route(f"{PERIOD}/mail/drafts", clerk(period.mail_drafts), methods=post, name="mail_drafts"),
        Route(f"{PERIOD}/mail/reminders", clerk(period.reminders), methods=post, name="reminders"),
        Route(f"{PERIOD}/consolidate", clerk(period.consolidate), methods=post, name="consolidate"),
        Route(f"{PERIOD}/upload", clerk(upload.upload), methods=post, name="upload"),
        Route(f"{PERIOD}/file/{{fid}}", viewer(period.file), name="period_file"),
        Route(f"{PERIOD}/workbooks.zip", viewer(period.workbooks_zip), name="workbooks_zip"),
        Route(f"{PERIOD}/mail/{{fid}}", viewer(period.mail_preview), name="mail_preview"),
        Route(f"{PERIOD}/lights.svg", viewer(charts.lights_svg), name="lights"),
        Route("/p/{programme}/task/{task}", viewer(task.show), name="task"),
        Route("/p/{programme}/unit/{unit}", viewer(unit_page.show), name="unit"),
        Route("/p/{programme}/original/{submission:int}", viewer(unit_page.original), name="original"),
        Route(MONTH, viewer(month.show), name="month"),
        Route(f"{MONTH}/assess", clerk(month.assess), methods=post, name="assess"),
        Route(f"{MONTH}/bulletin", clerk(month.bulletin), methods=post, name="bulletin"),
        Route(f"{MONTH}/file/{{fid}}", viewer(month.file), name="month_file"),
        Route(f"{MONTH}/preview", viewer(month.preview), name="preview"),
        Route("/p/{programme}/tasks", viewer(tasks.show), name="tasks"),
        Route("/p/{programme}/links", admin(links.show), name="links"),
        Route("/p/{programme}/links/create", admin(links.create), methods=post, name="links_create"),
        Route("/p/{programme}/links/revoke", admin(links.revoke), methods=post, name="links_revoke"),
        Route(unit, report.home, name="report"),
        Route(f"{unit}/receipt/{{submission:int}}", report.receipt, name="report_receipt"),
        Route(f"{unit}/{{period}}", report.period_page, name="report_period"),
        Route(f"{unit}/{{period}}/workbook", report.workbook, name="report_workbook"),
        Route(f"{unit}/{{period}}/upload", report.upload, methods=post, name="report_upload"),
        Route(f"{unit}/{{period}}/fill", report.fill_page, name="report_fill"),
        Route(f"{unit}/{{period}}/fill", report.save, methods=post, name="report_save"),
        Mount("/static", StaticFiles(directory=shipped("web", "static")), name="static"),
    ]


def failure(request: Request, status: int, text: str) -> Response:
    """A failure as the page shows it: a row for the upload script, text for an image, a unit's
    page (with no way into the office's) under ``/u/``, else a page."""
    if request.headers.get(upload.FRAGMENT_HEADER) == "1":
        return render(request, "_failure.html", {"text": text}, status)
    if request.url.path.endswith(".svg"):
        return PlainTextResponse(text, status_code=status)
    if request.url.path.startswith("/u/"):
        return render(request, "report_error.html", {"text": text, "status": status}, status)
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
               limits: Limits | None = None, pdf: bool = True, sign_in: bool = False) -> Starlette:
    """The app for the workspace at *root*, answering only the ``Host`` names *hosts*; with
    *sign_in*, the office signs in even before any user exists (served beyond this computer)."""
    hosts = list(hosts)
    app = Starlette(
        routes=routes(),
        middleware=[Middleware(HostCheck, hosts=hosts), Middleware(Guard, hosts=hosts)],
        exception_handlers={Refused: on_refused, LedgerError: on_ledger_error, HTTPException: on_http,
                            OSError: on_os_error, Exception: on_crash},
    )
    app.state.site = Site(root, clock=clock, limits=limits, pdf=pdf, sign_in=sign_in)
    return app
