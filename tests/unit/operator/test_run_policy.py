"""The run policy both forms of TrainingJob share (training_common): activeDeadlineSeconds and
ttlSecondsAfterFinished, as in Kubernetes Jobs.

activeDeadlineSeconds measures how long a job has run by the API's own running duration, so a
cloud clock that disagrees with this machine's cannot stretch or cut the deadline. A job the
operator stopped for its deadline says DeadlineExceeded from every view of it: the reconcile
that terminates the job and the poller that next lists it race, and the poller can see the job
terminated before the reconcile's status write lands; a look based on that older status would
record a plain Stopped (seen in full CI runs). The reason is therefore read from the remote job
(stopped after running at least the deadline by the API's own duration), not only from what
the status said before. The jobs here are the emulator's search answers.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from modelarts_operator.api import ModelArtsClient
from modelarts_operator.api.training_v2 import TrainingJobV2
from modelarts_operator.crd.training_job import TrainingJobSpec
from modelarts_operator.reconcile import requeue
from modelarts_operator.reconcile.adapter import Context, Observation, Updated
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.resources.training_common import TrainingRefs, running_seconds
from modelarts_operator.resources.training_v2 import TrainingJobV2Adapter
from modelarts_testbed.emulator.server import Emulator
from tests.unit.api.test_training_v2_client import job

from .contexts import adapter_context

V2 = TrainingJobV2Adapter()

HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def test_the_apis_duration_wins_when_the_clouds_clock_is_ahead() -> None:
    # The cloud's clock is an hour ahead: its start time is in our future. The job has run 8 s.
    assert running_seconds(now_ms() + HOUR_MS, 8_000) == 8.0


def test_the_apis_duration_wins_when_the_clouds_clock_is_behind() -> None:
    # An hour behind: by our clock the job would have run an hour, by the API's 3 s.
    assert running_seconds(now_ms() - HOUR_MS, 3_000) == 3.0


def test_without_a_duration_the_local_clock_counts_from_the_start() -> None:
    assert running_seconds(now_ms() - 10_000, None) == pytest.approx(10, abs=1)
    assert running_seconds(now_ms() - 10_000, 0) == pytest.approx(10, abs=1)


def test_a_start_in_our_future_without_a_duration_has_not_run_yet() -> None:
    assert running_seconds(now_ms() + HOUR_MS, None) == 0.0


RUNNING = {"phase": "Running", "conditions": [{"type": "Ready", "status": "False",
                                               "reason": "Running"}]}  # fmt: skip


async def _terminated_after(client: ModelArtsClient, emu: Emulator, seconds: int) -> TrainingJobV2:
    """A v2 job that ran ``seconds`` and was terminated, as the search lists it."""
    job_id = str((await client.training_jobs_v2.create(job(f"ran-{seconds}"))).id)
    emu.advance(8)  # running from here
    emu.advance(seconds)
    await client.training_jobs_v2.terminate(job_id)
    emu.advance(10)
    found = [j async for j in client.training_jobs_v2.iter_all() if j.id == job_id]
    assert [j.status.phase for j in found] == ["Terminated"]
    return found[0]


def _entry(status: dict[str, Any], deadline: int | None) -> Entry:
    spec = {"activeDeadlineSeconds": deadline} if deadline else {}
    body = {"metadata": {"name": "j", "namespace": "ns"}, "spec": spec, "status": status}
    return Entry("trainingjobs", "ns", "j", body)


async def test_stopped_past_its_deadline_is_deadline_exceeded_from_a_stale_view(
    client: ModelArtsClient,
    emu: Emulator,
) -> None:
    remote = await _terminated_after(client, emu, 15)
    obs = V2.observe_summary(_entry(RUNNING, 10), remote)
    assert (obs.phase, obs.reason) == ("Failed", "DeadlineExceeded")
    assert obs.message == "activeDeadlineSeconds 10 exceeded"


async def test_stopped_before_its_deadline_is_plain_stopped(
    client: ModelArtsClient,
    emu: Emulator,
) -> None:
    remote = await _terminated_after(client, emu, 15)
    assert V2.observe_summary(_entry(RUNNING, 3600), remote).phase == "Stopped"
    assert V2.observe_summary(_entry(RUNNING, None), remote).phase == "Stopped"


async def test_a_recorded_deadline_stays_when_the_api_gives_no_duration(
    client: ModelArtsClient,
    emu: Emulator,
) -> None:
    remote = await _terminated_after(client, emu, 15)
    remote.status.duration = None
    recorded = {"phase": "Failed", "conditions": [{"type": "Ready", "status": "False",
                                                   "reason": "DeadlineExceeded"}]}  # fmt: skip
    obs = V2.observe_summary(_entry(recorded, 3600), remote)
    assert obs.reason == "DeadlineExceeded"
    assert V2.observe_summary(_entry(RUNNING, 10), remote).phase == "Stopped"


# -- activeDeadlineSeconds: what a reconcile does about it (both forms) ---------------------------


def _ctx(spec: dict[str, Any]) -> Context[TrainingJobSpec, TrainingRefs]:
    return adapter_context(
        TrainingJobSpec.model_validate(spec), TrainingRefs(), name="j", remote_name="ns_j"
    )


RECHECK = requeue.DEADLINE_RECHECK
ENFORCE: dict[str, tuple[dict[str, Any], bool, int | None, int | None, float | None, bool]] = {
    # spec, active, started (ms ago), duration ms -> requeue after, stopped
    "NoDeadline": ({}, True, 1000, 1000, None, False),
    "NotRunning": ({"activeDeadlineSeconds": 60}, False, 1000, 100_000, None, False),
    "NotStartedYet": (
        {"activeDeadlineSeconds": 600},
        True,
        None,
        None,
        requeue.DEADLINE_RECHECK,
        False,
    ),
    "ShortDeadlineNotStarted": ({"activeDeadlineSeconds": 2}, True, None, None, 2.0, False),
    "Running": ({"activeDeadlineSeconds": 600}, True, 100_000, 100_000, 500.0, False),
    "Exceeded": ({"activeDeadlineSeconds": 60}, True, 100_000, 100_000, None, True),
}


@pytest.mark.parametrize("name", ENFORCE)
async def test_the_deadline_is_enforced_once_the_job_runs(name: str) -> None:
    spec, active, started_ago, duration, after, stopped = ENFORCE[name]
    ctx, updated, stops = _ctx(spec), Updated(None), []

    async def stop() -> None:
        stops.append(True)

    started = now_ms() - started_ago if started_ago is not None else None
    await V2.enforce_deadline(
        ctx, updated, active=active, started_ms=started, duration_ms=duration, stop=stop,
        stopped="terminated",
    )  # fmt: skip
    assert (updated.requeue.after if updated.requeue else None) == after
    assert bool(stops) == stopped == ctx.refs.deadline_exceeded
    assert [e[1] for e in updated.events] == (["DeadlineExceeded"] if stopped else [])


def test_a_job_stopped_for_its_deadline_is_failed_from_the_reconciles_view() -> None:
    ctx = _ctx({"activeDeadlineSeconds": 60})
    ctx.refs.deadline_exceeded = True  # this reconcile stopped it; the job it read was running
    obs = V2.run_policy(ctx, Observation("Running", False, facts={}))
    assert (obs.phase, obs.reason) == ("Failed", "DeadlineExceeded")


# -- ttlSecondsAfterFinished -----------------------------------------------------------------


def _finished(seconds_ago: float) -> Observation:
    done = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))
    return Observation("Succeeded", True, facts={"completionTime": done}, in_flight=False)


def test_the_ttl_deletes_a_finished_object_once_it_is_up() -> None:
    obs = V2.run_policy(_ctx({"ttlSecondsAfterFinished": 50}), _finished(100))
    assert obs.delete_object
    assert obs.asks


def test_before_the_ttl_is_up_the_reconcile_looks_again_then() -> None:
    obs = V2.run_policy(_ctx({"ttlSecondsAfterFinished": 1000}), _finished(100))
    assert not obs.delete_object
    assert obs.requeue is not None
    assert obs.requeue.after == pytest.approx(900, abs=2)


def test_the_pollers_view_leaves_the_ttl_to_the_reconcile() -> None:
    listed = Entry("trainingjobs", "ns", "j", {"spec": {"ttlSecondsAfterFinished": 50}})
    assert not V2.listed(listed, _finished(100)).asks
