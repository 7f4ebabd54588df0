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


def test_the_build_base_is_pinned_by_digest_and_the_runtime_starts_from_nothing() -> None:
    args = dict(
        rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG" and "=" in rest
    )
    assert re.fullmatch(r"debian:bookworm-\d{8}@sha256:[0-9a-f]{64}", args["DEBIAN_IMAGE"])
    froms = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert froms == ["${DEBIAN_IMAGE} AS rootfs", "${DEBIAN_IMAGE} AS build", "scratch"]


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


def test_runtime_stage_is_the_locked_root_filesystem_and_the_virtualenv_only() -> None:
    stage = final_stage()
    assert [k for k, _ in stage if k == "RUN"] == [], "nothing runs in the runtime stage"
    copies = [rest for keyword, rest in stage if keyword == "COPY"]
    assert copies == [
        "--from=build /rootfs /",
        "--from=build /opt/modelarts-operator /opt/modelarts-operator",
    ]


def test_everything_shipped_is_checked_by_hash() -> None:
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert "sha256sum --check --strict" in runs  # every .deb against tools/image/debian.lock
    assert runs.count("--require-hashes") == 2  # the build tools, then uv.lock's packages
    assert "--no-build-isolation" in runs  # the wheel's build backend is the pinned hatchling
    assert "uv export --frozen" in runs


def test_the_debian_lock_is_python_and_its_libraries_without_shell_or_package_manager() -> None:
    entries = [
        line.split()
        for line in (ROOT / "tools" / "image" / "debian.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all(len(e) == 4 and re.fullmatch(r"[0-9a-f]{64}", e[3]) for e in entries), entries
    names = {e[0] for e in entries}
    assert {"python3.11-minimal", "libpython3.11-stdlib", "libc6", "libssl3"} <= names
    assert not names & {"bash", "dash", "coreutils", "dpkg", "apt", "perl-base", "debconf"}
    versions = {e[0]: e[1] for e in entries}
    assert versions["python3.11-minimal"] == versions["libpython3.11-stdlib"]


def test_every_build_tool_is_pinned_by_hash() -> None:
    text = (ROOT / "tools" / "image" / "build-tools.txt").read_text()
    required = {
        line.split("==")[0] for line in text.splitlines() if "==" in line and line[0] != "#"
    }
    hashed = set(
        re.findall(r"^([a-z0-9-]+)==\S+ \\\n(?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+", text, re.M)
    )
    assert {"uv", "hatchling"} <= required
    assert hashed == required


def test_the_operator_uses_nothing_of_kubernetes_the_image_leaves_out() -> None:
    """The image drops kubernetes/aio and keeps only bytecode of the generated client API and
    models: the operator must import no aio module and call none of those classes."""
    import ast

    for path in (ROOT / "operator").rglob("*.py"):
        text = path.read_text()
        assert "kubernetes.aio" not in text, path
        assert "kubernetes import aio" not in text, path
        tree = ast.parse(text)
        imported = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "kubernetes"
            for alias in node.names
        }
        if "client" in imported:
            used = {
                node.attr
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "client"
            }
            assert used <= {"Configuration"}, (path, used)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, modelarts_operator.runner, modelarts_operator.logs_cli;"
         "from modelarts_operator.reconcile import kube; import kubernetes.config;"
         "print(sorted(m for m in sys.modules if m.startswith('kubernetes.aio')))"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert proc.stdout.strip() == "[]"


def test_dockerignore_keeps_the_context_to_the_sources() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    included = {line[1:] for line in lines if line.startswith("!")}
    assert included == {
        "pyproject.toml", "uv.lock", "README.md", "LICENSE", "operator/", "tools/image/",
        "testbed/pyproject.toml",  # the workspace's manifest; the test bed's code stays out
    }  # fmt: skip
    copied = " ".join(
        rest for keyword, rest in instructions() if keyword == "COPY" and "--from" not in rest
    )
    for name in ("pyproject.toml", "uv.lock", "README.md", "LICENSE", "operator/", "tools/image/"):
        assert name in copied
