"""The web page in a real browser: Playwright drives the system Chromium (never a downloaded
one) against ``ledger serve`` started as a command on a free port.

Skipped only when Chromium is not installed (``apt-get install chromium``). Screenshots go
to a temporary folder (or to ``$LEDGER_SCREENSHOTS``) for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import hostile as h
import office
import pytest
from openpyxl import load_workbook

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
TIMEOUT_MS = 60_000


@dataclass
class Server:
    url: str
    office: office.Office
    shots: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`ledger serve` on a free port, serving the office's workspace; stopped at the end."""
    office_ws = office.build(tmp_path_factory.mktemp("browser") / "ws")
    shots = Path(os.environ.get("LEDGER_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with office.serving(office_ws.ws.root, tmp_path_factory.mktemp("server") / "serve.log") as url:
        yield Server(url, office_ws, shots)


def test_a_clerk_takes_in_three_files_consolidates_and_reads_the_bulletin(server: Server, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    o = server.office
    inbox = tmp_path / "inbox"
    good = [office.returned_ledger(o.ws, o.registry, unit, inbox) for unit in o.units[3:5]]
    bomb = h.zip_bomb(inbox, f"{office.PERIOD}_{o.units[5]}_工作台账.xlsx", size=64 << 20)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], timeout=TIMEOUT_MS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(server.url + "/")
            assert page.locator("h2", has_text="洛阳市城市提质“351”工程行动六大专项行动").is_visible()
            page.screenshot(path=str(server.shots / "1-首页.png"))

            page.get_by_role("link", name="2022年第23周 6月6日—6月10日").first.click()
            page.wait_for_url(f"**/p/351/period/{office.PERIOD}")
            assert page.locator("#board tbody tr").count() == len(o.units)
            page.screenshot(path=str(server.shots / "2-本期.png"), full_page=True)

            page.set_input_files("#upload-files", [str(p) for p in (*good, bomb)])
            page.get_by_role("button", name="上传并校验").click()
            rows = page.locator("#verdicts tbody tr")
            rows.nth(2).wait_for()
            page.get_by_text("全部 3 个文件已处理完").wait_for()
            texts = [rows.nth(i).inner_text() for i in range(rows.count())]
            assert rows.count() == 3
            assert Counter(t.split("\t")[2] for t in texts) == {"通过": 2, "退回": 1}
            refused = next(t for t in texts if "退回" in t)
            assert o.units[5] in refused or bomb.name in refused
            assert "压缩比异常" in refused  # the zip-bomb refusal, as `ledger collect` words it
            page.locator("#upload").scroll_into_view_if_needed()
            page.screenshot(path=str(server.shots / "3-上传结果.png"))

            page.reload()
            cells = consolidated(page, "重新汇总", tmp_path)
            assert set(o.units[:5]) <= cells  # the units that reported, the two uploaded ones included
            page.locator("#consolidate").scroll_into_view_if_needed()
            page.screenshot(path=str(server.shots / "4-汇总.png"))

            page.get_by_role("link", name=f"{office.MONTH} 月度考核").click()
            page.wait_for_url(f"**/p/351/month/{office.MONTH}")
            bulletin = page.frame_locator("iframe.bulletin")
            bulletin.get_by_text("考核通报").first.wait_for()
            assert page.locator("table.scores tbody tr").count() >= len(o.units)
            page.screenshot(path=str(server.shots / "5-月度.png"))
            page.locator("iframe.bulletin").scroll_into_view_if_needed()
            bulletin.locator("h1.title").first.wait_for()
            page.locator("iframe.bulletin").screenshot(path=str(server.shots / "6-通报预览.png"))
            assert errors == []  # no script error, nothing the Content-Security-Policy had to block
        finally:
            browser.close()
    assert sorted(p.name for p in server.shots.glob("*.png")) == ["1-首页.png", "2-本期.png", "3-上传结果.png",
                                                                  "4-汇总.png", "5-月度.png",
                                                                  "6-通报预览.png"]


# --- a unit on its phone ---------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def uvicorn_thread(root: Path, clock: Callable[[], datetime]) -> Iterator[str]:
    """The app on a free port in a thread of this process, on a clock of the test's (the due time
    must not depend on the day the tests run); stopped on leaving."""
    import uvicorn
    from conftest import free_port

    from ledger.web.app import create_app
    from ledger.web.security import allowed_hosts

    port = free_port()
    app = create_app(root, allowed_hosts("127.0.0.1", port), clock=clock, pdf=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web page did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_a_unit_reports_on_its_phone_and_the_office_sees_it(tmp_path: Path) -> None:
    """城管局 opens its link at 390×844, fills its two tasks (one ongoing), is told what to correct,
    saves, reads its receipt; the office's 本期 shows it 按时 and the 汇总表 has the values; then the
    unit uploads a workbook instead, which supersedes the web entry."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from conftest import CG, PERIOD, filled, make_workspace, small_registry

    ws = make_workspace(tmp_path / "ws", small_registry())
    token = office.link(ws, CG)
    shots = Path(os.environ.get("LEDGER_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with uvicorn_thread(ws.root, lambda: office.NOW + timedelta(seconds=time.monotonic() - started)) as url, \
            sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], timeout=TIMEOUT_MS)
        try:
            phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                        locale="zh-CN", accept_downloads=True)
            page = phone.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(f"{url}/u/{token}")
            assert page.get_by_text("2022年第23周 6月6日—6月10日").is_visible()
            assert page.get_by_text("未报送（未到截止时间）").is_visible()
            assert _fits(page), "the unit's page is wider than the phone"
            page.screenshot(path=str(shots / "7-单位-手机首页.png"), full_page=True)

            page.get_by_role("link", name="在线填报").click()
            page.wait_for_url(f"**/u/{token}/{PERIOD}/fill")
            assert page.locator("fieldset.task-card").count() == 3  # two tasks and the signature
            assert _fits(page)
            page.screenshot(path=str(shots / "8-单位-在线填报.png"))
            page.fill("#t0-progress", "优化公交线路2条，新增站点5个")
            page.select_option("#t0-status", "常态化推进")
            page.fill("#t1-progress", "")  # the second task left without 本期进展: collect says what is missing
            page.select_option("#t1-status", "按序时推进")
            page.fill("#t1-percent", "四成")
            page.get_by_role("button", name="提交报送").click()
            page.get_by_text("处需要修改，尚未提交").wait_for()
            assert page.locator("#task-1 .field-problem.error").first.inner_text().startswith("本期进展情况未填写")
            assert _fits(page)
            page.locator("#task-1").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "9-单位-填报提示.png"))

            page.fill("#t1-progress", "清理占道经营点位12处")
            page.fill("#t1-percent", "40")
            page.fill("input[name='info-填报人']", "王五")
            page.get_by_role("button", name="提交报送").click()
            page.get_by_text("已收到，通过校验。").wait_for()
            assert page.locator(".receipt-text").first.inner_text().count("已登记（通过）") == 1
            assert page.get_by_text("按时报送").first.is_visible()
            assert _fits(page)
            page.screenshot(path=str(shots / "10-单位-回执.png"), full_page=True)

            office_page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                              accept_downloads=True).new_page()
            office_page.set_default_timeout(TIMEOUT_MS)
            office_page.goto(f"{url}/p/351/period/{PERIOD}")
            row = office_page.locator("#board tbody tr", has_text=CG)
            assert "按时报送" in row.inner_text() and "（在线填报）" in row.inner_text()
            cells = consolidated(office_page, "汇总", tmp_path)
            assert {"优化公交线路2条，新增站点5个", "清理占道经营点位12处"} <= cells
            office_page.locator("#board").screenshot(path=str(shots / "11-办公室-本期.png"))

            workbook = filled(ws, CG, tmp_path / "excel", progress="用Excel填写的进展")
            page.goto(f"{url}/u/{token}")
            page.set_input_files("input[name=file]", str(workbook))
            page.get_by_role("button", name="上传并校验").click()
            page.get_by_text("已收到，通过校验。").wait_for()
            history = page.locator("ul.sent-list > li")
            assert history.count() == 2
            assert "通过" in history.nth(0).inner_text() and workbook.name in history.nth(0).inner_text()
            assert "已被替代" in history.nth(1).inner_text() and "（在线填报）" in history.nth(1).inner_text()
            page.screenshot(path=str(shots / "12-单位-改为上传.png"), full_page=True)
            office_page.reload()
            assert workbook.name in office_page.locator("#board tbody tr", has_text=CG).inner_text()
            assert errors == []
        finally:
            browser.close()


def consolidated(page: object, button: str, folder: Path) -> set[str]:
    """Press 汇总 on the period's page, download 汇总表.xlsx and read every cell of it (its 总表 there)."""
    page.get_by_role("button", name=button).click()  # type: ignore[attr-defined]
    page.get_by_text("已汇总。").wait_for()  # type: ignore[attr-defined]
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_role("link", name="下载汇总表（汇总表.xlsx）").click()  # type: ignore[attr-defined]
    saved = folder / "汇总表.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved, read_only=True)
    assert "总表" in book.sheetnames
    return {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v}


def _fits(page: object) -> bool:
    """Nothing wider than the screen: no sideways scrolling on the phone."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # type: ignore[attr-defined]
