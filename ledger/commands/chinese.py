"""click's own messages in Chinese: usage errors, help headings, ``Aborted!``.

click marks every message it prints with gettext (``_("Missing option")``) but reads the
global gettext domain, which follows the user's locale. ``ledger`` speaks Chinese
whatever the locale, so :class:`ChineseGroup` runs each command line with a catalog of
click's messages installed as click's translation function, and puts click's own back
afterwards. The catalog is keyed by click's exact message ids; ``tests/test_chinese.py``
checks it against the click that is installed, so an upgrade that changes a message
fails a test instead of printing English.
"""

from __future__ import annotations

import gettext
import importlib
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

#: click's modules that translate messages (click._winconsole only exists on Windows)
CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
                 "click.termui", "click._termui_impl", "click.types", "click.utils", "click.shell_completion")

#: click's message ids → Chinese; placeholders as in click's message
MESSAGES: dict[str, str] = {
    # usage errors
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少子命令。",
    "No such option {name!r}.": "没有选项 {name}。",
    "No such command {name!r}.": "没有命令 {name}。",
    "Invalid value: {message}": "值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid start character for option ({option})": "选项的开头字符无效（{option}）",
    "Option {name!r} does not take a value.": "选项 {name} 后面不能跟值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name} 需要 {nargs} 个值。",
    "Value must be an iterable.": "应为多个值。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename}：{message}",
    "unknown error": "未知错误",
    "Aborted!": "已取消。",
    # values
    "Choose from:\n\t{choices}": "可选的值：\n\t{choices}",
    "Choice({choices})": "可选值（{choices}）",
    "{value} is not in the range {range}.": "{value} 不在允许的范围 {range} 之内。",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的数字。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是有效的是/否值，可用的值：{states}",
    "{value!r} is not a valid UUID.": "“{value}”不是有效的 UUID。",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename} 是一个文件。",
    "{name} {filename!r} is a directory.": "{name} {filename} 是一个目录。",
    "{name} {filename!r} is not readable.": "{name} {filename} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename} 无法执行。",
    # help
    "Usage:": "用法:",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "(dynamic)": "（动态）",
    "deprecated": "已停用",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": "提示：命令 {name} 已停用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "提示：{param_type} {name} 已停用。{extra_message}",
    # prompts
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接确认。",
    "Repeat for confirmation": "请再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入的内容不一致。",
    "Error: invalid input": "错误：输入无效",
    "Press any key to continue...": "按任意键继续……",
    "d": "天",
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
    "Unknown color {colour!r}": "未知的颜色 {colour}",
    "Unknown standard stream '{name}'": "未知的标准流“{name}”",
    "Windows error: {error}": "Windows 错误：{error}",
    "Couldn't detect Bash version, shell completion is not supported.": "无法识别 Bash 版本，不支持命令补全。",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以下的版本不支持命令补全。",
    # mistakes in a program's own declarations (not the user's), translated for completeness
    "Name '{name}' defined twice": "名称“{name}”定义了两次",
    "Could not determine name for option with declarations {decls!r}": "无法确定选项 {decls} 的名称",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?": "给了名称（{name}）却没有定义选项：是要声明参数，还是要写成“--{name}”？",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.":
        "参数只能有一个声明，实际有 {length} 个：{decls}。",
    "Boolean option {decl!r} cannot use the same flag for true/false.": "布尔选项 {decl} 的真、假两种写法不能相同。",
}

#: click's (singular, plural) message ids → Chinese (one form: Chinese nouns have no plural)
PLURALS: dict[tuple[str, str], str] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): "多余的参数（{args}）",
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        "选项 {name} 后面缺少值。",
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        "您是不是要输入 {possibilities}？",
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): "“{value}”不是可选的值，可选：{choices}。",
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        "“{value}”的格式不对，应为 {formats}（%Y 为年，%m 为月，%d 为日）。",
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        "需要 {nargs} 个值，实际给了 {len} 个。",
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."): "需要 {len_type} 个值，实际给了 {len_value} 个。",
}


class ChineseTranslations(gettext.NullTranslations):
    """gettext translations from :data:`MESSAGES` and :data:`PLURALS`; unknown ids pass through."""

    def gettext(self, message: str) -> str:
        return MESSAGES.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        found = PLURALS.get((msgid1, msgid2))
        if found is not None:
            return found
        return msgid1 if n == 1 else msgid2


TRANSLATIONS = ChineseTranslations()


def display_width(text: str) -> int:
    """Terminal columns of *text* (ANSI colours ignored): Chinese characters take two, so
    help columns line up."""
    plain = click.unstyle(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in plain)


@contextmanager
def chinese_click() -> Iterator[None]:
    """Within the block click prints its messages in Chinese and lines up Chinese help columns."""
    saved: list[tuple[Any, str, Any]] = []
    swaps = [(name, attr, ours) for name in CLICK_MODULES
             for attr, ours in (("_", TRANSLATIONS.gettext), ("ngettext", TRANSLATIONS.ngettext))]
    swaps.append(("click.formatting", "term_len", display_width))
    for name, attr, ours in swaps:
        module = importlib.import_module(name)
        if hasattr(module, attr):
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, ours)
    try:
        yield
    finally:
        for module, attr, theirs in reversed(saved):
            setattr(module, attr, theirs)


#: what an option's value is, by click's type name, where the usage line shows it
VALUE_WORDS = {"text": "文本", "integer": "整数", "integer range": "整数", "float": "数值", "float range": "数值",
               "directory": "目录", "file": "文件", "path": "路径", "filename": "文件", "datetime": "日期"}
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."


def name_values(command: click.Command) -> None:
    """Usage lines in Chinese: ``[选项]``, ``命令 [参数]...`` and what each option takes
    (an explicit metavar, a flag or a list of choices is left as it is)."""
    command.options_metavar = OPTIONS_METAVAR
    for param in command.params:
        if isinstance(param, click.Option) and param.metavar is None and not param.is_flag:
            param.metavar = VALUE_WORDS.get(param.type.name, param.metavar)
    if isinstance(command, click.Group):
        command.subcommand_metavar = SUBCOMMAND_METAVAR
        for sub in command.commands.values():
            name_values(sub)


class ChineseGroup(click.Group):
    """The root group: the whole command line — parsing, help, errors, ``Aborted!`` — in Chinese."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        name_values(self)
        with chinese_click():
            return super().main(args, *rest, **kwargs)
