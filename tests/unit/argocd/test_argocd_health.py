"""Health as Argo CD itself computes it: argocd-health (tools/argocd) runs the application
controller's own evaluation (gitops-engine's GetResourceHealth with Argo CD's Lua overrides,
read from an argocd-cm by Argo CD's settings manager) over objects the operator really produced
(tests/fixtures/argocd/), with both argocd-cm forms the README documents."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .cases import (
    CASES,
    HEALTH_LUA,
    HEALTH_STATES,
    KINDS,
    Case,
    argocd_cm,
    argocd_tool,
    chart_health_data,
    fixture,
    observed,
    params,
    readme_health_data,
    reason_cases,
    set_condition,
)

# The chart's rendered keys, and each form argocd/README.md documents, as a user copies it.
FORMS = ("chart", "readme-per-kind", "readme-grouped")


@pytest.fixture(scope="module")
def helm() -> Path:
    from modelarts_testbed.controlplane import ControlPlaneError, tool_path

    try:
        return tool_path("helm")
    except ControlPlaneError as err:
        pytest.skip(f"helm binary not built ({err})")


def forms_data(helm: Path) -> dict[str, dict[str, str]]:
    readme = readme_health_data()
    return {
        "chart": chart_health_data(helm),
        "readme-per-kind": readme["per-kind"],
        "readme-grouped": readme["grouped"],
    }


def evaluate(
    cm_data: dict[str, str], objects: dict[str, dict[str, Any]], workdir: Path
) -> dict[str, dict[str, str]]:
    """Argo CD's verdict for each named object under this argocd-cm data."""
    binary = argocd_tool("argocd-health")
    workdir.mkdir(parents=True, exist_ok=True)
    cm = workdir / "argocd-cm.yaml"
    cm.write_text(yaml.safe_dump(argocd_cm(cm_data)))
    files = []
    for name, obj in objects.items():
        path = workdir / f"{name}.json"
        path.write_text(json.dumps(obj))
        files.append(str(path))
    proc = subprocess.run(
        [str(binary), str(cm), *files], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    return {Path(r["file"]).stem: r for r in results}


@pytest.fixture(scope="module")
def verdicts(
    helm: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, dict[str, str]]]:
    """form -> case name -> {status, message, error}, every fixture evaluated once per form."""
    objects = {case.name: case.load() for case in CASES}
    data = forms_data(helm)
    return {form: evaluate(data[form], objects, tmp_path_factory.mktemp(form)) for form in FORMS}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", params())
def test_argocd_gives_each_captured_object_its_health(
    verdicts: dict[str, dict[str, dict[str, str]]], form: str, case: Case
) -> None:
    verdict = verdicts[form][case.name]
    assert not verdict.get("error"), f"Argo CD's Lua failed: {verdict['error']}"
    assert verdict["status"] == case.health, f"{case.story}: {verdict}"
    assert case.message_has in verdict["message"], verdict


def test_every_health_state_is_seen_on_real_output() -> None:
    """Healthy, Progressing, Degraded and Suspended each come from a captured object that
    passes today (not only from cases waiting for the operator's fix)."""
    seen = {case.health for case in CASES}
    assert seen == set(HEALTH_STATES)


def test_the_chart_renders_the_readmes_per_kind_keys(helm: Path) -> None:
    """The chart's ConfigMap is the README's per-kind form."""
    keys = {f"resource.customizations.health.modelarts.huaweicloud.com_{k}" for k in KINDS}
    chart = chart_health_data(helm)
    readme = readme_health_data()
    assert set(chart) == set(readme["per-kind"]) == keys
    for key in keys:
        assert chart[key].strip() == readme["per-kind"][key].strip()


def test_the_readme_documents_both_forms() -> None:
    grouped = yaml.safe_load(readme_health_data()["grouped"]["resource.customizations"])
    assert set(grouped) == {"modelarts.huaweicloud.com/*"}
    assert (
        grouped["modelarts.huaweicloud.com/*"]["health.lua"].strip()
        == HEALTH_LUA.read_text().strip()
    )


@pytest.mark.parametrize("form", FORMS)
def test_terminal_sync_error_is_degraded_inside_argocds_sandbox(
    helm: Path, tmp_path: Path, form: str
) -> None:
    """The terminal Synced=False path reads the reason as text: with the string library
    Argo CD does not load for argocd-cm scripts, this used to end in a Lua error (Unknown)."""
    objects = {
        "refused-spec": observed("trainingjob-refused-spec"),
        "refused-create": observed("service-refused-create"),
        "bad-credentials": observed("workspace-bad-credentials"),
    }
    verdicts = evaluate(forms_data(helm)[form], objects, tmp_path)
    messages = {
        "refused-spec": "ModelArts.0107: config.spec_id 999",
        "refused-create": "ModelArts.3547: Cluster pool-missing does not exist.",
        "bad-credentials": "ModelArts.0211: ",
    }
    for name, start in messages.items():
        verdict = verdicts[name]
        assert not verdict.get("error"), verdict
        assert verdict["status"] == "Degraded", verdict
        assert verdict["message"].startswith(start), verdict


@pytest.mark.parametrize("form", FORMS)
def test_argocd_reads_every_reason_as_the_operator_does(
    helm: Path, tmp_path: Path, form: str
) -> None:
    """Argo CD's own evaluation agrees with the vocabulary (reasons.py) on every reason: a
    Synced=False the operator retries by itself (DeleteFailed, Transient...) is Progressing,
    where the script before the vocabulary said Degraded; a terminal one, a remote error code
    included, is Degraded; so are a failed or degraded Ready=False."""
    cases = reason_cases()
    verdicts = evaluate(forms_data(helm)[form], {n: obj for n, (obj, _) in cases.items()}, tmp_path)
    wrong = {
        name: verdicts[name]
        for name, (_, health) in cases.items()
        if verdicts[name].get("error") or verdicts[name]["status"] != health
    }
    assert not wrong, wrong


def test_an_object_whose_delete_fails_is_progressing_in_argocd(helm: Path, tmp_path: Path) -> None:
    """What the operator writes while a remote delete fails: Synced=False, DeleteFailed (the
    finalizer stays, the delete is retried). Being deleted, the object is Progressing before
    the script runs (Argo CD's "Pending deletion"); the script alone says Progressing too."""
    obj = set_condition(
        fixture("workspace-ready"),
        "Synced",
        status="False",
        reason="DeleteFailed",
        message="ModelArts.0108: Forbidden.",
    )
    obj["status"]["phase"] = "Deleting"
    deleting = json.loads(json.dumps(obj))
    deleting["metadata"]["deletionTimestamp"] = "2026-12-02T06:00:00Z"
    deleting["metadata"]["finalizers"] = ["kopf.zalando.org/KopfFinalizerMarker"]
    verdicts = evaluate(chart_health_data(helm), {"script": obj, "deleting": deleting}, tmp_path)
    assert verdicts["deleting"]["status"] == "Progressing", verdicts
    assert verdicts["deleting"]["message"] == "Pending deletion"
    assert verdicts["script"]["status"] != "Degraded", verdicts


def test_a_script_using_the_string_library_fails_in_argocd(tmp_path: Path) -> None:
    """The harness sees the sandbox: the same check written with string.sub is Unknown."""
    script = HEALTH_LUA.read_text().replace(
        "return reason ~= waitingPrefix and hasPrefix(reason, waitingPrefix)",
        "return string.sub(reason, 1, 10) == waitingPrefix",
    )
    assert "string.sub" in script
    data = {"resource.customizations.health.modelarts.huaweicloud.com_TrainingJob": script}
    verdict = evaluate(data, {"job": observed("trainingjob-refused-spec")}, tmp_path)["job"]
    assert verdict["status"] == "Unknown"
    assert "sub" in verdict["error"]


def test_argocd_health_answers_as_argocds_own_cli(helm: Path, tmp_path: Path) -> None:
    """argocd-health is judged by `argocd admin settings resource-overrides health` (Argo CD's
    CLI for exactly this question): the same status and message for every captured object."""
    argocd = argocd_tool("argocd")
    data = chart_health_data(helm)
    verdicts = evaluate(data, {c.name: c.load() for c in CASES}, tmp_path)
    cm = tmp_path / "argocd-cm.yaml"
    for case in CASES:
        proc = subprocess.run(
            [str(argocd), "admin", "settings", "resource-overrides", "health",
             str(tmp_path / f"{case.name}.json"), "--argocd-cm-path", str(cm)],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
        verdict = verdicts[case.name]
        assert (lines["STATUS"], lines.get("MESSAGE", "")) == (
            verdict["status"],
            verdict["message"],
        ), case.name
