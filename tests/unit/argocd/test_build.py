"""The Argo CD build inputs agree: the version pinned in tools/argocd/versions.env is the one
the wrapper module requires, and its replace block is argo-cd's own (replace directives apply
only in the main module, so a missing one builds against the wrong Kubernetes libraries)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .cases import ROOT, argocd_versions

GO_MOD = ROOT / "tools" / "argocd" / "go.mod"


def _replace_block(go_mod: str) -> set[str]:
    block = go_mod.split("\nreplace (\n", 1)[1].split("\n)", 1)[0]
    return {line.strip() for line in block.splitlines() if "=>" in line}


def test_go_mod_requires_the_pinned_version() -> None:
    version = argocd_versions()["ARGOCD_VERSION"]
    assert re.search(
        rf"^\s*github.com/argoproj/argo-cd/v3 {re.escape(version)}$", GO_MOD.read_text(), re.M
    )


def test_replace_block_is_argo_cds_own() -> None:
    version = argocd_versions()["ARGOCD_VERSION"]
    try:
        proc = subprocess.run(
            ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"no go toolchain ({err})")
    upstream = Path(proc.stdout.strip()) / f"github.com/argoproj/argo-cd/v3@{version}/go.mod"
    if not upstream.is_file():
        pytest.skip(f"argo-cd {version} is not in the module cache (make tools fetches it)")
    assert _replace_block(GO_MOD.read_text()) == _replace_block(upstream.read_text())
