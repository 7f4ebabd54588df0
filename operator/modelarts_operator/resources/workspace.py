"""Workspace controller: a ModelArts workspace (``/v1/{project_id}/workspaces``).

``spec.quotas`` is applied with the workspace quota API (``PUT .../quotas``) for the quotas
that differ from what ModelArts reports: right after the create (the create body has none),
and on every reconcile after that (a spec change, the resync period); status shows each such
quota with its use and its bounds. ModelArts checks a quota against its bounds: a refusal is
Synced=False with its message. A quota the create could not set is left to the next
reconcile, and a restart before it takes no such workspace on trust (``resume_work``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..api import errors
from ..api.client import ModelArtsClient
from ..api.workspaces import (
    Workspace,
    WorkspaceCreateRequest,
    WorkspaceQuota,
    WorkspaceQuotaUpdate,
    WorkspaceUpdateRequest,
)
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
from ..reconcile.requeue import BUSY, Requeue

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


def quota_status(quota: WorkspaceQuota) -> dict[str, Any]:
    """A quota as status shows it."""
    item = {
        "resource": quota.resource,
        "quota": quota.quota,
        "used": quota.used_quota,
        "min": quota.min_quota,
        "max": quota.max_quota,
        "unit": quota.unit_en,
    }
    return {k: v for k, v in item.items() if v is not None}


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
        wire = to_wire(ctx.spec, "deletion_policy", "name", "quotas")
        wire["name"] = ctx.remote_name
        wire["description"] = marked_description(ctx.spec.description, ctx.marker, 256)
        return wire

    async def create(self, ctx: WorkspaceContext) -> Created:
        created = await ctx.client.workspaces.create(
            WorkspaceCreateRequest.model_validate(self._desired(ctx))
        )
        done = Created(str(created.id), self.observe(ctx, created))
        if ctx.spec.quotas:
            # The create body has no quotas: set them now, in the same reconcile (one status
            # write for both). Refused, or not to be had, the next reconcile tries again and
            # reports what ModelArts says (Synced=False); the workspace is recorded regardless.
            try:
                quotas, _ = await self._apply_quotas(ctx, done.remote_id, new=True)
            except errors.ModelArtsError:
                done.requeue = Requeue(BUSY, "spec.quotas")
            else:
                done.recorded["quotas"] = quotas
        return done

    async def update(self, ctx: WorkspaceContext, remote_id: str, remote: Any) -> Updated:
        desired = self._desired(ctx)
        desired.pop("enterprise_project_id", None)  # immutable remotely
        current = remote.model_dump(exclude_none=True)
        changed = {k: v for k, v in desired.items() if k != "grants" and current.get(k) != v}
        if "grants" in desired and desired["grants"] != current.get("grants"):
            changed["grants"] = desired["grants"]
        updated = Updated(remote)
        if changed:
            await ctx.client.workspaces.update(
                remote_id, WorkspaceUpdateRequest.model_validate(changed)
            )
            updated = Updated(await ctx.client.workspaces.get(remote_id), changed=list(changed))
        if ctx.spec.quotas:
            quotas, changed_quotas = await self._apply_quotas(ctx, remote_id)
            updated.recorded["quotas"] = quotas
            if changed_quotas:
                updated.change("quotas")
        return updated

    @staticmethod
    async def _apply_quotas(
        ctx: WorkspaceContext, remote_id: str, *, new: bool = False
    ) -> tuple[list[dict[str, Any]], bool]:
        """Set the quotas that differ from the spec's: the spec's quotas as ModelArts then
        reports them (status), and whether any was set (a refusal raises: Synced=False with
        the API's message).

        A ``new`` workspace has nothing of the spec's yet: every quota is set without reading
        them first (three calls instead of four per create). What is shown is read after the
        update, not taken from its answer: the update's quotas have no ``used_quota``
        (the SDK's ``WorkspaceQuotasUpdateResponse``)."""
        quotas = ctx.client.workspaces
        wanted = {q.resource: q.quota for q in ctx.spec.quotas or []}
        current = (
            {} if new else {q.resource: q for q in (await quotas.get_quotas(remote_id)).quotas}
        )
        differ = [
            WorkspaceQuotaUpdate(resource=resource, quota=quota)
            for resource, quota in wanted.items()
            if resource not in current or current[resource].quota != quota
        ]
        if differ:
            await quotas.update_quotas(remote_id, differ)
            current = {q.resource: q for q in (await quotas.get_quotas(remote_id)).quotas}
        shown = [quota_status(current[resource]) for resource in wanted if resource in current]
        return shown, bool(differ)

    def resume_work(self, entry: Entry, phase: str, facts: Mapping[str, Any]) -> str | None:
        """A workspace whose status does not show each of the spec's quotas at its value was
        left with quotas to set (a create whose quota call failed, and a restart before the
        next reconcile): its reconcile sets them. The list summary has no quotas, so the
        status is the judge."""
        wanted = {q.get("resource"): q.get("quota") for q in _spec_quotas(entry)}
        shown = {q.get("resource"): q.get("quota") for q in entry.status.get("quotas") or []}
        if any(shown.get(resource, _UNSET) != quota for resource, quota in wanted.items()):
            return "spec.quotas not yet applied"
        return None

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


_UNSET = object()


def _spec_quotas(entry: Entry) -> list[dict[str, Any]]:
    quotas = (entry.body.get("spec") or {}).get("quotas") or []
    return [q for q in quotas if isinstance(q, dict)]


DECLARATION = KindDeclaration(crd=crd.CRD, forms=(Form("workspace", WorkspaceAdapter()),))
