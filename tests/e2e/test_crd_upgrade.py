"""`helm upgrade` upgrades the CRDs. A chart's crds/ directory is installed once and never
touched again by Helm, so on an upgraded cluster the next release's new fields would be refused
or pruned; the chart therefore renders its CRDs as templates (kept on uninstall).

Proved against a real API server: the chart as users have it installed (the last commit whose
chart still had crds/) is upgraded to this one with a field added to a CRD, and an object using
that field is accepted and keeps it.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_testbed.controlplane import REPO_ROOT, ControlPlane

from .conftest import CHART, EXAMPLES

pytestmark = pytest.mark.cluster

RELEASE, NAMESPACE = "crd-upgrade", "modelarts-system"
CRD_TEMPLATE = Path("templates/crds/trainingjobs.modelarts.huaweicloud.com.yaml")
OLD_LAYOUT = "helm/modelarts-operator/crds"


def git(*args: str) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, check=True, timeout=60
    ).stdout


def previous_chart(dest: Path) -> Path:
    """The chart at the newest commit that still shipped its CRDs in crds/ (what clusters
    installed before this change run)."""
    history = git("log", "--format=%H", "--", OLD_LAYOUT).decode().split()
    if not history:
        pytest.skip("no commit with the chart's old crds/ layout (shallow clone?)")
    newest = history[0]
    present = subprocess.run(
        ["git", "cat-file", "-e", f"{newest}:{OLD_LAYOUT}"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    revision = newest if present.returncode == 0 else f"{newest}^"
    archive = git("archive", "--format=tar", revision, "helm/modelarts-operator")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "helm" / "modelarts-operator"


def chart_with_field(dest: Path, field: str) -> Path:
    """A copy of this chart whose TrainingJob CRD has one more spec field (a string)."""
    subprocess.run(["cp", "-r", str(CHART), str(dest)], check=True)
    path = dest / CRD_TEMPLATE
    lines = path.read_text().splitlines()
    body = yaml.safe_load("\n".join(x for x in lines if not x.startswith("{{")))
    spec = body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"][field] = {"type": "string", "description": "only in the newer chart"}
    head = [x for x in lines if x.startswith("#")]
    path.write_text(
        "\n".join(head)
        + "\n{{- if .Values.crds.install }}\n---\n"
        + yaml.safe_dump(body, sort_keys=False)
        + "{{- end }}\n"
    )
    return dest


def job_with(field: str) -> str:
    job: dict[str, Any] = yaml.safe_load((EXAMPLES / "02-trainingjob.yaml").read_text())
    job["metadata"] = {"name": f"uses-{field.lower()}", "namespace": "default"}
    job["spec"][field] = "set"
    return json.dumps(job)


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    """A control plane of its own: the CRDs are cluster-wide, other e2e releases own theirs."""
    with ControlPlane.start(tmp_path / "cp") as cp:
        cp.kubectl("create", "namespace", NAMESPACE)
        yield cp


def test_helm_upgrade_brings_new_crd_fields(plane: ControlPlane, tmp_path: Path) -> None:
    old = previous_chart(tmp_path / "old")
    assert (old / "crds").is_dir()
    plane.helm("install", RELEASE, str(old), "-n", NAMESPACE)

    # On the old CRD the new field does not exist: refused by strict validation.
    refused = plane.kubectl("apply", "-f", "-", input=job_with("newField"), check=False)
    assert refused.returncode != 0
    assert "newField" in refused.stderr

    new = chart_with_field(tmp_path / "new", "newField")
    # The CRDs Helm installed from crds/ belong to no release: Helm says so, and the one
    # migration upgrade takes them over (values.yaml and the README give the flag).
    plain = plane.helm("upgrade", RELEASE, str(new), "-n", NAMESPACE, check=False)
    assert plain.returncode != 0
    assert "invalid ownership metadata" in plain.stderr
    plane.helm("upgrade", RELEASE, str(new), "-n", NAMESPACE, "--take-ownership")
    crd = json.loads(
        plane.kubectl("get", "crd", "trainingjobs.modelarts.huaweicloud.com", "-o", "json").stdout
    )
    assert crd["metadata"]["annotations"]["meta.helm.sh/release-name"] == RELEASE
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"

    plane.kubectl("apply", "-f", "-", input=job_with("newField"))
    stored = json.loads(
        plane.kubectl("get", "trainingjob", "uses-newfield", "-n", "default", "-o", "json").stdout
    )
    assert stored["spec"]["newField"] == "set"

    # From then on a plain upgrade brings the next field.
    newer = chart_with_field(tmp_path / "newer", "newerField")
    plane.helm("upgrade", RELEASE, str(newer), "-n", NAMESPACE)
    plane.kubectl("apply", "-f", "-", input=job_with("newerField"))
    stored = json.loads(
        plane.kubectl("get", "trainingjob", "uses-newerfield", "-n", "default", "-o", "json").stdout
    )
    assert stored["spec"]["newerField"] == "set"

    # Uninstall keeps the CRDs, and so the users' objects.
    result = plane.helm("uninstall", RELEASE, "-n", NAMESPACE)
    assert "kept due to the resource policy" in result.stdout + result.stderr
    plane.kubectl("get", "trainingjob", "uses-newfield", "-n", "default")
