"""ModelArts errors reach the user where they look: conditions and Warning events, with the
API's own error code and message, and without a hot retry loop."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    handler_idle,
    merge_patch,
    namespace,
    remote_named,
    synced,
    wait_for,
)
from .test_lifecycle import training_job

pytestmark = pytest.mark.cluster

CREATE_JOB = "POST /v1/{project_id}/training-jobs"


def _synced_false(obj: dict[str, Any]) -> bool:
    return condition(obj, "Synced").get("status") == "False"


def test_rejected_spec_shows_api_code_and_message_then_recovers(
    operator: OperatorProcess, emulator: Any
) -> None:
    """specId 999 passes admission (>= 1) but ModelArts refuses it (0107)."""
    cp = operator.cp
    ns = namespace(cp, "it-err-invalid")
    before = emulator.admin.counters().get(CREATE_JOB, 0)
    apply(cp, training_job("bad", "it-err-invalid", config={"specId": 999}), ns)
    job = wait_for(cp, "trainingjob", "bad", ns, _synced_false, op=operator)
    synced_cond = condition(job, "Synced")
    assert synced_cond["reason"] == "ModelArts.0107"
    assert "spec_id 999" in synced_cond["message"]
    assert synced_cond["observedGeneration"] == job["metadata"]["generation"]
    assert not job["status"].get("jobId")
    warnings = [e for e in events_for(cp, ns, "bad") if e["type"] == "Warning"]
    assert any(
        e["reason"] == "ModelArts.0107" and "spec_id 999" in e["message"] for e in warnings
    ), warnings
    assert remote_named(emulator, "training_job", "it-err-invalid_bad") == []

    # Not retried in a hot loop: a refused parameter waits for a spec change (the handler is
    # done, with no retry scheduled).
    wait_for(cp, "trainingjob", "bad", ns, handler_idle, op=operator)
    calls = emulator.admin.counters().get(CREATE_JOB, 0) - before
    assert 1 <= calls <= 2, f"{calls} create calls for one refused spec"

    # Fixing the spec is picked up at once and the job gets created.
    config = job["spec"]["config"]
    config["specId"] = 1
    merge_patch(cp, "trainingjob", "bad", ns, {"spec": {"config": config}})
    job = wait_for(
        cp, "trainingjob", "bad", ns, lambda o: synced(o) and o["status"].get("jobId"), op=operator
    )
    assert len(remote_named(emulator, "training_job", "it-err-invalid_bad")) == 1
    delete_obj(cp, "trainingjob", "bad", ns)


def test_quota_error_from_the_api_is_reported(operator: OperatorProcess, emulator: Any) -> None:
    """A quota error (0106) injected on create surfaces as Synced=False with the code."""
    cp = operator.cp
    ns = namespace(cp, "it-err-quota")
    emulator.admin.add_fault(
        endpoint=CREATE_JOB,
        kind="error",
        status=400,
        error_code="ModelArts.0106",
        error_msg="The maximum number of training jobs is reached.",
    )
    try:
        apply(cp, training_job("quota", "it-err-quota"), ns)
        job = wait_for(cp, "trainingjob", "quota", ns, _synced_false, op=operator)
    finally:
        emulator.admin.clear_faults()
    cond = condition(job, "Synced")
    assert (cond["reason"], cond["message"]) == (
        "ModelArts.0106",
        "The maximum number of training jobs is reached.",
    )
    assert job["status"].get("phase") != "Ready"
    assert any(
        e["type"] == "Warning" and e["reason"] == "ModelArts.0106"
        for e in events_for(cp, ns, "quota")
    )
    # After the quota is raised, a touch of the spec retries now.
    merge_patch(cp, "trainingjob", "quota", ns, {"spec": {"jobDesc": "retry please"}})
    wait_for(cp, "trainingjob", "quota", ns, synced, op=operator)
    assert len(remote_named(emulator, "training_job", "it-err-quota_quota")) == 1
    delete_obj(cp, "trainingjob", "quota", ns)


def test_server_errors_are_transient_and_retried(operator: OperatorProcess, emulator: Any) -> None:
    """5xx on create: reported as a transient ServerError, retried soon without a spec change,
    and still exactly one remote object in the end."""
    cp = operator.cp
    ns = namespace(cp, "it-err-5xx")
    # More failures than the client's own retries, so the reconcile sees the error.
    emulator.admin.add_fault(
        endpoint="POST /v1/{project_id}/workspaces", kind="error", status=503, times=8
    )
    try:
        apply(
            cp,
            {
                "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
                "kind": "Workspace",
                "metadata": {"name": "flaky"},
                "spec": {"name": "it-err-5xx"},
            },
            ns,
        )
        ws = wait_for(cp, "workspace", "flaky", ns, _synced_false, timeout=60, op=operator)
        assert condition(ws, "Synced")["reason"] in ("ServerError", "Ambiguous")
    finally:
        emulator.admin.clear_faults()
    ws = wait_for(cp, "workspace", "flaky", ns, synced, timeout=60, op=operator)
    assert len(remote_named(emulator, "workspace", "it-err-5xx")) == 1
    delete_obj(cp, "workspace", "flaky", ns)
