"""登录 and 退出 of the office's users (docs/web.md, 登录与链接)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ledger.store import OfficeUser, WebEvent
from ledger.web.auth import address, not_slowed, public
from ledger.web.security import new_session_id
from ledger.web.site import Site, read_form, render, site_of, url


def safe_next(value: object) -> str:
    """Where to go after signing in: a path of this site, never another site (``//evil``)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


def _needed(site: Site) -> bool:
    return site.sign_in or bool(site.store(site.workspace()).users())


@public
async def show(request: Request) -> Response:
    site = site_of(request)
    needed = await run_in_threadpool(_needed, site)
    return render(request, "signin.html", {"next": safe_next(request.query_params.get("next")), "name": "",
                                           "error": "", "needed": needed})


def _verify(site: Site, name: str, password: str) -> OfficeUser | None:
    from ledger.access.users import verify

    return verify(site.store(site.workspace()), name, password, site.clock())


@public
async def sign_in(request: Request) -> Response:
    """Check the name and password (counted per address); a new session when they are right."""
    site = site_of(request)
    where = not_slowed(site.sign_in_throttle, request)
    form = await read_form(request)
    name = form.get("name")
    password = form.get("password")
    target = safe_next(form.get("next"))
    name = name.strip()[:40] if isinstance(name, str) else ""
    user = await run_in_threadpool(_verify, site, name, password if isinstance(password, str) else "")
    now = site.clock()
    if user is None:
        site.sign_in_throttle.fail(where)
        await run_in_threadpool(site.log, WebEvent(now, where, "signin-failed", user=name or None))
        return render(request, "signin.html", {"next": target, "name": name, "needed": True,
                                               "error": "用户名或密码不对。"}, status=401)
    site.sessions.end(request.state.session)
    request.state.session = site.sessions.start(user.name, user.changed_at)
    await run_in_threadpool(site.log, WebEvent(now, where, "signin", user=user.name, verdict=user.role))
    return RedirectResponse(target, status_code=303)


@public
async def sign_out(request: Request) -> Response:
    site = site_of(request)
    await read_form(request)
    held = site.sessions.get(request.state.session)
    site.sessions.end(request.state.session)
    request.state.session = new_session_id()
    if held is not None:
        await run_in_threadpool(site.log, WebEvent(site.clock(), address(request), "signout", user=held[0]))
    return RedirectResponse(url(request, "signin"), status_code=303)
