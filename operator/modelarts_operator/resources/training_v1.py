"""The 2020 (v1) form of TrainingJob (``spec.config``, ``/v1/{project_id}/training-jobs``): a
job and its versions.

A description change is applied in place; a config change becomes a new job version (the API's
own versioning, with ``pre_version_id``), one per generation. Status codes are the API's
JOBSTAT numbers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..api import errors
from ..api.client import ModelArtsClient
from ..api.training_jobs import (
    JOBSTAT,
    JOBSTATS,
    TrainingJobConfig,
    TrainingJobCreateRequest,
    TrainingJobVersion,
    TrainingVersionConfig,
    TrainingVersionCreateRequest,
)
from ..reconcile.adapter import Created, Observation, Updated, confirmed_gone, keyed
from ..reconcile.naming import marked_description
from ..reconcile.references import from_millis, to_wire
from ..reconcile.registry import Entry
from .training_common import (
    FINISHED,
    TrainingContext,
    TrainingJobAdapter,
    job_observation,
    phase_of,
)

PHASES = {code: stat.phase for code, stat in JOBSTATS.items()}
ACTIVE = {c for c, p in PHASES.items() if p in ("Creating", "Queued", "Running")} - {0}  # 0:
# UNKNOWN is not known to run
KILLING = 9


def _observation(code: int | None, facts: dict[str, Any]) -> Observation:
    name = JOBSTAT.get(code if code is not None else 0, f"JOBSTAT_{code}")
    facts = {"remoteStatus": name, "remoteStatusCode": code, **facts}
    return job_observation(
        phase_of(PHASES, code),
        facts,
        failed=f"training job ended in {name}",
        stopped=f"job ended in {name}",
        running=name,
    )


def _norm(value: Any) -> Any:
    """Compare API values loosely: ids and numbers come back as strings or numbers."""
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if v is not None}
    return None if value is None else str(value)


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class TrainingJobV1Adapter(TrainingJobAdapter):
    recorded_fields = ("versionId", "versionName", "resourceId", "configGeneration")

    def status_id(self, remote_id: str) -> Any:
        """v1 job IDs are numbers (status.jobId takes a number or a v2 UUID)."""
        return int(remote_id) if remote_id.isdigit() else remote_id

    async def find(self, ctx: TrainingContext) -> tuple[str, Any] | None:
        job = await ctx.client.training_jobs.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        return (str(job.job_id), job) if job is not None else None

    async def get(self, ctx: TrainingContext, remote_id: str) -> TrainingJobVersion:
        """The recorded version's detail; the newest version's when none is recorded yet."""
        jobs = ctx.client.training_jobs
        version_id = ctx.status.get("versionId")
        if version_id is None:
            versions = await jobs.list_versions(int(remote_id))
            if not versions.versions:
                raise errors.NotFound(error_msg=f"training job {remote_id} has no version")
            version_id = max(versions.versions, key=lambda v: v.version_id or 0).version_id
        return await jobs.get_version(int(remote_id), int(str(version_id)))

    async def create(self, ctx: TrainingContext) -> Created:
        spec = ctx.spec
        request = TrainingJobCreateRequest(
            job_name=ctx.remote_name,
            job_desc=marked_description(spec.job_desc, ctx.marker, 256),
            config=TrainingJobConfig.model_validate(to_wire(spec.config)),
            workspace_id=ctx.refs.workspace_id,
        )
        created = await ctx.client.training_jobs.create(request)
        facts = {
            "versionId": created.version_id,
            "versionName": created.version_name,
            "createTime": from_millis(created.create_time),
        }
        recorded = {
            "versionId": created.version_id,
            "versionName": created.version_name,
            "resourceId": created.resource_id,
            "configGeneration": ctx.generation,
        }
        return Created(
            str(created.job_id),
            _observation(created.status, _present(facts)),
            recorded=_present(recorded),
            requeue=self.deadline_recheck(spec),
        )

    def _config_drift(self, ctx: TrainingContext, remote: TrainingJobVersion) -> list[str]:
        """Spec config fields whose value the running version does not have."""
        desired = to_wire(ctx.spec.config, "create_version", "volumes")
        current = remote.model_dump(exclude_none=True)
        drift = []
        for key, value in desired.items():
            if key == "parameter":
                have = {p.get("label"): p.get("value") for p in current.get("parameter") or []}
                want = {p["label"]: p.get("value") for p in value}
                if _norm(have) != _norm(want):
                    drift.append(key)
            elif _norm(current.get(key)) != _norm(value):
                drift.append(key)
        return drift

    async def update(
        self, ctx: TrainingContext, remote_id: str, remote: TrainingJobVersion
    ) -> Updated:
        spec, jobs = ctx.spec, ctx.client.training_jobs
        updated = Updated(remote)
        job_desc = marked_description(spec.job_desc, ctx.marker, 256)
        if (remote.job_desc or "") != job_desc:
            await jobs.update_description(int(remote_id), job_desc)
            updated.change("jobDesc")
        drift = self._config_drift(ctx, remote)
        if drift:
            # Look before creating: a version made by a run that crashed before recording it
            # is the newest one and already carries the spec; adopt it instead of a second.
            versions = await jobs.list_versions(int(remote_id))
            newest = max(versions.versions, key=lambda v: v.version_id or 0, default=None)
            if newest is not None and newest.version_id != remote.version_id:
                remote = await jobs.get_version(int(remote_id), int(newest.version_id or 0))
                updated.remote = remote
                updated.recorded["versionId"] = newest.version_id
                drift = self._config_drift(ctx, remote)
        if drift and ctx.status.get("configGeneration") != ctx.generation:
            request = TrainingVersionCreateRequest(
                job_desc=job_desc,
                config=TrainingVersionConfig.model_validate(
                    {
                        **to_wire(spec.config, "create_version", "volumes"),
                        "pre_version_id": remote.version_id,
                    }
                ),
            )
            created = await jobs.create_version(int(remote_id), request)
            updated.recorded.update(
                _present(
                    {
                        "versionId": created.version_id,
                        "versionName": created.version_name,
                        "configGeneration": ctx.generation,
                    }
                )
            )
            updated.event(
                "Normal",
                "VersionCreated",
                f"config changed ({', '.join(drift)}): new version {created.version_id}",
            )
            updated.remote = await jobs.get_version(int(remote_id), int(created.version_id or 0))
            return updated
        version_id = int(remote.version_id or 0)
        await self.enforce_deadline(
            ctx,
            updated,
            active=remote.status in ACTIVE,
            started_ms=remote.start_time,
            duration_ms=remote.duration,
            stop=lambda: jobs.stop(int(remote_id), version_id),
            stopped="stopped",
        )
        return updated

    def observe(self, ctx: TrainingContext, remote: TrainingJobVersion) -> Observation:
        phase = phase_of(PHASES, remote.status)
        facts: dict[str, Any] = {
            "versionId": remote.version_id,
            "versionName": remote.version_name,
            "startTime": from_millis(remote.start_time),
            "createTime": from_millis(remote.create_time),
            "trainUrl": remote.train_url,
            "logLocation": remote.log_url,
        }
        if phase in FINISHED and remote.duration is not None:
            facts["durationSeconds"] = int(remote.duration) // 1000
            if remote.start_time:
                facts["completionTime"] = from_millis(remote.start_time + remote.duration)
        if metrics := _metrics(remote.model_metric_list):
            facts["metrics"] = metrics
        return self.run_policy(ctx, _observation(remote.status, _present(facts)))

    async def delete(self, ctx: TrainingContext, remote_id: str) -> bool:
        """Stop a version in flight, wait out KILLING, then delete; gone once GET says so."""
        jobs = ctx.client.training_jobs
        try:
            remote = await self.get(ctx, remote_id)
        except errors.NotFound:
            return True
        if remote.status in ACTIVE:
            await jobs.stop(int(remote_id), int(remote.version_id or 0))
            return False
        if remote.status == KILLING:
            return False
        await jobs.delete(int(remote_id))
        return await confirmed_gone(self.get(ctx, remote_id))

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.training_jobs.iter_all(workspace_id=scope), "job_id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return self.listed(entry, _observation(summary.status, {}))

    def needs_detail(self, old_status: Mapping[str, Any], phase: str) -> bool:
        # A v1 list item carries the state alone: the output and log locations, start time
        # and metrics of a running job come with the version detail, read once as it starts
        # running (the create's answer has none of them either).
        started = phase == "Running" and old_status.get("phase") != "Running"
        return started or super().needs_detail(old_status, phase)


def _metrics(raw: Any) -> dict[str, float] | None:
    """total_metric_values from model_metric_list (a JSON string or an object)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, dict):
        return None
    values = (raw.get("total_metric") or {}).get("total_metric_values") or {}
    out = {}
    for key in ("accuracy", "precision", "recall", "f1_score"):
        try:
            if values.get(key) is not None:
                out["f1Score" if key == "f1_score" else key] = float(values[key])
        except (TypeError, ValueError):
            continue
    return out or None
