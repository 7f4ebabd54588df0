"""What the two forms of TrainingJob share: the kind's identity, its references, the run
policy (``activeDeadlineSeconds`` and ``ttlSecondsAfterFinished``, as in Kubernetes Jobs) and
how a job's phase reads as an observation. The forms themselves are ``training_v1`` and
``training_v2``; the kind's declaration is ``training_job``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..api import errors
from ..crd import training_job as crd
from ..crd.training_job import TrainingJobSpec, TrainingJobStatus
from ..reconcile import conditions as cond
from ..reconcile.adapter import Context, InvalidSpec, Observation, Refs, RemoteAdapter, Updated
from ..reconcile.kube import Kind
from ..reconcile.references import (
    ready_dependency,
    recorded_dependency,
    recorded_workspace_id,
    workspace_id,
)
from ..reconcile.registry import Entry
from ..reconcile.requeue import DEADLINE_RECHECK, Requeue

FINISHED = ("Succeeded", "Failed", "Stopped")
K = TypeVar("K", bound=Hashable)


def phase_of(phases: Mapping[K, str], state: K | None) -> str:
    """The Kubernetes-style phase a form's job state means (``phases`` is the form's table);
    a state the table does not know is a job still being created."""
    return phases.get(state, "Creating") if state is not None else "Creating"


def job_observation(
    phase: str, facts: dict[str, Any], *, failed: str, stopped: str, running: str
) -> Observation:
    """What a job in ``phase`` means: Succeeded is Ready; Failed and Stopped are settled, not
    ready (with the form's ``failed``/``stopped`` message); the rest are in flight."""
    if phase == "Succeeded":
        return Observation(phase, True, facts=facts, in_flight=False)
    if phase == "Failed":
        return Observation.failure(failed, facts)
    if phase == "Stopped":
        return Observation(
            phase, False, reason="Stopped", message=stopped, facts=facts, in_flight=False
        )
    return Observation(phase, False, message=running, facts=facts)


def running_seconds(start_ms: int, duration_ms: int | None) -> float:
    """How long a job has run: the API's own running duration where it reports one, so a
    deadline does not depend on this machine's clock agreeing with the cloud's; the time
    since its start on the local clock otherwise."""
    if duration_ms:
        return duration_ms / 1000
    return max(0.0, dt.datetime.now(dt.UTC).timestamp() - start_ms / 1000)


@dataclass
class TrainingRefs(Refs):
    """The workspace, the ID of the Algorithm a v2 job names (``algorithm.algorithmRef``),
    the IDs of the TrainingJobs a visualization job reads (``jobRef``), and whether this
    reconcile stopped the job for its deadline (what it observes next must say so, though the
    job it read was still running)."""

    algorithm_id: str | None = None
    pool_id: str | None = None  # the ResourcePool ``resource.poolRef`` names
    # The IDs of the TrainingJobs ``algorithm.summary.dataSources[].job.jobRef`` name, by name.
    source_job_ids: dict[str, str] = field(default_factory=dict)
    deadline_exceeded: bool = False


TrainingContext = Context[TrainingJobSpec, TrainingRefs]


def source_job_id(ctx: TrainingContext, name: str) -> str:
    """The ID of TrainingJob ``name``, a visualization job's data source (``jobRef``), once
    it has one: it need not have finished (a visualization job shows a running job's logs).
    A job of the 2020 form is refused: its ID is a v1 number, and a data source is a v2 job
    (SDK JobSummary.job_id, a v2 training job ID; v1 training was retired 2023-06-30)."""
    where = "algorithm.summary.dataSources[].job.jobRef"
    entry = ctx.registry.get(crd.PLURAL, ctx.namespace, name)
    if entry is not None and "config" in entry.spec:
        raise InvalidSpec(
            f"{where}: TrainingJob {name!r} uses the 2020 (v1) training API; a visualization "
            "job reads v2 training jobs only"
        )
    job_id = str(recorded_dependency(ctx, crd.PLURAL, crd.KIND, name, "jobId").status["jobId"])
    if job_id.isdigit():
        raise InvalidSpec(
            f"{where}: TrainingJob {name!r} has a v1 job ID ({job_id}); a visualization job "
            "reads v2 training jobs only"
        )
    return job_id


class TrainingJobAdapter(RemoteAdapter[TrainingJobSpec, TrainingRefs]):
    """The kind's identity and the run policy, for both forms. A job deleted remotely is
    reported, never re-run (re-running training silently would cost money)."""

    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = TrainingJobSpec
    status_model = TrainingJobStatus
    refs_type = TrainingRefs
    id_field = "jobId"
    name_field = "job_name"
    recreate_on_drift = False

    async def resolve(self, ctx: TrainingContext) -> TrainingRefs:
        refs = TrainingRefs(workspace_id(ctx))
        algorithm = ctx.spec.algorithm
        if algorithm is not None and algorithm.algorithm_ref is not None:
            name = algorithm.algorithm_ref.name
            refs.algorithm_id = str(
                ready_dependency(ctx, "algorithms", "Algorithm", name)["algorithmId"]
            )
        resource = ctx.spec.resource
        if resource is not None and resource.pool_ref is not None:
            pool = ready_dependency(ctx, "resourcepools", "ResourcePool", resource.pool_ref.name)
            refs.pool_id = str(pool["poolId"])
        summary = algorithm.summary if algorithm is not None else None
        for source in (summary.data_sources or []) if summary is not None else []:
            if source.job.job_ref is not None:
                name = source.job.job_ref.name
                refs.source_job_ids[name] = source_job_id(ctx, name)
        return refs

    async def resolve_for_lookup(self, ctx: TrainingContext) -> TrainingRefs:
        return TrainingRefs(recorded_workspace_id(ctx))

    # -- activeDeadlineSeconds ----------------------------------------------------------------

    @staticmethod
    def deadline_recheck(spec: TrainingJobSpec) -> Requeue | None:
        """A job just created has not started: with a deadline, look again soon (its clock
        starts when it runs)."""
        deadline = spec.active_deadline_seconds
        if not deadline:
            return None
        return Requeue(min(float(deadline), DEADLINE_RECHECK), "activeDeadlineSeconds")

    async def enforce_deadline(
        self,
        ctx: TrainingContext,
        updated: Updated,
        *,
        active: bool,
        started_ms: int | None,
        duration_ms: int | None,
        stop: Callable[[], Awaitable[Any]],
        stopped: str,
    ) -> None:
        """Stop a job that ran longer than activeDeadlineSeconds (``stop``; ``stopped`` says
        how, in the event); until then, look again when the deadline comes."""
        deadline = ctx.spec.active_deadline_seconds
        if not deadline or not active:
            return
        if not started_ms:  # the clock starts when it runs: look again soon
            updated.again(min(float(deadline), DEADLINE_RECHECK), "activeDeadlineSeconds")
            return
        elapsed = running_seconds(started_ms, duration_ms)
        if elapsed < deadline:
            updated.again(max(1.0, deadline - elapsed), "activeDeadlineSeconds")
            return
        with contextlib.suppress(errors.StateConflict):
            await stop()
        ctx.refs.deadline_exceeded = True
        updated.event(
            "Warning", "DeadlineExceeded", f"{stopped} after {int(elapsed)}s (limit {deadline}s)"
        )

    # -- what a job's state means, under the run policy ---------------------------------------

    def run_policy(self, ctx: TrainingContext, obs: Observation) -> Observation:
        """``obs`` as the run policy reads it, in a reconcile: a job stopped for its deadline
        is Failed with reason DeadlineExceeded; a finished job with ttlSecondsAfterFinished
        asks for its object's deletion when the TTL is up, and to be looked at then before."""
        spec = ctx.spec
        stopped = ctx.refs.deadline_exceeded
        _deadline_reason(obs, spec.active_deadline_seconds, ctx.status, stopped=stopped)
        ttl = spec.ttl_seconds_after_finished
        completion = obs.facts.get("completionTime")
        if ttl is not None and obs.phase in FINISHED and completion:
            done = dt.datetime.fromisoformat(completion.replace("Z", "+00:00"))
            remaining = done.timestamp() + ttl - dt.datetime.now(dt.UTC).timestamp()
            if remaining <= 0:
                obs.delete_object = True
            else:
                obs.requeue = Requeue(remaining, "ttlSecondsAfterFinished")
        return obs

    def listed(self, entry: Entry, obs: Observation) -> Observation:
        """``obs`` as the run policy reads it, from the poller's list: the deadline's reason
        from every view (the TTL is the reconcile's: a finished job's detail, which the
        poller hands it, arms it)."""
        deadline = entry.spec.get("activeDeadlineSeconds")
        _deadline_reason(obs, deadline, entry.status, stopped=False)
        return obs

    def resume_work(self, entry: Entry, phase: str, facts: Mapping[str, Any]) -> str | None:
        """The run policy's timers live in the process that armed them: after a restart a job
        that may still hit its deadline, or a finished one with a TTL, is reconciled to arm
        them again (or to delete the object whose TTL ran out meanwhile)."""
        spec = entry.spec
        if spec.get("activeDeadlineSeconds") and phase not in FINISHED:
            return "activeDeadlineSeconds"
        if spec.get("ttlSecondsAfterFinished") is not None and phase in FINISHED:
            return "ttlSecondsAfterFinished"
        return None

    def needs_detail(self, old_status: Mapping[str, Any], phase: str) -> bool:
        # A finished job's metrics, duration and completion time come with the detail.
        return phase in FINISHED or old_status.get("phase") is None


def _deadline_reason(
    obs: Observation, deadline: Any, status: Mapping[str, Any], *, stopped: bool
) -> None:
    """A job this reconcile stopped for its deadline (``stopped``), or a finished one that
    was, is Failed with reason DeadlineExceeded."""
    if stopped or (obs.phase in FINISHED and _ended_by_deadline(obs, deadline, status)):
        obs.phase, obs.reason = "Failed", "DeadlineExceeded"
        obs.message = f"activeDeadlineSeconds {deadline} exceeded"


def _ended_by_deadline(obs: Observation, deadline: Any, status: Mapping[str, Any]) -> bool:
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
