"""A kind lives in one place: a new kind declared here (a Gadget, used only in this test) gets a
CRD, kopf handlers, a reconcile whose status is typed by its model, batched polling, dependency
re-triggering and RBAC rules, from its declaration alone."""

from __future__ import annotations

from typing import Any

import kopf
from pydantic import Field

from modelarts_operator.crd.common import (
    MAX_ID,
    CommonStatus,
    KindInfo,
    WorkspaceScopedSpec,
)
from modelarts_operator.crd.schema import crd_manifest
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.adapter import Context, Observation, RemoteAdapter
from modelarts_operator.reconcile.controller import Reconciler
from modelarts_operator.reconcile.handlers import register
from modelarts_operator.reconcile.kinds import (
    KindDeclaration,
    RbacRule,
    Reference,
    rbac_rules,
    references_to,
)
from modelarts_operator.reconcile.kube import Kind
from modelarts_operator.reconcile.policies import Policies
from modelarts_operator.reconcile.poller import Poller
from modelarts_operator.reconcile.registry import Entry, Registry
from modelarts_operator.reconcile.runtime import Runtime
from modelarts_operator.settings import OperatorSettings

# -- the whole kind: its CRD types and its adapter ---------------------------------------------


class GadgetSpec(WorkspaceScopedSpec):
    """A gadget in a ModelArts workspace."""

    gadget_name: str | None = Field(default=None, max_length=64, description="Remote name.")
    size: int = Field(default=1, ge=1, le=8, description="How big.")


class GadgetStatus(CommonStatus):
    """Observed state of the gadget."""

    gadget_id: str | None = Field(default=None, max_length=MAX_ID, description="Gadget ID.")


GADGET_CRD = KindInfo(
    kind="Gadget",
    plural="gadgets",
    short_names=["magadget"],
    spec=GadgetSpec,
    status=GadgetStatus,
    printer_columns=[
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Gadget-ID", "type": "string", "jsonPath": ".status.gadgetId"},
    ],
    description="Gadget is a test kind.",
)


class Remote:
    """A stand-in for the API the gadget adapter talks to: gadgets by ID."""

    def __init__(self) -> None:
        self.gadgets: dict[str, dict[str, Any]] = {}
        self.lists = 0

    async def list(self) -> list[dict[str, Any]]:
        self.lists += 1
        return list(self.gadgets.values())


class GadgetAdapter(RemoteAdapter[GadgetSpec]):
    kind = Kind("Gadget", "gadgets")
    spec_model = GadgetSpec
    status_model = GadgetStatus
    id_field = "gadgetId"
    name_field = "gadget_name"

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    async def find(self, ctx: Context) -> tuple[str, Any] | None:
        found = [g for g in self.remote.gadgets.values() if g["name"] == ctx.remote_name]
        return (found[0]["id"], found[0]) if found else None

    async def get(self, ctx: Context, remote_id: str) -> Any:
        return self.remote.gadgets[remote_id]

    async def create(self, ctx: Context) -> str:
        ident = f"g-{len(self.remote.gadgets) + 1}"
        self.remote.gadgets[ident] = {"id": ident, "name": ctx.remote_name, "state": "building"}
        return ident

    def observe(self, ctx: Context, remote: Any) -> Observation:
        return self._observe(remote)

    def _observe(self, remote: Any) -> Observation:
        state = remote["state"]
        facts = {"remoteStatus": state, "gadgetId": remote["id"]}
        if state == "ok":
            return Observation("Ready", True, facts=facts, in_flight=False)
        return Observation("Creating", False, facts=facts)

    async def delete(self, ctx: Context, remote_id: str) -> bool:
        self.remote.gadgets.pop(remote_id, None)
        return True

    async def poll(self, client: Any, entries: list[Entry], registry: Any) -> dict[str, Any]:
        return {g["id"]: g for g in await self.remote.list()}

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return self._observe(summary)


def declaration(remote: Remote) -> KindDeclaration:
    return KindDeclaration(
        crd=GADGET_CRD,
        adapter=GadgetAdapter(remote),
        references=(Reference("workspaceRef", "workspaces", ("workspaceId",)),),
        rbac=(RbacRule("", "configmaps", frozenset({"get"}), "reads a ConfigMap"),),
    )


# -- what the shared machinery takes from the declaration ------------------------------------


class FakeKube:
    """The Kubernetes writes the reconcile and the poller make, recorded."""

    def __init__(self) -> None:
        self.annotations: list[dict[str, str]] = []
        self.status_patches: list[dict[str, Any]] = []

    async def patch_annotations(self, kind: Kind, ns: str, name: str, ann: dict[str, str]) -> Any:
        self.annotations.append(ann)
        return {"metadata": {"resourceVersion": "2"}}

    async def patch_status(self, kind: Kind, ns: str, name: str, patch: Any, rv: Any) -> Any:
        self.status_patches.append(patch)
        return {}


class FakeClients:
    async def for_namespace(self, namespace: str) -> Any:
        return object()


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
    ctx = Context(
        namespace="ns",
        name="g",
        generation=1,
        spec=GadgetSpec.model_validate(body()["spec"]),
        status={},
        annotations={},
        policies=Policies(),
        client=None,  # type: ignore[arg-type]
        remote_name="ns-g",
    )
    reconciler = Reconciler(declaration(remote), kube, FakeClients())  # type: ignore[arg-type]
    outcome = await reconciler.reconcile(ctx)
    assert list(remote.gadgets) == ["g-1"]
    assert outcome.status["gadgetId"] == "g-1"
    assert outcome.status["observedGeneration"] == 1
    assert cond.is_true(outcome.status["conditions"], cond.SYNCED)
    assert ("Normal", "Created", "created ns-g as g-1") in outcome.events


async def test_the_poller_polls_the_kind_and_writes_only_changes() -> None:
    remote, kube = Remote(), FakeKube()
    decl = declaration(remote)
    remote.gadgets["g-1"] = {"id": "g-1", "name": "ns-g", "state": "building"}
    rt = Runtime(OperatorSettings(), kube, FakeClients(), [decl])  # type: ignore[arg-type]
    poller = Poller(rt, rt.reconcilers["gadgets"])
    creating = {"gadgetId": "g-1", "phase": "Creating"}
    rt.registry.update("gadgets", "ADDED", body(creating))
    await poller.cycle()
    remote.gadgets["g-1"]["state"] = "ok"
    await poller.cycle()
    assert remote.lists == 2
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
