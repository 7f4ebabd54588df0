"""Tool lookup for the local control plane: clear errors instead of a stack trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelarts_testbed.controlplane import ControlPlane, ControlPlaneError, tool_path


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODELARTS_TOOLS_DIR", str(tmp_path / "empty"))
    with pytest.raises(ControlPlaneError, match="make tools"):
        ControlPlane.start(tmp_path / "state")


def test_environment_overrides_a_tool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "kubectl"
    monkeypatch.setenv("MODELARTS_KUBECTL", str(fake))
    assert tool_path("kubectl") == fake


def test_tools_are_keyed_by_pinned_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODELARTS_TOOLS_DIR", str(tmp_path))
    binary = tmp_path / "helm-v9.9.9" / "helm"
    binary.parent.mkdir()
    binary.write_text("")
    monkeypatch.setattr(
        "modelarts_testbed.controlplane.pinned_versions", lambda: {"HELM_VERSION": "v9.9.9"}
    )
    assert tool_path("helm") == binary
