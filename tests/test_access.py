"""Who may use the web page: units' links and office users, in the store and on the command line.

A link's secret never reaches the database (only its hash and a nonce); the office's key file
derives it again for mail; revoking or expiring a link ends it; a unit has one link at a time.
Passwords are kept as argon2 hashes and checked in constant work whether the name exists.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CG, JT, ZJ, make_workspace, small_registry

from ledger.access import links, users
from ledger.cli import main
from ledger.config import Workspace, load
from ledger.errors import InputError
from ledger.periods import CHINA
from ledger.run import open_workspace_store
from ledger.secret import secret_path
from ledger.store import StoreError, open_store, schema

NOW = datetime(2022, 6, 9, 10, 0, tzinfo=CHINA)


def cli(ws: Workspace, *args: str, input: str | None = None) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["-w", str(ws.root), *args], input=input)
    return done.exit_code, done.output


def with_base_url(ws: Workspace, url: str = "https://ducha.example.gov.cn") -> Workspace:
    path = ws.root / "ledger.toml"
    path.write_text(path.read_text(encoding="utf-8") + f'\n[web]\nbase_url = "{url}/"\n', encoding="utf-8")
    return load(ws.root)


def test_a_link_is_stored_as_a_hash_and_derived_again_from_the_key(ws: Workspace) -> None:
    ws = with_base_url(ws)
    with open_workspace_store(ws) as store:
        issued = links.create(ws, store, "351", JT, now=NOW, by="测试")
        token = issued.url.rsplit("/", 1)[1]
        assert issued.url == f"https://ducha.example.gov.cn/u/{token}" and links.TOKEN.match(token)
        assert links.resolve(store, token) == issued.link
        assert links.resolve(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert links.resolve(store, "../../etc/passwd") is None
        assert links.token_of(ws, issued.link) == token
        assert links.mail_links(ws, store, "351", [JT, CG], NOW) == {JT: issued.url}
    written = b"".join(p.read_bytes() for p in ws.paths.out.rglob("*") if p.is_file())
    assert token.encode() not in written  # neither the database nor anything under out/ holds the secret
    secret_path(ws.root).unlink()  # another workspace secret: the link still opens the page, but no mail carries it
    with open_workspace_store(ws) as store:
        assert links.resolve(store, token) is not None
        assert links.token_of(ws, issued.link) is None
        assert links.mail_links(ws, store, "351", [JT], NOW) == {}


def test_one_link_per_unit_revoked_and_expired_links_are_not_usable(ws: Workspace) -> None:
    with open_workspace_store(ws) as store:
        first = links.create(ws, store, "351", JT, now=NOW, by="测试").link
        second = links.create(ws, store, "351", JT, now=NOW, by="测试", expires=date(2022, 6, 30)).link
        stored = {link.id: link for link in store.links("351")}
        assert stored[first.id].revoked_at is not None and stored[second.id].revoked_at is None
        assert links.in_use(store, "351", NOW) == {JT: second}
        assert second.usable(datetime(2022, 6, 30, 23, 59, tzinfo=CHINA))  # the last day counts
        assert not second.usable(datetime(2022, 7, 1, 0, 0, tzinfo=CHINA))
        assert links.state_text(second, NOW) == "有效（至 2022-06-30）"
        assert store.revoke_link(second.id, NOW) and not store.revoke_link(second.id, NOW)
        assert links.in_use(store, "351", NOW) == {}
        assert links.state_text(store.links("351")[-1], NOW).startswith("已停用")
        with pytest.raises(InputError, match="已过"):
            links.create(ws, store, "351", CG, now=NOW, by="测试", expires=date(2022, 6, 8))
        # the database itself refuses two links in use for one unit
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            store._conn.execute("UPDATE links SET revoked_at = NULL")


def test_passwords_are_argon2_hashes_checked_for_the_right_user(ws: Workspace) -> None:
    with open_workspace_store(ws) as store:
        users.add(store, "张三", "clerk", "correct horse", NOW)
        assert store.user("张三").password_hash.startswith("$argon2id$")
        assert users.verify(store, "张三", "correct horse", NOW).role == "clerk"
        assert users.verify(store, "张三", "wrong horse!", NOW) is None
        assert users.verify(store, "李四", "correct horse", NOW) is None
        with pytest.raises(StoreError, match="已有"):
            users.add(store, "张三", "viewer", "another one", NOW)
        with pytest.raises(InputError, match="太短"):
            users.add(store, "李四", "viewer", "short", NOW)
        with pytest.raises(InputError, match="角色"):
            users.add(store, "李四", "boss", "long enough", NOW)
        users.set_password(store, "张三", "a new password", NOW + timedelta(hours=1))
        assert users.verify(store, "张三", "correct horse", NOW) is None
        assert users.verify(store, "张三", "a new password", NOW) is not None
        assert store.remove_user("张三") and store.users() == []


def test_links_and_users_on_the_command_line(ws: Workspace) -> None:
    code, out = cli(ws, "links", "create", "-p", "351", "--expires", "2099-12-31")
    assert code == 0, out
    assert "未设置 [web] base_url" in out and "已生成 3 个链接" in out
    for unit in (JT, CG, ZJ):
        assert f"  {unit}  /u/" in out
    code, out = cli(ws, "links", "create", "-p", "351", "--unit", "交通运输局")
    assert code == 0 and "已生成 0 个链接" in out and f"已有有效链接，未重复生成（要换新链接请加 --renew）：{JT}" in out
    code, out = cli(ws, "links", "create", "-p", "351", "--unit", JT, "--renew")
    assert code == 0 and "已生成 1 个链接" in out
    code, out = cli(ws, "links", "revoke", "-p", "351", "--unit", CG)
    assert code == 0 and f"已停用 1 个链接：{CG}" in out
    code, out = cli(ws, "links", "list", "-p", "351", "--json")
    listed = json.loads(out)
    assert sorted(r["unit"] for r in listed) == sorted([JT, ZJ]) and all(r["url"].startswith("/u/") for r in listed)
    code, out = cli(ws, "links", "list", "-p", "351", "--all", "--json")
    assert len(json.loads(out)) == 4
    code, out = cli(ws, "links", "create", "-p", "351", "--unit", "市教育局")
    assert code == 1 and "不是本项目任何任务的牵头单位" in out
    code, out = cli(ws, "links", "revoke", "-p", "351")
    assert code == 2 and "--all" in out

    code, out = cli(ws, "users", "add", "张三", "--role", "admin", input="secret123\n")
    assert code == 0 and "已添加用户“张三”（管理）" in out
    code, out = cli(ws, "users", "add", "李四", "--role", "viewer", input="short\n")
    assert code == 1 and "密码太短" in out
    code, out = cli(ws, "users", "passwd", "张三", input="another secret\n")
    assert code == 0 and "已修改" in out
    code, out = cli(ws, "users", "list", "--json")
    assert [(u["name"], u["role"]) for u in json.loads(out)] == [("张三", "admin")]
    assert cli(ws, "users", "remove", "王五")[0] == 1
    assert cli(ws, "users", "remove", "张三") == (0, "已删除用户“张三”。\n")


def test_version_3_store_gains_the_web_tables_and_keeps_its_files(tmp_path: Path) -> None:
    db = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    schema.upgrade(conn, target=3)
    conn.execute("INSERT INTO files (sha256, source_name, size, detected_type, received_at, received_source, "
                 "programme, period, unit, outcome, archived_path) VALUES (?, 'a.xlsx', 1, 'xlsx', "
                 "'2022-06-09T02:00:00.000000+00:00', 'email', '351', '2022-W23', ?, 'accepted', 'x')", ("a" * 64, JT))
    conn.execute("COMMIT")
    conn.close()
    with open_store(db) as store:
        assert [s.unit for s in store.history("351")] == [JT]
        assert store.links() == [] and store.users() == [] and store.web_log() == []
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (schema.SCHEMA_VERSION,)
    conn.close()


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", small_registry())


def test_mail_drafts_carry_each_units_own_link(ws: Workspace) -> None:
    from email import policy
    from email.parser import BytesParser

    assert cli(ws, "generate", "-p", "351", "--period", "2022-W23", "--unit", JT, "--unit", CG)[0] == 0
    assert cli(ws, "links", "create", "-p", "351", "--unit", JT)[0] == 0
    code, out = cli(ws, "mail", "drafts", "-p", "351", "--period", "2022-W23")
    assert "未设置 [web] base_url" in out and "邮件中未写链接" in out  # links, but no address to write

    ws = with_base_url(ws)
    code, out = cli(ws, "mail", "drafts", "-p", "351", "--period", "2022-W23")
    assert "其中 1 封写有该单位的在线报送链接" in out, out
    outbox = ws.out_dir("351", "2022-W23") / "outbox"

    def body(unit: str) -> str:
        msg = BytesParser(policy=policy.default).parsebytes((outbox / f"2022-W23_{unit}.eml").read_bytes())
        return msg.get_body(preferencelist=("plain",)).get_content()

    with open_workspace_store(ws) as store:
        [link] = store.links("351")
        token = links.token_of(ws, link)
    assert f"也可通过以下链接在线报送：https://ducha.example.gov.cn/u/{token}" in body(JT)
    assert "在线报送" not in body(CG) and "/u/" not in body(CG)  # no link of its own: none of another's


def test_the_web_log_on_the_command_line(ws: Workspace) -> None:
    from ledger.store import WebEvent

    with open_workspace_store(ws) as store:
        store.log_web(WebEvent(NOW, "10.0.0.7", "signin-failed", user="张三"))
        store.log_web(WebEvent(NOW, "10.0.0.8", "upload", link_id=None, unit=JT, programme="351", period="2022-W23",
                               file_name="a.xlsx", sha256="ab" * 32, size=10, verdict="accepted"))
    code, out = cli(ws, "store", "weblog")
    assert code == 0
    first, second = out.splitlines()
    assert "10.0.0.8  上传" in first and "2022-W23 a.xlsx abababab 通过" in first
    assert "10.0.0.7  登录失败  张三" in second
    assert json.loads(cli(ws, "store", "weblog", "--json", "--limit", "1")[1])[0]["address"] == "10.0.0.8"
