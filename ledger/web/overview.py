"""One period at a glance: its due times, who reported, and what the office does next.

Used by 首页 (every programme) and 本期 (one period). The states, due times and their
names come from :mod:`ledger.reporting`; the next steps follow the order of the cycle
(docs/web.md, 首页): generate the workbooks, mail them, take in what comes back,
remind who is missing or was sent back, consolidate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ledger.due import day_and_time, lateness_text
from ledger.reporting import STATE_SHORT, UnitStatus
from ledger.run import Run
from ledger.web.files import Known, catalogue


@dataclass(frozen=True)
class MailRow:
    """An e-mail of the period's outbox."""

    id: str
    name: str
    kind: str  # 通知 / 催报
    status: str  # 待发送 / 已发送 / 已撤回


@dataclass
class PeriodFiles:
    """What ledger wrote for one period: every downloadable file, the workbooks by unit, the mail."""

    files: dict[str, Known]
    workbooks: dict[str, Path]

    @property
    def ids(self) -> dict[str, str]:
        """File id by place in the folder (``templates/…xlsx``)."""
        return {k.rel: k.id for k in self.files.values()}

    @property
    def mails(self) -> list[MailRow]:
        from ledger.mail.drafts import REMINDER_SUFFIX

        out = []
        for k in self.files.values():
            if k.rel.startswith("outbox/") and k.name.endswith(".eml"):
                status = "已发送" if k.rel.startswith("outbox/sent/") else \
                    "已撤回" if "/withdrawn/" in k.rel else "待发送"
                kind = "催报" if k.name.endswith(f"{REMINDER_SUFFIX}.eml") else "通知"
                out.append(MailRow(k.id, k.name, kind, status))
        return out

    @property
    def summary_id(self) -> str:
        from ledger.consolidate.summary import FILE_NAME

        return self.ids.get(FILE_NAME, "")


def period_files(run: Run) -> PeriodFiles:
    from ledger.generate import generated_workbooks

    return PeriodFiles(catalogue(run.out_dir()), generated_workbooks(run))


@dataclass(frozen=True)
class Step:
    """A next step: what is the matter, and the part of the period page that does it."""

    text: str
    action: str
    anchor: str


@dataclass
class Glance:
    """Counts, due times and next steps of one period."""

    programme: str
    period: str
    label: str
    units: int
    counts: dict[str, int]
    due_text: str
    countdown: str
    past_due: bool
    generated: int
    drafted: bool
    consolidated: bool
    steps: list[Step] = field(default_factory=list)

    @property
    def count_items(self) -> list[tuple[str, str, int]]:
        """(state, 按时/逾期/未报/退回, count) in the order of the states."""
        return [(s, name, self.counts.get(s, 0)) for s, name in STATE_SHORT.items()]


def glance(run: Run, rows: list[UnitStatus], files: PeriodFiles) -> Glance:
    """The period of *run* at a glance; *rows* is its ``period_status``."""
    generated, consolidated = len(files.workbooks), bool(files.summary_id)
    drafted = any(m.kind == "通知" for m in files.mails)
    now, year = run.now, run.period.year
    counts = Counter(r.state for r in rows)
    dues = sorted({r.due for r in rows})
    if not dues:
        due_text, countdown, past = "—", "", False
    else:
        first, last = dues[0], dues[-1]
        if first == last:
            due_text = day_and_time(first, year)
        elif first.date() == last.date():  # annexes due at different hours of one day
            due_text = f"{day_and_time(first, year)}—{last:%H:%M}（各附件不同）"
        else:
            due_text = f"{day_and_time(first, year)}至{day_and_time(last, year)}"
        past = now > last
        if now < first:
            countdown = f"距截止还有{lateness_text(now, first)}"
        elif past:
            countdown = f"已过截止时间{lateness_text(last, now)}"
        else:
            countdown = "部分单位已过截止时间"
    view = Glance(run.programme.id, run.period.key, run.period.label(), len(rows), dict(counts), due_text, countdown,
                  past, generated, drafted, consolidated)
    view.steps = next_steps(view)
    return view


def next_steps(view: Glance) -> list[Step]:
    """What to do next, in the order of the cycle."""
    steps: list[Step] = []
    missing, rejected = view.counts.get("missing", 0), view.counts.get("rejected", 0)
    reported = view.counts.get("on_time", 0) + view.counts.get("late", 0)
    if not view.generated and not reported:
        steps.append(Step("尚未生成本期工作台账", "生成台账", "generate"))
    elif view.generated and not view.drafted:
        steps.append(Step(f"已生成 {view.generated} 个工作台账，尚未写通知邮件", "生成邮件草稿", "mail"))
    if missing and view.past_due:
        steps.append(Step(f"还有{missing}个单位未报送", "生成催报", "mail"))
    elif missing and (view.generated or reported):
        steps.append(Step(f"还有{missing}个单位未报送（未到截止时间）", "上传收到的台账", "upload"))
    if rejected:
        steps.append(Step(f"{rejected}个单位的台账被退回待改", "生成催报", "mail"))
    if reported and not view.consolidated and (view.past_due or not missing):
        steps.append(Step(f"已收到{reported}个单位的台账，尚未汇总", "汇总", "consolidate"))
    if not steps and view.consolidated:
        steps.append(Step("本期已汇总", "下载汇总表", "consolidate"))
    return steps
