"""Fewer writes per create (issue 27): the finalizer, kopf's last-handled configuration and the
create intent go in one write before the create; the handler's final patch is the status
write alone. Before: kopf's finalizer, the intent, and a final patch of two writes (the
object's annotations: the last-handled configuration and the intent's removal; its status).

kopf's own machinery (its store of the last-handled configuration after the handler, its
retry of a failed handler) is driven here through the storage kopf calls, with kopf's Body
and Patch; what only a real API server shows is in tests/integration (test_restart,
test_reliability)."""

from __future__ import annotations

import copy
from typing import Any

import kopf
import pytest

from modelarts_operator.api import errors
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile import handlers
from modelarts_operator.reconcile.bookkeeping import FINALIZER, DiffBase, holds_remote
from modelarts_operator.reconcile.controller import Reconciler
from modelarts_operator.reconcile.policies import CREATE_PENDING, EXTERNAL_ID, intent_fulfilled
from modelarts_operator.reconcile.registry import Registry

from .gadget import FakeKube, Remote, declaration
from .test_reconciler import MARKER, Runtime, _clients

DERIVED = "ns_g"
LAST_HANDLED = "kopf.modelarts.huaweicloud.com/last-handled-configuration"


def raw(
    annotations: dict[str, str] | None = None,
    status: dict[str, Any] | None = None,
    finalizers: list[str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "namespace": "ns",
        "name": "g",
        "uid": "uid-1",
        "generation": 1,
        "resourceVersion": "1",
        "annotations": annotations or {},
    }
    if finalizers is not None:
        meta["finalizers"] = finalizers
    return {
        "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
        "kind": "Gadget",
        "metadata": meta,
        "spec": {"size": 1},
        "status": status or {},
    }


def essence(body: dict[str, Any]) -> Any:
    """What kopf hands the handler as ``new`` (and stores when it ends)."""
    return DiffBase().build(body=kopf.Body(body))


@pytest.fixture(autouse=True)
def posted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    events: list[str] = []
    monkeypatch.setattr(
        handlers.kopf, "event", lambda body, *, type, reason, message: events.append(reason)
    )
    return events


async def handle(
    body: dict[str, Any],
    remote: Remote | None = None,
    reason: str = kopf.Reason.CREATE,
    rt: Runtime | None = None,
) -> tuple[Runtime, FakeKube, kopf.Patch, Exception | None]:
    """One handler run as kopf makes it: the handler, then (when it ended) kopf's store of
    the last-handled configuration into the same patch."""
    remote = remote or Remote()
    kube = FakeKube()
    reconciler = Reconciler(declaration(remote), kube, _clients(), Registry())  # type: ignore[arg-type]
    rt = rt or Runtime()
    patch, kbody, new = kopf.Patch(), kopf.Body(body), essence(body)
    try:
        await handlers.on_reconcile(rt, reconciler, kbody, patch, reason, new)  # type: ignore[arg-type]
    except kopf.TemporaryError as err:
        return rt, kube, patch, err
    old = rt.diffbase.fetch(body=kbody)
    if old != new:
        rt.diffbase.store(body=kbody, patch=patch, essence=new)
    return rt, kube, patch, None


async def test_a_create_writes_once_before_the_call_and_its_status_after(posted: list[str]) -> None:
    _, kube, patch, raised = await handle(raw())
    assert raised is None
    [intent] = kube.metadata  # one write before the create ...
    assert intent["annotations"][CREATE_PENDING] == DERIVED
    assert intent["finalizers"] == [FINALIZER]  # no remote object before the finalizer
    assert (
        intent["annotations"][LAST_HANDLED]
        == DiffBase().annotations(kopf.Body(raw()), essence(raw()))[LAST_HANDLED]
    )
    assert set(patch) == {"status"}  # ... and the status write after it: nothing else
    assert patch["status"]["gadgetId"] == "g-1"
    assert posted == ["Created"]


async def test_other_finalizers_are_kept_and_the_write_is_conditional() -> None:
    seen: list[str | None] = []
    body = raw(finalizers=["someone.else/finalizer"])

    async def conditional(kind: Any, ns: str, name: str, metadata: Any, rv: Any = None) -> Any:
        seen.append(rv)
        kube_metadata.append(metadata)
        return {"metadata": {"resourceVersion": "2"}}

    kube_metadata: list[dict[str, Any]] = []
    reconciler = Reconciler(declaration(Remote()), FakeKube(), _clients(), Registry())  # type: ignore[arg-type]
    reconciler.kube.patch_metadata = conditional  # type: ignore[method-assign]
    await handlers.on_reconcile(
        Runtime(),  # type: ignore[arg-type]
        reconciler,
        kopf.Body(body),
        kopf.Patch(),
        kopf.Reason.CREATE,
        essence(body),
    )
    assert kube_metadata[0]["finalizers"] == ["someone.else/finalizer", FINALIZER]
    assert seen == ["1"]  # the whole list is set: only over the version it was read from


async def test_a_transient_failure_after_the_intent_leaves_the_object_unhandled_for_kopf() -> None:
    """kopf retries a handler only while the object's last-handled configuration differs from
    its spec: the failure's patch takes back what the intent's write put there."""
    remote = Remote(fail={"create": [errors.ServerError(error_code="ModelArts.0001")]})
    _, kube, patch, raised = await handle(raw(), remote)
    assert isinstance(raised, kopf.TemporaryError)
    assert kube.metadata  # the intent was written
    assert patch["metadata"]["annotations"][LAST_HANDLED] is None


async def test_a_refused_create_keeps_the_record_and_writes_only_its_status() -> None:
    remote = Remote(fail={"create": [errors.InvalidParameter(error_code="ModelArts.0107")]})
    _, _, patch, raised = await handle(raw(), remote)
    assert raised is None  # retried slowly by a poke, not by kopf
    assert set(patch) == {"status"}


def test_kopfs_store_writes_what_the_object_lacks() -> None:
    diffbase, body = DiffBase(), kopf.Body(raw())
    patch = kopf.Patch()
    diffbase.store(body=body, patch=patch, essence=essence(raw()))
    assert patch["metadata"]["annotations"][LAST_HANDLED]
    done = raw(annotations=dict(patch["metadata"]["annotations"]))
    again = kopf.Patch()
    diffbase.store(body=kopf.Body(done), patch=again, essence=essence(raw()))
    assert not again  # on the object already


async def test_a_fulfilled_intent_goes_with_an_updates_metadata_write_only() -> None:
    bound = {"gadgetId": "g-1", "remoteName": DERIVED, "builtFrom": 1, "observedGeneration": 1}
    bound["conditions"] = cond.set_condition(None, cond.SYNCED, True, "Synced", "", 1)
    handled = DiffBase().annotations(kopf.Body(raw()), essence(raw()))
    annotations = {CREATE_PENDING: DERIVED, **handled}
    body = raw(annotations=annotations, status=bound, finalizers=[FINALIZER])
    assert intent_fulfilled(body["metadata"]["annotations"], bound, "gadgetId")
    remote = Remote()
    remote.add(DERIVED)
    _, _, resumed, _ = await handle(copy.deepcopy(body), remote, kopf.Reason.RESUME)
    assert "metadata" not in resumed  # a resume writes no metadata for it (on trust) ...
    retried = copy.deepcopy(body)
    retried["status"]["conditions"] = []  # not trusted: the reconcile runs, and keeps it too
    _, _, reconciled, _ = await handle(retried, remote, kopf.Reason.RESUME)
    assert reconciled["status"]["conditions"]  # it ran and wrote its status
    assert "metadata" not in reconciled
    _, _, updated, _ = await handle(copy.deepcopy(body), remote, kopf.Reason.UPDATE)
    assert updated["metadata"]["annotations"][CREATE_PENDING] is None  # ... an update drops it


async def test_an_intent_recovered_after_a_crash_is_cleared() -> None:
    remote = Remote()
    remote.add(DERIVED, MARKER)  # the interrupted create's object
    body = raw(annotations={CREATE_PENDING: DERIVED}, finalizers=[FINALIZER])
    _, _, patch, _ = await handle(body, remote, kopf.Reason.RESUME)
    assert patch["status"]["gadgetId"] == "g-1"
    assert patch["metadata"]["annotations"][CREATE_PENDING] is None


async def test_an_object_bound_without_a_create_gets_the_finalizer_with_its_patch() -> None:
    remote = Remote()
    remote.add(DERIVED, MARKER)
    body = raw(annotations={EXTERNAL_ID: "g-1"})
    _, kube, patch, _ = await handle(body, remote)
    assert kube.metadata == []  # no create: no intent
    assert patch["metadata"]["finalizers"] == [FINALIZER]
    assert patch["status"]["gadgetId"] == "g-1"


@pytest.mark.parametrize(
    ("body", "holds"),
    [
        (raw(), False),  # new: straight to its handler, no finalizer round trip
        (raw(finalizers=[FINALIZER]), True),  # kopf keeps it until the delete handler ran
        (raw(annotations={CREATE_PENDING: DERIVED}), True),  # a create may have happened
        (raw(status={"gadgetId": "g-1", "remoteName": DERIVED}), True),  # bound
        (raw(status={"phase": "Waiting"}), False),  # never bound: deleted at once
    ],
)
def test_the_finalizer_is_asked_for_only_where_a_remote_object_may_be(
    body: dict[str, Any], holds: bool
) -> None:
    assert holds_remote(kopf.Body(body)) is holds
