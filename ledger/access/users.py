"""Office users of the web page: a name, a role and an argon2 hash of the password.

Roles (docs/web.md): ``viewer`` reads every page (leaders); ``clerk`` also takes in files,
generates workbooks and mail, consolidates and assesses; ``admin`` also manages units' links.
Users are added on the command line (``ledger users add``) by whoever runs ledger on the
office's computer.
"""

from __future__ import annotations

import functools
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledger.errors import InputError
from ledger.store import ROLES, OfficeUser, Role, Store

ROLE_NAMES: dict[str, str] = {"viewer": "查看", "clerk": "经办", "admin": "管理"}
MIN_PASSWORD = 8
MAX_NAME = 40
_HASHER = PasswordHasher()


@functools.cache
def _nobody() -> str:
    """Checked against when the name is unknown, so that a wrong name takes as long as a wrong password."""
    return _HASHER.hash("ledger: no such user")


def rank(role: str) -> int:
    """viewer < clerk < admin."""
    return ROLES.index(role)  # type: ignore[arg-type]


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InputError(f"用户名“{name}”不可用：请用 1 到 {MAX_NAME} 个字的名字，不含换行等特殊字符。")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"密码太短：至少 {MIN_PASSWORD} 个字符。")
    return password


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise InputError(f"角色“{role}”无效，应为 {'、'.join(f'{r}（{ROLE_NAMES[r]}）' for r in ROLES)} 之一。")
    return role  # type: ignore[return-value]


def add(store: Store, name: str, role: str, password: str, now: datetime) -> OfficeUser:
    return store.add_user(check_name(name), check_role(role), _HASHER.hash(check_password(password)), now)


def set_password(store: Store, name: str, password: str, now: datetime) -> None:
    if not store.set_password(name, _HASHER.hash(check_password(password)), now):
        raise InputError(f"没有名为“{name}”的用户。")


def verify(store: Store, name: str, password: str, now: datetime) -> OfficeUser | None:
    """The user when *password* is theirs, else None (a wrong name costs as much time as a wrong
    password). A hash made with weaker settings than today's is made again."""
    user = store.user(name.strip())
    try:
        _HASHER.verify(user.password_hash if user else _nobody(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        store.set_password(user.name, _HASHER.hash(password), now)
    return user
