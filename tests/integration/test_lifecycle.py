"""Each kind's life as a user sees it: create → Ready → update → delete, with the remote side
checked in the emulator (not only what the operator writes into status)."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_operator.reconcile.naming import unmarked

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    get_obj,
    merge_patch,
    namespace,
    ready,
    remote_by_id,
    remote_named,
    remote_service_status,
    synced,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.cluster

API = "modelarts.huaweicloud.com/v1alpha1"


def training_job(name: str, bucket: str, **spec: Any) -> dict[str, Any]:
    config = {
        "workerServerNum": 1,
        "appUrl": f"/{bucket}/code/",
        "bootFileUrl": f"/{bucket}/code/train.py",
        "engineId": 1,
        "specId": 1,
        "dataUrl": f"/{bucket}/data/",
        "trainUrl": f"/{bucket}/output/",
        "parameter": [{"label": "learning_rate", "value": "0.01"}],
    }
    config.update(spec.pop("config", {}))
    return {
        "apiVersion": API,
        "kind": "TrainingJob",
        "metadata": {"name": name},
        "spec": {"jobDesc": "first description", "config": config, **spec},
    }


def model(name: str, bucket: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Model",
        "metadata": {"name": name},
        "spec": {
            "modelVersion": "1.0.0",
            "sourceLocation": f"/{bucket}/model/",
            "modelType": "TensorFlow",
            "runtime": "python3.6",
            **spec,
        },
    }


def service(name: str, models: list[tuple[str, int]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "inferType": "real-time",
            "config": [
                {
                    "modelRef": {"name": m},
                    "weight": w,
                    "specification": "modelarts.vm.cpu.2u",
                    "instanceCount": 1,
                }
                for m, w in models
            ],
            **spec,
        },
    }


def test_workspace_create_update_delete(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-ws-life")
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Workspace",
            "metadata": {"name": "team"},
            "spec": {"name": "it-ws-life", "description": "first", "authType": "PUBLIC"},
        },
        ns,
    )
    ws = wait_for(cp, "workspace", "team", ns, ready, op=operator)
    ws_id = ws["status"]["workspaceId"]
    assert ws["status"]["phase"] == "Ready"
    assert synced(ws)
    remote = remote_by_id(emulator, "workspace", ws_id)
    assert remote is not None
    # The description carries the user's text and the operator's ownership marker.
    assert (remote["name"], unmarked(remote["description"]), remote["auth_type"]) == (
        "it-ws-life",
        "first",
        "PUBLIC",
    )

    # description and authType are PUT in place: same ID, new values remotely and in status.
    merge_patch(cp, "workspace", "team", ns, {"spec": {"description": "second"}})
    merge_patch(cp, "workspace", "team", ns, {"spec": {"authType": "PRIVATE"}})
    ws = wait_for(
        cp,
        "workspace",
        "team",
        ns,
        lambda o: synced(o) and o["status"].get("authType") == "PRIVATE",
        op=operator,
    )
    assert ws["status"]["workspaceId"] == ws_id
    remote = remote_by_id(emulator, "workspace", ws_id)
    assert remote is not None
    assert (unmarked(remote["description"]), remote["auth_type"]) == ("second", "PRIVATE")
    assert len(remote_named(emulator, "workspace", "it-ws-life")) == 1

    delete_obj(cp, "workspace", "team", ns)
    assert remote_by_id(emulator, "workspace", ws_id) is None


def test_training_job_description_in_place_and_config_as_new_version(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-job-life")
    apply(cp, training_job("train", "it-job-life"), ns)
    job = wait_for(
        cp,
        "trainingjob",
        "train",
        ns,
        lambda o: o.get("status", {}).get("phase") in ("Queued", "Running"),
        op=operator,
    )
    job_id, first_version = job["status"]["jobId"], job["status"]["versionId"]
    [first] = remote_named(emulator, "training_job", "it-job-life_train")
    assert first["job_id"] == job_id
    assert len(first["versions"]) == 1

    # jobDesc: a PUT on the job, no new version.
    merge_patch(cp, "trainingjob", "train", ns, {"spec": {"jobDesc": "second description"}})
    wait_until(
        lambda: (
            unmarked((remote_by_id(emulator, "training_job", job_id) or {}).get("job_desc"))
            == "second description"
        ),
        what="the job description to reach ModelArts",
    )
    job = wait_for(cp, "trainingjob", "train", ns, synced, op=operator)
    assert job["status"]["versionId"] == first_version
    assert len(remote_by_id(emulator, "training_job", job_id)["versions"]) == 1  # type: ignore[index]

    # A config change: a new version of the same job, recorded in status.
    new_params = [{"label": "learning_rate", "value": "0.02"}]
    merge_patch(cp, "trainingjob", "train", ns, {"spec": {"config": {"parameter": new_params}}})
    job = wait_for(
        cp,
        "trainingjob",
        "train",
        ns,
        lambda o: synced(o) and o["status"].get("versionId") != first_version,
        op=operator,
    )
    assert job["status"]["jobId"] == job_id
    assert job["status"]["versionName"] == "V0002"
    remote = remote_by_id(emulator, "training_job", job_id)
    assert remote is not None
    assert len(remote["versions"]) == 2
    assert remote["versions"][-1] == job["status"]["versionId"]
    assert any(e["reason"] == "VersionCreated" for e in events_for(cp, ns, "train"))

    # Later reconciles (another description change) must not add versions.
    merge_patch(cp, "trainingjob", "train", ns, {"spec": {"jobDesc": "third"}})
    wait_for(cp, "trainingjob", "train", ns, synced, op=operator)
    emulator.admin.advance(30)  # let the version finish
    job = wait_for(cp, "trainingjob", "train", ns, ready, op=operator)
    assert job["status"]["phase"] == "Succeeded"
    assert job["status"]["remoteStatus"] == "JOBSTAT_COMPLETED"
    remote = remote_by_id(emulator, "training_job", job_id)
    assert remote is not None
    assert len(remote["versions"]) == 2
    assert unmarked(remote["job_desc"]) == "third"

    delete_obj(cp, "trainingjob", "train", ns)
    assert remote_by_id(emulator, "training_job", job_id) is None


def test_model_and_service_lifecycle_updates_stop_start_export(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-svc-life")
    apply(cp, model("m-a", "it-svc-a"), ns)
    apply(cp, model("m-b", "it-svc-b"), ns)
    apply(
        cp,
        service(
            "web",
            [("m-a", 50), ("m-b", 50)],
            description="v1",
            exportTo={"configMapName": "web-endpoint"},
        ),
        ns,
    )
    m_a = wait_for(cp, "model", "m-a", ns, ready, op=operator)
    assert m_a["status"]["phase"] == "Published"
    assert remote_by_id(emulator, "model", m_a["status"]["modelId"]) is not None
    svc = wait_for(cp, "masvc", "web", ns, ready, op=operator)
    sid = svc["status"]["serviceId"]
    assert svc["status"]["phase"] == "Running"
    assert svc["status"]["accessAddress"].startswith("http")

    # exportTo: a ConfigMap the Service owns, with the ID and the URL.
    cm = get_obj(cp, "configmap", "web-endpoint", ns)
    assert cm is not None
    assert cm["data"] == {"serviceId": sid, "accessAddress": svc["status"]["accessAddress"]}
    assert cm["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]

    # Config update (weights, instance count) is a PUT on the same service.
    config = svc["spec"]["config"]
    config[0].update(weight=70, instanceCount=2)
    config[1].update(weight=30)
    merge_patch(cp, "masvc", "web", ns, {"spec": {"config": config, "description": "v2"}})

    def remote_config() -> list[tuple[int, int]]:
        rec = remote_by_id(emulator, "service", sid) or {}
        return [(int(c["weight"]), int(c["instance_count"])) for c in rec.get("config", [])]

    wait_until(lambda: remote_config() == [(70, 2), (30, 1)], what="the new config remotely")
    assert unmarked((remote_by_id(emulator, "service", sid) or {}).get("description")) == "v2"
    svc = wait_for(cp, "masvc", "web", ns, lambda o: synced(o) and ready(o), op=operator)
    assert svc["status"]["serviceId"] == sid
    assert len(remote_named(emulator, "service", "it-svc-life_web")) == 1

    # stopped: true → Stopped (remotely too); false → Running again.
    merge_patch(cp, "masvc", "web", ns, {"spec": {"stopped": True}})
    svc = wait_for(
        cp, "masvc", "web", ns, lambda o: o["status"].get("phase") == "Stopped", op=operator
    )
    assert condition(svc, "Ready")["reason"] == "Stopped"
    assert remote_service_status(emulator, sid) == "stopped"
    merge_patch(cp, "masvc", "web", ns, {"spec": {"stopped": False}})
    svc = wait_for(cp, "masvc", "web", ns, ready, op=operator)
    assert svc["status"]["phase"] == "Running"
    assert remote_service_status(emulator, sid) == "running"

    delete_obj(cp, "masvc", "web", ns)
    assert remote_by_id(emulator, "service", sid) is None
    delete_obj(cp, "model", "m-a", ns)
    delete_obj(cp, "model", "m-b", ns)
    assert remote_by_id(emulator, "model", m_a["status"]["modelId"]) is None
