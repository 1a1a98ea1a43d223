"""The one way xret hashes a JSON value (a key's identity, a revision's inputs): sha256 of its
JSON text with sorted keys. Keys and revisions already stored were made this way, so the text
form must not change; callers keep as many hex digits as their key format has."""

from __future__ import annotations

import hashlib
import json


def value_digest(value: object) -> str:
    """The sha256 (hex) of ``value`` as JSON with sorted keys."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
