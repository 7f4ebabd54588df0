"""A remote object deleted behind the operator's back: desired-state kinds come back, a
training job is reported (re-running training silently would cost money)."""

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
    modelarts,
    namespace,
    ready,
    remote_by_id,
    remote_named,
    synced,
    wait_for,
    wait_until,
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


RESYNC = {"modelarts.huaweicloud.com/resync-period": "2s"}
PUT_WORKSPACE = "PUT /v1/{project_id}/workspaces/{workspace_id}"
GET_WORKSPACE = "GET /v1/{project_id}/workspaces/{workspace_id}"
PUT_SERVICE = "PUT /v1/{project_id}/services/{service_id}"
GET_SERVICE = "GET /v1/{project_id}/services/{service_id}"


def _calls(emulator: Any, endpoint: str) -> int:
    return int(emulator.admin.counters().get(endpoint, 0))


def _resyncs(emulator: Any, detail: str, since: int, n: int = 3) -> None:
    """Until ``n`` more detail GETs of the kind were made (each resync is one)."""
    wait_until(lambda: _calls(emulator, detail) - since >= n, 60, f"{n} resyncs")


def test_configuration_drift_is_corrected_by_diff_not_resent(
    operator: OperatorProcess, emulator: Any
) -> None:
    """A settled Workspace and Service are compared with ModelArts every resync period:
    nothing is PUT while nothing differs; a change made in the console (description, grants,
    instance count) is put back with one PUT and a DriftCorrected event naming the field."""
    from modelarts_operator.api.services import ServiceConfig, ServiceUpdateRequest
    from modelarts_operator.api.workspaces import WorkspaceUpdateRequest

    cp = operator.cp
    ns = namespace(cp, "it-resync")
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Workspace",
            "metadata": {"name": "ws", "annotations": RESYNC},
            "spec": {
                "name": "it-resync-ws",
                "description": "from git",
                "authType": "INTERNAL",
                "grants": [{"userName": "alice"}],
            },
        },
        ns,
    )
    apply(cp, model("m", "it-resync"), ns)
    svc = service("s", [("m", 100)])
    svc["metadata"]["annotations"] = RESYNC
    apply(cp, svc, ns)
    ws = wait_for(cp, "workspace", "ws", ns, lambda o: ready(o) and synced(o), op=operator)
    s = wait_for(cp, "masvc", "s", ns, lambda o: ready(o) and synced(o), timeout=90, op=operator)
    ws_id, svc_id = ws["status"]["workspaceId"], s["status"]["serviceId"]

    # Settled: several resyncs compare, none PUTs.
    puts = _calls(emulator, PUT_WORKSPACE), _calls(emulator, PUT_SERVICE)
    _resyncs(emulator, GET_WORKSPACE, _calls(emulator, GET_WORKSPACE))
    _resyncs(emulator, GET_SERVICE, _calls(emulator, GET_SERVICE))
    assert (_calls(emulator, PUT_WORKSPACE), _calls(emulator, PUT_SERVICE)) == puts

    # Someone edits both in the console.
    async def edit(client: Any) -> None:
        await client.workspaces.update(
            ws_id, WorkspaceUpdateRequest(description="console", grants=[{"user_name": "bob"}])
        )
        detail = await client.services.get(svc_id)
        config = [
            ServiceConfig(
                model_id=str(c.model_id),
                weight=c.weight,
                specification=c.specification,
                instance_count=2,
            )
            for c in detail.config
        ]
        await client.services.update(svc_id, ServiceUpdateRequest(config=config))

    modelarts(emulator, edit)
    puts = _calls(emulator, PUT_WORKSPACE), _calls(emulator, PUT_SERVICE)

    def description() -> str:
        return str((remote_by_id(emulator, "workspace", ws_id) or {}).get("description") or "")

    # Put back with the ownership marker the console edit dropped.
    wait_until(
        lambda: description() != "from git" and unmarked(description()) == "from git",
        60,
        "the workspace description put back",
    )
    assert "[k8s-owner:" in description()
    remote_ws = remote_by_id(emulator, "workspace", ws_id) or {}
    assert [g.get("user_name") for g in remote_ws.get("grants") or []] == ["alice"]
    wait_until(
        lambda: (
            [c.get("instance_count") for c in _remote_service(emulator, svc_id)["config"]] == [1]
        ),
        90,
        "the instance count put back",
    )
    _resyncs(emulator, GET_WORKSPACE, _calls(emulator, GET_WORKSPACE))
    assert _calls(emulator, PUT_WORKSPACE) - puts[0] == 1
    assert _calls(emulator, PUT_SERVICE) - puts[1] == 1
    drift = [e["message"] for e in events_for(cp, ns, "ws") if e["reason"] == "DriftCorrected"]
    assert drift, events_for(cp, ns, "ws")
    assert "description" in drift[0]
    assert "grants" in drift[0]
    drift = [e["message"] for e in events_for(cp, ns, "s") if e["reason"] == "DriftCorrected"]
    assert drift, events_for(cp, ns, "s")
    assert "config" in drift[0]
    delete_obj(cp, "masvc", "s", ns)
    delete_obj(cp, "model", "m", ns)
    delete_obj(cp, "workspace", "ws", ns)


def _remote_service(emulator: Any, svc_id: str) -> dict[str, Any]:
    return remote_by_id(emulator, "service", svc_id) or {"config": []}
