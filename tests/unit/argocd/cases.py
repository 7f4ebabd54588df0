"""The Argo CD health cases: objects the operator really produced (captured by
tests/integration/test_argocd_fixtures.py into tests/fixtures/argocd/) and the health a user
must see for each. The Lua tests, the Argo CD-evaluated tests and the capture read this table.
"""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator import reasons, resources

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "argocd"
HEALTH_LUA = ROOT / "argocd" / "health.lua"
CHART = ROOT / "helm" / "modelarts-operator"
GROUP = "modelarts.huaweicloud.com"
KINDS = tuple(declaration.crd.kind for declaration in resources.KINDS)


@dataclass(frozen=True)
class Case:
    """One captured object and the health Argo CD must give it."""

    name: str  # fixture file stem
    kind: str
    health: str  # Healthy, Progressing, Degraded or Suspended
    story: str  # what the user did to get there
    message_has: str = ""  # a part of the health message the user relies on

    @property
    def path(self) -> Path:
        return FIXTURES / f"{self.name}.json"

    def load(self) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return obj


CASES = [
    Case("workspace-ready", "Workspace", "Healthy", "a workspace was created"),
    Case("trainingjob-completed", "TrainingJob", "Healthy", "a training job completed"),
    Case("model-published", "Model", "Healthy", "a model was imported from the finished job"),
    Case("service-running", "Service", "Healthy", "a service was deployed"),
    Case("trainingjob-running", "TrainingJob", "Progressing", "a training job is running"),
    Case(
        "service-waiting-for-model",
        "Service",
        "Progressing",
        "a service refers to a Model that does not exist (yet)",
    ),
    Case(
        "trainingjob-refused-spec",
        "TrainingJob",
        "Degraded",
        "ModelArts refused the spec (specId 999: ModelArts.0107)",
        message_has="spec_id 999",
    ),
    Case(
        "service-refused-create",
        "Service",
        "Degraded",
        "ModelArts refused the create (a dedicated pool that does not exist: ModelArts.3547)",
        message_has="ModelArts.3547",
    ),
    Case(
        "workspace-bad-credentials",
        "Workspace",
        "Degraded",
        "the namespace's credentials Secret has a wrong secret key",
        message_has="ModelArts.02",
    ),
    Case(
        "workspace-retrying",
        "Workspace",
        "Progressing",
        "ModelArts answers 503 to every create: the operator keeps retrying",
    ),
    Case("trainingjob-failed", "TrainingJob", "Degraded", "the training job failed remotely"),
    Case("service-failed", "Service", "Degraded", "the service failed remotely"),
    Case("service-stopped", "Service", "Suspended", "a commit set spec.stopped: true"),
    Case("network-ready", "Network", "Healthy", "a network was created (Active)"),
    Case("resourcepool-ready", "ResourcePool", "Healthy", "a pool on it is Running"),
    Case(
        "resourcepool-waiting-for-network",
        "ResourcePool",
        "Progressing",
        "a pool refers to a Network that does not exist (yet)",
    ),
    Case("algorithm-ready", "Algorithm", "Healthy", "an algorithm was created in the workspace"),
]

HEALTH_STATES = ("Healthy", "Progressing", "Degraded", "Suspended")


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a captured object."""
    return copy.deepcopy(next(c for c in CASES if c.name == name).load())


def observed(name: str) -> dict[str, Any]:
    """A captured refused object as a terminal Synced=False alone: observedGeneration set to
    the generation and no Failed condition, so the script decides on Synced's reason text
    (the same object whether or not the operator that produced the fixture writes them)."""
    obj = fixture(name)
    obj["status"]["observedGeneration"] = obj["metadata"]["generation"]
    obj["status"]["conditions"] = [c for c in obj["status"]["conditions"] if c["type"] != "Failed"]
    return obj


def set_condition(obj: dict[str, Any], ctype: str, **fields: Any) -> dict[str, Any]:
    for cond in obj["status"]["conditions"]:
        if cond["type"] == ctype:
            cond.update(fields)
            return obj
    obj["status"]["conditions"].append({"type": ctype, **fields})
    return obj


# Reasons a refused request carries that the vocabulary does not name: remote error codes.
ERROR_CODES = ("ModelArts.0107", "APIG.1002", "common.00000500", "403")
_SYNCED_HEALTH = {reasons.Meaning.TRANSIENT: "Progressing", reasons.Meaning.TERMINAL: "Degraded"}
_READY_HEALTH = {
    reasons.Meaning.FAILED: "Degraded",
    reasons.Meaning.DEGRADED: "Degraded",
    reasons.Meaning.NOT_READY: "Progressing",
}


def reason_cases() -> dict[str, tuple[dict[str, Any], str]]:
    """Every reason of the vocabulary (reasons.py) on a captured object, alone deciding its
    health, and the health it must have: "synced-<reason>" (a refused TrainingJob, Synced=False
    with that reason, no Failed condition) and "ready-<reason>" (a running TrainingJob,
    Ready=False with that reason)."""
    synced = [(r.name, _SYNCED_HEALTH[r.meaning]) for r in reasons.SYNCED]
    synced += [(code, "Degraded") for code in ERROR_CODES]
    synced += [(f"{reasons.WAITING_FOR}{kind}", "Progressing") for kind in KINDS]
    cases = {
        f"synced-{name}": (
            set_condition(observed("trainingjob-refused-spec"), "Synced", reason=name),
            health,
        )
        for name, health in synced
    }
    for reason in reasons.READY:
        obj = set_condition(fixture("trainingjob-running"), "Ready", reason=reason.name)
        cases[f"ready-{reason.name}"] = (obj, _READY_HEALTH[reason.meaning])
    return cases


def params(cases: list[Case] | None = None) -> list[Any]:
    """The cases as pytest parameters, named after their fixtures."""
    return [pytest.param(c, id=c.name) for c in (CASES if cases is None else cases)]


def argocd_versions() -> dict[str, str]:
    """tools/argocd/versions.env (the build reads the same file)."""
    pairs = (
        line.split("=", 1)
        for line in (ROOT / "tools" / "argocd" / "versions.env").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def argocd_tool(name: str) -> Path:
    """A binary hack/build-argocd.sh built (argocd, argocd-health, kustomize); skips the test
    when it is not built (``make tools`` builds it, so ``make test`` never skips)."""
    from modelarts_testbed.controlplane import tools_dir

    path = tools_dir() / f"argocd-{argocd_versions()['ARGOCD_VERSION']}" / name
    if not path.is_file():
        pytest.skip(f"{name} is not built at {path}: run `make tools`")
    return path


def chart_health_data(helm: Path) -> dict[str, str]:
    """The argocd-cm keys the chart renders (argocdHealthChecks.enabled=true): the per-kind
    form the README tells users to merge into argocd-cm."""
    proc = subprocess.run(
        [str(helm), "template", "modelarts-operator", str(CHART), "--kube-version", "1.34.4",
         "--set", "argocdHealthChecks.enabled=true",
         "--show-only", "templates/argocd-health.yaml"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data: dict[str, str] = yaml.safe_load(proc.stdout)["data"]
    return data


PLACEHOLDER = "<contents of argocd/health.lua>"


def readme_health_data() -> dict[str, dict[str, str]]:
    """The argocd-cm data of each form argocd/README.md documents ("per-kind", "grouped"),
    taken from its YAML blocks with the placeholder replaced by the script, indented where
    the placeholder stands: what a user following the README gets."""
    readme = (ROOT / "argocd" / "README.md").read_text(encoding="utf-8")
    script = HEALTH_LUA.read_text(encoding="utf-8").splitlines()
    forms: dict[str, dict[str, str]] = {}
    for block in readme.split("```yaml\n")[1:]:
        text = block.split("```", 1)[0]
        if PLACEHOLDER not in text:
            continue
        lines = []
        for line in text.splitlines():
            indent = line[: len(line) - len(line.lstrip())]
            if line.strip() == PLACEHOLDER:
                lines.extend(indent + s if s else "" for s in script)
            else:
                lines.append(line)
        data: dict[str, str] = yaml.safe_load("\n".join(lines))["data"]
        form = "grouped" if "resource.customizations" in data else "per-kind"
        forms[form] = data
    return forms


def argocd_cm(data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": "argocd"},
        "data": data,
    }
