"""A poller's surroundings for whole-cycle tests: an API server that refuses stale writes as
the real one does, a training-job list that can fail, and a registry fed from the server."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from modelarts_operator.api import errors
from modelarts_operator.crd.training_job import TrainingJobStatus
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.adapter import Observation
from modelarts_operator.reconcile.kinds import KindDeclaration
from modelarts_operator.reconcile.kube import Kind, KubeError
from modelarts_operator.reconcile.poller import Poller
from modelarts_operator.reconcile.registry import Entry, Registry
from modelarts_operator.reconcile.resume import Resumed
from modelarts_operator.reconcile.status import StatusWriter
from modelarts_operator.settings import OperatorSettings

PLURAL = "trainingjobs"
NS = "team-a"
SYNCED = cond.set_condition(None, cond.SYNCED, True, "Synced", "", 1)
READY = cond.set_condition(SYNCED, cond.READY, True, "Ready", "", 1)


@dataclass
class ApiServer:
    """Status writes conditional on resourceVersion, as the real one does; ``conflicts``
    refuses that many more writes with 409 (another writer got there first)."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    conflicts: int = 0
    writes: int = 0
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # named Events posted
    event_creates: int = 0  # every create, refused ones too

    async def post_event(
        self, involved: dict[str, Any], type_: str, reason: str, message: str, **kw: Any
    ) -> None:
        """A named Event is created once: a second create of the name is a 409."""
        self.event_creates += 1
        name = kw["name"]
        if name in self.events:
            raise KubeError(409, f'events "{name}" already exists')
        self.events[name] = {"type": type_, "reason": reason, "message": message, **kw}

    async def patch_status(
        self, kind: Kind, namespace: str, name: str, patch: dict[str, Any], version: str | None
    ) -> None:
        body = self.objects[name]
        if self.conflicts or version != body["metadata"]["resourceVersion"]:
            if self.conflicts:
                self.conflicts -= 1
                self._bump(body)
            raise KubeError(409, "the object has been modified")
        status = body.setdefault("status", {})
        for key, value in patch.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        self._bump(body)
        self.writes += 1

    async def get(self, path: str) -> dict[str, Any]:
        return copy.deepcopy(self.objects[path.rsplit("/", 1)[-1]])

    def _bump(self, body: dict[str, Any]) -> None:
        body["metadata"]["resourceVersion"] = str(int(body["metadata"]["resourceVersion"]) + 1)


class Jobs:
    """The training-job list (one job per object the server has): answers, or fails the way
    an unreachable endpoint does."""

    kind = Kind("TrainingJob", PLURAL)
    id_field = "jobId"
    detail_in_poller = False
    event_phases: frozenset[str] = frozenset()  # no event log

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.down = False
        self.remote_status = "Completed"  # what every listed job says
        self.detail_phases: set[str] = set()  # phases whose report comes from a detail GET

    def polled(self, entry: Entry) -> bool:
        return bool(entry.status.get(self.id_field))

    def poll_scope(self, entry: Entry, registry: Any) -> str:
        return "0"

    async def list_remote(self, client: Any, scope: str) -> AsyncIterator[tuple[str, Any]]:
        if self.down:
            raise errors.TransportError("GET /v1/p/training-jobs: ConnectError after 6 attempts")
        for body in list(self.server.objects.values()):
            yield str(body["status"]["jobId"]), {"status": self.remote_status}

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        if summary["status"] == "Running":
            return Observation("Running", False, facts={}, in_flight=True)
        return Observation("Succeeded", True, facts={}, in_flight=False)

    def needs_detail(self, old_status: dict[str, Any], phase: str) -> bool:
        return phase in self.detail_phases

    def polls_detail(self, entry: Entry) -> bool:
        return self.detail_in_poller


class Clients:
    async def for_namespace(self, namespace: str) -> object:
        return self  # one client: location_of(client) below sees no project


@dataclass
class Runtime:
    kube: ApiServer
    settings: OperatorSettings = field(default_factory=OperatorSettings)
    registry: Registry = field(default_factory=Registry)
    clients: Clients = field(default_factory=Clients)
    pokes: list[str] = field(default_factory=list)

    async def poke(self, entry: Entry, why: str) -> None:
        self.pokes.append(entry.name)

    async def post_event(self, entry: Entry, type_: str, reason: str, message: str) -> None:
        pass

    def watch(self) -> None:
        """The watch catches up: the registry sees what the API server has."""
        for body in self.kube.objects.values():
            self.registry.update(PLURAL, "MODIFIED", copy.deepcopy(body))


def stack(
    names: list[str],
    conditions: list[cond.Condition] | None = None,
    adapter: type[Jobs] = Jobs,
) -> tuple[Poller, Runtime, Jobs]:
    server = ApiServer()
    for i, name in enumerate(names):
        status = {"jobId": str(1000 + i), "phase": "Succeeded", "conditions": conditions or READY}
        server.objects[name] = {
            "metadata": {"name": name, "namespace": NS, "resourceVersion": "1", "generation": 1},
            "status": copy.deepcopy(status),
        }
    rt = Runtime(server)
    rt.watch()
    jobs = adapter(server)
    return Poller(cast(Any, rt), cast(Any, _Reconciler(jobs))), rt, jobs


class _Reconciler:
    """The parts of a kind's reconciler the poller uses: the kind (one form, the jobs), its
    status writer, in-flight signal and the objects resumed on trust."""

    writer = StatusWriter(TrainingJobStatus)

    def __init__(self, adapter: Jobs) -> None:
        self.adapter = adapter
        form = SimpleNamespace(name="jobs", adapter=adapter)
        self.kind = SimpleNamespace(plural=PLURAL, resource=adapter.kind, form_of=lambda e: form)
        self.in_flight = asyncio.Event()
        self.resumed = Resumed()

    def adapter_for(self, spec: Any) -> Jobs:
        return self.adapter


def synced(rt: Runtime, name: str) -> dict[str, Any]:
    found = cond.get_condition(rt.kube.objects[name]["status"]["conditions"], cond.SYNCED)
    return dict(found or {})


async def listed(
    kind: KindDeclaration, client: Any, entries: list[Entry], registry: Registry | None = None
) -> dict[str, Any]:
    """What a poll cycle lists for ``entries`` (by remote ID): each form's list, once per
    scope (workspace), as the poller groups them."""
    registry = registry if registry is not None else Registry()
    scopes: dict[tuple[str, str], Any] = {}
    for entry in entries:
        form = kind.form_of(entry)
        assert form is not None, entry.spec
        scopes[(form.name, form.adapter.poll_scope(entry, registry))] = form.adapter
    found: dict[str, Any] = {}
    for (_, scope), adapter in scopes.items():
        async for ident, item in adapter.list_remote(client, scope):
            found[ident] = item
    return found
