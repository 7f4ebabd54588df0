"""Algorithm controller: a ModelArts algorithm (``/v2/{project_id}/algorithms``).

An algorithm has no states: it is Ready once it exists. A spec change is one
``change_algorithm`` call with the whole configuration (the API replaces it). Whether the
configuration changed is answered from a digest of the body the spec gives, recorded in
status when it was sent, never by diffing the answer: the API fills in what it resolves
(engine names, the code tree, parameter defaults), so the answer never equals the body. A
description changed outside the operator is put back by the same call on a resync.

Jobs already created from an algorithm keep the configuration they started with; deleting
an algorithm is not refused by the cloud (no source says it is), so the operator does not
refuse it either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

from ..api.algorithms import Algorithm, AlgorithmRequest
from ..api.client import ModelArtsClient
from ..crd import algorithm as crd
from ..crd.algorithm import AlgorithmSpec, AlgorithmStatus
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
from ..reconcile.references import from_millis, recorded_workspace_id, workspace_id
from ..reconcile.registry import Entry
from ..vocab import algorithms as vocab

AlgorithmContext = Context[AlgorithmSpec, Refs]


def request_of(ctx: AlgorithmContext) -> AlgorithmRequest:
    """The create/change body the spec gives, in its envelope."""
    spec = ctx.spec
    return AlgorithmRequest(
        metadata=vocab.AlgorithmMetadata(
            name=ctx.remote_name,
            description=marked_description(spec.description, ctx.marker, crd.DESCRIPTION_LIMIT),
            workspace_id=ctx.refs.workspace_id,
        ),
        job_config=spec.job_config,
        resource_requirements=spec.resource_requirements,
        advanced_config=spec.advanced_config,
    )


def digest(request: AlgorithmRequest) -> str:
    wire = json.dumps(request.to_wire(), sort_keys=True)
    return hashlib.sha256(wire.encode()).hexdigest()[:16]


def _engine(remote: Algorithm) -> str | None:
    """The engine as ModelArts resolved it: its version name (which starts with the engine's
    name, e.g. PyTorch-1.4.0-python3.6-v2) or name, or the custom image."""
    engine = (remote.job_config or {}).get("engine") or {}
    name, version = engine.get("engine_name"), engine.get("engine_version")
    if version and name and not str(version).startswith(str(name)):
        return f"{name} {version}"
    return version or name or engine.get("image_url") or None


def _observe(remote: Algorithm) -> Observation:
    meta = remote.metadata
    facts = {
        "workspaceId": meta.workspace_id,
        "engine": _engine(remote),
        "valid": meta.is_valid,
        "createTime": from_millis(meta.create_time),
        "updateTime": from_millis(meta.update_time),
    }
    return Observation(
        "Ready",
        True,
        facts={k: v for k, v in facts.items() if v is not None},
        in_flight=False,
    )


class AlgorithmAdapter(RemoteAdapter[AlgorithmSpec, Refs]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = AlgorithmSpec
    status_model = AlgorithmStatus
    refs_type = Refs
    id_field = "algorithmId"
    recorded_fields = ("algorithmSpecHash",)
    name_field = "name"
    resyncs = True

    async def resolve(self, ctx: AlgorithmContext) -> Refs:
        return Refs(workspace_id(ctx))

    async def resolve_for_lookup(self, ctx: AlgorithmContext) -> Refs:
        return Refs(recorded_workspace_id(ctx))

    async def find(self, ctx: AlgorithmContext) -> tuple[str, Any] | None:
        found = await ctx.client.algorithms.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        return (str(found.id), found) if found is not None and found.id else None

    async def get(self, ctx: AlgorithmContext, remote_id: str) -> Algorithm:
        return await ctx.client.algorithms.get(remote_id)

    async def create(self, ctx: AlgorithmContext) -> Created:
        request = request_of(ctx)
        created = await ctx.client.algorithms.create(request)
        return Created(
            str(created.id), _observe(created), recorded={"algorithmSpecHash": digest(request)}
        )

    async def update(self, ctx: AlgorithmContext, remote_id: str, remote: Algorithm) -> Updated:
        request = request_of(ctx)
        sent = digest(request)
        assert request.metadata is not None  # request_of always sets it
        configured = sent == ctx.status.get("algorithmSpecHash")
        described = (remote.description or "") == (request.metadata.description or "")
        if configured and described:
            return Updated(remote)
        changed = await ctx.client.algorithms.change(remote_id, request)
        # The digest covers the description too: only it differs when the rest was sent.
        what = "description" if configured else "configuration"
        return Updated(changed, changed=[what], recorded={"algorithmSpecHash": sent})

    def observe(self, ctx: AlgorithmContext, remote: Any) -> Observation:
        return _observe(remote)

    async def delete(self, ctx: AlgorithmContext, remote_id: str) -> bool:
        await ctx.client.algorithms.delete(remote_id)
        return await confirmed_gone(ctx.client.algorithms.get(remote_id))

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.algorithms.iter_all(workspace_id=scope), "id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return _observe(summary)


DECLARATION = KindDeclaration(
    crd=crd.CRD,
    forms=(Form("algorithm", AlgorithmAdapter()),),
    references=(Reference("workspaceRef", "workspaces", ("workspaceId",)),),
)
