"""Intake: folders, e-mails and zips become staged files with received times."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from conftest import reply_mail

from ledger.collect.intake import gather
from ledger.errors import InputError
from ledger.periods import CHINA
from ledger.problems import flatten

NOW = datetime(2022, 6, 11, 9, 0, tzinfo=CHINA)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_bytes(tmp_path: Path, text: str) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = text
    path = tmp_path / f"{text}.xlsx"
    wb.save(path)
    return path.read_bytes()


def _mail(path: Path, attachments: list[tuple[str, bytes]], date: str = "Fri, 10 Jun 2022 07:30:00 +0000") -> Path:
    return reply_mail(path, attachments, date=date)


def test_mail_attachment_takes_date_header_in_beijing_time(tmp_path: Path) -> None:
    data = _xlsx_bytes(tmp_path, "a")
    box = tmp_path / "inbox"
    box.mkdir()
    _mail(box / "reply.eml", [("2022-W23_市交通运输局_工作台账.xlsx", data)])
    intake = gather([box], tmp_path / "stage", now=NOW)
    assert len(intake.items) == 1
    item = intake.items[0]
    assert item.received_at == datetime(2022, 6, 10, 15, 30, tzinfo=CHINA)
    assert item.received_source == "email"
    assert item.name == "reply.eml / 2022-W23_市交通运输局_工作台账.xlsx"
    assert item.path.read_bytes() == data
    assert "jt@example.org" in item.sender


def test_mail_without_attachment_is_a_warning(tmp_path: Path) -> None:
    _mail(tmp_path / "empty.eml", [])
    intake = gather([tmp_path / "empty.eml"], tmp_path / "stage", now=NOW)
    assert intake.items == []
    assert flatten(intake.problems, ("code", "file")) == [("mail-no-attachment", "empty.eml")]


def test_bad_mail_date_falls_back_to_collection_time(tmp_path: Path) -> None:
    data = _xlsx_bytes(tmp_path, "b")
    mail = _mail(tmp_path / "odd.eml", [("台账.xlsx", data)])
    mail.write_bytes(mail.read_bytes().replace(b"Fri, 10 Jun 2022 07:30:00 +0000", b"not a date"))
    intake = gather([tmp_path / "odd.eml"], tmp_path / "stage", now=NOW)
    assert intake.items[0].received_at == NOW and intake.items[0].received_source == "collected"
    assert [p.code for p in intake.problems] == ["mail-bad-date"]


def test_zip_members_with_gbk_names_and_owner_files_skipped(tmp_path: Path) -> None:
    data = _xlsx_bytes(tmp_path, "c")
    archive = tmp_path / "all.zip"
    gbk = "台账/市住建局.xlsx".encode("gbk")
    placeholder = b"Q" * len(gbk)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(placeholder.decode(), data)
        zf.writestr("~$市住建局.xlsx", b"owner")
        zf.writestr("readme.txt", b"hello")
        zf.writestr("inner.zip", b"PK\x05\x06" + b"\0" * 18)
    # As Windows' zip tools write it: GBK bytes without the UTF-8 flag.
    archive.write_bytes(archive.read_bytes().replace(placeholder, gbk))
    intake = gather([archive], tmp_path / "stage", now=NOW)
    # a zip inside the zip is not opened: refused on its own (recorded, with a receipt), the rest is taken
    assert [i.name for i in intake.items] == ["all.zip / inner.zip", "all.zip / 台账/市住建局.xlsx"]
    nested = intake.items[0].refusal
    assert nested is not None and [p.code for p in nested.problems] == ["archive-nested"]
    assert intake.items[1].refusal is None
    assert sorted(p.code for p in intake.problems) == ["file-skipped"]


def test_folder_walk_skips_lock_files_and_dedupes(tmp_path: Path) -> None:
    data = _xlsx_bytes(tmp_path, "d")
    box = tmp_path / "box"
    (box / "sub").mkdir(parents=True)
    (box / "sub" / "x.xlsx").write_bytes(data)
    (box / "~$x.xlsx").write_bytes(b"lock")
    (box / ".~lock.x.xlsx#").write_bytes(b"lock")
    intake = gather([box, box / "sub" / "x.xlsx"], tmp_path / "stage", now=NOW)
    assert [i.name for i in intake.items] == ["x.xlsx"]
    assert intake.items[0].received_source == "collected" and intake.items[0].received_at == NOW


def test_a_zip_is_opened_by_its_content_unless_named_as_a_spreadsheet(tmp_path: Path) -> None:
    """A zip of workbooks is a container; the same zip renamed to .xlsx is one file to judge
    (and refuse), and a mail renamed to .xlsx is still a mail: content decides, except that a
    zip named as a spreadsheet is never unpacked as a batch."""
    data = _xlsx_bytes(tmp_path, "z")
    box = tmp_path / "box"
    box.mkdir()
    for name in ("batch.zip", "batch.xlsx"):
        with zipfile.ZipFile(box / name, "w") as zf:
            zf.writestr("市住建局.xlsx", data)
    (box / "mail.xlsx").write_bytes(_mail(tmp_path / "m.eml", [("市交通运输局.xlsx", data)]).read_bytes())
    intake = gather([box], tmp_path / "stage", now=NOW)
    assert sorted(i.name for i in intake.items) == [
        "batch.xlsx", "batch.zip / 市住建局.xlsx", "mail.xlsx / 市交通运输局.xlsx"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="找不到"):
        gather([tmp_path / "nope"], tmp_path / "stage", now=NOW)
