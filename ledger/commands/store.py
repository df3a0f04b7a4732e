"""`ledger store`: check, back up and rebuild the history database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.commands.common import echo_json, fail_cleanly, workspace


@click.group("store")
def store() -> None:
    """历史库：全面检查、在线备份、从存档重建。"""


@store.command("check")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出检查结果。")
@fail_cleanly
def store_check(as_json: bool) -> None:
    """全面检查历史库（每一页、索引、外键）和存档（每个原件都在、与登记的内容一致，存档记录齐全）；有问题时退出码为 1。"""
    from ledger.run import archive_dir
    from ledger.store.maintenance import check_store

    ws = workspace()
    found = check_store(ws.paths.store, archive_dir(ws))
    if as_json:
        echo_json(found.to_json())
        sys.exit(0 if found.sound else 1)
    click.echo(f"历史库 {found.path}：{found.files} 个文件、{found.entries} 条任务记录；"
               f"存档 {found.archive_dir}：{found.originals} 个原件，存档记录 {found.journaled} 个文件。")
    if found.sound:
        click.echo("检查完毕，未发现问题。")
        return
    for problem in found.problems:
        click.echo(f"[错误] {problem}")
    click.echo("历史库损坏时：先用 ledger store backup 备份，再用 ledger store rebuild 从存档重建。")
    sys.exit(1)


@store.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@fail_cleanly
def store_backup(target: Path) -> None:
    """把历史库备份到 TARGET（SQLite 在线备份，其他命令可同时运行；已有的同名文件被替换）。"""
    from ledger.run import archive_dir, open_workspace_store
    from ledger.secret import secret_path

    ws = workspace()
    with open_workspace_store(ws) as opened:
        opened.backup(target)
    click.echo(f"历史库已备份到 {target}。收到的原件在 {archive_dir(ws)}（含存档记录），请一并备份。")
    if secret_path(ws.root).exists():
        click.echo(f"工作区密钥 {secret_path(ws.root)} 也请另行妥善备份（勿外传）：恢复时缺了它，"
                   "已发出的台账无法核对，须重新生成并发出。")


@store.command("rebuild")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, show_default=True,
              help="并行读取的进程数；0 表示自动，1 表示不另起进程。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出重建结果。")
@fail_cleanly
def store_rebuild(jobs: int, as_json: bool) -> None:
    """从存档重建历史库：按存档记录逐个重新判定收到的原件、按原顺序登记，恢复通报期号；原历史库改名保留。"""
    from ledger.collect.rebuild import rebuild

    done = rebuild(workspace(), jobs=jobs)
    if as_json:
        echo_json(done.to_json())
        sys.exit(0 if done.complete else 1)
    counts = "，".join(f"{_outcome(k)} {n} 个" for k, n in sorted(done.outcomes.items()))
    click.echo(f"历史库已从存档重建：{done.store}（{counts or '没有文件'}；通报期号 {done.bulletins} 个）。")
    if done.moved:
        click.echo(f"原历史库已改名保留：{done.moved}")
    for name, before, now in done.changed:
        click.echo(f"[提示] “{name}”原判定为{_outcome(before)}，按当前任务清单重新判定为{_outcome(now)}")
    for name, why in done.skipped:
        click.echo(f"[错误] “{name}”未能重建：{why}")
    for path in done.unknown:
        click.echo(f"[错误] 存档原件 {path} 没有存档记录（不知是为哪个项目、哪一期收到的），未登记；如需登记请重新收集")
    if done.unreadable_lines:
        click.echo(f"[错误] 存档记录有 {len(done.unreadable_lines)} 行无法读取，已跳过")
    click.echo("红黄绿灯和考核得分请用 ledger consolidate、ledger assess 重新生成。")
    click.echo("网页的单位链接、办公室用户和网页记录不在存档中，没有重建：请用 ledger links create 重新生成链接"
               "（各单位的旧链接随之失效），用 ledger users add 重新添加用户。")
    sys.exit(0 if done.complete else 1)


@store.command("weblog")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True, help="显示最近的多少条。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@fail_cleanly
def store_weblog(limit: int, as_json: bool) -> None:
    """网页记录（最近的在前）：办公室用户的登录和失败的登录、被拒绝的单位链接、经网页上传和在线填报的每个文件（来源地址、用户或链接、文件指纹、处理结果）。"""
    from dataclasses import asdict

    from ledger.periods import CHINA
    from ledger.run import open_workspace_store

    with open_workspace_store(workspace()) as opened:
        events = opened.web_log(limit=limit)
    if as_json:
        echo_json([{**asdict(e), "recorded_at": e.recorded_at.isoformat()} for e in events])
        return
    if not events:
        click.echo("还没有网页记录。")
    names = {"signin": "登录", "signin-failed": "登录失败", "signout": "退出", "link-refused": "链接被拒",
             "upload": "上传", "fill": "在线填报", "fill-refused": "在线填报未通过（未保存）"}
    for e in events:
        who = e.user or (f"链接{e.link_id}（{e.unit}）" if e.link_id else e.unit or "—")
        what = " ".join(x for x in (e.period, e.file_name, e.sha256[:8] if e.sha256 else None,
                                    _outcome(e.verdict) if e.verdict else None, e.detail) if x)
        click.echo(f"  {e.recorded_at.astimezone(CHINA):%Y-%m-%d %H:%M:%S}  {e.address}  {names.get(e.event, e.event)}  {who}  {what}")


def _outcome(outcome: str) -> str:
    from ledger.reporting import OUTCOME_NAMES

    return OUTCOME_NAMES.get(outcome, outcome)
