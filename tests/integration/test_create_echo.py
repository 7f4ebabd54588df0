"""The create path against a real API server and the emulator, driven without kopf.

After a create the object's watch stream still carries the echo of the create-intent write (the
intent, no ID). Under load kopf hands that stale body to the reconcile after the handler's own
final patch; a full run would look the name up and rewrite status for nothing. These tests pin
what the reconcile does with it: skip it once, then fill a later ID-less body from memory, and
never create a second remote job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient
from modelarts_operator.controlplane import ControlPlane
from modelarts_operator.reconcile.controller import Outcome, Reconciler
from modelarts_operator.reconcile.kube import KubeClient
from modelarts_operator.reconcile.policies import CREATE_PENDING, Allowance
from modelarts_operator.resources.training_job import DECLARATION
from modelarts_operator.settings import OperatorSettings

from .conftest import PLURAL_PATH, kube_http, namespace, remote_named
from .test_lifecycle import training_job

pytestmark = pytest.mark.cluster


class _Clients:
    """The ClientFactory surface a reconcile uses: one client, default settings, no
    adoption allowance."""

    def __init__(self, client: ModelArtsClient) -> None:
        self.client = client
        self.settings = OperatorSettings()

    async def for_namespace(self, namespace: str) -> ModelArtsClient:
        return self.client

    def allowance(self, namespace: str) -> Allowance:
        return Allowance.NONE


@pytest.fixture
async def reconciler(
    operator_stopped: ControlPlane, emulator: Any
) -> AsyncIterator[tuple[Reconciler, Any]]:
    cfg = emulator.config
    client = ModelArtsClient(
        ClientConfig(endpoint=emulator.url, project_id=cfg.project_id),
        AkSkCredentials(ak=cfg.ak, sk=cfg.sk),
    )
    kube = KubeClient.from_environment(str(operator_stopped.kubeconfig))
    try:
        yield Reconciler(DECLARATION, kube, _Clients(client)), _Clients(client)
    finally:
        await kube.aclose()
        await client.aclose()


def _calls(emulator: Any) -> dict[str, int]:
    return {k: v for k, v in emulator.admin.counters().items() if v and "/v3/auth" not in k}


async def _create(
    cp: ControlPlane, rec: Reconciler, clients: Any, ns: str
) -> tuple[Outcome, dict[str, Any], Callable[[], Any]]:
    """Apply a TrainingJob and run its first reconcile; return the outcome, the body as the
    intent write left it (the echo), and a cleanup that deletes the object."""
    http = kube_http(cp)
    path = PLURAL_PATH.format(ns=namespace(cp, ns), plural="trainingjobs")
    http.post(path, json=training_job("echo", ns)).raise_for_status()
    body = http.get(f"{path}/echo").json()
    first = await rec.reconcile(await rec.context(body))
    echo = http.get(f"{path}/echo").json()
    return first, echo, lambda: http.delete(f"{path}/echo")


async def test_the_intent_echo_is_skipped_once_then_filled_from_memory(
    operator_stopped: ControlPlane, emulator: Any, reconciler: tuple[Reconciler, Any]
) -> None:
    rec, clients = reconciler
    ns = "it-create-echo"
    first, echo, cleanup = await _create(operator_stopped, rec, clients, ns)
    job_id = first.status["jobId"]
    assert first.clear_create_pending  # the handler's final patch closes the intent
    assert [j["job_id"] for j in remote_named(emulator, "training_job", f"{ns}_echo")] == [job_id]
    # The body as the intent write left it: what kopf may still deliver after the final patch.
    assert echo["metadata"]["annotations"][CREATE_PENDING] == f"{ns}_echo"
    assert "jobId" not in (echo.get("status") or {})

    emulator.admin.clear_counters()
    skipped = await rec.reconcile(await rec.context(echo))
    assert skipped.status == (echo.get("status") or {})  # nothing to write
    assert _calls(emulator) == {}  # and no ModelArts call

    # The same body again (a relist before the final patch landed): the remembered ID, no
    # lookup by name, and still one remote job.
    again = await rec.reconcile(await rec.context(echo))
    assert again.status["jobId"] == job_id
    assert again.status["versionId"] == first.status["versionId"]
    assert again.clear_create_pending
    assert not any(k.startswith("GET") and k.endswith("/training-jobs") for k in _calls(emulator))
    assert len(remote_named(emulator, "training_job", f"{ns}_echo")) == 1
    # The watch event that shows the ID ends the memory of the create (no growth per object).
    assert rec.remembered_creates == 1
    rec.observed("MODIFIED", {**echo, "status": again.status})
    assert rec.remembered_creates == 0
    cleanup()  # before the shared operator comes back


async def test_after_a_restart_the_intent_is_resolved_by_name(
    operator_stopped: ControlPlane, emulator: Any, reconciler: tuple[Reconciler, Any]
) -> None:
    """A fresh process (no memory) meeting the same body binds to the job by its name."""
    rec, clients = reconciler
    ns = "it-create-restart"
    first, echo, cleanup = await _create(operator_stopped, rec, clients, ns)

    restarted = Reconciler(DECLARATION, rec.kube, clients)
    outcome = await restarted.reconcile(await rec.context(echo))
    assert outcome.status["jobId"] == first.status["jobId"]
    assert outcome.clear_create_pending
    assert ("Normal", "Created", f"recovered interrupted create as {first.status['jobId']}") in (
        outcome.events
    )
    assert len(remote_named(emulator, "training_job", f"{ns}_echo")) == 1
    cleanup()
