"""Text templates (e-mails, receipts, bulletins) rendered with jinja2.

The office may reword any template: a file of the same name in ``<workspace>/templates``
wins over the default shipped in the package (``ledger/templates/``). Rendering is
strict, so a misspelt variable fails loudly instead of leaving a blank in an official text.
"""

from __future__ import annotations

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
    """A strict jinja2 environment: workspace templates first, then the defaults."""
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(p), encoding="utf-8") for p in search_path(ws)])
    return jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


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
