"""An in-memory view of every object the operator watches, fed by kopf's watch events.

The batched poller reads it to know which remote IDs to look for, and dependency tracking
reads it to find the objects that wait for one that just became ready.
"""

from __future__ import annotations

import dataclasses
import sys
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
        # Who names whom: (plural, namespace, field, name) -> the keys of that kind's objects
        # whose spec holds ``field: {name: <name>}``, kept with every update so that
        # ``referencing`` is a lookup. It walked every object's spec of the referencing kind
        # instead: a v2 job recording its ID looked through all jobs' specs for a jobRef
        # (visualization jobs), 10,000 x 10,000 walks in a burst of 10,000 jobs, which took
        # the operator's whole CPU (bench: 4,924 of 10,000 Synced after 553 s).
        self._named_by: dict[tuple[str, str, str, str], set[Key]] = {}

    def update(self, plural: str, event_type: str | None, body: Mapping[str, Any]) -> Entry | None:
        """Record a watch event; return the previous entry (None if new)."""
        meta = body.get("metadata", {})
        key = (meta.get("namespace", ""), meta.get("name", ""))
        objects = self._kinds.setdefault(plural, {})
        previous = objects.get(key)
        current = None
        if event_type == "DELETED":
            objects.pop(key, None)
        else:
            current = objects[key] = Entry(plural, key[0], key[1], _without_managed_fields(body))
        before = _names(previous.spec) if previous is not None else set()
        after = _names(current.spec) if current is not None else set()
        if before != after:
            self._index(plural, key, before, after)
        return previous

    def _index(
        self, plural: str, key: Key, before: set[tuple[str, str]], after: set[tuple[str, str]]
    ) -> None:
        for field, name in before - after:
            slot = (plural, key[0], field, name)
            keys = self._named_by.get(slot)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._named_by[slot]
        for field, name in after - before:
            self._named_by.setdefault((plural, key[0], field, name), set()).add(key)

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
            objects = self._kinds.get(plural, {})
            for key in sorted(self._named_by.get((plural, namespace, field, name), ())):
                if (entry := objects.get(key)) is not None:
                    found.append(entry)
        return found


def _without_managed_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The object as the registry keeps it: without what the operator never reads from it,
    and with its repeated strings shared.

    - ``metadata.managedFields``: server-side field ownership, most of an object in memory (a
      v1 TrainingJob: 22 KB parsed, 8.5 KB without it, with one entry per field manager);
    - kopf's own annotations (``kopf.`` prefix): its last-handled configuration is a second
      copy of the spec, as JSON;
    - every key and every short string value is interned: a watch event is parsed on its own,
      so each object had its own copies of the same keys ("lastTransitionTime", "status"...)
      and values ("True", "Synced", the timestamps of one burst...). 8.5 KB → 3.0 KB for that
      TrainingJob (tests/unit/operator/test_registry.py), 30 → 60 MB at 10,000 objects.

    The copy is new all the way down, so nothing of the event (its managedFields) is kept alive
    through it."""
    out: dict[str, Any] = _interned(dict(body))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        if isinstance(annotations := meta.get("annotations"), dict):
            meta["annotations"] = {
                k: v for k, v in annotations.items() if not k.startswith("kopf.")
            }
    return out


def _kopfs(annotation: str) -> bool:
    """kopf's own bookkeeping (its prefix starts so: ``bookkeeping.KOPF_PREFIX``)."""
    return annotation.startswith("kopf.")


# Values longer than this are mostly unique (descriptions, messages, URLs): not interned.
_INTERNED_LENGTH = 64


def _interned(value: Any, intern: Any = sys.intern) -> Any:
    """A deep copy of parsed JSON with its keys and short strings interned (parsed JSON: dicts,
    lists and scalars; ~0.1 ms for a TrainingJob's watch event)."""
    kind = type(value)
    if kind is dict:
        return {intern(k): _interned(v) for k, v in value.items() if k != "managedFields"}
    if kind is list:
        return [_interned(v) for v in value]
    if kind is str and len(value) <= _INTERNED_LENGTH:
        return intern(value)
    return value


def _names(value: Any, found: set[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
    """Every ``(field, name)`` for which ``field: {name: <name>}`` appears anywhere in
    ``value`` (a spec: the references it makes, whatever their field)."""
    found = set() if found is None else found
    if isinstance(value, dict):
        for field, item in value.items():
            if isinstance(item, dict) and isinstance(name := item.get("name"), str):
                found.add((field, name))
            _names(item, found)
    elif isinstance(value, list):
        for item in value:
            _names(item, found)
    return found
