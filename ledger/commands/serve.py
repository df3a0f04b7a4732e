"""`ledger serve`: the office's web page, on this computer or on the office's network."""

from __future__ import annotations

import socket
import threading
import time
import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

import click

from ledger.commands.common import fail_cleanly, workspace
from ledger.errors import LedgerError

#: the reverse proxies ``--proxy`` trusts: those on this computer
PROXIES = "127.0.0.1,::1"


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="端口。")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址。默认只有本机能打开；改为本机在局域网中的地址（或 0.0.0.0）后，其他电脑也能打开，"
                   "办公室页面须登录（须先用 ledger users add 添加用户）。")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="HTTPS 证书文件（PEM）；与 --keyfile 一起使用。")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="HTTPS 私钥文件（PEM）。")
@click.option("--proxy", is_flag=True,
              help="在本机的反向代理（如 nginx）之后运行：采用代理告知的来访地址和 HTTPS；办公室页面须登录。")
@click.option("--open", "open_browser", is_flag=True, help="启动后用默认浏览器打开首页。")
@fail_cleanly
def serve_cmd(port: int, host: str, certfile: Path | None, keyfile: Path | None, proxy: bool,
              open_browser: bool) -> None:
    """启动网页：首页、本期（报送情况、生成台账、邮件、上传收到的台账、汇总）、任务、单位、月度考核、任务清单，以及各单位凭链接在线报送。按 Ctrl+C 停止。"""
    import uvicorn

    from ledger.run import open_workspace_store
    from ledger.web.app import create_app
    from ledger.web.security import LOOPBACK, allowed_hosts

    ws = workspace()
    if (certfile is None) != (keyfile is None):
        raise click.UsageError("--certfile 和 --keyfile 须一起给出。")
    exposed = host not in LOOPBACK or proxy
    with open_workspace_store(ws) as store:
        users = len(store.users())
    if exposed and not users:
        raise LedgerError("在本机以外提供网页（--host 为其他地址，或 --proxy）时，办公室页面须登录，但还没有任何用户。"
                          "请先添加用户：ledger users add 名字 --role admin（另可添加 clerk 经办、viewer 查看），再启动。")
    _check_port(host, port)
    scheme = "https" if certfile else "http"
    shown = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown}:{port}/"
    hosts = allowed_hosts(host, port) | _base_url_hosts(ws.web.base_url)
    app = create_app(ws.root, hosts, sign_in=exposed)
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=proxy,
        forwarded_allow_ips=PROXIES if proxy else None, server_header=False,
        ssl_certfile=str(certfile) if certfile else None, ssl_keyfile=str(keyfile) if keyfile else None,
    ))
    click.echo(f"工作区：{ws.root}")
    click.echo(f"请在浏览器中打开 {url}（按 Ctrl+C 停止）")
    if exposed:
        click.echo(f"办公室页面须登录（共 {users} 个用户）；各单位凭 ledger links create 生成的链接报送，只能看到本单位的内容。")
        if not certfile and not proxy:
            click.echo("[提示] 未使用 HTTPS：密码和报送内容在网络中明文传输。请用 --certfile/--keyfile，或放在 HTTPS 反向代理之后（docs/web.md）。")
    elif users:
        click.echo(f"办公室页面须登录（共 {users} 个用户）。")
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    server.run()


def _base_url_hosts(base_url: str) -> set[str]:
    """The ``Host`` values of the configured ``[web] base_url`` (the name units open, e.g. through a proxy)."""
    if not base_url:
        return set()
    parts = urlsplit(base_url)
    if not parts.hostname:
        return set()
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    return {f"{name}:{port}".lower()} | ({name.lower()} if port == default else set())


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
