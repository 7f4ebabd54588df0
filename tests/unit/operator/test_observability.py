"""What the dashboard and the alerts read: objects not Synced by reason, the leader gauge, and
where the unauthenticated endpoints listen."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from modelarts_operator import runner
from modelarts_operator.metrics import METRICS
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.settings import ALL_INTERFACES, OperatorSettings, SettingsError, http_url
from modelarts_testbed.controlplane import free_port


def _object(name: str, namespace: str, synced: dict[str, str] | None) -> dict[str, Any]:
    conditions = [{"type": "Synced", **synced}] if synced is not None else []
    return {
        "metadata": {"namespace": namespace, "name": name},
        "status": {"conditions": conditions},
    }


def test_objects_not_synced_are_counted_by_kind_namespace_and_reason() -> None:
    registry = Registry()
    objects = [
        ("ok", "team-a", {"status": "True", "reason": "Synced"}),
        ("auth-1", "team-a", {"status": "False", "reason": "AuthFailed"}),
        ("auth-2", "team-a", {"status": "False", "reason": "AuthFailed"}),
        ("throttled", "team-b", {"status": "False", "reason": "Throttled"}),
        ("new", "team-b", None),  # no verdict yet
    ]
    for name, namespace, synced in objects:
        registry.update("trainingjobs", "ADDED", _object(name, namespace, synced))
    registry.update("models", "ADDED", _object("m", "team-a", {"status": "False", "reason": "X"}))

    def key(kind: str, namespace: str, reason: str) -> tuple[tuple[str, str], ...]:
        return (("kind", kind), ("object_namespace", namespace), ("reason", reason))

    assert registry.count_not_synced() == {
        key("trainingjobs", "team-a", "AuthFailed"): 2,
        key("trainingjobs", "team-b", "Throttled"): 1,
        key("trainingjobs", "team-b", "Unknown"): 1,
        key("models", "team-a", "X"): 1,
    }


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9090/metrics"),
        (ALL_INTERFACES, f"http://{ALL_INTERFACES}:9090/metrics"),
        ("::", "http://[::]:9090/metrics"),
        ("::1", "http://[::1]:9090/metrics"),
    ],
)
def test_bind_addresses_are_ip_literals(address: str, url: str) -> None:
    settings = OperatorSettings.from_env(
        {"MODELARTS_METRICS_ADDRESS": address, "MODELARTS_HEALTH_ADDRESS": address}
    )
    assert settings.metrics_address == settings.health_address == address
    assert http_url(settings.metrics_address, 9090, "/metrics") == url


@pytest.mark.parametrize("variable", ["MODELARTS_METRICS_ADDRESS", "MODELARTS_HEALTH_ADDRESS"])
@pytest.mark.parametrize("value", ["localhost", "10.0.0.300", "example.org", "0.0.0.0:9090"])
def test_a_bind_address_that_is_not_an_ip_is_refused_naming_the_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        OperatorSettings.from_env({variable: value})


def test_the_defaults_listen_on_every_interface_as_before() -> None:
    settings = OperatorSettings.from_env({})
    assert (settings.metrics_address, settings.health_address) == (ALL_INTERFACES,) * 2


async def test_metrics_listen_on_the_configured_address_only() -> None:
    """Bound to 127.0.0.1, /metrics answers there and nowhere else: 127.0.0.2 (loopback too,
    but another address) is refused."""
    import socket

    port = free_port()
    async with runner._metrics_endpoint("127.0.0.1", port):
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert resp.status_code == 200
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()


def test_leader_gauge_follows_whether_this_process_acts() -> None:
    METRICS.gauge("modelarts_leader", runner._leader_gauge)
    runner._acting.clear()
    assert _rendered(METRICS.render(), "modelarts_leader") == 0.0
    runner._acting.set()
    try:
        assert _rendered(METRICS.render(), "modelarts_leader") == 1.0
    finally:
        runner._acting.clear()


async def test_a_standby_serves_metrics_with_leader_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    """serve() opens /metrics before it competes for the Lease: a standby is scraped too."""
    port = free_port()
    started = asyncio.Event()

    async def standing_by(*_: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(runner, "_serve", standing_by)
    settings = OperatorSettings.from_env(
        {"MODELARTS_METRICS_PORT": str(port), "MODELARTS_METRICS_ADDRESS": "127.0.0.1"}
    )
    task = asyncio.create_task(runner.serve(settings, "http://127.0.0.1:1/healthz"))
    try:
        await asyncio.wait_for(started.wait(), 10)
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        assert _rendered(text, "modelarts_leader") == 0.0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _rendered(text: str | bytes, name: str) -> float:
    if isinstance(text, bytes):
        text = text.decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in {text}")
