"""The batched poller against a real API server: its status writes never undo a newer write.

The poller works from the registry (the last watch event it saw). A reconcile may have written
status since, and a merge patch replaces whole lists, so an unconditional patch of
``conditions`` from the older view would drop the reconcile's Synced condition: seen in CI as
a TrainingJob left Synced for an old generation, and one left with no Synced condition at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.kube import KubeClient
from modelarts_operator.reconcile.poller import Poller
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.reconcile.runtime import Runtime
from modelarts_operator.resources.training_job import DECLARATION
from modelarts_operator.settings import OperatorSettings
from modelarts_testbed.controlplane import ControlPlane

from .conftest import PLURAL_PATH, condition, kube_http, namespace
from .test_lifecycle import training_job

pytestmark = pytest.mark.cluster


def _status_path(ns: str, name: str) -> str:
    return PLURAL_PATH.format(ns=ns, plural="trainingjobs") + f"/{name}/status"


async def test_poller_write_from_a_stale_view_keeps_the_reconciles_conditions(
    operator_stopped: ControlPlane,
) -> None:
    ns = namespace(operator_stopped, "it-poller-stale")
    http = kube_http(operator_stopped)
    created = http.post(
        PLURAL_PATH.format(ns=ns, plural="trainingjobs"), json=training_job("job", "b")
    )
    created.raise_for_status()
    # Creating -> Queued: a move the list item alone shows (one into Running reads the v1
    # version detail first, which this test has no API for).
    creating = cond.set_condition(None, cond.READY, False, "Creating", "JOBSTAT_INIT", 1)
    stale = http.patch(
        _status_path(ns, "job"),
        json={"status": {"jobId": 41, "phase": "Creating", "conditions": creating}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).json()
    # What the registry holds; then a reconcile writes Synced (the newer write).
    synced = cond.set_condition(creating, cond.SYNCED, True, "Synced", "", 1)
    http.patch(
        _status_path(ns, "job"),
        json={"status": {"conditions": synced, "observedGeneration": 1}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()

    kube = KubeClient.from_environment(str(operator_stopped.kubeconfig))
    try:
        rt = Runtime(OperatorSettings(), kube, None, [DECLARATION])  # type: ignore[arg-type]
        poller = Poller(rt, rt.reconcilers["trainingjobs"])
        entry = Entry("trainingjobs", ns, "job", stale)
        queued = _Summary(status=7)
        form = DECLARATION.form_of(entry)
        assert form is not None
        adapter = form.adapter
        obs = adapter.observe_summary(entry, queued)
        await poller._apply(entry, poller._from_summary(adapter, entry, obs, queued, None))
    finally:
        await kube.aclose()

    path = PLURAL_PATH.format(ns=ns, plural="trainingjobs") + "/job"
    current: dict[str, Any] = http.get(path).json()
    http.delete(path)  # before the shared operator comes back
    assert current["status"]["phase"] == "Queued"
    assert condition(current, "Ready")["message"] == "JOBSTAT_WAITING"
    assert condition(current, "Synced")["status"] == "True", current["status"]["conditions"]
    assert poller.patches == 1


class _Summary:
    """The part of a training job list summary the adapter reads."""

    def __init__(self, status: int) -> None:
        self.status = status
