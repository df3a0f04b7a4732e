"""Units report through the web: links, 在线填报, office sign-in, and the limits that keep the
server safe on the office's network, through Starlette's TestClient.

The authorisation tests enumerate the app's own routes, so a route added later is covered (or
fails for want of a declared access). A unit's link reaches its own unit's data only: never
another unit's, another programme's, or an office page.
"""

from __future__ import annotations

import re
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import hostile as h
import office
import pytest
from conftest import JT, PERIOD, T1, T2, T3, filled, make_workspace, small_registry
from starlette.routing import Route
from starlette.testclient import TestClient

from ledger import layout
from ledger.collect.api import collect
from ledger.config import Workspace
from ledger.periods import CHINA
from ledger.reporting import period_status
from ledger.run import Run, open_workspace_store
from ledger.store import Received
from ledger.web.app import create_app, routes
from ledger.web.auth import ACCESS
from ledger.web.files import file_id
from ledger.web.security import CSRF_FIELD
from ledger.web.site import Limits

TOKEN = re.compile(rf'name="{CSRF_FIELD}" value="([0-9a-f]+)"')
ROUTES = [r for r in routes() if isinstance(r, Route)]
#: (route, method) of every address of the app, HEAD aside (Starlette answers it as GET)
ADDRESSES = [(r, m) for r in ROUTES for m in sorted((r.methods or set()) - {"HEAD"})]
UNIT_ADDRESSES = [(r, m) for r, m in ADDRESSES if r.endpoint.access == "unit"]
OFFICE_ADDRESSES = [(r, m) for r, m in ADDRESSES if r.endpoint.access in ("viewer", "clerk", "admin")]
ROLES = {"viewer": 0, "clerk": 1, "admin": 2}
PASSWORD = "password-1"


def client_for(root: Path, *, sign_in: bool = True, address: str = "10.0.0.1", **kwargs: object) -> TestClient:
    app = create_app(root, ["testserver"], clock=lambda: office.NOW, pdf=False, sign_in=sign_in,
                     **kwargs)  # type: ignore[arg-type]
    return TestClient(app, client=(address, 50000), follow_redirects=False)


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return TOKEN.search(page.text).group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> object:
    return client.post("/signin", data={CSRF_FIELD: csrf(client, "/signin"), "name": name, "password": password,
                                        "next": "/"})


@dataclass
class World:
    """The office's workspace with links of two units and users of every role."""

    office: office.Office
    a: str  # unit A's token: 市交通运输局, no report yet
    b_sub: int  # unit B's (市商务局's) accepted file
    other_programme_sub: int  # a file of unit A's own name, for another programme
    revoked: str
    expired: str
    app_root: Path

    @property
    def unit_a(self) -> str:
        return self.office.units[3]

    @property
    def unit_b(self) -> str:
        return self.office.units[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    o = office.build(tmp_path_factory.mktemp("units") / "ws", bulletin=True)
    ws = o.ws
    a, b = o.units[3], o.units[1]
    token = office.link(ws, a)
    office.link(ws, b)
    revoked = office.link(ws, o.units[4])
    with open_workspace_store(ws) as store:
        store.revoke_link(store.links("351")[-1].id, office.NOW)
        b_sub = next(s.id for s in store.history("351", b))
        data = b"another programme's file"
        import hashlib

        other = store.ingest(Received(hashlib.sha256(data).hexdigest(), "pingtai.xlsx", data, "xlsx", office.NOW,
                                      "collected", "", "pingtai", "2022-06", a, "rejected"))
    expired = office.link(ws, o.units[5], now=office.NOW - timedelta(days=30), expires=date(2022, 6, 1))
    for role in ROLES:
        office.add_user(ws, role, role)
    return World(o, token, b_sub, other.id, revoked, expired, ws.root)


def path_of(route: Route, world: World, **values: object) -> str:
    params = {"programme": "351", "period": office.PERIOD, "month": office.MONTH, "task": "351-A1-05",
              "unit": quote(world.unit_b), "fid": file_id("汇总表.xlsx"), "submission": world.b_sub, "token": world.a}
    params.update(values)
    return route.path_format.format(**params)


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, TestClient]:
    """An anonymous browser, one that opened unit A's link, and one signed in per role, all on
    one app (served beyond this computer: sign-in required); failures never throttled here."""
    app = client_for(world.app_root, limits=Limits(link_failures=10**6, sign_in_failures=10**6)).app
    made = {name: TestClient(app, client=("10.0.0.1", 50000), follow_redirects=False)
            for name in ("anonymous", "unit", *ROLES)}
    assert made["unit"].get(f"/u/{world.a}").status_code == 200
    for role in ROLES:
        assert sign_in(made[role], role).status_code == 303
    return made


def test_every_route_says_who_may_use_it() -> None:
    assert {r.endpoint.access for r in ROUTES} <= set(ACCESS)
    assert all(r.path.startswith("/u/") == (r.endpoint.access == "unit") for r in ROUTES)
    assert all(r.path.startswith("/p/") or r.path == "/" for r in ROUTES if r.endpoint.access in ROLES)
    assert len(UNIT_ADDRESSES) == 7 and len(OFFICE_ADDRESSES) == 24


@pytest.mark.parametrize(("route", "method"), UNIT_ADDRESSES, ids=[f"{m} {r.path}" for r, m in UNIT_ADDRESSES])
def test_a_units_link_reaches_its_own_unit_only(route: Route, method: str, world: World,
                                                clients: dict[str, TestClient]) -> None:
    c = clients["unit"]
    own = _a_submission(world)
    before = _stored(world)
    # a revoked, an expired, an unknown or a mangled link opens nothing
    for token in (world.revoked, world.expired, "A" * 32, world.a[:-1] + ("B" if world.a[-1] != "B" else "C"),
                  world.a.lower() if world.a.lower() != world.a else world.a.upper()):
        refused = c.request(method, path_of(route, world, token=token, submission=world.other_programme_sub))
        assert refused.status_code in (403, 404), token
        assert "停用" in refused.text or "过期" in refused.text or "链接无效" in refused.text
        assert world.unit_a not in refused.text
    # another unit's file, another programme's, a file that does not exist; a period the link may not report
    if "{submission}" in route.path_format:
        for sub in (world.b_sub, world.other_programme_sub, 10**6):
            assert c.request(method, path_of(route, world, submission=sub)).status_code == 404
    if "{period}" in route.path_format:
        for period in ("2022-W24", "2022-W20", "2022-06", "2021-W23"):
            assert c.request(method, path_of(route, world, period=period)).status_code == 404, period
    # its own: answered, and nothing of unit B's in it
    answer = c.request(method, path_of(route, world, submission=own))
    if method == "POST":
        assert answer.status_code == 403 and "校验码" in answer.text  # past the link, stopped by the CSRF check
    else:
        assert answer.status_code == 200, answer.text
    body = answer.text if "html" in answer.headers.get("content-type", "") else ""
    assert world.unit_b not in body and f"{office.PERIOD}_{world.unit_b}" not in body
    assert "/p/" not in body  # no way into the office's pages
    assert _stored(world) == before


def _a_submission(world: World) -> int:
    """A file of unit A's own (made once, through its link's own upload)."""
    with open_workspace_store(world.office.ws) as store:
        own = [s for s in store.history("351", world.unit_a)]
    if own:
        return own[0].id
    path = office.returned_ledger(world.office.ws, world.office.registry, world.unit_a, world.app_root / "a-own")
    with Run.open(world.office.ws, "351", office.PERIOD, now=office.NOW) as run:
        from ledger.collect.receipts import write_receipts

        result = collect(run, [path], unit=world.unit_a)
        write_receipts(run, result)
    return result.files[0].submission_id


def _stored(world: World) -> list[tuple[int, str]]:
    with open_workspace_store(world.office.ws) as store:
        return [(s.id, s.outcome) for s in store.history("351")]


@pytest.mark.parametrize(("route", "method"), OFFICE_ADDRESSES, ids=[f"{m} {r.path}" for r, m in OFFICE_ADDRESSES])
def test_office_pages_need_sign_in_and_the_role(route: Route, method: str, world: World,
                                                clients: dict[str, TestClient]) -> None:
    path = path_of(route, world)
    needed = route.endpoint.access
    for who in ("anonymous", "unit"):  # a unit's link is no way into the office's pages
        answer = clients[who].request(method, path)
        if method == "GET" and not path.endswith(".svg"):
            assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=")
        else:
            assert answer.status_code == 401 and "请先登录" in answer.text
    for role, rank in ROLES.items():
        answer = clients[role].request(method, path)
        if rank < ROLES[needed]:
            assert answer.status_code == 403 and "权限" in answer.text, (role, answer.text)
        elif method == "POST":
            assert answer.status_code == 403 and "校验码" in answer.text  # allowed: on to the CSRF check
        else:
            assert answer.status_code not in (303, 401, 403), (role, answer.status_code)


def test_a_viewer_cannot_upload_but_a_clerk_can(world: World, clients: dict[str, TestClient], tmp_path: Path) -> None:
    path = office.returned_ledger(world.office.ws, world.office.registry, world.office.units[4], tmp_path)
    files = {"files": (path.name, path.read_bytes())}
    upload = f"/p/351/period/{office.PERIOD}/upload"
    viewer = clients["viewer"]
    refused = viewer.post(upload, data={CSRF_FIELD: csrf(viewer, f"/p/351/period/{office.PERIOD}")}, files=files)
    assert refused.status_code == 403 and "查看" in refused.text
    assert "上传并校验" not in viewer.get(f"/p/351/period/{office.PERIOD}").text  # no upload form to press
    clerk = clients["clerk"]
    taken = clerk.post(upload, data={CSRF_FIELD: csrf(clerk, f"/p/351/period/{office.PERIOD}")}, files=files,
                       headers={"x-ledger-fragment": "1"})
    assert taken.status_code == 200 and 'verdict-accepted' in taken.text
    with open_workspace_store(world.office.ws) as store:
        [logged] = [e for e in store.web_log() if e.event == "upload" and e.user == "clerk"]
    assert (logged.address, logged.file_name, logged.verdict, logged.size) == ("10.0.0.1", path.name, "accepted",
                                                                              path.stat().st_size)
    assert len(logged.sha256) == 64


# --- sign-in ----------------------------------------------------------------------------------------


def test_sign_in_rotates_the_session_and_ends_with_the_user(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", small_registry())
    office.add_user(ws, "张三", "clerk")
    with client_for(ws.root, sign_in=False) as c:  # on this computer, but users exist: sign-in all the same
        assert c.get("/").status_code == 303
        before = c.cookies["ledger_session"]
        wrong = sign_in(c, "张三", "wrong password")
        assert wrong.status_code == 401 and "用户名或密码不对" in wrong.text
        assert sign_in(c, "李四").status_code == 401
        done = sign_in(c, "张三")
        assert done.status_code == 303 and done.headers["location"] == "/"
        cookie = done.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain HTTP here
        assert c.cookies["ledger_session"] != before  # a session planted before sign-in is worth nothing
        home = c.get("/")
        assert home.status_code == 200 and "张三（经办）" in home.text
        office.add_user(ws, "李四", "viewer")
        with open_workspace_store(ws) as store:
            from ledger.access import users

            users.set_password(store, "张三", "a new password", office.NOW + timedelta(minutes=1))
        assert c.get("/").status_code == 303  # a new password signs the old sessions out
        sign_in(c, "张三", "a new password")
        assert c.get("/").status_code == 200
        with open_workspace_store(ws) as store:
            store.remove_user("张三")
        assert c.get("/").status_code == 303  # a removed user is signed out
        sign_in(c, "李四")
        out = c.post("/signout", data={CSRF_FIELD: csrf(c, "/")})
        assert out.status_code == 303 and c.get("/").status_code == 303
    with open_workspace_store(ws) as store:
        log = [(e.event, e.user, e.address) for e in reversed(store.web_log())]
    assert log == [("signin-failed", "张三", "10.0.0.1"), ("signin-failed", "李四", "10.0.0.1"),
                   ("signin", "张三", "10.0.0.1"), ("signin", "张三", "10.0.0.1"), ("signin", "李四", "10.0.0.1"),
                   ("signout", "李四", "10.0.0.1")]


def test_sign_in_goes_back_to_this_site_only(tmp_path: Path) -> None:
    from ledger.web.pages.signin import safe_next

    assert safe_next("/p/351/tasks") == "/p/351/tasks"
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example", None, ""):
        assert safe_next(bad) == "/"


def test_failed_links_and_passwords_are_counted_per_address_and_wait(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", small_registry())
    good = office.link(ws, JT)
    office.add_user(ws, "张三", "admin")
    limits = Limits(link_failures=3, sign_in_failures=3, failure_window_s=600)
    c = client_for(ws.root, limits=limits)
    site = c.app.state.site
    now = [1000.0]
    site.link_throttle.clock = site.sign_in_throttle.clock = lambda: now[0]
    for n in range(3):
        assert c.get(f"/u/{'B' * 31}{n}").status_code == 404
    slowed = c.get(f"/u/{good}")
    assert slowed.status_code == 429 and "10 分钟后再试" in slowed.text  # the right link too, from this address
    other = TestClient(c.app, client=("10.0.0.2", 50000), follow_redirects=False)
    assert other.get(f"/u/{good}").status_code == 200  # another address is not slowed
    for _ in range(3):
        assert sign_in(other, "张三", "guessed password").status_code == 401
    assert sign_in(other, "张三").status_code == 429  # the right password too
    assert other.get("/signin").status_code == 200  # the page itself still shows
    now[0] += 601  # the window has passed
    assert c.get(f"/u/{good}").status_code == 200
    assert sign_in(other, "张三").status_code == 303
    with open_workspace_store(ws) as store:
        refused = [e for e in store.web_log() if e.event == "link-refused"]
    assert len(refused) == 3 and {e.detail for e in refused} == {"unknown"} and refused[0].address == "10.0.0.1"


# --- a unit's own page, form and uploads -------------------------------------------------------------


@pytest.fixture()
def small(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", small_registry())


def fill_data(token: str, values: dict[str, dict[str, str]]) -> dict[str, str]:
    """The form of 交通运输局's three tasks (T1, T2 ongoing, T3)."""
    data = {CSRF_FIELD: token}
    for i, task in enumerate((T1, T2, T3)):
        for key, value in values.get(task, {}).items():
            data[f"t{i}-{key}"] = value
    return data


GOOD = {T1: {"progress": "完成立项批复", "status": "按序时推进", "percent": "30", "cumulative": "前期工作完成"},
        T2: {"progress": "优化线路3条", "status": "常态化推进", "percent": ""},
        T3: {"progress": "完成选址", "status": "滞后", "percent": "20", "issues": "用地指标不足"}}


def test_a_units_form_is_checked_by_collect_and_saved_as_a_submission(small: Workspace, tmp_path: Path) -> None:
    token = office.link(small, JT)
    c = client_for(small.root, sign_in=False)
    page = c.get(f"/u/{token}")
    assert page.status_code == 200 and "2022年第23周" in page.text and "6月10日 16:00" in page.text
    assert "距截止还有1天6小时" in page.text and "未报送（未到截止时间）" in page.text
    form = c.get(f"/u/{token}/{PERIOD}/fill")
    for label in ("本期进展情况", "推进状态", "完成进度（%）", "累计完成情况（形象进度）", "存在问题及原因", "下步工作计划",
                  "需协调解决事项", "备注"):
        assert label in form.text
    assert all(f"<option value=\"{s}\"" in form.text for s in layout.UNIT_STATUSES)
    assert "可不填或填/" in form.text  # the ongoing task's 完成进度
    bad = fill_data(TOKEN.search(form.text).group(1), {**GOOD, T3: {"progress": "", "status": "差不多", "percent": "大部分"}})
    refused = c.post(f"/u/{token}/{PERIOD}/fill", data=bad)
    assert refused.status_code == 200 and "有 3 处需要修改，尚未提交" in refused.text
    for message in ("本期进展情况未填写，请写明本期做了什么、达到什么程度", "推进状态“差不多”无效", "完成进度“大部分”无法识别"):
        assert message.replace("“", "&#34;").replace("”", "&#34;") in refused.text or message in refused.text
    assert "完成立项批复" in refused.text  # what was typed stays
    with open_workspace_store(small) as store:
        assert store.history("351") == []  # nothing stored until it passes
    saved = c.post(f"/u/{token}/{PERIOD}/fill", data=fill_data(TOKEN.search(form.text).group(1),
                                                               {**GOOD, T1: {**GOOD[T1], "percent": "30%"}}))
    assert saved.status_code == 303
    shown = c.get(saved.headers["location"])
    assert "已收到，通过校验" in shown.text and "已登记（通过）" in shown.text  # the receipt, on screen
    assert "完成进度“30%”已按 30 收取" in shown.text.replace("&#34;", "“")  # collect's warning, as for Excel
    assert "按时报送" in shown.text
    with Run.open(small, "351", PERIOD, now=office.NOW) as run:
        [sub] = run.store.history("351")
        entries = {e.task_id: e for e in run.store.entries(sub.id)}
        status = {r.unit: r.state for r in period_status(run)}
    assert sub.source_name == f"{PERIOD}_{JT}_工作台账（在线填报）.xlsx" and sub.outcome == "accepted"
    assert (entries[T1].progress, entries[T1].percent, entries[T2].percent, entries[T3].problems_text) == \
        ("完成立项批复", 30, None, "用地指标不足")
    assert status[JT] == "on_time"
    # the archived original is the generated workbook with the values in it
    import openpyxl

    sheet = openpyxl.load_workbook(sub.archived_path)[layout.LEDGER_SHEET]
    assert sheet.title == "工作台账" and any(c.value == "完成立项批复" for row in sheet.iter_rows() for c in row)
    receipt = re.search(rf'href="(/u/{token}/receipt/{sub.id})"', c.get(f"/u/{token}").text).group(1)
    assert "处理结果：已登记（通过）" in c.get(receipt).text
    # the form again starts from what was reported this period
    again = c.get(f"/u/{token}/{PERIOD}/fill")
    assert "本期已报送的内容" in again.text and "用地指标不足" in again.text


def test_web_and_excel_reports_supersede_each_other(small: Workspace, tmp_path: Path) -> None:
    token = office.link(small, JT)
    now = [office.NOW]
    app = create_app(small.root, ["testserver"], clock=lambda: now[0], pdf=False)
    c = TestClient(app, follow_redirects=False)
    form = c.get(f"/u/{token}/{PERIOD}/fill")
    assert c.post(f"/u/{token}/{PERIOD}/fill", data=fill_data(TOKEN.search(form.text).group(1), GOOD)).status_code == 303
    now[0] += timedelta(hours=1)
    workbook = filled(small, JT, tmp_path / "excel", progress="用Excel报送的进展")
    page = c.get(f"/u/{token}")
    uploaded = c.post(f"/u/{token}/{PERIOD}/upload", data={CSRF_FIELD: TOKEN.search(page.text).group(1)},
                      files={"file": (workbook.name, workbook.read_bytes())})
    assert uploaded.status_code == 303 and "已收到，通过校验" in c.get(uploaded.headers["location"]).text
    now[0] += timedelta(hours=1)
    form = c.get(f"/u/{token}/{PERIOD}/fill")
    assert "用Excel报送的进展" in form.text  # the form starts from the workbook that counts now
    assert c.post(f"/u/{token}/{PERIOD}/fill", data=fill_data(TOKEN.search(form.text).group(1), GOOD)).status_code == 303
    with open_workspace_store(small) as store:
        history = [(s.source_name.endswith("（在线填报）.xlsx"), s.outcome) for s in store.history("351", JT)]
        [current] = [s for s in store.current_submissions("351", PERIOD) if s.unit == JT]
        progress = {e.task_id: e.progress for e in store.entries(current.id)}
    assert history == [(True, "superseded"), (False, "superseded"), (True, "accepted")]
    assert progress[T1] == "完成立项批复"


def test_the_form_starts_from_last_periods_report(small: Workspace, tmp_path: Path) -> None:
    last = filled(small, JT, tmp_path / "w22", period="2022-W22", progress="上周完成了勘察", cumulative="累计完成40%",
                  percent=40, status="按序时推进")
    with Run.open(small, "351", "2022-W22", now=office.NOW) as run:
        assert collect(run, [last]).files[0].outcome == "accepted"
    token = office.link(small, JT)
    c = client_for(small.root, sign_in=False)
    form = c.get(f"/u/{token}/{PERIOD}/fill").text
    assert "上期报送的内容（本期进展请重新填写）" in form
    assert "上期进展：上周完成了勘察" in form and "累计完成40%" in form
    assert 'name="t0-percent" type="text" inputmode="numeric" value="40"' in form
    assert '<option value="按序时推进" selected>' in form
    assert re.search(r'name="t0-progress" rows="4"></textarea>', form)  # 本期进展 is new each period


def test_a_units_link_takes_only_its_own_workbook(small: Workspace, tmp_path: Path) -> None:
    from conftest import CG

    token = office.link(small, JT)
    c = client_for(small.root, sign_in=False)
    page = c.get(f"/u/{token}")
    theirs = filled(small, CG, tmp_path / "cg")
    sent = c.post(f"/u/{token}/{PERIOD}/upload", data={CSRF_FIELD: TOKEN.search(page.text).group(1)},
                  files={"file": (theirs.name, theirs.read_bytes())})
    shown = c.get(sent.headers["location"]).text
    assert "未通过校验，已退回" in shown and "应由“市交通运输局”报送" in shown.replace("&#34;", "“")
    workbook = c.get(f"/u/{token}/{PERIOD}/workbook")
    assert quote(f"{PERIOD}_{JT}_工作台账.xlsx") in workbook.headers["content-disposition"]
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    ids = [row[1] for row in book[layout.LEDGER_SHEET].iter_rows(min_row=layout.FIRST_TASK_ROW + 1, values_only=True)]
    assert ids == [T1, T2, T3]


def test_what_a_units_link_refuses_is_that_units_and_no_other(small: Workspace, tmp_path: Path) -> None:
    """Another unit's workbook, or a zip, sent through 交通运输局's link is 交通运输局's refused
    file: its status says 退回 and its reply goes to it, while 城管局, whose workbook it was and
    which sent nothing, stays 未报送 and is told nothing."""
    from conftest import CG

    from ledger.mail.replies import REPLY_SUFFIX

    token = office.link(small, JT)
    c = client_for(small.root, sign_in=False)
    good = TOKEN.search(c.get(f"/u/{token}").text).group(1)
    theirs = filled(small, CG, tmp_path / "cg")
    bundle = tmp_path / "台账.zip"  # a zip inside a zip: refused whole, recorded and answered
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("inner.zip", h.plain_zip(tmp_path).read_bytes())
    for path in (theirs, bundle):
        sent = c.post(f"/u/{token}/{PERIOD}/upload", data={CSRF_FIELD: good},
                      files={"file": (path.name, path.read_bytes())})
        assert sent.status_code == 303
    with Run.open(small, "351", PERIOD, now=office.NOW) as run:
        status = {r.unit: r.state for r in period_status(run)}
        history = run.store.history("351")
    assert status[JT] == "rejected" and status[CG] == "missing"
    assert [(s.unit, s.outcome) for s in history] == [(JT, "rejected"), (JT, "rejected")]
    replies = list(small.out_dir("351", PERIOD).rglob(f"*{REPLY_SUFFIX}"))
    assert replies and all(CG not in p.name for p in replies)
    page = c.get(f"/u/{token}").text
    assert page.count("退回") >= 2 and theirs.name in page


def test_uploads_through_a_link_are_limited_per_period(small: Workspace, tmp_path: Path) -> None:
    token = office.link(small, JT)
    files = [filled(small, JT, tmp_path / str(i), progress=f"第{i}次") for i in range(3)]
    limits = Limits(link_files=2, link_bytes=10 << 20, link_file_bytes=files[0].stat().st_size + 1000)
    c = client_for(small.root, sign_in=False, limits=limits)
    good = TOKEN.search(c.get(f"/u/{token}").text).group(1)

    def send(path: Path) -> object:
        return c.post(f"/u/{token}/{PERIOD}/upload", data={CSRF_FIELD: good}, files={"file": (path.name, path.read_bytes())})

    big = tmp_path / "big.xlsx"
    big.write_bytes(b"\0" * (limits.link_file_bytes + 70 * 1024))
    assert send(big).status_code == 413  # over one file's limit: refused before it is read
    assert [send(p).status_code for p in files] == [303, 303, 429]
    refused = send(files[2])
    assert "达到上限（2 次" in refused.text
    assert c.post(f"/u/{token}/{PERIOD}/fill", data={CSRF_FIELD: good}).status_code == 429  # the form counts too
    with open_workspace_store(small) as store:
        assert len(store.history("351")) == 2
        assert store.link_usage(store.links("351")[0].id, PERIOD)[0] == 2


def test_hostile_files_through_a_units_link_get_collects_refusals(small: Workspace, tmp_path: Path) -> None:
    """The corpus of tests/hostile.py, each through unit 交通运输局's own upload: the same problems as
    ``collect`` gives the same file, and the server goes on serving."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    name = f"{PERIOD}_{JT}_工作台账.xlsx"
    corpus = {
        "zip-bomb": lambda d: h.zip_bomb(d, name, size=64 << 20),
        "shared-string": lambda d: h.huge_shared_string(d, name, size=64 << 20),
        "long-cell": lambda d: h.long_shared_string(d, name),
        "lying-header": lambda d: h.lying_header(d, name),
        "many-cells": lambda d: h.many_cells(d, name),
        "too-many-parts": lambda d: h.too_many_parts(d, name),
        "duplicate-part": lambda d: h.duplicate_part(d, name),
        "billion-laughs": lambda d: h.billion_laughs(d, name),
        "xxe": lambda d: h.xxe(d, name),
        "truncated": lambda d: h.truncated(d, name),
        "flipped": lambda d: h.flipped(d, name),
        "empty": lambda d: h.empty(d, name),
        "macro": lambda d: h.macro_renamed(d, name),
        "html": lambda d: h.html_named_xls(d, name.replace(".xlsx", ".xls")),
        "csv": lambda d: h.csv_named_xls(d, name),
        "encrypted": lambda d: h.encrypted_xlsx(d, name),
        "xls-password": lambda d: h.xls(d, name.replace(".xlsx", ".xls"), password=True),
        "part-missing": lambda d: h.sheet_part_missing(d, name),
        "mail": lambda d: h.mail(d),
        "zip": lambda d: h.plain_zip(d),
    }
    expected_ws = make_workspace(tmp_path / "cli", small_registry())
    token = office.link(small, JT)
    c = client_for(small.root, sign_in=False)
    good = TOKEN.search(c.get(f"/u/{token}").text).group(1)
    for case, build in corpus.items():
        made = folder / case
        made.mkdir()
        path = build(made)
        with Run.open(expected_ws, "351", PERIOD, now=office.NOW) as run:
            expected = collect(run, [path], unit=JT)
        codes = sorted(p.code for f in expected.files for p in f.problems) + sorted(p.code for p in expected.problems)
        sent = c.post(f"/u/{token}/{PERIOD}/upload", data={CSRF_FIELD: good},
                      files={"file": (path.name, path.read_bytes())})
        assert sent.status_code == 303, (case, sent.text[:500])
        shown = c.get(sent.headers["location"]).text.replace("&#34;", "“").replace("&#39;", "'")
        assert ("已退回" in shown or "未收到可以登记的台账文件" in shown or "已收到" in shown), case
        for f in expected.files:
            for p in f.problems:
                assert p.message in shown, (case, p.message)
        assert codes, case  # every file of the corpus has something to say
        assert c.get(f"/u/{token}").status_code == 200  # still serving
    with open_workspace_store(small) as store:
        assert not [s for s in store.history("351") if s.outcome == "accepted" and s.unit != JT]
        logged = [e for e in store.web_log() if e.event == "upload"]
    assert len(logged) >= len(corpus) - 2  # a mail or zip without a workbook leaves no verdict to log


def test_the_office_makes_and_revokes_links_on_its_page(small: Workspace) -> None:
    c = client_for(small.root, sign_in=False)
    page = c.get("/p/351/links")
    assert page.status_code == 200 and "已有 0 / 3 个单位有有效链接" in page.text and "base_url" in page.text
    good = TOKEN.search(page.text).group(1)
    assert c.post("/p/351/links/create", data={CSRF_FIELD: good}).status_code == 303
    page = c.get("/p/351/links")
    tokens = re.findall(r"<code>/u/([A-Za-z0-9_-]{32})</code>", page.text)
    assert len(tokens) == 3 and c.get(f"/u/{tokens[0]}").status_code == 200
    assert c.post("/p/351/links/revoke", data={CSRF_FIELD: good, "unit": JT}).status_code == 303
    assert c.get(f"/u/{tokens[0]}").status_code == 403
    assert "已有 2 / 3 个单位有有效链接" in c.get("/p/351/links").text
    assert "链接被拒" in c.get("/p/351/links").text  # the refused link is in the log shown


def test_the_page_has_no_inline_script_and_escapes_what_units_type(small: Workspace) -> None:
    token = office.link(small, JT)
    c = client_for(small.root, sign_in=False)
    form = c.get(f"/u/{token}/{PERIOD}/fill")
    xss = "<script>alert(1)</script>"
    saved = c.post(f"/u/{token}/{PERIOD}/fill", data=fill_data(TOKEN.search(form.text).group(1),
                                                               {**GOOD, T1: {**GOOD[T1], "progress": xss}}))
    page = c.get(saved.headers["location"])
    again = c.get(f"/u/{token}/{PERIOD}/fill")
    assert xss not in again.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in again.text
    assert "<script" not in page.text  # the unit's pages load no script at all
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # the link never leaves the site in a Referer (and a form's Origin stays this site's, not "null")
    assert page.headers["referrer-policy"] == "same-origin" and 'name="referrer"' not in page.text


def test_a_unit_may_report_the_period_due_and_the_one_before(small: Workspace) -> None:
    token = office.link(small, JT)
    monday = datetime(2022, 6, 13, 9, 0, tzinfo=CHINA)  # week 24 began; week 23 was due last Friday
    c = TestClient(create_app(small.root, ["testserver"], clock=lambda: monday, pdf=False))
    page = c.get(f"/u/{token}")
    assert "2022年第24周" in page.text and f"/u/{token}/2022-W23" in page.text
    assert c.get(f"/u/{token}/2022-W23").status_code == 200
    assert c.get(f"/u/{token}/2022-W22").status_code == 404


# --- `ledger serve` beyond this computer ---------------------------------------------------------------


def test_serve_beyond_this_computer_needs_users_and_then_sign_in(small: Workspace, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ledger.cli import main

    for args in (["--host", "0.0.0.0"], ["--proxy"]):
        refused = CliRunner().invoke(main, ["-w", str(small.root), "serve", "--port", "8", *args])
        assert refused.exit_code == 1 and "ledger users add" in refused.output, refused.output
    office.add_user(small, "张三", "admin")
    with office.serving(small.root, tmp_path / "serve.log", args=("--host", "0.0.0.0")) as url:
        with urllib.request.urlopen(url + "/", timeout=10) as page:  # redirected to sign in
            assert page.url.endswith("/signin?next=/") and "办公室用户登录" in page.read().decode()
        no_redirect = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as office_page:
            no_redirect.open(url + f"/p/351/period/{PERIOD}", timeout=10)
        assert office_page.value.code == 303
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "办公室页面须登录（共 1 个用户）" in log and "未使用 HTTPS" in log


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_serve_over_https_marks_the_cookie_secure(small: Workspace, tmp_path: Path) -> None:
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    with office.serving(small.root, tmp_path / "serve.log", args=("--certfile", str(cert), "--keyfile", str(key)),
                        scheme="https") as url:
        with urllib.request.urlopen(url + "/", timeout=10, context=ssl._create_unverified_context()) as page:
            cookie = page.headers["set-cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert page.headers["strict-transport-security"].startswith("max-age=")


def test_behind_a_proxy_the_forwarded_address_is_the_one_counted(small: Workspace, tmp_path: Path) -> None:
    office.add_user(small, "张三", "admin")
    for args, expected in ((("--proxy",), "203.0.113.9"), ((), "127.0.0.1")):
        with office.serving(small.root, tmp_path / f"serve{len(args)}.log", args=args) as url:
            request = urllib.request.Request(url + "/u/" + "C" * 32, headers={"X-Forwarded-For": "203.0.113.9"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 404
        with open_workspace_store(small) as store:
            assert store.web_log(limit=1)[0].address == expected  # without --proxy the header is not believed


def test_the_configured_address_is_a_host_the_server_answers() -> None:
    from ledger.commands.serve import _base_url_hosts

    assert _base_url_hosts("https://ducha.example.gov.cn") == {"ducha.example.gov.cn:443", "ducha.example.gov.cn"}
    assert _base_url_hosts("http://192.0.2.7:8080") == {"192.0.2.7:8080"}
    assert _base_url_hosts("") == set()


def test_a_units_workbook_is_on_the_offices_record_before_it_is_checked(small: Workspace) -> None:
    """Once the office recorded what it sent for the period (generate), a unit it has not generated
    for gets its workbook generated — and recorded — when it opens the form or downloads it, so
    its report is checked against a record like everyone's; a period without records stays so."""
    from conftest import CG, ZJ

    from ledger.generate import generate, generated_workbooks

    token = office.link(small, CG)
    c = client_for(small.root, sign_in=False)
    assert c.get(f"/u/{token}/{PERIOD}/workbook").status_code == 200
    with open_workspace_store(small) as store:
        assert store.manifests("351", PERIOD) == {}  # no record yet: none made for one unit alone
    with Run.open(small, "351", PERIOD, now=office.NOW) as run:
        generate(run, units=[JT])
    form = c.get(f"/u/{token}/{PERIOD}/fill")
    data = {CSRF_FIELD: TOKEN.search(form.text).group(1), "t0-progress": "优化线路", "t0-status": "常态化推进",
            "t1-progress": "清理占道12处", "t1-status": "按序时推进", "t1-percent": "40"}
    saved = c.post(f"/u/{token}/{PERIOD}/fill", data=data)
    assert saved.status_code == 303 and "已收到，通过校验" in c.get(saved.headers["location"]).text
    with Run.open(small, "351", PERIOD, now=office.NOW) as run:
        assert sorted(run.store.manifests("351", PERIOD)) == sorted([JT, CG])
        assert sorted(generated_workbooks(run)) == sorted([JT, CG]) and ZJ not in generated_workbooks(run)
        [sub] = [s for s in run.store.current_submissions("351", PERIOD) if s.unit == CG]
    assert sub.outcome == "accepted"
