"""Fixtures shared by every test tier.

``control_plane`` is a real etcd + kube-apiserver (session scope), started from the pinned
binaries that ``make tools`` builds. Tests that use it are marked ``cluster``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelarts_testbed.controlplane import ControlPlane, Identity, running

# Identities the API server knows from its token file. RBAC, not this list, decides what each
# may do: tests bind roles to them as they need.
CLUSTER_IDENTITIES = [
    Identity("alice"),
    Identity.service_account("team-a", "runner"),
    Identity.service_account("modelarts-system", "modelarts-operator"),
]


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with running(tmp_path_factory.mktemp("control-plane"), CLUSTER_IDENTITIES) as plane:
        yield plane
