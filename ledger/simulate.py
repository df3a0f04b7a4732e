"""Simulated replies for the demo: units fill their 工作台账 the way real clerks do.

Deterministic (driven by hashes of unit and task, never by the clock), so the demo
gives the same figures every run. Most units reply by e-mail before the due time;
some are late, one copies last week's text, one picks a status that is not in the
list and is sent back, one does not reply at all in some weeks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import openpyxl

from ledger import layout
from ledger.fsutil import write_bytes_atomic
from ledger.periods import CHINA, Period
from ledger.registry.model import Registry, Task
from ledger.schedule import schedule_percent, steps

XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _roll(*parts: object) -> int:
    """A stable number 0–99 for the given parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).digest()
    return digest[0] * 100 // 256


@dataclass(frozen=True)
class Behaviour:
    """How one unit behaves in one period."""

    reply: bool
    late: bool
    copies: bool  # pastes last period's progress again
    bad_status: bool  # types a status that is not in the dropdown
    signs: bool = False  # adds 填报人/联系电话 under the table, as many offices' forms do


def behaviour(unit: str, period: Period) -> Behaviour:
    roll = _roll("reply", unit, period.key)
    return Behaviour(
        reply=roll >= 6,
        late=6 <= roll < 18,
        copies=18 <= roll < 24,
        bad_status=24 <= roll < 28,
        signs=28 <= roll < 45,
    )


def task_values(task: Task, unit: str, period: Period, issued: date) -> dict[str, object]:
    """What the unit writes for one task: progress, %, a status consistent with them."""
    if task.ongoing:  # an ongoing task is reported without a percentage (some units write "/")
        return {"progress": f"{period.short_label()}：持续推进，开展专项检查{1 + _roll(task.id, period.key) % 4}次",
                "cumulative": "常态化开展", "percent": "/" if _roll("slash", unit) < 50 else None,
                "status": layout.ONGOING}
    share = schedule_percent(steps(task), issued, period.end) or 0
    offset = (-35, -15, -5, 0, 0, 0, 5, 10)[_roll("pace", unit, task.id) % 8]
    percent = max(0, min(100, share + offset))
    if percent >= 100:
        status = layout.DONE
    elif percent == 0:
        status = layout.NOT_STARTED
    elif offset >= 5:
        status = layout.AHEAD
    elif offset >= -10:
        status = layout.ON_SCHEDULE
    else:
        status = layout.LAGGING
    values: dict[str, object] = {
        "progress": f"{period.short_label()}：推进{task.text[:12]}，完成阶段工作量的{percent}%",
        "cumulative": f"累计完成{percent}%",
        "percent": percent,
        "status": status,
    }
    if status == layout.LAGGING:
        values["issues"] = "前期手续办理进度慢"
        values["coordination"] = "请协调加快审批"
    values["next_steps"] = "按节点加快推进"
    return values


def fill_workbook(source: Path, target: Path, registry: Registry, unit: str, period: Period, issued: date,
                  how: Behaviour) -> Path:
    """Open the generated workbook with openpyxl and type the unit's answers, as a clerk would."""
    wb = openpyxl.load_workbook(source)
    ws = wb[layout.LEDGER_SHEET]
    header_row = layout.HEADER_ROW + 1
    cols = {k: i + 1 for k, i in layout.find_columns(c.value for c in ws[header_row]).items()}
    for row in range(header_row + 1, ws.max_row + 1):
        task_id = ws.cell(row, cols["task_id"]).value
        if not task_id:
            continue
        values = task_values(registry.task(str(task_id)), unit, period, issued)
        previous = ws.cell(row, cols["previous"]).value
        if how.copies and previous:
            values["progress"] = previous
        if how.bad_status:
            values["status"] = "差不多完成"
        for key, value in values.items():
            cell = ws.cell(row, cols[key])
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
    if how.signs:
        ws.cell(ws.max_row + 2, 1).value = f"填报人：{unit}综合科　联系电话：0379-6{_roll('tel', unit):02d}00000"
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def reply_mail(workbook: Path, unit: str, when: datetime, target: Path) -> Path:
    """Wrap the filled workbook in the e-mail the unit sends back."""
    msg = EmailMessage()
    msg["From"] = f"{unit} <reply@example.org>"
    msg["To"] = "office@example.org"
    msg["Subject"] = f"回复：{workbook.stem}"
    msg["Date"] = format_datetime(when.astimezone(CHINA))
    msg.set_content(f"{unit}工作台账已填报，请查收。")
    msg.add_attachment(workbook.read_bytes(), maintype=XLSX_MIME[0], subtype=XLSX_MIME[1], filename=workbook.name)
    return write_bytes_atomic(target, msg.as_bytes())


def simulate_inbox(templates: dict[str, Path], registry: Registry, period: Period, due: dict[str, datetime],
                   issued: date, inbox: Path) -> dict[str, Behaviour]:
    """Write every replying unit's e-mail into *inbox*; returns how each unit behaved."""
    behaviours = {}
    for unit, template in templates.items():
        how = behaviour(unit, period)
        behaviours[unit] = how
        if not how.reply:
            continue
        filled = fill_workbook(template, inbox / "附件" / template.name, registry, unit, period, issued, how)
        offset = timedelta(hours=20) if how.late else -timedelta(hours=2 + _roll("when", unit, period.key) % 30)
        reply_mail(filled, unit, due[unit] + offset, inbox / f"{template.stem}.eml")
        filled.unlink()
    return behaviours
