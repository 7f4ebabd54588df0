"""The 2020 (v1) form of Service (``spec.config``, ``/v1/{project_id}/services``): a real-time,
batch or edge service of one or more Models.

Config (models, weights, specifications, instance counts), description and schedule are
updated in place with PUT; ``spec.stopped`` starts and stops the service. A config entry may
name a Model (``modelRef``): its model ID is used once the Model is Ready. The ownership
marker ends the description.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..api.client import ModelArtsClient
from ..api.services import ServiceDeployRequest, ServiceUpdateRequest
from ..crd.service import ServiceSpec
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
from ..reconcile.naming import marked_description
from ..reconcile.references import (
    from_millis,
    ready_dependency,
    recorded_workspace_id,
    to_wire,
    workspace_id,
)
from ..reconcile.registry import Entry
from ..reconcile.requeue import Requeue
from .service_common import ServiceAdapter

OPERATOR_FIELDS = (
    "deletion_policy",
    "workspace_ref",
    "workspace_id",
    "service_name",
    "stopped",
    "export_to",
    "config",
)
COMPARED = ("model_id", "weight", "specification", "instance_count")
STARTED = ("running", "concerning", "deploying")


def _observation(
    state: str | None, progress: int | None, stopped_wanted: bool, error: str | None = None
) -> Observation:
    state = (state or "deploying").lower()
    facts: dict[str, Any] = {"remoteStatus": state}
    if progress is not None:
        facts["progress"] = int(progress)
    if state in ("running", "finished"):
        return Observation(state.capitalize(), True, facts=facts, in_flight=False)
    if state == "stopped":
        return Observation(
            "Stopped",
            False,
            reason="Stopped",
            message="stopped (spec.stopped)" if stopped_wanted else "stopped",
            facts=facts,
            in_flight=not stopped_wanted,
        )
    if state == "failed":
        return Observation.failure(error or "deployment failed", facts)
    if state == "concerning":
        return Observation(
            "Concerning",
            False,
            reason="Degraded",  # as a v2 Service's CONCERNING (reasons.READY)
            message="some instances are abnormal",
            facts=facts,
        )
    return Observation(
        "Deploying",
        False,
        reason="Deploying",
        message=f"deploying ({progress or 0}%)",
        facts=facts,
    )


@dataclass
class ServiceV1Refs(Refs):
    """The workspace, and spec.config on the wire with model IDs from referenced Models."""

    config: list[dict[str, Any]] = field(default_factory=list)


ServiceV1Context = Context[ServiceSpec, ServiceV1Refs]


class ServiceV1Adapter(ServiceAdapter[ServiceV1Refs]):
    event_phases = frozenset({"Deploying"})  # a deployment or an update in place
    refs_type = ServiceV1Refs

    async def resolve(self, ctx: ServiceV1Context) -> ServiceV1Refs:
        refs = ServiceV1Refs(workspace_id(ctx))
        for item in ctx.spec.config or []:
            wire = to_wire(item, "model_ref")
            if item.model_ref is not None:
                model = ready_dependency(ctx, "models", "Model", item.model_ref.name)
                wire["model_id"] = str(model["modelId"])
            refs.config.append(wire)
        return refs

    async def resolve_for_lookup(self, ctx: ServiceV1Context) -> ServiceV1Refs:
        return ServiceV1Refs(recorded_workspace_id(ctx))

    async def find(self, ctx: ServiceV1Context) -> tuple[str, Any] | None:
        svc = await ctx.client.services.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        return (str(svc.service_id), svc) if svc is not None else None

    async def get(self, ctx: ServiceV1Context, remote_id: str) -> Any:
        return await ctx.client.services.get(remote_id)

    async def create(self, ctx: ServiceV1Context) -> Created:
        """Deploy. The answer is the service's ID; a new service is deploying."""
        spec = ctx.spec
        wire = to_wire(spec, *OPERATOR_FIELDS)
        wire.update(
            service_name=ctx.remote_name,
            description=marked_description(spec.description, ctx.marker, 100),
            workspace_id=ctx.refs.workspace_id,
            config=ctx.refs.config,
        )
        deployed = await ctx.client.services.create(ServiceDeployRequest.model_validate(wire))
        stop_later = Requeue(requeue.BUSY, "spec.stopped") if spec.stopped else None
        return Created(
            str(deployed.service_id),
            _observation("deploying", None, spec.stopped),
            requeue=stop_later,
        )

    def _config_changed(self, ctx: ServiceV1Context, remote: Any) -> bool:
        have = [
            {k: str(getattr(c, k)) for k in COMPARED if getattr(c, k, None) is not None}
            for c in remote.config or []
        ]
        want = [{k: str(c[k]) for k in COMPARED if c.get(k) is not None} for c in ctx.refs.config]
        # Compare only what the spec sets: the API fills in defaults we did not ask for.
        return len(have) != len(want) or any(
            any(h.get(k) != v for k, v in w.items()) for h, w in zip(have, want, strict=True)
        )

    async def update(self, ctx: ServiceV1Context, remote_id: str, remote: Any) -> Updated:
        spec, services = ctx.spec, ctx.client.services
        updated = Updated(remote)
        state = (remote.status or "").lower()
        changed = False
        if spec.stopped and state in STARTED:
            await services.stop(remote_id)
            updated.event("Normal", "Stopped", "service stopped")
            changed = True
        elif not spec.stopped and state == "stopped" and spec.infer_type != "batch":
            await services.start(remote_id)
            updated.event("Normal", "Started", "service started")
            changed = True
        update: dict[str, Any] = {}
        description = marked_description(spec.description, ctx.marker, 100)
        if description != (remote.description or ""):
            update["description"] = description
        if self._config_changed(ctx, remote):
            update["config"] = ctx.refs.config
        if spec.schedule is not None:
            want = [to_wire(s) for s in spec.schedule]
            have = [s.model_dump(exclude_none=True) for s in remote.schedule or []]
            if [{k: str(v) for k, v in s.items()} for s in want] != [
                {k: str(v) for k, v in s.items()} for s in have
            ]:
                update["schedule"] = want
        if update and state != "deploying":
            await services.update(remote_id, ServiceUpdateRequest.model_validate(update))
            updated.change(*update)
            changed = True
        elif update:  # ModelArts.3519 while it deploys
            updated.again(requeue.BUSY, "the service is deploying")
        if changed:
            updated.remote = await services.get(remote_id)
        await self.export(
            ctx, updated, str(updated.remote.service_id or ""), updated.remote.access_address
        )
        return updated

    def observe(self, ctx: ServiceV1Context, remote: Any) -> Observation:
        obs = _observation(
            remote.status, remote.progress, ctx.spec.stopped, getattr(remote, "error_msg", None)
        )
        models = [
            {
                k: v
                for k, v in {
                    "modelId": c.model_id,
                    "modelName": c.model_name,
                    "modelVersion": c.model_version,
                    "status": c.status,
                }.items()
                if v is not None
            }
            for c in remote.config or []
        ]
        facts = {
            "accessAddress": remote.access_address,
            "bindAccessAddress": remote.bind_access_address,
            "debugUrl": remote.debug_url,
            "invocationTimes": remote.invocation_times,
            "failedTimes": remote.failed_times,
            "dueTime": from_millis(remote.due_time),
            "startTime": from_millis(remote.start_time),
            "finishedTime": from_millis(remote.finished_time),
            "createTime": from_millis(remote.publish_at),
            "models": models or None,
        }
        obs.facts.update({k: v for k, v in facts.items() if v is not None})
        return obs

    async def delete(self, ctx: ServiceV1Context, remote_id: str) -> bool:
        await ctx.client.services.delete(remote_id)
        return await confirmed_gone(ctx.client.services.get(remote_id))

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.services.iter_all(workspace_id=scope), "service_id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        stopped, error = bool(entry.spec.get("stopped")), getattr(summary, "error_msg", None)
        return _observation(summary.status, summary.progress, stopped, error)

    async def remote_events(
        self, client: ModelArtsClient, remote_id: str, limit: int
    ) -> list[RemoteEvent]:
        """The service's event log (seed §7.8), newest first. Its events carry no ID: one is
        known by its time, type and text; ``abnormal`` ones are the failures."""
        found = await client.services.events(remote_id, limit=limit, order="desc")
        return [
            RemoteEvent(
                identity=f"{e.occur_time}|{e.event_type}|{e.event_info}",
                at_ms=e.occur_time,
                warning=(e.event_type or "").lower() == "abnormal",
                message=e.event_info or "",
            )
            for e in found.events
        ]
