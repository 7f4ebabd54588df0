"""Network controller: the network dedicated resource pools run in
(``/v1/{project_id}/networks``).

The create body has no description (NetworkMetadataCreation carries the labels only), so the
description, where the operator's ownership marker is, is patched in by the create itself,
right after the POST: a network is this object's only once it carries the marker (a later
reconcile refuses an unmarked one recorded in status as NotOwned, the forged-ID rule of
issue 24), and one that cannot be marked is deleted again, so nothing unmarked is left under
the operator's name. Every reconcile patches what differs (the description, the peering
connections). Creating -> Active is Ready; Abnormal is Failed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ..api import errors
from ..api.client import ModelArtsClient
from ..api.pools import Network, NetworkCreateRequest, NetworkUpdateRequest
from ..crd import network as crd
from ..crd.network import NetworkSpec, NetworkStatus
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
from ..reconcile.references import recorded_workspace_id, to_wire, workspace_id
from ..reconcile.registry import Entry, Registry
from ..vocab import networks as vocab

NetworkContext = Context[NetworkSpec, Refs]


def _observe(network: Network) -> Observation:
    phase = network.status.phase or "Creating"
    peers = ((network.status.connectionStatus or {}).get("peerConnectionStatus")) or []
    facts: dict[str, Any] = {"remoteStatus": phase, "cidr": network.spec.cidr}
    if peers:
        facts["peerConnections"] = [
            {
                "peerVpcId": p.get("peerVpcId"),
                "peerSubnetId": p.get("peerSubnetId"),
                "phase": p.get("phase"),
            }
            for p in peers
        ]
    facts = {k: v for k, v in facts.items() if v is not None}
    if phase == "Active":
        return Observation("Ready", True, facts=facts, in_flight=False)
    if phase == "Abnormal":
        return Observation.failure("network is Abnormal", facts)
    return Observation(phase, False, facts=facts)


def _connection(spec: NetworkSpec) -> dict[str, Any]:
    return to_wire(spec.connection)


class NetworkAdapter(RemoteAdapter[NetworkSpec, Refs]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = NetworkSpec
    status_model = NetworkStatus
    refs_type = Refs
    id_field = "networkId"
    name_field = "name"
    name_min_length = 4
    resyncs = True

    async def resolve(self, ctx: NetworkContext) -> Refs:
        return Refs(workspace_id(ctx))

    async def resolve_for_lookup(self, ctx: NetworkContext) -> Refs:
        return Refs(recorded_workspace_id(ctx))

    async def find(self, ctx: NetworkContext) -> tuple[str, Any] | None:
        found = await ctx.client.networks.find_by_name(ctx.remote_name)
        return (str(found.id), found) if found is not None and found.id else None

    async def get(self, ctx: NetworkContext, remote_id: str) -> Network:
        return await ctx.client.networks.get(remote_id)

    async def create(self, ctx: NetworkContext) -> Created:
        spec = ctx.spec
        request = NetworkCreateRequest(
            metadata=vocab.NetworkMetadataCreation(
                labels=vocab.NetworkMetadataLabels(
                    os_modelarts_name=ctx.remote_name,
                    os_modelarts_workspace_id=ctx.refs.workspace_id,
                )
            ),
            spec=vocab.NetworkSpec(cidr=spec.cidr, connection=spec.connection),
        )
        created = await ctx.client.networks.create(request)
        network_id = str(created.id)
        try:
            marked = await ctx.client.networks.patch(
                network_id,
                NetworkUpdateRequest.model_validate(
                    {"metadata": {"annotations": {"os_modelarts_description": _description(ctx)}}}
                ),
            )
        except BaseException:
            # Unmarked, it would be no one's: undone, so the next reconcile creates afresh.
            with contextlib.suppress(errors.ModelArtsError):
                await ctx.client.networks.delete(network_id)
            raise
        # Creating is in flight: the poller's next list page shows it Active (one call for
        # every network of the project, where a follow-up reconcile was a GET each).
        return Created(network_id, _observe(marked))

    async def update(self, ctx: NetworkContext, remote_id: str, remote: Network) -> Updated:
        description = _description(ctx)
        body: dict[str, Any] = {}
        changed = []
        if (remote.description or "") != description:
            body["metadata"] = {"annotations": {"os_modelarts_description": description}}
            changed.append("description")
        if _connection(ctx.spec) != (remote.spec.connection or {}):
            body["spec"] = {"connection": _connection(ctx.spec)}
            changed.append("connection")
        if not body:
            return Updated(remote)
        patched = await ctx.client.networks.patch(
            remote_id, NetworkUpdateRequest.model_validate(body)
        )
        return Updated(patched, changed=changed)

    def observe(self, ctx: NetworkContext, remote: Any) -> Observation:
        return _observe(remote)

    async def delete(self, ctx: NetworkContext, remote_id: str) -> bool:
        await ctx.client.networks.delete(remote_id)
        return await confirmed_gone(ctx.client.networks.get(remote_id))

    def poll_scope(self, entry: Entry, registry: Registry) -> str:
        return ""  # networks are listed per project

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.networks.iter_all(), "id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return _observe(summary)


DECLARATION = KindDeclaration(
    crd=crd.CRD,
    forms=(Form("network", NetworkAdapter()),),
    references=(Reference("workspaceRef", "workspaces", ("workspaceId",)),),
)


def _description(ctx: NetworkContext) -> str:
    """The remote description: the spec's and the ownership marker."""
    return marked_description(ctx.spec.description, ctx.marker, crd.DESCRIPTION_LIMIT)
