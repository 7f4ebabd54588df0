"""TrainingJob controller: a v2 training job (``spec.algorithm``, what the cloud accepts today;
see ``training_v2.py``) or a 2020 v1 job and its versions (``spec.config``).

v1: a description change is applied in place; a config change becomes a new job version (the
API's own versioning, with ``pre_version_id``). v2: the description is applied in place; a
change to what runs is a new job. Run policy for both as in Kubernetes Jobs:
``activeDeadlineSeconds`` stops a job that runs too long, ``ttlSecondsAfterFinished``
deletes the object after completion. A job deleted remotely is reported, never re-run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
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
from ..api.training_v2 import TrainingJobV2
from ..crd import training_job as crd
from ..crd.training_job import TrainingJobSpec, TrainingJobStatus
from ..reconcile import conditions as cond
from ..reconcile.adapter import Context, Observation, Refs, RemoteAdapter, confirmed_gone
from ..reconcile.kinds import KindDeclaration, Reference
from ..reconcile.kube import Kind
from ..reconcile.naming import marked_description
from ..reconcile.references import (
    from_millis,
    recorded_workspace_id,
    to_wire,
    workspace_id,
    workspace_id_of,
)
from ..reconcile.registry import Entry, Registry
from .training_v2 import (
    DEADLINE_RECHECK,
    FINISHED,
    TrainingV2,
    is_v2,
    is_v2_entry,
    observe_job,
    running_seconds,
)


def _codes(*phases: str) -> frozenset[int]:
    return frozenset(code for code, stat in JOBSTATS.items() if stat.phase in phases)


SUCCEEDED = _codes("Succeeded")
FAILED = _codes("Failed")
STOPPED = _codes("Stopped")
ACTIVE = _codes("Creating", "Queued", "Running") - {0}  # 0 (UNKNOWN) is not known to run
TERMINAL = SUCCEEDED | FAILED | STOPPED


def phase_of(code: int | None) -> str:
    stat = JOBSTATS.get(code) if code is not None else None
    return stat.phase if stat is not None else "Creating"


def _observation(code: int | None, facts: dict[str, Any]) -> Observation:
    name = JOBSTAT.get(code if code is not None else 0, f"JOBSTAT_{code}")
    facts = {"remoteStatus": name, "remoteStatusCode": code, **facts}
    phase = phase_of(code)
    if phase == "Succeeded":
        return Observation(phase, True, facts=facts, in_flight=False)
    if phase == "Failed":
        return Observation.failure(f"training job ended in {name}", facts)
    if phase == "Stopped":
        return Observation(
            phase,
            False,
            reason="Stopped",
            message=f"job ended in {name}",
            facts=facts,
            in_flight=False,
        )
    return Observation(phase, False, message=name, facts=facts)


def _norm(value: Any) -> Any:
    """Compare API values loosely: ids and numbers come back as strings or numbers."""
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if v is not None}
    return None if value is None else str(value)


@dataclass
class TrainingRefs(Refs):
    """The workspace, and what the run policy decided during this reconcile."""

    deadline_exceeded: bool = False


def _refs(ctx: Context) -> TrainingRefs:
    if not isinstance(ctx.refs, TrainingRefs):  # observe() without resolve() (the poller)
        ctx.refs = TrainingRefs(ctx.refs.workspace_id)
    return ctx.refs


class TrainingJobAdapter(RemoteAdapter[TrainingJobSpec]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = TrainingJobSpec
    status_model = TrainingJobStatus
    id_field = "jobId"
    recorded_fields = (
        "versionId",
        "versionName",
        "resourceId",
        "configGeneration",
        "trainingSpecHash",
    )
    name_field = "job_name"
    recreate_on_drift = False  # re-running training silently would cost money
    v2 = TrainingV2()

    def status_id(self, remote_id: str) -> Any:
        """v1 job IDs are numbers, v2 IDs UUIDs (status.jobId takes either)."""
        return int(remote_id) if remote_id.isdigit() else remote_id

    async def resolve(self, ctx: Context) -> None:
        ctx.refs = TrainingRefs(workspace_id(ctx))

    async def resolve_for_lookup(self, ctx: Context) -> None:
        ctx.refs = TrainingRefs(recorded_workspace_id(ctx))

    async def find(self, ctx: Context) -> tuple[str, Any] | None:
        if is_v2(ctx.spec):
            return await self.v2.find(ctx)
        job = await ctx.client.training_jobs.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        if job is None:
            return None
        ctx.status["versionId"] = job.version_id
        return str(job.job_id), job

    async def get(self, ctx: Context, remote_id: str) -> TrainingJobVersion | TrainingJobV2:
        if is_v2(ctx.spec):
            return await self.v2.get(ctx, remote_id)
        version_id = ctx.status.get("versionId")
        if version_id is None:
            versions = await ctx.client.training_jobs.list_versions(int(remote_id))
            if not versions.versions:
                raise errors.NotFound(error_msg=f"training job {remote_id} has no version")
            latest = max(versions.versions, key=lambda v: v.version_id or 0)
            version_id = latest.version_id
            ctx.status["versionId"] = version_id
        return await ctx.client.training_jobs.get_version(int(remote_id), int(str(version_id)))

    async def create(self, ctx: Context) -> str:
        spec: TrainingJobSpec = ctx.spec
        if is_v2(spec):
            return await self.v2.create(ctx)
        request = TrainingJobCreateRequest(
            job_name=ctx.remote_name,
            job_desc=marked_description(spec.job_desc, ctx.marker, 256),
            config=TrainingJobConfig.model_validate(to_wire(spec.config)),
            workspace_id=ctx.refs.workspace_id,
        )
        created = await ctx.client.training_jobs.create(request)
        ctx.status.update(
            {
                k: v
                for k, v in {
                    "versionId": created.version_id,
                    "versionName": created.version_name,
                    "resourceId": created.resource_id,
                    "configGeneration": ctx.generation,
                }.items()
                if v is not None
            }
        )
        return str(created.job_id)

    def _config_drift(self, ctx: Context, remote: TrainingJobVersion) -> list[str]:
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

    async def update(self, ctx: Context, remote_id: str, remote: Any) -> Any:
        spec: TrainingJobSpec = ctx.spec
        if isinstance(remote, TrainingJobV2):
            remote = await self.v2.update(ctx, remote_id, remote)
            if await self.v2.enforce_deadline(ctx, str(remote.id), remote):
                _refs(ctx).deadline_exceeded = True
            return remote
        jobs = ctx.client.training_jobs
        job_desc = marked_description(spec.job_desc, ctx.marker, 256)
        if (remote.job_desc or "") != job_desc:
            await jobs.update_description(int(remote_id), job_desc)
        drift = self._config_drift(ctx, remote)
        if drift:
            # Look before creating: a version made by a run that crashed before recording it
            # is the newest one and already carries the spec; adopt it instead of a second.
            versions = await jobs.list_versions(int(remote_id))
            newest = max(versions.versions, key=lambda v: v.version_id or 0, default=None)
            if newest is not None and newest.version_id != remote.version_id:
                remote = await jobs.get_version(int(remote_id), int(newest.version_id or 0))
                ctx.status["versionId"] = newest.version_id
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
            ctx.status.update({"versionId": created.version_id, "configGeneration": ctx.generation})
            if created.version_name:
                ctx.status["versionName"] = created.version_name
            ctx.effects.event(
                "Normal",
                "VersionCreated",
                f"config changed ({', '.join(drift)}): new version {created.version_id}",
            )
            return await jobs.get_version(int(remote_id), int(created.version_id or 0))
        await self._enforce_deadline(ctx, remote_id, remote)
        return remote

    async def _enforce_deadline(self, ctx: Context, remote_id: str, remote: Any) -> None:
        deadline = ctx.spec.active_deadline_seconds
        if not deadline or remote.status not in ACTIVE:
            return
        if not remote.start_time:  # the clock starts when it runs: look again soon
            ctx.effects.requeue_after = min(float(deadline), DEADLINE_RECHECK)
            return
        elapsed = running_seconds(remote.start_time, remote.duration)
        if elapsed < deadline:
            ctx.effects.requeue_after = max(1.0, deadline - elapsed)
            return
        with contextlib.suppress(errors.StateConflict):
            await ctx.client.training_jobs.stop(int(remote_id), int(remote.version_id))
        _refs(ctx).deadline_exceeded = True
        ctx.effects.event(
            "Warning", "DeadlineExceeded", f"stopped after {int(elapsed)}s (limit {deadline}s)"
        )

    def observe(self, ctx: Context, remote: Any) -> Observation:
        if isinstance(remote, TrainingJobV2):
            obs = observe_job(remote)
            return self._run_policy(ctx, obs, obs.phase in FINISHED)
        facts: dict[str, Any] = {
            "jobId": remote.job_id,
            "versionId": remote.version_id,
            "startTime": from_millis(remote.start_time),
            "createTime": from_millis(remote.create_time),
            "trainUrl": remote.train_url,
            "logLocation": remote.log_url,
        }
        if remote.version_name:
            facts["versionName"] = remote.version_name
        code = remote.status
        if code in TERMINAL and remote.duration is not None:
            facts["durationSeconds"] = int(remote.duration) // 1000
            if remote.start_time:
                facts["completionTime"] = from_millis(remote.start_time + remote.duration)
        if metrics := _metrics(remote.model_metric_list):
            facts["metrics"] = metrics
        obs = _observation(code, {k: v for k, v in facts.items() if v is not None})
        return self._run_policy(ctx, obs, code in TERMINAL)

    def _run_policy(self, ctx: Context, obs: Observation, finished: bool) -> Observation:
        """activeDeadlineSeconds and ttlSecondsAfterFinished, for both forms."""
        deadline = ctx.spec.active_deadline_seconds
        ended_by_deadline = finished and _ended_by_deadline(obs, deadline, ctx.status)
        if _refs(ctx).deadline_exceeded or ended_by_deadline:
            _deadline_exceeded(obs, deadline)
        ttl = ctx.spec.ttl_seconds_after_finished
        completion = obs.facts.get("completionTime")
        if ttl is not None and finished and completion:
            done = dt.datetime.fromisoformat(completion.replace("Z", "+00:00"))
            remaining = done.timestamp() + ttl - dt.datetime.now(dt.UTC).timestamp()
            if remaining <= 0:
                ctx.effects.delete_object = True
            else:
                ctx.effects.requeue_after = remaining
        return obs

    async def delete(self, ctx: Context, remote_id: str) -> bool:
        if is_v2(ctx.spec):
            return await self.v2.delete(ctx, remote_id)
        jobs = ctx.client.training_jobs
        try:
            remote = await self.get(ctx, remote_id)
        except errors.NotFound:
            return True
        if remote.status in ACTIVE:
            await jobs.stop(int(remote_id), int(remote.version_id or 0))
            return False
        if remote.status == 9:  # KILLING: wait for it to end
            return False
        await jobs.delete(int(remote_id))
        return await confirmed_gone(self.get(ctx, remote_id))

    async def poll(
        self, client: ModelArtsClient, entries: list[Entry], registry: Registry
    ) -> dict[str, Any]:
        """Both forms' list pages: v1 jobs by number, v2 jobs by UUID (they never collide)."""
        v2 = [e for e in entries if is_v2_entry(e)]
        found: dict[str, Any] = await self.v2.poll(client, v2, registry) if v2 else {}
        workspaces: dict[str, list[Entry]] = defaultdict(list)
        for entry in entries:
            if not is_v2_entry(entry):
                workspaces[workspace_id_of(entry, registry)].append(entry)
        for ws in workspaces:
            async for job in client.training_jobs.iter_all(workspace_id=ws):
                found[str(job.job_id)] = job
        return found

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        if isinstance(summary, TrainingJobV2):
            obs = observe_job(summary)  # a search item is the whole job
        else:
            obs = _observation(summary.status, {})
        deadline = (entry.body.get("spec") or {}).get("activeDeadlineSeconds")
        if obs.phase in FINISHED and _ended_by_deadline(obs, deadline, entry.status):
            _deadline_exceeded(obs, deadline)
        return obs

    def needs_detail(self, old_status: dict[str, Any], phase: str) -> bool:
        # Finished jobs get metrics, duration and completion time from the version detail.
        return phase in ("Succeeded", "Failed", "Stopped") or old_status.get("phase") is None


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


DECLARATION = KindDeclaration(
    crd=crd.CRD,
    adapter=TrainingJobAdapter(),
    references=(Reference("workspaceRef", "workspaces", ("workspaceId",)),),
)


def _ended_by_deadline(obs: Observation, deadline: Any, status: dict[str, Any]) -> bool:
    """True when a finished job was stopped for its deadline, so that every look at it (the
    poller's list, a detail GET, a reconcile working from an older body) says
    DeadlineExceeded, never a plain Stopped.

    Read from the remote job first: it ended stopped (not on its own) after running at least
    ``deadline`` seconds by the API's own duration — only the deadline stops a job that late.
    A view of the object that already says so is taken as it is, for a job whose duration the
    API does not report. Status alone is not enough: the reconcile that stopped the job can
    race a poll that sees it stopped first, and the look after that would record Stopped.
    """
    ready = cond.get_condition(status.get("conditions"), cond.READY) or {}
    if ready.get("reason") == "DeadlineExceeded":
        return True
    duration = obs.facts.get("durationSeconds")
    if not deadline or obs.phase != "Stopped" or duration is None:
        return False
    return int(duration) >= int(deadline)


def _deadline_exceeded(obs: Observation, deadline: Any) -> None:
    obs.phase, obs.reason = "Failed", "DeadlineExceeded"
    obs.message = f"activeDeadlineSeconds {deadline} exceeded"
