"""Units' links: one secret address per lead unit and programme, revocable, optionally expiring.

A link's secret (the token in ``/u/<token>``) is an HMAC, under the workspace's secret
(:mod:`ledger.secret`, ``.ledger-secret`` at the workspace's root), of the programme, the unit
and a random nonce; the store keeps the nonce and the SHA-256 of the token, never the token. So
a copy of the database (``ledger store backup``, everything under ``out/``) opens nothing, while
the office's own commands can write a unit's link into each period's mail again. Without the
secret it was made with, a link still opens its page but cannot be written into mail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ledger.config import Workspace
from ledger.errors import InputError
from ledger.periods import CHINA
from ledger.secret import workspace_key
from ledger.store import Link, Store

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
UNIT_PATH = "/u/"


@dataclass(frozen=True)
class Issued:
    """A link as the office hands it out: the stored row and its address."""

    link: Link
    url: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _token(key: bytes, programme: str, unit: str, nonce: str) -> str:
    digest = hmac.new(key, f"ledger link\n{programme}\n{unit}\n{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:32]


def url_of(ws: Workspace, token: str) -> str:
    """The link's address: the configured ``[web] base_url``, else the path alone."""
    return f"{ws.web.base_url}{UNIT_PATH}{token}"


def token_of(ws: Workspace, link: Link) -> str | None:
    """The secret of *link*, derived again; None without the workspace secret it was made with."""
    token = _token(workspace_key(ws.root), link.programme, link.unit, link.nonce)
    return token if hmac.compare_digest(token_hash(token), link.token_hash) else None


def create(ws: Workspace, store: Store, programme: str, unit: str, *, now: datetime, by: str,
           expires: date | None = None) -> Issued:
    """A new link of *unit* for *programme* (its earlier link, if any, revoked), usable until the
    end of *expires* (Beijing time) when given."""
    expires_at = None
    if expires is not None:
        expires_at = datetime.combine(expires + timedelta(days=1), time(0), tzinfo=CHINA)
        if expires_at <= now:
            raise InputError(f"有效期“{expires:%Y-%m-%d}”已过，请写今天或以后的日期。")
    nonce = secrets.token_hex(16)
    token = _token(workspace_key(ws.root), programme, unit, nonce)
    link = store.add_link(programme, unit, nonce, token_hash(token), now, by, expires_at)
    return Issued(link, url_of(ws, token))


def in_use(store: Store, programme: str, now: datetime) -> dict[str, Link]:
    """The programme's usable links by unit."""
    return {link.unit: link for link in store.links(programme) if link.usable(now)}


def resolve(store: Store, token: str) -> Link | None:
    """The link whose secret is *token* (used or not), None when there is none."""
    if not TOKEN.match(token):
        return None
    return store.link_by_hash(token_hash(token))


def mail_links(ws: Workspace, store: Store, programme: str, units: list[str], now: datetime) -> dict[str, str]:
    """The address of each of *units*' usable links, for the mail drafts: none without
    ``[web] base_url`` (a path alone is no use in a mail), none whose key is gone."""
    if not ws.web.base_url:
        return {}
    found = in_use(store, programme, now)
    out = {}
    for unit in units:
        token = token_of(ws, found[unit]) if unit in found else None
        if token is not None:
            out[unit] = url_of(ws, token)
    return out


def state_text(link: Link, now: datetime) -> str:
    """有效 / 已停用 / 已过期, with the date that matters."""
    if link.revoked_at is not None:
        return f"已停用（{link.revoked_at.astimezone(CHINA):%Y-%m-%d %H:%M}）"
    if link.expires_at is not None and now >= link.expires_at:
        return f"已过期（{(link.expires_at - timedelta(days=1)).astimezone(CHINA):%Y-%m-%d}）"
    if link.expires_at is not None:
        return f"有效（至 {(link.expires_at - timedelta(days=1)).astimezone(CHINA):%Y-%m-%d}）"
    return "有效"


def mail_note(ws: Workspace, store: Store, programme: str, written: Mapping[str, str], now: datetime) -> str | None:
    """What the office is told about links after writing mail drafts (None: nothing to say)."""
    if written:
        return f"其中 {len(written)} 封写有该单位的在线报送链接。"
    if in_use(store, programme, now) and not ws.web.base_url:
        return "[提示] 已为各单位生成在线报送链接，但 ledger.toml 未设置 [web] base_url（各单位打开本网页的地址），邮件中未写链接。"
    return None
