"""A Workspace's spec.quotas against the real API server and the emulator (whose quota shapes
the official SDK judges): applied after the create, shown in status with use and bounds, a
change applied in place, a value out of the quota's range refused by ModelArts and shown as
Synced=False with its message."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    merge_patch,
    namespace,
    ready,
    remote_by_id,
    synced,
    wait_for,
)

pytestmark = pytest.mark.cluster

API = "modelarts.huaweicloud.com/v1alpha1"
GPU = "trainJob.gpu_duration"  # the emulator's catalog: -1 .. 600000 minutes


def quota_of(obj: dict[str, Any], resource: str) -> dict[str, Any]:
    return next(q for q in obj["status"].get("quotas") or [] if q["resource"] == resource)


def test_quotas_applied_shown_changed_and_refused(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-ws-quota")
    workspace = {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": "team"},
        "spec": {"name": "it-ws-quota", "quotas": [{"resource": GPU, "quota": 6000}]},
    }
    apply(cp, workspace, ns)
    ws = wait_for(
        cp, "workspace", "team", ns,
        lambda o: ready(o) and synced(o) and bool(o["status"].get("quotas")), 30, operator,
    )  # fmt: skip
    assert quota_of(ws, GPU) == {
        "resource": GPU, "quota": 6000, "used": 0, "min": -1, "max": 600000, "unit": "minute",
    }  # fmt: skip
    remote = remote_by_id(emulator, "workspace", ws["status"]["workspaceId"])
    assert remote is not None
    assert remote["quotas"][GPU]["quota"] == 6000

    merge_patch(cp, "workspace", "team", ns, {"spec": {"quotas": [{"resource": GPU, "quota": -1}]}})
    ws = wait_for(
        cp, "workspace", "team", ns,
        lambda o: synced(o) and quota_of(o, GPU)["quota"] == -1, 30, operator,
    )  # fmt: skip

    # Out of the quota's range: admission cannot know the bound, ModelArts refuses it.
    too_much = {"spec": {"quotas": [{"resource": GPU, "quota": 600001}]}}
    merge_patch(cp, "workspace", "team", ns, too_much)
    ws = wait_for(
        cp, "workspace", "team", ns,
        lambda o: condition(o, "Synced").get("status") == "False"
        and condition(o, "Synced").get("observedGeneration") == o["metadata"]["generation"],
        30, operator,
    )  # fmt: skip
    refused = condition(ws, "Synced")
    assert "600000" in refused["message"], refused
    assert quota_of(ws, GPU)["quota"] == -1  # what ModelArts still has

    delete_obj(cp, "workspace", "team", ns)
