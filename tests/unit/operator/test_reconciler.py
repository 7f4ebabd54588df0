"""The shared reconcile over a fake kind, table-driven in the manner of crossplane-runtime's
reconciler_test.go: each case is the object and the remote world before, and what the
reconcile must write, post, call and ask for. The Gadget kind and its in-memory API are in
gadget.py; every path runs the real Reconciler, StatusWriter and policies.

What only a real API server can show (conflicts, watch echoes under load, kopf's own
patching) stays in tests/integration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from modelarts_operator.api import errors
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile import handlers, requeue
from modelarts_operator.reconcile.adapter import DeleteBlocked, ProjectChanged, RetryLater
from modelarts_operator.reconcile.bookkeeping import DiffBase
from modelarts_operator.reconcile.controller import Outcome, Reconciler
from modelarts_operator.reconcile.naming import owner_marker
from modelarts_operator.reconcile.policies import (
    ACCEPT_LOCATION,
    ADOPTION_POLICY,
    CREATE_PENDING,
    EXTERNAL_ID,
    MANAGEMENT_POLICY,
    PAUSED,
    Allowance,
)
from modelarts_operator.reconcile.references import SLOW_LOOK
from modelarts_operator.reconcile.registry import Registry

from .gadget import FakeClients, FakeKube, Remote, declaration

NS, NAME, UID = "ns", "g", "uid-1"
MARKER = owner_marker("", "Gadget", NS, NAME)
DERIVED = f"{NS}_{NAME}"  # the remote name derived from ns/g
HERE = {"projectId": "p1", "region": "r1", "endpoint": "https://modelarts.r1"}
ELSEWHERE = {"projectId": "p0", "region": "r1", "endpoint": "https://modelarts.r1"}


def synced_at(generation: int) -> list[dict[str, Any]]:
    """The conditions of an object whose ``generation`` was applied and is Ready."""
    done = cond.set_condition(None, cond.SYNCED, True, "Synced", "", generation)
    return cond.set_condition(done, cond.READY, True, "Ready", "", generation)


def ours(**fields: Any) -> Callable[[Remote], None]:
    """The remote world holds this object's gadget (g-1), carrying its marker."""
    return lambda remote: remote.add(DERIVED, MARKER, **fields) and None


OTHER = ("other-team", NAME)  # another team's object of this kind
OTHERS_MARKER = owner_marker("", "Gadget", *OTHER)


def strangers(**fields: Any) -> Callable[[Remote], None]:
    """The remote world holds someone else's gadget (g-1) under this object's name."""
    return lambda remote: remote.add(DERIVED, OTHERS_MARKER, **fields) and None


def unmarked(name: str = DERIVED) -> Callable[[Remote], None]:
    """The remote world holds a gadget without any marker (made in the console, or by the
    operator before markers existed) named ``name`` (g-1)."""
    return lambda remote: remote.add(name) and None


def live(namespace: str, name: str) -> dict[str, Any]:
    """An object of this kind as the API server lists it."""
    return {"metadata": {"namespace": namespace, "name": name, "uid": f"uid-{namespace}"}}


BOUND = {"gadgetId": "g-1", "builtFrom": 1, "remoteName": DERIVED, "location": HERE}


@dataclass
class Case:
    reason: str  # what the case shows
    # -- the object and the world before
    spec: dict[str, Any] = field(default_factory=lambda: {"size": 1})
    status: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    generation: int = 1
    remote: Callable[[Remote], None] = lambda remote: None
    fail: dict[str, list[Exception]] = field(default_factory=dict)
    allowance: Allowance = Allowance.NONE
    recreate: bool = True
    registered: list[dict[str, Any]] = field(default_factory=list)  # in the registry
    listed: list[dict[str, Any]] = field(default_factory=list)  # listed by the API server
    # -- what the reconcile must do
    calls: list[str] | None = None  # remote calls, in order
    events: list[str] | None = None  # event reasons, in order
    synced: tuple[str, str] | None = None  # Synced (status, reason)
    ready: tuple[str, str] | None = None  # Ready (status, reason)
    failed: str | None = None  # Failed status
    phase: str | None = None
    gadget_id: str | None = "as read"  # status.gadgetId afterwards (None: not recorded)
    status_has: dict[str, Any] = field(default_factory=dict)
    requeue: float | None = None
    delete_object: bool = False
    clear_intent: bool | None = None
    gadgets: int | None = None  # remote objects afterwards
    raises: type[Exception] | None = None


CASES: dict[str, Case] = {
    "Create": Case(
        "A new object is created once: one remote call, no GET of what the create returned; "
        "the intent is written first and stays, fulfilled by the ID the final patch records "
        "(its removal would be a write of its own).",
        calls=["create"],
        events=["Created"],
        synced=("True", "Synced"),
        ready=("False", "Creating"),
        failed="False",
        phase="Creating",
        gadget_id="g-1",
        status_has={"builtFrom": 1, "remoteName": DERIVED, "location": HERE, "size": 1},
        clear_intent=False,
        gadgets=1,
    ),
    "CreateUnderTheSpecName": Case(
        "An explicit remote name in the spec is the one created.",
        spec={"gadgetName": "mine", "size": 1},
        calls=["create"],
        gadget_id="g-1",
        status_has={"remoteName": "mine"},
    ),
    "Bound": Case(
        "A recorded object is read (one GET) and, matching the spec, left alone.",
        status={**BOUND, "conditions": synced_at(1), "observedGeneration": 1},
        remote=ours(),
        calls=["get"],
        events=[],
        synced=("True", "Synced"),
        ready=("True", "Ready"),
        gadget_id="g-1",
        requeue=None,
    ),
    "SpecChanged": Case(
        "A changed generation is pushed and reported as Updated, naming the field.",
        spec={"size": 3},
        status={**BOUND, "conditions": synced_at(1), "observedGeneration": 1},
        generation=2,
        remote=ours(),
        calls=["get", "update"],
        events=["Updated"],
        synced=("True", "Synced"),
        status_has={"size": 3, "builtFrom": 2, "observedGeneration": 2},
    ),
    "Drift": Case(
        "A difference found for a generation applied already was made outside the operator: "
        "it is corrected and reported as DriftCorrected.",
        spec={"size": 3},
        status={**BOUND, "conditions": synced_at(1), "observedGeneration": 1},
        remote=ours(),
        calls=["get", "update"],
        events=["DriftCorrected"],
        status_has={"size": 3},
    ),
    "Busy": Case(
        "An update the remote object cannot take now asks to look again soon.",
        spec={"size": 3},
        status={**BOUND},
        remote=ours(state="busy"),
        calls=["get"],
        synced=("True", "Synced"),
        requeue=requeue.BUSY,
    ),
    "RefusedByTheAdapter": Case(
        "An update's own refusal (a ConfigMap it does not own) is Synced=False, terminal.",
        spec={"size": 1, "ownerOfConfig": False},
        status={**BOUND},
        remote=ours(),
        events=["ConfigMapNotOwned"],
        synced=("False", "ConfigMapNotOwned"),
        failed="True",
    ),
    "RemoteFailed": Case(
        "A remote object in a failed state is Ready=False Failed and Failed=True.",
        status={**BOUND},
        remote=ours(state="failed"),
        synced=("True", "Synced"),
        ready=("False", "Failed"),
        failed="True",
        phase="Failed",
    ),
    "ObservationDeletesTheObject": Case(
        "What the observation asks (a run policy's TTL) reaches the runtime.",
        status={**BOUND},
        remote=ours(state="expiring"),
        delete_object=True,
    ),
    "DeletedRemotelyIsRecreated": Case(
        "A desired-state object deleted outside the operator is created again.",
        status={**BOUND, "gadgetId": "g-9"},
        calls=["get", "create"],
        events=["DeletedRemotely", "Created"],
        gadget_id="g-1",
        gadgets=1,
    ),
    "DeletedRemotelyIsReported": Case(
        "A kind that must not be re-run (a training job) reports the loss instead.",
        status={**BOUND, "gadgetId": "g-9"},
        recreate=False,
        calls=["get"],
        events=["DeletedRemotely"],
        synced=("False", "DeletedRemotely"),
        ready=("False", "DeletedRemotely"),
        failed="True",
        phase="Failed",
        gadgets=0,
    ),
    "NameTaken": Case(
        "A create that finds its name taken by someone else's object binds nothing: "
        "NameTaken, no ID recorded, the intent cleared, tried again slowly.",
        remote=strangers(),
        fail={"create": [errors.AlreadyExists(error_code="ModelArts.0101")]},
        calls=["create", "find", "get"],
        events=["NameTaken"],
        synced=("False", "NameTaken"),
        failed="True",
        gadget_id=None,
        requeue=requeue.SLOW,
        clear_intent=True,
        gadgets=1,
    ),
    "NameTakenByOurOwn": Case(
        "A create whose answer was lost before (the name is taken by our own object) binds.",
        remote=ours(),
        fail={"create": [errors.AlreadyExists(error_code="ModelArts.0101")]},
        calls=["create", "find", "get"],
        events=["Adopted"],
        synced=("True", "Synced"),
        gadget_id="g-1",
        clear_intent=True,
        gadgets=1,
    ),
    "NameTakenAndGone": Case(
        "A taken name that a lookup cannot find is the API's error to report.",
        fail={"create": [errors.AlreadyExists(error_code="ModelArts.0101")]},
        raises=errors.AlreadyExists,
    ),
    "AmbiguousCreateFound": Case(
        "A create whose outcome is unknown is looked up by name and bound if ours.",
        remote=ours(),
        fail={"create": [errors.Ambiguous(error_msg="connection dropped")]},
        calls=["create", "find", "get"],
        events=[],
        gadget_id="g-1",
        gadgets=1,
    ),
    "AmbiguousCreateNotFound": Case(
        "A create whose outcome is unknown and not found yet is retried soon.",
        fail={"create": [errors.Ambiguous(error_msg="connection dropped")]},
        raises=RetryLater,
        requeue=requeue.CREATE_UNKNOWN,
    ),
    "InterruptedCreateRecovered": Case(
        "A create interrupted before its ID reached status is found by name, not repeated.",
        annotations={CREATE_PENDING: DERIVED},
        remote=ours(),
        calls=["find", "get"],
        events=["Created"],
        gadget_id="g-1",
        clear_intent=True,
        gadgets=1,
    ),
    "InterruptedBeforeTheCreate": Case(
        "An intent whose create never happened looks first, then creates.",
        annotations={CREATE_PENDING: DERIVED},
        calls=["find", "create"],
        events=["Created"],
        gadget_id="g-1",
    ),
    "ExternalIdNotAllowed": Case(
        "Binding someone else's object by external-id needs the namespace's allowance.",
        annotations={EXTERNAL_ID: "g-1"},
        remote=strangers(),
        calls=["get"],
        events=["AdoptionNotAllowed"],
        synced=("False", "AdoptionNotAllowed"),
        gadget_id=None,
        requeue=requeue.SLOW,
    ),
    "ExternalIdAllowed": Case(
        "With the allowance, external-id binds (and manages) the object.",
        annotations={EXTERNAL_ID: "g-1"},
        remote=strangers(),
        allowance=Allowance.MANAGE,
        calls=["get"],
        events=["Adopted"],
        synced=("True", "Synced"),
        gadget_id="g-1",
    ),
    "AdoptOnlyFindsNothing": Case(
        "adoption-policy adopt never creates: nothing to adopt is NotFound (terminal).",
        annotations={ADOPTION_POLICY: "adopt"},
        calls=["find"],
        synced=("False", "NotFound"),
        failed="True",
        phase="NotFound",
        gadgets=0,
    ),
    "AdoptAllowed": Case(
        "adoption-policy adopt takes over the object of that name where allowed.",
        annotations={ADOPTION_POLICY: "adopt"},
        remote=strangers(),
        allowance=Allowance.MANAGE,
        calls=["find", "get"],
        events=["Adopted"],
        gadget_id="g-1",
    ),
    "ObserveOnlyNeedsObserveAllowance": Case(
        "Observing someone else's object needs the observe allowance.",
        annotations={MANAGEMENT_POLICY: "observe"},
        remote=strangers(),
        calls=["find", "get"],
        synced=("False", "AdoptionNotAllowed"),
        gadget_id=None,
        requeue=requeue.SLOW,
    ),
    "ObserveOnly": Case(
        "An observed object is mirrored and never written, even when it differs.",
        spec={"size": 3},
        annotations={MANAGEMENT_POLICY: "observe"},
        remote=strangers(),
        allowance=Allowance.OBSERVE,
        calls=["find", "get"],
        synced=("True", "Synced"),
        ready=("True", "Ready"),
        gadget_id="g-1",
        status_has={"size": 1},
    ),
    "ForgedStatusId": Case(
        "Issue 24: an ID written into status (by anyone allowed to write status) naming "
        "another team's object is checked on the GET that reads it: NotOwned, nothing "
        "written remotely although the spec differs, the ID left for a person to remove.",
        spec={"size": 3},
        status={**BOUND, "conditions": synced_at(1), "observedGeneration": 1},
        remote=strangers(),
        registered=[live(*OTHER)],
        calls=["get"],
        events=["NotOwned"],
        synced=("False", "NotOwned"),
        failed="True",
        gadget_id="g-1",
        status_has={"size": None},  # nothing of that object is mirrored
        requeue=requeue.SLOW,
        gadgets=1,
    ),
    "ForgedStatusIdOfAConsoleObject": Case(
        "A status ID naming an object made outside the operator is refused alike.",
        status={**BOUND},
        remote=unmarked("made-in-the-console"),
        allowance=Allowance.MANAGE,
        calls=["get"],
        synced=("False", "NotOwned"),
        gadget_id="g-1",
        requeue=requeue.SLOW,
    ),
    "RecordedBeforeMarkers": Case(
        "A recorded object without any marker under the name the operator derived for this "
        "object (made before markers existed) is ours.",
        status={**BOUND},
        remote=unmarked(),
        calls=["get"],
        synced=("True", "Synced"),
        gadget_id="g-1",
    ),
    "RecordedUnderTheOldScheme": Case(
        "Likewise under the <namespace>-<name> scheme of the markerless releases.",
        status={**BOUND, "remoteName": f"{NS}-{NAME}"},
        remote=unmarked(f"{NS}-{NAME}"),
        calls=["get"],
        synced=("True", "Synced"),
    ),
    "ExplicitNameIsNoProof": Case(
        "An unmarked object under a name the spec chose (anyone can choose one) is not ours.",
        spec={"gadgetName": "chosen", "size": 1},
        status={**BOUND, "remoteName": "chosen"},
        remote=unmarked("chosen"),
        calls=["get"],
        synced=("False", "NotOwned"),
        requeue=requeue.SLOW,
    ),
    "AdoptionOfALiveObjectsGadget": Case(
        "Issue 24: allow-adoption manage never adopts an object carrying another live "
        "object's marker; the message names no other object.",
        annotations={ADOPTION_POLICY: "adopt"},
        remote=strangers(),
        allowance=Allowance.MANAGE,
        registered=[live(*OTHER)],
        calls=["find", "get"],
        events=["NotOwned"],
        synced=("False", "NotOwned"),
        gadget_id=None,
        requeue=requeue.SLOW,
    ),
    "AdoptionOfAnObjectOnlyTheApiServerKnows": Case(
        "An owner not in the registry yet (a restart lists objects one by one) is asked of "
        "the API server before the adoption goes ahead.",
        annotations={EXTERNAL_ID: "g-1"},
        remote=strangers(),
        allowance=Allowance.MANAGE,
        listed=[live(*OTHER)],
        calls=["get"],
        synced=("False", "NotOwned"),
        gadget_id=None,
        requeue=requeue.SLOW,
    ),
    "ExternalIdOfARetainedObject": Case(
        "An object whose owner is gone (deleted with Retain) may be adopted where allowed.",
        annotations={EXTERNAL_ID: "g-1"},
        remote=strangers(),
        allowance=Allowance.MANAGE,
        calls=["get"],
        synced=("True", "Synced"),
        gadget_id="g-1",
    ),
    "PausedBeforeTheCreate": Case(
        "A paused object creates nothing.",
        annotations={PAUSED: "true"},
        calls=[],
        synced=("False", "Paused"),
        failed="False",
        gadgets=0,
    ),
    "Paused": Case(
        "A paused object is mirrored but not written: Synced=False Paused (transient).",
        spec={"size": 3},
        status={**BOUND},
        annotations={PAUSED: "true"},
        remote=ours(),
        calls=["get"],
        synced=("False", "Paused"),
        failed="False",
        status_has={"size": 1},
    ),
    "WaitingForAReference": Case(
        "A reference that is not Ready yet: not applied, not ready, no remote call.",
        spec={"size": 1, "workspaceRef": {"name": "team"}},
        calls=[],
        synced=("False", "WaitingForWorkspace"),
        ready=("False", "WaitingForWorkspace"),
        failed="False",
        phase="Waiting",
    ),
    "WaitingForARecordedID": Case(
        "A reference that needs only its target's ID (not readiness) waits while it has none, "
        "and looks again by itself (a restart may resume it before its target is listed).",
        spec={"size": 1, "sourceRef": {"name": "other"}},
        calls=[],
        synced=("False", "WaitingForGadget"),
        ready=("False", "WaitingForGadget"),
        phase="Waiting",
        requeue=SLOW_LOOK,
    ),
    "ProjectChanged": Case(
        "An object bound in another project than its namespace's now is left alone.",
        status={**BOUND, "location": ELSEWHERE},
        remote=ours(),
        calls=[],
        events=["ProjectChanged"],
        synced=("False", "ProjectChanged"),
        requeue=requeue.SLOW,
        gadget_id="g-1",
    ),
    "ProjectChangeAccepted": Case(
        "Accepting the move forgets the old remote object and creates one here.",
        status={**BOUND, "location": ELSEWHERE},
        annotations={ACCEPT_LOCATION: HERE["projectId"]},
        remote=ours(),
        calls=["create"],
        events=["Moved", "Created"],
        gadget_id="g-2",
        status_has={"location": HERE},
    ),
}


def _body(case: Case) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": NS,
            "name": NAME,
            "uid": UID,
            "generation": case.generation,
            "resourceVersion": "1",
            "annotations": dict(case.annotations),
        },
        "spec": dict(case.spec),
        "status": dict(case.status),
    }


def _clients(allowance: Allowance = Allowance.NONE) -> FakeClients:
    """FakeClients whose client points at project p1 (location HERE)."""
    clients = FakeClients(allowance)
    config = SimpleNamespace(
        project_id=HERE["projectId"],
        region=HERE["region"],
        base_url=lambda service: HERE["endpoint"],
    )

    async def for_namespace(namespace: str) -> Any:
        return SimpleNamespace(config=config)

    clients.for_namespace = for_namespace  # type: ignore[method-assign]
    return clients


def _world(case: Case) -> tuple[Reconciler, Remote, FakeKube]:
    remote = Remote(fail={k: list(v) for k, v in case.fail.items()})
    case.remote(remote)
    kind = declaration(remote)
    kind.forms[0].adapter.recreate_on_drift = case.recreate
    kube = FakeKube(case.listed)
    registry = Registry()
    for body in case.registered:
        registry.update("gadgets", "ADDED", body)
    return Reconciler(kind, kube, _clients(case.allowance), registry), remote, kube  # type: ignore[arg-type]


def _condition(outcome: Outcome, type_: str) -> tuple[str, str] | None:
    found = cond.get_condition(outcome.status.get("conditions"), type_)
    return (found["status"], found["reason"]) if found else None


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_reconcile(case: Case) -> None:
    reconciler, remote, kube = _world(case)
    remote.calls.clear()  # setting the world up is not the reconcile's doing
    ctx = await reconciler.context(_body(case))
    if case.raises is not None:
        with pytest.raises(case.raises) as raised:
            await reconciler.reconcile(ctx)
        if isinstance(raised.value, RetryLater):
            assert raised.value.requeue.after == case.requeue, case.reason
        return
    outcome = await reconciler.reconcile(ctx)
    status, effects = outcome.status, outcome.effects
    if case.calls is not None:
        assert remote.calls == case.calls, case.reason
    if case.events is not None:
        assert [reason for _, reason, _ in effects.events] == case.events, case.reason
    if case.synced is not None:
        assert _condition(outcome, cond.SYNCED) == case.synced, case.reason
    if case.ready is not None:
        assert _condition(outcome, cond.READY) == case.ready, case.reason
    if case.failed is not None:
        assert (_condition(outcome, cond.FAILED) or ("",))[0] == case.failed, case.reason
    if case.phase is not None:
        assert status.get("phase") == case.phase, case.reason
    want_id = case.status.get("gadgetId") if case.gadget_id == "as read" else case.gadget_id
    assert status.get("gadgetId") == want_id, case.reason
    for key, value in case.status_has.items():
        assert status.get(key) == value, (case.reason, key, status)
    assert (effects.requeue.after if effects.requeue else None) == case.requeue, case.reason
    assert effects.delete_object == case.delete_object, case.reason
    if case.clear_intent is not None:
        assert effects.clear_create_pending == case.clear_intent, case.reason
    if case.gadgets is not None:
        assert len(remote.gadgets) == case.gadgets, case.reason
    if "create" in remote.calls:  # the intent is written before the create, once
        assert kube.annotations == [{CREATE_PENDING: ctx.remote_name}], case.reason


# -- a create's stale echo ---------------------------------------------------------------------


async def test_the_echo_of_the_intent_write_is_skipped_once_then_filled_from_memory() -> None:
    """After a create the watch may deliver the body as the intent write left it (the intent,
    no ID) after the handler's final patch: skipped once (no call, nothing to write); the
    same body again (a relist before the final patch landed) gets the remembered IDs, no
    lookup, and a watch event showing the ID ends the memory."""
    case = Case("")
    reconciler, remote, kube = _world(case)
    first = await reconciler.reconcile(await reconciler.context(_body(case)))
    echo = _body(case)
    echo["metadata"]["annotations"] = {CREATE_PENDING: DERIVED}
    echo["metadata"]["resourceVersion"] = str(kube.version)  # what the intent write answered
    remote.calls.clear()
    skipped = await reconciler.reconcile(await reconciler.context(echo))
    assert skipped.status == {}
    assert skipped.effects.events == []
    assert remote.calls == []
    again = await reconciler.reconcile(await reconciler.context(echo))
    assert again.status["gadgetId"] == first.status["gadgetId"] == "g-1"
    assert again.status["builtFrom"] == 1  # the recorded fields are remembered too
    assert again.effects.clear_create_pending
    assert remote.calls == ["get"]  # no lookup by name, no second create
    assert len(remote.gadgets) == 1
    assert reconciler.remembered_creates == 1
    reconciler.observed("MODIFIED", {**echo, "status": again.status})
    assert reconciler.remembered_creates == 0


async def test_after_a_restart_the_intent_is_resolved_by_name() -> None:
    case = Case("")
    reconciler, remote, _ = _world(case)
    await reconciler.reconcile(await reconciler.context(_body(case)))
    restarted = Reconciler(reconciler.kind, FakeKube(), _clients(), Registry())  # type: ignore[arg-type]
    echo = _body(case)
    echo["metadata"]["annotations"] = {CREATE_PENDING: DERIVED}
    outcome = await restarted.reconcile(await restarted.context(echo))
    assert outcome.status["gadgetId"] == "g-1"
    assert ("Normal", "Created", "recovered interrupted create as g-1") in outcome.effects.events
    assert len(remote.gadgets) == 1


# -- delete ------------------------------------------------------------------------------------


@dataclass
class DeleteCase:
    reason: str
    status: dict[str, Any] = field(default_factory=lambda: dict(BOUND))
    annotations: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=lambda: {"size": 1})
    remote: Callable[[Remote], None] = field(default_factory=ours)
    workspace: dict[str, Any] | None = None  # the status of Workspace "team", if it exists
    allowance: Allowance = Allowance.NONE
    looks: int = 1  # delete() calls until done
    events: list[str] | None = None
    raises: type[Exception] | None = None
    requeue: float | None = None
    gadgets: int | None = None


DELETES: dict[str, DeleteCase] = {
    "Deleted": DeleteCase(
        "The remote object goes; the finalizer waits until ModelArts confirms.",
        looks=2,
        events=["Deleted"],
        gadgets=0,
    ),
    "StillDeleting": DeleteCase(
        "Until ModelArts confirms, kopf retries soon.",
        raises=RetryLater,
        requeue=requeue.DELETING,
        gadgets=1,
    ),
    "AlreadyGone": DeleteCase(
        "A remote object gone already counts as deleted.",
        status={**BOUND, "gadgetId": "g-9"},
        events=["Deleted"],
    ),
    "ObserveOnlyReleases": DeleteCase(
        "An observed object is never deleted remotely.",
        annotations={MANAGEMENT_POLICY: "observe"},
        events=["Released"],
        gadgets=1,
    ),
    "InterruptedCreateOfOurs": DeleteCase(
        "A create whose ID never reached status is found by name and deleted.",
        status={},
        annotations={CREATE_PENDING: DERIVED},
        looks=2,
        events=["Deleted"],
        gadgets=0,
    ),
    "InterruptedCreateNotOurs": DeleteCase(
        "An object of that name that is not ours is left alone.",
        status={},
        annotations={CREATE_PENDING: DERIVED},
        remote=strangers(),
        events=["Released"],
        gadgets=1,
    ),
    "LookupNotPossibleYet": DeleteCase(
        "When the workspace to look in is unknown, the finalizer stays (nothing orphaned).",
        status={},
        spec={"size": 1, "workspaceRef": {"name": "team"}},
        annotations={CREATE_PENDING: DERIVED},
        raises=DeleteBlocked,
        requeue=requeue.DELETE_RETRY,
        gadgets=1,
    ),
    "WorkspaceGoingAway": DeleteCase(
        "A Workspace being deleted too (not Ready) is still looked in: its recorded ID.",
        status={},
        spec={"size": 1, "workspaceRef": {"name": "team"}},
        annotations={CREATE_PENDING: DERIVED},
        remote=lambda remote: remote.add(DERIVED, MARKER, workspace="ws-1") and None,
        workspace={"workspaceId": "ws-1", "phase": "Deleting"},
        looks=2,
        events=["Deleted"],
        gadgets=0,
    ),
    "ForgedStatusId": DeleteCase(
        "Issue 24: a status ID naming another team's object is not deleted: the GET shows "
        "it is not ours, the finalizer goes and the object stays.",
        remote=strangers(),
        events=["NotOwned"],
        gadgets=1,
    ),
    "ForgedStatusIdWithAnAllowance": DeleteCase(
        "An allowance to adopt is no allowance to delete an object nobody asked to adopt.",
        remote=unmarked("made-in-the-console"),
        allowance=Allowance.MANAGE,
        events=["NotOwned"],
        gadgets=1,
    ),
    "AdoptedByExternalId": DeleteCase(
        "An object adopted by external-id where allowed is deleted with the Kubernetes one.",
        annotations={EXTERNAL_ID: "g-1"},
        remote=strangers(),
        allowance=Allowance.MANAGE,
        looks=2,
        events=["Deleted"],
        gadgets=0,
    ),
    "ProjectChanged": DeleteCase(
        "An object bound in another project is not deleted from this one.",
        status={**BOUND, "location": ELSEWHERE},
        raises=ProjectChanged,
        gadgets=1,
    ),
}


@pytest.mark.parametrize("case", DELETES.values(), ids=DELETES.keys())
async def test_delete(case: DeleteCase) -> None:
    world = Case("", spec=case.spec, status=case.status, annotations=case.annotations)
    world.remote, world.allowance = case.remote, case.allowance
    reconciler, remote, _ = _world(world)
    if case.workspace is not None:
        going = {"namespace": NS, "name": "team", "deletionTimestamp": "2025-01-01T00:00:00Z"}
        reconciler.registry.update(
            "workspaces", "MODIFIED", {"metadata": going, "status": case.workspace}
        )
    events: list[Any] = []
    for _ in range(case.looks - 1):
        with pytest.raises(RetryLater):
            await reconciler.delete(await reconciler.context(_body(world)))
    if case.raises is not None:
        with pytest.raises(case.raises) as raised:
            await reconciler.delete(await reconciler.context(_body(world)))
        if isinstance(raised.value, RetryLater):
            assert raised.value.requeue.after == case.requeue, case.reason
    else:
        events = await reconciler.delete(await reconciler.context(_body(world)))
    if case.events is not None:
        assert [reason for _, reason, _ in events] == case.events, case.reason
    if case.gadgets is not None:
        assert len(remote.gadgets) == case.gadgets, case.reason


# -- what the kopf handler makes of an outcome, and of every error class -------------------------


@dataclass
class Runtime:
    """The runtime surface the handlers use: timers, forgotten clients, deletes, the registry
    and kopf's record of the last-handled configurations."""

    pokes: list[tuple[float, str]] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    diffbase: DiffBase = field(default_factory=DiffBase)
    registry: Registry = field(default_factory=Registry)

    def cancel_poke(self, key: Any) -> None:
        pass

    def poke_later(self, plural: str, ns: str, name: str, delay: float, why: str) -> None:
        self.pokes.append((delay, why))

    @property
    def clients(self) -> Any:
        return SimpleNamespace(forget=self.forgotten.append)

    @property
    def kube(self) -> Any:
        async def delete(path: str) -> None:
            self.deleted.append(path)

        return SimpleNamespace(delete=delete)


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The events the handlers post through kopf, as (type, reason)."""
    events: list[tuple[str, str]] = []

    def event(body: Any, *, type: str, reason: str, message: str) -> None:
        events.append((type, reason))

    monkeypatch.setattr(handlers.kopf, "event", event)
    return events


async def _handle(case: Case) -> tuple[Runtime, dict[str, Any], Exception | None]:
    reconciler, _, _ = _world(case)
    rt, patch = Runtime(), handlers.kopf.Patch()
    try:
        await handlers.on_reconcile(rt, reconciler, _body(case), patch)  # type: ignore[arg-type]
    except handlers.kopf.TemporaryError as err:
        return rt, dict(patch), err
    return rt, dict(patch), None


async def test_the_handler_writes_status_posts_events_and_arms_the_requeue(
    posted: list[tuple[str, str]],
) -> None:
    rt, patch, raised = await _handle(CASES["Busy"])
    assert raised is None
    assert rt.pokes == [(requeue.BUSY, "the gadget is busy")]
    assert patch["status"]["conditions"]
    rt, patch, _ = await _handle(CASES["Create"])
    assert posted[-1] == ("Normal", "Created")
    assert "metadata" not in patch  # the intent stays, fulfilled: the status is the one write
    assert rt.pokes == []  # no resync for a kind that does not compare configuration


async def test_the_handler_deletes_the_object_when_the_run_policy_says_so(
    posted: list[tuple[str, str]],
) -> None:
    rt, _, _ = await _handle(CASES["ObservationDeletesTheObject"])
    assert rt.deleted
    assert posted[-1] == ("Normal", "TTLExpired")


async def test_a_form_that_resyncs_looks_again_after_its_resync_period(
    posted: list[tuple[str, str]],
) -> None:
    case = CASES["Bound"]
    reconciler, _, _ = _world(case)
    reconciler.kind.forms[0].adapter.resyncs = True
    rt = Runtime()
    await handlers.on_reconcile(rt, reconciler, _body(case), handlers.kopf.Patch())  # type: ignore[arg-type]
    assert [why for _, why in rt.pokes] == ["resync"]


ERRORS: dict[str, tuple[Exception, str, bool]] = {
    # error raised by the create -> (Synced reason, retried soon by kopf)
    "Throttled": (errors.Throttled(error_code="ModelArts.0114"), "Throttled", True),
    "ServerError": (errors.ServerError(error_code="ModelArts.0001"), "ServerError", True),
    "TransportError": (errors.TransportError(error_msg="reset"), "TransportError", True),
    "Refused": (errors.InvalidParameter(error_code="ModelArts.0107"), "ModelArts.0107", False),
    "Quota": (errors.QuotaExceeded(error_code="ModelArts.0201"), "ModelArts.0201", False),
    "Conflict": (errors.StateConflict(error_code="ModelArts.3519"), "ModelArts.3519", False),
    "AuthFailed": (errors.AuthFailed(error_code="APIG.1002"), "APIG.1002", False),
    "Forbidden": (errors.Forbidden(error_code="ModelArts.0203"), "ModelArts.0203", False),
    "NotFound": (errors.NotFound(error_code="ModelArts.0102"), "ModelArts.0102", False),
}


@pytest.mark.parametrize("name", ERRORS)
async def test_every_error_class_is_reported_and_retried_as_its_class_says(
    name: str, posted: list[tuple[str, str]]
) -> None:
    error, reason, transient = ERRORS[name]
    rt, patch, raised = await _handle(Case(name, fail={"create": [error]}))
    conditions = patch["status"]["conditions"]
    synced = cond.get_condition(conditions, cond.SYNCED) or {}
    failed = cond.get_condition(conditions, cond.FAILED) or {}
    assert (synced["status"], synced["reason"]) == ("False", reason)
    assert posted == [("Warning", error.error_code or type(error).__name__)]
    assert patch["status"]["phase"] == ("Pending" if transient else "Error")
    # What the retry policy does and what the conditions say agree: a transient failure is
    # retried soon by kopf and is not Failed; a terminal one is Failed and retried slowly.
    assert (raised is not None) == transient
    assert failed["status"] == ("False" if transient else "True")
    if not transient:
        assert rt.pokes == [(requeue.SLOW, error.error_code)]
    assert rt.forgotten == ([NS] if isinstance(error, errors.AuthFailed) else [])


@pytest.mark.parametrize("error", [errors.Transient(), errors.NotReady(), errors.Ambiguous()])
async def test_the_retry_policy_and_the_failed_condition_agree_for_the_other_classes(
    error: Exception, posted: list[tuple[str, str]]
) -> None:
    failure_case = Case("", fail={"create": [error]})
    if isinstance(error, errors.Ambiguous):  # looked up by name first
        failure_case.fail["find"] = [error]
    _, patch, raised = await _handle(failure_case)
    failed = cond.get_condition(patch["status"]["conditions"], cond.FAILED) or {}
    assert failed["status"] == ("False" if raised is not None else "True")


async def test_an_invalid_spec_is_terminal_and_names_the_field(
    posted: list[tuple[str, str]],
) -> None:
    rt, patch, raised = await _handle(Case("", spec={"size": 99}))
    synced = cond.get_condition(patch["status"]["conditions"], cond.SYNCED) or {}
    assert (synced["reason"], raised) == ("InvalidSpec", None)
    assert "size" in synced["message"]
    assert rt.pokes == [(requeue.SLOW, "InvalidSpec")]


async def test_an_object_too_large_to_finish_is_refused_before_any_call(
    posted: list[tuple[str, str]],
) -> None:
    """Issue 24: an object the API server takes but that leaves no room under etcd's limit
    for the operator's status (an annotation of 200,000 ``<``, stored as 1.2 MB of \\u003c;
    a free-form field alike) was one the operator could never finish. It is refused, terminal,
    before any remote call."""
    case = Case("", annotations={"team.example/notes": "<" * 200_000})
    reconciler, remote, _ = _world(case)
    rt, patch = Runtime(), handlers.kopf.Patch()
    await handlers.on_reconcile(rt, reconciler, _body(case), patch)  # type: ignore[arg-type]
    synced = cond.get_condition(dict(patch)["status"]["conditions"], cond.SYNCED) or {}
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    assert "etcd" in synced["message"]
    assert remote.calls == []
    assert posted == [("Warning", "InvalidSpec")]
    # The same text in fewer bytes is reconciled as usual.
    fine = Case("", annotations={"team.example/notes": "a" * 200_000})
    await handlers.on_reconcile(rt, _world(fine)[0], _body(fine), handlers.kopf.Patch())  # type: ignore[arg-type]
    assert posted[-1] == ("Normal", "Created")
