"""ResourcePool controller: a dedicated resource pool (``/v2/{project_id}/pools``).

Create answers the pool in Creating; Running is Ready; Abnormal is Degraded-like (not ready,
settled); Error is Failed. Every reconcile patches what differs from the spec among what the
update body can change: the description (where the ownership marker is), scope, node counts
per flavor (a scale), job flavors and drivers. ``networkRef`` waits for the Network and
sends its ID. Deleting a pool answers 200 and the pool is Deleting until a GET answers 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ..api.client import ModelArtsClient
from ..api.pools import Pool, PoolCreateRequest, PoolUpdateRequest
from ..crd import resource_pool as crd
from ..crd.resource_pool import ResourcePoolSpec, ResourcePoolStatus
from ..reconcile.adapter import (
    Context,
    Created,
    Observation,
    Refs,
    RemoteAdapter,
    Updated,
    confirmed_gone,
    keyed,
)
from ..reconcile.kinds import Form, KindDeclaration, Reference
from ..reconcile.kube import Kind
from ..reconcile.naming import marked_description
from ..reconcile.references import (
    ready_dependency,
    recorded_workspace_id,
    to_wire,
    workspace_id,
)
from ..reconcile.registry import Entry
from ..vocab import pools as vocab

STATES = ("available", "creating", "abnormal", "deleting")


@dataclass
class PoolRefs(Refs):
    """The workspace, and the ID of the Network ``networkRef`` names."""

    network_id: str | None = None


PoolContext = Context[ResourcePoolSpec, PoolRefs]


def _observe(pool: Pool) -> Observation:
    phase = pool.status.phase or "Creating"
    flavors = sorted({f for s in STATES for f in pool.status.resources.nodes(s)})
    nodes = [
        {"flavor": f, **{s: pool.status.resources.nodes(s).get(f, 0) for s in STATES}}
        for f in flavors
    ]
    facts: dict[str, Any] = {
        "remoteStatus": phase,
        "nodes": nodes or None,
        "scope": [s.scopeType for s in pool.status.scope if s.scopeType] or None,
        "message": pool.status.message or None,
    }
    facts = {k: v for k, v in facts.items() if v is not None}
    if phase == "Running":
        # A scale runs while nodes are created or removed: watched at the fast rate.
        scaling = any(pool.status.resources.nodes(s) for s in ("creating", "deleting"))
        return Observation("Ready", True, facts=facts, in_flight=scaling)
    if phase == "Error":
        return Observation.failure(pool.status.message or "pool is Error", facts)
    if phase == "Abnormal":
        message = pool.status.message or "pool is Abnormal"
        return Observation(
            "Abnormal", False, reason="Degraded", message=message, facts=facts, in_flight=False
        )
    return Observation(phase, False, facts=facts)


def create_request(ctx: PoolContext) -> PoolCreateRequest:
    spec = ctx.spec
    body_spec = {name: getattr(spec, name) for name in vocab.PoolSpecCreation.model_fields}
    if ctx.refs.network_id is not None:
        body_spec["network"] = vocab.PoolSpecCreationNetwork(name=ctx.refs.network_id)
    billing = to_wire(spec.billing)
    return PoolCreateRequest(
        metadata=vocab.PoolMetadataCreation(
            labels=vocab.PoolLabelsCreation(
                os_modelarts_name=ctx.remote_name,
                os_modelarts_workspace_id=ctx.refs.workspace_id,
                os_modelarts_node_prefix=spec.node_prefix,
            ),
            annotations=vocab.PoolAnnotationsCreation(
                os_modelarts_description=_description(ctx),
                **{f"os_modelarts_{k}": v for k, v in billing.items()},
            ),
        ),
        spec=vocab.PoolSpecCreation(**body_spec),
    )


def to_wire_list(items: list[Any]) -> list[dict[str, Any]]:
    return [to_wire(item) for item in items]


def _description(ctx: PoolContext) -> str:
    return marked_description(ctx.spec.description, ctx.marker, crd.DESCRIPTION_LIMIT)


def update_request(ctx: PoolContext, remote: Pool) -> tuple[PoolUpdateRequest | None, list[str]]:
    """The patch that brings the pool to the spec, and the spec fields it changes."""
    spec = ctx.spec
    body: dict[str, Any] = {}
    changed: list[str] = []
    if (remote.description or "") != _description(ctx):
        body["metadata"] = {"annotations": {"os_modelarts_description": _description(ctx)}}
        changed.append("description")
    patch: dict[str, Any] = {}
    if sorted(spec.scope) != sorted(remote.spec.scope or []):
        patch["scope"] = list(spec.scope)
        changed.append("scope")
    want = {r.flavor: r.count for r in spec.resources}
    have = {r.flavor: r.count for r in remote.spec.resources}
    if want != have:
        patch["resources"] = [
            {
                "flavor": r.flavor,
                "count": r.count,
                **({"azs": to_wire_list(r.azs)} if r.azs else {}),
            }
            for r in spec.resources
        ]
        changed.append("resources")
    if spec.jobFlavors is not None and spec.jobFlavors != (remote.spec.jobFlavors or []):
        patch["jobFlavors"] = list(spec.jobFlavors)
        changed.append("jobFlavors")
    if spec.driver is not None and to_wire(spec.driver) != {
        k: v for k, v in (remote.spec.driver or {}).items() if k in to_wire(spec.driver)
    }:
        patch["driver"] = to_wire(spec.driver)
        changed.append("driver")
    if patch:
        body["spec"] = patch
    return (PoolUpdateRequest.model_validate(body) if body else None), changed


class ResourcePoolAdapter(RemoteAdapter[ResourcePoolSpec, PoolRefs]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = ResourcePoolSpec
    status_model = ResourcePoolStatus
    refs_type = PoolRefs
    id_field = "poolId"
    name_field = "name"
    name_min_length = 4
    resyncs = True

    async def resolve(self, ctx: PoolContext) -> PoolRefs:
        refs = PoolRefs(workspace_id(ctx))
        if (ref := ctx.spec.network_ref) is not None:
            refs.network_id = str(
                ready_dependency(ctx, "networks", "Network", ref.name)["networkId"]
            )
        return refs

    async def resolve_for_lookup(self, ctx: PoolContext) -> PoolRefs:
        return PoolRefs(recorded_workspace_id(ctx))

    async def find(self, ctx: PoolContext) -> tuple[str, Any] | None:
        found = await ctx.client.pools.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        return (str(found.id), found) if found is not None and found.id else None

    async def get(self, ctx: PoolContext, remote_id: str) -> Pool:
        return await ctx.client.pools.get(remote_id)

    async def create(self, ctx: PoolContext) -> Created:
        created = await ctx.client.pools.create(create_request(ctx))
        return Created(str(created.id), _observe(created))

    async def update(self, ctx: PoolContext, remote_id: str, remote: Pool) -> Updated:
        request, changed = update_request(ctx, remote)
        if request is None:
            return Updated(remote)
        return Updated(await ctx.client.pools.patch(remote_id, request), changed=changed)

    def observe(self, ctx: PoolContext, remote: Any) -> Observation:
        return _observe(remote)

    async def delete(self, ctx: PoolContext, remote_id: str) -> bool:
        pool = await ctx.client.pools.get(remote_id)
        if (pool.status.phase or "") != "Deleting":
            await ctx.client.pools.delete(remote_id)
        return await confirmed_gone(ctx.client.pools.get(remote_id))

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(_listed(client, scope), "id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return _observe(summary)


async def _listed(client: ModelArtsClient, workspace: str) -> AsyncIterator[Pool]:
    for pool in await client.pools.list(workspace_id=workspace):
        yield pool


DECLARATION = KindDeclaration(
    crd=crd.CRD,
    forms=(Form("pool", ResourcePoolAdapter()),),
    references=(
        Reference("workspaceRef", "workspaces", ("workspaceId",)),
        Reference("networkRef", "networks", ("networkId",)),
    ),
)
