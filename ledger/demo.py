"""``ledger demo``: the cycle on the shipped sample data, in a scratch workspace.

The demo copies the repository's workspace (ledger.toml, units directory, reviewed
registries, sample notices) into ``out/demo/`` and works only there, so the reviewed
``source_data/`` is never touched.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ledger import config
from ledger.problems import Problem

DEMO_PROGRAMME = "351"
DEMO_PERIOD = "2022-W23"
NOTICES = {
    "351": "351_洛城提办文2022-11号.txt",
    "pingtai": "pingtai_洛政2022-17号.txt",
    "yanshi": "yanshi_偃政2023-6号.txt",
    "luoning": "luoning_任务分解表.xlsx",
}


@dataclass
class DemoStep:
    """One thing the demo did, for the summary."""

    title: str
    lines: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def prepare(source: config.Workspace, target: Path) -> config.Workspace:
    """Make a fresh scratch workspace at *target* from *source*."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(source.root / config.CONFIG_NAME, target / config.CONFIG_NAME)
    shutil.copytree(source.paths.source_data, target / "source_data",
                    ignore=shutil.ignore_patterns("*.bak.xlsx", "~$*", ".~lock*"))
    return config.load(target)


def run_demo(source: config.Workspace, target: Path | None = None) -> tuple[config.Workspace, list[DemoStep]]:
    """Run every stage available on the sample data; return the scratch workspace and steps."""
    from ledger.registry.api import check, import_registry

    ws = prepare(source, target or source.paths.out / "demo")
    steps: list[DemoStep] = []

    step = DemoStep("从通知导入任务清单")
    for pid, name in NOTICES.items():
        notice = ws.paths.source_data / "notices" / name
        outcome = import_registry(ws, [notice], pid, output=ws.root / "imported" / f"{pid}.xlsx")
        reg = outcome.result.registry
        errors = sum(p.is_error for p in outcome.result.problems)
        step.lines.append(
            f"{pid}：{name} → {len(reg.tasks)} 项任务，{len(reg.lead_units())} 个牵头单位，待审核 {len(outcome.result.problems)} 处（错误 {errors}）"
        )
        step.paths.append(outcome.path)
    steps.append(step)

    step = DemoStep("检查已审核的任务清单（source_data）")
    for pid, problems in check(ws).items():
        errors = sum(p.is_error for p in problems)
        step.lines.append(f"{pid}：错误 {errors} 个，提示 {len(problems) - errors} 个")
        step.problems.extend(p for p in problems if p.is_error)
    steps.append(step)
    return ws, steps
