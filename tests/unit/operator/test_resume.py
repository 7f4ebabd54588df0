"""Restarts by list pages (issue 27): which resumed objects are taken on trust (no ModelArts
call), and how the poller's next cycle confirms them or hands them back to their reconcile.

Before, kopf's resume ran the full reconcile on every object: one GET each, 10,000 calls per
restart at 10,000 objects."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile import handlers, resume
from modelarts_operator.reconcile.controller import Reconciler
from modelarts_operator.reconcile.kinds import KindDeclaration
from modelarts_operator.reconcile.policies import CREATE_PENDING, PAUSED, RESYNC_PERIOD
from modelarts_operator.reconcile.registry import Entry, Registry
from modelarts_operator.resources import notebook, service, training_job, workspace

from . import pollfakes
from .gadget import FakeKube, Remote, declaration
from .test_reconciler import Runtime, _clients

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def synced_at(generation: int, applied: int | None = None) -> list[dict[str, Any]]:
    """Synced=True written by the reconcile of generation ``applied`` (default: this one)."""
    done = cond.set_condition(None, cond.SYNCED, True, "Synced", "", applied or generation)
    return cond.set_condition(done, cond.READY, True, "Ready", "", applied or generation)


def body(
    spec: dict[str, Any],
    status: dict[str, Any],
    generation: int = 1,
    annotations: dict[str, str] | None = None,
    **meta: Any,
) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": "ns",
            "name": "x",
            "uid": "uid-1",
            "generation": generation,
            "resourceVersion": "7",
            "annotations": annotations or {},
            **meta,
        },
        "spec": spec,
        "status": status,
    }


def example(path: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((EXAMPLES / path).read_text())["spec"]
    return spec


GADGET = declaration(Remote())
BOUND = {"gadgetId": "g-1", "remoteName": "ns_x", "phase": "Ready", "observedGeneration": 1}


@dataclass
class TrustCase:
    reason: str
    kind: KindDeclaration
    body: dict[str, Any]
    trusted: bool


def gadget(**changes: Any) -> dict[str, Any]:
    status = {**BOUND, "conditions": synced_at(1)}
    made = body({"size": 1}, status)
    for key, value in changes.items():
        if key in ("generation", "annotations", "deletionTimestamp"):
            made["metadata"][key] = value
        elif key == "spec":
            made["spec"] = value
        else:
            made["status"][key] = value
    return made


JOB = example("02-trainingjob.yaml")  # activeDeadlineSeconds: 7200
SERVICE = example("04-service.yaml")
NOTEBOOK = example("notebook/notebook.yaml")
JOB_ID = {"jobId": "j-1", "remoteName": "ns_x", "observedGeneration": 1}
SERVICE_ID = {"serviceId": "s-1", "remoteName": "ns_x", "observedGeneration": 1}
NOTEBOOK_ID = {"notebookId": "n-1", "remoteName": "ns_x", "observedGeneration": 1}
WORKSPACE = example("01-workspace.yaml")  # spec.quotas: trainJob.gpu_duration 6000
WORKSPACE_ID = {"workspaceId": "w-1", "remoteName": "ns_x", "observedGeneration": 1}


def quotas_shown(quota: int) -> list[dict[str, Any]]:
    """status.quotas as the reconcile writes it for the example's one quota."""
    (wanted,) = WORKSPACE["quotas"]
    return [{"resource": wanted["resource"], "quota": quota, "used": 0, "min": -1, "max": 600000}]


def workspace_status(**more: Any) -> dict[str, Any]:
    return {**WORKSPACE_ID, "phase": "Ready", "conditions": synced_at(1), **more}


TRUST: dict[str, TrustCase] = {
    "Settled": TrustCase(
        "Synced for its current generation, its ID recorded: taken on trust.",
        GADGET,
        gadget(),
        True,
    ),
    "FulfilledIntent": TrustCase(
        "A create intent naming the object the status records is fulfilled: trusted.",
        GADGET,
        gadget(annotations={CREATE_PENDING: "ns_x"}),
        True,
    ),
    "OpenIntent": TrustCase(
        "An intent for another name than the one recorded: the reconcile looks it up.",
        GADGET,
        gadget(annotations={CREATE_PENDING: "ns_y"}),
        False,
    ),
    "NoId": TrustCase(
        "Nothing recorded: the reconcile creates or binds.",
        GADGET,
        gadget(gadgetId=None),
        False,
    ),
    "NewGeneration": TrustCase(
        "The spec changed while the operator was away (kopf calls that an update, but a "
        "generation the status has not observed is never trusted).",
        GADGET,
        gadget(generation=2),
        False,
    ),
    "SyncedForAnOlderGeneration": TrustCase(
        "observedGeneration matches but Synced was said of an older generation.",
        GADGET,
        gadget(conditions=synced_at(2, applied=1), observedGeneration=2, generation=2),
        False,
    ),
    "StatusForAnOlderGeneration": TrustCase(
        "Synced is said of this generation but the status's observedGeneration is an older "
        "one (written apart from the condition): the reconcile writes them together again.",
        GADGET,
        gadget(conditions=synced_at(2), observedGeneration=1, generation=2),
        False,
    ),
    "NotSynced": TrustCase(
        "A failure the reconcile retries (Synced=False) is retried as before.",
        GADGET,
        gadget(conditions=cond.set_condition(None, cond.SYNCED, False, "ServerError", "", 1)),
        False,
    ),
    "Deleting": TrustCase(
        "Being deleted: kopf's delete handler has it.",
        GADGET,
        gadget(deletionTimestamp="2026-12-05T00:00:00Z"),
        False,
    ),
    "BadAnnotation": TrustCase(
        "A policy annotation the operator cannot read: the reconcile reports it.",
        GADGET,
        gadget(annotations={PAUSED: "maybe"}),
        False,
    ),
    "InvalidSpec": TrustCase(
        "A spec its kind does not parse: the reconcile reports it.",
        GADGET,
        gadget(spec={"size": 99}),
        False,
    ),
    "JobBeforeItsDeadline": TrustCase(
        "A running job with activeDeadlineSeconds: the deadline's timer is armed again.",
        training_job.DECLARATION,
        body(JOB, {**JOB_ID, "phase": "Running", "conditions": synced_at(1)}),
        False,
    ),
    "JobDoneWithoutRunPolicy": TrustCase(
        "A finished job without a run policy needs nothing.",
        training_job.DECLARATION,
        body(
            {k: v for k, v in JOB.items() if k != "activeDeadlineSeconds"},
            {**JOB_ID, "phase": "Succeeded", "conditions": synced_at(1)},
        ),
        True,
    ),
    "JobDoneWithTtl": TrustCase(
        "A finished job with ttlSecondsAfterFinished: its TTL is armed again.",
        training_job.DECLARATION,
        body(
            {**JOB, "ttlSecondsAfterFinished": 600},
            {**JOB_ID, "phase": "Succeeded", "conditions": synced_at(1)},
        ),
        False,
    ),
    "ServiceRunning": TrustCase(
        "A running service as its spec asks.",
        service.DECLARATION,
        body(
            SERVICE,
            {**SERVICE_ID, "phase": "Running", "version": "1.0.0", "conditions": synced_at(1)},
        ),
        True,
    ),
    "ServiceToStop": TrustCase(
        "spec.stopped and a running service (a stop asked at create time, put off while it "
        "deployed): the reconcile stops it.",
        service.DECLARATION,
        body(
            {**SERVICE, "stopped": True},
            {**SERVICE_ID, "phase": "Running", "version": "1.0.0", "conditions": synced_at(1)},
        ),
        False,
    ),
    "ServiceStoppedOutside": TrustCase(
        "A service stopped outside the operator is started again, as before.",
        service.DECLARATION,
        body(
            SERVICE,
            {**SERVICE_ID, "phase": "Stopped", "version": "1.0.0", "conditions": synced_at(1)},
        ),
        False,
    ),
    "ServiceVersionToRollOut": TrustCase(
        "A v2 version the service does not run (a rollout put off while it was busy).",
        service.DECLARATION,
        body(
            SERVICE,
            {**SERVICE_ID, "phase": "Running", "version": "0.9.0", "conditions": synced_at(1)},
        ),
        False,
    ),
    "NotebookToStop": TrustCase(
        "spec.stopped and a running notebook: the reconcile stops it.",
        notebook.DECLARATION,
        body(
            {**NOTEBOOK, "stopped": True},
            {**NOTEBOOK_ID, "phase": "Running", "conditions": synced_at(1)},
        ),
        False,
    ),
    "NotebookStoppedByItsLease": TrustCase(
        "A notebook its lease stopped stays stopped until the spec changes: nothing to do.",
        notebook.DECLARATION,
        body(NOTEBOOK, {**NOTEBOOK_ID, "phase": "Stopped", "conditions": synced_at(1)}),
        True,
    ),
    "WorkspaceQuotasShown": TrustCase(
        "A workspace whose status shows each of the spec's quotas at its value.",
        workspace.DECLARATION,
        body(WORKSPACE, workspace_status(quotas=quotas_shown(WORKSPACE["quotas"][0]["quota"]))),
        True,
    ),
    "WorkspaceQuotasNotSet": TrustCase(
        "A workspace created but whose quota call failed (the follow-up a restart loses): "
        "the reconcile sets the quotas.",
        workspace.DECLARATION,
        body(WORKSPACE, workspace_status()),
        False,
    ),
    "WorkspaceQuotaAtAnotherValue": TrustCase(
        "A quota status shows at another value than the spec's.",
        workspace.DECLARATION,
        body(WORKSPACE, workspace_status(quotas=quotas_shown(-1))),
        False,
    ),
    "WorkspaceWithoutQuotas": TrustCase(
        "A workspace whose spec sets no quota needs none shown.",
        workspace.DECLARATION,
        body({k: v for k, v in WORKSPACE.items() if k != "quotas"}, workspace_status()),
        True,
    ),
}


@pytest.mark.parametrize("case", TRUST.values(), ids=TRUST.keys())
def test_which_resumed_objects_are_taken_on_trust(case: TrustCase) -> None:
    meta = case.body["metadata"]
    entry = Entry(case.kind.plural, meta["namespace"], meta["name"], case.body)
    assert (resume.trusted(case.kind, entry) is not None) == case.trusted, case.reason


# -- the resume handler -------------------------------------------------------------------------


async def resume_of(made: dict[str, Any], resyncs: bool = False) -> tuple[Any, Remote, Runtime]:
    remote = Remote()
    remote.add("ns_x")  # g-1
    kind = declaration(remote)
    kind.forms[0].adapter.resyncs = resyncs
    reconciler = Reconciler(kind, FakeKube(), _clients(), Registry())  # type: ignore[arg-type]
    rt = Runtime()
    rt.registry.update("gadgets", "ADDED", made)
    patch = handlers.kopf.Patch()
    await handlers.on_reconcile(rt, reconciler, made, patch, handlers.kopf.Reason.RESUME)  # type: ignore[arg-type]
    if ("ns", "x") in reconciler.resumed:
        assert not patch  # trusted: nothing written
    return reconciler, remote, rt


async def test_a_trusted_resume_makes_no_call_and_awaits_the_poll() -> None:
    reconciler, remote, rt = await resume_of(gadget())
    assert remote.calls == []  # was: one GET per object
    assert ("ns", "x") in reconciler.resumed
    assert reconciler.in_flight.is_set()  # the poller's next cycle comes at the active period
    assert rt.pokes == []  # no resync for a kind that does not compare configuration


async def test_an_untrusted_resume_is_reconciled_as_before() -> None:
    reconciler, remote, _ = await resume_of(gadget(generation=2))
    assert remote.calls == ["get"]
    assert ("ns", "x") not in reconciler.resumed


async def test_a_trusted_resume_of_a_drifting_form_arms_its_resync_within_the_period() -> None:
    made = gadget(annotations={RESYNC_PERIOD: "1h"})
    _, remote, rt = await resume_of(made, resyncs=True)
    assert remote.calls == []
    [(delay, why)] = rt.pokes
    assert why == "resync"
    assert 0 <= delay <= 3600


# -- the poller's confirmation ------------------------------------------------------------------


async def pending(names: list[str]) -> tuple[Any, pollfakes.Runtime, pollfakes.Jobs]:
    """Objects whose status shows their remote state, resumed on trust by a new process."""
    poller, rt, jobs = pollfakes.stack(names)
    await poller.cycle()  # the first look adds what the stack's status lacks (Failed)
    rt.watch()
    rt.kube.writes = 0
    for name in names:
        poller.reconciler.resumed.add((pollfakes.NS, name))
    jobs.work = None  # type: ignore[attr-defined]
    jobs.resume_work = lambda entry, phase, facts: jobs.work  # type: ignore[attr-defined]
    return poller, rt, jobs


async def test_the_first_cycle_confirms_what_its_list_shows() -> None:
    poller, rt, _ = await pending(["a", "b"])
    await poller.cycle()
    assert not poller.reconciler.resumed
    assert rt.pokes == []
    assert rt.kube.writes == 0


async def test_an_object_missing_from_the_list_goes_to_its_reconcile() -> None:
    poller, rt, _ = await pending(["a", "b"])
    del rt.kube.objects["b"]  # gone remotely: the list no longer shows it
    await poller.cycle()
    assert not poller.reconciler.resumed
    assert rt.pokes == ["b"]


async def test_work_the_list_shows_goes_to_its_reconcile() -> None:
    poller, rt, jobs = await pending(["a"])
    jobs.work = "spec.stopped: to be stopped"  # type: ignore[attr-defined]
    await poller.cycle()
    assert rt.pokes == ["a"]
    assert not poller.reconciler.resumed


async def test_an_object_the_cycle_cannot_look_for_goes_to_its_reconcile() -> None:
    poller, rt, _ = await pending(["a"])

    async def no_client(namespace: str) -> None:
        raise RuntimeError("no credentials")

    rt.clients.for_namespace = no_client  # type: ignore[method-assign]
    await poller.cycle()
    assert rt.pokes == ["a"]
    assert not poller.reconciler.resumed


async def test_a_failed_list_keeps_it_pending_for_the_next_good_one() -> None:
    poller, rt, jobs = await pending(["a"])
    jobs.down = True
    await poller.cycle()
    assert (pollfakes.NS, "a") in poller.reconciler.resumed
    jobs.down = False
    rt.watch()
    await poller.cycle()
    assert not poller.reconciler.resumed
    assert rt.pokes == []


async def test_an_object_deleted_before_the_cycle_is_forgotten() -> None:
    poller, rt, _ = await pending(["a"])
    body = copy.deepcopy(rt.kube.objects["a"])
    rt.registry.update(pollfakes.PLURAL, "DELETED", body)
    await poller.cycle()
    assert not poller.reconciler.resumed
    assert rt.pokes == []


async def test_the_poller_waits_for_a_restarts_resumes_to_calm_down() -> None:
    resumed = resume.Resumed()
    await resumed.quiet(quiet_s=10)  # nothing pending: at once
    resumed.add(("ns", "a"))
    started = resumed.latest
    await resumed.quiet(quiet_s=0.05)
    assert time.monotonic() - started >= 0.05
