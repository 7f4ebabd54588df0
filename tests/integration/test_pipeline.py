"""The example pipeline Workspace → TrainingJob → Model → Service reaches Ready end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import OperatorProcess, condition, get_obj, ready, wait_for

pytestmark = pytest.mark.cluster

NS = "pipeline"


def test_examples_reach_ready_in_order(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    cp.kubectl("create", "namespace", NS, check=False)
    cp.kubectl("apply", "-n", NS, "-f", str(operator_root() / "examples"))

    ws = wait_for(cp, "workspace", "demo", NS, ready, op=operator)
    assert ws["status"]["phase"] == "Ready"
    assert ws["status"]["workspaceId"]

    # The model waits for the job, with a condition that names it.
    model = get_obj(cp, "model", "mnist-v1", NS)
    assert model is not None
    job = wait_for(cp, "trainingjob", "mnist", NS, ready, timeout=90, op=operator)
    assert job["status"]["phase"] == "Succeeded"
    assert job["status"]["remoteStatus"] == "JOBSTAT_COMPLETED"
    assert job["status"]["durationSeconds"] >= 0  # filled from the version detail
    # The batched poller saw the job finish and said so in an event.
    events = json.loads(
        cp.kubectl(
            "get",
            "events",
            "-n",
            NS,
            "--field-selector",
            "involvedObject.name=mnist,involvedObject.kind=TrainingJob",
            "-o",
            "json",
        ).stdout
    )["items"]
    assert "Succeeded" in {e["reason"] for e in events}, [e["reason"] for e in events]

    model = wait_for(cp, "model", "mnist-v1", NS, ready, timeout=60, op=operator)
    assert model["status"]["source"]["jobId"] == str(job["status"]["jobId"])
    svc = wait_for(cp, "masvc", "mnist", NS, ready, timeout=60, op=operator)
    assert svc["status"]["phase"] == "Running"
    assert svc["status"]["accessAddress"].startswith("http")
    assert condition(svc, "Synced")["status"] == "True"

    cm = json.loads(cp.kubectl("get", "configmap", "mnist-endpoint", "-n", NS, "-o", "json").stdout)
    assert cm["data"]["accessAddress"] == svc["status"]["accessAddress"]

    table = cp.kubectl("get", "modelarts", "-n", NS).stdout
    assert "mnist" in table
    assert svc["status"]["accessAddress"] in table

    # The operator's log says which object each handler line is about.
    assert f"[{NS}/mnist] Handler 'reconcile' succeeded" in operator.log()


def operator_root() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parents[2]
