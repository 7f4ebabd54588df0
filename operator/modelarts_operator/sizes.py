"""The operator's size budget: how big an object of its kinds may get, and why.

An object is stored in etcd as one JSON value, and etcd refuses a request larger than 1.5 MiB
(``--max-request-bytes``, 1,572,864 bytes, the limit the API server is built around). What
the API server admits is the user's part (spec, labels, annotations); the operator then adds
its status and bookkeeping. An object that fits when applied but not once the operator writes
into it is one the operator can never finish, so the budget splits the limit ahead of time:

========================  =========  =====================================================
part                      budget     held by
========================  =========  =====================================================
spec                      640 KiB    the CRDs' bounds (every string, list and map),
                                     checked against the schema by tests/unit/crd/
                                     test_size_budget.py at JSON's worst case
status                    480 KiB    the status schemas' bounds (the status writer cuts a
                                     remote text or list to them)
operator's bookkeeping    32 KiB     finalizer, create intent, kopf's progress and
                                     diff-base digest, reconcile requests
annotations and labels    256 KiB    the API server (annotations: 256 KiB in all)
the rest of metadata      128 KiB    names, UIDs, managedFields
========================  =========  =====================================================

What no schema bounds (a free-form JSON field, annotations written with many escaped
characters) is bounded where it is read: a reconcile refuses (``InvalidSpec``) an object
that, without its status, leaves less than ``OPERATOR_ROOM`` under the limit, instead of
failing to write its status forever. kopf keeps no copy of the spec: its diff base is a
digest (``reconcile.bookkeeping.DigestDiffBaseStorage``).

Sizes are counted as the API server writes JSON (Go's encoding/json): a character takes 1 to
4 bytes in UTF-8, 2 when escaped (a quote, a backslash) and 6 as ``\\u00XX`` (a control
character, or one of ``<>&``, which Go escapes for HTML).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

KIB = 1024
ETCD_LIMIT = 1_572_864  # etcd's default --max-request-bytes: 1.5 MiB
SPEC_BUDGET = 640 * KIB
STATUS_BUDGET = 480 * KIB
BOOKKEEPING = 32 * KIB
ANNOTATIONS_AND_LABELS = 256 * KIB
METADATA = 128 * KIB
OPERATOR_ROOM = STATUS_BUDGET + BOOKKEEPING  # what the operator may add to an object
assert SPEC_BUDGET + OPERATOR_ROOM + ANNOTATIONS_AND_LABELS + METADATA <= ETCD_LIMIT

_GO_ESCAPED = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def stored_size(value: Any) -> int:
    """Bytes of ``value`` as JSON the way the API server stores it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.translate(_GO_ESCAPED).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return len(text.encode("utf-8", "surrogatepass"))


def oversized(body: Mapping[str, Any]) -> str | None:
    """Why an object cannot be reconciled for its size (None when it can): without its
    status it must leave ``OPERATOR_ROOM`` under etcd's limit."""
    size = stored_size({k: v for k, v in body.items() if k != "status"})
    if size <= ETCD_LIMIT - OPERATOR_ROOM:
        return None
    return (
        f"the object is {size} bytes as stored (JSON, without its status); the operator needs "
        f"up to {OPERATOR_ROOM} bytes for its status and bookkeeping within etcd's "
        f"{ETCD_LIMIT}-byte limit, so it would never finish: shorten the spec (free-form "
        "fields such as inputParams have no bound of their own) or the annotations"
    )
