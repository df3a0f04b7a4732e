"""`ledger serve`: the office's web page on this computer."""

from __future__ import annotations

import socket
import threading
import time
import webbrowser

import click

from ledger.commands.common import fail_cleanly, workspace
from ledger.errors import LedgerError


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="端口。")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址。默认只有本机能打开；改为局域网地址后，同一网络中的任何人都能打开（页面没有登录）。")
@click.option("--open", "open_browser", is_flag=True, help="启动后用默认浏览器打开首页。")
@fail_cleanly
def serve_cmd(port: int, host: str, open_browser: bool) -> None:
    """启动本机网页：首页、本期（报送情况、生成台账、邮件、上传收到的台账、汇总）、任务、单位、月度考核、任务清单。按 Ctrl+C 停止。"""
    import uvicorn

    from ledger.web.app import create_app
    from ledger.web.security import LOOPBACK, allowed_hosts

    ws = workspace()
    _check_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    app = create_app(ws.root, allowed_hosts(host, port))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    click.echo(f"工作区：{ws.root}")
    click.echo(f"请在浏览器中打开 {url}（按 Ctrl+C 停止）")
    if host not in LOOPBACK:
        click.echo("[提示] 页面没有登录：同一网络中能访问本机的人都能打开它、上传文件。只在可信的网络中这样使用。")
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    server.run()


def _check_port(host: str, port: int) -> None:
    """Say in Chinese that the port is taken, before uvicorn says it in English."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LedgerError(f"无法在 {host}:{port} 上启动：{exc.strerror or exc}。端口可能已被占用，请用 --port 换一个端口。") from exc


def _open_when_started(server: object, url: str, wait_s: float = 30.0) -> None:
    deadline = time.monotonic() + wait_s
    while not getattr(server, "started", False) and time.monotonic() < deadline:
        time.sleep(0.1)
    if getattr(server, "started", False):
        webbrowser.open(url)
