"""A parsed copy of each programme's registry and of the units directory, so that commands
start in a fraction of a second.

The workbooks stay the one source the office edits: a copy is used only while the
workbook's bytes (its SHA-256) and the code that parses it are the same as when the copy
was made, and is rebuilt otherwise. It lives in ``out/.cache/`` (generated output, never
committed); a copy that cannot be written or read is simply not used.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ledger import __version__
from ledger.config import Workspace
from ledger.errors import InputError, LedgerError
from ledger.fsutil import write_bytes_atomic
from ledger.problems import Problem
from ledger.registry.model import Registry

if TYPE_CHECKING:
    from ledger.registry.units import UnitDirectory

CACHE_DIR = ".cache"
Parsed = tuple[Registry, list[Problem]]
T = TypeVar("T")
#: current copies from this size on (a registry of about 1,000 tasks) have their objects frozen once read
FREEZE_BYTES = 1 << 20
#: the modules each kind of copy is parsed by (their code is part of the copy's key)
PARSERS = {"registry": ("model.py", "workbook.py", "cache.py"), "units": ("units.py", "cache.py")}


def parser_fingerprint() -> str:
    """What a parsed registry depends on besides the workbook: this version of the parsing code."""
    return fingerprint("registry")


@cache
def fingerprint(kind: str) -> str:
    """This version of the code that parses *kind* (a key of :data:`PARSERS`)."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for name in PARSERS[kind]:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def cache_path(ws: Workspace, programme_id: str) -> Path:
    return ws.paths.out / CACHE_DIR / f"registry-{programme_id}.pickle"


def cached(ws: Workspace, programme_id: str, workbook: Path, parse: Callable[[], Parsed]) -> Parsed:
    """The parsed registry of *workbook*: the stored copy when it is current, else *parse()*
    (and the copy replaced). The copy keeps the registry's content hash too (a second of work
    on 50,000 tasks that every generate run would repeat)."""
    registry, problems, digest = _cached(cache_path(ws, programme_id), parser_fingerprint(), programme_id, workbook,
                                         lambda: _with_hash(parse()))
    registry.remember_hash(digest)
    return registry, problems


def _with_hash(parsed: Parsed) -> tuple[Registry, list[Problem], str]:
    return parsed[0], parsed[1], parsed[0].content_hash()


def load_directory(ws: Workspace) -> UnitDirectory:
    """The units directory (source_data/units.xlsx), refused when a row is wrong (see
    :meth:`UnitDirectory.load`); from its parsed copy while the workbook is unchanged."""
    from ledger.registry.units import UnitDirectory

    path = ws.paths.units
    if not path.is_file():
        raise InputError(f"找不到单位名录 {ws.shown(path)}。运行 ledger units add --from 通知文件 "
                         "可以按通知中的单位建立名录（之后在 Excel 中核对、填写邮箱）。")
    return _cached(ws.paths.out / CACHE_DIR / "units.pickle", fingerprint("units"), str(path), path,
                   lambda: UnitDirectory.load(path))


def _cached(target: Path, code: str, name: str, workbook: Path, parse: Callable[[], T]) -> T:
    """What *parse()* makes of *workbook*: the copy at *target* when it is current (same *code*
    fingerprint, same workbook bytes, same *name*), else parsed again (and the copy replaced)."""
    data = workbook.read_bytes()
    key = (code, hashlib.sha256(data).hexdigest(), name)
    stored = _load(target, key)
    if stored is not None:
        return stored  # type: ignore[no-any-return]
    parsed = parse()
    with contextlib.suppress(OSError, LedgerError):  # no copy (read-only out/, full disk): read the workbook next time
        write_bytes_atomic(target, pickle.dumps((key, parsed), protocol=pickle.HIGHEST_PROTOCOL))
    return parsed


def _load(path: Path, key: tuple[str, str, str]) -> Any:
    """The parsed copy stored under *key*, or None when there is none, it cannot be read or it
    was made under another key (a changed workbook or parser).

    Unpickling a registry of 50,000 tasks creates a million objects: with the cyclic GC
    paused it takes 0.16 s instead of 1.5 s. A large current copy's objects are then frozen
    (kept out of the cyclic GC, :func:`gc.freeze`) before the GC resumes: they live as long as
    the command, and the collector would otherwise walk all of them three times as they age
    (0.5 s of a 1,000-file collect). Reference counting still frees them; a small copy (a
    test's, the demo's) and a stale one, dropped at once, are left alone.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    enabled = gc.isenabled()
    gc.disable()
    try:
        stored = pickle.loads(raw)
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
            return None
        if len(raw) >= FREEZE_BYTES:
            gc.freeze()
    except Exception:  # noqa: BLE001 - a damaged or foreign copy is not used, the workbook is read instead
        return None
    finally:
        if enabled:
            gc.enable()
    return stored[1]
