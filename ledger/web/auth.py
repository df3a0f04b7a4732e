"""Who is asking: an office user (signed in, with a role), a unit (by its own link), or anyone
(the sign-in page and the page's own static files). docs/web.md, 登录与链接.

Every route says who may use it (:func:`office`, :func:`unit`, :func:`public`); the check runs
before the request's body is read. The office's pages need sign-in once users exist, and
always when the server is reachable from other computers (``Site.sign_in``); without either,
the one person at this computer is the office (as ``ledger`` on the command line is).

Failed sign-ins and unknown, revoked or expired links are counted per address; past a limit
the address is refused for a while whatever it sends (:class:`Throttle`). Sessions live in this
process only: a restart signs everyone out, as does a new password or a removed user.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ledger.access.users import ROLE_NAMES, rank
from ledger.store import Link, WebEvent
from ledger.web.security import Refused, new_session_id

if TYPE_CHECKING:
    from ledger.web.site import Site

Handler = Callable[[Request], Awaitable[Response]]
#: who may use a route: anyone, a unit through its own link, or an office user of at least that role
ACCESS = ("public", "unit", "viewer", "clerk", "admin")
LOCAL = "本机"  # the office when nobody signs in: the person at this computer


@dataclass(frozen=True)
class Actor:
    """Who the office's request comes from."""

    name: str
    role: str
    signed_in: bool

    def can(self, role: str) -> bool:
        return rank(self.role) >= rank(role)

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.role]


class Throttle:
    """Failures per address within a window; at *limit* the address waits until the oldest one
    leaves the window. Counted in this process (a restart forgets)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, address: str) -> float:
        """Seconds *address* must wait before it may try again (0: it may)."""
        now = self.clock()
        with self._lock:
            held = self._failures.get(address)
            if held is None:
                return 0.0
            while held and held[0] <= now - self.window_s:
                held.popleft()
            if not held:
                del self._failures[address]
                return 0.0
            return max(0.0, held[0] + self.window_s - now) if len(held) >= self.limit else 0.0

    def fail(self, address: str) -> None:
        with self._lock:
            if len(self._failures) > 100_000:  # a flood of addresses: forget the lot rather than grow
                self._failures.clear()
            self._failures.setdefault(address, deque(maxlen=self.limit)).append(self.clock())


def not_slowed(throttle: Throttle, request: Request) -> str:
    """The client's address, unless it has failed too often lately (then a 429 saying how long to wait)."""
    where = address(request)
    wait = throttle.wait(where)
    if wait:
        minutes = max(1, int(wait + 59) // 60)
        raise Refused(429, f"尝试失败的次数过多，请 {minutes} 分钟后再试。")
    return where


@dataclass
class _Session:
    user: str
    changed_at: datetime
    until: float


class Sessions:
    """Signed-in browsers by session id, ending after *idle_s* without a request."""

    def __init__(self, idle_s: float = 8 * 3600, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.clock = clock
        self._held: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def start(self, user: str, changed_at: datetime) -> str:
        session = new_session_id()
        with self._lock:
            self._held[session] = _Session(user, changed_at, self.clock() + self.idle_s)
        return session

    def get(self, session: str) -> tuple[str, datetime] | None:
        now = self.clock()
        with self._lock:
            held = self._held.get(session)
            if held is None:
                return None
            if held.until < now:
                del self._held[session]
                return None
            held.until = now + self.idle_s
            return held.user, held.changed_at

    def end(self, session: str) -> None:
        with self._lock:
            self._held.pop(session, None)


def address(request: Request) -> str:
    """The client's address (the proxy's word for it with ``ledger serve --proxy``)."""
    return request.client.host if request.client else "?"


def actor(site: Site, session: str) -> Actor | None:
    """Who the office's request comes from; None when it must sign in first."""
    ws = site.workspace()
    store = site.store(ws)
    users = store.users()
    if not site.sign_in and not users:
        return Actor(LOCAL, "admin", False)
    held = site.sessions.get(session)
    if held is None:
        return None
    user = next((u for u in users if u.name == held[0]), None)
    if user is None or user.changed_at != held[1]:  # removed, or a new password since
        site.sessions.end(session)
        return None
    return Actor(user.name, user.role, True)


def office(role: str) -> Callable[[Handler], Handler]:
    """An office page or action for users of at least *role*."""
    def wrap(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            from ledger.web.site import site_of, url

            found = await run_in_threadpool(actor, site_of(request), request.state.session)
            if found is None:
                if request.method == "GET" and not request.url.path.endswith(".svg"):
                    return RedirectResponse(f"{url(request, 'signin')}?next={quote(request.url.path)}", status_code=303)
                raise Refused(401, "请先登录（登录已过期，或在其他地方退出了）。请刷新页面后登录。")
            if not found.can(role):
                raise Refused(403, f"你的账号（{found.name}，{found.role_name}）不能进行此操作；需要“{ROLE_NAMES[role]}”权限，"
                                   "请联系管理员。")
            request.state.actor = found
            return await handler(request)

        return _named(endpoint, handler, role)

    return wrap


def unit(handler: Handler) -> Handler:
    """A page of one unit, opened by its own link (``/u/<token>/…``): the link must be in use;
    the handler then reads ``request.state.link`` and nothing else names the unit."""
    async def endpoint(request: Request) -> Response:
        from ledger.web.site import site_of

        site = site_of(request)
        where = not_slowed(site.link_throttle, request)
        token = request.path_params["token"]
        link = await run_in_threadpool(_link, site, token)
        now = site.clock()
        if link is None or not link.usable(now):
            site.link_throttle.fail(where)
            why = "unknown" if link is None else "revoked" if link.revoked_at else "expired"
            await run_in_threadpool(site.log, WebEvent(now, where, "link-refused", link_id=link.id if link else None,
                                                       programme=link.programme if link else None,
                                                       unit=link.unit if link else None, detail=why))
            raise Refused(404 if link is None else 403, _refusal(why, link))
        request.state.link = link
        return await handler(request)

    return _named(endpoint, handler, "unit")


def public(handler: Handler) -> Handler:
    return _named(handler, handler, "public")


def _named(endpoint: Any, handler: Handler, access: str) -> Handler:
    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    endpoint.access = access  # what the authorisation tests read of every route
    return endpoint  # type: ignore[no-any-return]


def _link(site: Site, token: str) -> Link | None:
    from ledger.access.links import resolve

    return resolve(site.store(site.workspace()), token)


def _refusal(why: str, link: Link | None) -> str:
    if why == "revoked":
        return "此链接已停用。请向督查室索取新的报送链接。"
    if why == "expired" and link is not None and link.expires_at is not None:
        from ledger.access.links import state_text

        return f"此链接{state_text(link, link.expires_at)}，不能再使用。请向督查室索取新的报送链接。"
    return "链接无效：请检查链接是否完整（从邮件中复制时不要漏掉字符），或向督查室索取新的报送链接。"

