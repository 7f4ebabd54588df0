"""Status people and Argo CD can trust: every path reports the generation it acted on, its
Synced verdict with the API's code, and a Failed condition that `kubectl wait` can wait for."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    merge_patch,
    namespace,
    ready,
    synced,
    wait_for,
    write_secret,
)
from .test_lifecycle import API, model, service, training_job

pytestmark = pytest.mark.cluster

WRONG_SK = "wrong-sk-0c4d2e9a7b1f3e5d6a8c"
UPDATE_WORKSPACE = "PUT /v1/{project_id}/workspaces/{workspace_id}"
LIST_WORKSPACES = "GET /v1/{project_id}/workspaces"
GET_WORKSPACE = "GET /v1/{project_id}/workspaces/{workspace_id}"


def _not_synced(obj: dict[str, Any]) -> bool:
    return condition(obj, "Synced").get("status") == "False"


def _observed(obj: dict[str, Any]) -> bool:
    return bool(obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"])


def _assert_terminal(obj: dict[str, Any], reason: str) -> None:
    """What Argo CD and `kubectl wait` read: the generation was acted on, it was refused with
    the API's code, and the object says it failed for that reason."""
    assert _observed(obj), obj["status"]
    assert condition(obj, "Synced")["reason"] == reason, obj["status"]["conditions"]
    failed = condition(obj, "Failed")
    assert (failed.get("status"), failed.get("reason")) == ("True", reason), failed


def _workspace(name: str, remote: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": name},
        "spec": {"name": remote, **spec},
    }


def test_refused_spec_reports_its_generation_and_fails(operator: OperatorProcess) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-status-refused")
    apply(cp, training_job("bad", "it-status-refused", config={"specId": 999}), ns)
    job = wait_for(cp, "trainingjob", "bad", ns, _not_synced, op=operator)
    _assert_terminal(job, "ModelArts.0107")
    assert condition(job, "Ready")["reason"] == "ModelArts.0107"
    waited = cp.kubectl(
        "wait", "--for=condition=Failed", "trainingjob/bad", "-n", ns, "--timeout=5s", check=False
    )
    assert waited.returncode == 0, waited.stderr
    delete_obj(cp, "trainingjob", "bad", ns)


def test_refused_update_reports_the_new_generation(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-status-update")
    apply(cp, _workspace("team", "it-status-update", description="first"), ns)
    wait_for(cp, "workspace", "team", ns, lambda o: ready(o) and synced(o), op=operator)
    emulator.admin.add_fault(
        endpoint=UPDATE_WORKSPACE,
        kind="error",
        status=400,
        error_code="ModelArts.7002",
        error_msg="The description is not allowed.",
    )
    try:
        merge_patch(cp, "workspace", "team", ns, {"spec": {"description": "second"}})
        ws = wait_for(
            cp, "workspace", "team", ns, lambda o: _not_synced(o) and _observed(o), op=operator
        )
    finally:
        emulator.admin.clear_faults()
    assert ws["metadata"]["generation"] == 2
    _assert_terminal(ws, "ModelArts.7002")
    assert condition(ws, "Synced")["message"] == "The description is not allowed."
    assert ready(ws), "the remote workspace itself is still fine"
    merge_patch(cp, "workspace", "team", ns, {"spec": {"description": "third"}})
    ws = wait_for(cp, "workspace", "team", ns, synced, op=operator)
    assert condition(ws, "Failed")["status"] == "False"
    delete_obj(cp, "workspace", "team", ns)


def test_bad_credentials_report_their_generation(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    cfg = emulator.config
    secret = "status-credentials"
    ns = namespace(cp, "it-status-creds", {"modelarts.huaweicloud.com/credentials-secret": secret})
    write_secret(cp, ns, secret, {"ak": cfg.ak, "sk": WRONG_SK})
    apply(cp, _workspace("team", "it-status-creds"), ns)
    ws = wait_for(cp, "workspace", "team", ns, _not_synced, op=operator)
    reason = condition(ws, "Synced")["reason"]
    assert reason.startswith("ModelArts.02"), reason  # the API's authentication code
    _assert_terminal(ws, reason)
    write_secret(cp, ns, secret, {"ak": cfg.ak, "sk": cfg.sk})
    wait_for(cp, "workspace", "team", ns, lambda o: synced(o) and ready(o), op=operator)
    delete_obj(cp, "workspace", "team", ns)


def test_kubectl_wait_for_failed_on_a_failed_job(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-status-failed")
    apply(cp, training_job("doomed", "it-status-failed"), ns)
    job = wait_for(
        cp, "trainingjob", "doomed", ns, lambda o: (o.get("status") or {}).get("jobId"), op=operator
    )
    assert condition(job, "Failed")["status"] == "False"
    emulator.admin.force(kind="training_job", id=job["status"]["jobId"])
    waited = cp.kubectl(
        "wait",
        "--for=condition=Failed",
        "trainingjob/doomed",
        "-n",
        ns,
        "--timeout=60s",
        check=False,
    )
    assert waited.returncode == 0, waited.stderr
    job = wait_for(cp, "trainingjob", "doomed", ns, lambda o: True, op=operator)
    assert condition(job, "Ready")["reason"] == "Failed"
    assert condition(job, "Failed")["reason"] == "Failed"
    assert job["status"]["phase"] == "Failed"
    delete_obj(cp, "trainingjob", "doomed", ns)


def test_refused_service_create_does_not_claim_to_wait(operator: OperatorProcess) -> None:
    """A dedicated pool that does not exist (3547): the Service says so, not WaitingForModel."""
    cp = operator.cp
    ns = namespace(cp, "it-status-svc")
    apply(cp, model("m", "it-status-svc"), ns)
    apply(cp, service("svc", [("m", 100)], clusterId="no-such-pool"), ns)
    wait_for(cp, "model", "m", ns, ready, timeout=90, op=operator)
    svc = wait_for(
        cp,
        "masvc",
        "svc",
        ns,
        lambda o: condition(o, "Synced").get("reason") == "ModelArts.3547",
        timeout=90,
        op=operator,
    )
    _assert_terminal(svc, "ModelArts.3547")
    assert condition(svc, "Ready")["reason"] == "ModelArts.3547", svc["status"]["conditions"]
    assert svc["status"]["phase"] == "Error"
    delete_obj(cp, "masvc", "svc", ns)
    delete_obj(cp, "model", "m", ns)


def test_a_failing_list_call_is_visible_and_recovers(
    operator: OperatorProcess, emulator: Any
) -> None:
    """A wrong SK reaches only the poller's list call (the objects are settled, nothing else
    calls ModelArts): the objects it covers say Synced=False, AuthFailed, until it works."""
    cp = operator.cp
    cfg = emulator.config
    secret = "blind-credentials"
    ns = namespace(cp, "it-status-blind", {"modelarts.huaweicloud.com/credentials-secret": secret})
    write_secret(cp, ns, secret, {"ak": cfg.ak, "sk": cfg.sk})
    apply(cp, _workspace("team", "it-status-blind"), ns)
    settled = wait_for(cp, "workspace", "team", ns, lambda o: ready(o) and synced(o), op=operator)
    write_secret(cp, ns, secret, {"ak": cfg.ak, "sk": WRONG_SK})
    blind = wait_for(
        cp,
        "workspace",
        "team",
        ns,
        lambda o: condition(o, "Synced").get("reason") == "AuthFailed",
        timeout=90,
        op=operator,
    )
    synced_cond = condition(blind, "Synced")
    assert synced_cond["status"] == "False"
    assert synced_cond["message"].startswith("listing workspaces failed: ModelArts.02")
    assert condition(blind, "Failed")["status"] == "True"
    assert blind["status"]["observedGeneration"] == settled["status"]["observedGeneration"]
    assert WRONG_SK not in str(blind)
    write_secret(cp, ns, secret, {"ak": cfg.ak, "sk": cfg.sk})
    back = wait_for(cp, "workspace", "team", ns, lambda o: synced(o) and ready(o), op=operator)
    assert condition(back, "Failed")["status"] == "False"
    delete_obj(cp, "workspace", "team", ns)


def test_a_refused_list_call_recovers_without_a_reconcile(
    operator: OperatorProcess, emulator: Any
) -> None:
    """403 on the list path only: Synced=False, Forbidden, for as long as it lasts; the first
    good list gives the Synced verdict back in its own patch (no detail GET, no reconcile)."""
    cp = operator.cp
    ns = namespace(cp, "it-status-forbidden")
    apply(cp, _workspace("team", "it-status-forbidden"), ns)
    settled = wait_for(cp, "workspace", "team", ns, lambda o: ready(o) and synced(o), op=operator)
    emulator.admin.add_fault(
        endpoint=LIST_WORKSPACES,
        kind="error",
        status=403,
        error_code="ModelArts.0108",
        error_msg="No permission to list workspaces.",
    )
    try:
        blind = wait_for(
            cp,
            "workspace",
            "team",
            ns,
            lambda o: condition(o, "Synced").get("reason") == "Forbidden",
            timeout=60,
            op=operator,
        )
    finally:
        emulator.admin.clear_faults()
    assert condition(blind, "Synced")["message"].startswith("listing workspaces failed")
    details = emulator.admin.counters().get(GET_WORKSPACE, 0)
    back = wait_for(cp, "workspace", "team", ns, synced, timeout=60, op=operator)
    assert emulator.admin.counters().get(GET_WORKSPACE, 0) == details
    before, after = condition(settled, "Synced"), condition(back, "Synced")
    assert (after["reason"], after["message"]) == (before["reason"], before["message"])
    assert condition(back, "Failed")["status"] == "False"
    delete_obj(cp, "workspace", "team", ns)
