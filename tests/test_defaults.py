"""``xret/defaults.py`` owns the statistics' defaults: no function or module of the package keeps
its own copy of the level, alpha, power or resample counts (a copy drifts when the default
moves, as the measures' 0.95 and 0.05 would have)."""

from __future__ import annotations

import ast
from pathlib import Path

from xret import defaults

PACKAGE = Path(defaults.__file__).parent
OWNED = ("confidence", "alpha", "power", "resamples")
"""Parameters (and, upper-cased, module constants) whose numbers only defaults.py may write."""


def _number(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _copies(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
            pairs += list(zip(args.kwonlyargs, args.kw_defaults))
            found += [
                f"{node.name}({a.arg}={d.value})" for a, d in pairs if a.arg in OWNED and _number(d)
            ]
        elif isinstance(node, ast.Assign) and _number(node.value):
            for target in node.targets:
                name = getattr(target, "id", "")
                if name.lower() in OWNED or name.endswith("RESAMPLES"):
                    found.append(f"{name} = {node.value.value}")
    return found


def test_no_statistics_default_is_copied_outside_defaults():
    copies = {
        str(path.relative_to(PACKAGE)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "defaults.py"
        if (found := _copies(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert copies == {}


def test_the_check_finds_a_copy():
    source = "POWER = 0.8\ndef f(x, confidence=0.95, *, alpha=0.05, seed=0):\n    pass\n"
    assert _copies(ast.parse(source)) == ["POWER = 0.8", "f(confidence=0.95)", "f(alpha=0.05)"]
