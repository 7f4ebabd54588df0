"""The Dockerfile: hadolint-clean (warnings fail), and consistent with the chart that runs it
(user, ports, entry point). No Docker engine is needed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.unit.chart._helm import CHART, ROOT

DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        pytest.skip("hadolint is not installed (it comes with the dev extra: make venv)")
    return found


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_hadolint_reports_nothing_at_warning_level_or_above() -> None:
    proc = subprocess.run(
        [hadolint(), "--failure-threshold", "warning", "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    findings = json.loads(proc.stdout or "[]")
    serious = [f for f in findings if f["level"] in ("error", "warning")]
    assert serious == [], serious
    assert proc.returncode == 0, proc.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    """Guards the test above against a linter that silently checks nothing."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install kopf\nUSER root\n")
    proc = subprocess.run(
        [hadolint(), "--failure-threshold", "warning", "--format", "json", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    codes = {f["code"] for f in json.loads(proc.stdout)}
    assert {"DL3006", "DL3013"} <= codes
    assert proc.returncode != 0


def test_base_image_is_a_pinned_python_311_slim_tag() -> None:
    args = dict(
        rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG" and "=" in rest
    )
    image = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?", image), image
    froms = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert len(froms) == 2, "multi-stage: build + runtime"
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms)


def test_runtime_stage_matches_the_chart() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    stage = dict(final_stage())
    user = stage["USER"].split(":")
    assert int(user[0]) == values["podSecurityContext"]["runAsUser"]
    assert int(user[1]) == values["podSecurityContext"]["runAsGroup"]
    exposed = {int(port) for port in stage["EXPOSE"].split()}
    assert exposed == {values["ports"]["health"], values["ports"]["metrics"]}
    assert json.loads(stage["ENTRYPOINT"]) == ["modelarts-operator"]
    assert json.loads(stage["CMD"]) == ["run"]


def test_runtime_stage_installs_the_wheel_and_no_build_tools() -> None:
    runs = " ".join(rest for keyword, rest in final_stage() if keyword == "RUN")
    assert "--require-hashes" in runs
    assert "*.whl" in runs
    assert "uv" not in runs.split()
    copies = [rest for keyword, rest in final_stage() if keyword == "COPY"]
    # Only the built artefacts: the locked requirements (a layer that outlives source
    # changes), then the wheel.
    assert copies == ["--from=build /dist/deps/ /tmp/deps/", "--from=build /dist/wheel/ /tmp/dist/"]


def test_dockerignore_keeps_the_context_to_the_sources() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    included = {line[1:] for line in lines if line.startswith("!")}
    assert included == {"pyproject.toml", "uv.lock", "README.md", "LICENSE", "operator/"}
    copied = " ".join(
        rest for keyword, rest in instructions() if keyword == "COPY" and "--from" not in rest
    )
    for name in ("pyproject.toml", "uv.lock", "README.md", "LICENSE", "operator/"):
        assert name in copied
