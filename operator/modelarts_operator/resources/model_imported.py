"""The imported form of Model (``/v1/{project_id}/models``): a model imported into ModelArts
from an OBS location, a container image or a training job's output. Its spec is immutable
(CEL): a new version is a new Model object.

With ``trainingJobRef`` the source location, job ID and version come from the referenced
TrainingJob once it has succeeded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api.client import ModelArtsClient
from ..api.models import ModelImportRequest
from ..crd.model import ModelSpec
from ..reconcile.adapter import (
    Context,
    Created,
    InvalidSpec,
    Observation,
    Refs,
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
from .model_common import ModelAdapter

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
class ImportedModelRefs(Refs):
    """The workspace, and the source a referenced TrainingJob gave (wire field names)."""

    source: dict[str, Any] = field(default_factory=dict)


ImportedContext = Context[ModelSpec, ImportedModelRefs]


class ImportedModelAdapter(ModelAdapter[ImportedModelRefs]):
    refs_type = ImportedModelRefs

    async def resolve(self, ctx: ImportedContext) -> ImportedModelRefs:
        refs = ImportedModelRefs(workspace_id(ctx))
        if (job_ref := ctx.spec.training_job_ref) is not None:
            job = ready_dependency(ctx, "trainingjobs", "TrainingJob", job_ref.name)
            refs.source = {
                "source_location": job.get("trainUrl"),
                "source_job_id": str(job.get("jobId")),
                "source_job_version": job.get("versionName"),
            }
        return refs

    async def resolve_for_lookup(self, ctx: ImportedContext) -> ImportedModelRefs:
        return ImportedModelRefs(recorded_workspace_id(ctx))

    async def find(self, ctx: ImportedContext) -> tuple[str, Any] | None:
        version = ctx.spec.model_version
        if version is None:  # the CRD's rule requires it (admission catches it first)
            raise InvalidSpec("spec.modelVersion is required unless spec.llm is set")
        model = await ctx.client.models.find(
            ctx.remote_name, version, workspace_id=ctx.refs.workspace_id
        )
        return (str(model.model_id), model) if model is not None else None

    async def get(self, ctx: ImportedContext, remote_id: str) -> Any:
        return await ctx.client.models.get(remote_id)

    async def create(self, ctx: ImportedContext) -> Created:
        """Import. The answer is the model's ID; a new import is publishing."""
        spec = ctx.spec
        wire = to_wire(spec, *OPERATOR_FIELDS)
        wire.update(ctx.refs.source)
        wire["model_name"] = ctx.remote_name
        wire["description"] = marked_description(spec.description, ctx.marker, 100)
        wire["workspace_id"] = ctx.refs.workspace_id
        if isinstance(wire.get("model_metrics"), dict):
            wire["model_metrics"] = json.dumps(wire["model_metrics"])
        imported = await ctx.client.models.create(ModelImportRequest.model_validate(wire))
        return Created(str(imported.model_id), _observation("publishing", {}))

    def observe(self, ctx: ImportedContext, remote: Any) -> Observation:
        job_ref = ctx.spec.training_job_ref
        source = {
            "location": remote.source_location,
            "jobId": remote.source_job_id,
            "jobVersion": remote.source_job_version,
            "trainingJob": job_ref.name if job_ref else None,
        }
        facts = {
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

    async def delete(self, ctx: ImportedContext, remote_id: str) -> bool:
        await ctx.client.models.delete(remote_id)  # 3009 (in use) raises StateConflict
        return await confirmed_gone(ctx.client.models.get(remote_id))

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.models.iter_all(workspace_id=scope), "model_id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return _observation(summary.model_status, {})

    def needs_detail(self, old_status: Mapping[str, Any], phase: str) -> bool:
        return phase in ("Published", "Failed")
