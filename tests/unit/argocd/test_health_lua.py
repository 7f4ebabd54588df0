"""argocd/health.lua in a real Lua 5.1 (Argo CD's gopher-lua speaks 5.1) restricted to what
Argo CD loads for argocd-cm scripts (base, table, package, os: no string, math, io), over the
objects the operator really produced (tests/fixtures/argocd/) and variations of them that
change one field. tests/unit/argocd/test_argocd_health.py runs the same fixtures through
Argo CD's own code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelarts_operator.crd import chart

from .cases import (
    GROUP,
    HEALTH_LUA,
    ROOT,
    Case,
    fixture,
    observed,
    params,
    reason_cases,
    set_condition,
)

lupa = pytest.importorskip("lupa.lua51")

CHART_HEALTH_LUA = ROOT / "helm" / "modelarts-operator" / "files" / "argocd" / "health.lua"
# Libraries Argo CD does not open for health scripts from argocd-cm (util/lua: only base,
# table, package and a safe os). Strings lose their methods too (s:sub needs string).
NOT_IN_ARGOCD = ("string", "math", "io", "coroutine", "debug")


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


def sandbox() -> Any:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.execute("debug.setmetatable('', nil)")
    for name in NOT_IN_ARGOCD:
        runtime.execute(f"{name} = nil; package.loaded.{name} = nil")
    return runtime


def run(script: str, obj: dict[str, Any]) -> tuple[str, str]:
    """Evaluate like Argo CD: ``obj`` global, the chunk returns hs."""
    runtime = sandbox()
    runtime.globals().obj = to_lua(runtime, obj)
    result = runtime.execute(script)
    assert result is not None, "script returned nothing"
    return str(result["status"]), str(result["message"])


def health(obj: dict[str, Any]) -> tuple[str, str]:
    return run(HEALTH_LUA.read_text(), obj)


@pytest.mark.parametrize("case", params())
def test_captured_object_has_its_health(case: Case) -> None:
    status, message = health(case.load())
    assert status == case.health, f"{case.story}: {message}"
    assert case.message_has in message


def test_the_sandbox_is_argocds() -> None:
    """A script that needs the string library fails here as it fails in Argo CD."""
    with pytest.raises(lupa.LuaError):
        run('return {status = string.sub("Healthy", 1, 7)}', {})
    with pytest.raises(lupa.LuaError):
        run('local s = "Healthy"; return {status = s:sub(1, 7)}', {})


@pytest.mark.parametrize(
    "name", ["workspace-ready", "trainingjob-completed", "model-published", "service-running"]
)
def test_a_newer_generation_is_progressing_until_observed(name: str) -> None:
    obj = fixture(name)
    obj["metadata"]["generation"] += 1
    generation = obj["metadata"]["generation"]
    assert health(obj) == (
        "Progressing",
        f"Waiting for the operator to observe generation {generation}",
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("trainingjob-refused-spec", "ModelArts.0107: config.spec_id 999 is not a valid"),
        ("service-refused-create", "ModelArts.3547: Cluster pool-missing does not exist."),
        ("workspace-bad-credentials", "ModelArts.0211: AK/SK failed IAM verification"),
    ],
)
def test_terminal_sync_error_is_degraded_and_names_the_code(name: str, message: str) -> None:
    status, text = health(observed(name))
    assert status == "Degraded"
    assert text.startswith(message)


def test_a_message_that_starts_with_the_code_is_not_prefixed_twice() -> None:
    obj = set_condition(
        observed("trainingjob-refused-spec"), "Synced", message="ModelArts.0107: bad spec"
    )
    assert health(obj) == ("Degraded", "ModelArts.0107: bad spec")


@pytest.mark.parametrize(("name", "case"), reason_cases().items())
def test_every_reason_has_the_health_the_vocabulary_gives_it(
    name: str, case: tuple[dict[str, Any], str]
) -> None:
    """Transient Synced reasons are Progressing, terminal ones (a remote error code too)
    Degraded; failed and degraded Ready reasons Degraded, the others Progressing."""
    obj, expected = case
    assert health(obj)[0] == expected, name


@pytest.mark.parametrize("reason", ["WaitingFo", "XWaitingForModel", "Waitingfor", "WaitingFor"])
def test_only_the_waiting_for_prefix_is_transient(reason: str) -> None:
    obj = set_condition(observed("trainingjob-refused-spec"), "Synced", reason=reason)
    assert health(obj)[0] == "Degraded"


def test_a_failed_condition_is_degraded_with_its_message() -> None:
    obj = set_condition(
        fixture("trainingjob-running"),
        "Failed",
        status="True",
        reason="Failed",
        message="training exited with code 137",
    )
    assert health(obj) == ("Degraded", "training exited with code 137")


def test_a_failed_condition_names_the_code_of_a_refusal() -> None:
    obj = set_condition(
        observed("service-refused-create"),
        "Failed",
        status="True",
        reason="ModelArts.3547",
        message="Cluster pool-missing does not exist.",
    )
    assert health(obj) == ("Degraded", "ModelArts.3547: Cluster pool-missing does not exist.")


def test_a_stopped_service_without_status_yet_is_suspended() -> None:
    obj = fixture("service-stopped")
    del obj["status"]
    assert health(obj)[0] == "Suspended"


def test_a_failed_stopped_service_is_degraded_not_suspended() -> None:
    obj = fixture("service-failed")
    obj["spec"]["stopped"] = True
    assert health(obj) == ("Degraded", "deployment failed")


def test_a_service_being_started_again_is_progressing() -> None:
    obj = fixture("service-stopped")
    obj["spec"]["stopped"] = False
    obj["metadata"]["generation"] += 1
    assert health(obj)[0] == "Progressing"


@pytest.mark.parametrize("name", ["workspace-ready", "trainingjob-completed", "model-published"])
def test_a_kind_without_a_suspend_rule_is_not_suspended(name: str) -> None:
    obj = fixture(name)
    obj["spec"]["stopped"] = True
    assert health(obj)[0] == "Healthy"


def test_the_chart_ships_the_generated_copy() -> None:
    """One source: the chart's copy is argocd/health.lua, written by `make crds`."""
    rendered = dict(chart.generated(ROOT))
    assert rendered[CHART_HEALTH_LUA] == rendered[HEALTH_LUA] == HEALTH_LUA.read_text()
    assert CHART_HEALTH_LUA.read_text() == HEALTH_LUA.read_text(), "stale: run `make crds`"


def test_an_edited_source_makes_the_chart_copy_stale(tmp_path: Path) -> None:
    from modelarts_operator.crd.generate import stale_files, write_crds

    (tmp_path / "argocd").mkdir()
    (tmp_path / "argocd" / "health.lua").write_text(HEALTH_LUA.read_text())
    write_crds(tmp_path)
    copy_path = tmp_path / "helm/modelarts-operator/files/argocd/health.lua"
    assert copy_path not in stale_files(tmp_path)
    (tmp_path / "argocd" / "health.lua").write_text(HEALTH_LUA.read_text() + "-- edited\n")
    assert copy_path in stale_files(tmp_path)
    write_crds(tmp_path)
    assert copy_path.read_text() == HEALTH_LUA.read_text() + "-- edited\n"


def _derived(kind: str, spec: dict[str, Any], status: dict[str, Any], generation: int = 2) -> Any:
    """An object of a kind with no captured fixture yet (Notebook, a v2 Service), in the shape
    the operator's status writer gives every kind."""
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "namespace": "ns", "generation": generation},
        "spec": spec,
        "status": status,
    }


@pytest.mark.parametrize(
    ("spec", "reason"), [({"stopped": True}, "Stopped"), ({"stopped": False}, "LeaseExpired")]
)
def test_stopped_notebook_is_suspended(spec: dict[str, Any], reason: str) -> None:
    """Stopped on purpose, or by its lease (which the operator leaves alone)."""
    ready = {"type": "Ready", "status": "False", "reason": reason, "message": "its lease ended"}
    obj = _derived("Notebook", spec, {"observedGeneration": 2, "phase": "Stopped",
                                      "conditions": [ready]})  # fmt: skip
    assert health(obj) == ("Suspended", "its lease ended")


def test_notebook_being_started_again_is_not_suspended() -> None:
    obj = _derived(
        "Notebook", {"stopped": False}, {"observedGeneration": 2, "phase": "Stopped",
                                         "conditions": []}, generation=3,
    )  # fmt: skip
    assert health(obj)[0] == "Progressing"


def test_concerning_v2_service_is_degraded() -> None:
    ready = {"type": "Ready", "status": "False", "reason": "Degraded",
             "message": "2 of 3 instances abnormal"}  # fmt: skip
    status = {"observedGeneration": 2, "phase": "Concerning", "conditions": [ready]}
    obj = _derived("Service", {"v2": {"version": "1.0.0"}}, status)
    assert health(obj) == ("Degraded", "2 of 3 instances abnormal")


DECLARED = chart.declarations()


@pytest.mark.parametrize("kind", DECLARED, ids=[k.crd.kind for k in DECLARED])
def test_a_kind_is_suspended_by_its_declared_spec_field_only(kind: Any) -> None:
    """The script's suspend rules are the declarations' HealthRules (rendered by make crds)."""
    field = kind.health.suspended_when or "stopped"
    ready = {"type": "Ready", "status": "True", "reason": "Ready", "observedGeneration": 2}
    status = {"observedGeneration": 2, "phase": "Running", "conditions": [ready]}
    obj = _derived(kind.crd.kind, {field: True}, status)
    assert health(obj)[0] == ("Suspended" if kind.health.suspended_when else "Healthy")


@pytest.mark.parametrize("kind", DECLARED, ids=[k.crd.kind for k in DECLARED])
def test_a_kind_is_suspended_by_its_declared_phase_only_at_the_current_generation(
    kind: Any,
) -> None:
    field, phase = kind.health.suspended_when or "stopped", kind.health.suspended_phase
    ready = {"type": "Ready", "status": "False", "reason": "Stopped", "observedGeneration": 2}
    status = {"observedGeneration": 2, "phase": phase or "Stopped", "conditions": [ready]}
    assert health(_derived(kind.crd.kind, {field: False}, status))[0] == (
        "Suspended" if phase else "Progressing"
    )
    newer = _derived(kind.crd.kind, {field: False}, status, generation=3)
    assert health(newer)[0] == "Progressing"
