"""Visualization jobs (a v2 TrainingJob of jobKind visualization_job): a data source named by
``jobRef`` resolves to the referenced TrainingJob's ID once it has one (finished or not), a
v1 job is refused, the dependent is re-triggered when the ID appears, and status shows the
job's addresses without their tokens."""

from __future__ import annotations

import json
import types
from typing import Any

import pytest

from modelarts_operator.api.training_v2 import TrainingJobV2
from modelarts_operator.crd.training_job import TrainingJobSpec, TrainingJobStatus
from modelarts_operator.reconcile.adapter import InvalidSpec
from modelarts_operator.reconcile.kinds import references_recorded, references_to
from modelarts_operator.reconcile.references import Waiting
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.reconcile.status import Report, StatusWriter
from modelarts_operator.resources import training_job
from modelarts_operator.resources.training_v2 import TrainingJobV2Adapter, observe_job

V2_SOURCE = {"algorithm": {"codeDir": "obs://b/c/", "bootFile": "obs://b/c/t.py"}}
V1_SOURCE = {"config": {"workerServerNum": 1}}
READY = [{"type": "Ready", "status": "True"}]


def viz_spec(*sources: dict[str, Any]) -> TrainingJobSpec:
    return TrainingJobSpec.model_validate(
        {
            "jobKind": "visualization_job",
            "features": {"tensorboard": True},
            "algorithm": {"summary": {"dataSources": [{"job": s} for s in sources]}},
            "resource": {"flavorId": "modelarts.vm.cpu.2u", "nodeCount": 1},
        }
    )


def registry_with(spec: dict[str, Any] | None, status: dict[str, Any]) -> Registry:
    registry = Registry()
    if spec is not None:
        body = {"metadata": {"namespace": "ns", "name": "mnist"}, "spec": spec, "status": status}
        registry.update("trainingjobs", "ADDED", body)
    return registry


# (case, the referenced TrainingJob's spec (None: absent) and status, expected: the job IDs
# sent, or the Waiting reason, or InvalidSpec)
RESOLUTION: list[tuple[str, dict[str, Any] | None, dict[str, Any], Any]] = [
    ("absent", None, {}, Waiting),
    ("created, no ID yet", V2_SOURCE, {"phase": "Creating"}, Waiting),
    ("running with an ID", V2_SOURCE, {"phase": "Running", "jobId": "uuid-1"}, {"mnist": "uuid-1"}),
    (
        "finished",
        V2_SOURCE,
        {"phase": "Succeeded", "jobId": "uuid-1", "conditions": READY},
        {"mnist": "uuid-1"},
    ),
    ("the 2020 form", V1_SOURCE, {}, InvalidSpec),
    ("a numeric (v1) ID", V2_SOURCE, {"jobId": 42}, InvalidSpec),
]


@pytest.mark.parametrize(
    ("case", "spec", "status", "expected"), RESOLUTION, ids=[c[0] for c in RESOLUTION]
)
async def test_job_ref_resolves_to_the_referenced_jobs_id(
    case: str, spec: dict[str, Any] | None, status: dict[str, Any], expected: Any
) -> None:
    ctx = types.SimpleNamespace(
        namespace="ns",
        registry=registry_with(spec, status),
        spec=viz_spec({"jobRef": {"name": "mnist"}}),
    )
    adapter = TrainingJobV2Adapter()
    if isinstance(expected, type):
        with pytest.raises(expected) as caught:
            await adapter.resolve(ctx)  # type: ignore[arg-type]
        message = str(caught.value)
        assert "mnist" in message
        if isinstance(caught.value, Waiting):
            assert caught.value.reason == "WaitingForTrainingJob"
            assert caught.value.retry  # a restart may resume it before its target is listed
        else:
            assert "algorithm.summary.dataSources[].job.jobRef" in message
            assert "v1" in message
        return
    refs = await adapter.resolve(ctx)  # type: ignore[arg-type]
    assert refs.source_job_ids == expected


async def test_a_literal_job_id_needs_no_lookup() -> None:
    ctx = types.SimpleNamespace(
        namespace="ns", registry=Registry(), spec=viz_spec({"jobId": "given"})
    )
    refs = await TrainingJobV2Adapter().resolve(ctx)  # type: ignore[arg-type]
    assert refs.source_job_ids == {}


# (previous status, current status, whether the jobRef dependents are re-triggered)
RECORDED: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"phase": "Creating"}, {"phase": "Creating", "jobId": "u"}, True),
    ({"phase": "Running", "jobId": "u"}, {"phase": "Succeeded", "jobId": "u"}, False),
    ({"phase": "Creating"}, {"phase": "Pending"}, False),
]


@pytest.mark.parametrize(("before", "after", "triggered"), RECORDED)
def test_dependents_are_triggered_when_the_id_appears(
    before: dict[str, Any], after: dict[str, Any], triggered: bool
) -> None:
    found = references_recorded([training_job.DECLARATION], "trainingjobs", before, after)
    assert found == ([("trainingjobs", "jobRef")] if triggered else [])
    # The other kinds' references need their target Ready, not merely recorded.
    assert references_recorded([training_job.DECLARATION], "algorithms", {}, after) == []
    # ... and a job becoming Ready re-triggers no jobRef dependents (no scan of every job).
    assert references_to([training_job.DECLARATION], "trainingjobs") == []


SECRET = "5ec12e7-t0ken"

# (case, the response's endpoints, status.endpoints)
ENDPOINTS: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [
    ("none", None, None),
    ("empty (not running)", {}, None),
    (
        "tensorboard",
        {"tensorboard": {"url": "https://tb.example/", "token": SECRET}},
        {"tensorboard": "https://tb.example/"},
    ),
    (
        "every tool and ssh",
        {
            "jupyter_lab": {"url": "https://jl/", "token": SECRET},
            "mindstudio_insight": {"url": "https://msi/", "token": SECRET},
            "ssh": {
                "key_pair_names": ["kp"],
                "task_urls": [{"task": "worker-0", "url": "ssh://w0:22"}],
            },
        },
        {
            "jupyterLab": "https://jl/",
            "mindstudioInsight": "https://msi/",
            "ssh": [{"task": "worker-0", "url": "ssh://w0:22"}],
        },
    ),
    ("a tool without a URL", {"tensorboard": {"token": SECRET}}, None),
]


@pytest.mark.parametrize(("case", "wire", "shown"), ENDPOINTS, ids=[c[0] for c in ENDPOINTS])
def test_status_shows_the_addresses_never_a_token(
    case: str, wire: dict[str, Any] | None, shown: dict[str, Any] | None
) -> None:
    job = TrainingJobV2.model_validate(
        {"kind": "visualization_job", "metadata": {"id": "j", "name": "n"},
         "status": {"phase": "Running"}, "endpoints": wire}
    )  # fmt: skip
    assert SECRET not in repr(job)  # not even kept in the parsed answer
    obs = observe_job(job)
    assert obs.facts["endpoints"] == shown
    status = StatusWriter(TrainingJobStatus).render(
        {"endpoints": {"tensorboard": "https://stale/"}}, Report(facts=obs.facts), 1
    )
    assert status.get("endpoints") == shown  # a stopped job's addresses go
    assert SECRET not in json.dumps(status) + obs.message


# (kind, phase, Ready, in flight)
SERVING: list[tuple[str, str, bool, bool]] = [
    ("visualization_job", "Running", True, False),  # serves until stopped: settled
    ("visualization_job", "Pending", False, True),
    ("visualization_job", "Terminated", False, False),
    ("job", "Running", False, True),  # a training job is done when it completes
]


@pytest.mark.parametrize(("kind", "phase", "is_ready", "in_flight"), SERVING)
def test_a_running_visualization_job_is_ready(
    kind: str, phase: str, is_ready: bool, in_flight: bool
) -> None:
    job = TrainingJobV2.model_validate(
        {"kind": kind, "metadata": {"id": "j", "name": "n"}, "status": {"phase": phase},
         "endpoints": {"tensorboard": {"url": "https://tb/", "token": SECRET}}}
    )  # fmt: skip
    obs = observe_job(job)
    assert (obs.ready, obs.in_flight) == (is_ready, in_flight)
    if is_ready:
        assert obs.message == "serving tensorboard"
