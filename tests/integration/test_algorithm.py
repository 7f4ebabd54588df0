"""An Algorithm's life against the real API server and the emulator (whose algorithm shapes
the official SDK judges): a v2 TrainingJob naming it (``algorithm.algorithmRef``) waits for
it, then starts from its ID; a spec change is one change_algorithm; deletion removes it."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_operator.reconcile.naming import unmarked

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    get_obj,
    merge_patch,
    namespace,
    ready,
    remote_objects,
    synced,
    wait_for,
    wait_until,
)
from .test_training_v2 import remote_jobs

pytestmark = pytest.mark.cluster

API = "modelarts.huaweicloud.com/v1alpha1"


def algorithm(name: str, bucket: str) -> dict[str, Any]:
    """The reference's example (creating_an_algorithm), as an Algorithm object."""
    return {
        "apiVersion": API,
        "kind": "Algorithm",
        "metadata": {"name": name},
        "spec": {
            "description": "mnist recipe",
            "jobConfig": {
                "codeDir": f"/{bucket}/code/",
                "bootFile": f"/{bucket}/code/train.py",
                "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
                "parameters": [{"name": "epochs", "value": "3"}],
                "inputs": [{"name": "data_url"}],
                "outputs": [{"name": "train_url"}],
            },
            "resourceRequirements": [{"key": "flavor_type", "values": ["CPU"], "operator": "in"}],
        },
    }


def job_from(name: str, algorithm_name: str, bucket: str) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "TrainingJob",
        "metadata": {"name": name},
        "spec": {
            "algorithm": {
                "algorithmRef": {"name": algorithm_name},
                "inputs": [
                    {"name": "data_url", "remote": {"obs": {"obsUrl": f"obs://{bucket}/d/"}}}
                ],
                "outputs": [
                    {"name": "train_url", "remote": {"obs": {"obsUrl": f"obs://{bucket}/o/"}}}
                ],
            },
            "resource": {"flavorId": "modelarts.vm.pnt1.large.eco", "nodeCount": 1},
        },
    }


def remote_algorithms(emulator: Any, name: str) -> list[dict[str, Any]]:
    return [r for r in remote_objects(emulator, "algorithm") if r.get("name") == name]


def test_job_waits_for_its_algorithm_then_starts_from_it(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-algo")
    # The job first: it waits for the Algorithm it names.
    apply(cp, job_from("from-algo", "recipe", "it-algo"), ns)
    waiting = wait_for(
        cp, "trainingjob", "from-algo", ns,
        lambda o: condition(o, "Synced").get("reason") == "WaitingForAlgorithm", 30, operator,
    )  # fmt: skip
    assert "jobId" not in waiting.get("status", {})

    apply(cp, algorithm("recipe", "it-algo"), ns)
    algo = wait_for(cp, "algorithm", "recipe", ns, lambda o: synced(o) and ready(o), 30, operator)
    algo_id = algo["status"]["algorithmId"]
    assert algo["status"]["engine"] == "PyTorch-1.4.0-python3.6-v2"  # the engine's version
    (remote,) = [r for r in remote_objects(emulator, "algorithm") if r["id"] == algo_id]
    assert unmarked(remote["description"]) == "mnist recipe"
    assert remote["workspace_id"] == "0"

    # The Algorithm became Ready: the job is re-triggered and starts from its ID.
    job = wait_for(cp, "trainingjob", "from-algo", ns, synced, 30, operator)
    (remote_job,) = remote_jobs(emulator, id=job["status"]["jobId"])
    assert remote_job["algorithm"]["id"] == algo_id
    assert "algorithm_ref" not in remote_job["algorithm"]

    # A change is one change_algorithm: same algorithm, new configuration.
    merge_patch(
        cp, "algorithm", "recipe", ns,
        {"spec": {"jobConfig": {"parameters": [{"name": "epochs", "value": "5"}]}}},
    )  # fmt: skip
    wait_until(
        lambda: (
            remote_algorithms(emulator, remote["name"])[0]["job_config"]["parameters"]
            == [{"name": "epochs", "value": "5"}]
        ),
        30,
        "change_algorithm",
    )
    changed = wait_for(
        cp, "algorithm", "recipe", ns,
        lambda o: synced(o) and o["status"]["observedGeneration"] == 2, 30, operator,
    )  # fmt: skip
    assert changed["status"]["algorithmId"] == algo_id
    assert len(remote_algorithms(emulator, remote["name"])) == 1

    delete_obj(cp, "trainingjob", "from-algo", ns)
    delete_obj(cp, "algorithm", "recipe", ns)
    assert get_obj(cp, "algorithm", "recipe", ns) is None
    assert remote_algorithms(emulator, remote["name"]) == []
