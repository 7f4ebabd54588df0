"""A Network's create body cannot carry a description, where the ownership marker is: the
create marks it right away, or undoes it (an unmarked network recorded in status is refused
as NotOwned by every later reconcile: the forged-ID rule of issue 24)."""

from __future__ import annotations

import pytest

from modelarts_operator.api import ModelArtsClient, errors
from modelarts_operator.crd.network import NetworkSpec
from modelarts_operator.reconcile.adapter import Context, Refs
from modelarts_operator.reconcile.naming import owner_marker
from modelarts_operator.resources.network import NetworkAdapter
from modelarts_testbed.emulator.core import FaultRule
from modelarts_testbed.emulator.server import Emulator

from .contexts import adapter_context

NETWORKS = NetworkAdapter()
MARKER = owner_marker("", "Network", "ns", "net")
PATCH = "PATCH /v1/{project_id}/networks/{network_name}"


def _ctx(client: ModelArtsClient) -> Context[NetworkSpec, Refs]:
    spec = NetworkSpec.model_validate(
        {"name": "net-a", "cidr": "192.168.128.0/17", "description": "for pools"}
    )
    return adapter_context(spec, Refs(), client, name="net", remote_name="net-a", marker=MARKER)


async def test_a_created_network_carries_the_marker_when_the_create_returns(
    emu: Emulator, client: ModelArtsClient
) -> None:
    ctx = _ctx(client)
    created = await NETWORKS.create(ctx)
    remote = await client.networks.get(created.remote_id)
    assert NETWORKS.marker(ctx, remote) == MARKER
    assert (remote.description or "").startswith("for pools")
    # Creating, in flight: the poller's list page shows it Active; no follow-up GET of its own
    # (1,000 networks made 1,000 such GETs and writes in the 1,000 bench, issue 27).
    assert created.observation.in_flight
    assert created.requeue is None


async def test_a_network_that_cannot_be_marked_is_deleted_again(
    emu: Emulator, client: ModelArtsClient
) -> None:
    emu.core.faults.append(FaultRule(endpoint=PATCH, status=400, error_code="ModelArts.0001"))
    with pytest.raises(errors.ModelArtsError):
        await NETWORKS.create(_ctx(client))
    emu.advance(600)  # a deleted network is listed until its deletion completes
    assert [n async for n in client.networks.iter_all()] == []
