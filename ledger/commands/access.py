"""`ledger links` and `ledger users`: who may use the web page (docs/web.md, 登录与链接)."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from ledger.commands.common import echo_json, fail_cleanly, workspace
from ledger.errors import InputError
from ledger.periods import CHINA

if TYPE_CHECKING:
    from ledger.config import Workspace
    from ledger.run import Run

PROGRAMME = click.option("--programme", "-p", "programme", required=True, help="项目编号（ledger.toml 中的编号）。")
UNITS = click.option("--unit", "units", multiple=True,
                     help="只处理该牵头单位（可重复，可写单位名录中的简称或别名）；默认全部牵头单位。")


def _now() -> datetime:
    return datetime.now(CHINA)


def _by() -> str:
    """Who made a link on the command line."""
    try:
        return f"命令行（{getpass.getuser()}）"
    except (KeyError, OSError):
        return "命令行"


@click.group("links")
def links() -> None:
    """各单位的在线报送链接：生成、列出、停用（每个牵头单位一个，只能看到和报送本单位的台账）。"""


@links.command("create")
@PROGRAMME
@UNITS
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), help="有效期至该日（含当日），如 2024-12-31；默认长期有效。")
@click.option("--renew", is_flag=True, help="已有有效链接的单位也换新链接（旧链接随即停用）。")
@fail_cleanly
def links_create(programme: str, units: tuple[str, ...], expires: datetime | None, renew: bool) -> None:
    """为牵头单位生成在线报送链接，并列出各单位的链接地址（邮件草稿中也会写上）。"""
    from ledger.access import links as access

    ws = workspace()
    now = _now()
    with _programme_run(ws, programme, now) as run:
        chosen = _lead_units(run, units)
        held = access.in_use(run.store, run.programme.id, now)
        made, kept = [], []
        for unit in chosen:
            if unit in held and not renew:
                kept.append(unit)
                continue
            made.append(access.create(ws, run.store, run.programme.id, unit, now=now, by=_by(),
                                      expires=expires.date() if expires else None))
    _warn_without_base_url(ws)
    click.echo(f"已生成 {len(made)} 个链接：")
    for issued in made:
        click.echo(f"  {issued.link.unit}  {issued.url}  {access.state_text(issued.link, now)}")
    if kept:
        click.echo(f"以下 {len(kept)} 个单位已有有效链接，未重复生成（要换新链接请加 --renew）：{'、'.join(kept)}")


@links.command("list")
@PROGRAMME
@click.option("--all", "show_all", is_flag=True, help="也列出已停用和已过期的链接。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@fail_cleanly
def links_list(programme: str, show_all: bool, as_json: bool) -> None:
    """列出项目各单位的在线报送链接（有效的链接附地址）。"""
    from ledger.access import links as access
    from ledger.run import open_workspace_store

    ws = workspace()
    ws.programme(programme)
    now = _now()
    with open_workspace_store(ws) as store:
        rows = [link for link in store.links(programme) if show_all or link.usable(now)]
        out = []
        for link in rows:
            token = access.token_of(ws, link) if link.usable(now) else None
            out.append({"id": link.id, "unit": link.unit, "state": access.state_text(link, now),
                        "created_at": link.created_at.astimezone(CHINA).isoformat(timespec="minutes"),
                        "created_by": link.created_by, "url": access.url_of(ws, token) if token else None})
    if as_json:
        echo_json(out)
        return
    if not out:
        click.echo(f"项目 {programme} 还没有{'' if show_all else '有效的'}在线报送链接。用 ledger links create -p {programme} 生成。")
        return
    _warn_without_base_url(ws)
    for row in out:
        url = row["url"] or ("（生成链接时的工作区密钥 .ledger-secret 已不在，无法显示地址：请用 --renew 换新链接）" if row["state"].startswith("有效") else "")
        click.echo(f"  [{row['id']}] {row['unit']}  {row['state']}  {row['created_at']} {row['created_by']}  {url}")


@links.command("revoke")
@PROGRAMME
@UNITS
@click.option("--all", "revoke_all", is_flag=True, help="停用项目的全部链接。")
@fail_cleanly
def links_revoke(programme: str, units: tuple[str, ...], revoke_all: bool) -> None:
    """停用单位的在线报送链接：此后用该链接打开网页一律被拒绝（已报送的内容不受影响）。"""
    from ledger.access import links as access

    if not units and not revoke_all:
        raise click.UsageError("请用 --unit 指定单位，或用 --all 停用全部链接。")
    ws = workspace()
    now = _now()
    with _programme_run(ws, programme, now) as run:
        chosen = run.registry.lead_units() if revoke_all else _lead_units(run, units)
        held = access.in_use(run.store, run.programme.id, now)
        done = [unit for unit in chosen if unit in held and run.store.revoke_link(held[unit].id, now)]
    click.echo(f"已停用 {len(done)} 个链接{'：' + '、'.join(done) if done else '。'}")
    missing = [u for u in chosen if u not in done]
    if missing and not revoke_all:
        click.echo(f"以下单位没有有效链接：{'、'.join(missing)}")


def _programme_run(ws: Workspace, programme: str, now: datetime) -> Run:
    """A run of the programme's period that contains today (for its registry and store)."""
    from ledger.periods import period_containing
    from ledger.run import Run

    chosen = ws.programme(programme)
    return Run.open(ws, chosen.id, period_containing(now.date(), chosen.reporting.cycle), now=now)


def _lead_units(run: Run, names: tuple[str, ...]) -> list[str]:
    """The lead units *names* stand for (all of them when none is named)."""
    from ledger.generate import index_registry
    from ledger.generate.run import lead_unit

    if not names:
        return run.registry.lead_units()
    index = index_registry(run.registry)
    return list(dict.fromkeys(lead_unit(run, name, index) for name in names))


def _warn_without_base_url(ws: Workspace) -> None:
    if not ws.web.base_url:
        click.echo("[提示] ledger.toml 未设置 [web] base_url（各单位打开本网页的地址）：下面只列出路径，"
                   "报送通知邮件中也不会写链接。设置后重新运行即可。")


# --- users --------------------------------------------------------------------------------------


@click.group("users")
def users() -> None:
    """办公室用户：在本机以外打开网页（ledger serve --host）时须登录；角色为 viewer（查看）、clerk（经办）、admin（管理）。"""


def _password(confirm: bool = True) -> str:
    if not sys.stdin.isatty():  # a script: the password is the first line of standard input
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError("没有读到密码：请在提示时输入，或从标准输入提供一行密码。")
        return line
    return click.prompt("密码", hide_input=True, confirmation_prompt=confirm)


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "clerk", "viewer"]), required=True,
              help="角色：admin（管理：另可生成和停用单位链接）、clerk（经办：上传、生成、邮件、汇总）、viewer（查看）。")
@fail_cleanly
def users_add(name: str, role: str) -> None:
    """添加用户 NAME 并设置密码（至少 8 个字符；只保存其 argon2 散列）。"""
    from ledger.access import users as access
    from ledger.access.users import ROLE_NAMES
    from ledger.run import open_workspace_store

    ws = workspace()
    access.check_name(name)
    password = _password()
    with open_workspace_store(ws) as store:
        user = access.add(store, name, role, password, _now())
    click.echo(f"已添加用户“{user.name}”（{ROLE_NAMES[user.role]}）。")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@fail_cleanly
def users_list(as_json: bool) -> None:
    """列出用户和角色。"""
    from ledger.access.users import ROLE_NAMES
    from ledger.run import open_workspace_store

    with open_workspace_store(workspace()) as store:
        found = store.users()
    if as_json:
        echo_json([{"name": u.name, "role": u.role, "changed_at": u.changed_at.isoformat()} for u in found])
        return
    if not found:
        click.echo("还没有用户。用 ledger users add 名字 --role admin 添加。")
    for u in found:
        click.echo(f"  {u.name}  {u.role}（{ROLE_NAMES[u.role]}）  密码设置于 {u.changed_at.astimezone(CHINA):%Y-%m-%d %H:%M}")


@users.command("remove")
@click.argument("name")
@fail_cleanly
def users_remove(name: str) -> None:
    """删除用户 NAME（正在使用的登录随即失效）。"""
    from ledger.run import open_workspace_store

    with open_workspace_store(workspace()) as store:
        if not store.remove_user(name):
            raise InputError(f"没有名为“{name}”的用户。")
    click.echo(f"已删除用户“{name}”。")


@users.command("passwd")
@click.argument("name")
@fail_cleanly
def users_passwd(name: str) -> None:
    """修改用户 NAME 的密码（该用户正在使用的登录随即失效）。"""
    from ledger.access import users as access
    from ledger.run import open_workspace_store

    ws = workspace()
    with open_workspace_store(ws) as store:
        if store.user(name) is None:
            raise InputError(f"没有名为“{name}”的用户。")
        access.set_password(store, name, _password(), _now())
    click.echo(f"已修改“{name}”的密码。")

