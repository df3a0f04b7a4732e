"""click's own messages come out in Chinese: usage errors, help, version, ``Aborted!``.

The catalog is checked against the installed click's source, so a click upgrade that
adds or rewords a message fails here instead of printing English to a clerk.
"""

from __future__ import annotations

import ast
import gettext
import re
import string
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.commands.chinese import MESSAGES, PLURALS, ChineseGroup, display_width

CLICK_SOURCE = Path(click.__file__).parent
#: English that must not reach a user (click's words, not option names or paths)
ENGLISH = re.compile(r"\b(Error|Usage|Missing|Try|Invalid|Aborted|Options|Commands|Show|No such|"
                     r"is not|does not|Did you mean|requires|unexpected|required|default|OPTIONS|COMMAND|TEXT|"
                     r"INTEGER|DIRECTORY)\b")


def click_message_ids() -> tuple[set[str], set[tuple[str, str]]]:
    """Every literal message id click passes to ``_()`` and ``ngettext()``."""
    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    for path in CLICK_SOURCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "_" and args:
                singles.add(args[0])
            elif node.func.id == "ngettext" and len(args) >= 2:
                plurals.add((args[0], args[1]))
    return singles, plurals


def fields(text: str) -> set[str]:
    """Placeholders of a str.format or %-format message."""
    found = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return found | set(re.findall(r"%\((\w+)\)s", text))


def test_every_click_message_has_a_translation_and_no_translation_is_stale() -> None:
    singles, plurals = click_message_ids()
    singles.add("required")  # passed as _(extra["required"]); the help test sees it translated
    assert len(singles) > 50 and len(plurals) >= 5  # the source was read
    assert singles - set(MESSAGES) == set(), "click messages without a Chinese translation"
    assert set(MESSAGES) - singles == set(), "translations of messages click no longer has"
    assert plurals == set(PLURALS)


@pytest.mark.parametrize("msgid", sorted(MESSAGES))
def test_translation_uses_only_the_placeholders_click_fills(msgid: str) -> None:
    assert fields(MESSAGES[msgid]) <= fields(msgid)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in MESSAGES[msgid]) or msgid in ("Choice({choices})",)


@pytest.mark.parametrize("ids", sorted(PLURALS))
def test_plural_translation_uses_only_the_placeholders_click_fills(ids: tuple[str, str]) -> None:
    assert fields(PLURALS[ids]) <= fields(ids[0]) | fields(ids[1])


def invoke(*args: str, input: str | None = None) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), input=input, prog_name="ledger")


@pytest.mark.parametrize(("args", "expected"), [
    (["generate", "--period", "2022-W23"], ["缺少选项 '--programme' / '-p'", "用法: ledger generate [选项]",
                                          "运行“ledger generate --help”查看帮助。"]),
    (["collect", "-p", "351", "--period", "2022-W23"], ["缺少参数 '路径...'", "用法: ledger collect [选项] 路径..."]),
    (["generate", "-p", "351", "--period", "2022-W23", "-j", "99"], ["'--jobs' / '-j' 的值无效", "不在允许的范围"]),
    (["generate", "-p", "351", "--period", "2022-W23", "-j", "many"], ["“many”不是有效的数字"]),
    (["bulletin", "-p", "351", "--month", "2022-06", "--date", "2022/07/05"], ["“2022/07/05”的格式不对"]),
    (["generate", "-p"], ["选项 -p 后面缺少值"]),
    (["status", "-p", "351", "--period", "2022-W23", "extra"], ["多余的参数（extra）"]),
    (["nope"], ["错误：没有命令 nope。"]),
    (["registry", "list", "--jsn"], ["没有选项 --jsn", "您是不是要输入 '--json'"]),
    (["registry"], ["用法: ledger registry [选项] 命令 [参数]...", "命令:"]),
])
def test_usage_errors_are_chinese(args: list[str], expected: list[str]) -> None:
    res = invoke(*args)
    assert res.exit_code == 2 or (args == ["registry"] and res.exit_code in (0, 2)), res.output
    for text in expected:
        assert text in res.output
    assert not ENGLISH.search(res.output), res.output


def test_help_and_version_are_chinese() -> None:
    res = invoke("--help")
    assert res.exit_code == 0
    for text in ("用法: ledger [选项] 命令 [参数]...", "选项:", "命令:", "显示本帮助并退出。", "显示版本号并退出。",
                 "-w, --workspace 目录"):
        assert text in res.output
    assert not ENGLISH.search(res.output), res.output
    sub = invoke("generate", "-h")
    assert "[必填]" in sub.output and "[默认：0" in sub.output and "-j, --jobs 整数" in sub.output
    assert not ENGLISH.search(sub.output), sub.output
    version = invoke("--version")
    assert version.exit_code == 0 and re.fullmatch(r"ledger 版本 \S+\n", version.output)


def test_help_columns_line_up_with_chinese_value_names() -> None:
    rows = [m for line in invoke("generate", "-h").output.splitlines()
            if (m := re.match(r"  (-\S.*?) {2,}(\S)", line))]
    assert len(rows) >= 6
    assert len({display_width(m.string[:m.start(2)]) for m in rows}) == 1, [m.string for m in rows]


def test_declined_confirmation_is_aborted_in_chinese(ws) -> None:
    outbox = ws.out_dir("351", "2022-W23") / "outbox"
    outbox.mkdir(parents=True)
    (outbox / "a.eml").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    res = invoke("-w", str(ws.root), "mail", "send", "-p", "351", "--period", "2022-W23", input="n\n")
    assert res.exit_code == 1
    assert "是否继续？" in res.output and "已取消。" in res.output
    assert not ENGLISH.search(res.output), res.output
    assert (outbox / "a.eml").is_file()  # nothing sent


def test_ledger_errors_are_prefixed_in_chinese(ws) -> None:
    res = invoke("-w", str(ws.root), "generate", "-p", "999", "--period", "2022-W23")
    assert res.exit_code == 1 and res.output.startswith("错误：未知的项目“999”")


def test_choices_are_chinese_and_click_is_itself_again_afterwards() -> None:
    @click.group(cls=ChineseGroup)
    def app() -> None:
        """测试。"""

    @app.command()
    @click.option("--cycle", type=click.Choice(["weekly", "monthly"]))
    def run(cycle: str) -> None:
        """测试。"""

    res = CliRunner().invoke(app, ["run", "--cycle", "daily"])
    assert res.exit_code == 2
    assert "“daily”不是可选的值，可选：'weekly', 'monthly'。" in res.output
    assert not ENGLISH.search(res.output), res.output
    from click import core, exceptions, formatting

    assert core._ is gettext.gettext and exceptions.ngettext is gettext.ngettext
    assert formatting.term_len is not display_width


# ---- every command, every way a user can get its command line wrong ------------------------------


def walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(prefix, group)]
    for name, sub in sorted(group.commands.items()):
        if isinstance(sub, click.Group):
            found += walk(sub, (*prefix, name))
        else:
            found.append(((*prefix, name), sub))
    return found


COMMANDS = walk(main)


def bad_values(param: click.Parameter) -> list[str]:
    """Values the parameter's type refuses."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return ["无此选项"]
    if isinstance(kind, (click.IntRange, click.types.IntParamType, click.types.FloatParamType)):
        return ["many", "-999999"] if isinstance(kind, click.IntRange) else ["many"]
    if isinstance(kind, click.DateTime):
        return ["2024/13/45"]
    if isinstance(kind, click.Path) and kind.exists:
        return ["/nonexistent/文件.txt"]
    return []


def usage_mistakes(path: tuple[str, ...], cmd: click.Command) -> list[list[str]]:
    """Command lines that stop in click's parser: an unknown option, a value missing after an option,
    a value the option's type refuses, required parameters left out."""
    lines = [[*path, "--no-such-option"]]
    for param in cmd.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version"):
            flag = max(param.opts, key=len)
            if not param.is_flag and not param.count:
                lines.append([*path, flag])
            lines += [[*path, flag, value] for value in bad_values(param)]
        elif isinstance(param, click.Argument):
            lines += [[*path, value] for value in bad_values(param)]
    if any(p.required for p in cmd.params) or isinstance(cmd, click.Group):
        lines.append(list(path))
    return lines


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) or "ledger" for p, _ in COMMANDS])
def test_every_command_speaks_chinese_whatever_the_mistake(path, cmd, tmp_path) -> None:
    runner = CliRunner()
    help_text = runner.invoke(main, [*path, "--help"], prog_name="ledger")
    assert help_text.exit_code == 0 and "用法: ledger" in help_text.output
    assert not ENGLISH.search(help_text.output), help_text.output
    for line in usage_mistakes(path, cmd):
        res = runner.invoke(main, ["-w", str(tmp_path / "无"), *line], prog_name="ledger")
        if isinstance(cmd, click.Group) and line == list(path):
            # the group's help, or (options given) that a command is missing
            assert res.exit_code in (0, 2) and ("命令:" in res.output or "错误：缺少子命令。" in res.output), res.output
        else:
            assert res.exit_code == 2, (line, res.output)
            assert res.output.startswith(("错误：", "用法: ledger")) and "错误：" in res.output, (line, res.output)
        assert not ENGLISH.search(res.output), (line, res.output)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in res.output), (line, res.output)
    assert len(COMMANDS) >= 20
