"""The projected service-account token rotates (the kubelet renews it) and the operator follows
it: an exchange after the renewal carries the new token, and its objects stay Synced.

The ``rotation`` release was installed with the keyless release at the package's start (the
``keyless_release`` fixture); this module runs after every other test of the package and, when
the integration tier runs in the same session, after its modules that do not hang on timing
(``conftest.py`` orders them), so its pod has lived through them by now and most of the
kubelet's wait is spent.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from modelarts_testbed.emulator.server import EmulatorHandle

from .conftest import (
    GROUP,
    ROTATION,
    ROTATION_NS,
    TOKEN_SECONDS,
    Cluster,
    exchanges,
    is_ready,
    logs,
    operator_pods,
    workspace,
)

pytestmark = [pytest.mark.node, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def _the_node_goes_after_this(node_lifetime: contextlib.ExitStack) -> Iterator[None]:
    """This module is the node's last user (the collection order puts it last): its releases,
    emulator and the node itself are torn down once it has run, not at the session's end, so
    the rest of the integration tier runs without them."""
    yield
    node_lifetime.close()


def _exchanged_by(emulator: EmulatorHandle, pod_uid: str) -> list[dict[str, Any]]:
    return [e for e in exchanges(emulator) if e["pod_uid"] == pod_uid]


@pytest.mark.timeout(TOKEN_SECONDS + 300)  # waits for the kubelet: 80 % of the token's 600 s
def test_the_token_rotates_and_the_operator_follows_it(
    pods: Cluster, keyless_release: list[str], keyless_emulator: EmulatorHandle
) -> None:
    """The ``rotation`` release's pod has run since the package started. The kubelet renews
    its projected token at 80 % of its 10 minutes; the operator reads the file at every
    exchange, so an exchange after that carries the new token, and its objects stay Synced.
    Its credentials (60 s here) were refreshed ahead of expiry all along: never refused."""
    (pod,) = operator_pods(pods, ROTATION)
    uid, name = pod["metadata"]["uid"], pod["metadata"]["name"]
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    started = time.monotonic()
    deadline = started + TOKEN_SECONDS + 120
    mine = _exchanged_by(keyless_emulator, uid)
    while len({e["iat"] for e in mine}) < 2:
        assert time.monotonic() < deadline, f"no exchange of a renewed token: {mine[-3:]}"
        time.sleep(5)
        mine = _exchanged_by(keyless_emulator, uid)
    assert {e["outcome"] for e in mine} == {"ok"}
    first, renewed = mine[0]["iat"], next(e for e in mine if e["iat"] != mine[0]["iat"])
    print(
        f"the kubelet renewed the token {renewed['iat'] - first:.0f}s after the first; the "
        f"operator exchanged the new one {renewed['at'] - renewed['iat']:.0f}s after it was "
        f"issued ({len(mine)} exchanges in all); this test waited "
        f"{time.monotonic() - started:.0f}s for it"
    )
    pods.wait_for(f"workspace.{GROUP}", "probe", ROTATION_NS, is_ready, timeout=60)
    pods.kubectl("apply", "-f", "-", input=workspace("after-rotation", ROTATION_NS))
    pods.wait_for(f"workspace.{GROUP}", "after-rotation", ROTATION_NS, is_ready, timeout=120)
    # Refreshed ahead of expiry, in the background: how much time the old credentials had
    # left each time (lifetime 60 s: a fifth of it, 12 s, is the margin), and never a 401.
    said = logs(pods, name)
    left = [float(x) for x in re.findall(r"the previous ones had (-?[0-9.]+)s left", said)]
    assert left, said[-2000:]
    print(f"credential refreshes: {len(left)}, time left on the old ones {min(left):.0f}s to "
          f"{max(left):.0f}s")  # fmt: skip
    assert min(left) > 0, left
    assert "credentials refused; fetching new ones" not in said
    pods.kubectl("delete", f"workspace.{GROUP}", "--all", "-n", ROTATION_NS, "--timeout=120s",
                 timeout=150)  # fmt: skip
