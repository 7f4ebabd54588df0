"""An in-memory view of every object the operator watches, fed by kopf's watch events.

The batched poller reads it to know which remote IDs to look for, and dependency tracking
reads it to find the objects that wait for one that just became ready.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import conditions as cond

if TYPE_CHECKING:
    from .status import Report

Key = tuple[str, str]  # (namespace, name)


@dataclass
class Entry:
    plural: str
    namespace: str
    name: str
    body: dict[str, Any]
    # A poll report this view of the object was found to show already (rendering it changed
    # nothing). Kept on the entry because the status it was checked against is this body's:
    # the next watch event makes a new Entry, and the memo goes with the old one.
    shown: Report | None = dataclasses.field(default=None, compare=False, repr=False)
    # The object's API form (its kind's form name; "" when its spec does not validate),
    # picked once per view through the kind's selector (KindDeclaration.form_of).
    form_name: str | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.body.get("spec") or {}
        return spec

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.body.get("status") or {}
        return status

    @property
    def annotations(self) -> Mapping[str, str]:
        annotations: Mapping[str, str] = self.body.get("metadata", {}).get("annotations") or {}
        return annotations

    @property
    def ready(self) -> bool:
        return cond.is_true(self.status.get("conditions"), cond.READY)

    @property
    def deleting(self) -> bool:
        return bool(self.body.get("metadata", {}).get("deletionTimestamp"))


class Registry:
    def __init__(self) -> None:
        self._kinds: dict[str, dict[Key, Entry]] = {}

    def update(self, plural: str, event_type: str | None, body: Mapping[str, Any]) -> Entry | None:
        """Record a watch event; return the previous entry (None if new)."""
        meta = body.get("metadata", {})
        key = (meta.get("namespace", ""), meta.get("name", ""))
        objects = self._kinds.setdefault(plural, {})
        previous = objects.get(key)
        if event_type == "DELETED":
            objects.pop(key, None)
        else:
            objects[key] = Entry(plural, key[0], key[1], _without_managed_fields(body))
        return previous

    def get(self, plural: str, namespace: str, name: str) -> Entry | None:
        return self._kinds.get(plural, {}).get((namespace, name))

    def entries(self, plural: str) -> list[Entry]:
        return list(self._kinds.get(plural, {}).values())

    def __iter__(self) -> Iterator[Entry]:
        for objects in self._kinds.values():
            yield from objects.values()

    def count_by_phase(self) -> dict[tuple[tuple[str, str], ...], float]:
        """Objects by kind and phase, for the modelarts_objects gauge."""
        counts: dict[tuple[tuple[str, str], ...], float] = {}
        for entry in self:
            key = (("kind", entry.plural), ("phase", str(entry.status.get("phase") or "Pending")))
            counts[key] = counts.get(key, 0) + 1
        return counts

    def count_not_synced(self) -> dict[tuple[tuple[str, str], ...], float]:
        """Objects whose Synced condition is not True, by namespace, kind and reason (an object
        without the condition yet counts as ``Unknown``), for the modelarts_objects_not_synced
        gauge: what the stuck-object and credential alerts watch."""
        counts: dict[tuple[tuple[str, str], ...], float] = {}
        for entry in self:
            synced = cond.get_condition(entry.status.get("conditions"), cond.SYNCED)
            if synced is not None and synced.get("status") == "True":
                continue
            reason = str((synced or {}).get("reason") or "Unknown")
            key = (
                ("kind", entry.plural),
                ("object_namespace", entry.namespace),
                ("reason", reason),
            )
            counts[key] = counts.get(key, 0) + 1
        return counts

    def referencing(
        self, references: list[tuple[str, str]], namespace: str, name: str
    ) -> list[Entry]:
        """Objects in ``namespace`` that name ``name`` in one of ``references`` ((plural, spec
        field) pairs: the kinds' declared references to the kind at hand)."""
        found = []
        for plural, field in references:
            for entry in self.entries(plural):
                if entry.namespace == namespace and _references(entry.spec, field, name):
                    found.append(entry)
        return found


def _without_managed_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The object as the registry keeps it: without ``metadata.managedFields``.

    Server-side field ownership is nothing the operator reads, yet it is most of an object
    in memory (a v1 TrainingJob: 22 KB parsed, 8.5 KB without it, with one entry per field
    manager: the creator, kopf's two patches, the status writer); at 10,000 objects it was
    ~140 MB of the operator's RSS. The outer dict and the metadata are new, so the event's
    managedFields are not kept alive through them."""
    out = dict(body)
    meta = body.get("metadata")
    if isinstance(meta, Mapping):
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


def _references(value: Any, field: str, name: str) -> bool:
    """True if ``field: {name: <name>}`` appears anywhere in ``value``."""
    if isinstance(value, dict):
        ref = value.get(field)
        if isinstance(ref, dict) and ref.get("name") == name:
            return True
        return any(_references(v, field, name) for v in value.values())
    if isinstance(value, list):
        return any(_references(v, field, name) for v in value)
    return False
