import pytest

from ledger.errors import WorkspaceError
from ledger.fsutil import TMP_SUFFIX, atomic_path, clean_stale_temp, write_bytes_atomic


def test_failed_write_keeps_old_file(tmp_path):
    target = tmp_path / "汇总表.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert not list(tmp_path.glob(f"*{TMP_SUFFIX}"))


def test_write_replaces(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkspaceError, match="无法写入"):
        write_bytes_atomic(blocker / "a.txt", b"x")


def test_stale_temp_cleaned(tmp_path):
    stale = tmp_path / f".x.xlsx.abc{TMP_SUFFIX}"
    stale.write_text("x")
    assert clean_stale_temp(tmp_path) == [stale]
    assert not stale.exists()
