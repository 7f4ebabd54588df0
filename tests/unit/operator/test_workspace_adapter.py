"""A Workspace's create body cannot carry quotas: the create sets them right after the POST, so
one reconcile (one status write) records the workspace with its quotas, and a restart cannot
fall between the create and a follow-up that sets them (issue 27: 2.5 API-server writes per
workspace with quotas, and the one restart write, came from that follow-up)."""

from __future__ import annotations

from modelarts_operator.api import ModelArtsClient
from modelarts_operator.crd.workspace import WorkspaceSpec
from modelarts_operator.reconcile.adapter import Context, Refs
from modelarts_operator.reconcile.naming import owner_marker
from modelarts_operator.resources.workspace import WorkspaceAdapter
from modelarts_testbed.emulator.core import FaultRule
from modelarts_testbed.emulator.server import Emulator

from .contexts import adapter_context

WORKSPACES = WorkspaceAdapter()
GPU = "trainJob.gpu_duration"  # the quota examples/01-workspace.yaml sets
PUT_QUOTAS = "PUT /v1/{project_id}/workspaces/{workspace_id}/quotas"


def _ctx(client: ModelArtsClient, quota: int) -> Context[WorkspaceSpec, Refs]:
    spec = WorkspaceSpec.model_validate(
        {"name": "team-a", "quotas": [{"resource": GPU, "quota": quota}]}
    )
    return adapter_context(
        spec,
        Refs(),
        client,
        name="team",
        remote_name="team-a",
        marker=owner_marker("", "Workspace", "ns", "team"),
    )


async def test_the_create_sets_the_quotas_and_records_them(
    emu: Emulator, client: ModelArtsClient
) -> None:
    emu.core.calls.clear()
    created = await WORKSPACES.create(_ctx(client, 6000))
    # the create, the quotas set without a read first (a new workspace has none of the
    # spec's), and one read of what ModelArts then reports (with its use)
    assert sum(emu.core.calls.values()) == 3, emu.core.calls
    assert emu.core.calls[PUT_QUOTAS] == 1
    remote = {q.resource: q for q in (await client.workspaces.get_quotas(created.remote_id)).quotas}
    assert remote[GPU].quota == 6000
    (shown,) = created.recorded["quotas"]
    assert shown["resource"] == GPU
    assert shown["quota"] == 6000
    assert shown["used"] == 0
    assert shown["max"] > 6000
    assert created.requeue is None  # nothing left for a follow-up


async def test_a_refused_quota_leaves_the_workspace_recorded_and_a_follow_up(
    emu: Emulator, client: ModelArtsClient
) -> None:
    # Out of the quota's range ([-1, 600000] in the emulator, as get_workspace_quotas says).
    created = await WORKSPACES.create(_ctx(client, 600001))
    assert created.remote_id  # the workspace exists: its ID is recorded, never created twice
    assert "quotas" not in created.recorded
    assert created.requeue is not None
    assert created.requeue.why == "spec.quotas"


async def test_a_quota_call_that_fails_leaves_a_follow_up(
    emu: Emulator, client: ModelArtsClient
) -> None:
    emu.core.faults.append(FaultRule(endpoint=PUT_QUOTAS, status=500, error_code="ModelArts.0001"))
    created = await WORKSPACES.create(_ctx(client, 6000))
    assert created.requeue is not None
    assert "quotas" not in created.recorded
    assert [w.name async for w in client.workspaces.iter_all() if w.name == "team-a"] == ["team-a"]
