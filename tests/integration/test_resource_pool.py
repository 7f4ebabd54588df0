"""A ResourcePool's life against the real API server and the emulator (whose pool shapes the
official SDK judges): it waits for the Network it names, is Running with its nodes counted
in status, scales in place when a flavor's count changes, and is deleted with
deletionPolicy Delete (Retain, the default, is for a billed pool)."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_operator.reconcile.naming import unmarked

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
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
FLAVOR = "modelarts.vm.cpu.8ud"


def live_pools(emulator: Any, name: str) -> list[dict[str, Any]]:
    return [
        r
        for r in remote_objects(emulator, "pool")
        if r.get("name") == name and r.get("deleted_at") is None
    ]


def nodes(obj: dict[str, Any]) -> dict[str, Any]:
    return {n["flavor"]: n for n in obj["status"].get("nodes") or []}


def test_pool_on_its_network_runs_scales_and_is_deleted(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-pool")
    pool = {
        "apiVersion": API,
        "kind": "ResourcePool",
        "metadata": {"name": "train-pool"},
        "spec": {
            "name": "it-pool-a",
            "description": "training nodes",
            "type": "Dedicate",
            "scope": ["Train"],
            "resources": [{"flavor": FLAVOR, "count": 1}],
            "networkRef": {"name": "pool-net"},
            "deletionPolicy": "Delete",
        },
    }
    apply(cp, pool, ns)
    wait_for(
        cp, "resourcepool", "train-pool", ns,
        lambda o: condition(o, "Synced").get("reason") == "WaitingForNetwork", 30, operator,
    )  # fmt: skip
    network = {
        "apiVersion": API,
        "kind": "Network",
        "metadata": {"name": "pool-net"},
        "spec": {"name": "it-pool-net", "cidr": "192.168.128.0/17"},
    }
    apply(cp, network, ns)
    net = wait_for(cp, "network", "pool-net", ns, ready, 40, operator)
    running = wait_for(
        cp, "resourcepool", "train-pool", ns, lambda o: ready(o) and synced(o), 60, operator
    )
    assert running["status"]["poolId"].startswith("it-pool-a-")
    assert nodes(running)[FLAVOR]["available"] == 1
    (remote,) = live_pools(emulator, "it-pool-a")
    assert remote["network"] == {"name": net["status"]["networkId"]}
    assert unmarked(remote["annotations"]["os.modelarts/description"]) == "training nodes"

    # A v2 training job on the pool by reference runs with its ID.
    job = {
        "apiVersion": API,
        "kind": "TrainingJob",
        "metadata": {"name": "on-pool"},
        "spec": {
            "algorithm": {
                "codeDir": "obs://it-pool/code/",
                "bootFile": "obs://it-pool/code/train.py",
                "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
            },
            "resource": {"poolRef": {"name": "train-pool"}, "nodeCount": 1},
        },
    }
    apply(cp, job, ns)
    job_obj = wait_for(cp, "trainingjob", "on-pool", ns, synced, 30, operator)
    (remote_job,) = remote_jobs(emulator, id=job_obj["status"]["jobId"])
    assert remote_job["spec"]["resource"]["pool_id"] == running["status"]["poolId"]
    delete_obj(cp, "trainingjob", "on-pool", ns)

    # A scale: the flavor's count changes in place (patch_pool), same pool.
    merge_patch(
        cp, "resourcepool", "train-pool", ns,
        {"spec": {"resources": [{"flavor": FLAVOR, "count": 2}]}},
    )  # fmt: skip
    scaled = wait_for(
        cp, "resourcepool", "train-pool", ns,
        lambda o: ready(o) and nodes(o).get(FLAVOR, {}).get("available") == 2, 60, operator,
    )  # fmt: skip
    assert scaled["status"]["poolId"] == running["status"]["poolId"]
    assert len(live_pools(emulator, "it-pool-a")) == 1

    delete_obj(cp, "resourcepool", "train-pool", ns)
    wait_until(lambda: live_pools(emulator, "it-pool-a") == [], 30, "the pool to go")
    delete_obj(cp, "network", "pool-net", ns)
