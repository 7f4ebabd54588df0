"""Helpers for the chart tests: run `helm template` and pick objects out of its output."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "helm" / "modelarts-operator"
KUBE_VERSION = "1.34.4"
NAMESPACE = "modelarts-system"
RELEASE = "modelarts-operator"


def run_template(
    helm: Path, tmp_path: Path, values: dict[str, Any] | None, *extra: str, release: str = RELEASE
) -> subprocess.CompletedProcess[str]:
    values_file = tmp_path / f"{release}-values.yaml"
    values_file.write_text(yaml.safe_dump(values or {}))
    return subprocess.run(
        [
            str(helm), "template", release, str(CHART),
            "--namespace", NAMESPACE,
            "--kube-version", KUBE_VERSION,
            "--values", str(values_file),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )  # fmt: skip


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (operator,) = pod["containers"]
    assert isinstance(operator, dict)
    return operator


def env_of(objects: list[dict[str, Any]]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container(objects)["env"]}
