"""The example pipeline Network → ResourcePool, Workspace → Algorithm → TrainingJob → Model →
Service reaches Ready end to end, with the v2 TrainingJob and v2 Service of examples/ (what the
cloud accepts today: from the Algorithm, on the pool) and with the 2020 v1 forms of both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import OperatorProcess, condition, examples_in, get_obj, ready, wait_for
from .test_training_v2 import remote_jobs

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]


def _examples(form: str, ns: str, tmp_path: Path) -> Path:
    """examples/ (v2), or with its TrainingJob and Service in the v1 form."""
    out = examples_in(ns, tmp_path / "examples")
    if form == "v2":
        return out
    v1 = (ROOT / "examples" / "v1" / "trainingjob-v1.yaml").read_text()
    (out / "02-trainingjob.yaml").write_text(v1.replace("name: mnist-v1-form", "name: mnist"))
    v1 = (ROOT / "examples" / "v1" / "service-v1.yaml").read_text()
    (out / "04-service.yaml").write_text(v1.replace("mnist-v1-form", "mnist"))
    return out


@pytest.mark.parametrize(("form", "completed"), [("v2", "Completed"), ("v1", "JOBSTAT_COMPLETED")])
def test_examples_reach_ready_in_order(
    operator: OperatorProcess, emulator: Any, tmp_path: Path, form: str, completed: str
) -> None:
    cp = operator.cp
    ns = f"pipeline-{form}"
    cp.kubectl("create", "namespace", ns, check=False)
    cp.kubectl("apply", "-n", ns, "-f", str(_examples(form, ns, tmp_path)))

    ws = wait_for(cp, "workspace", "demo", ns, ready, op=operator)
    assert ws["status"]["phase"] == "Ready"
    assert ws["status"]["workspaceId"]

    # The model waits for the job, with a condition that names it.
    model = get_obj(cp, "model", "mnist-v1", ns)
    assert model is not None
    job = wait_for(cp, "trainingjob", "mnist", ns, ready, timeout=90, op=operator)
    assert job["status"]["phase"] == "Succeeded"
    assert job["status"]["remoteStatus"] == completed
    assert job["status"]["durationSeconds"] >= 0  # filled from the version detail
    if form == "v2":  # from the Algorithm, on the pool
        pool = wait_for(cp, "resourcepool", "demo-pool", ns, ready, op=operator)
        algorithm = wait_for(cp, "algorithm", "mnist", ns, ready, op=operator)
        (remote,) = remote_jobs(emulator, id=job["status"]["jobId"])
        assert remote["algorithm"]["id"] == algorithm["status"]["algorithmId"]
        assert remote["spec"]["resource"]["pool_id"] == pool["status"]["poolId"]
    # The batched poller saw the job finish and said so in an event.
    events = json.loads(
        cp.kubectl(
            "get",
            "events",
            "-n",
            ns,
            "--field-selector",
            "involvedObject.name=mnist,involvedObject.kind=TrainingJob",
            "-o",
            "json",
        ).stdout
    )["items"]
    assert "Succeeded" in {e["reason"] for e in events}, [e["reason"] for e in events]

    model = wait_for(cp, "model", "mnist-v1", ns, ready, timeout=60, op=operator)
    assert model["status"]["source"]["jobId"] == str(job["status"]["jobId"])
    svc = wait_for(cp, "masvc", "mnist", ns, ready, timeout=60, op=operator)
    if form == "v2":
        assert svc["spec"]["v2"]["groupConfigs"][0]["poolRef"] == {"name": "demo-pool"}
    assert svc["status"]["phase"] == "Running"
    assert svc["status"]["accessAddress"].startswith("http")
    assert condition(svc, "Synced")["status"] == "True"

    cm = json.loads(cp.kubectl("get", "configmap", "mnist-endpoint", "-n", ns, "-o", "json").stdout)
    assert cm["data"]["accessAddress"] == svc["status"]["accessAddress"]

    table = cp.kubectl("get", "modelarts", "-n", ns).stdout
    assert "mnist" in table
    assert svc["status"]["accessAddress"] in table

    # The operator's log says which object each handler line is about.
    assert f"[{ns}/mnist] Handler 'reconcile' succeeded" in operator.log()
