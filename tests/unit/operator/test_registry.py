"""The registry holds every watched object for the poller; at 10,000 objects what it keeps per
object is most of the operator's memory. The fixture is a TrainingJob as the API server sent
it (GET of the raw object during `python -m bench scale trainingjobs 1000`, written by the
operator): four field managers' managedFields are more than half of it."""

from __future__ import annotations

import copy
import json
import tracemalloc
from pathlib import Path
from typing import Any

import kopf

from modelarts_operator.reconcile.handlers import register
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.reconcile.runtime import Runtime
from modelarts_operator.settings import OperatorSettings

from .gadget import FakeClients, FakeKube, Remote, declaration

WATCHED: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "trainingjob-watched.json").read_text()
)


def test_the_registry_keeps_what_the_poller_reads_without_managed_fields() -> None:
    registry = Registry()
    body = copy.deepcopy(WATCHED)
    registry.update("trainingjobs", "ADDED", body)
    entry = registry.get("trainingjobs", "bench", "trainingjob-00007")
    assert entry is not None
    assert "managedFields" not in entry.body["metadata"]
    assert body["metadata"]["managedFields"], "the watch event itself is left as it was"
    assert entry.body["metadata"]["resourceVersion"] == WATCHED["metadata"]["resourceVersion"]
    assert entry.body["metadata"]["uid"] == WATCHED["metadata"]["uid"]
    assert entry.status == WATCHED["status"]
    assert entry.spec == WATCHED["spec"]
    ours = {k: v for k, v in WATCHED["metadata"]["annotations"].items() if "kopf." not in k}
    assert dict(entry.annotations) == ours  # kopf's record of the spec is not kept twice


def test_a_thousand_watched_objects_cost_a_sixth_in_the_registry() -> None:
    raw = json.dumps(WATCHED)
    tracemalloc.start()
    events = [json.loads(raw) for _ in range(1000)]
    parsed, _ = tracemalloc.get_traced_memory()
    registry = Registry()
    for i, event in enumerate(events):
        event["metadata"]["name"] = f"job-{i}"
        registry.update("trainingjobs", "ADDED", event)
    del events, event  # kopf drops the event once handled; the registry's copy stays
    kept, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(registry.entries("trainingjobs")) == 1000
    # 22.7 KB parsed; 8.9 KB without managedFields; 3.0 KB with its strings shared and kopf's
    # record of the spec dropped
    assert kept < parsed / 6, f"{kept / 1000:.0f} B per object kept of {parsed / 1000:.0f} parsed"


async def test_the_watch_event_kopf_keeps_sheds_its_managed_fields_and_nothing_else() -> None:
    """kopf's Body of an event lives in reference cycles until the cyclic collector runs; the
    kind's watch handler (which kopf runs before the change handlers) drops the managedFields
    kopf would keep with it (more than half of this object), and leaves what kopf reads after
    it: spec, kopf's annotations, finalizers, status."""
    decl = declaration(Remote())
    rt = Runtime(OperatorSettings(), FakeKube(), FakeClients(), [decl])  # type: ignore[arg-type]
    kopf_registry = kopf.OperatorRegistry()
    register(kopf_registry, rt)
    [track] = [h for h in kopf_registry._watching.get_all_handlers() if h.id == "track"]
    event: dict[str, Any] = {"type": "MODIFIED", "object": copy.deepcopy(WATCHED)}
    await track.fn(event=event)  # type: ignore[call-arg,arg-type,misc]
    shed = event["object"]
    kept = copy.deepcopy(WATCHED)
    del kept["metadata"]["managedFields"]
    assert shed == kept
    assert len(json.dumps(shed)) < len(json.dumps(WATCHED)) / 2
    assert rt.registry.get("gadgets", "bench", "trainingjob-00007") is not None


def _job(name: str, ref: str | None, namespace: str = "ns") -> dict[str, Any]:
    summary = {"dataSources": [{"job": {"jobRef": {"name": ref}}}]} if ref else {}
    return {
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"workspaceRef": {"name": "team"}, "algorithm": {"summary": summary}},
    }


def test_referencing_follows_spec_changes_deletes_and_namespaces() -> None:
    """Who names whom is kept with each update (a lookup, not a walk of every spec: at 10,000
    v2 jobs each job recording its ID walked all the others' specs)."""
    registry = Registry()
    refs = [("trainingjobs", "jobRef")]
    registry.update("trainingjobs", "ADDED", _job("viz", "train-a"))
    registry.update("trainingjobs", "ADDED", _job("viz-2", "train-a"))
    registry.update("trainingjobs", "ADDED", _job("viz", "train-a", namespace="other"))
    registry.update("trainingjobs", "ADDED", _job("train-a", None))
    assert [e.name for e in registry.referencing(refs, "ns", "train-a")] == ["viz", "viz-2"]
    registry.update("trainingjobs", "MODIFIED", _job("viz", "train-b"))  # the spec now names b
    assert [e.name for e in registry.referencing(refs, "ns", "train-a")] == ["viz-2"]
    assert [e.name for e in registry.referencing(refs, "ns", "train-b")] == ["viz"]
    registry.update("trainingjobs", "DELETED", _job("viz-2", "train-a"))
    assert registry.referencing(refs, "ns", "train-a") == []
    assert [e.namespace for e in registry.referencing(refs, "other", "train-a")] == ["other"]
    # every job names its workspace: the same index answers the workspace's dependents
    workspace = registry.referencing([("trainingjobs", "workspaceRef")], "ns", "team")
    assert sorted(e.name for e in workspace) == ["train-a", "viz"]
