"""The Argo CD examples: the pipeline kustomization really puts its seven kinds into waves
0..4, each after what it refers to (built by the pinned kubectl), and the Applications point
at paths that exist."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "argocd"
WAVES = {
    "Network": "0",
    "Workspace": "0",
    "ResourcePool": "1",  # networkRef
    "Algorithm": "1",  # workspaceRef
    "TrainingJob": "2",  # algorithmRef, poolRef
    "Model": "3",  # trainingJobRef
    "Service": "4",  # modelRef, poolRef
}


@pytest.fixture(scope="module")
def kubectl() -> Path:
    from modelarts_testbed.controlplane import ControlPlaneError, tool_path

    try:
        return tool_path("kubectl")
    except ControlPlaneError as err:
        pytest.skip(f"kubectl binary not built ({err})")


def build(kubectl: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [str(kubectl), "kustomize", "--load-restrictor", "LoadRestrictionsNone",
         str(EXAMPLES / "pipeline")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def test_pipeline_puts_each_kind_in_its_wave(kubectl: Path) -> None:
    objects = build(kubectl)
    waves = {
        o["kind"]: o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] for o in objects
    }
    assert waves == WAVES
    assert all(o["apiVersion"].startswith("modelarts.huaweicloud.com/") for o in objects)


def test_pipeline_keeps_the_manifests_own_annotations(kubectl: Path) -> None:
    """The wave patch merges: whatever annotations the examples carry survive."""
    built = {o["kind"]: o for o in build(kubectl)}
    for path in sorted((ROOT / "examples").glob("0*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            own = (doc.get("metadata") or {}).get("annotations") or {}
            annotations = built[doc["kind"]]["metadata"]["annotations"]
            assert own.items() <= annotations.items(), path.name
            assert doc["spec"] == built[doc["kind"]]["spec"], path.name


@pytest.mark.parametrize("name", ["operator-application.yaml", "pipeline-application.yaml"])
def test_applications_point_at_existing_paths(name: str) -> None:
    app = yaml.safe_load((EXAMPLES / name).read_text())
    assert app["apiVersion"] == "argoproj.io/v1alpha1"
    assert app["kind"] == "Application"
    assert (ROOT / app["spec"]["source"]["path"]).is_dir()
    assert app["spec"]["destination"]["namespace"]


def test_operator_application_values_render_with_the_chart(tmp_path: Path) -> None:
    """The example's Helm values pass the chart's schema and checks (helm template)."""
    from modelarts_testbed.controlplane import ControlPlaneError, tool_path

    try:
        helm = tool_path("helm")
    except ControlPlaneError as err:
        pytest.skip(f"helm binary not built ({err})")
    app = yaml.safe_load((EXAMPLES / "operator-application.yaml").read_text())
    source = app["spec"]["source"]
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(source["helm"]["valuesObject"]))
    proc = subprocess.run(
        [str(helm), "template", source["helm"]["releaseName"], str(ROOT / source["path"]),
         "--namespace", app["spec"]["destination"]["namespace"], "--kube-version", "1.34.4",
         "--values", str(values)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    objects = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Role", "PodDisruptionBudget"} <= kinds  # Role: the leader Lease
