"""References between objects (workspaceRef, trainingJobRef, modelRef) and wire conversion.

A dependent waits, with a condition naming what it waits for, until the referenced object is
Ready (or, for a reference declared ``needs_ready=False``, until it records its ID); the
runtime re-triggers it the moment that happens (``Runtime.dependency_ready``). What
is Ready is read from the registry of watched objects the reconcile's context carries.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Protocol

from pydantic import BaseModel

from .registry import Entry, Registry

SLOW_LOOK = 60.0  # seconds: how often a wait on a recorded ID looks again by itself


class Waiting(Exception):
    """A dependency is not ready yet; the message says which one. ``retry``: look again after
    that many seconds whatever happens (a wait that no re-trigger may end, below)."""

    def __init__(self, reason: str, message: str, retry: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry = retry


class Located(Protocol):
    """Where a reconcile looks its references up (its ``adapter.Context``)."""

    namespace: str
    registry: Registry
    spec: Any


def ready_dependency(ctx: Located, plural: str, kind: str, name: str) -> dict[str, Any]:
    """The referenced object's status once it is Ready; otherwise raise Waiting."""
    entry = ctx.registry.get(plural, ctx.namespace, name)
    if entry is None:
        raise Waiting(f"WaitingFor{kind}", f"waiting for {kind} {name!r}: it does not exist")
    if not entry.ready:
        phase = entry.status.get("phase") or "Pending"
        raise Waiting(
            f"WaitingFor{kind}", f"waiting for {kind} {name!r} to be ready (it is {phase})"
        )
    return entry.status


def recorded_dependency(ctx: Located, plural: str, kind: str, name: str, field: str) -> Entry:
    """The referenced object once its status records ``field`` (its remote ID), Ready or
    not: for a reference that needs the remote object to exist, not to have finished (a
    visualization job reads a training job's logs while it runs). Otherwise raise Waiting.

    The ID appearing re-triggers the dependent (``Runtime.dependency_recorded``), but only as
    a live change: at a (re)start the dependent may be resumed before its target is listed,
    so the wait also looks again slowly (nothing remote is called until it resolves)."""
    entry = ctx.registry.get(plural, ctx.namespace, name)
    if entry is None:
        raise Waiting(
            f"WaitingFor{kind}", f"waiting for {kind} {name!r}: it does not exist", SLOW_LOOK
        )
    if not entry.status.get(field):
        phase = entry.status.get("phase") or "Pending"
        raise Waiting(
            f"WaitingFor{kind}",
            f"waiting for {kind} {name!r} to have an ID (status.{field}; it is {phase})",
            SLOW_LOOK,
        )
    return entry


def workspace_id(ctx: Located) -> str:
    """spec.workspaceId, or the ID of the referenced Workspace once it is ready, or "0"."""
    spec = ctx.spec
    if spec.workspace_ref is not None:
        status = ready_dependency(ctx, "workspaces", "Workspace", spec.workspace_ref.name)
        return str(status["workspaceId"])
    return str(spec.workspace_id or "0")


def recorded_workspace_id(ctx: Located) -> str:
    """The workspace ID to look an object up in, whether or not the referenced Workspace is
    ready (it may be going away too); raise Waiting when it has no recorded ID at all, since
    looking in the wrong workspace would find nothing and orphan what is there."""
    spec = ctx.spec
    if spec.workspace_ref is None:
        return str(spec.workspace_id or "0")
    name = spec.workspace_ref.name
    entry = ctx.registry.get("workspaces", ctx.namespace, name)
    recorded = entry.status.get("workspaceId") if entry is not None else None
    if not recorded:
        raise Waiting("WaitingForWorkspace", f"the ID of Workspace {name!r} is not known")
    return str(recorded)


def workspace_id_of(entry: Entry, registry: Registry) -> str:
    """The workspace ID a watched object lives in, for grouping list calls (no waiting)."""
    spec = entry.spec
    if ref := spec.get("workspaceRef"):
        ws = registry.get("workspaces", entry.namespace, ref.get("name", ""))
        return str((ws.status.get("workspaceId") if ws else None) or "0")
    return str(spec.get("workspaceId") or "0")


def to_wire(model: BaseModel | None, *exclude: str) -> dict[str, Any]:
    """A spec sub-model as the API's snake_case dict (unset fields left out)."""
    if model is None:
        return {}
    return model.model_dump(by_alias=False, exclude_none=True, exclude=set(exclude), mode="json")


@functools.lru_cache(maxsize=65536)
def from_millis(value: int | None) -> str | None:
    """ModelArts epoch milliseconds → RFC 3339 (what Kubernetes date-time fields hold).

    Cached: the poller converts every listed job's create and start time every cycle, the
    same few numbers each time (an eighth of a v2 cycle's CPU at 10,000 jobs)."""
    if not value:
        return None
    stamp = dt.datetime.fromtimestamp(value / 1000, dt.UTC).replace(microsecond=0)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
