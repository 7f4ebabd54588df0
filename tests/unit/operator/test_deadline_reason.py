"""A job the operator stopped for its deadline says DeadlineExceeded from every view of it.

The reconcile that terminates the job and the poller that next lists it race: the poller can
see the job terminated before the reconcile's status write lands, and a look based on that
older status would record a plain Stopped (seen in full CI runs). The reason is therefore read
from the remote job — stopped after running at least the deadline by the API's own duration —
not only from what the status said before. The jobs here are the emulator's search answers.
"""

from __future__ import annotations

from typing import Any

from modelarts_operator.api import ModelArtsClient
from modelarts_operator.api.training_v2 import TrainingJobV2
from modelarts_operator.emulator.server import Emulator
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.resources.training_job import TrainingJobAdapter
from tests.unit.api.test_training_v2_client import job

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
    obs = TrainingJobAdapter().observe_summary(_entry(RUNNING, 10), remote)
    assert (obs.phase, obs.reason) == ("Failed", "DeadlineExceeded")
    assert obs.message == "activeDeadlineSeconds 10 exceeded"


async def test_stopped_before_its_deadline_is_plain_stopped(
    client: ModelArtsClient,
    emu: Emulator,
) -> None:
    remote = await _terminated_after(client, emu, 15)
    assert TrainingJobAdapter().observe_summary(_entry(RUNNING, 3600), remote).phase == "Stopped"
    assert TrainingJobAdapter().observe_summary(_entry(RUNNING, None), remote).phase == "Stopped"


async def test_a_recorded_deadline_stays_when_the_api_gives_no_duration(
    client: ModelArtsClient,
    emu: Emulator,
) -> None:
    remote = await _terminated_after(client, emu, 15)
    remote.status.duration = None
    recorded = {"phase": "Failed", "conditions": [{"type": "Ready", "status": "False",
                                                   "reason": "DeadlineExceeded"}]}  # fmt: skip
    obs = TrainingJobAdapter().observe_summary(_entry(recorded, 3600), remote)
    assert obs.reason == "DeadlineExceeded"
    assert TrainingJobAdapter().observe_summary(_entry(RUNNING, 10), remote).phase == "Stopped"
