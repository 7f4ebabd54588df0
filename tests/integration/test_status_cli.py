"""`kubectl modelarts status` and `events` against a real API server and the operator: what a
person sees of a namespace with one refused and one Ready object."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import OperatorProcess, apply, delete_obj, namespace, ready, synced, wait_for
from .test_lifecycle import training_job
from .test_status import _not_synced, _workspace

pytestmark = pytest.mark.cluster

PLUGIN = Path(sys.executable).parent / "kubectl-modelarts"


def plugin(operator: OperatorProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PLUGIN), *argv, "--kubeconfig", str(operator.cp.kubeconfig)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_status_shows_the_refused_object_first_and_events_say_why(
    operator: OperatorProcess,
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-status-cli")
    apply(cp, _workspace("fine", "it-status-cli"), ns)
    apply(cp, training_job("refused", "it-status-cli", config={"specId": 999}), ns)
    wait_for(cp, "workspace", "fine", ns, lambda o: ready(o) and synced(o), op=operator)
    wait_for(cp, "trainingjob", "refused", ns, _not_synced, op=operator)
    try:
        shown = plugin(operator, "status", "-n", ns)
        assert shown.returncode == 1, shown.stderr  # not everything is Ready
        lines = shown.stdout.splitlines()
        assert lines[1].startswith("trainingjob/refused"), shown.stdout
        assert "False ModelArts.0107" in lines[1]
        assert lines[2].startswith("workspace/fine"), shown.stdout
        assert lines[-1] == "2 objects: 1 Failed, 1 Ready"
        events = plugin(operator, "events", "trainingjob/refused", "-n", ns)
        assert events.returncode == 0, events.stderr
        assert "Warning" in events.stdout
        assert "ModelArts.0107" in events.stdout
    finally:
        delete_obj(cp, "trainingjob", "refused", ns)
        delete_obj(cp, "workspace", "fine", ns)
