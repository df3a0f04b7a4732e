"""50 units report at once through their links to a real ``ledger serve`` on loopback, half by the
web form and half by uploading their workbook: every report is stored exactly once, accepted,
and logged; nothing is lost. Latencies are printed (bench/bench_web.py reports p50/p95), never
asserted."""

from __future__ import annotations

from pathlib import Path

import load
import office

from ledger.run import open_workspace_store

UNITS = 50


def test_fifty_units_reporting_at_once_are_each_stored_once(tmp_path: Path) -> None:
    prepared = load.prepare(tmp_path, UNITS)
    with office.serving(prepared.ws.root, tmp_path / "serve.log") as url:
        sent = load.send_all(url, prepared, timeout_s=240)
    load.summary(sent)
    assert [s.status for s in sent] == [303] * UNITS
    assert sorted(s.kind for s in sent).count("form") == UNITS // 2
    assert {s.verdict for s in sent} == {"accepted"}
    with open_workspace_store(prepared.ws) as store:
        stored = store.history("351")
        current = store.current_submissions("351", load.PERIOD)
        logged = [e for e in store.web_log() if e.event in ("fill", "upload")]
        progress = {s.unit: store.entries(s.id)[0].progress for s in current}
    assert len(stored) == UNITS and len({s.sha256 for s in stored}) == UNITS  # each once, none lost
    assert sorted(s.unit for s in current) == sorted(prepared.tokens) and {s.outcome for s in current} == {"accepted"}
    assert len(logged) == UNITS and {e.unit for e in logged} == set(prepared.tokens)
    for unit, text in progress.items():  # each unit's own values, under its own name
        assert text == (f"{unit}用Excel报送" if unit in prepared.workbooks else f"{unit}在线填报")
