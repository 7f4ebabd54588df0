"""The Argo CD health check argocd/health.lua, run in a real Lua 5.1 (Argo CD's gopher-lua
speaks 5.1) against status fixtures shaped like the operator's status (DESIGN.md, Status)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

lupa = pytest.importorskip("lupa.lua51")

ROOT = Path(__file__).resolve().parents[3]
HEALTH_LUA = ROOT / "argocd" / "health.lua"
CHART_HEALTH_LUA = ROOT / "helm" / "modelarts-operator" / "files" / "argocd" / "health.lua"
KINDS = ["Workspace", "TrainingJob", "Model", "Service", "Notebook"]
GROUP_VERSION = "modelarts.huaweicloud.com/v1alpha1"

# A phase each kind shows while it is still converging (DESIGN.md: Ready False carries it).
IN_FLIGHT = {
    "Workspace": "Creating",
    "TrainingJob": "Running",
    "Model": "Publishing",
    "Service": "Deploying",
    "Notebook": "Starting",
}


def to_lua(runtime: Any, value: Any) -> Any:
    """Python dicts/lists -> Lua tables, recursively (lists become 1-based sequences)."""
    if isinstance(value, dict):
        table = runtime.table()
        for key, item in value.items():
            table[key] = to_lua(runtime, item)
        return table
    if isinstance(value, list):
        table = runtime.table()
        for index, item in enumerate(value, start=1):
            table[index] = to_lua(runtime, item)
        return table
    return value


def health(kind: str, obj: dict[str, Any]) -> tuple[str, str]:
    """Evaluate the kind's script the way Argo CD does: ``obj`` global, the chunk returns hs."""
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = to_lua(runtime, obj)
    result = runtime.execute(HEALTH_LUA.read_text())
    assert result is not None, "script returned nothing"
    return str(result["status"]), str(result["message"])


def condition(
    ctype: str, status: str, reason: str, message: str, generation: int = 2
) -> dict[str, Any]:
    return {
        "type": ctype,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2025-01-01T00:00:00Z",
        "observedGeneration": generation,
    }


def make(
    kind: str,
    *,
    status: dict[str, Any] | None = None,
    generation: int = 2,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": GROUP_VERSION,
        "kind": kind,
        "metadata": {"name": "demo", "namespace": "team-a", "generation": generation},
        "spec": spec or {},
    }
    if status is not None:
        obj["status"] = status
    return obj


# The phase each kind shows once Ready (TrainingJob: the job completed).
SETTLED = {
    "Workspace": "Ready",
    "TrainingJob": "Completed",
    "Model": "Published",
    "Service": "Running",
    "Notebook": "Running",
}


def ready_status(kind: str, generation: int = 2) -> dict[str, Any]:
    phase = SETTLED[kind]
    return {
        "observedGeneration": generation,
        "phase": phase,
        "conditions": [
            condition("Synced", "True", "Synced", "applied to ModelArts", generation),
            condition("Ready", "True", phase, f"{kind} is {phase.lower()}", generation),
        ],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_ready_true_is_healthy_with_the_condition_message(kind: str) -> None:
    status, message = health(kind, make(kind, status=ready_status(kind)))
    assert status == "Healthy"
    assert message == ready_status(kind)["conditions"][1]["message"]


@pytest.mark.parametrize("kind", KINDS)
def test_missing_status_is_progressing(kind: str) -> None:
    status, message = health(kind, make(kind))
    assert (status, message) == ("Progressing", "Waiting for the operator to reconcile the object")


@pytest.mark.parametrize("kind", KINDS)
def test_older_generation_observed_is_progressing_even_if_ready(kind: str) -> None:
    obj = make(kind, status=ready_status(kind, generation=2), generation=3)
    assert health(kind, obj) == ("Progressing", "Waiting for the operator to observe generation 3")


@pytest.mark.parametrize("kind", KINDS)
def test_not_yet_ready_is_progressing_with_the_ready_message(kind: str) -> None:
    phase = IN_FLIGHT[kind]
    obj = make(
        kind,
        status={
            "observedGeneration": 2,
            "phase": phase,
            "conditions": [
                condition("Synced", "True", "Synced", "applied"),
                condition("Ready", "False", phase, f"{kind} is {phase.lower()} remotely"),
            ],
        },
    )
    assert health(kind, obj) == ("Progressing", f"{kind} is {phase.lower()} remotely")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reason", ["Throttled", "ServerError", "WaitingForWorkspace"])
def test_retried_sync_errors_stay_progressing(kind: str, reason: str) -> None:
    obj = make(
        kind,
        status={
            "observedGeneration": 2,
            "phase": "Pending",
            "conditions": [
                condition("Synced", "False", reason, "will retry"),
                condition("Ready", "False", "Pending", "waiting to be applied"),
            ],
        },
    )
    assert health(kind, obj)[0] == "Progressing"


@pytest.mark.parametrize("kind", KINDS)
def test_failed_phase_is_degraded_with_the_ready_message(kind: str) -> None:
    obj = make(
        kind,
        status={
            "observedGeneration": 2,
            "phase": "Failed",
            "errorMessage": "remote error text",
            "conditions": [
                condition("Synced", "True", "Synced", "applied"),
                condition("Ready", "False", "Failed", "training exited with code 1"),
            ],
        },
    )
    assert health(kind, obj) == ("Degraded", "training exited with code 1")


@pytest.mark.parametrize("kind", KINDS)
def test_failed_phase_without_conditions_uses_the_error_message(kind: str) -> None:
    obj = make(kind, status={"observedGeneration": 2, "phase": "Failed", "errorMessage": "boom"})
    assert health(kind, obj) == ("Degraded", "boom")


@pytest.mark.parametrize("kind", KINDS)
def test_ready_false_reason_failed_is_degraded(kind: str) -> None:
    obj = make(
        kind,
        status={
            "observedGeneration": 2,
            "phase": "DeletedRemotely",
            "conditions": [condition("Ready", "False", "Failed", "deleted behind our back")],
        },
    )
    assert health(kind, obj) == ("Degraded", "deleted behind our back")


@pytest.mark.parametrize("kind", KINDS)
def test_terminal_sync_error_is_degraded_and_names_the_code(kind: str) -> None:
    obj = make(
        kind,
        status={
            "observedGeneration": 2,
            "phase": "Creating",
            "conditions": [
                condition("Synced", "False", "ModelArts.0104", "Invalid parameter: flavor"),
                condition("Ready", "False", "Creating", "not created"),
            ],
        },
    )
    assert health(kind, obj) == ("Degraded", "ModelArts.0104: Invalid parameter: flavor")


@pytest.mark.parametrize(
    ("spec", "phase"),
    [({"stopped": True}, "Stopped"), ({"stopped": True}, "Running"), ({}, "Stopped")],
)
def test_stopped_service_is_suspended(spec: dict[str, Any], phase: str) -> None:
    obj = make(
        "Service",
        spec=spec,
        status={
            "observedGeneration": 2,
            "phase": phase,
            "conditions": [condition("Ready", "False", "Stopped", "service stopped")],
        },
    )
    assert health("Service", obj) == ("Suspended", "service stopped")


def test_stopped_service_without_status_is_suspended() -> None:
    status, _ = health("Service", make("Service", spec={"stopped": True}))
    assert status == "Suspended"


def test_service_being_started_again_is_not_suspended() -> None:
    obj = make(
        "Service",
        spec={"stopped": False},
        generation=3,
        status={"observedGeneration": 2, "phase": "Stopped", "conditions": []},
    )
    assert health("Service", obj)[0] == "Progressing"


def test_failed_stopped_service_is_degraded_not_suspended() -> None:
    obj = make(
        "Service",
        spec={"stopped": True},
        status={
            "observedGeneration": 2,
            "phase": "Failed",
            "conditions": [condition("Ready", "False", "Failed", "deployment failed")],
        },
    )
    assert health("Service", obj) == ("Degraded", "deployment failed")


@pytest.mark.parametrize("kind", ["Workspace", "TrainingJob", "Model"])
def test_only_a_service_or_notebook_can_be_suspended(kind: str) -> None:
    obj = make(kind, spec={"stopped": True}, status=ready_status(kind))
    assert health(kind, obj)[0] == "Healthy"


@pytest.mark.parametrize(
    ("spec", "reason"), [({"stopped": True}, "Stopped"), ({"stopped": False}, "LeaseExpired")]
)
def test_stopped_notebook_is_suspended(spec: dict[str, Any], reason: str) -> None:
    """Stopped on purpose, or by its lease (which the operator leaves alone)."""
    obj = make(
        "Notebook",
        spec=spec,
        status={
            "observedGeneration": 2,
            "phase": "Stopped",
            "conditions": [condition("Ready", "False", reason, "its lease ended")],
        },
    )
    assert health("Notebook", obj) == ("Suspended", "its lease ended")


def test_notebook_being_started_again_is_not_suspended() -> None:
    obj = make(
        "Notebook",
        spec={"stopped": False, "restartToken": "2"},
        generation=3,
        status={"observedGeneration": 2, "phase": "Stopped", "conditions": []},
    )
    assert health("Notebook", obj)[0] == "Progressing"


def test_chart_ships_the_same_script() -> None:
    source = HEALTH_LUA.read_text()
    shipped = CHART_HEALTH_LUA.read_text()
    assert shipped == source, f"cp argocd/health.lua {CHART_HEALTH_LUA.relative_to(ROOT)}"


def test_concerning_v2_service_is_degraded() -> None:
    obj = make(
        "Service",
        spec={"v2": {"version": "1.0.0"}},
        status={
            "observedGeneration": 2,
            "phase": "Concerning",
            "conditions": [condition("Ready", "False", "Degraded", "2 of 3 instances abnormal")],
        },
    )
    assert health("Service", obj) == ("Degraded", "2 of 3 instances abnormal")
