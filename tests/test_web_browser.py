"""The web page in a real browser: Playwright drives the system Chromium (never a downloaded
one) against ``ledger serve`` started as a command on a free port.

Skipped only when Chromium is not installed (``apt-get install chromium``). Screenshots go
to a temporary folder (or to ``$LEDGER_SCREENSHOTS``) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
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
            page.get_by_role("button", name="重新汇总").click()
            page.get_by_text("已汇总。").wait_for()
            with page.expect_download() as download:
                page.get_by_role("link", name="下载汇总表（汇总表.xlsx）").click()
            saved = tmp_path / "汇总表.xlsx"
            download.value.save_as(saved)
            book = load_workbook(saved, read_only=True)
            assert "总表" in book.sheetnames
            cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v}
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
