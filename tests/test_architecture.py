"""The layers of docs/architecture.md, enforced: every import in xret (module level, inside a
function or under TYPE_CHECKING alike) goes down the table or stays in its own unit."""

from __future__ import annotations

import ast
from pathlib import Path

import xret

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "defaults", "paths", "testing"),
    ("io", "registry", "plugins", "progress", "runtime", "provenance"),
    ("fingerprint",),
    ("measures",),
    ("tasks", "models"),
    ("results",),
    ("benchmark",),
    ("cluster", "baselines", "leaderboards", "interop"),
    ("api",),
    ("study",),
    ("cli",),
    ("__main__",),
)
"""Bottom to top. A unit (a package or module directly under xret/) imports only units of lower
layers; units of one layer are independent of each other."""
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    """``xret.benchmark.runner`` -> ``benchmark``; the root package is ``xret``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "xret"


def _imports(tree: ast.AST) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names) of every absolute import of an xret module in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = tuple(alias.name for alias in node.names)
            if node.module == "xret":  # ``from xret import runtime``: the submodules themselves
                found += [(node.lineno, f"xret.{name}", ()) for name in names]
            elif node.module.startswith("xret."):
                found.append((node.lineno, node.module, names))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name, ())
                for alias in node.names
                if alias.name == "xret" or alias.name.startswith("xret.")
            ]
    return found


def layering_violations(package: Path) -> list[str]:
    """Imports of ``package`` (an ``xret`` source tree) that go up or sideways, and units that
    have no layer. The root package's lazy Python API (``xret/__init__.py``) is the one exception;
    ``import xret`` (for ``__version__``) is allowed everywhere."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent)
        parts = relative.with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        source = _unit(".".join(parts))
        if source == "xret":
            continue
        if source not in RANK:
            problems.append(f"{relative}: unit {source!r} has no layer in LAYERS")
            continue
        for line, module, _ in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = _unit(module)
            if target in (source, "xret") or target == "__version__":
                continue
            if target not in RANK:
                problems.append(f"{relative}:{line}: imports {module}, a unit with no layer")
            elif RANK[target] >= RANK[source]:
                way = "up" if RANK[target] > RANK[source] else "sideways"
                problems.append(f"{relative}:{line}: {source} imports {module} ({way})")
    return problems


def test_no_import_goes_up_or_sideways():
    assert layering_violations(Path(xret.__file__).parent) == []


def test_the_scan_finds_upward_sideways_and_lazy_imports(tmp_path):
    package = tmp_path / "xret"
    (package / "measures").mkdir(parents=True)
    (package / "tasks").mkdir()
    (package / "measures" / "table.py").write_text(
        "def f():\n    from xret.benchmark.engine import EmbeddingEngine\n"
    )
    (package / "tasks" / "spec.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import xret.models.spec\n"
    )
    (package / "newpart.py").write_text("")
    (package / "runtime.py").write_text("from xret import errors\nimport xret\n")
    assert layering_violations(package) == [
        "xret/measures/table.py:2: measures imports xret.benchmark.engine (up)",
        "xret/newpart.py: unit 'newpart' has no layer in LAYERS",
        "xret/tasks/spec.py:3: tasks imports xret.models.spec (sideways)",
    ]
