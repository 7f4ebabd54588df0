"""Workspace controller: a ModelArts workspace (``/v1/{project_id}/workspaces``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ..api import errors
from ..api.client import ModelArtsClient
from ..api.workspaces import Workspace, WorkspaceCreateRequest, WorkspaceUpdateRequest
from ..crd import workspace as crd
from ..crd.workspace import WorkspaceSpec, WorkspaceStatus
from ..reconcile.adapter import (
    Context,
    Created,
    Observation,
    Refs,
    RemoteAdapter,
    Updated,
    confirmed_gone,
)
from ..reconcile.kinds import Form, KindDeclaration
from ..reconcile.kube import Kind
from ..reconcile.naming import marked_description
from ..reconcile.references import from_millis, to_wire
from ..reconcile.registry import Entry, Registry

WorkspaceContext = Context[WorkspaceSpec, Refs]


def _observe(ws: Any) -> Observation:
    state = (getattr(ws, "status", None) or "NORMAL").upper()
    facts = {"remoteStatus": state}
    if state == "NORMAL":
        return Observation("Ready", True, facts=facts, in_flight=False)
    if state in ("CREATE_FAILED", "DELETE_FAILED"):
        return Observation.failure(state, facts)
    if state == "DELETING":
        return Observation("Deleting", False, facts=facts)
    return Observation("Creating", False, facts=facts)


class WorkspaceAdapter(RemoteAdapter[WorkspaceSpec, Refs]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = WorkspaceSpec
    status_model = WorkspaceStatus
    refs_type = Refs
    id_field = "workspaceId"
    name_field = "name"
    name_min_length = 4
    resyncs = True

    async def find(self, ctx: WorkspaceContext) -> tuple[str, Any] | None:
        ws = await ctx.client.workspaces.find_by_name(ctx.remote_name)
        return (str(ws.id), ws) if ws is not None else None

    async def get(self, ctx: WorkspaceContext, remote_id: str) -> Workspace:
        return await ctx.client.workspaces.get(remote_id)

    def _desired(self, ctx: WorkspaceContext) -> dict[str, Any]:
        wire = to_wire(ctx.spec, "deletion_policy", "name")
        wire["name"] = ctx.remote_name
        wire["description"] = marked_description(ctx.spec.description, ctx.marker, 256)
        return wire

    async def create(self, ctx: WorkspaceContext) -> Created:
        created = await ctx.client.workspaces.create(
            WorkspaceCreateRequest.model_validate(self._desired(ctx))
        )
        return Created(str(created.id), self.observe(ctx, created))

    async def update(self, ctx: WorkspaceContext, remote_id: str, remote: Any) -> Updated:
        desired = self._desired(ctx)
        desired.pop("enterprise_project_id", None)  # immutable remotely
        current = remote.model_dump(exclude_none=True)
        changed = {k: v for k, v in desired.items() if k != "grants" and current.get(k) != v}
        if "grants" in desired and desired["grants"] != current.get("grants"):
            changed["grants"] = desired["grants"]
        if not changed:
            return Updated(remote)
        await ctx.client.workspaces.update(
            remote_id, WorkspaceUpdateRequest.model_validate(changed)
        )
        return Updated(await ctx.client.workspaces.get(remote_id), changed=list(changed))

    def observe(self, ctx: WorkspaceContext, remote: Any) -> Observation:
        obs = _observe(remote)
        obs.facts.update(
            {
                k: v
                for k, v in {
                    "owner": remote.owner,
                    "authType": remote.auth_type,
                    "enterpriseProjectName": remote.enterprise_project_name,
                    "createTime": from_millis(remote.create_time),
                    "updateTime": from_millis(remote.update_time),
                }.items()
                if v is not None
            }
        )
        return obs

    async def delete(self, ctx: WorkspaceContext, remote_id: str) -> bool:
        try:
            ws = await ctx.client.workspaces.get(remote_id)
        except errors.NotFound:
            return True
        if (getattr(ws, "status", "") or "").upper() != "DELETING":
            await ctx.client.workspaces.delete(remote_id)
        return await confirmed_gone(ctx.client.workspaces.get(remote_id))

    def poll_scope(self, entry: Entry, registry: Registry) -> str:
        return ""  # workspaces are listed per project

    async def list_remote(
        self, client: ModelArtsClient, scope: str
    ) -> AsyncIterator[tuple[str, Any]]:
        async for ws in client.workspaces.iter_all():
            yield str(ws.id), ws

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return _observe(summary)


DECLARATION = KindDeclaration(crd=crd.CRD, forms=(Form("workspace", WorkspaceAdapter()),))
