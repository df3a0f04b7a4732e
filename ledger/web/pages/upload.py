"""The upload area of 本期: returned files in, the same ``collect`` as ``ledger collect``, verdicts out.

Uploaded files are copied from Starlette's spooled temporary files into a folder of this
request under their own (cleaned) names and collected from there, each judged by its
content like any file on disk; the folder is removed afterwards whatever happens. The
page's script sends the files one request each, so that each verdict shows as soon as it
is judged; without the script the form sends them all at once and the verdicts come back
as a page.

A received time: the one typed into the form (like ``--received-at``), else the
modification time the browser reports for the file (the time it was saved from the mail
client, as for a loose file), else the time of collecting; an e-mail's own Date always wins.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from ledger.errors import InputError
from ledger.fsutil import safe_filename
from ledger.periods import CHINA
from ledger.problems import Problem
from ledger.web.files import catalogue
from ledger.web.security import Refused
from ledger.web.site import Site, read_form, render, site_of

FIELD = "files"
FRAGMENT_HEADER = "x-ledger-fragment"
MAX_NAME = 120


@dataclass
class Verdict:
    """One received file as the page shows it."""

    file: str
    unit: str
    outcome: str  # accepted | rejected | duplicate | superseded | other_period
    text: str
    received: str
    problems: list[Problem] = field(default_factory=list)
    receipt_id: str = ""
    submission_id: int | None = None


@dataclass
class Judged:
    """What one upload came to: a verdict per file, the run's own problems, a question when
    most files belong to another period (then nothing was stored)."""

    verdicts: list[Verdict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    other_period: list[str] = field(default_factory=list)
    wrong_period: str | None = None
    wrong_label: str = ""
    held: int = 0


def clean_name(raw: str | None, index: int) -> str:
    """The uploaded file's own name, without any folder the browser sent, safe on disk."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return safe_filename(name)[-MAX_NAME:] if name else f"上传文件{index + 1}"


def received_given(text: str | None) -> datetime | None:
    """The received time typed into the form (``2024-03-25 17:00``, as ``--received-at``), Beijing time."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("：", ":")).replace(tzinfo=CHINA)
    except ValueError:
        raise Refused(400, f"收到时间“{text}”格式不对，应为 2024-03-25 17:00 这样的日期和时间。") from None


def _stamp(path: Path, modified_ms: str | None, now: datetime) -> None:
    """Give the copy the modification time the browser reported; without one, a time after *now*,
    so that collecting takes the time of collecting (a copy's own time says nothing)."""
    try:
        moment = float(modified_ms) / 1000 if modified_ms else None
    except ValueError:
        moment = None
    if moment is None:
        moment = (now + timedelta(days=1)).timestamp()
    os.utime(path, (moment, moment))


def judge(site: Site, programme_id: str, key: str, paths: list[Path], given: datetime | None,
          other_periods: bool) -> Judged:
    """Collect *paths* for the period as ``ledger collect`` does; receipts and replies written."""
    from ledger.collect.api import collect
    from ledger.collect.outcome import outcome_text, run_problems, shown_problems
    from ledger.collect.receipts import RECEIPTS_DIR, write_receipts
    from ledger.mail.replies import write_replies
    from ledger.reporting import received_text

    with site.run(programme_id, key) as run:
        result = collect(run, paths, received_at=given, other_periods=other_periods)
        out = Judged(problems=run_problems(result), skipped=result.skipped)
        if result.wrong_period is not None:
            out.wrong_period, out.wrong_label, out.held = result.wrong_period, result.wrong_period_label(), result.held
            return out
        receipts = write_receipts(run, result)
        write_replies(run, receipts)
        by_key = {r.key: r for r in receipts}
        ids = {k.path: k.id for k in catalogue(run.out_dir()).values() if k.rel.startswith(RECEIPTS_DIR)}
        year = run.period.year
        for f in result.files:
            receipt = by_key.get(f.sha256)
            out.verdicts.append(Verdict(
                f.file, f.unit or "（单位不明）", f.outcome, outcome_text(f, by_key),
                received_text(f.received_at, f.received_source, year), shown_problems(f),
                ids.get(receipt.text_path, "") if receipt else "", f.submission_id,
            ))
        out.other_period = [f.file for f in result.other_period]
    return out


async def upload(request: Request) -> Response:
    """Take the uploaded files, collect them, show each file's verdict (a fragment for the page's script)."""
    site = site_of(request)
    p = request.path_params
    form = await read_form(request, upload=True)
    try:
        uploads = [v for v in form.getlist(FIELD) if isinstance(v, UploadFile)]
        if not uploads:
            raise Refused(400, "没有收到文件：请先选择要上传的文件。")
        given = received_given(_text(form.get("received_at")))
        modified = [_text(v) for v in form.getlist("modified")]
        with tempfile.TemporaryDirectory(prefix="ledger-upload-") as tmp:
            paths = await run_in_threadpool(_save, uploads, modified, Path(tmp), site.clock())
            try:
                judged = await run_in_threadpool(judge, site, p["programme"], p["period"], paths, given,
                                                 form.get("other_periods") == "1")
            except InputError as exc:
                raise Refused(400, str(exc)) from exc
    finally:
        await form.close()
    context: dict[str, Any] = {"judged": judged, "programme_id": p["programme"], "period_key": p["period"]}
    if request.headers.get(FRAGMENT_HEADER) == "1":
        return render(request, "_verdicts.html", context)
    ws = site.workspace()
    programme = ws.programme(p["programme"])
    from ledger.periods import parse_period

    context.update(programme=programme, period=parse_period(p["period"], programme.reporting.cycle))
    return render(request, "uploaded.html", context)


def _save(uploads: list[UploadFile], modified: list[str | None], folder: Path, now: datetime) -> list[Path]:
    """Each upload copied into a folder of its own (two files may have the same name)."""
    paths = []
    for i, item in enumerate(uploads):
        target = folder / str(i) / clean_name(item.filename, i)
        target.parent.mkdir()
        with target.open("wb") as out:
            item.file.seek(0)
            shutil.copyfileobj(item.file, out, 1024 * 1024)
        _stamp(target, modified[i] if i < len(modified) else None, now)
        paths.append(target)
    return paths


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
