"""The office's web page through Starlette's TestClient: every page renders for the shipped
programmes, actions call the same library as the command line, and the safety rules hold
(CSRF, Host, downloads by id only, upload limits, escaping, hostile uploads, concurrent uploads).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import hostile as h
import office
import pytest
from click.testing import CliRunner
from conftest import CG, JT, PERIOD, ZJ, filled, make_workspace, small_registry
from openpyxl import load_workbook
from starlette.routing import Route
from starlette.testclient import TestClient

from ledger.cli import main
from ledger.periods import CHINA
from ledger.run import Run, open_workspace_store
from ledger.web.app import create_app
from ledger.web.files import file_id
from ledger.web.security import CSRF_FIELD
from ledger.web.site import Limits

P = f"/p/{office.PROGRAMME}"
W23 = f"{P}/period/{office.PERIOD}"
TOKEN = re.compile(rf'name="{CSRF_FIELD}" value="([0-9a-f]+)"')


def client_for(root: Path, **kwargs: object) -> TestClient:
    app = create_app(root, ["testserver"], clock=lambda: office.NOW, pdf=False, **kwargs)  # type: ignore[arg-type]
    return TestClient(app)


def token(client: TestClient, path: str = W23) -> str:
    """The CSRF token the page at *path* carries for this client's session."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    return TOKEN.search(response.text).group(1)


@pytest.fixture(scope="module")
def office_ws(tmp_path_factory: pytest.TempPathFactory) -> office.Office:
    return office.build(tmp_path_factory.mktemp("office") / "ws")


@pytest.fixture(scope="module")
def client(office_ws: office.Office) -> Iterator[TestClient]:
    with client_for(office_ws.ws.root) as c:
        yield c


# --- every page renders ---------------------------------------------------------------------------


def test_home_shows_every_shipped_programme_with_its_counts_and_next_step(client: TestClient,
                                                                         office_ws: office.Office) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for programme in office_ws.ws.programmes.values():
        assert programme.title in page.text
    # week 23 of 351 is today's period on the page's clock: 3 of its lead units reported before the due time
    row = _row(page.text, "2022年第23周")
    cells = re.findall(r'<td class="num state-(\w+)[^"]*">(\d+)</td>', row)
    units = len(office_ws.units)
    assert cells == [("on_time", "3"), ("late", "0"), ("missing", str(units - 3)), ("rejected", "0")]
    assert "距截止还有1天6小时" in row  # Thursday 10:00 → Friday 16:00
    assert f"还有{units - 3}个单位未报送（未到截止时间）" in row
    assert "lights.svg?compact=1" in row  # consolidated: its lights


def _row(html: str, label: str) -> str:
    start = html.index(label)
    return html[html.rindex("<tr>", 0, start):html.index("</tr>", start)]


def test_period_page_shows_the_status_board_as_ledger_status_does(client: TestClient, office_ws: office.Office) -> None:
    page = client.get(W23)
    assert page.status_code == 200
    cli = CliRunner().invoke(main, ["-w", str(office_ws.ws.root), "status", "-p", "351", "--period", office.PERIOD,
                                    "--json"])
    states = {u["unit"]: u["state"] for u in json.loads(cli.output)["units"]}
    board = page.text[page.text.index('id="board"'):page.text.index('id="upload"')]
    shown = dict(re.findall(r'/unit/[^"]+">([^<]+)</a></td>\s*<td><span class="state state-(\w+)"', board))
    assert shown == states
    assert list(shown.values()).count("on_time") == 3
    # the three reporting units: received time with its evidence, receipt and workbook downloads
    for unit in office_ws.units[:3]:
        row = board[board.index(f">{unit}</a>"):]
        row = row[:row.index("</tr>")]
        assert "（收集时间）" in row and ">回执</a>" in row and ">台账</a>" in row
    assert "已生成 6 个" in page.text and "下载汇总表" in page.text


@pytest.mark.parametrize("programme", ["351", "pingtai", "yanshi", "luoning"])
def test_every_shipped_programme_renders_today_its_registry_and_a_task(client: TestClient, office_ws: office.Office,
                                                                       programme: str) -> None:
    today = client.get(f"/p/{programme}", follow_redirects=True)
    assert today.status_code == 200 and "报送情况" in today.text
    listed = client.get(f"/p/{programme}/tasks")
    assert listed.status_code == 200
    assert "错误 0 个" in listed.text  # the reviewed registries are clean (as `ledger registry check`)
    first = re.search(rf'href="/p/{programme}/task/([^"]+)"', listed.text).group(1)
    task = client.get(f"/p/{programme}/task/{first}")
    assert task.status_code == 200 and first in task.text
    unit = re.search(rf'href="(/p/{programme}/unit/[^"]+)"', listed.text).group(1)
    assert client.get(unit).status_code == 200


def test_task_unit_month_mail_and_chart_pages(client: TestClient, office_ws: office.Office) -> None:
    unit = office_ws.units[1]
    task_id = office_ws.registry.tasks_led_by(unit)[0].id
    task = client.get(f"{P}/task/{task_id}")
    assert "完成方案编制，召开推进会1次" in task.text and "polyline" in task.text and "按序时推进" in task.text
    page = client.get(f"{P}/unit/{quote(unit)}")
    assert f"{office.PERIOD}_{unit}_工作台账.xlsx" in page.text and "通过" in page.text and "/original/" in page.text
    month = client.get(f"{P}/month/{office.MONTH}")
    assert "得分与排名" in month.text and "考核得分.xlsx" in month.text
    assert re.search(r'<span class="points minus">-\d+</span>\s*未报送 · 第\d+周', month.text)  # itemised
    assert 'sandbox' in month.text and "/preview" in month.text
    preview = client.get(f"{P}/month/{office.MONTH}/preview")
    assert preview.status_code == 200 and "考核通报" in preview.text
    assert "script-src" not in preview.headers["content-security-policy"]
    assert "sandbox" in preview.headers["content-security-policy"]
    board = client.get(W23).text
    mail = re.search(rf'href="({W23}/mail/[0-9a-f]{{16}})"', board).group(1)
    shown = client.get(mail)
    assert "主题" in shown.text and "工作台账" in shown.text and ".xlsx" in shown.text
    assert "=?utf-8?" not in shown.text and "2022年6月9日 10:00" in shown.text  # headers decoded, date in Chinese
    assert "洛阳市城市提质工作领导小组办公室 &lt;tizhi-office@example.org&gt;" in shown.text
    chart = client.get(f"{W23}/lights.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml") and "绿灯" in chart.text


def test_unit_text_comes_back_escaped(client: TestClient, office_ws: office.Office) -> None:
    unit = office_ws.xss_unit
    task_id = office_ws.registry.tasks_led_by(unit)[0].id
    page = client.get(f"{P}/task/{task_id}")
    assert page.status_code == 200
    assert office.XSS not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]


def test_unknown_pages_programmes_and_periods_are_chinese_404s(client: TestClient) -> None:
    for path in ("/p/nope", f"{P}/period/2022-13", f"{P}/task/351-X-99", f"{P}/unit/{quote('不存在的局')}",
                 "/no/such/page"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert re.search("[\u4e00-\u9fff]", response.text)


# --- safety ---------------------------------------------------------------------------------------


def post_routes(client: TestClient) -> list[str]:
    """Every POST address of the app, for week 23 and June."""
    found = []
    for route in client.app.routes:
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            found.append(route.path.format(programme="351", period=office.PERIOD, month=office.MONTH))
    return found


def test_every_post_needs_this_sessions_csrf_token(office_ws: office.Office, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(office_ws.ws.root, root)
    before = sorted(p.relative_to(root) for p in (root / "out").rglob("*"))
    with client_for(root) as c:
        good = token(c)
        routes = post_routes(c)
        assert len(routes) >= 7
        for path in routes:
            for form in ({}, {CSRF_FIELD: "0" * 64}, {CSRF_FIELD: good[:-1] + ("1" if good.endswith("0") else "0")}):
                response = c.post(path, data=form, files={"files": ("a.xlsx", b"x")} if path.endswith("upload") else None)
                assert response.status_code == 403, (path, form)
                assert "校验码" in response.text
        # another browser's token does not work either
        with client_for(root) as other:
            other.app.state.site.secret = c.app.state.site.secret
            assert other.post(f"{W23}/consolidate", data={CSRF_FIELD: good}).status_code == 403
    assert sorted(p.relative_to(root) for p in (root / "out").rglob("*")) == before  # nothing ran


def test_a_cross_site_post_is_refused_before_its_body_is_read(client: TestClient) -> None:
    good = token(client)
    for headers in ({"origin": "http://evil.example"}, {"sec-fetch-site": "cross-site"},
                    {"sec-fetch-site": "same-site"}):
        response = client.post(f"{W23}/consolidate", data={CSRF_FIELD: good}, headers=headers)
        assert response.status_code == 403
    same = client.post(f"{W23}/upload", data={CSRF_FIELD: good}, headers={"origin": "http://testserver"})
    assert same.status_code == 400 and "没有收到文件" in same.text  # past the guard and the token: no file sent


def test_a_foreign_host_header_is_refused(client: TestClient) -> None:
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""):
        response = client.get("/", headers={"host": host})
        assert response.status_code == 400
        assert "地址不对" in response.text
    assert client.get("/").status_code == 200


def test_allowed_hosts_follow_the_bound_address() -> None:
    from ledger.web.security import allowed_hosts

    assert allowed_hosts("127.0.0.1", 8000) >= {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    assert "evil.example:8000" not in allowed_hosts("127.0.0.1", 8000)
    assert allowed_hosts("192.0.2.7", 8080) == {"192.0.2.7:8080"}


def test_downloads_only_by_the_id_of_a_known_file(client: TestClient, office_ws: office.Office) -> None:
    board = client.get(W23).text
    summary = re.search(rf'href="({W23}/file/[0-9a-f]{{16}})">下载汇总表', board).group(1)
    response = client.get(summary)
    assert response.status_code == 200
    assert response.content == (office_ws.ws.out_dir("351", office.PERIOD) / "汇总表.xlsx").read_bytes()
    assert "attachment" in response.headers["content-disposition"]
    for fid in ("0123456789abcdef", "../../ledger.toml", "..%2F..%2Fledger.toml", "%2e%2e%2fledger.toml",
                file_id("../../ledger.toml"), file_id("ledger.sqlite"), "汇总表.xlsx", "/etc/passwd",
                file_id("汇总表.xlsx").upper()):
        for base in (W23, f"{P}/month/{office.MONTH}"):
            assert client.get(f"{base}/file/{fid}").status_code == 404, (base, fid)
    # a file ledger did not write there (placed by hand) is not downloadable, nor a link
    folder = office_ws.ws.out_dir("351", office.PERIOD)
    (folder / "secret.txt").write_text("x", encoding="utf-8")
    (folder / "link.xlsx").symlink_to(office_ws.ws.root / "ledger.toml")
    assert client.get(f"{W23}/file/{file_id('link.xlsx')}").status_code == 404
    assert client.get(f"{W23}/file/{file_id('../ledger.sqlite')}").status_code == 404
    # originals only by their number in the store, and only of this programme
    assert client.get(f"{P}/original/999999").status_code == 404
    assert client.get("/p/pingtai/original/1").status_code == 404
    assert client.get(f"{P}/original/1").status_code == 200


def test_the_workbooks_zip_holds_the_generated_workbooks(client: TestClient) -> None:
    import io
    import zipfile

    response = client.get(f"{W23}/workbooks.zip")
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        names = zf.namelist()
    assert len(names) == 6 and all(n.startswith(f"{office.PERIOD}_") and n.endswith("_工作台账.xlsx") for n in names)


# --- actions --------------------------------------------------------------------------------------


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    """A workspace holding the five-task registry of conftest as programme 351."""
    return make_workspace(tmp_path / "small", small_registry()).root


def upload(client: TestClient, paths: list[Path], *, fragment: bool = True, csrf: str | None = None,
           **fields: str) -> object:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    headers = {"x-ledger-fragment": "1"} if fragment else {}
    return client.post(f"{W23}/upload", data={CSRF_FIELD: csrf or token(client), **fields}, files=files,
                       headers=headers)


def test_actions_generate_mail_upload_consolidate_as_the_cli(small: Path, tmp_path: Path) -> None:
    with client_for(small) as c:
        good = token(c)
        done = c.post(f"{W23}/generate", data={CSRF_FIELD: good})
        assert done.status_code == 200 and "已生成 3 个工作台账，共 6 项任务" in done.text  # back on the board
        assert "已生成 3 个工作台账，共" not in c.get(W23).text  # the message shows once
        assert "已写邮件草稿 3 封" in c.post(f"{W23}/mail/drafts", data={CSRF_FIELD: good}).text
        returned = [filled(load_ws(small), unit, tmp_path / "in") for unit in (JT, CG)]
        later = upload(c, returned, received_at="2022-06-09 15:00")  # after the page's clock: as the CLI, refused
        assert later.status_code == 400 and "晚于现在" in later.text
        verdicts = upload(c, returned, received_at="2022-06-08 15:00")
        assert verdicts.status_code == 200
        assert verdicts.text.count('class="verdict verdict-accepted"') == 2
        assert verdicts.text.count("6月8日 15:00（收集时指定的收到时间）") == 2
        assert "催报草稿 1 封（未报送 1，退回 0）" in c.post(f"{W23}/mail/reminders", data={CSRF_FIELD: good}).text
        summary = c.post(f"{W23}/consolidate", data={CSRF_FIELD: good})
        assert "已汇总" in summary.text and "汇总表已写入" in summary.text
    ws = load_ws(small)
    with Run.open(ws, "351", PERIOD, now=office.NOW) as run:
        current = run.store.current_submissions("351", PERIOD)
        assert sorted(s.unit for s in current) == sorted([JT, CG])
        assert all(s.received_source == "given" for s in current)
    summary_book = load_workbook(ws.out_dir("351", PERIOD) / "汇总表.xlsx", read_only=True)
    assert "总表" in summary_book.sheetnames
    assert len(list((ws.out_dir("351", PERIOD) / "receipts").glob("*_回执.txt"))) == 2
    assert len(list((ws.out_dir("351", PERIOD) / "outbox").glob("*_催报.eml"))) == 1


def load_ws(root: Path):  # noqa: ANN201
    from ledger.config import load

    return load(root)


def test_an_upload_without_the_pages_script_gets_a_page_of_verdicts(small: Path, tmp_path: Path) -> None:
    returned = filled(load_ws(small), ZJ, tmp_path / "in")
    with client_for(small) as c:
        page = upload(c, [returned], fragment=False)
    assert page.status_code == 200 and "上传结果" in page.text and "通过" in page.text
    assert "（收集时间）" in page.text  # no time given, none from the browser: the time of collecting


def test_the_browsers_modification_time_is_the_received_time(small: Path, tmp_path: Path) -> None:
    returned = filled(load_ws(small), ZJ, tmp_path / "in")
    saved = datetime(2022, 6, 8, 11, 30, tzinfo=CHINA)
    with client_for(small) as c:
        page = upload(c, [returned], modified=str(int(saved.timestamp() * 1000)))
    assert "6月8日 11:30（文件修改时间）" in page.text


def test_a_hostile_upload_gets_the_clis_refusal_and_the_server_keeps_serving(small: Path, tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    bomb = h.zip_bomb(folder, f"{PERIOD}_{JT}_工作台账.xlsx", size=64 << 20)
    junk = folder / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04" + b"\x00junk" * 2000)
    cli_ws = make_workspace(tmp_path / "cli", small_registry())
    cli = CliRunner().invoke(main, ["-w", str(cli_ws.root), "collect", str(bomb), str(junk), "-p", "351",
                                    "--period", PERIOD, "--json"])
    expected = {s["file"]: [(p["code"], p["message"]) for p in s["problems"]] for s in json.loads(cli.output)["submissions"]}
    assert {code for found in expected.values() for code, _ in found} >= {"zip-bomb"}
    with client_for(small) as c:
        page = upload(c, [bomb, junk])
        assert page.status_code == 200
        assert page.text.count('class="verdict verdict-rejected"') == 2
        for problems in expected.values():
            for _code, message in problems:
                assert message.replace("“", "&#34;") in page.text or _escaped(message) in page.text
        assert c.get("/").status_code == 200 and c.get(W23).status_code == 200
    with open_workspace_store(load_ws(small)) as store:
        stored = store.history("351")
    assert {s.outcome for s in stored} == {"rejected"} and len(stored) == 2


def _escaped(text: str) -> str:
    import markupsafe

    return str(markupsafe.escape(text))


def test_upload_limits_are_explicit(small: Path, tmp_path: Path) -> None:
    files = [filled(load_ws(small), unit, tmp_path / "in") for unit in (JT, CG, ZJ)]
    limits = Limits(upload_bytes=sum(p.stat().st_size for p in files) + 8192, upload_files=2, fields=4,
                    field_bytes=512, form_bytes=2048)
    with client_for(small, limits=limits) as c:
        good = token(c)
        too_many = upload(c, files, csrf=good)
        assert too_many.status_code == 400 and "一次最多上传 2 个文件" in too_many.text
        big = tmp_path / "big.xlsx"
        big.write_bytes(b"\0" * limits.upload_bytes)
        assert upload(c, [big], csrf=good).status_code == 413
        fields = {f"f{i}": "x" for i in range(5)}
        assert "表单项过多" in upload(c, files[:1], csrf=good, **fields).text
        assert "文字过长" in upload(c, files[:1], csrf=good, received_at="9" * 600).text
        assert c.post(f"{W23}/consolidate", data={CSRF_FIELD: good, "pad": "x" * 3000}).status_code == 413
        nothing = c.post(f"{W23}/upload", data={CSRF_FIELD: good}, headers={"x-ledger-fragment": "1"})
        assert nothing.status_code == 400 and "没有收到文件" in nothing.text
        assert upload(c, files[:2], csrf=good).status_code == 200  # within the limits
    with open_workspace_store(load_ws(small)) as store:
        assert len(store.history("351")) == 2  # only the last upload stored anything


def test_a_request_longer_than_it_says_is_cut_off(small: Path) -> None:
    limits = Limits(upload_bytes=10_000)
    with client_for(small, limits=limits) as c:
        good = token(c)

        def body() -> Iterator[bytes]:
            yield (f'--b\r\nContent-Disposition: form-data; name="{CSRF_FIELD}"\r\n\r\n{good}\r\n'
                   '--b\r\nContent-Disposition: form-data; name="files"; filename="a.xlsx"\r\n\r\n').encode()
            for _ in range(100):
                yield b"\0" * 1000
            yield b"\r\n--b--\r\n"

        response = c.post(f"{W23}/upload", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert response.status_code == 413


def test_uploaded_names_are_escaped_and_cannot_leave_the_upload_folder(small: Path, tmp_path: Path) -> None:
    from ledger.web.pages.upload import clean_name

    assert clean_name("../../etc/passwd", 0) == "passwd"
    assert clean_name("C:\\Users\\a\\..\\台账.xlsx", 0) == "台账.xlsx"
    assert clean_name("..", 3) == "上传文件4"
    assert clean_name("a\x00b.xlsx", 0) == "ab.xlsx"
    returned = filled(load_ws(small), JT, tmp_path / "in")
    named = returned.with_name("<img src=x onerror=alert(1)>&'.xlsx")
    returned.rename(named)
    with client_for(small) as c:
        page = upload(c, [named])
    assert "<img" not in page.text and "&'" not in page.text
    assert "_img src=x onerror=alert(1)_&amp;&#39;.xlsx" in page.text  # cleaned as a file name, then escaped


def test_two_concurrent_uploads_of_overlapping_files_store_each_once(small: Path, tmp_path: Path) -> None:
    ws = load_ws(small)
    a, b, c_ = (filled(ws, unit, tmp_path / unit) for unit in (JT, CG, ZJ))
    with client_for(small) as client:
        good = token(client)
        results: dict[str, str] = {}
        start = threading.Barrier(2)

        def send(name: str, paths: list[Path]) -> None:
            start.wait()
            results[name] = upload(client, paths, csrf=good).text

        threads = [threading.Thread(target=send, args=("one", [a, b])),
                   threading.Thread(target=send, args=("two", [b, c_]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    outcomes = re.findall(r'class="verdict verdict-(\w+)"', results["one"] + results["two"])
    assert sorted(outcomes) == ["accepted", "accepted", "accepted", "duplicate"]
    # the repeat says so: as a repeat, or (if its receipt was not on disk yet) as written now for the first verdict
    assert re.search("重复文件，已有回执|通过（此前已登记，补写回执）", results["one"] + results["two"])
    with open_workspace_store(ws) as store:
        stored = store.history("351")
    assert len(stored) == 3 and len({s.sha256 for s in stored}) == 3
    assert len(list((ws.out_dir("351", PERIOD) / "receipts").glob("*_回执.txt"))) == 3


def test_a_run_of_another_periods_files_stores_nothing_and_says_which(small: Path, tmp_path: Path) -> None:
    returned = filled(load_ws(small), JT, tmp_path / "in", period="2022-W24")
    with client_for(small) as c:
        page = upload(c, [returned])
    assert "这些文件属于2022年第24周" in page.text and "未登记任何文件" in page.text
    assert f'href="{P}/period/2022-W24"' in page.text
    with open_workspace_store(load_ws(small)) as store:
        assert store.history("351") == []


def test_a_failed_action_says_why_on_the_page(small: Path) -> None:
    with client_for(small) as c:
        page = c.post(f"{W23}/mail/drafts", data={CSRF_FIELD: token(c)})
    assert page.status_code == 200 and "未能完成" in page.text and "尚未生成工作台账" in page.text


# --- `ledger serve` itself --------------------------------------------------------------------------


def test_ledger_serve_answers_on_loopback_and_refuses_a_foreign_host(small: Path, tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    with office.serving(small, tmp_path / "serve.log") as url:
        with urllib.request.urlopen(url + "/", timeout=10) as response:
            page = response.read().decode("utf-8")
            assert "script-src 'self'" in response.headers["content-security-policy"]
            assert response.headers["x-frame-options"] == "DENY"
            assert "ledger_session=" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
        assert "测试项目" in page or "351" in page
        port = url.rsplit(":", 1)[1]
        for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
            with urllib.request.urlopen(urllib.request.Request(url + "/", headers={"Host": host}), timeout=10) as ok:
                assert ok.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url + "/", headers={"Host": f"rebound.example:{port}"}),
                                   timeout=10)
        assert refused.value.code == 400
        # a second server on the same port says so in Chinese
        taken = CliRunner().invoke(main, ["-w", str(small), "serve", "--port", port])
        assert taken.exit_code == 1 and "端口可能已被占用" in taken.output


def test_the_registry_page_filters_and_pages(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def ids(path: str) -> list[str]:
        page = client.get(path)
        assert page.status_code == 200
        body = page.text[page.text.index('<table class="registry">'):]
        return re.findall(r'<td class="nowrap"><a href="/p/\w+/task/([^"]+)">', body)

    everything = ids(f"{P}/tasks")
    assert len(everything) == 66
    a1 = ids(f"{P}/tasks?annex=A1")
    assert a1 and all("-A1-" in t for t in a1) and len(a1) < len(everything)
    unit = ids(f"{P}/tasks?unit={quote('市商务局')}")
    assert unit == ["351-A1-02", "351-A1-03"]
    june = ids(f"{P}/tasks?due=month")  # the page's clock is in June 2022: a deadline or milestone in June
    assert "351-A1-02" in june and "351-A1-01" not in june
    green = client.get(f"{P}/tasks?light=green").text
    assert "灯号取自最近一次汇总" in green and "light-green" in green and "light-red" not in green
    monkeypatch.setattr("ledger.web.pages.tasks.PAGE", 10)
    first, second = ids("/p/yanshi/tasks"), ids("/p/yanshi/tasks?page=2")
    assert len(first) == len(second) == 10 and not set(first) & set(second)
    assert "第 2/10 页" in client.get("/p/yanshi/tasks?page=2").text


def test_next_steps_follow_the_cycle() -> None:
    from ledger.web.overview import Glance, next_steps

    def steps(counts: dict[str, int], **kw: object) -> list[str]:
        base = {"generated": 0, "drafted": False, "consolidated": False, "past_due": False}
        view = Glance("351", PERIOD, "", sum(counts.values()), counts, "", "", **{**base, **kw})  # type: ignore[arg-type]
        return [f"{s.text} → {s.action}" for s in next_steps(view)]

    assert steps({"missing": 3}) == ["尚未生成本期工作台账 → 生成台账"]
    assert steps({"missing": 3}, generated=3) == ["已生成 3 个工作台账，尚未写通知邮件 → 生成邮件草稿",
                                                  "还有3个单位未报送（未到截止时间） → 上传收到的台账"]
    assert steps({"missing": 1, "on_time": 2}, generated=3, drafted=True, past_due=True) == [
        "还有1个单位未报送 → 生成催报", "已收到2个单位的台账，尚未汇总 → 汇总"]
    assert steps({"rejected": 1, "late": 2}, generated=3, drafted=True) == [
        "1个单位的台账被退回待改 → 生成催报", "已收到2个单位的台账，尚未汇总 → 汇总"]
    assert steps({"on_time": 3}, generated=3, drafted=True, consolidated=True) == ["本期已汇总 → 下载汇总表"]


def test_serve_opens_the_browser_once_the_server_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.commands import serve

    opened: list[str] = []
    monkeypatch.setattr(serve.webbrowser, "open", opened.append)

    class Started:
        started = True

    serve._open_when_started(Started(), "http://127.0.0.1:8000/")
    serve._open_when_started(object(), "http://127.0.0.1:8001/", wait_s=0.3)  # never up: no browser
    assert opened == ["http://127.0.0.1:8000/"]
