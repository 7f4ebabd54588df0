"""Service controller: a real-time, batch or edge ModelArts service (v1 form, ``spec.config``)
or a v2 inference service (``spec.v2``, handled by ``service_v2``).

Config (models, weights, specifications, instance counts), description and schedule are
updated in place with PUT; ``spec.stopped`` starts and stops the service. ``spec.exportTo``
writes the service ID and access address into a ConfigMap this object owns, so an
application Deployment can consume the URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import GROUP, VERSION
from ..api.client import ModelArtsClient
from ..api.services import ServiceDeployRequest, ServiceUpdateRequest
from ..crd import service as crd
from ..crd.service import ServiceSpec, ServiceStatus
from ..reconcile.controller import Context, Observation, Refs, RemoteAdapter, confirmed_gone
from ..reconcile.kinds import HealthRules, KindDeclaration, RbacRule, Reference
from ..reconcile.kube import Kind, KubeError
from ..reconcile.naming import marked_description, marker_from_tags
from ..reconcile.policies import foreign_config_map
from ..reconcile.references import (
    from_millis,
    ready_dependency,
    recorded_workspace_id,
    to_wire,
    workspace_id,
    workspace_id_of,
)
from ..reconcile.registry import Entry
from . import service_v2
from .service_v2 import is_v2

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


def _observation(remote: Any, stopped_wanted: bool) -> Observation:
    state = (remote.status or "deploying").lower()
    facts: dict[str, Any] = {"remoteStatus": state}
    if remote.progress is not None:
        facts["progress"] = int(remote.progress)
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
        return Observation.failure(getattr(remote, "error_msg", None) or "deployment failed", facts)
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
        message=f"deploying ({remote.progress or 0}%)",
        facts=facts,
    )


@dataclass
class ServiceRefs(Refs):
    """The workspace, spec.config on the wire with model IDs from referenced Models, and the
    ConfigMap this reconcile exported to."""

    config: list[dict[str, Any]] = field(default_factory=list)
    exported: str | None = None
    v2: dict[str, Any] = field(default_factory=dict)  # spec.v2 on the wire


def _refs(ctx: Context) -> ServiceRefs:
    if not isinstance(ctx.refs, ServiceRefs):  # observe() without resolve() (the poller)
        ctx.refs = ServiceRefs(ctx.refs.workspace_id)
    return ctx.refs


class ServiceAdapter(RemoteAdapter[ServiceSpec]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = ServiceSpec
    status_model = ServiceStatus
    id_field = "serviceId"
    name_field = "service_name"
    detail_in_poller = False  # Running writes the exportTo ConfigMap, which update() does
    resyncs = True

    async def resolve(self, ctx: Context) -> None:
        refs = ServiceRefs(workspace_id(ctx))
        ctx.refs = refs
        if is_v2(ctx.spec):
            refs.v2 = service_v2.wire_config(ctx)
            return
        for item in ctx.spec.config or []:
            wire = to_wire(item, "model_ref")
            if item.model_ref is not None:
                model = ready_dependency(ctx, "models", "Model", item.model_ref.name)
                wire["model_id"] = str(model["modelId"])
            refs.config.append(wire)
        ctx.refs = refs

    async def resolve_for_lookup(self, ctx: Context) -> None:
        ctx.refs = ServiceRefs(recorded_workspace_id(ctx))

    async def find(self, ctx: Context) -> tuple[str, Any] | None:
        if is_v2(ctx.spec):
            return await service_v2.find(ctx)
        svc = await ctx.client.services.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        return (str(svc.service_id), svc) if svc is not None else None

    def marker(self, ctx: Context, remote: Any) -> str | None:
        """A v2 service carries the marker as its owner tag; a v1 one in its description."""
        if is_v2(ctx.spec):
            return marker_from_tags(getattr(remote, "tags", None))
        return super().marker(ctx, remote)

    async def get(self, ctx: Context, remote_id: str) -> Any:
        if is_v2(ctx.spec):
            return await ctx.client.services_v2.get(remote_id)
        return await ctx.client.services.get(remote_id)

    async def create(self, ctx: Context) -> str:
        if is_v2(ctx.spec):
            request = service_v2.create_request(ctx, _refs(ctx).v2)
            return str((await ctx.client.services_v2.create(request)).id)
        wire = to_wire(ctx.spec, *OPERATOR_FIELDS)
        wire.update(
            service_name=ctx.remote_name,
            description=marked_description(ctx.spec.description, ctx.marker, 100),
            workspace_id=ctx.refs.workspace_id,
            config=_refs(ctx).config,
        )
        deployed = await ctx.client.services.create(ServiceDeployRequest.model_validate(wire))
        return str(deployed.service_id)

    def _config_changed(self, ctx: Context, remote: Any) -> bool:
        have = [
            {k: str(getattr(c, k)) for k in COMPARED if getattr(c, k, None) is not None}
            for c in remote.config or []
        ]
        want = [{k: str(c[k]) for k in COMPARED if c.get(k) is not None} for c in _refs(ctx).config]
        # Compare only what the spec sets: the API fills in defaults we did not ask for.
        return len(have) != len(want) or any(
            any(h.get(k) != v for k, v in w.items()) for h, w in zip(have, want, strict=True)
        )

    async def update(self, ctx: Context, remote_id: str, remote: Any) -> Any:
        if is_v2(ctx.spec):
            remote = await service_v2.update(ctx, remote_id, remote, _refs(ctx).v2)
            await self._export(ctx, remote_id, remote.url)
            return remote
        spec: ServiceSpec = ctx.spec
        services = ctx.client.services
        state = (remote.status or "").lower()
        changed = False
        if spec.stopped and state in ("running", "concerning", "deploying"):
            await services.stop(remote_id)
            ctx.effects.event("Normal", "Stopped", "service stopped")
            changed = True
        elif not spec.stopped and state == "stopped" and spec.infer_type != "batch":
            await services.start(remote_id)
            ctx.effects.event("Normal", "Started", "service started")
            changed = True
        update: dict[str, Any] = {}
        description = marked_description(spec.description, ctx.marker, 100)
        if description != (remote.description or ""):
            update["description"] = description
        if self._config_changed(ctx, remote):
            update["config"] = _refs(ctx).config
        if spec.schedule is not None:
            want = [to_wire(s) for s in spec.schedule]
            have = [s.model_dump(exclude_none=True) for s in remote.schedule or []]
            if [{k: str(v) for k, v in s.items()} for s in want] != [
                {k: str(v) for k, v in s.items()} for s in have
            ]:
                update["schedule"] = want
        if update and state not in ("deploying",):
            await services.update(remote_id, ServiceUpdateRequest.model_validate(update))
            ctx.updated(update)
            changed = True
        elif update:
            ctx.effects.requeue_after = 10.0  # 3519: wait until deployment completes
        remote = await services.get(remote_id) if changed else remote
        await self._export(ctx, str(remote.service_id or ""), remote.access_address)
        return remote

    async def _export(self, ctx: Context, service_id: str, address: str | None) -> None:
        """Write serviceId and accessAddress to the ConfigMap named by spec.exportTo."""
        target = ctx.spec.export_to
        if target is None or ctx.kube is None:
            return
        name = target.config_map_name
        data = {"serviceId": service_id, "accessAddress": address or ""}
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ctx.namespace,
                "labels": {"app.kubernetes.io/managed-by": "modelarts-operator"},
                "ownerReferences": [
                    {
                        "apiVersion": f"{GROUP}/{VERSION}",
                        "kind": "Service",
                        "name": ctx.name,
                        "uid": ctx.uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "data": data,
        }
        path = f"/api/v1/namespaces/{ctx.namespace}/configmaps"
        try:
            current = await ctx.kube.get(f"{path}/{name}")
        except KubeError as err:
            if err.status != 404:
                raise
            await ctx.kube.create(path, body)
        else:
            if (refusal := foreign_config_map(current, ctx.uid)) is not None:
                ctx.refusal = refusal
                return
            if current.get("data") != data:
                await ctx.kube.merge_patch(f"{path}/{name}", {"data": data})
        _refs(ctx).exported = name

    def observe(self, ctx: Context, remote: Any) -> Observation:
        if is_v2(ctx.spec):
            obs = service_v2.observe(ctx, remote)
            if (exported := _refs(ctx).exported) is not None:
                obs.facts["exportedConfigMap"] = exported
            return obs
        obs = _observation(remote, ctx.spec.stopped)
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
            "serviceId": remote.service_id,
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
            "exportedConfigMap": _refs(ctx).exported,
        }
        obs.facts.update({k: v for k, v in facts.items() if v is not None})
        return obs

    async def delete(self, ctx: Context, remote_id: str) -> bool:
        if is_v2(ctx.spec):
            return await service_v2.delete(ctx, remote_id)
        await ctx.client.services.delete(remote_id)
        return await confirmed_gone(ctx.client.services.get(remote_id))

    async def poll(self, client: ModelArtsClient, entries: list[Entry]) -> dict[str, Any]:
        v2 = [e for e in entries if is_v2(e.spec)]
        found: dict[str, Any] = await service_v2.poll(client, v2) if v2 else {}
        v1 = [e for e in entries if not is_v2(e.spec)]
        for ws in {workspace_id_of(e) for e in v1}:
            async for svc in client.services.iter_all(workspace_id=ws):
                found[str(svc.service_id)] = svc
        return found

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        if is_v2(entry.spec):
            return service_v2.observe_summary(entry, summary)
        return _observation(summary, bool(entry.spec.get("stopped")))

    def needs_detail(self, old_status: dict[str, Any], phase: str) -> bool:
        # The access address and per-model states come with the detail once it runs.
        return phase in ("Running", "Finished", "Failed") and old_status.get("phase") != phase


DECLARATION = KindDeclaration(
    crd=crd.CRD,
    adapter=ServiceAdapter(),
    references=(
        Reference("workspaceRef", "workspaces", ("workspaceId",)),
        Reference("modelRef", "models", ("modelId",)),
    ),
    rbac=(
        RbacRule(
            "",
            "configmaps",
            frozenset({"get", "create", "patch"}),
            "spec.exportTo: the ConfigMap with the service's address and ID, owned by the "
            "Service: read it, create it, patch its data. No list/watch/delete (the garbage "
            "collector deletes it with its Service); a patch of a ConfigMap no Service owns is "
            "refused by the chart's ValidatingAdmissionPolicy (admission-policy.yaml)",
        ),
    ),
    health=HealthRules(suspended_when="stopped"),
)
