"""The stages sit side by side on shared lower layers; data flows one way.

Every import between ``ledger`` modules (function-level imports included) is checked
against the layer order below: a module may import its own layer and the layers under it,
never a later one, and a stage never imports a sibling stage of its layer.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ledger"

#: layers, lowest first; within a layer of several stages (a set of packages) none imports another
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"errors", "problems", "fsutil", "processes", "rules", "config", "periods", "due", "cnum",
                    "templating", "store", "toml_errors", "resources", "areas", "config_edit", "sniff", "secret",
                    "__init__"}),
    ("registry", {"registry"}),
    ("shared", {"layout", "schedule", "reporting", "run"}),
    ("generate|collect", {"generate", "collect"}),
    ("mail", {"mail"}),
    ("consolidate", {"consolidate"}),
    ("assess", {"assess"}),
    ("top", {"commands", "cli", "__main__", "demo", "simulate", "templates", "workspace_init", "web"}),
]
#: layers whose members are lower-level modules that may use one another (acyclic by construction)
SHARED_LAYERS = {"foundation", "shared", "top"}
RANK = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}
LAYER_OF = {name: layer for layer, names in LAYERS for name in names}


def unit_of(module: str) -> str:
    """``ledger.collect.api`` → ``collect``; ``ledger`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def ledger_imports() -> list[tuple[str, str, int]]:
    """(importing module, imported ledger module, line) for every import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                if name == "ledger" or name.startswith("ledger."):
                    found.append((module, name, node.lineno))
    return found


def test_every_module_has_a_layer() -> None:
    units = {unit_of(m) for m, _, _ in ledger_imports()}
    assert units <= set(RANK), f"modules without a layer: {sorted(units - set(RANK))}"


def test_no_stage_imports_a_later_layer_or_a_sibling() -> None:
    wrong = []
    for importer, imported, line in ledger_imports():
        a, b = unit_of(importer), unit_of(imported)
        if b not in RANK or a == b:
            continue
        later = RANK[b] > RANK[a]
        sibling = RANK[b] == RANK[a] and LAYER_OF[a] not in SHARED_LAYERS
        if later or sibling:
            wrong.append(f"{importer}:{line} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_generate_and_collect_share_the_layout_and_collect_and_consolidate_the_reporting_rules() -> None:
    edges = {(unit_of(a), unit_of(b)) for a, b, _ in ledger_imports()}
    assert {("generate", "layout"), ("collect", "layout"), ("collect", "reporting"),
            ("consolidate", "reporting")} <= edges


@pytest.mark.parametrize(("module", "absent"), [
    # `ledger --help` stays fast: the web server's packages load only when `ledger serve` runs
    ("ledger.cli", ("starlette", "uvicorn", "multipart", "jinja2", "ledger.web")),
    ("ledger.consolidate.judge", ("ledger.collect", "ledger.generate", "python_calamine")),
    ("ledger.reporting", ("ledger.collect", "ledger.generate", "ledger.consolidate", "python_calamine", "openpyxl")),
])
def test_importing_a_module_loads_nothing_of_its_siblings(module: str, absent: tuple[str, ...]) -> None:
    code = (f"import sys, {module}\n"
            f"loaded = [m for m in {absent!r} if m in sys.modules or any(k.startswith(m + '.') for k in sys.modules)]\n"
            "print(','.join(loaded))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
