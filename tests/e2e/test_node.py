"""The single-node cluster itself: the kubelet is a node, not an admin; what a running node
puts on the host is what teardown is held to remove (the ``node`` fixture asserts that nothing
is left after it stops)."""

from __future__ import annotations

import json
import subprocess

import pytest

from modelarts_testbed.controlplane import tool_path
from modelarts_testbed.node import BRIDGE, Node

pytestmark = [pytest.mark.node, pytest.mark.slow]


def as_kubelet(node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = node.state_dir / "components" / "kubelet-client.kubeconfig"
    return subprocess.run(
        [str(tool_path("kubectl")), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_kubelet_has_a_node_identity_limited_by_the_node_authorizer(node: Node) -> None:
    who = json.loads(as_kubelet(node, "auth", "whoami", "-o", "json").stdout)
    user = who["status"]["userInfo"]
    assert user["username"] == f"system:node:{node.name}"
    assert "system:nodes" in user["groups"]
    assert "system:masters" not in user["groups"]
    assert as_kubelet(node, "get", "node", node.name).returncode == 0
    # Secrets only of pods bound to it; never a listing of all of them.
    refused = as_kubelet(node, "get", "secrets", "-A")
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr.lower()


def test_a_running_node_shows_everything_teardown_must_remove(node: Node) -> None:
    # A pod left running on purpose: teardown has to remove its containers, mounts and netns.
    # (The operator image has Python and no shell or coreutils: Python sleeps.)
    node.plane.kubectl(
        "run", "left-running", "--image=modelarts-operator:dev", "--image-pull-policy=Never",
        "--restart=Never", "--command", "--", "python3", "-c", "import time; time.sleep(3600)",
    )  # fmt: skip
    node.plane.kubectl(
        "wait", "--for=condition=Ready", "pod/left-running", "--timeout=120s", timeout=150
    )
    found = node.leftovers()
    kinds = {entry.split()[0] for entry in found}
    # Processes (ours and the shims), mounts (containerd's and the kubelet's), the pod bridge,
    # kube-proxy's iptables chains: the check the fixture's teardown asserts empty sees them.
    assert {"process", "mount", "bridge", "iptables"} <= kinds, found
    assert f"bridge {BRIDGE}" in found
    assert any("/netns/" in entry for entry in found), found  # the pod's network namespace
    assert any("KUBE-SERVICES" in entry for entry in found), found
