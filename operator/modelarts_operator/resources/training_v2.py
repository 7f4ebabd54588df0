"""The v2 half of the TrainingJob adapter: jobs of ``/v2/{project_id}/training-jobs``.

The v2 API has no versions and cannot change a job's training fields: only the description is
updated in place. A change to anything else runs a **new job** under a new deterministic name
(``<name>-g<generation>``), and the job it replaces is stopped if it still runs, and deleted
too with ``previousJobPolicy: Delete``; status lists it under ``previousJobs``. The new name is
looked up before the create, so a crash between the create and the status write finds the job
instead of creating a second one.

The API's response does not echo every request field faithfully (annotations, inputs…), so
"did the training fields change" is answered from a digest of the create body the spec gives,
recorded in status when the job was created, never by diffing the response.

Phases, Kubernetes-style: Creating, Pending, Running and Terminating are in flight; Completed
is Succeeded (Ready); Failed and Abnormal are Failed (with the tasks' exit codes); Terminated
is Stopped. A visualization job (kind ``visualization_job``) runs until stopped, so its
Running is Ready and settled. A missing job answers HTTP 400 ModelArts.2775, which the
client maps to NotFound.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..api import errors
from ..api.client import ModelArtsClient
from ..api.training_v2 import (
    TERMINAL_PHASES,
    JobEndpointsV2,
    TrainingJobV2,
    TrainingJobV2CreateRequest,
    TrainingJobV2UpdateRequest,
)
from ..crd.training_job import TrainingJobSpec
from ..crd.training_v2 import TrainingSummary
from ..reconcile import requeue
from ..reconcile.adapter import (
    Created,
    Observation,
    RemoteEvent,
    RetryLater,
    Updated,
    confirmed_gone,
    keyed,
)
from ..reconcile.naming import desired_tags, marked_description, tag_changes
from ..reconcile.policies import Refusal
from ..reconcile.references import from_millis
from ..reconcile.registry import Entry
from ..reconcile.requeue import Requeue
from ..vocab import training as vocab
from .training_common import (
    FINISHED,
    TrainingContext,
    TrainingJobAdapter,
    job_observation,
    phase_of,
)

PHASES = {
    "Creating": "Creating",
    "Pending": "Pending",
    "Running": "Running",
    "Terminating": "Terminating",
    "Completed": "Succeeded",
    "Failed": "Failed",
    "Abnormal": "Failed",
    "Terminated": "Stopped",
}
VISUALIZATION = "visualization_job"  # SDK Job.kind: 可视化作业 (a visualization job)
IN_FLIGHT_PHASES = frozenset({"Creating", "Pending", "Running", "Terminating"})  # the API's
MAX_PREVIOUS = 16
NAME_LIMIT = 64
# The spec fields that are not part of what runs (changed in place, or ours alone).
NOT_TRAINING = (
    "job_name",
    "job_desc",
    "deletion_policy",
    "workspace_ref",
    "workspace_id",
    "active_deadline_seconds",
    "ttl_seconds_after_finished",
    "previous_job_policy",
    "tags",
)


def annotations_of(spec: TrainingJobSpec) -> dict[str, str]:
    """The job's ``metadata.annotations``: ``spec.features`` as the API's annotation
    switches, then ``spec.annotations`` (which win)."""
    out: dict[str, str] = {}
    if (features := spec.features) is not None:
        if (ft := features.fault_tolerance) is not None:
            if ft.job_retry_num is not None:
                out["fault-tolerance/job-retry-num"] = str(ft.job_retry_num)
            if ft.unconditional_retry is not None:
                out["fault-tolerance/job-unconditional-retry"] = str(ft.unconditional_retry).lower()
            if ft.hang_retry is not None:
                out["fault-tolerance/hang-retry"] = str(ft.hang_retry).lower()
        if features.tensorboard is not None:
            out["tensorboard/enable"] = str(features.tensorboard).lower()
        if features.jupyter_lab is not None:
            out["jupyter-lab/enable"] = str(features.jupyter_lab).lower()
    out.update(spec.annotations or {})
    return out


# The body's ``spec``: the generated model's fields, which the TrainingJob spec inherits.
BODY_SPEC_FIELDS = frozenset(vocab.Spec.model_fields)


def algorithm_of(
    spec: TrainingJobSpec,
    algorithm_id: str | None,
    source_job_ids: Mapping[str, str] | None = None,
) -> vocab.JobAlgorithm | None:
    """The body's ``algorithm``: the spec's, with ``algorithmRef`` replaced by the ID it
    resolved to, and each data source's ``jobRef`` by its job's ID (``source_job_ids``)."""
    if spec.algorithm is None:
        return None
    fields = {name: getattr(spec.algorithm, name) for name in vocab.JobAlgorithm.model_fields}
    if algorithm_id is not None:
        fields["id"] = algorithm_id
    if (summary := spec.algorithm.summary) is not None:
        fields["summary"] = summary_of(summary, source_job_ids or {})
    return vocab.JobAlgorithm(**fields)


def summary_of(summary: TrainingSummary, job_ids: Mapping[str, str]) -> vocab.Summary:
    """The body's ``algorithm.summary``: a data source's ``jobRef`` as the job ID it resolved
    to (``job_ids``, by name)."""
    sources = [
        vocab.DataSource(
            job=vocab.JobSummary(
                job_id=s.job.job_id if s.job.job_ref is None else job_ids[s.job.job_ref.name]
            ),
            nfs=s.nfs,
        )
        for s in summary.data_sources or []
    ]
    return vocab.Summary(
        log_type=summary.log_type, log_dir=summary.log_dir, data_sources=sources or None
    )


def create_request(
    spec: TrainingJobSpec,
    name: str,
    workspace_id: str,
    description: str | None,
    algorithm_id: str | None = None,
    pool_id: str | None = None,
    source_job_ids: Mapping[str, str] | None = None,
) -> TrainingJobV2CreateRequest:
    """The create body the spec describes: the spec's sub-models as they are, in the body's
    envelopes (``metadata``, ``spec``); ``algorithm_id``, ``pool_id`` and ``source_job_ids``
    what ``algorithm.algorithmRef``, ``resource.poolRef`` and the data sources' ``jobRef``
    resolved to."""
    body_spec = {field: getattr(spec, field) for field in BODY_SPEC_FIELDS}
    if pool_id is not None and spec.resource is not None:
        fields = {name: getattr(spec.resource, name) for name in vocab.SpecResource.model_fields}
        body_spec["resource"] = vocab.SpecResource(**{**fields, "pool_id": pool_id})
    return vocab.Job(
        kind=spec.job_kind or "job",
        metadata=vocab.JobMetadata(
            name=name,
            workspace_id=workspace_id,
            description=description,
            annotations=annotations_of(spec) or None,
            training_experiment_reference=spec.experiment,
        ),
        algorithm=algorithm_of(spec, algorithm_id, source_job_ids),
        spec=vocab.Spec(**body_spec),
        endpoints=spec.endpoints,
        train_type=spec.train_type,
        ftjob_config=spec.ftjob_config,
    )


def _digest(wire: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()[:16]


def _training_wire(spec: TrainingJobSpec) -> dict[str, Any]:
    return spec.model_dump(
        by_alias=False, exclude_none=True, exclude=set(NOT_TRAINING), mode="json"
    )


# What a job changes in place (the SDK's JobUpdateRequestBody): not part of what runs.
JUPYTER_LAB = "jupyter-lab/enable"
IN_PLACE_POLICY = ("priority", "preemptible")


def training_digest(spec: TrainingJobSpec) -> str:
    """A digest of what runs: every spec field but the description, our own policies and
    what the API changes in place (notification, priority, preemption, the JupyterLab
    switch)."""
    wire = _training_wire(spec)
    wire.pop("notification", None)
    policy = wire.get("schedule_policy") or {}
    for key in IN_PLACE_POLICY:
        policy.pop(key, None)
    if "schedule_policy" in wire and not policy:
        del wire["schedule_policy"]
    features = wire.get("features") or {}
    features.pop("jupyter_lab", None)
    if "features" in wire and not features:
        del wire["features"]
    annotations = wire.get("annotations") or {}
    annotations.pop(JUPYTER_LAB, None)
    if "annotations" in wire and not annotations:
        del wire["annotations"]
    return _digest(wire)


def legacy_digest(spec: TrainingJobSpec) -> str:
    """The digest releases before in-place updates recorded (the in-place fields included):
    a job recorded with it runs what the spec says unless the digest above differs too."""
    return _digest(_training_wire(spec))


def in_place_request(
    spec: TrainingJobSpec, remote: TrainingJobV2, applied: bool
) -> TrainingJobV2UpdateRequest | None:
    """The PUT that brings the job's in-place fields to the spec: the JupyterLab switch,
    priority and preemption where the job differs (the API shows them), the notification
    when the spec changed (the API does not show it)."""
    body: dict[str, Any] = {}
    want_jupyter = annotations_of(spec).get(JUPYTER_LAB)
    have_annotations = remote.metadata.annotations or {}
    if want_jupyter is not None and have_annotations.get(JUPYTER_LAB) != want_jupyter:
        body["metadata"] = {"annotation": {JUPYTER_LAB: want_jupyter}}
    want_policy = spec.schedule_policy
    have_policy = (remote.spec.schedule_policy if remote.spec else None) or {}
    policy = {
        key: getattr(want_policy, key)
        for key in IN_PLACE_POLICY
        if want_policy is not None
        and getattr(want_policy, key) is not None
        and have_policy.get(key) != getattr(want_policy, key)
    }
    if policy:
        body.setdefault("spec", {})["schedule_policy"] = policy
    if spec.notification is not None and not applied:
        body.setdefault("spec", {})["notification"] = spec.notification.to_wire()
    return TrainingJobV2UpdateRequest.model_validate(body) if body else None


def tags_of(spec: TrainingJobSpec, defaults: Mapping[str, str]) -> list[dict[str, str]]:
    """The tags a job carries: the operator-wide defaults and the spec's (ownership is the
    description's marker)."""
    return desired_tags(spec.tags, defaults)


def rerun_name(base: str, generation: int) -> str:
    """The deterministic name of the job that runs generation ``generation``'s fields."""
    suffix = f"-g{generation}"
    if len(base) + len(suffix) <= NAME_LIMIT:
        return base + suffix
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    room = NAME_LIMIT - len(suffix) - len(digest) - 1
    return f"{base[:room].rstrip('-_')}-{digest}{suffix}"


def observe_job(job: TrainingJobV2) -> Observation:
    """What a v2 job's state means (the search answer and GET carry the same object)."""
    raw, secondary = job.status.phase or "Creating", job.status.secondary_phase
    phase = phase_of(PHASES, job.phase)
    started = job.status.start_time or None
    facts: dict[str, Any] = {
        "jobName": job.metadata.name,
        "remoteStatus": raw if not secondary or secondary == raw else f"{raw}/{secondary}",
        "createTime": from_millis(job.metadata.create_time),
        "startTime": from_millis(started),
        "trainUrl": job.output_url("train_url") or job.output_url(),
        "logLocation": job.log_path,
        "tasks": list(job.status.tasks) or None,
        "taskStatuses": [
            {"task": t.task, "exitCode": t.exit_code, "message": t.message}
            for t in job.status.task_statuses[:MAX_PREVIOUS]
        ]
        or None,
        "runningRecords": [
            {
                "startTime": _seconds(r.start_at),
                "endTime": _seconds(r.end_at),
                "startType": r.start_type,
                "endReason": r.end_reason,
                "endRelatedTask": r.end_related_task,
            }
            for r in job.status.running_records[-MAX_PREVIOUS:]
        ]
        or None,
    }
    # The duration only once it stops growing: a running job's would change every poll and
    # make every cycle a status write.
    if phase in FINISHED and job.status.duration is not None:
        facts["durationSeconds"] = int(job.status.duration) // 1000
        if started:
            facts["completionTime"] = from_millis(started + int(job.status.duration))
    facts = {k: v for k, v in facts.items() if v is not None}
    # Always said, None (dropped from status) once the job no longer serves them.
    facts["endpoints"] = endpoints_of(job.endpoints)
    exits = "; ".join(
        f"{t.task} exited {t.exit_code}" + (f": {t.message}" if t.message else "")
        for t in job.status.task_statuses
        if t.exit_code not in (None, 0) or t.message
    )
    if job.kind == VISUALIZATION and phase == "Running":
        # A visualization job serves until it is stopped: Running is its steady good state
        # (Ready, polled at the slow rate), as a running Service's is.
        return Observation(phase, True, message=_serving(facts), facts=facts, in_flight=False)
    return job_observation(
        phase,
        facts,
        failed=f"training job ended {raw}" + (f" ({exits})" if exits else ""),
        stopped=f"job ended {raw}",
        running=facts["remoteStatus"],
    )


def _serving(facts: Mapping[str, Any]) -> str:
    tools = sorted(k for k in facts.get("endpoints") or {} if k != "ssh")
    return "serving " + ", ".join(tools) if tools else "running"


def endpoints_of(endpoints: JobEndpointsV2 | None) -> dict[str, Any] | None:
    """``status.endpoints``: the job's addresses, never a token (the API model drops them)."""
    if endpoints is None:
        return None
    out: dict[str, Any] = {
        key: access.url
        for key, access in (
            ("tensorboard", endpoints.tensorboard),
            ("jupyterLab", endpoints.jupyter_lab),
            ("mindstudioInsight", endpoints.mindstudio_insight),
        )
        if access is not None and access.url
    }
    urls = endpoints.ssh.task_urls if endpoints.ssh is not None else []
    if ssh := [{"task": u.task, "url": u.url} for u in urls if u.url]:
        out["ssh"] = ssh
    return out or None


def _as_map(tags: list[dict[str, str]]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in tags}


def _changed_fields(request: TrainingJobV2UpdateRequest) -> list[str]:
    fields = []
    if request.metadata is not None:
        fields.append("features.jupyterLab")
    if request.spec is not None and request.spec.schedule_policy is not None:
        fields.append("schedulePolicy")
    if request.spec is not None and request.spec.notification is not None:
        fields.append("notification")
    return fields


def _seconds(value: int | None) -> str | None:
    return from_millis(value * 1000) if value else None


class TrainingJobV2Adapter(TrainingJobAdapter):
    """The v2 form: the job is the unit (no versions); a change to what runs is a new job."""

    recorded_fields = ("trainingSpecHash", "configGeneration")

    async def find(self, ctx: TrainingContext) -> tuple[str, Any] | None:
        job = await ctx.client.training_jobs_v2.find_by_name(
            ctx.remote_name, workspace_id=ctx.refs.workspace_id
        )
        return (str(job.id), job) if job is not None and job.id else None

    async def get(self, ctx: TrainingContext, remote_id: str) -> TrainingJobV2:
        return await ctx.client.training_jobs_v2.get(remote_id)

    async def create(self, ctx: TrainingContext) -> Created:
        job = await self._create(ctx, ctx.remote_name)
        return Created(
            str(job.id),
            self.observe(ctx, job),
            recorded=self._recorded(ctx),
            requeue=self.deadline_recheck(ctx.spec),
        )

    async def _create(self, ctx: TrainingContext, name: str) -> TrainingJobV2:
        spec = ctx.spec
        description = marked_description(spec.job_desc, ctx.marker, 256)
        refs = ctx.refs
        request = create_request(
            spec,
            name,
            refs.workspace_id,
            description,
            refs.algorithm_id,
            refs.pool_id,
            refs.source_job_ids,
        )
        job = await ctx.client.training_jobs_v2.create(request)
        if tags := tags_of(spec, ctx.default_tags):  # the create body has no tags
            await ctx.client.training_jobs_v2.add_tags(str(job.id), _as_map(tags))
        return job

    @staticmethod
    def _recorded(ctx: TrainingContext) -> dict[str, Any]:
        """What a job created from this generation records: the digest of what runs."""
        return {"trainingSpecHash": training_digest(ctx.spec), "configGeneration": ctx.generation}

    async def update(self, ctx: TrainingContext, remote_id: str, remote: TrainingJobV2) -> Updated:
        jobs = ctx.client.training_jobs_v2
        updated = Updated(remote)
        description = marked_description(ctx.spec.job_desc, ctx.marker, 256)
        if description != (remote.metadata.description or ""):
            await jobs.update_description(remote_id, description)
            updated.change("jobDesc")
        digest = training_digest(ctx.spec)
        recorded = ctx.status.get("trainingSpecHash")
        if recorded is not None and recorded not in (digest, legacy_digest(ctx.spec)):
            await self._rerun(ctx, updated, remote_id, remote)
        else:
            if recorded != digest:  # bound by lookup, or recorded by an earlier release
                updated.recorded["trainingSpecHash"] = digest
            await self._in_place(ctx, updated, remote_id, remote)
        job = updated.remote
        await self.enforce_deadline(
            ctx,
            updated,
            active=job.phase in ("Creating", "Pending", "Running"),
            started_ms=job.status.start_time,
            duration_ms=job.status.duration,
            stop=lambda: jobs.terminate(str(job.id)),
            stopped="terminated",
        )
        return updated

    async def _in_place(
        self, ctx: TrainingContext, updated: Updated, remote_id: str, remote: TrainingJobV2
    ) -> None:
        """PUT the in-place fields that differ; on a spec change, the tags too (read, then
        added and removed to match)."""
        jobs = ctx.client.training_jobs_v2
        if (request := in_place_request(ctx.spec, remote, ctx.applied)) is not None:
            await jobs.update(remote_id, request)
            updated.change(*_changed_fields(request))
        if ctx.applied:  # the tags are not in the job's answer: read them on spec changes
            return
        have = {t.key: t.value for t in await jobs.tags(remote_id)}
        add, remove = tag_changes(have, tags_of(ctx.spec, ctx.default_tags))
        if add:
            await jobs.add_tags(remote_id, add)
        if remove:
            await jobs.remove_tags(remote_id, remove)
        if add or remove:
            updated.change("tags")

    async def _rerun(
        self, ctx: TrainingContext, updated: Updated, old_id: str, old: TrainingJobV2
    ) -> None:
        """Run the changed spec as a new job (the API cannot change a job's training fields);
        the old one is stopped, and deleted with previousJobPolicy Delete."""
        jobs = ctx.client.training_jobs_v2
        name = rerun_name(ctx.remote_name, ctx.generation)
        job = await jobs.find_by_name(name, workspace_id=ctx.refs.workspace_id)
        if job is None:
            try:
                job = await self._create(ctx, name)
            except (errors.AlreadyExists, errors.Ambiguous):
                job = await jobs.find_by_name(name, workspace_id=ctx.refs.workspace_id)
                if job is None:
                    unknown = f"create of {name} outcome unknown; looking again"
                    raise RetryLater(Requeue(requeue.CREATE_UNKNOWN, unknown)) from None
        if self.marker(ctx, job) != ctx.marker:
            # A job of that name is someone else's (not a rerun of ours whose answer was
            # lost): neither bound nor the old job retired for it.
            updated.refusal = Refusal(
                "NameTaken",
                f"remote name {name!r} (the job for generation {ctx.generation}) is taken by "
                "another object; the current job is left as it is",
            )
            return
        policy = ctx.spec.previous_job_policy or "Retain"
        await self._retire(ctx, old_id, old, delete=policy == "Delete")
        previous = [p for p in ctx.status.get("previousJobs") or [] if p.get("jobId") != old_id]
        previous.insert(0, {"jobId": old_id, "jobName": old.metadata.name, "policy": policy})
        updated.recorded.update(self._recorded(ctx), previousJobs=previous[:MAX_PREVIOUS])
        updated.remote_id = str(job.id)
        updated.event(
            "Normal",
            "Rerun",
            f"training fields changed: new job {job.metadata.name} ({job.id}); previous job "
            f"{old_id} {'deleted' if policy == 'Delete' else 'retained (stopped if running)'}",
        )
        updated.remote = await jobs.get(str(job.id))

    async def _retire(
        self, ctx: TrainingContext, job_id: str, job: TrainingJobV2, delete: bool
    ) -> None:
        jobs = ctx.client.training_jobs_v2
        if job.phase in IN_FLIGHT_PHASES and job.phase != "Terminating":
            with contextlib.suppress(errors.StateConflict, errors.NotFound):
                await jobs.terminate(job_id)
        if delete:
            with contextlib.suppress(errors.NotFound):
                await jobs.delete(job_id)

    def observe(self, ctx: TrainingContext, remote: TrainingJobV2) -> Observation:
        return self.run_policy(ctx, observe_job(remote))

    async def delete(self, ctx: TrainingContext, remote_id: str) -> bool:
        """Terminate a job in flight, then delete; gone once GET says 2775."""
        jobs = ctx.client.training_jobs_v2
        try:
            remote = await jobs.get(remote_id)
        except errors.NotFound:
            return True
        if remote.phase == "Terminating":
            return False
        if remote.phase in IN_FLIGHT_PHASES:
            with contextlib.suppress(errors.StateConflict):
                await jobs.terminate(remote_id)
            return False
        if remote.phase not in TERMINAL_PHASES:
            return False
        await jobs.delete(remote_id)
        return await confirmed_gone(jobs.get(remote_id))

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.training_jobs_v2.iter_all(workspace_id=scope), "id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return self.listed(entry, observe_job(summary))  # a search item is the whole job

    async def remote_events(
        self, client: ModelArtsClient, remote_id: str, limit: int
    ) -> list[RemoteEvent]:
        """The job's events (list_training_job_events), newest first, for ``kubectl
        modelarts events --remote``; not mirrored (no ``event_phases``: a running job is in
        progress for hours, and its log is the place to follow it). Warning and Error
        levels are the warnings."""
        found = await client.training_jobs_v2.events(remote_id, limit=limit, order="desc")
        return [
            RemoteEvent(
                identity=f"{e.time}|{e.level}|{e.source}|{e.message}",
                at_ms=_millis(e.time),
                warning=e.level in ("Warning", "Error"),
                message=f"{e.source}: {e.message}" if e.source else e.message or "",
            )
            for e in found.events
        ]


def _millis(stamp: str | None) -> int | None:
    """An event's ISO 8601 time as epoch milliseconds (None when absent or unreadable)."""
    try:
        return int(
            dt.datetime.fromisoformat((stamp or "").replace("Z", "+00:00")).timestamp() * 1000
        )
    except ValueError:
        return None
