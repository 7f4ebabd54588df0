"""The v2 form of Service (``spec.v2``, ``/v2/{project_id}/services``). What differs from v1:

* the configuration is versioned: a new ``spec.v2.version`` (admission refuses a changed
  configuration with the same one) is a rolling upgrade (PUT with the new version); a version
  the service has run before is switched back to (``versions/switch``). The version running
  and the one before the last change are in status (``version``, ``previousVersion``);
* status is upper case; CONCERNING is Ready=False reason Degraded, FAILED and ERROR are Failed;
* delete is the batch call ``POST /services/delete``, confirmed by a 404;
* a models mount may name a Model (``modelRef``): its source location is mounted;
* the ownership marker is a tag (the description stays the user's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api.client import ModelArtsClient
from ..api.services_v2 import ServiceV2, ServiceV2CreateRequest, ServiceV2UpdateRequest
from ..crd.service import ServiceSpec
from ..crd.service_v2 import ServiceV2Form
from ..reconcile import requeue
from ..reconcile.adapter import (
    Context,
    Created,
    Observation,
    Refs,
    RemoteEvent,
    Updated,
    confirmed_gone,
    keyed,
)
from ..reconcile.naming import desired_tags, marker_from_tags, tag_changes
from ..reconcile.references import (
    from_millis,
    ready_dependency,
    recorded_workspace_id,
    workspace_id,
)
from ..reconcile.registry import Entry
from ..reconcile.requeue import Requeue
from .service_common import ServiceAdapter

BUSY = frozenset({"INIT", "DEPLOYING", "UPGRADING", "STOPPING", "DELETING"})
STARTED = frozenset({"RUNNING", "CONCERNING", "DEPLOYING", "UPGRADING"})


@dataclass
class ServiceV2Refs(Refs):
    """The workspace, and spec.v2 as the API's body (model mounts resolved)."""

    wire: dict[str, Any] = field(default_factory=dict)


ServiceV2Context = Context[ServiceSpec, ServiceV2Refs]


def _obs_address(location: str) -> str:
    """A Model's source location (``/bucket/dir/``) as a mount address (``obs://...``)."""
    return f"obs:/{location}" if location.startswith("/") else location


def _form(ctx: ServiceV2Context) -> ServiceV2Form:
    form = ctx.spec.v2
    assert form is not None  # this adapter serves the objects whose spec has spec.v2
    return form


def wire_config(ctx: ServiceV2Context) -> dict[str, Any]:
    """spec.v2 as the API's body fields: the generated models as they are, model mounts by
    reference resolved to their Model's source location and pools by reference to their
    ResourcePool's ID (raises Waiting until the Model or pool is ready)."""
    form = _form(ctx)
    wire = form.body_fields()
    for g, group in enumerate(form.group_configs):
        group_wire = wire["group_configs"][g]
        group_wire.pop("pool_ref", None)
        if group.pool_ref is not None:
            pool = ready_dependency(ctx, "resourcepools", "ResourcePool", group.pool_ref.name)
            group_wire["pool_id"] = str(pool["poolId"])
        for u, unit in enumerate(group.unit_configs or []):
            mounts = wire["group_configs"][g]["unit_configs"][u].get("models") or []
            for mount, spec_mount in zip(mounts, unit.models or [], strict=True):
                mount.pop("model_ref", None)
                if spec_mount.model_ref is not None:
                    status = ready_dependency(ctx, "models", "Model", spec_mount.model_ref.name)
                    location = (status.get("source") or {}).get("location") or ""
                    mount["address"] = _obs_address(str(location))
    return wire


def create_request(ctx: ServiceV2Context) -> ServiceV2CreateRequest:
    body = dict(ctx.refs.wire)
    body.update(name=ctx.remote_name, workspace_id=ctx.refs.workspace_id)
    if ctx.spec.description is not None:
        body["description"] = ctx.spec.description
    # Ownership is a tag here (the description stays the user's), beside the spec's tags.
    tags = desired_tags(ctx.spec.tags, ctx.default_tags, marker=ctx.marker)
    if tags:
        body["tags"] = tags
    return ServiceV2CreateRequest.model_validate(body)


# The fields of the update body a new version carries (the rest of ServiceUpdateRequest:
# identity, tags and the description are not part of a configuration).
VERSIONED = (
    "version",
    "group_configs",
    "runtime_config",
    "upgrade_config",
    "log_configs",
    "lts_strategy",
    "schedule",
    "custom_metrics_path",
    "deploy_timeout_minutes",
    "task_type",
)


def update_request(ctx: ServiceV2Context, wire: dict[str, Any]) -> ServiceV2UpdateRequest:
    """The rolling upgrade's body: the new version's configuration and the description."""
    body = {k: wire[k] for k in VERSIONED if wire.get(k) is not None}
    if ctx.spec.description is not None:
        body["description"] = ctx.spec.description
    return ServiceV2UpdateRequest.model_validate(body)


def observation(state: str, stopped_wanted: bool, failure: str | None) -> Observation:
    state = (state or "DEPLOYING").upper()
    facts: dict[str, Any] = {"remoteStatus": state}
    if state == "RUNNING":
        return Observation("Running", True, facts=facts, in_flight=False)
    if state == "CONCERNING":
        return Observation(
            "Concerning", False, reason="Degraded",
            message=failure or "some instances are abnormal", facts=facts,
        )  # fmt: skip
    if state in ("FAILED", "ERROR"):
        return Observation.failure(failure or f"deployment {state.lower()}", facts)
    if state == "STOPPED":
        message = "stopped (spec.stopped)" if stopped_wanted else "stopped"
        return Observation(
            "Stopped", False, reason="Stopped", message=message, facts=facts,
            in_flight=not stopped_wanted,
        )  # fmt: skip
    phase = state.capitalize()
    return Observation(phase, False, reason=phase, message=phase.lower(), facts=facts)


class ServiceV2Adapter(ServiceAdapter[ServiceV2Refs]):
    # The work in progress (BUSY) as the observed phase names it.
    event_phases = frozenset(state.capitalize() for state in BUSY)
    refs_type = ServiceV2Refs

    async def resolve(self, ctx: ServiceV2Context) -> ServiceV2Refs:
        return ServiceV2Refs(workspace_id(ctx), wire_config(ctx))

    async def resolve_for_lookup(self, ctx: ServiceV2Context) -> ServiceV2Refs:
        return ServiceV2Refs(recorded_workspace_id(ctx))

    async def find(self, ctx: ServiceV2Context) -> tuple[str, Any] | None:
        item = await ctx.client.services_v2.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        return (str(item.id), item) if item is not None else None

    def marker(self, ctx: ServiceV2Context, remote: Any) -> str | None:
        """The marker is the owner tag."""
        return marker_from_tags(getattr(remote, "tags", None))

    async def get(self, ctx: ServiceV2Context, remote_id: str) -> ServiceV2:
        return await ctx.client.services_v2.get(remote_id)

    async def create(self, ctx: ServiceV2Context) -> Created:
        created = await ctx.client.services_v2.create(create_request(ctx))
        stop_later = Requeue(requeue.BUSY, "spec.stopped") if ctx.spec.stopped else None
        return Created(str(created.id), self.observe(ctx, created), requeue=stop_later)

    async def update(self, ctx: ServiceV2Context, remote_id: str, remote: ServiceV2) -> Updated:
        """Start/stop as spec.stopped says; roll out (or switch back to) spec.v2.version."""
        services = ctx.client.services_v2
        updated = Updated(remote)
        state = (remote.status or "").upper()
        want = _form(ctx).version
        have = remote.version.version if remote.version else None
        changed = False
        if want != have:
            if state in BUSY:
                updated.again(requeue.BUSY, "ModelArts.3519: the service is busy")
            else:
                await self._change_version(ctx, updated, remote_id, remote)
                changed = True
        if not changed and ctx.spec.stopped and state in STARTED - BUSY:
            await services.stop(remote_id)
            updated.event("Normal", "Stopped", "service stopped")
            changed = True
        elif not changed and not ctx.spec.stopped and state == "STOPPED":
            await services.start(remote_id)
            updated.event("Normal", "Started", "service started")
            changed = True
        elif ctx.spec.stopped and state in BUSY:
            updated.again(requeue.BUSY, "spec.stopped: stopped once it is settled")
        if await self._sync_tags(ctx, remote_id, remote):
            updated.change("tags")
            changed = True
        if changed:
            updated.remote = await services.get(remote_id)
        await self.export(ctx, updated, remote_id, updated.remote.url)
        return updated

    @staticmethod
    async def _sync_tags(ctx: ServiceV2Context, remote_id: str, remote: ServiceV2) -> bool:
        """Tags as the spec and the operator-wide defaults say, beside the ownership tag
        (the service's answer shows them: a difference is corrected on every resync)."""
        if remote.tags is not None:
            have = {str(t["key"]): str(t.get("value") or "") for t in remote.tags if t.get("key")}
        elif not ctx.applied:  # an answer without tags: read them on spec changes
            have = await ctx.client.services_v2.tags(remote_id)
        else:
            return False
        want = desired_tags(ctx.spec.tags, ctx.default_tags, marker=ctx.marker)
        add, remove = tag_changes(have, want)
        if add:
            await ctx.client.services_v2.add_tags(remote_id, add)
        if remove:
            await ctx.client.services_v2.remove_tags(remote_id, remove)
        return bool(add or remove)

    async def _change_version(
        self, ctx: ServiceV2Context, updated: Updated, remote_id: str, remote: ServiceV2
    ) -> None:
        services = ctx.client.services_v2
        want = _form(ctx).version
        current = remote.version
        recorded = await services.versions(remote_id, limit=50)
        earlier = next((v for v in recorded.data if v.version == want), None)
        if earlier is not None and earlier.id:
            await services.switch_version(remote_id, str(earlier.id))
            updated.event("Normal", "Switched", f"switched back to version {want}")
        else:
            await services.update(remote_id, update_request(ctx, ctx.refs.wire))
            updated.change("version")
        if current is not None:
            updated.recorded.update(previousVersion=current.version, previousVersionId=current.id)

    def observe(self, ctx: ServiceV2Context, remote: ServiceV2) -> Observation:
        obs = observation(remote.status or "", ctx.spec.stopped, remote.failure_reason)
        version = remote.version
        facts = {
            "accessAddress": remote.url,
            "version": version.version if version else None,
            "versionId": version.id if version else None,
            "errorMessage": remote.failure_reason,
            "createTime": from_millis(remote.create_at),
            "updateTime": from_millis(remote.update_at),
        }
        obs.facts.update({k: v for k, v in facts.items() if v is not None})
        return obs

    async def delete(self, ctx: ServiceV2Context, remote_id: str) -> bool:
        await ctx.client.services_v2.delete(remote_id)
        return await confirmed_gone(ctx.client.services_v2.get(remote_id))

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.services_v2.iter_all(workspace_id=scope), "id")

    def resume_work(self, entry: Entry, phase: str, facts: Mapping[str, Any]) -> str | None:
        """Also a version the service does not run yet (a rollout put off while it was busy)."""
        want = (entry.spec.get("v2") or {}).get("version")
        if want is not None and facts.get("version") not in (None, want):
            return "spec.v2.version: to be rolled out"
        return super().resume_work(entry, phase, facts)

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        obs = observation(summary.status or "", bool(entry.spec.get("stopped")), None)
        if summary.version:
            obs.facts["version"] = summary.version
        return obs

    async def remote_events(
        self, client: ModelArtsClient, remote_id: str, limit: int
    ) -> list[RemoteEvent]:
        """The service's events (list_infer_service_events), newest first: each has an ID;
        ABNORMAL and WARNING ones are the failures and warnings."""
        found = await client.services_v2.events(remote_id, limit=limit, sort_dir="DESC")
        return [
            RemoteEvent(
                identity=e.id or f"{e.create_at}|{e.event_type}|{e.event_info}",
                at_ms=e.create_at or e.update_at,
                warning=(e.event_type or "").upper() in ("ABNORMAL", "WARNING"),
                message=e.event_info or "",
            )
            for e in found.data
        ]
