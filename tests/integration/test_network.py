"""A Network's life against the real API server and the emulator (whose network shapes the
official SDK judges): created, its description (and ownership marker) patched in, Ready when
Active, a peering connection added in place, deletion removing it."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_operator.reconcile.naming import unmarked

from .conftest import (
    OperatorProcess,
    apply,
    delete_obj,
    merge_patch,
    namespace,
    ready,
    remote_objects,
    synced,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.cluster

API = "modelarts.huaweicloud.com/v1alpha1"


def remote_networks(emulator: Any, name: str) -> list[dict[str, Any]]:
    return [
        r
        for r in remote_objects(emulator, "network")
        if r.get("name") == name and r.get("deleted_at") is None
    ]


def test_network_created_described_connected_deleted(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-net")
    manifest = {
        "apiVersion": API,
        "kind": "Network",
        "metadata": {"name": "pool-net"},
        "spec": {"name": "it-net-a", "cidr": "192.168.128.0/17", "description": "for pools"},
    }
    apply(cp, manifest, ns)
    net = wait_for(cp, "network", "pool-net", ns, lambda o: ready(o) and synced(o), 40, operator)
    assert net["status"]["networkId"].startswith("it-net-a-")
    assert net["status"]["cidr"] == "192.168.128.0/17"
    # The create body has no description: the reconcile the create asked for patches it in.
    wait_until(
        lambda: unmarked(remote_networks(emulator, "it-net-a")[0]["description"]) == "for pools",
        30,
        "the description patch",
    )
    (remote,) = remote_networks(emulator, "it-net-a")
    assert remote["description"] != "for pools"  # the ownership marker follows it

    peer = {"peerVpcId": "vpc-1", "peerSubnetId": "subnet-1"}
    merge_patch(
        cp, "network", "pool-net", ns, {"spec": {"connection": {"peerConnectionList": [peer]}}}
    )
    net = wait_for(
        cp, "network", "pool-net", ns,
        lambda o: synced(o) and bool(o["status"].get("peerConnections")), 40, operator,
    )  # fmt: skip
    assert net["status"]["peerConnections"][0]["peerVpcId"] == "vpc-1"
    assert remote_networks(emulator, "it-net-a")[0]["peers"] == [peer]

    delete_obj(cp, "network", "pool-net", ns)
    assert remote_networks(emulator, "it-net-a") == []
