"""A remote object deleted behind the operator's back: desired-state kinds come back, a
training job is reported (re-running training silently would cost money)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    namespace,
    ready,
    remote_by_id,
    remote_named,
    wait_for,
)
from .test_lifecycle import API, model, service, training_job

pytestmark = pytest.mark.cluster


def _recreated(id_field: str, old: Any) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        new = obj.get("status", {}).get(id_field)
        return bool(new) and new != old and ready(obj)

    return check


def test_workspace_model_service_are_recreated(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-drift")
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Workspace",
            "metadata": {"name": "ws"},
            "spec": {"name": "it-drift-ws"},
        },
        ns,
    )
    apply(cp, model("m", "it-drift"), ns)
    apply(cp, service("s", [("m", 100)]), ns)
    ws = wait_for(cp, "workspace", "ws", ns, ready, op=operator)
    m = wait_for(cp, "model", "m", ns, ready, op=operator)
    s = wait_for(cp, "masvc", "s", ns, ready, op=operator)
    ws_id, model_id, svc_id = (
        ws["status"]["workspaceId"],
        m["status"]["modelId"],
        s["status"]["serviceId"],
    )

    emulator.admin.delete_object("workspace", ws_id)
    emulator.admin.delete_object("service", svc_id)
    ws = wait_for(cp, "workspace", "ws", ns, _recreated("workspaceId", ws_id), op=operator)
    s = wait_for(cp, "masvc", "s", ns, _recreated("serviceId", svc_id), op=operator)
    assert len(remote_named(emulator, "workspace", "it-drift-ws")) == 1
    assert len(remote_named(emulator, "service", "it-drift_s")) == 1
    assert any(e["reason"] == "DeletedRemotely" for e in events_for(cp, ns, "ws"))

    # The model comes back too, and the service follows it to the new model ID.
    emulator.admin.delete_object("model", model_id)
    m = wait_for(cp, "model", "m", ns, _recreated("modelId", model_id), op=operator)
    new_model = m["status"]["modelId"]
    assert len(remote_named(emulator, "model", "it-drift_m")) == 1
    s = wait_for(
        cp,
        "masvc",
        "s",
        ns,
        lambda o: [c.get("modelId") for c in o["status"].get("models", [])] == [new_model],
        op=operator,
    )
    remote_svc = remote_by_id(emulator, "service", s["status"]["serviceId"])
    assert remote_svc is not None
    assert [c["model_id"] for c in remote_svc["config"]] == [new_model]

    delete_obj(cp, "masvc", "s", ns)
    delete_obj(cp, "model", "m", ns)
    delete_obj(cp, "workspace", "ws", ns)


def test_training_job_deleted_remotely_is_failed_not_rerun(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-drift-job")
    apply(cp, training_job("gone", "it-drift-job"), ns)
    job = wait_for(
        cp, "trainingjob", "gone", ns, lambda o: o.get("status", {}).get("jobId"), op=operator
    )
    emulator.admin.delete_object("training_job", str(job["status"]["jobId"]))
    job = wait_for(
        cp,
        "trainingjob",
        "gone",
        ns,
        lambda o: condition(o, "Ready").get("reason") == "DeletedRemotely",
        op=operator,
    )
    assert job["status"]["phase"] == "Failed"
    assert condition(job, "Ready")["status"] == "False"
    assert any(
        e["type"] == "Warning" and e["reason"] == "DeletedRemotely"
        for e in events_for(cp, ns, "gone")
    )
    assert remote_named(emulator, "training_job", "it-drift-job_gone") == []
    delete_obj(cp, "trainingjob", "gone", ns, timeout=20)
