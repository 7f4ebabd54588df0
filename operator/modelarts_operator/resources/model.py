"""Model controller: an imported ModelArts model, or with ``spec.llm`` a DataArts Fabric LLM
model (see ``llm_model.py``). An imported model's spec is immutable (CEL): a new version is a
new Model object; an LLM model's description and version change in place.

With ``trainingJobRef`` the source location, job ID and version come from the referenced
TrainingJob once it has succeeded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..api.client import ModelArtsClient
from ..api.dataarts import DataArtsModel
from ..api.models import ModelImportRequest
from ..crd import model as crd
from ..crd.model import ModelSpec, ModelStatus
from ..reconcile.adapter import Context, Observation, Refs, RemoteAdapter, confirmed_gone
from ..reconcile.kinds import KindDeclaration, Reference
from ..reconcile.kube import Kind
from ..reconcile.naming import marked_description
from ..reconcile.references import (
    from_millis,
    ready_dependency,
    recorded_workspace_id,
    to_wire,
    workspace_id,
    workspace_id_of,
)
from ..reconcile.registry import Entry, Registry
from .llm_model import LlmModels, is_llm, is_llm_entry, wanted_version

OPERATOR_FIELDS = ("deletion_policy", "workspace_ref", "workspace_id", "training_job_ref", "llm")


def _observation(state: str | None, facts: dict[str, Any], error: str | None = None) -> Observation:
    state = (state or "publishing").lower()
    facts = {"remoteStatus": state, **facts}
    if state == "published":
        return Observation("Published", True, facts=facts, in_flight=False)
    if state in ("failed", "building_failed"):
        return Observation.failure(error or f"model import ended {state}", facts)
    return Observation("Publishing", False, message=state, facts=facts)


@dataclass
class ModelRefs(Refs):
    """The workspace, and the source a referenced TrainingJob gave (wire field names)."""

    source: dict[str, Any] = field(default_factory=dict)


class ModelAdapter(RemoteAdapter[ModelSpec]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = ModelSpec
    status_model = ModelStatus
    id_field = "modelId"
    recorded_fields = ("versionId", "versionName")
    name_field = "model_name"
    # An LLM model's description and current version can change outside the operator: the
    # slow resync compares them with the spec (an imported model's resync is one GET).
    resyncs = True
    llm = LlmModels()

    async def resolve(self, ctx: Context) -> None:
        spec: ModelSpec = ctx.spec
        if spec.llm is not None:
            self.llm.resolve(ctx)
            return
        refs = ModelRefs(workspace_id(ctx))
        if spec.training_job_ref is not None:
            job = ready_dependency(ctx, "trainingjobs", "TrainingJob", spec.training_job_ref.name)
            refs.source = {
                "source_location": job.get("trainUrl"),
                "source_job_id": str(job.get("jobId")),
                "source_job_version": job.get("versionName"),
            }
        ctx.refs = refs

    async def resolve_for_lookup(self, ctx: Context) -> None:
        if ctx.spec.llm is None:
            ctx.refs = ModelRefs(recorded_workspace_id(ctx))
        else:
            self.llm.resolve(ctx)

    async def find(self, ctx: Context) -> tuple[str, Any] | None:
        if is_llm(ctx.spec):
            return await self.llm.find(ctx)
        model = await ctx.client.models.find(
            ctx.remote_name, ctx.spec.model_version, workspace_id=ctx.refs.workspace_id
        )
        return (str(model.model_id), model) if model is not None else None

    async def get(self, ctx: Context, remote_id: str) -> Any:
        if is_llm(ctx.spec):
            return await self.llm.get(ctx, remote_id)
        return await ctx.client.models.get(remote_id)

    async def create(self, ctx: Context) -> str:
        spec: ModelSpec = ctx.spec
        if is_llm(spec):
            return await self.llm.create(ctx)
        wire = to_wire(spec, *OPERATOR_FIELDS)
        if isinstance(ctx.refs, ModelRefs):
            wire.update(ctx.refs.source)
        wire["model_name"] = ctx.remote_name
        wire["description"] = marked_description(spec.description, ctx.marker, 100)
        wire["workspace_id"] = ctx.refs.workspace_id
        if isinstance(wire.get("model_metrics"), dict):
            wire["model_metrics"] = json.dumps(wire["model_metrics"])
        imported = await ctx.client.models.create(ModelImportRequest.model_validate(wire))
        return str(imported.model_id)

    async def update(self, ctx: Context, remote_id: str, remote: Any) -> Any:
        if is_llm(ctx.spec):
            return await self.llm.update(ctx, remote_id, remote)
        return remote  # an imported model's spec is immutable

    def observe(self, ctx: Context, remote: Any) -> Observation:
        if isinstance(remote, DataArtsModel):
            return self.llm.observe(ctx.spec.llm.version.name, remote)
        source = {
            "location": remote.source_location,
            "jobId": remote.source_job_id,
            "jobVersion": remote.source_job_version,
            "trainingJob": ctx.spec.training_job_ref.name if ctx.spec.training_job_ref else None,
        }
        facts = {
            "modelId": remote.model_id,
            "modelVersion": remote.model_version,
            "modelType": remote.model_type,
            "modelSize": remote.model_size,
            "installType": remote.install_type,
            "imageAddress": remote.image_address,
            "createTime": from_millis(remote.create_at),
            "source": {k: v for k, v in source.items() if v is not None} or None,
        }
        return _observation(
            remote.model_status,
            {k: v for k, v in facts.items() if v is not None},
            remote.error_msg,
        )

    async def delete(self, ctx: Context, remote_id: str) -> bool:
        if is_llm(ctx.spec):
            return await self.llm.delete(ctx, remote_id)
        await ctx.client.models.delete(remote_id)  # 3009 (in use) raises StateConflict
        return await confirmed_gone(ctx.client.models.get(remote_id))

    async def poll(
        self, client: ModelArtsClient, entries: list[Entry], registry: Registry
    ) -> dict[str, Any]:
        """Both forms' list pages: ModelArts models per workspace, DataArts models per DataArts
        workspace (IDs are UUIDs of different services: they do not collide)."""
        llm = [e for e in entries if is_llm_entry(e)]
        found: dict[str, Any] = await self.llm.poll(client, llm, registry) if llm else {}
        for ws in {workspace_id_of(e, registry) for e in entries if not is_llm_entry(e)}:
            async for model in client.models.iter_all(workspace_id=ws):
                found[str(model.model_id)] = model
        return found

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        if isinstance(summary, DataArtsModel):
            return self.llm.observe(wanted_version(entry), summary)  # the whole model
        return _observation(summary.model_status, {})

    def needs_detail(self, old_status: dict[str, Any], phase: str) -> bool:
        if old_status.get("versionName"):
            return False  # an LLM model: its list item is the whole model already
        return phase in ("Published", "Failed")


DECLARATION = KindDeclaration(
    crd=crd.CRD,
    adapter=ModelAdapter(),
    references=(
        Reference("workspaceRef", "workspaces", ("workspaceId",)),
        Reference("trainingJobRef", "trainingjobs", ("trainUrl", "jobId", "versionName")),
    ),
)
