"""Kubernetes-style conditions (``Synced``, ``Ready``, ``Failed``) computed as pure functions.

Kept pure so that "did anything change?" is a plain comparison: a poll that finds nothing new
produces an equal status and therefore no write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..crd.common import MESSAGE_LENGTH

SYNCED = "Synced"
READY = "Ready"
FAILED = "Failed"

Condition = dict[str, Any]


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: list[Condition] | None,
    type_: str,
    status: bool,
    reason: str,
    message: str = "",
    generation: int | None = None,
    now: str | None = None,
) -> list[Condition]:
    """Return ``conditions`` with ``type_`` set; ``lastTransitionTime`` moves only when the
    status flips, so re-asserting the same state is not a change."""
    result = [dict(c) for c in conditions or []]
    wanted = "True" if status else "False"
    current = next((c for c in result if c.get("type") == type_), None)
    if current is None:
        current = {"type": type_}
        result.append(current)
    if current.get("status") != wanted or "lastTransitionTime" not in current:
        current["lastTransitionTime"] = now or now_rfc3339()
    current["status"] = wanted
    current["reason"] = reason
    current["message"] = message[:MESSAGE_LENGTH]
    if generation is not None:
        current["observedGeneration"] = generation
    order = {SYNCED: 0, READY: 1, FAILED: 2}
    result.sort(key=lambda c: order.get(c.get("type", ""), 9))
    return result


def get_condition(conditions: list[Condition] | None, type_: str) -> Condition | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)


def is_true(conditions: list[Condition] | None, type_: str) -> bool:
    cond = get_condition(conditions, type_)
    return bool(cond and cond.get("status") == "True")


def status_changed(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``new`` whose value differs from ``old`` (a merge patch), or {}."""
    old = old or {}
    return {key: value for key, value in new.items() if old.get(key) != value}
