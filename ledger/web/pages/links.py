"""单位链接 (administrators): each lead unit's link for the programme, made and revoked as
``ledger links create`` and ``ledger links revoke`` do, and the web log of the links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ledger.periods import CHINA
from ledger.run import Run
from ledger.store import Link, WebEvent
from ledger.web.site import Message, Site, action, done, page, site_of

SHOWN_EVENTS = 50


@dataclass
class LinkRow:
    unit: str
    link: Link | None
    state: str
    url: str


def _today(site: Site, programme_id: str) -> Run:
    """A run of the programme's period that contains today (its registry and store)."""
    from ledger.web import known

    ws = site.workspace()
    programme = ws.programme(programme_id)
    return site.run(programme.id, known.current_period(programme, site.clock().date()), ws)


def links_view(site: Site, programme_id: str) -> dict[str, Any]:
    from ledger.access import links as access

    with _today(site, programme_id) as run:
        ws, programme, now = run.ws, run.programme, run.now
        units = run.registry.lead_units()
        held = access.in_use(run.store, programme.id, now)
        ids = {link.id for link in run.store.links(programme.id)}
        events = [e for e in run.store.web_log(limit=10 * SHOWN_EVENTS) if e.link_id in ids][:SHOWN_EVENTS]
    rows = []
    for unit in units:
        link = held.get(unit)
        token = access.token_of(ws, link) if link else None
        rows.append(LinkRow(unit, link, access.state_text(link, now) if link else "无",
                            access.url_of(ws, token) if token else ""))
    return {"programme": programme, "rows": rows, "events": events, "base_url": ws.web.base_url,
            "made": sum(r.link is not None for r in rows), "event_text": event_text,
            "when": lambda e: f"{e.recorded_at.astimezone(CHINA):%Y-%m-%d %H:%M}"}


async def show(request: Request) -> Response:
    return await page(request, "links.html", links_view, request.path_params["programme"])


def _create(site: Site, programme_id: str, unit: str, by: str) -> Message:
    from ledger.access import links as access

    with _today(site, programme_id) as run:
        ws, programme, now = run.ws, run.programme, run.now
        lead = run.registry.lead_units()
        held = access.in_use(run.store, programme.id, now)
        chosen = [unit] if unit else [u for u in lead if u not in held]
        if unit and unit not in lead:
            return Message("未能生成", [f"“{unit}”不是本项目的牵头单位。"], ok=False)
        for name in chosen:
            access.create(ws, run.store, programme.id, name, now=now, by=by)
    note = [] if ws.web.base_url else ["ledger.toml 未设置 [web] base_url（各单位打开本网页的地址）：下表只显示路径，邮件中也不会写链接。"]
    return Message(f"已生成 {len(chosen)} 个链接{'（' + unit + '，旧链接已停用）' if unit and unit in held else ''}。", note)


def _revoke(site: Site, programme_id: str, unit: str) -> Message:
    from ledger.access import links as access

    ws = site.workspace()
    store = site.store(ws)
    held = access.in_use(store, ws.programme(programme_id).id, site.clock())
    if unit not in held or not store.revoke_link(held[unit].id, site.clock()):
        return Message("未能停用", [f"“{unit}”没有有效的链接。"], ok=False)
    return Message(f"已停用“{unit}”的链接。")


@action
async def create(request: Request, form: FormData) -> Response:
    """Make a link for one unit (a new one replaces its old one), or for every unit without one."""
    unit = form.get("unit")
    actor = request.state.actor
    message = await run_in_threadpool(_create, site_of(request), request.path_params["programme"],
                                      unit if isinstance(unit, str) else "", f"网页（{actor.name}）")
    return done(request, message, "links", programme=request.path_params["programme"])


@action
async def revoke(request: Request, form: FormData) -> Response:
    unit = form.get("unit")
    message = await run_in_threadpool(_revoke, site_of(request), request.path_params["programme"],
                                      unit if isinstance(unit, str) else "")
    return done(request, message, "links", programme=request.path_params["programme"])


def event_text(event: WebEvent) -> str:
    """One line of the log as the office reads it."""
    what = {"upload": "上传", "fill": "在线填报", "fill-refused": "在线填报（未通过，未保存）",
            "link-refused": "链接被拒"}.get(event.event, event.event)
    parts = [what]
    if event.file_name:
        parts.append(event.file_name)
    if event.verdict:
        from ledger.reporting import OUTCOME_NAMES

        parts.append(OUTCOME_NAMES.get(event.verdict, event.verdict))
    if event.detail:
        parts.append({"revoked": "已停用", "expired": "已过期", "unknown": "无效"}.get(event.detail, event.detail))
    return " · ".join(parts)
