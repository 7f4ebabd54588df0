"""Deletion policy behind the finalizer: Delete removes the remote object before the
Kubernetes object goes, Retain leaves it, and a deletion ModelArts refuses keeps the finalizer
with a condition and an event that say why."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    get_obj,
    namespace,
    ready,
    remote_by_id,
    wait_for,
    wait_until,
)
from .test_lifecycle import API, model, service

pytestmark = pytest.mark.cluster

DELETE_MODEL = "DELETE /v1/{project_id}/models/{model_id}"


def test_retain_leaves_the_remote_object(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-del-retain")
    apply(cp, model("keep", "it-del-retain", deletionPolicy="Retain"), ns)
    apply(cp, model("drop", "it-del-drop"), ns)
    keep = wait_for(cp, "model", "keep", ns, ready, op=operator)
    drop = wait_for(cp, "model", "drop", ns, ready, op=operator)
    keep_id, drop_id = keep["status"]["modelId"], drop["status"]["modelId"]

    delete_obj(cp, "model", "keep", ns)
    delete_obj(cp, "model", "drop", ns)
    assert remote_by_id(emulator, "model", keep_id) is not None  # Retain
    assert remote_by_id(emulator, "model", drop_id) is None  # Delete (the default)
    emulator.admin.delete_object("model", keep_id)


def test_refused_delete_keeps_finalizer_until_the_user_is_gone(
    operator: OperatorProcess, emulator: Any
) -> None:
    """A Model deployed in a Service cannot be deleted (ModelArts.3009): the Model stays,
    says why, and goes once the Service is deleted."""
    cp = operator.cp
    ns = namespace(cp, "it-del-refused")
    apply(cp, model("used", "it-del-refused"), ns)
    apply(cp, service("user", [("used", 100)]), ns)
    used = wait_for(cp, "model", "used", ns, ready, op=operator)
    svc = wait_for(cp, "masvc", "user", ns, ready, op=operator)
    model_id = used["status"]["modelId"]

    cp.kubectl("delete", "model", "used", "-n", ns, "--wait=false")
    used = wait_for(
        cp,
        "model",
        "used",
        ns,
        lambda o: condition(o, "Synced").get("reason") == "DeleteFailed",
        op=operator,
    )
    assert used["metadata"].get("deletionTimestamp")
    assert "modelarts.huaweicloud.com/finalizer" in used["metadata"]["finalizers"]
    assert used["status"]["phase"] == "Deleting"
    message = condition(used, "Synced")["message"]
    assert "ModelArts.3009" in message
    assert svc["status"]["serviceId"] in message or "deploy service" in message
    assert any(
        e["type"] == "Warning" and e["reason"] == "DeleteFailed" and "3009" in e["message"]
        for e in events_for(cp, ns, "used")
    )
    assert remote_by_id(emulator, "model", model_id) is not None

    # Still there after a retry (retries do not give up or drop the finalizer).
    deletes = emulator.admin.counters().get(DELETE_MODEL, 0)
    wait_until(
        lambda: emulator.admin.counters().get(DELETE_MODEL, 0) > deletes, 60, "a retried delete"
    )
    assert get_obj(cp, "model", "used", ns) is not None
    assert remote_by_id(emulator, "model", model_id) is not None

    delete_obj(cp, "masvc", "user", ns)
    wait_until(
        lambda: get_obj(cp, "model", "used", ns) is None,
        timeout=40,
        what="the Model to go once its Service is gone",
    )
    assert remote_by_id(emulator, "model", model_id) is None


def test_delete_stops_a_running_training_job_first(
    operator: OperatorProcess, emulator: Any
) -> None:
    from .test_lifecycle import training_job

    cp = operator.cp
    ns = namespace(cp, "it-del-job")
    apply(cp, training_job("run", "it-del-job"), ns)
    job = wait_for(
        cp, "trainingjob", "run", ns, lambda o: o.get("status", {}).get("jobId"), op=operator
    )
    job_id = job["status"]["jobId"]
    assert remote_by_id(emulator, "training_job", job_id) is not None
    delete_obj(cp, "trainingjob", "run", ns, timeout=60)
    assert remote_by_id(emulator, "training_job", job_id) is None
    reasons = [e["reason"] for e in events_for(cp, ns, "run")]
    assert "Deleted" in reasons


def test_workspace_without_remote_object_is_released_at_once(
    operator: OperatorProcess, emulator: Any
) -> None:
    """Nothing created remotely (paused from the start): the finalizer goes at once."""
    cp = operator.cp
    ns = namespace(cp, "it-del-nothing")
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Workspace",
            "metadata": {
                "name": "never",
                "annotations": {"modelarts.huaweicloud.com/paused": "true"},
            },
            "spec": {"name": "it-del-nothing"},
        },
        ns,
    )
    wait_for(cp, "workspace", "never", ns, lambda o: bool(o.get("status")), op=operator)
    delete_obj(cp, "workspace", "never", ns, timeout=15)
