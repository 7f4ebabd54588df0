"""kopf's diff base is a digest of the object's essence, not a copy of its spec (issue 24:
the copy doubled every object and put the whole spec in one annotation, where all of an
object's annotations share 256 KiB)."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace
from typing import Any

import kopf

from modelarts_operator.reconcile import handlers
from modelarts_operator.reconcile.bookkeeping import DiffBase
from modelarts_operator.reconcile.policies import CREATE_PENDING, PAUSED

KEY = f"{handlers.KOPF_PREFIX}/last-handled-configuration"
PROGRESS = f"{handlers.KOPF_PREFIX}/reconcile"


def _runtime() -> Any:
    """What ``configure`` reads of the runtime: its diff base and the worker limit."""
    return SimpleNamespace(diffbase=DiffBase(), settings=SimpleNamespace(worker_limit=0))


def _storage() -> kopf.DiffBaseStorage:
    settings = kopf.OperatorSettings()
    handlers.configure(settings, _runtime())
    return settings.persistence.diffbase_storage


def _body(spec: dict[str, Any], **annotations: str) -> dict[str, Any]:
    meta = {"name": "big", "namespace": "ns", "annotations": annotations}
    return {"apiVersion": "x/v1", "kind": "Model", "metadata": meta, "spec": spec}


def _recorded(storage: kopf.DiffBaseStorage, raw: dict[str, Any]) -> dict[str, Any]:
    """The object after kopf recorded it as handled."""
    body = kopf.Body(raw)
    patch = kopf.Patch()
    storage.store(body=body, patch=patch, essence=storage.build(body=body))
    recorded = copy.deepcopy(raw)
    recorded["metadata"]["annotations"].update(dict(patch)["metadata"]["annotations"])
    return recorded


def test_a_large_spec_is_recorded_in_a_few_bytes_and_changes_are_still_seen() -> None:
    storage = _storage()
    spec = {"initialConfig": "x" * 600_000}
    recorded = _recorded(storage, _body(spec))
    assert len(recorded["metadata"]["annotations"][KEY]) < 100
    body = kopf.Body(recorded)
    assert storage.fetch(body=body) == storage.build(body=body)  # unchanged: no update
    changed = copy.deepcopy(recorded)
    changed["spec"]["initialConfig"] += "y"
    assert storage.fetch(body=kopf.Body(changed)) != storage.build(body=kopf.Body(changed))
    annotated = copy.deepcopy(recorded)
    annotated["metadata"]["annotations"][PAUSED] = "true"  # a policy change is an update
    assert storage.fetch(body=kopf.Body(annotated)) != storage.build(body=kopf.Body(annotated))


def test_kopfs_own_annotations_and_the_create_intent_are_no_change() -> None:
    storage = _storage()
    recorded = _recorded(storage, _body({"a": 1}))
    busy = copy.deepcopy(recorded)
    busy["metadata"]["annotations"][PROGRESS] = '{"started": "2026-01-01T00:00:00"}'
    busy["metadata"]["annotations"][CREATE_PENDING] = "ns_big"
    assert storage.fetch(body=kopf.Body(busy)) == storage.build(body=kopf.Body(busy))


def test_an_object_recorded_by_an_older_release_is_reconciled_once_more() -> None:
    storage = _storage()
    raw = _body({"a": 1})
    raw["metadata"]["annotations"][KEY] = '{"spec":{"a":1}}\n'  # the JSON copy of before
    body = kopf.Body(raw)
    assert storage.fetch(body=body) != storage.build(body=body)


# -- what kopf decides from it ----------------------------------------------------------------


def _cause(raw: dict[str, Any], *, initial: bool = False) -> str:
    """The changing cause kopf detects for ``raw``, computed as kopf's processing does
    (kopf/_core/reactor/processing.py, kopf 1.45: fetch the stored essence, build the
    current one, clear the progress storage's keys from both, diff them)."""
    from kopf._cogs.structs import diffs
    from kopf._core.intents import causes

    settings = kopf.OperatorSettings()
    handlers.configure(settings, _runtime())
    storage, progress = settings.persistence.diffbase_storage, settings.persistence.progress_storage
    body = kopf.Body(raw)
    old = storage.fetch(body=body)
    new = storage.build(body=body)
    old = progress.clear(essence=old) if old is not None else None
    new = progress.clear(essence=new)
    cause = causes.detect_changing_cause(
        finalizer=settings.persistence.finalizer,
        raw_event={"type": "MODIFIED", "object": raw},
        body=body,
        old=old,
        new=new,
        diff=diffs.diff(old, new),
        initial=initial,
        resource=None,
        indices=None,
        logger=None,
        patch=kopf.Patch(),
        memo=None,
    )
    return str(cause.reason.value)


def test_kopf_sees_a_create_an_update_and_then_nothing() -> None:
    storage = _storage()
    raw = _body({"a": 1})
    assert _cause(raw) == "create"
    recorded = _recorded(storage, raw)
    assert _cause(recorded) == "noop"
    assert _cause(recorded, initial=True) == "resume"  # a restart resumes it, no update
    changed = copy.deepcopy(recorded)
    changed["spec"]["a"] = 2
    assert _cause(changed) == "update"


def test_an_object_an_older_release_recorded_upgrades_in_one_update() -> None:
    """The JSON copy an older release stored (kopf's own storage, as configured then) is an
    update once, never a create (a create would be a second remote object for an object
    whose status the reconcile has not read yet); once recorded, a digest, it rests."""
    older = kopf.AnnotationsDiffBaseStorage(
        prefix=handlers.KOPF_PREFIX,
        key="last-handled-configuration",
        ignored_fields=[("metadata", "annotations", CREATE_PENDING)],
    )
    raw = _recorded(older, _body({"a": 1}))
    assert '"spec":{"a":1}' in raw["metadata"]["annotations"][KEY]
    assert _cause(raw) == "update"
    assert _cause(raw, initial=True) == "update"  # on the restart that upgrades, too
    upgraded = _recorded(_storage(), raw)
    assert set(json.loads(upgraded["metadata"]["annotations"][KEY])) == {"sha256"}
    assert _cause(upgraded) == "noop"
    assert _cause(upgraded, initial=True) == "resume"
