"""Command line: parse options, call one library function, print text or JSON.

Exit codes: 0 ok, 1 problems found or the tool could not go on, 2 usage error.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from ledger import __version__, config
from ledger.errors import LedgerError
from ledger.problems import Problem, count


def _fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn LedgerError into a Chinese one-line error (traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LedgerError as exc:
            ctx = click.get_current_context()
            if ctx.find_root().obj and ctx.find_root().obj.get("debug"):
                raise
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _workspace() -> config.Workspace:
    obj = click.get_current_context().find_root().obj or {}
    return config.load(obj.get("workspace"))


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _echo_problems(problems: Iterable[Problem]) -> None:
    for p in problems:
        click.echo(p.render(), err=False)


def _summary_line(problems: list[Problem]) -> str:
    errors, warnings = count(problems)
    return f"错误 {errors} 个，提示 {warnings} 个"


class ChineseGroup(click.Group):
    """A group whose usage errors are still exit code 2 (click's default)."""


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), envvar="LEDGER_WORKSPACE",
              help="工作区目录（含 ledger.toml），默认为当前目录，也可用环境变量 LEDGER_WORKSPACE。")
@click.option("--debug", is_flag=True, help="出错时显示完整的调用栈（供开发人员排查）。")
@click.version_option(__version__, prog_name="ledger")
@click.pass_context
def main(ctx: click.Context, workspace: Path | None, debug: bool) -> None:
    """ledger：督查工作台账工具——任务清单、台账生成、收集、汇总和考核通报。"""
    ctx.obj = {"workspace": workspace, "debug": debug}


def _programme_period(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--period", "period", required=True,
                        help="报送周期，如 2022-W23（周）、2022-06（月）、2023-Q2（季）、2021-06-14（日）。")(func)
    return click.option("--programme", "-p", "programme", required=True, help="项目编号（ledger.toml 中的编号）。")(func)


# ---- registry ------------------------------------------------------------------------

@main.group()
def registry() -> None:
    """任务清单：从通知导入、列出、检查、导出。"""


@registry.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--programme", "-p", help="项目编号（ledger.toml 中的 programmes.<编号>）；不填则按文号匹配。")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="任务清单写到此路径（默认 source_data/<项目>/registry.xlsx）。")
@click.option("--force", is_flag=True, help="覆盖已有的任务清单（原文件自动备份，已审核的任务编号保留）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出导入的任务。")
@_fail_cleanly
def registry_import(files: tuple[Path, ...], programme: str | None, output: Path | None, force: bool,
                    as_json: bool) -> None:
    """从通知（.txt/.md/.docx 或任务分解表 .xlsx/.xls）导入任务清单。"""
    from ledger.registry.api import import_registry
    from ledger.registry.model import export_json

    ws = _workspace()
    outcome = import_registry(ws, list(files), programme, output, force)
    problems = outcome.result.problems
    if as_json:
        _echo_json(export_json([outcome.result.registry]))
    else:
        reg = outcome.result.registry
        click.echo(f"已导入项目“{reg.programme.id}”（{reg.programme.title}）：{len(reg.tasks)} 项任务。")
        click.echo(f"任务清单已写入 {outcome.path}")
        if outcome.backup:
            click.echo(f"原任务清单已备份为 {outcome.backup}")
        _echo_problems(problems)
        if problems:
            click.echo(f"需审核：{_summary_line(problems)}。请在 Excel 中审核“审核标记”列后运行 ledger registry check。")
    sys.exit(1 if any(p.is_error for p in problems) else 0)


@registry.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@_fail_cleanly
def registry_list(as_json: bool) -> None:
    """列出已配置的项目及其任务数。"""
    from ledger.registry.api import list_programmes

    rows = list_programmes(_workspace())
    if as_json:
        _echo_json({"programmes": rows})
        return
    for r in rows:
        tasks = "尚未导入" if r["tasks"] is None else f"{r['tasks']} 项任务"
        click.echo(f"{r['id']}\t{r['title']}\t{r['doc_number'] or '—'}\t{tasks}")


@registry.command("check")
@click.argument("programmes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出问题清单。")
@_fail_cleanly
def registry_check(programmes: tuple[str, ...], as_json: bool) -> None:
    """检查任务清单：未知单位、牵头单位缺失或为统称、时限不明、编号重复等。有错误时退出码为 1。"""
    from ledger.registry.api import check

    result = check(_workspace(), programmes or None)
    all_problems = [p for ps in result.values() for p in ps]
    if as_json:
        _echo_json({
            "valid": not any(p.is_error for p in all_problems),
            "programmes": {pid: [p.as_dict() for p in ps] for pid, ps in result.items()},
        })
    else:
        for pid, ps in result.items():
            click.echo(f"项目 {pid}：{_summary_line(ps)}")
            _echo_problems(ps)
    sys.exit(1 if any(p.is_error for p in all_problems) else 0)


@registry.command("export")
@click.argument("programme")
@click.option("--json", "as_json", is_flag=True, default=True, help="以 JSON 输出（默认）。")
@_fail_cleanly
def registry_export(programme: str, as_json: bool) -> None:
    """以 JSON 导出一个项目的任务清单。"""
    from ledger.registry.api import load
    from ledger.registry.model import export_json

    _echo_json(export_json([load(_workspace(), programme)]))


# ---- generate --------------------------------------------------------------------------

@main.command("generate")
@_programme_period
@click.option("--unit", "units", multiple=True, help="只生成该牵头单位的台账（可重复）；默认全部牵头单位。")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（工作区内），默认 out/<项目>/<周期>/templates/。")
@click.option("--no-prefill", is_flag=True, help="不从历史记录预填上期进展。")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0, show_default=True,
              help="并行进程数；0 表示自动（单位较多时使用全部 CPU 核）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出生成的文件。")
@_fail_cleanly
def generate_cmd(programme: str, period: str, units: tuple[str, ...], output: Path | None, no_prefill: bool,
                 jobs: int, as_json: bool) -> None:
    """为每个牵头单位生成本期工作台账（.xlsx），上期已报的内容自动预填。"""
    from ledger.generate import generate
    from ledger.generate.prefill import previous_from_store
    from ledger.periods import parse_period
    from ledger.stage import open_workspace_store

    ws = _workspace()
    out = output.resolve() if output else None
    if no_prefill or not ws.paths.store.is_file():  # no history yet: nothing to pre-fill
        made = generate(ws, programme, period, units=units or None, out_dir=out, jobs=jobs)
    else:
        key = parse_period(period, ws.programme(programme).reporting.cycle).key
        with open_workspace_store(ws) as store:
            made = generate(ws, programme, period, units=units or None, out_dir=out, jobs=jobs,
                            previous_for=previous_from_store(store, programme, key))
    if as_json:
        _echo_json({"workbooks": [{"unit": g.unit, "path": str(g.path), "tasks": g.tasks, "sha256": g.sha256}
                                  for g in made]})
        return
    click.echo(f"已生成 {len(made)} 个工作台账，共 {sum(g.tasks for g in made)} 项任务：")
    for g in made:
        click.echo(f"   {g.unit}（{g.tasks} 项）→ {g.path}")


# ---- collect and status ----------------------------------------------------------------

@main.command("collect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_programme_period
@click.option("--no-receipts", is_flag=True, help="不生成回执。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出每个文件的处理结果。")
@_fail_cleanly
def collect_cmd(paths: tuple[Path, ...], programme: str, period: str, no_receipts: bool, as_json: bool) -> None:
    """收集各单位报回的工作台账（文件夹、.xlsx/.xls/.ods、.eml 邮件、.zip），校验、登记并生成回执。有退回时退出码为 1。"""
    from ledger.collect.api import OUTCOME_NAMES, collect
    from ledger.collect.receipts import write_receipts
    from ledger.registry.api import load_directory
    from ledger.stage import load_registry

    ws = _workspace()
    result = collect(ws, list(paths), programme, period)
    receipts = [] if no_receipts else write_receipts(ws, result, load_registry(ws, programme), load_directory(ws))
    rejected = any(f.outcome == "rejected" for f in result.files)
    if as_json:
        _echo_json({"submissions": [f.as_dict() for f in result.files],
                    "problems": [p.as_dict() for p in result.problems]})
        sys.exit(1 if rejected else 0)
    click.echo(f"{result.programme.title} {result.period.label()}：收到 {len(result.files)} 个文件。")
    for f in result.files:
        click.echo(f"{OUTCOME_NAMES[f.outcome]}\t{f.unit or '（单位不明）'}\t{f.file}")
        _echo_problems(p for p in f.problems if f.outcome == "rejected" or not p.is_error)
    _echo_problems(result.problems)
    if receipts:
        click.echo(f"回执已写入 {receipts[0].text_path.parent}")
    sys.exit(1 if rejected else 0)


STATE_LABELS = {"on_time": "按时", "late": "逾期", "missing": "未报", "rejected": "退回"}


@main.command("status")
@_programme_period
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@_fail_cleanly
def status_cmd(programme: str, period: str, as_json: bool) -> None:
    """各牵头单位本期报送情况：按时、逾期、未报、退回，及收到时间。"""
    from ledger.collect.status import SOURCE_NAMES, status

    per, rows = status(_workspace(), programme, period)
    if as_json:
        _echo_json({"programme": programme, "period": per.key, "units": [r.as_dict() for r in rows]})
        return
    click.echo(f"{per.label()} 报送情况（共 {len(rows)} 个牵头单位）")
    for r in rows:
        when = f"{r.received_at:%m-%d %H:%M}（{SOURCE_NAMES[r.received_source or 'collected']}）" if r.received_at else "—"
        click.echo(f"{STATE_LABELS[r.state]}\t{r.unit}\t{when}\t截止 {r.due:%m-%d %H:%M}")
    counts = {s: sum(r.state == s for r in rows) for s in STATE_LABELS}
    click.echo("，".join(f"{STATE_LABELS[s]} {n}" for s, n in counts.items()))


# ---- mail ------------------------------------------------------------------------------

@main.group()
def mail() -> None:
    """邮件：生成报送通知草稿、催报草稿，并通过 SMTP 发送。"""


@mail.command("drafts")
@_programme_period
@_fail_cleanly
def mail_drafts(programme: str, period: str) -> None:
    """为本期已生成的工作台账各写一封报送通知邮件草稿（附件为该单位的台账）。"""
    from ledger import layout
    from ledger.generate import TEMPLATES_DIR
    from ledger.mail import write_drafts
    from ledger.periods import parse_period
    from ledger.registry.api import load_directory
    from ledger.stage import load_registry

    ws = _workspace()
    per = parse_period(period, ws.programme(programme).reporting.cycle)
    folder = ws.out_dir(programme, per.key) / TEMPLATES_DIR
    workbooks = {u: folder / layout.workbook_name(per.key, u) for u in load_registry(ws, programme).lead_units()}
    made = {u: p for u, p in workbooks.items() if p.is_file()}
    if not made:
        raise LedgerError(f"{folder} 中没有本期工作台账。请先运行 ledger generate -p {programme} --period {per.key}。")
    drafts, problems = write_drafts(ws, programme, per.key, made, load_directory(ws))
    click.echo(f"已写邮件草稿 {len(drafts)} 封 → {drafts[0].path.parent if drafts else '—'}")
    missing = sorted(set(workbooks) - set(made))
    if missing:
        click.echo(f"以下单位尚无工作台账，未写草稿：{'、'.join(missing)}")
    _echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


@mail.command("send")
@_programme_period
@click.option("--yes", is_flag=True, help="不再确认，直接发送。")
@_fail_cleanly
def mail_send(programme: str, period: str, yes: bool) -> None:
    """通过 ledger.toml 中配置的 SMTP 服务器发送待发邮件（密码取自环境变量），已发的移入 sent/。"""
    from ledger.mail import send_drafts
    from ledger.periods import parse_period

    ws = _workspace()
    per = parse_period(period, ws.programme(programme).reporting.cycle)
    outbox = ws.out_dir(programme, per.key) / "outbox"
    pending = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    if not pending:
        click.echo(f"{outbox} 中没有待发送的邮件。")
        return
    if not yes:
        click.confirm(f"将通过 {ws.smtp.host}:{ws.smtp.port} 发送 {len(pending)} 封邮件，是否继续？", abort=True)
    sent, problems = send_drafts(ws, outbox)
    click.echo(f"已发送 {len(sent)} 封，移入 {outbox / 'sent'}。")
    _echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


@mail.command("reminders")
@_programme_period
@_fail_cleanly
def mail_reminders(programme: str, period: str) -> None:
    """为未报送和被退回的单位生成催报邮件草稿（写入 out/<项目>/<周期>/outbox/）。"""
    from ledger.collect.status import reminder_reasons, status
    from ledger.mail import write_reminders
    from ledger.registry.api import load_directory
    from ledger.stage import open_workspace_store

    ws = _workspace()
    with open_workspace_store(ws) as store:
        per, rows = status(ws, programme, period, store=store)
        reasons = reminder_reasons(rows, store)
    drafts, problems = write_reminders(ws, programme, per.key, reasons, load_directory(ws))
    click.echo(f"催报草稿 {len(drafts)} 封（未报送 {sum(r.state == 'missing' for r in rows)}，"
               f"退回 {sum(r.state == 'rejected' for r in rows)}）。")
    for d in drafts:
        click.echo(f"   → {d.path}")
    _echo_problems(problems)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


# ---- consolidate ---------------------------------------------------------------------------

@main.command("consolidate")
@_programme_period
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出汇总内容（总表、按单位、滞后及逾期、本期变化、报送情况）。")
@_fail_cleanly
def consolidate_cmd(programme: str, period: str, as_json: bool) -> None:
    """汇总一期台账：判定每项任务的红黄绿灯及原因，写出 out/<项目>/<周期>/汇总表.xlsx。"""
    from ledger.consolidate.api import consolidate

    summary = consolidate(_workspace(), programme, period)
    if as_json:
        _echo_json(summary.to_json())
        return
    for line in summary.lines():
        click.echo(line)


# ---- assess and bulletin ----------------------------------------------------------------

def _programme_month(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--month", "month", required=True, help="考核月份，如 2022-06。")(func)
    return click.option("--programme", "-p", "programme", required=True, help="项目编号（ledger.toml 中的编号）。")(func)


@main.command("assess")
@_programme_month
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出得分、扣分明细和排名。")
@_fail_cleanly
def assess_cmd(programme: str, month: str, as_json: bool) -> None:
    """月度考核：按各周期的报送和任务灯色为牵头单位打分、排名（扣分逐项可查），写出考核得分.xlsx。"""
    from ledger.assess import assess

    result = assess(_workspace(), programme, month)
    if as_json:
        _echo_json(result.to_json())
        return
    click.echo(f"{result.month.label()}考核（{len(result.periods)} 个报送周期，{len(result.scores)} 个牵头单位）：")
    for s in result.scores:
        click.echo(f"{s.rank:>3}\t{s.unit}\t{s.total:g} 分\t{s.grade}\t{s.change}")
    for note in result.notes:
        click.echo(f"[提示] {note}")
    click.echo(f"得分及扣分明细已写入 {result.xlsx}")


@main.command("bulletin")
@_programme_month
@click.option("--date", "issued", type=click.DateTime(["%Y-%m-%d"]), help="成文日期（默认今天），如 2022-07-05。")
@click.option("--no-pdf", is_flag=True, help="不生成 PDF（不调用 LibreOffice）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出生成的文件。")
@_fail_cleanly
def bulletin_cmd(programme: str, month: str, issued: Any, no_pdf: bool, as_json: bool) -> None:
    """生成月度考核通报：公文格式的 .docx（模板 templates/bulletin.docx 可在 Word 中修改）、HTML 预览和 PDF。"""
    from ledger.assess import write_bulletin

    files = write_bulletin(_workspace(), programme, month, pdf=not no_pdf,
                          issued=issued.date() if issued else None)
    if as_json:
        _echo_json(files.to_json())
        return
    click.echo(f"第 {files.number} 期考核通报：")
    for label, path in (("Word", files.docx), ("HTML", files.html), ("PDF", files.pdf), ("图表", files.chart)):
        if path:
            click.echo(f"   {label} → {path}")
    for warning in files.warnings:
        click.echo(f"[提示] {warning}")


# ---- demo ----------------------------------------------------------------------------

@main.command()
@_fail_cleanly
def demo() -> None:
    """在示例数据上演示完整流程（写入 out/demo/），并打印摘要。"""
    from ledger.demo import run_demo

    ws, steps = run_demo(_workspace())
    click.echo(f"演示工作区：{ws.root}")
    for i, step in enumerate(steps, start=1):
        click.echo(f"\n{i}. {step.title}")
        for line in step.lines:
            click.echo(f"   {line}")
        _echo_problems(step.problems)
        for path in step.paths:
            click.echo(f"   → {path.relative_to(ws.root) if path.is_relative_to(ws.root) else path}")
    failed = any(p.is_error for s in steps for p in s.problems)
    sys.exit(1 if failed else 0)
