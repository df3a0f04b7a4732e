"""What keeps the page safe even on localhost (docs/web.md, 安全).

* The ``Host`` header must name the address the server is bound to, so a page of another
  site whose name was re-pointed at 127.0.0.1 (DNS rebinding) cannot read or post.
* Every POST carries a CSRF token: an HMAC of the browser's session cookie under a secret
  that lives only in this process; a cross-site ``Origin`` or ``Sec-Fetch-Site`` is refused
  before the body is read.
* Every response carries a Content-Security-Policy without inline script, and is not
  framed, sniffed or cached.
* Request bodies are bounded: by ``Content-Length`` before reading, and by counting the
  bytes while they stream in (a chunked or lying request).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import socket
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "ledger_session"
CSRF_FIELD = "csrf_token"
#: the page's own policy: scripts, styles and frames from this server only, nothing inline
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; frame-src 'self'")
#: a bulletin preview (a file ledger wrote, with its own inline style): no script at all, framed by the page
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'self'; sandbox")
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ANY_ADDRESS = ("0.0.0.0", "::", "")


class Refused(Exception):
    """A request the page will not serve; ``message`` says why in Chinese."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` header values a server bound to *host*:*port* answers: that address, the
    loopback names when it is a loopback address, and the machine's names and addresses when
    it listens on all of them."""
    names = {host.lower()}
    if host in LOOPBACK or host in ANY_ADDRESS:
        names |= set(LOOPBACK)
    if host in ANY_ADDRESS:  # every address of this machine: its name and what that name resolves to
        names.add(socket.gethostname().lower())
        with contextlib.suppress(OSError):
            names |= {str(info[4][0]).lower() for info in socket.getaddrinfo(socket.gethostname(), None)}
    out = set()
    for name in names:
        shown = f"[{name}]" if ":" in name else name
        out.add(f"{shown}:{port}")
        if port == 80:
            out.add(shown)
    return out


class HostCheck:
    """Refuse any request whose ``Host`` is not one the server is bound to (DNS rebinding)."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = {h.lower() for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and Headers(scope=scope).get("host", "").lower() not in self.hosts:
            response = PlainTextResponse("地址不对：请用 ledger serve 显示的地址打开本页面。", status_code=400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Guard:
    """Headers on every response, the session cookie, and cross-site POSTs refused early."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = {h.lower() for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] not in _SAFE_METHODS and not self._same_origin(headers):
            response = PlainTextResponse("拒绝来自其他网站的提交。", status_code=403)
            await response(scope, receive, send)
            return
        session = _cookie(headers, SESSION_COOKIE)
        new_session = session is None or len(session) != 32
        if new_session:
            session = secrets.token_hex(16)
        scope.setdefault("state", {})["session"] = session

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.setdefault("content-security-policy", CSP)
                out.setdefault("x-frame-options", "DENY")
                out.setdefault("x-content-type-options", "nosniff")
                out.setdefault("referrer-policy", "same-origin")
                out.setdefault("cache-control", "no-store")
                if new_session:
                    out.append("set-cookie", f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict")
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _same_origin(self, headers: Headers) -> bool:
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        origin = headers.get("origin")
        if origin is None:
            return True
        return origin.split("://", 1)[-1].lower() in self.hosts


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def csrf_token(request: Request, secret: bytes) -> str:
    """The token the page's forms carry for this browser's session."""
    return hmac.new(secret, request.state.session.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, secret: bytes, form: Any) -> None:
    """Refuse a POST whose form does not carry this session's token."""
    given = form.get(CSRF_FIELD) if form is not None else None
    if not isinstance(given, str) or not hmac.compare_digest(given, csrf_token(request, secret)):
        raise Refused(403, "页面已过期或来源不明（缺少有效的校验码）。请刷新页面后重试。")


def bounded(request: Request, limit: int) -> Request:
    """*request* with its body bounded to *limit* bytes: refused by ``Content-Length`` now, or
    while it streams in when the length was not given or was wrong."""
    length = request.headers.get("content-length")
    too_large = Refused(413, f"提交的内容超过上限 {_size(limit)}，请分批上传。")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise too_large
    received = 0
    upstream = request.receive

    async def receive() -> Message:
        nonlocal received
        message = await upstream()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
        return message

    return Request(request.scope, receive)


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"
