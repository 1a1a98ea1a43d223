"""``xret models``: one entry per model, in 80 columns (a terminal's default width)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from xret.models.providers import get_provider
from xret.models.spec import ModelSpec

WIDTH = 80
_INDENT = " " * 4


def model_lines(catalog: Mapping[str, ModelSpec], cache_dir: Path) -> list[str]:
    """Per model: its name, dimension, declared languages and whether it can run here; then, on
    an indented line, what it is (wrapped, never cut)."""
    lines = []
    for name, spec in sorted(catalog.items()):
        provider = get_provider(spec.provider)
        declared = getattr(provider, "declared", None)  # what a model states without loading
        spec = declared(spec) if declared else spec
        dim = f"{spec.dim}d" if spec.dim else "dim ?"
        langs = "langs ?" if spec.languages is None else f"{len(spec.languages)} langs"
        head = f"{name:<14} {dim:>5} {langs:>9}  {provider.status(spec, cache_dir)}"
        lines += textwrap.wrap(head, WIDTH, subsequent_indent=_INDENT, break_on_hyphens=False)
        lines += textwrap.wrap(
            spec.display_name or spec.source or name,
            WIDTH,
            initial_indent=_INDENT,
            subsequent_indent=_INDENT,
            break_on_hyphens=False,
        )
    return lines
