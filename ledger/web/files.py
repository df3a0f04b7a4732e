"""Downloads by id: only files ledger wrote into a period's or a month's folder of ``out/``,
or originals the history store recorded; never a path taken from the request.

A file's id is a hash of its place inside the folder (``templates/2022-W23_市交通运输局_工作台账.xlsx``),
so a link stays valid while the file is there; the request's id is looked up among the
files that are there now (a listing of known sub-folders, links and hidden files left
out), so an id that is not one of them, or that looks like a path, is simply not found.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import FileResponse, Response

from ledger.web.security import Refused

#: the sub-folders of ``out/<programme>/<period or month>/`` whose files may be downloaded
FOLDERS = ("", "templates", "outbox", "outbox/sent", "outbox/withdrawn", "receipts", "receipts/sent")
MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
    ".eml": "message/rfc822",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".html": "application/octet-stream",  # downloaded, never shown as this site's page
    ".zip": "application/zip",
}
_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class Known:
    """A file that may be downloaded: its id, where it is, its place in its folder."""

    id: str
    path: Path
    rel: str

    @property
    def name(self) -> str:
        return self.path.name


def file_id(rel: str) -> str:
    return hashlib.sha256(rel.encode("utf-8")).hexdigest()[:16]


def catalogue(folder: Path, folders: Iterable[str] = FOLDERS) -> dict[str, Known]:
    """The downloadable files directly in *folder*'s known sub-folders, by id."""
    found: dict[str, Known] = {}
    for sub in folders:
        here = folder / sub if sub else folder
        if not here.is_dir() or here.is_symlink():
            continue
        for path in sorted(here.iterdir()):
            if path.name.startswith((".", "~$")) or path.is_symlink() or not path.is_file() \
                    or path.suffix.lower() not in MEDIA_TYPES:
                continue
            rel = f"{sub}/{path.name}" if sub else path.name
            found[file_id(rel)] = Known(file_id(rel), path, rel)
    return found


def lookup(folder: Path, fid: str) -> Known:
    """The known file *fid* of *folder*, or a 404 :class:`Refused`."""
    known = catalogue(folder).get(fid) if _ID.match(fid) else None
    if known is None:
        raise Refused(404, "没有这个文件（可能已被删除或重新生成），请回到页面重新下载。")
    return known


def download(path: Path, name: str | None = None) -> Response:
    """*path* as an attachment named *name*, its type by its suffix (never this site's HTML)."""
    media = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media, filename=name or path.name, content_disposition_type="attachment")


def zip_response(files: Iterable[Path], name: str) -> Response:
    """*files* as one .zip (stored: workbooks are compressed already)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for path in files:
            zf.write(path, path.name)
    return Response(buffer.getvalue(), media_type=MEDIA_TYPES[".zip"],
                    headers={"content-disposition": _disposition(name)})


def _disposition(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=utf-8''{quote(name)}"
