"""Text templates (e-mails, receipts, bulletins) rendered with jinja2.

The office may reword any template: a file of the same name in ``<workspace>/templates``
wins over the default shipped in the package (``ledger/templates/``). Rendering is
strict, so a misspelt variable fails loudly instead of leaving a blank in an official text.

A process keeps one jinja2 environment per search path, so a template is compiled once and
then reused for every receipt or mail of a run (and of later runs in the same process); a
template file edited meanwhile, or a workspace template added in front of a default, is
loaded again.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from ledger.config import Workspace
from ledger.errors import LedgerError
from ledger.resources import TEMPLATES, shipped

DEFAULT_TEMPLATES = shipped(TEMPLATES)
WORKSPACE_TEMPLATES = "templates"


class TemplateMissing(LedgerError):
    """No template of that name in the workspace or the defaults."""


class TemplateBroken(LedgerError):
    """A template has a syntax error."""


class TemplateVariableError(LedgerError, jinja2.UndefinedError):
    """A template uses a variable the caller does not provide."""


def search_path(ws: Workspace | None) -> list[Path]:
    """Folders searched for templates, first match wins."""
    folders = [ws.root / WORKSPACE_TEMPLATES] if ws is not None else []
    folders.append(DEFAULT_TEMPLATES)
    return folders


def environment(ws: Workspace | None) -> jinja2.Environment:
    """The strict jinja2 environment of *ws*: workspace templates first, then the defaults
    (one per search path and process: see the module docstring)."""
    return _environment(tuple(str(p) for p in search_path(ws)))


@functools.lru_cache(maxsize=16)
def _environment(folders: tuple[str, ...]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=_FirstFound(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


class _FirstFound(jinja2.BaseLoader):
    """A template from the first of *folders* that has it; it goes out of date when its file
    changes or a file of the same name appears in an earlier folder."""

    def __init__(self, folders: tuple[str, ...]) -> None:
        self.folders = folders
        self.loaders = [jinja2.FileSystemLoader(folder, encoding="utf-8") for folder in folders]

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        for i, loader in enumerate(self.loaders):
            try:
                source, filename, uptodate = loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                continue
            return source, filename, _fresh(uptodate, [Path(folder) / template for folder in self.folders[:i]])
        raise jinja2.TemplateNotFound(template)


def _fresh(uptodate: Any, earlier: list[Path]) -> Any:
    """Whether a loaded template is still the one to use: its file unchanged, none in front of it."""
    return lambda: bool(uptodate()) and not any(path.is_file() for path in earlier)


def render(ws: Workspace | None, name: str, **context: Any) -> str:
    """Render template *name*; raise a :class:`LedgerError` naming the file on failure.

    A missing variable raises :class:`TemplateVariableError`, which is also a
    ``jinja2.UndefinedError``.
    """
    env = environment(ws)
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound:
        where = "、".join(str(p) for p in search_path(ws))
        raise TemplateMissing(f"找不到模板 {name}（已查找：{where}）。请检查模板文件名。") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateBroken(
            f"模板 {exc.filename or name} 第 {exc.lineno} 行有语法错误：{exc.message}。请改正后重试。"
        ) from exc
    try:
        return template.render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateVariableError(
            f"模板 {template.filename or name} 用到了未提供的变量（{exc.message}）。"
            "请检查模板中的变量名是否写错。"
        ) from exc
