"""Fixtures for the chart tests: the pinned helm binary and renderers built on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.chart._helm import run_template

Render = Callable[..., list[dict[str, Any]]]


def built_tool(name: str) -> Path:
    """A pinned tool binary (``make tools`` builds them); the test is skipped without it."""
    from modelarts_testbed.controlplane import ControlPlaneError, tool_path

    try:
        return tool_path(name)
    except ControlPlaneError as err:
        pytest.skip(f"{name} binary not built ({err})")


@pytest.fixture(scope="session")
def helm() -> Path:
    return built_tool("helm")


@pytest.fixture(scope="session")
def promtool() -> Path:
    return built_tool("promtool")


@pytest.fixture
def render(helm: Path, tmp_path: Path) -> Render:
    """Render the chart with ``values``; returns the objects (hooks included)."""

    def _render(values: dict[str, Any] | None = None, *extra: str) -> list[dict[str, Any]]:
        proc = run_template(helm, tmp_path, values, *extra)
        assert proc.returncode == 0, proc.stderr
        return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]

    return _render


@pytest.fixture
def render_error(helm: Path, tmp_path: Path) -> Callable[..., str]:
    """Render expecting failure; returns helm's error output."""

    def _render(values: dict[str, Any]) -> str:
        proc = run_template(helm, tmp_path, values)
        assert proc.returncode != 0, f"expected the chart to refuse {values}"
        return proc.stderr

    return _render
