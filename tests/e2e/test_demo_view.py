"""The demo's view and verdict without a cluster: what a person reads while it runs (the
subprocess tests in test_demo.py cover the plain form end to end)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml

from modelarts_testbed.demo import PIPELINE, LiveView, _expected_objects, judge, rows_from

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _obj(name: str, phase: str, ready: str, reason: str, message: str = "", url: str = "") -> Any:
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [
            {"type": "Ready", "status": ready, "reason": reason, "message": message},
            {"type": "Synced", "status": "True", "reason": "Synced", "message": ""},
        ],
    }
    if url:
        status["accessAddress"] = url
    return {"metadata": {"name": name}, "status": status}


def _pipeline(job: Any, service: Any, pool: Any = None) -> dict[str, list[Any]]:
    return {
        "services": [service],  # out of order on purpose: rows come in pipeline order
        "workspaces": [_obj("demo", "Ready", "True", "Ready")],
        "algorithms": [_obj("mnist", "Ready", "True", "Ready")],
        "trainingjobs": [job],
        "models": [_obj("mnist-v1", "Published", "True", "Ready")],
        "resourcepools": [pool or _obj("demo-pool", "Ready", "True", "Ready")],
        "networks": [_obj("demo-net", "Ready", "True", "Ready")],
    }


def test_the_verdict_counts_every_object_the_examples_apply() -> None:
    """Every kind in examples/ has a row: an object the view did not list would keep the
    pipeline short of the count applied, never Ready."""
    docs = [
        doc
        for path in sorted(EXAMPLES.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    assert {doc["kind"] for doc in docs} == {kind for kind, _ in PIPELINE}
    assert _expected_objects(EXAMPLES) == len(docs) == 7


def test_ready_needs_every_object_ready_and_a_service_url() -> None:
    job = _obj("mnist", "Succeeded", "True", "Ready")
    deploying = _obj("mnist", "Deploying", "False", "Deploying", "deploying (33%)")
    rows = rows_from(_pipeline(job, deploying))
    assert [r.ref for r in rows] == [
        "Network/demo-net",
        "ResourcePool/demo-pool",
        "Workspace/demo",
        "Algorithm/mnist",
        "TrainingJob/mnist",
        "Model/mnist-v1",
        "Service/mnist",
    ]
    verdict = judge(rows, expected=7)
    assert verdict.state == "progressing"
    assert "Service/mnist" in verdict.detail
    assert "deploying (33%)" in verdict.detail

    running = _obj("mnist", "Running", "True", "Ready", url="http://x/v1/infers/1")
    assert judge(rows_from(_pipeline(job, running)), expected=7).url == "http://x/v1/infers/1"
    # Not every applied object exists yet: not ready, whatever the others say.
    assert judge(rows_from(_pipeline(job, running))[1:], expected=7).state == "progressing"
    # A pool still creating holds the pipeline, and is named.
    creating = _obj("demo-pool", "Creating", "False", "Creating", "nodes 0/1")
    verdict = judge(rows_from(_pipeline(job, running, pool=creating)), expected=7)
    assert verdict.state == "progressing"
    assert verdict.detail.startswith("ResourcePool/demo-pool phase=Creating Ready=False")


def test_a_failed_object_is_named_with_its_condition() -> None:
    job = _obj("mnist", "Failed", "False", "Failed", "JOBSTAT_FAILED")
    waiting = _obj("mnist", "Waiting", "False", "WaitingForModel", "waiting for Model")
    verdict = judge(rows_from(_pipeline(job, waiting)), expected=7)
    assert verdict.state == "failed"
    assert verdict.detail.startswith("TrainingJob/mnist phase=Failed Ready=False reason=Failed")
    assert "JOBSTAT_FAILED" in verdict.detail


def test_terminal_view_redraws_in_place() -> None:
    out = io.StringIO()
    view = LiveView(out, tty=True)
    job = _obj("mnist", "Running", "False", "Running", "JOBSTAT_RUNNING")
    svc = _obj("mnist", "Waiting", "False", "WaitingForModel")
    view.update(rows_from(_pipeline(job, svc)), 1.0, "waiting")
    first = out.getvalue()
    assert "\x1b[" not in first  # nothing to erase yet
    lines = first.splitlines()
    assert len(lines) == 9  # header, seven objects, footer
    assert "TrainingJob/mnist" in lines[5]
    assert "False Running: JOBSTAT_RUNNING" in lines[5]

    view.update(rows_from(_pipeline(job, svc)), 2.0, "waiting")
    second = out.getvalue()[len(first) :]
    assert second.startswith("\x1b[9F\x1b[J")  # up nine lines, clear, draw again
    assert second.count("\n") == 9


def test_plain_view_prints_only_changes() -> None:
    out = io.StringIO()
    view = LiveView(out, tty=False)
    job = _obj("mnist", "Running", "False", "Running", "JOBSTAT_RUNNING")
    svc = _obj("mnist", "Waiting", "False", "WaitingForModel")
    view.update(rows_from(_pipeline(job, svc)), 1.0)
    assert len(out.getvalue().splitlines()) == 7
    view.update(rows_from(_pipeline(job, svc)), 2.0)
    assert len(out.getvalue().splitlines()) == 7  # nothing changed, nothing printed
    done = _obj("mnist", "Succeeded", "True", "Ready")
    view.update(rows_from(_pipeline(done, svc)), 3.0)
    new = out.getvalue().splitlines()[7:]
    assert len(new) == 1
    assert "TrainingJob/mnist" in new[0]
    assert "Succeeded" in new[0]
    assert "\x1b" not in new[0]
