import dataclasses
import hashlib
import multiprocessing
import sqlite3
import stat
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ledger.errors import LedgerError
from ledger.problems import Problem
from ledger.store import Entry, Manifest, Received, StoreError, journal, open_store, schema
from ledger.store import sqlite as store_sqlite

T0 = datetime(2022, 6, 10, 15, 0, tzinfo=timezone(timedelta(hours=8)))


def received(
    data: bytes,
    *,
    unit: str | None = "市交通运输局",
    period: str = "2022-W23",
    at: datetime = T0,
    outcome: str = "accepted",
    problems: tuple[Problem, ...] = (),
    entries: tuple[Entry, ...] | None = None,
    programme: str = "351",
    name: str = "交通台账.xlsx",
) -> Received:
    if entries is None:
        entries = (
            (Entry("351-A1-1", 5, "完成设计", "累计完成40%", 40, "正常推进", "", "开工", "", ""),
             Entry("351-A1-2", 6, "=1+1 已招标", "", None, "滞后", "资金未到位", "", "市财政局", "备注"))
            if outcome == "accepted" else ()
        )
    return Received(
        sha256=hashlib.sha256(data).hexdigest(),
        source_name=name,
        data=data,
        detected_type="xlsx",
        received_at=at,
        received_source="email",
        sender="jt@example.org",
        programme=programme,
        period=period,
        unit=unit,
        outcome=outcome,  # type: ignore[arg-type]
        problems=problems,
        entries=entries,
    )


def dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "out" / "ledger.sqlite") as s:
        yield s


def test_same_bytes_twice_is_one_row(store):
    first = store.ingest(received(b"file-1"))
    again = store.ingest(received(b"file-1", at=T0 + timedelta(days=1), name="改名.xlsx"))
    assert first.outcome == "accepted"
    assert again.outcome == "duplicate"
    assert again.id == first.id and again.source_name == "交通台账.xlsx"
    assert [s.id for s in store.history("351")] == [first.id]
    assert len(store.audit()) == 1
    assert store.submission(first.id).outcome == "accepted"


def test_newer_submission_supersedes_and_both_stay(store):
    old = store.ingest(received(b"v1"))
    new = store.ingest(received(b"v2", at=T0 + timedelta(hours=2)))
    assert new.outcome == "accepted"
    assert [(s.id, s.outcome) for s in store.history("351", "市交通运输局")] == [
        (old.id, "superseded"), (new.id, "accepted")]
    assert store.submission(old.id).superseded_by == new.id
    assert [s.id for s in store.current_submissions("351", "2022-W23")] == [new.id]
    assert len(store.entries(old.id)) == 2  # the superseded report keeps its rows


def test_older_file_arriving_late_does_not_replace_the_newer(store):
    new = store.ingest(received(b"v2", at=T0 + timedelta(hours=2)))
    late = store.ingest(received(b"v1", at=T0))
    assert late.outcome == "superseded" and late.superseded_by == new.id
    assert [s.id for s in store.current_submissions("351", "2022-W23")] == [new.id]


def test_same_time_later_ingest_wins_and_naive_times_compare(store):
    a = store.ingest(received(b"a", at=datetime(2022, 6, 10, 7, 0, tzinfo=UTC)))
    b = store.ingest(received(b"b", at=datetime(2022, 6, 10, 15, 0, tzinfo=timezone(timedelta(hours=8)))))
    assert store.submission(a.id).outcome == "superseded"
    assert b.outcome == "accepted"
    naive_late = store.ingest(received(b"c", at=(T0 + timedelta(days=1)).astimezone().replace(tzinfo=None)))
    assert naive_late.outcome == "accepted"
    assert store.submission(b.id).outcome == "superseded"


def test_rejected_kept_with_problems_and_never_supersedes(store):
    ok = store.ingest(received(b"ok"))
    bad = Problem(code="bad-percent", severity="error", message="完成比例应为0—100", file="x.xlsx",
                  cell="F6", task="351-A1-2", value="150")
    hint = Problem(code="late", severity="warning", message="逾期报送")
    rej = store.ingest(received(b"bad", at=T0 + timedelta(hours=1), outcome="rejected", problems=(hint, bad),
                                entries=(Entry("351-A1-1", 5),)))
    assert rej.outcome == "rejected"
    assert rej.problems == (hint, bad)
    assert store.entries(rej.id) == []
    assert store.submission(ok.id).outcome == "accepted"
    assert [s.id for s in store.current_submissions("351", "2022-W23")] == [ok.id]
    row = store.audit()[-1]
    assert (row["verdict"], row["reason_code"]) == ("rejected", "bad-percent")
    assert "完成比例" in row["message"]


def test_current_is_latest_rejected_when_nothing_accepted(store):
    store.ingest(received(b"r1", outcome="rejected", at=T0))
    r2 = store.ingest(received(b"r2", outcome="rejected", at=T0 + timedelta(hours=1)))
    other = store.ingest(received(b"o", unit="市文明办"))
    store.ingest(received(b"nobody", unit=None, outcome="rejected"))
    current = store.current_submissions("351", "2022-W23")
    assert [(s.unit, s.id) for s in current] == sorted([("市交通运输局", r2.id), ("市文明办", other.id)])
    assert len(store.history("351")) == 4


def test_entries_round_trip(store):
    entries = (
        Entry("351-A1-2", 7, "进展\n第二行", "累计", 100, "已完成", "问题", "下步", "需协调", "备注"),
        Entry("351-A1-1", 6, "", "", 0, "", "", "", "", ""),
    )
    sub = store.ingest(received(b"e", entries=entries))
    assert store.entries(sub.id) == [entries[1], entries[0]]


def test_last_accepted_before_across_periods(store):
    w20 = store.ingest(received(b"w20", period="2022-W20"))
    store.ingest(received(b"w21", period="2022-W21", outcome="rejected"))
    store.ingest(received(b"w22a", period="2022-W22"))
    w22b = store.ingest(received(b"w22b", period="2022-W22", at=T0 + timedelta(hours=1),
                                 entries=(Entry("351-A1-9", 5, "最新", "", 80, "", "", "", "", ""),)))
    store.ingest(received(b"monthly", period="2022-06"))
    sub, entries = store.last_accepted_before("351", "2022-W23", "市交通运输局")
    assert sub.id == w22b.id and [e.task_id for e in entries] == ["351-A1-9"]
    assert store.last_accepted_before("351", "2022-W22", "市交通运输局")[0].id == w20.id
    assert store.last_accepted_before("351", "2022-W20", "市交通运输局") is None
    assert store.last_accepted_before("351", "2022-W23", "市文明办") is None
    assert store.last_accepted_before("351", "2022-07", "市交通运输局")[0].period == "2022-06"


def test_audit_row_per_file(store):
    store.ingest(received(b"a1"))
    store.ingest(received(b"a2", at=T0 + timedelta(minutes=5)))
    store.ingest(received(b"a2"))
    rows = store.audit()
    assert [r["sha256"] for r in rows] == [hashlib.sha256(d).hexdigest() for d in (b"a1", b"a2")]
    assert rows[1]["sender"] == "jt@example.org" and rows[1]["size"] == 2
    assert rows[1]["detected_type"] == "xlsx" and rows[1]["tool_version"]
    assert "取代" in rows[1]["message"]


def test_archive_is_read_only_and_identical(store, tmp_path):
    data = b"PK\x03\x04 original bytes \x00\xff"
    sub = store.ingest(received(data))
    sha = hashlib.sha256(data).hexdigest()
    assert sub.archived_path == tmp_path / "out" / "archive" / sha[:2] / f"{sha}.xlsx"
    assert sub.archived_path.read_bytes() == data
    assert stat.S_IMODE(sub.archived_path.stat().st_mode) == 0o444
    assert store.ingest(received(data)).outcome == "duplicate"  # the read-only copy is reused
    assert sub.archived_path.read_bytes() == data


def test_damaged_archive_copy_is_replaced(store):
    sub = store.ingest(received(b"keep me"))
    sub.archived_path.chmod(0o644)
    sub.archived_path.write_bytes(b"damaged")
    store.ingest(received(b"keep me"))
    assert sub.archived_path.read_bytes() == b"keep me"


def test_wrong_hash_is_refused_before_writing(store, tmp_path):
    bad = received(b"x")
    bad = Received(**{**bad.__dict__, "sha256": hashlib.sha256(b"y").hexdigest()})
    with pytest.raises(ValueError):
        store.ingest(bad)
    assert store.history("351") == []
    assert not (tmp_path / "out" / "archive").exists()


@pytest.mark.parametrize("bad_entries", [
    (Entry("351-A1-1", 5), Entry("351-A1-1", 6)),  # same task twice
    (Entry("351-A1-1", 5, percent=150),),
    (Entry("", 5),),
])
def test_failed_ingest_leaves_database_unchanged(store, bad_entries):
    store.ingest(received(b"first"))
    before = dump(store.path)
    with pytest.raises(StoreError, match="未作任何改动"):
        store.ingest(received(b"second", at=T0 + timedelta(hours=1), entries=bad_entries))
    assert dump(store.path) == before
    # the store's own connection sees no leftovers of the failed transaction either
    assert [s.outcome for s in store.history("351")] == ["accepted"]
    assert len(store.audit()) == 1


def test_exception_after_supersede_rolls_everything_back(store, monkeypatch):
    first = store.ingest(received(b"first"))
    before = dump(store.path)

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-transaction")

    monkeypatch.setattr(store_sqlite, "_reason", boom)
    with pytest.raises(RuntimeError):
        store.ingest(received(b"second", at=T0 + timedelta(hours=1)))
    assert dump(store.path) == before
    monkeypatch.undo()
    assert store.submission(first.id).outcome == "accepted"
    assert store.ingest(received(b"second", at=T0 + timedelta(hours=1))).outcome == "accepted"


def test_bulletin_numbers_stable_and_increasing(tmp_path):
    db = tmp_path / "s.sqlite"
    with open_store(db) as s:
        assert s.next_bulletin_number("351", "2022-06") == 1
        assert s.next_bulletin_number("351", "2022-07") == 2
        assert s.next_bulletin_number("351", "2022-06") == 1
        assert s.next_bulletin_number("pingtai", "2022-07") == 1
    with open_store(db) as s:
        assert s.next_bulletin_number("351", "2022-07") == 2
        assert s.next_bulletin_number("351", "2022-05") == 3  # numbers follow issue order


def test_lights_replace_per_period(store):
    store.save_lights("351", "2022-06", [{"task_id": "351-A1-1", "light": "红", "due": date(2022, 6, 30)}])
    store.save_lights("351", "2022-06", [{"task_id": "351-A1-2", "light": "绿"}, {"task_id": "351-A1-1",
                                                                                 "light": "黄"}])
    store.save_lights("351", "2022-07", [{"task_id": "351-A1-1", "light": "绿"}])
    assert store.lights("351", "2022-06") == [{"task_id": "351-A1-2", "light": "绿"},
                                               {"task_id": "351-A1-1", "light": "黄"}]
    store.save_lights("351", "2022-08", [{"due": date(2022, 8, 31)}])
    assert store.lights("351", "2022-08") == [{"due": "2022-08-31"}]
    with pytest.raises(ValueError):
        store.save_lights("351", "2022-09", [{"x": object()}])
    assert store.lights("351", "2022-09") == []


def test_urls_and_unsupported_databases(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/u.sqlite") as s:
        assert s.path == tmp_path / "u.sqlite"
    with pytest.raises(LedgerError, match="暂不支持") as info:
        open_store("postgresql://user:secret@db.example.org/ledger")
    assert "secret" not in str(info.value)


def test_not_a_database(tmp_path):
    bogus = tmp_path / "ledger.sqlite"
    bogus.write_bytes(b"this is a spreadsheet, not a database" * 20)
    with pytest.raises(StoreError, match="不是可用的 ledger 数据库"):
        open_store(bogus)


def test_newer_schema_refused_and_migration_hook_runs(tmp_path, monkeypatch):
    db = tmp_path / "s.sqlite"
    open_store(db).close()
    current = schema.SCHEMA_VERSION
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (current,)
    conn.close()

    def to_next(c: sqlite3.Connection) -> None:
        c.execute("ALTER TABLE files ADD COLUMN checked_by TEXT")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", {**schema.MIGRATIONS, current + 1: to_next})
    open_store(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (current + 1,)
    assert "checked_by" in [r[1] for r in conn.execute("PRAGMA table_info(files)")]
    conn.close()
    monkeypatch.undo()
    with pytest.raises(StoreError, match="升级 ledger"):
        open_store(db)


def test_version_1_scores_move_to_their_own_table(tmp_path):
    """A store written by the previous version kept monthly scores among the lights as
    ``score:<month>``: opening it moves them to the scores table, in order, and leaves the lights."""
    db = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    schema.upgrade(conn, target=1)
    rows = [("351", "score:2022-06", 0, '{"unit": "市甲局", "rank": 1}'),
            ("351", "score:2022-06", 1, '{"unit": "市乙局", "rank": 2}'),
            ("351", "2022-W25", 0, '{"task_id": "T1", "unit": "市甲局", "light": "green"}')]
    conn.executemany("INSERT INTO lights (programme, period, position, data) VALUES (?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    with open_store(db) as store:
        assert store.scores("351", "2022-06") == [{"unit": "市甲局", "rank": 1}, {"unit": "市乙局", "rank": 2}]
        assert store.lights("351", "score:2022-06") == []
        assert store.lights("351", "2022-W25") == [{"task_id": "T1", "unit": "市甲局", "light": "green"}]


def test_version_2_files_take_the_new_received_sources_and_keep_their_ids(tmp_path):
    """Schema 3 rebuilds ``files`` so that received_source may be 'mtime' or 'given': ids,
    references (superseded_by, entries, audit), indexes and the other constraints survive."""
    db = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    schema.upgrade(conn, target=2)
    insert = ("INSERT INTO files (id, sha256, source_name, size, detected_type, received_at, received_source, "
              "programme, period, unit, outcome, superseded_by, archived_path) VALUES (?, ?, ?, 1, 'xlsx', ?, ?, "
              "'351', '2022-W23', '市交通运输局', ?, NULL, 'x')")
    conn.execute(insert, (7, "a" * 64, "old.xlsx", "2022-06-09T07:00:00.000000+00:00", "email", "superseded"))
    conn.execute(insert, (9, "b" * 64, "new.xlsx", "2022-06-10T07:00:00.000000+00:00", "collected", "accepted"))
    conn.execute("UPDATE files SET superseded_by = 9 WHERE id = 7")
    conn.execute("INSERT INTO entries VALUES (9, '351-A1-01', 4, '完成', '', 50, '按序时推进', '', '', '', '')")
    conn.execute("INSERT INTO audit (id, recorded_at, file_id, received_at, received_source, sender, source_name, "
                 "sha256, size, detected_type, verdict, reason_code, message, tool_version) "
                 "VALUES (3, 't', 9, 't', 'collected', '', 'new.xlsx', 'b', 1, 'xlsx', 'accepted', '', '已采用', '0')")
    conn.execute("COMMIT")
    conn.close()
    with open_store(db) as store:
        assert [(s.id, s.outcome, s.superseded_by) for s in store.history("351")] == \
            [(7, "superseded", 9), (9, "accepted", None)]
        assert [e.task_id for e in store.entries(9)] == ["351-A1-01"]
        assert [(a["id"], a["file_id"]) for a in store.audit()] == [(3, 9)]
        stored = store.ingest(dataclasses.replace(received(b"saved from the inbox", period="2022-W24"),
                                                  received_source="mtime"))
        assert store.submission(stored.id).received_source == "mtime"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys = ON")
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (schema.SCHEMA_VERSION,)  # 3, then on
    assert {"files_by_key", "files_by_unit", "files_one_accepted"} <= {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files'")}
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE files SET received_source = 'guessed' WHERE id = 9")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE files SET superseded_by = 99 WHERE id = 9")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO entries VALUES (99, 'x', 1, '', '', NULL, '', '', '', '', '')")
    conn.close()


# --- two processes, one store ----------------------------------------------------------------

FILES = 40
UNITS = 8


def forty() -> list[Received]:
    """40 distinct files: 8 units x 2 weeks, several versions per key, some rejected."""
    out = []
    for i in range(FILES):
        out.append(received(
            f"file {i}".encode() * 50,
            unit=f"单位{i % UNITS}",
            period=f"2022-W{20 + (i // UNITS) % 2}",
            at=T0 + timedelta(minutes=i),
            outcome="rejected" if i % 7 == 3 else "accepted",
            name=f"{i}.xlsx",
        ))
    return out


def _ingest_worker(db: str, reverse: bool, barrier, results, batch: int = 1) -> None:
    files = forty()
    if reverse:
        files.reverse()
    errors, stored = [], 0
    with open_store(db) as s:
        barrier.wait(timeout=30)
        for start in range(0, len(files), batch):
            try:
                subs = s.ingest_many(files[start:start + batch])
                stored += sum(1 for sub in subs if sub.outcome != "duplicate")
            except Exception as exc:  # counted, not raised: the test reports them all
                errors.append(repr(exc))
    results.put((stored, errors))


@pytest.mark.parametrize("batch", [1, 6], ids=["file-by-file", "batches"])
def test_two_processes_ingest_same_files_exactly_once(tmp_path, batch):
    db = tmp_path / "ledger.sqlite"
    open_store(db).close()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_ingest_worker, args=(str(db), rev, barrier, results, batch))
             for rev in (False, True)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.perf_counter() - start
    print(f"two-process ingest: {elapsed:.2f} s, stored {[o[0] for o in outcomes]}, "
          f"errors {[len(o[1]) for o in outcomes]}")
    assert [p.exitcode for p in procs] == [0, 0]
    assert [e for o in outcomes for e in o[1]] == []
    assert sum(o[0] for o in outcomes) == FILES

    expected = forty()
    with open_store(db) as s:
        history = s.history("351")
        assert len(history) == FILES
        assert sorted(h.sha256 for h in history) == sorted(r.sha256 for r in expected)
        assert len(s.audit()) == FILES
        # whatever the order of arrival, the latest accepted file of each unit and week counts
        for week in ("2022-W20", "2022-W21"):
            want = {}
            for r in expected:
                if r.period == week and r.outcome == "accepted":
                    want[r.unit] = r.sha256
            got = {c.unit: c.sha256 for c in s.current_submissions("351", week) if c.outcome == "accepted"}
            assert got == want
            assert all(len(s.entries(c.id)) == 2 for c in s.current_submissions("351", week)
                       if c.outcome == "accepted")


# --- batches and originals archived by the caller ---------------------------------------------


def test_batch_is_one_transaction_with_the_same_outcomes_as_one_by_one(store, tmp_path):
    batch = [received(b"v1"), received(b"v2", at=T0 + timedelta(hours=1)), received(b"v1"),
             received(b"bad", outcome="rejected", at=T0 + timedelta(hours=2)),
             received(b"o", unit="市文明办")]
    subs = store.ingest_many(batch)
    assert [s.outcome for s in subs] == ["accepted", "accepted", "duplicate", "rejected", "accepted"]
    assert subs[2].id == subs[0].id
    by_id = {s.id: s for s in store.history("351")}
    assert by_id[subs[0].id].outcome == "superseded" and by_id[subs[0].id].superseded_by == subs[1].id
    assert [r["file_id"] for r in store.audit()] == [subs[i].id for i in (0, 1, 3, 4)]
    one = open_store(tmp_path / "one.sqlite")
    try:
        singles = [one.ingest(r) for r in batch]
        assert [s.outcome for s in singles] == [s.outcome for s in subs]
    finally:
        one.close()


def test_a_bad_file_in_a_batch_leaves_the_database_unchanged(store):
    store.ingest(received(b"first"))
    before = dump(store.path)
    bad = received(b"second", at=T0 + timedelta(hours=1), entries=(Entry("351-A1-1", 5, percent=150),))
    with pytest.raises(StoreError, match="second|交通台账"):
        store.ingest_many([received(b"fine", unit="市文明办"), bad])
    assert dump(store.path) == before


def test_original_archived_by_the_caller_is_checked_then_recorded(store):
    from ledger.store import archive as archiving

    data = b"PK\x03\x04 archived by a worker"
    sha = hashlib.sha256(data).hexdigest()
    rel = archiving.archive(store.archive_dir, sha, "xlsx", data)
    plain = received(data)
    sub = store.ingest(Received(**{**plain.__dict__, "data": b"", "archived": rel}))
    assert sub.outcome == "accepted" and sub.size == len(data)
    assert sub.archived_path.read_bytes() == data


def test_missing_or_damaged_archived_copy_is_refused(store):
    from ledger.store import archive as archiving

    data = b"PK\x03\x04 will be damaged"
    sha = hashlib.sha256(data).hexdigest()
    rel = archiving.archive(store.archive_dir, sha, "xlsx", data)
    path = store.archive_dir / rel
    path.chmod(0o644)
    path.write_bytes(b"damaged")
    plain = received(data)
    with pytest.raises(StoreError, match="存档文件"):
        store.ingest(Received(**{**plain.__dict__, "data": b"", "archived": rel}))
    path.unlink()
    with pytest.raises(StoreError, match="存档文件"):
        store.ingest(Received(**{**plain.__dict__, "data": b"", "archived": rel}))
    with pytest.raises(ValueError):  # a path that is not where the archive keeps these bytes
        store.ingest(Received(**{**plain.__dict__, "data": b"", "archived": f"../{sha}.xlsx"}))
    assert store.history("351") == []


def test_a_batch_flushes_its_originals_once_before_recording_them(store, monkeypatch):
    """One flush to disk for a batch's archived originals (not an fsync each), and before the
    transaction that records them: the database never names a copy that may not be on disk."""
    import os
    import sqlite3

    from ledger.store import archive as archiving

    flushes: list[tuple[int, int]] = []  # (files flushed, files recorded at that moment)
    real_flush = archiving.flush_to_disk

    def flush(files, **kwargs):
        files = list(files)
        with sqlite3.connect(store.path) as other:
            recorded = other.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        flushes.append((len(files), recorded))
        real_flush(files, **kwargs)

    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(archiving, "flush_to_disk", flush)
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    worker_copy = b"PK\x03\x04 archived by a worker"
    sha = hashlib.sha256(worker_copy).hexdigest()
    rel = archiving.archive(store.archive_dir, sha, "xlsx", worker_copy, flush=False)
    batch = [received(f"file-{n}".encode(), unit=f"单位{n}") for n in range(9)]
    batch.append(Received(**{**received(worker_copy, unit="单位9").__dict__, "data": b"", "archived": rel,
                             "size": len(worker_copy)}))
    stored = store.ingest_many(batch)
    assert [s.outcome for s in stored] == ["accepted"] * 10
    assert flushes == [(10, 0)]
    assert len(fsyncs) == 1  # the archive's journal line; no fsync per original
    assert all(s.archived_path.exists() for s in stored)


def test_an_archived_copy_of_another_size_than_its_archiver_says_is_refused(store):
    from ledger.store import archive as archiving

    data = b"PK\x03\x04 archived, then cut short"
    sha = hashlib.sha256(data).hexdigest()
    rel = archiving.archive(store.archive_dir, sha, "xlsx", data, flush=False)
    plain = received(data)
    with pytest.raises(StoreError, match="存档文件"):
        store.ingest(Received(**{**plain.__dict__, "data": b"", "archived": rel, "size": len(data) - 1}))
    assert store.history("351") == []
    assert store.ingest(Received(**{**plain.__dict__, "data": b"", "archived": rel, "size": len(data)})).size == len(data)


def test_version_3_stores_get_the_record_of_what_was_sent(tmp_path):
    """Schema 4 adds the manifests (what generate sent each unit); a store of version 3 keeps its
    files and has no manifest until generate records one; recording again replaces, journaled."""
    db = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    schema.upgrade(conn, target=3)
    conn.execute("COMMIT")
    conn.close()
    sent = Manifest("351", "2022-W23", "市交通运输局", 4, "0a1b2c3d", (("351-A1-01", "d1"), ("351-A1-02", "d2")),
                    "c" * 64, datetime(2022, 6, 6, 9, 0, tzinfo=UTC))
    with open_store(db) as store:
        assert store.manifests("351", "2022-W23") == {}
        store.record_manifests([sent])
        again = dataclasses.replace(sent, tasks=(("351-A1-01", "d9"),))
        store.record_manifests([again])
        assert store.manifests("351", "2022-W23") == {"市交通运输局": again}
        assert store.manifests("351", "2022-W24") == {}
    lines = journal.read(db.parent / "archive")
    assert [journal.manifest_of(line) for line in lines.manifests] == [again]  # the last record of the unit
