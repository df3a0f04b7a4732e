"""`ledger generate` on bad input: a clear Chinese message, exit 1, nothing half-written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Collector

from ledger.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(REPO / "ledger.toml", ws / "ledger.toml")
    shutil.copytree(REPO / "source_data", ws / "source_data")
    return ws


def run(root: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["-w", str(root), "generate", *args])
    return res.exit_code, res.output


def files_under(path: Path) -> list[Path]:
    """Outputs under *path*; the parsed copy of the registry (out/.cache) is not an output."""
    if not path.exists():
        return []
    return sorted(p for p in path.rglob("*") if p.is_file() and ".cache" not in p.relative_to(path).parts)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-p", "999", "--period", "2022-W23"], "未知的项目“999”"),
        (["-p", "351", "--period", "2022-23"], "2022-W23"),
        (["-p", "351", "--period", "2022-06"], "2022-W23"),  # a monthly period for a weekly programme
        (["-p", "351", "--period", "2022-W23", "--unit", "伊川县人民政府"], "不是本项目任何任务的牵头单位"),
        (["-p", "351", "--period", "2022-W23", "--unit", "火星局"], "无法生成台账"),
        # 县住建局 is 洛宁县's: programme 351 is 洛阳市's, so the short name is not taken across scopes
        (["-p", "351", "--period", "2022-W23", "--unit", "县住建局"], "不是本项目任何任务的牵头单位"),
    ],
)
def test_bad_input_is_a_clear_message_and_writes_nothing(root: Path, args: list[str], expected: str) -> None:
    code, output = run(root, *args)
    assert code == 1, output
    assert expected in output
    assert "Traceback" not in output
    assert files_under(root / "out") == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_directory(root: Path) -> None:  # pragma: no cover - CI runs as root
    target = root / "locked"
    target.mkdir()
    target.chmod(0o500)
    code, output = run(root, "-p", "351", "--period", "2022-W23", "-o", str(target))
    assert code == 1 and "无法写入" in output
    assert files_under(target) == []


def test_output_that_is_a_file_is_refused_without_partial_files(root: Path) -> None:
    blocker = root / "out" / "blocked"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder", encoding="utf-8")
    code, output = run(root, "-p", "351", "--period", "2022-W23", "-o", str(blocker / "sub"))
    assert code == 1, output
    assert "无法写入" in output
    assert files_under(root / "out") == [blocker]


def test_output_outside_the_workspace_is_refused(root: Path, tmp_path: Path) -> None:
    code, output = run(root, "-p", "351", "--period", "2022-W23", "-o", str(tmp_path / "elsewhere"))
    assert code == 1, output
    assert not (tmp_path / "elsewhere").exists()


def test_generates_every_lead_unit_of_the_shipped_registry(root: Path) -> None:
    code, output = run(root, "-p", "351", "--period", "2022-W23")
    assert code == 0, output
    made = files_under(root / "out" / "351" / "2022-W23" / "templates")
    assert len(made) == 25
    assert not [p for p in made if ".ledger-tmp" in p.name]


def test_generate_drafts_and_send_through_a_real_smtp_server(root: Path, smtp_server) -> None:
    import email
    import email.policy

    handler = Collector()
    port = smtp_server(handler)
    with open(root / "ledger.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n')
    assert run(root, "-p", "351", "--period", "2022-W23")[0] == 0
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(root), "mail", "drafts", "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["-w", str(root), "mail", "send", "-p", "351", "--period", "2022-W23", "--yes"])
    assert res.exit_code == 0, res.output
    assert len(handler.received) == 25
    templates = root / "out" / "351" / "2022-W23" / "templates"
    for _from, _to, data, _tls, _auth in handler.received:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        [att] = list(msg.iter_attachments())
        assert att.get_content() == (templates / att.get_filename()).read_bytes()
        assert att.get_filename().endswith("_工作台账.xlsx")
    outbox = root / "out" / "351" / "2022-W23" / "outbox"
    assert list(outbox.glob("*.eml")) == [] and len(list((outbox / "sent").glob("*.eml"))) == 25


@pytest.mark.parametrize("name", ["市城市管理局", "市城管局", "城管局", "洛阳市城市管理局"])
def test_unit_may_be_named_by_alias_or_short_name(root: Path, name: str) -> None:
    code, output = run(root, "-p", "351", "--period", "2022-W23", "--unit", name, "--unit", "市交通局")
    assert code == 0, output
    made = [p.name for p in files_under(root / "out" / "351" / "2022-W23" / "templates")]
    assert made == ["2022-W23_市交通运输局_工作台账.xlsx", "2022-W23_市城市管理局_工作台账.xlsx"]


def test_alias_and_full_name_of_one_unit_give_one_workbook(root: Path) -> None:
    code, output = run(root, "-p", "351", "--period", "2022-W23", "--unit", "市城管局", "--unit", "市城市管理局")
    assert code == 0, output
    assert len(files_under(root / "out" / "351" / "2022-W23" / "templates")) == 1
