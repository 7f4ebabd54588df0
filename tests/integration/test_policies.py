"""Management policies as annotations: external-id adoption, adopt-or-create of an existing
name, observe-only, and paused."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_operator.reconcile.naming import unmarked

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    merge_patch,
    modelarts,
    namespace,
    ready,
    reconciled_again,
    remote_by_id,
    remote_named,
    synced,
    wait_for,
)
from .test_lifecycle import API

pytestmark = pytest.mark.cluster

P = "modelarts.huaweicloud.com/"


def workspace(
    name: str, remote: str, annotations: dict[str, str] | None = None, **spec: Any
) -> Any:
    return {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"name": remote, **spec},
    }


def create_remote_workspace(emulator: Any, name: str, description: str) -> str:
    from modelarts_operator.api.workspaces import WorkspaceCreateRequest

    async def create(client: Any) -> str:
        ws = await client.workspaces.create(
            WorkspaceCreateRequest(name=name, description=description)
        )
        return str(ws.id)

    ws_id: str = modelarts(emulator, create)
    return ws_id


def test_external_id_binds_an_existing_object(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-pol-external", {P + "allow-adoption": "manage"})
    ws_id = create_remote_workspace(emulator, "it-pol-external", "made in the console")
    apply(
        cp,
        workspace("bound", "it-pol-external", {P + "external-id": ws_id}, description="from git"),
        ns,
    )
    ws = wait_for(cp, "workspace", "bound", ns, lambda o: ready(o) and synced(o), op=operator)
    assert ws["status"]["workspaceId"] == ws_id
    assert len(remote_named(emulator, "workspace", "it-pol-external")) == 1
    # Bound means managed: the spec is applied to the adopted object...
    remote = remote_by_id(emulator, "workspace", ws_id) or {}
    assert unmarked(remote.get("description")) == "from git"
    # ...and deleting with the default policy deletes it.
    delete_obj(cp, "workspace", "bound", ns)
    assert remote_by_id(emulator, "workspace", ws_id) is None


def test_existing_name_is_adopted_not_duplicated(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-pol-adopt", {P + "allow-adoption": "manage"})
    ws_id = create_remote_workspace(emulator, "it-pol-adopt", "already there")
    apply(cp, workspace("same", "it-pol-adopt", {P + "adoption-policy": "adopt-or-create"}), ns)
    ws = wait_for(cp, "workspace", "same", ns, ready, op=operator)
    assert ws["status"]["workspaceId"] == ws_id
    assert len(remote_named(emulator, "workspace", "it-pol-adopt")) == 1
    assert any(e["reason"] == "Adopted" for e in events_for(cp, ns, "same"))

    # adoption-policy: adopt never creates: a missing name is reported.
    apply(cp, workspace("missing", "it-pol-adopt-missing", {P + "adoption-policy": "adopt"}), ns)
    missing = wait_for(
        cp,
        "workspace",
        "missing",
        ns,
        lambda o: condition(o, "Synced").get("status") == "False",
        op=operator,
    )
    assert condition(missing, "Synced")["reason"] == "NotFound"
    assert remote_named(emulator, "workspace", "it-pol-adopt-missing") == []
    delete_obj(cp, "workspace", "missing", ns)
    delete_obj(cp, "workspace", "same", ns)


def test_observe_mirrors_and_never_writes(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-pol-observe", {P + "allow-adoption": "observe"})
    ws_id = create_remote_workspace(emulator, "it-pol-observe", "owned elsewhere")
    before = emulator.admin.counters()
    apply(
        cp,
        workspace(
            "watch", "it-pol-observe", {P + "management-policy": "observe"}, description="mine"
        ),
        ns,
    )
    ws = wait_for(cp, "workspace", "watch", ns, ready, op=operator)
    assert ws["status"]["workspaceId"] == ws_id
    assert ws["status"]["phase"] == "Ready"
    assert ws["status"]["owner"]
    merge_patch(cp, "workspace", "watch", ns, {"spec": {"authType": "PRIVATE"}})
    wait_for(
        cp,
        "workspace",
        "watch",
        ns,
        lambda o: condition(o, "Synced").get("observedGeneration") == 2,
        op=operator,
    )
    remote = remote_by_id(emulator, "workspace", ws_id) or {}
    assert (remote.get("description"), remote.get("auth_type")) == ("owned elsewhere", "PUBLIC")

    delete_obj(cp, "workspace", "watch", ns)
    assert remote_by_id(emulator, "workspace", ws_id) is not None
    after = emulator.admin.counters()
    writes = {
        k: after[k] - before.get(k, 0)
        for k in after
        if k.split()[0] in ("POST", "PUT", "DELETE")
        and "workspaces" in k
        and after[k] != before.get(k, 0)
    }
    assert writes == {}, writes
    emulator.admin.delete_object("workspace", ws_id)


def test_paused_makes_no_remote_writes_until_removed(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-pol-paused")
    apply(cp, workspace("hold", "it-pol-paused", {P + "paused": "true"}, description="one"), ns)
    ws = wait_for(
        cp,
        "workspace",
        "hold",
        ns,
        lambda o: condition(o, "Synced").get("reason") == "Paused",
        op=operator,
    )
    assert condition(ws, "Synced")["status"] == "False"
    reconciled_again(cp, "workspace", "hold", ns, operator)
    assert remote_named(emulator, "workspace", "it-pol-paused") == []

    cp.kubectl("annotate", "workspace", "hold", "-n", ns, P + "paused-")
    ws = wait_for(cp, "workspace", "hold", ns, lambda o: ready(o) and synced(o), op=operator)
    ws_id = ws["status"]["workspaceId"]
    assert len(remote_named(emulator, "workspace", "it-pol-paused")) == 1

    # Paused again: a spec change waits, and status does not claim it was applied.
    cp.kubectl("annotate", "workspace", "hold", "-n", ns, P + "paused=true")
    merge_patch(cp, "workspace", "hold", ns, {"spec": {"description": "two"}})
    ws = wait_for(
        cp,
        "workspace",
        "hold",
        ns,
        lambda o: condition(o, "Synced").get("observedGeneration") == 2,
        op=operator,
    )
    assert condition(ws, "Synced")["status"] == "False"
    assert condition(ws, "Synced")["reason"] == "Paused"
    reconciled_again(cp, "workspace", "hold", ns, operator)
    assert unmarked((remote_by_id(emulator, "workspace", ws_id) or {}).get("description")) == "one"

    cp.kubectl("annotate", "workspace", "hold", "-n", ns, P + "paused-")
    wait_for(cp, "workspace", "hold", ns, synced, op=operator)
    assert unmarked((remote_by_id(emulator, "workspace", ws_id) or {}).get("description")) == "two"
    delete_obj(cp, "workspace", "hold", ns)
    assert remote_by_id(emulator, "workspace", ws_id) is None
