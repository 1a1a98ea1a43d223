"""``xret-model.json``: what ``xret train`` records beside the sentence-transformers files of a
model it trained, and the part of it that becomes the model's spec (base model, regime, α), so
that its result records group with the other baselines of the same base model."""

from __future__ import annotations

import json
from pathlib import Path

from xret.errors import ModelError

SPEC_FILE = "xret-model.json"
FORMAT = "xret-model/1"


def trained_fields(folder: Path) -> dict[str, object]:
    """``ModelSpec`` fields recorded in ``folder``'s spec file; empty when it has none."""
    path = folder / SPEC_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["format"] != FORMAT:
            raise ValueError(f"format {data['format']!r}, expected {FORMAT!r}")
        languages = data["languages"]
        return {
            "display_name": data["display_name"],
            "base_model": data["base_model"]["name"],
            "regime": data["regime"],
            "alpha": data["alpha"],
            "dim": data["dim"],
            "licence": data["licence"],
            "languages": None if languages is None else frozenset(languages),
        }
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{path}: not a readable xret model file ({err})") from None
