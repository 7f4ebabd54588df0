"""Deterministic remote names: stable across restarts, valid for the API's pattern.

The name is what makes "exactly once" possible: ModelArts refuses a duplicate name in a
project, so a create retried after a crash either finds the object by name or gets a
duplicate-name error and looks it up.
"""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^A-Za-z0-9_-]+")


def remote_name(namespace: str, name: str, max_length: int = 64) -> str:
    """``<namespace>-<name>`` with invalid characters replaced; shortened with a hash suffix
    when too long, so two different objects never share a name."""
    base = _INVALID.sub("-", f"{namespace}-{name}").strip("-_") or "obj"
    if len(base) <= max_length:
        return base
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:8]
    return f"{base[: max_length - 9].rstrip('-_')}-{digest}"
