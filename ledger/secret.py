"""The workspace's secret: the key of the checksums that ``generate`` writes into each 工作台账.

A returned workbook is checked against what the office recorded when it sent it
(:class:`ledger.store.model.Manifest`); the checksums in the workbook's hidden sheet are
HMAC-SHA256 under this key, so nobody without it can write checksums that pass. The key is
made on first use: 32 random bytes, hex in ``.ledger-secret`` at the workspace's root (mode
600; never in ``out/``, whose files leave the office, nor in a workbook), and the workspace's
``.gitignore`` lists it. Losing it makes the records of workbooks already sent uncheckable:
keep it with the workspace (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ledger.errors import WorkspaceError
from ledger.fsutil import write_error

SECRET_NAME = ".ledger-secret"
GITIGNORE = ".gitignore"
_KEY_BYTES = 32


def secret_path(root: Path) -> Path:
    return Path(root) / SECRET_NAME


def workspace_key(root: Path) -> bytes:
    """The key of the workspace at *root*, made (and listed in its .gitignore) when there is none.

    Two commands making it at once end with the same key: the file appears whole or not at all
    (a hard link of a finished temporary file), and the loser reads the winner's.
    """
    path = secret_path(root)
    if not path.exists():
        _create(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"无法读取工作区密钥 {path}：{getattr(exc, 'strerror', None) or exc}。请检查该文件的读取权限。") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != _KEY_BYTES:
        raise WorkspaceError(
            f"工作区密钥 {path} 已损坏（应为 {_KEY_BYTES * 2} 位十六进制数）。请从备份中恢复该文件；"
            "没有备份时删除它，ledger 会新建一个，但此前发出的台账须重新生成、重新发出。")
    return key


def key_id(key: bytes) -> str:
    """A name for *key* that does not give it away: which key made a record or a workbook."""
    return hmac.new(key, b"ledger key id", hashlib.sha256).hexdigest()[:8]


def _create(path: Path) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (secrets.token_hex(_KEY_BYTES) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another command made it first: theirs counts
            os.link(tmp, path)
    except OSError as exc:
        raise write_error(path, exc) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    _ignore_in_git(path)


def _ignore_in_git(path: Path) -> None:
    """List the secret in the workspace's .gitignore (made if missing), so a workspace kept in git
    does not publish it."""
    ignore = path.with_name(GITIGNORE)
    line = f"/{path.name}"
    try:
        text = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
        if line not in text.splitlines() and path.name not in text.splitlines():
            sep = "" if not text or text.endswith("\n") else "\n"
            with open(ignore, "a", encoding="utf-8") as fh:
                fh.write(f"{sep}# ledger：工作区密钥，不要提交、不要外发\n{line}\n")
    except OSError:
        pass  # the key works all the same; a workspace without git needs no .gitignore
