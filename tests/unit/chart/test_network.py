"""Who can reach the operator's unauthenticated endpoints: the addresses they listen on
(values -> environment -> OperatorSettings) and the optional NetworkPolicy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelarts_operator.settings import OperatorSettings
from tests.unit.chart._helm import by_kind, container, env_of, one
from tests.unit.chart.conftest import Render

API_SERVER = {"cidrs": ["192.0.2.10/32", "192.0.2.11/32"], "ports": [6443]}
PROMETHEUS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}


def policy(render: Render, **network: Any) -> dict[str, Any]:
    values = {"networkPolicy": {"enabled": True, **network}}
    values["networkPolicy"].setdefault("egress", {"apiServer": API_SERVER})
    spec: dict[str, Any] = one(render(values), "NetworkPolicy")["spec"]
    return spec


# --- bind addresses -------------------------------------------------------------------------


def test_bind_addresses_default_to_every_interface_and_reach_the_operator(
    render: Render,
) -> None:
    env = env_of(render())
    assert env["MODELARTS_METRICS_ADDRESS"] == env["MODELARTS_HEALTH_ADDRESS"] == "0.0.0.0"  # noqa: S104


@pytest.mark.parametrize(
    ("health", "metrics"),
    [("::", "::"), ("0.0.0.0", "127.0.0.1"), ("10.1.2.3", "::1")],  # noqa: S104
)
def test_bind_addresses_are_values_the_operator_accepts(
    render: Render, health: str, metrics: str
) -> None:
    values: dict[str, Any] = {"bindAddress": {"health": health, "metrics": metrics}}
    if metrics in ("127.0.0.1", "::1"):
        values["metrics"] = {"service": {"enabled": False}}
    env = env_of(render(values))
    settings = OperatorSettings.from_env(env)
    assert (settings.health_address, settings.metrics_address) == (health, metrics)


@pytest.mark.parametrize("address", ["localhost", "0.0.0.0:9090", "my-host.example"])
def test_schema_refuses_a_bind_address_that_is_not_an_ip(
    render_error: Callable[..., str], address: str
) -> None:
    assert "bindAddress" in render_error({"bindAddress": {"health": address, "metrics": "::"}})


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_a_loopback_health_address_is_refused_because_probes_would_fail(
    render_error: Callable[..., str], address: str
) -> None:
    error = render_error({"bindAddress": {"health": address, "metrics": "0.0.0.0"}})  # noqa: S104
    assert "probe" in error


def test_loopback_metrics_behind_a_service_is_refused(render_error: Callable[..., str]) -> None:
    error = render_error({"bindAddress": {"health": "0.0.0.0", "metrics": "127.0.0.1"}})  # noqa: S104
    assert "metrics.service.enabled=false" in error


# --- NetworkPolicy --------------------------------------------------------------------------


def test_no_network_policy_unless_asked(render: Render) -> None:
    assert by_kind(render(), "NetworkPolicy") == []


def test_network_policy_needs_the_api_servers_addresses(render_error: Callable[..., str]) -> None:
    assert "apiServer" in render_error({"networkPolicy": {"enabled": True}})


def test_network_policy_selects_exactly_the_operators_pods(render: Render) -> None:
    objects = render({"networkPolicy": {"enabled": True, "egress": {"apiServer": API_SERVER}}})
    selector = one(objects, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"]
    deployment = one(objects, "Deployment")
    assert selector == deployment["spec"]["selector"]["matchLabels"]
    assert sorted(one(objects, "NetworkPolicy")["spec"]["policyTypes"]) == ["Egress", "Ingress"]


def test_by_default_nothing_may_connect(render: Render) -> None:
    """policyTypes Ingress with no rule: every connection to the pods is refused."""
    assert policy(render)["ingress"] == []


def test_ingress_opens_only_the_metrics_port_to_the_listed_scrapers(render: Render) -> None:
    spec = policy(render, ingress={"metrics": [PROMETHEUS]})
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"port": 9090, "protocol": "TCP"}]
    assert rule["from"] == [PROMETHEUS]


def test_ingress_follows_moved_ports(render: Render) -> None:
    node = {"ipBlock": {"cidr": "198.51.100.0/24"}}
    objects = render(
        {
            "ports": {"health": 18080, "metrics": 19090},
            "networkPolicy": {
                "enabled": True,
                "ingress": {"metrics": [PROMETHEUS], "health": [node]},
                "egress": {"apiServer": API_SERVER},
            },
        }
    )
    rules = one(objects, "NetworkPolicy")["spec"]["ingress"]
    opened = {r["ports"][0]["port"]: r["from"] for r in rules}
    assert opened == {19090: [PROMETHEUS], 18080: [node]}
    container_ports = {p["containerPort"] for p in container(objects)["ports"]}
    assert set(opened) == container_ports


def test_egress_is_dns_the_api_server_the_cloud_and_the_node_agency_only(
    render: Render,
) -> None:
    spec = policy(render)
    dns, api, cloud, metadata = spec["egress"]
    # The node's agency (credentials.ecsMetadata, on by default) comes from ECS metadata.
    assert metadata == {
        "ports": [{"port": 80, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}],
    }
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert api["ports"] == [{"port": 6443, "protocol": "TCP"}]
    assert api["to"] == [{"ipBlock": {"cidr": c}} for c in API_SERVER["cidrs"]]
    # NetworkPolicy cannot name the cloud's hosts: without CIDRs, its port to any address.
    assert cloud == {"ports": [{"port": 443, "protocol": "TCP"}]}


def test_cloud_egress_narrows_to_the_given_addresses_and_extra_rules_are_kept(
    render: Render,
) -> None:
    proxy = {"to": [{"ipBlock": {"cidr": "203.0.113.5/32"}}], "ports": [{"port": 3128}]}
    objects = render(
        {
            "credentials": {"ecsMetadata": {"enabled": False}},
            "networkPolicy": {
                "enabled": True,
                "egress": {
                    "apiServer": API_SERVER,
                    "cloud": {"cidrs": ["203.0.113.0/24"], "ports": [443, 8443]},
                    "dns": {"enabled": False},
                    "extra": [proxy],
                },
            },
        }
    )
    spec = one(objects, "NetworkPolicy")["spec"]
    api, cloud, extra = spec["egress"]
    assert cloud["to"] == [{"ipBlock": {"cidr": "203.0.113.0/24"}}]
    assert [p["port"] for p in cloud["ports"]] == [443, 8443]
    assert extra == proxy
    assert api["ports"] == [{"port": 6443, "protocol": "TCP"}]


@pytest.mark.parametrize("cidr", ["10.0.0.1", "ten/8", "10.0.0.0/8 "])
def test_schema_refuses_a_cidr_that_is_not_one(render_error: Callable[..., str], cidr: str) -> None:
    values = {"networkPolicy": {"enabled": True, "egress": {"apiServer": {"cidrs": [cidr]}}}}
    assert "cidrs" in render_error(values)
