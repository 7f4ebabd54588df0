"""Gadget: a kind declared only for the tests, over an in-memory remote API, and the fakes of
the Kubernetes side. Small enough to read at once, complete enough to run the real reconcile,
poller and kopf wiring: the reconciler's table tests (test_reconciler.py) and the "a kind in
one place" tests (test_kinds.py) use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from modelarts_operator.api import errors
from modelarts_operator.crd.common import (
    MAX_ID,
    CommonStatus,
    KindInfo,
    LocalObjectReference,
    WorkspaceScopedSpec,
)
from modelarts_operator.reconcile import requeue
from modelarts_operator.reconcile.adapter import (
    Context,
    Created,
    Observation,
    Refs,
    RemoteAdapter,
    Updated,
)
from modelarts_operator.reconcile.kinds import Form, KindDeclaration, RbacRule, Reference
from modelarts_operator.reconcile.kube import Kind
from modelarts_operator.reconcile.policies import Allowance, Refusal
from modelarts_operator.reconcile.references import (
    recorded_dependency,
    recorded_workspace_id,
    workspace_id,
)
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.settings import OperatorSettings

# -- the whole kind: its CRD types and its adapter ---------------------------------------------


class GadgetSpec(WorkspaceScopedSpec):
    """A gadget in a ModelArts workspace."""

    gadget_name: str | None = Field(default=None, max_length=64, description="Remote name.")
    size: int = Field(default=1, ge=1, le=8, description="How big.")
    owner_of_config: bool = Field(default=True, description="Owns what it exports to.")
    source_ref: LocalObjectReference | None = Field(
        default=None, description="Another Gadget whose ID (not readiness) this one needs."
    )


class GadgetStatus(CommonStatus):
    """Observed state of the gadget."""

    gadget_id: str | None = Field(default=None, max_length=MAX_ID, description="Gadget ID.")
    size: int | None = Field(default=None, description="Its size, remotely.")
    built_from: int | None = Field(default=None, description="The generation it was made of.")


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


@dataclass
class Remote:
    """The remote API the gadget adapter talks to: gadgets by ID, every call recorded, and
    ``fail[call]`` the errors the next calls of that kind raise."""

    gadgets: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail: dict[str, list[Exception]] = field(default_factory=dict)
    made: int = 0

    def call(self, name: str) -> None:
        self.calls.append(name)
        if self.fail.get(name):
            raise self.fail[name].pop(0)

    def add(self, name: str, marker: str = "", **fields: Any) -> dict[str, Any]:
        self.made += 1
        gadget = {"id": f"g-{self.made}", "name": name, "marker": marker, "state": "ok"}
        gadget.update({"size": 1, "workspace": "0", **fields})
        self.gadgets[gadget["id"]] = gadget
        return gadget


GadgetContext = Context[GadgetSpec, Refs]


class GadgetAdapter(RemoteAdapter[GadgetSpec, Refs]):
    kind = Kind("Gadget", "gadgets")
    spec_model = GadgetSpec
    status_model = GadgetStatus
    refs_type = Refs
    id_field = "gadgetId"
    name_field = "gadget_name"
    recorded_fields = ("builtFrom",)

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    async def resolve(self, ctx: GadgetContext) -> Refs:
        if (source := ctx.spec.source_ref) is not None:
            recorded_dependency(ctx, "gadgets", "Gadget", source.name, "gadgetId")
        return Refs(workspace_id(ctx))

    async def resolve_for_lookup(self, ctx: GadgetContext) -> Refs:
        return Refs(recorded_workspace_id(ctx))

    async def find(self, ctx: GadgetContext) -> tuple[str, Any] | None:
        self.remote.call("find")
        found = [
            g
            for g in self.remote.gadgets.values()
            if (g["name"], g["workspace"]) == (ctx.remote_name, ctx.refs.workspace_id)
        ]
        return (found[0]["id"], found[0]) if found else None

    async def get(self, ctx: GadgetContext, remote_id: str) -> Any:
        self.remote.call("get")
        if remote_id not in self.remote.gadgets:
            raise errors.NotFound(error_msg=f"no gadget {remote_id}")
        return dict(self.remote.gadgets[remote_id])

    async def create(self, ctx: GadgetContext) -> Created:
        self.remote.call("create")
        made = self.remote.add(
            ctx.remote_name,
            ctx.marker,
            size=ctx.spec.size,
            state="building",
            workspace=ctx.refs.workspace_id,
        )
        built = {"builtFrom": ctx.generation}
        return Created(made["id"], self.observe(ctx, made), built)

    async def update(self, ctx: GadgetContext, remote_id: str, remote: Any) -> Updated:
        updated = Updated(remote)
        if remote["size"] != ctx.spec.size:
            if remote["state"] == "busy":
                updated.again(requeue.BUSY, "the gadget is busy")
            else:
                self.remote.call("update")
                self.remote.gadgets[remote_id]["size"] = ctx.spec.size
                updated.remote = dict(self.remote.gadgets[remote_id])
                updated.change("size")
                updated.recorded["builtFrom"] = ctx.generation
        if not ctx.spec.owner_of_config:
            updated.refusal = Refusal("ConfigMapNotOwned", "the ConfigMap is someone else's")
        return updated

    def observe(self, ctx: GadgetContext, remote: Any) -> Observation:
        return self._observe(remote)

    def _observe(self, remote: Any) -> Observation:
        state = remote["state"]
        facts = {"remoteStatus": state, "size": remote["size"]}
        if state == "ok":
            return Observation("Ready", True, facts=facts, in_flight=False)
        if state == "failed":
            return Observation.failure("the gadget broke", facts)
        if state == "expiring":
            return Observation("Done", True, facts=facts, in_flight=False, delete_object=True)
        return Observation("Creating", False, facts=facts)

    async def delete(self, ctx: GadgetContext, remote_id: str) -> bool:
        self.remote.call("delete")
        gadget = self.remote.gadgets.get(remote_id)
        if gadget is None:
            raise errors.NotFound(error_msg=f"no gadget {remote_id}")
        if gadget["state"] != "deleting":
            gadget["state"] = "deleting"  # gone at the next look
            return False
        del self.remote.gadgets[remote_id]
        return True

    def marker(self, ctx: GadgetContext, remote: Any) -> str | None:
        return str(remote["marker"]) or None

    async def list_remote(self, client: Any, scope: str) -> AsyncIterator[tuple[str, Any]]:
        self.remote.call("list")
        for gadget in list(self.remote.gadgets.values()):
            yield gadget["id"], gadget

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return self._observe(summary)


def declaration(remote: Remote) -> KindDeclaration:
    return KindDeclaration(
        crd=GADGET_CRD,
        forms=(Form("gadget", GadgetAdapter(remote)),),
        references=(Reference("workspaceRef", "workspaces", ("workspaceId",)),),
        rbac=(RbacRule("", "configmaps", frozenset({"get"}), "reads a ConfigMap"),),
    )


# -- the Kubernetes side -------------------------------------------------------------------------


class FakeKube:
    """The Kubernetes writes the reconcile and the poller make, recorded; each annotation
    write answers the next resourceVersion."""

    def __init__(self, listed: list[dict[str, Any]] | None = None) -> None:
        self.annotations: list[dict[str, str]] = []
        self.metadata: list[dict[str, Any]] = []
        self.status_patches: list[dict[str, Any]] = []
        self.version = 1
        self.listed = listed or []  # the objects a list of the kind answers
        self.lists: list[str] = []

    async def get(self, path: str) -> Any:
        self.lists.append(path)
        return {"items": self.listed}

    async def patch_annotations(self, kind: Kind, ns: str, name: str, ann: dict[str, str]) -> Any:
        self.annotations.append(ann)
        self.version += 1
        return {"metadata": {"resourceVersion": str(self.version)}}

    async def patch_metadata(
        self, kind: Kind, ns: str, name: str, metadata: dict[str, Any], rv: str | None = None
    ) -> Any:
        """The intent's write: its annotations recorded like any other, the rest beside."""
        self.metadata.append(metadata)
        return await self.patch_annotations(kind, ns, name, metadata.get("annotations", {}))

    async def patch_status(self, kind: Kind, ns: str, name: str, patch: Any, rv: Any) -> Any:
        self.status_patches.append(patch)
        return {}


class FakeClients:
    """The ClientFactory surface the reconcile and the poller use: one client (none needed by
    the gadget), default settings, and the namespace's adoption allowance."""

    def __init__(self, allowance: Allowance = Allowance.NONE) -> None:
        self.settings = OperatorSettings()
        self._allowance = allowance

    async def for_namespace(self, namespace: str) -> Any:
        return object()

    def allowance(self, namespace: str) -> Allowance:
        return self._allowance
