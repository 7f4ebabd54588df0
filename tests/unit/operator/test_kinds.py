"""A kind lives in one place: a new kind declared here (a Gadget, used only in this test) gets a
CRD, kopf handlers, a reconcile whose status is typed by its model, batched polling, dependency
re-triggering and RBAC rules, from its declaration alone."""

from __future__ import annotations

from typing import Any

import kopf

from modelarts_operator.crd.schema import crd_manifest
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.controller import Reconciler
from modelarts_operator.reconcile.handlers import register
from modelarts_operator.reconcile.kinds import rbac_rules, references_to
from modelarts_operator.reconcile.poller import Poller
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.reconcile.runtime import Runtime
from modelarts_operator.settings import OperatorSettings

from .gadget import GADGET_CRD, FakeClients, FakeKube, Remote, declaration


def body(status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": "g", "uid": "u1", "generation": 1},
        "spec": {"size": 2, "workspaceRef": {"name": "team"}},
        "status": status or {},
    }


def test_the_crd_comes_from_the_declaration() -> None:
    crd = crd_manifest(declaration(Remote()).crd)
    version = crd["spec"]["versions"][0]
    assert crd["metadata"]["name"] == "gadgets.modelarts.huaweicloud.com"
    assert "gadgetId" in version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert [c["name"] for c in version["additionalPrinterColumns"]] == ["Phase", "Gadget-ID"]


def test_register_gives_the_kind_its_kopf_handlers() -> None:
    decl = declaration(Remote())
    rt = Runtime(OperatorSettings(), FakeKube(), FakeClients(), [decl])  # type: ignore[arg-type]
    registry = kopf.OperatorRegistry()
    register(registry, rt)
    plurals = {h.selector.any_name for h in registry._changing.get_all_handlers()}  # type: ignore[union-attr]
    watched = {h.selector.any_name for h in registry._watching.get_all_handlers()}  # type: ignore[union-attr]
    assert plurals == {"gadgets"}
    assert watched == {"gadgets", "namespaces"}
    assert rt.reconcilers["gadgets"].kind.crd is GADGET_CRD


async def test_the_generic_reconcile_creates_once_and_writes_typed_status() -> None:
    remote, kube = Remote(), FakeKube()
    registry = Registry()
    registry.update("workspaces", "ADDED", _ready_workspace())
    reconciler = Reconciler(declaration(remote), kube, FakeClients(), registry)  # type: ignore[arg-type]
    outcome = await reconciler.reconcile(await reconciler.context(body()))
    assert list(remote.gadgets) == ["g-1"]
    assert outcome.status["gadgetId"] == "g-1"
    assert outcome.status["observedGeneration"] == 1
    assert cond.is_true(outcome.status["conditions"], cond.SYNCED)
    assert ("Normal", "Created", "created ns_g as g-1") in outcome.effects.events


def _ready_workspace() -> dict[str, Any]:
    ready = cond.set_condition(None, cond.READY, True, "Ready", "", 1)
    return {
        "metadata": {"namespace": "ns", "name": "team"},
        "status": {"workspaceId": "ws-1", "conditions": ready},
    }


async def test_the_poller_polls_the_kind_and_writes_only_changes() -> None:
    remote, kube = Remote(), FakeKube()
    decl = declaration(remote)
    remote.add("ns_g", state="building")
    rt = Runtime(OperatorSettings(), kube, FakeClients(), [decl])  # type: ignore[arg-type]
    poller = Poller(rt, rt.reconcilers["gadgets"])
    creating = {"gadgetId": "g-1", "phase": "Creating"}
    rt.registry.update("gadgets", "ADDED", body(creating))
    await poller.cycle()
    remote.gadgets["g-1"]["state"] = "ok"
    await poller.cycle()
    assert remote.calls == ["list", "list"]
    assert len(kube.status_patches) == 2  # the first cycle adds the conditions; then Ready
    ready = kube.status_patches[-1]
    assert ready["phase"] == "Ready"
    assert cond.is_true(ready["conditions"], cond.READY)


def test_references_and_rbac_come_from_the_declaration() -> None:
    decl = declaration(Remote())
    registry = Registry()
    registry.update("gadgets", "ADDED", body())
    dependents = registry.referencing(references_to([decl], "workspaces"), "ns", "team")
    assert [e.name for e in dependents] == ["g"]
    assert registry.referencing(references_to([decl], "models"), "ns", "team") == []
    rules = rbac_rules([decl])
    assert rules[("modelarts.huaweicloud.com", "gadgets")] >= {"watch", "patch"}
    assert rules[("modelarts.huaweicloud.com", "gadgets/status")] >= {"patch"}
    assert rules[("", "configmaps")] == {"get"}
