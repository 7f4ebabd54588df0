"""Remote event logs mirrored as Kubernetes Events (``reconcile/remote_events.py``): which
objects are looked at, how many events a look reads, and that each remote event becomes one
Kubernetes Event across looks and restarts, with nothing secret in it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelarts_operator import reasons
from modelarts_operator.api import errors
from modelarts_operator.api.redact import SecretScope
from modelarts_operator.reconcile.adapter import Observation, RemoteEvent
from modelarts_operator.reconcile.kube import KubeError
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.reconcile.remote_events import (
    EVENTS_PER_LOOK,
    LOOKS_PER_CYCLE,
    EventMirror,
    event_name,
    worth_a_look,
)
from modelarts_operator.resources.service_v1 import ServiceV1Adapter
from modelarts_operator.resources.service_v2 import ServiceV2Adapter

from .pollfakes import NS, ApiServer, Jobs, stack

V1 = ServiceV1Adapter.event_phases
V2 = ServiceV2Adapter.event_phases


def obs(phase: str, in_flight: bool = True) -> Observation:
    return Observation(phase, phase == "Running", in_flight=in_flight)


@pytest.mark.parametrize(
    ("phases", "shown", "observed", "looks"),
    [
        (V1, "Running", "Running", False),  # steady: never
        (V1, "Stopped", "Stopped", False),
        (V1, "Concerning", "Concerning", False),  # degraded, but no work in progress
        (V1, "Failed", "Failed", False),  # failed before the last look
        (V1, "Deploying", "Deploying", True),  # in progress: every look
        (V1, None, "Deploying", True),
        (V1, "Deploying", "Running", True),  # came to run since the last look
        (V1, "Deploying", "Failed", True),  # failed since the last look
        (V1, "Running", "Concerning", True),
        (V1, "Running", "Stopped", True),
        (V2, "Running", "Upgrading", True),
        (V2, "Upgrading", "Upgrading", True),
        (V2, "Running", "Stopping", True),
        (V2, "Init", "Init", True),
        (V2, "Running", "Running", False),
        (frozenset(), "Deploying", "Running", False),  # a form without an event log
        (frozenset(), "Creating", "Creating", False),
    ],
)
def test_which_objects_are_looked_at(
    phases: frozenset[str], shown: str | None, observed: str, looks: bool
) -> None:
    assert worth_a_look(shown, obs(observed), phases) is looks


def test_event_names_are_stable_per_object_and_remote_event() -> None:
    name = event_name("svc", "uid-1", "e1")
    assert name == event_name("svc", "uid-1", "e1")
    assert name.startswith("svc.remote-")
    assert len({name, event_name("svc", "uid-2", "e1"), event_name("svc", "uid-1", "e2")}) == 3
    long = event_name("s" * 253, "uid-1", "e1")
    assert len(long) <= 253
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", long)
    cut_at_a_dot = event_name("s" * 219 + ".x" * 10, "uid-1", "e1")  # char 220 is "."
    assert ".." not in cut_at_a_dot
    assert re.fullmatch(
        r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", cut_at_a_dot
    )


class Log:
    """A remote event log: answers the newest ``limit`` events, newest first, as the APIs do."""

    event_phases = V1

    def __init__(self, events: list[RemoteEvent]) -> None:
        self.events = events
        self.limits: list[int] = []
        self.down = False
        self.id_field = "serviceId"

    async def remote_events(self, client: Any, remote_id: str, limit: int) -> list[RemoteEvent]:
        self.limits.append(limit)
        if self.down:
            raise errors.ServerError("GET /v1/p/services/s1/events: 503")
        return sorted(self.events, key=lambda e: -(e.at_ms or 0))[:limit]


def service(uid: str = "uid-1") -> Entry:
    body = {
        "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
        "kind": "Service",
        "metadata": {"name": "svc", "namespace": NS, "uid": uid},
        "status": {"serviceId": "s1", "phase": "Deploying"},
    }
    return Entry("services", NS, "svc", body)


def remote(i: int, text: str = "", warning: bool = False) -> RemoteEvent:
    return RemoteEvent(f"e{i}", 1_700_000_000_000 + i * 1000, warning, text or f"step {i}")


async def test_each_remote_event_is_posted_once_across_looks_and_restarts() -> None:
    kube = ApiServer()
    log = Log([remote(1), remote(2, "deploy service failed: no quota", warning=True)])
    mirror = EventMirror(kube)  # type: ignore[arg-type]
    assert await mirror.look(service(), log, None, "Deploying") == 2
    assert await mirror.look(service(), log, None, "Deploying") == 0
    assert kube.event_creates == 2  # the second look knows what it posted: no create at all
    log.events.append(remote(3, "service is running"))
    assert await mirror.look(service(), log, None, "Deploying") == 1

    restarted = EventMirror(kube)  # type: ignore[arg-type]
    assert await restarted.look(service(), log, None, "Deploying") == 0  # each a 409: posted before
    assert await restarted.look(service(), log, None, "Deploying") == 0
    assert kube.event_creates == 3 + 3  # one refused create per event after the restart, once
    posted = sorted(kube.events.values(), key=lambda e: e["at"])
    assert [(e["type"], e["reason"], e["message"]) for e in posted] == [
        ("Normal", reasons.REMOTE_EVENT, "step 1"),
        ("Warning", reasons.REMOTE_EVENT, "deploy service failed: no quota"),
        ("Normal", reasons.REMOTE_EVENT, "service is running"),
    ]
    assert posted[0]["at"] == "2023-11-14T22:13:21Z"  # when it happened remotely

    assert (
        await mirror.look(service("uid-2"), log, None, "Deploying") == 3
    )  # a new object of that name


async def test_a_look_reads_a_bounded_number_newest_first_and_posts_them_in_order() -> None:
    kube = ApiServer()
    log = Log([remote(i) for i in range(1, 26)])
    mirror = EventMirror(kube)  # type: ignore[arg-type]
    assert await mirror.look(service(), log, None, "Deploying") == EVENTS_PER_LOOK
    assert log.limits == [EVENTS_PER_LOOK]
    assert [e["message"] for e in kube.events.values()] == [f"step {i}" for i in range(16, 26)]


async def test_secrets_are_redacted_and_a_failed_read_is_left_for_the_next_look() -> None:
    kube = ApiServer()
    scope = SecretScope("test")
    scope.replace(["s3cr3t-sk-value"])
    try:
        log = Log([remote(1, "pull failed: sk=abc token: s3cr3t-sk-value")])
        log.down = True
        mirror = EventMirror(kube)  # type: ignore[arg-type]
        assert await mirror.look(service(), log, None, "Deploying") == 0
        log.down = False
        assert await mirror.look(service(), log, None, "Deploying") == 1
    finally:
        scope.close()
    (message,) = [e["message"] for e in kube.events.values()]
    assert "s3cr3t-sk-value" not in message
    assert "abc" not in message
    assert message.startswith("pull failed: ")


class Services(Jobs):
    """A service list where each object's remote state is its own; the log is ``Log``'s."""

    event_phases = frozenset({"Deploying"})

    def __init__(self, server: ApiServer) -> None:
        super().__init__(server)
        self.states: dict[str, str] = {}
        self.reads: list[str] = []

    async def list_remote(self, client: Any, scope: str) -> AsyncIterator[tuple[str, Any]]:
        for name, body in list(self.server.objects.items()):
            yield str(body["status"]["jobId"]), {"status": self.states.get(name, "Completed")}

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        if summary["status"] == "Deploying":
            return Observation("Deploying", False, in_flight=True)
        return super().observe_summary(entry, summary)

    async def remote_events(self, client: Any, remote_id: str, limit: int) -> list[RemoteEvent]:
        self.reads.append(remote_id)
        return [remote(int(remote_id))]


async def test_a_poll_cycle_of_1000_steady_objects_reads_no_event_log() -> None:
    names = [f"svc-{i:04d}" for i in range(1000)]
    poller, rt, services = stack(names, adapter=Services)
    assert isinstance(services, Services)
    await poller.cycle()
    assert services.reads == []  # every one shows the phase it has: nothing read
    assert rt.kube.event_creates == 0

    services.states["svc-0007"] = "Deploying"
    for _ in range(2):
        await poller.cycle()
        rt.watch()
    assert services.reads == ["1007", "1007"]  # the one in progress, each cycle
    assert len(rt.kube.events) == 1
    assert rt.kube.event_creates == 1

    services.states["svc-0007"] = "Completed"  # done: one look at the change, then none
    for _ in range(2):
        await poller.cycle()
        rt.watch()
    assert services.reads == ["1007"] * 3


async def test_a_mass_deploy_is_looked_at_a_bounded_number_per_cycle_in_turn() -> None:
    """100 services deploying at once: each cycle reads at most LOOKS_PER_CYCLE event logs
    (not one per service), every service gets its look in turn, and a change of phase (the
    news: a failure, a service come to run) goes before the ones still in progress."""
    names = [f"svc-{i:04d}" for i in range(100)]
    poller, rt, services = stack(names, adapter=Services)
    assert isinstance(services, Services)
    for name in names:
        services.states[name] = "Deploying"
    cycles = 100 // LOOKS_PER_CYCLE
    for cycle in range(cycles):
        await poller.cycle()
        rt.watch()
        assert len(services.reads) == LOOKS_PER_CYCLE * (cycle + 1)
    assert sorted(services.reads) == [str(1000 + i) for i in range(100)]  # each once
    assert poller.events.remembered == 100

    services.states["svc-0042"] = "Completed"  # deployed (Succeeded, for these fakes)
    await poller.cycle()
    this_cycle = services.reads[100:]
    assert len(this_cycle) == LOOKS_PER_CYCLE
    assert this_cycle[0] == "1042"  # the change first
    assert (
        this_cycle[1:]
        == [r for r in services.reads[:LOOKS_PER_CYCLE] if r != "1042"][: LOOKS_PER_CYCLE - 1]
    )  # then the longest unlooked: the first cycle's
    assert poller.events.remembered == 99  # the settled one holds nothing


async def test_a_change_the_reconcile_showed_first_still_gets_its_look() -> None:
    """The last look was while it deployed; the reconcile wrote Succeeded before a poll saw
    it: the poller compares with the phase of its last look, not the status."""
    poller, rt, services = stack(["svc-0000"], adapter=Services)
    assert isinstance(services, Services)
    services.states["svc-0000"] = "Deploying"
    await poller.cycle()
    rt.watch()
    services.states["svc-0000"] = "Completed"
    rt.kube.objects["svc-0000"]["status"]["phase"] = "Succeeded"  # the reconcile's write
    rt.watch()
    await poller.cycle()
    await poller.cycle()
    assert services.reads == ["1000", "1000"]  # the deploying look, then one for the change


async def test_a_post_that_failed_is_tried_again_at_the_next_poll() -> None:
    kube = ApiServer()
    log = Log([remote(1)])
    mirror = EventMirror(kube)  # type: ignore[arg-type]
    refuse = kube.post_event

    async def unavailable(*args: Any, **kw: Any) -> None:
        raise KubeError(503, "etcd leader changed")

    kube.post_event = unavailable  # type: ignore[method-assign]
    running = service()
    running.status["phase"] = "Running"  # what the poll that saw it come to run wrote
    assert await mirror.look(running, log, None, "Running") == 0
    assert mirror.due(running, obs("Running"), V1)  # looked at again, though steady now
    kube.post_event = refuse  # type: ignore[method-assign]
    assert await mirror.look(running, log, None, "Running") == 1
    assert not mirror.due(running, obs("Running"), V1)  # and then left alone
