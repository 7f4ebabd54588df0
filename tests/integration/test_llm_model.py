"""A DataArts Fabric model (Model.spec.llm) for its whole life, on the real API server and the
emulator (whose DataArts shapes the official SDK judges in tests/unit/sdk): created once,
status from the DataArts list, the description and new versions updated in place, an older
version switched back to, a model deleted remotely created again, cleanup on delete (Retain
leaves it)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelarts_operator.reconcile.naming import owner_marker, unmarked

from .conftest import (
    OperatorProcess,
    apply,
    delete_obj,
    events_for,
    modelarts,
    namespace,
    ready,
    remote_objects,
    synced,
    wait_for,
    wait_until,
)
from .test_lifecycle import API

pytestmark = pytest.mark.cluster

WORKSPACE = "llm-ws-1"
PUT_MODEL = "PUT /v1/workspaces/{workspace_id}/models/{model_id}"
RESYNC = {"modelarts.huaweicloud.com/resync-period": "2s"}


def llm_model(
    name: str, version: str = "v1", path: str = "obs://llm-bucket/v1/", /, **llm: Any
) -> dict[str, Any]:
    """A Model of the llm form; ``llm`` adds spec.llm fields (description, name...)."""
    return {
        "apiVersion": API,
        "kind": "Model",
        "metadata": {"name": name},
        "spec": {
            "llm": {
                "workspaceId": WORKSPACE,
                "version": {
                    "name": version,
                    "config": {"llmModelConfig": {"baseModelType": "llama3", "modelPath": path}},
                },
                **llm,
            }
        },
    }


def remote_llm(emulator: Any, name: str) -> list[dict[str, Any]]:
    """The emulator's DataArts models called ``name`` (what exists, whatever we believe)."""
    return [r for r in remote_objects(emulator, "dataarts_model") if r.get("name") == name]


def _current(version: str) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        status = obj.get("status", {})
        return (
            ready(obj)
            and synced(obj)
            and status.get("phase") == "Published"
            and (status.get("currentVersion") or {}).get("name") == version
        )

    return check


def test_llm_model_created_updated_switched_back_and_cleaned_up(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-llm")
    manifest = llm_model("chat", description="first")
    apply(cp, manifest, ns)
    obj = wait_for(cp, "model", "chat", ns, _current("v1"), timeout=90, op=operator)
    [remote] = remote_llm(emulator, "it-llm_chat")
    status = obj["status"]
    assert status["modelId"] == remote["id"]
    assert status["versionId"] == remote["versions"][0]["id"]
    assert status["currentVersion"]["id"] == remote["versions"][0]["id"]
    assert status["createTime"].endswith("Z")
    assert status["updateTime"].endswith("Z")
    assert unmarked(remote["description"]) == "first"
    assert remote["description"].endswith(owner_marker("", "Model", ns, "chat"))

    # A new description and a new version: one PUT adds the version; Publishing until built.
    changed = llm_model("chat", "v2", "obs://llm-bucket/v2/", description="second")
    apply(cp, changed, ns)
    obj = wait_for(cp, "model", "chat", ns, _current("v2"), timeout=90, op=operator)
    [remote] = remote_llm(emulator, "it-llm_chat")
    assert remote["id"] == status["modelId"], "the model was replaced, not updated"
    assert unmarked(remote["description"]) == "second"
    assert [v["name"] for v in remote["versions"]] == ["v1", "v2"]
    assert remote["versions"][1]["config"]["llm_model_config"]["model_path"] == (
        "obs://llm-bucket/v2/"
    )
    assert obj["status"]["versionId"] == remote["versions"][1]["id"]
    assert any(
        e["reason"] == "Updated" and "version" in e["message"] for e in events_for(cp, ns, "chat")
    )

    # Naming v1 again makes it current again, without adding a third version.
    apply(cp, manifest, ns)
    obj = wait_for(cp, "model", "chat", ns, _current("v1"), timeout=60, op=operator)
    [remote] = remote_llm(emulator, "it-llm_chat")
    assert [v["name"] for v in remote["versions"]] == ["v1", "v2"]
    assert unmarked(remote["description"]) == "first"
    assert obj["status"]["versionId"] == remote["versions"][0]["id"]

    # Delete (the default policy) cleans the model up before the finalizer goes.
    delete_obj(cp, "model", "chat", ns)
    assert remote_llm(emulator, "it-llm_chat") == []
    assert [v for v in emulator.admin.counters() if "DELETE /v1/workspaces" in v], (
        emulator.admin.counters()
    )


def test_llm_version_that_never_builds_stays_publishing(
    operator: OperatorProcess, emulator: Any
) -> None:
    """A version DataArts fails to build never becomes current: the Model says so instead of
    claiming the new version, and keeps the old one as currentVersion."""
    cp = operator.cp
    ns = namespace(cp, "it-llm-fail")
    apply(cp, llm_model("broken"), ns)
    wait_for(cp, "model", "broken", ns, _current("v1"), timeout=90, op=operator)
    # The emulator fails a version's build for a path that is no OBS location; admission
    # refuses such a path, so the next version's failure is forced (whether or not it was
    # built already: a failed version is not current).
    apply(cp, llm_model("broken", "v2", "obs://llm-bucket/v2/"), ns)
    wait_until(
        lambda: (
            len((remote_llm(emulator, "it-llm-fail_broken") or [{}])[0].get("versions", [])) == 2
        ),
        30,
        "the version to be added",
    )
    [remote] = remote_llm(emulator, "it-llm-fail_broken")
    emulator.admin.force(
        kind="dataarts_model", id=remote["id"], status="FAILED", error_msg="no weights"
    )
    obj = wait_for(
        cp,
        "model",
        "broken",
        ns,
        lambda o: o["status"].get("phase") == "Publishing" and synced(o),
        timeout=30,
        op=operator,
    )
    assert obj["status"]["currentVersion"]["name"] == "v1"
    ready_cond = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready_cond["status"] == "False"
    assert "'v2' is not current" in ready_cond["message"], ready_cond
    delete_obj(cp, "model", "broken", ns)
    assert remote_llm(emulator, "it-llm-fail_broken") == []


def test_llm_model_deleted_remotely_is_created_again(
    operator: OperatorProcess, emulator: Any
) -> None:
    """As for an imported model: desired state comes back, once, with a DeletedRemotely event."""
    cp = operator.cp
    ns = namespace(cp, "it-llm-drift")
    apply(cp, llm_model("again"), ns)
    obj = wait_for(cp, "model", "again", ns, _current("v1"), timeout=90, op=operator)
    old_id = obj["status"]["modelId"]
    emulator.admin.delete_object("dataarts_model", old_id)
    obj = wait_for(
        cp,
        "model",
        "again",
        ns,
        lambda o: o["status"].get("modelId") not in (None, old_id) and _current("v1")(o),
        timeout=90,
        op=operator,
    )
    remotes = remote_llm(emulator, "it-llm-drift_again")
    assert [r["id"] for r in remotes] == [obj["status"]["modelId"]]
    assert any(e["reason"] == "DeletedRemotely" for e in events_for(cp, ns, "again"))
    delete_obj(cp, "model", "again", ns)
    assert remote_llm(emulator, "it-llm-drift_again") == []


def test_llm_model_retained_on_delete(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-llm-keep")
    manifest = copy.deepcopy(llm_model("kept", name="kept by it-llm-keep"))
    manifest["spec"]["deletionPolicy"] = "Retain"
    apply(cp, manifest, ns)
    wait_for(
        cp,
        "model",
        "kept",
        ns,
        lambda o: o.get("status", {}).get("remoteName") == "kept by it-llm-keep",
        op=operator,
    )
    obj = wait_for(
        cp, "model", "kept", ns, lambda o: bool(o.get("status", {}).get("modelId")), op=operator
    )
    delete_obj(cp, "model", "kept", ns, timeout=20)
    [remote] = remote_llm(emulator, "kept by it-llm-keep")
    assert remote["id"] == obj["status"]["modelId"]
    emulator.admin.delete_object("dataarts_model", remote["id"])


def _puts(emulator: Any) -> int:
    return int(emulator.admin.counters().get(PUT_MODEL, 0))


def test_llm_version_already_in_dataarts_is_bound_not_added_again(
    operator: OperatorProcess, emulator: Any
) -> None:
    """A version DataArts has already (a PUT whose answer was lost, or one added by hand) is
    looked up by name and bound: no second PUT (DataArts would refuse the duplicate name)."""
    from modelarts_operator.api.dataarts import DataArtsModelUpdateRequest, ModelVersionInput

    cp = operator.cp
    ns = namespace(cp, "it-llm-bind")
    apply(cp, llm_model("bound"), ns)
    obj = wait_for(cp, "model", "bound", ns, _current("v1"), timeout=90, op=operator)
    model_id = obj["status"]["modelId"]
    v2 = llm_model("bound", "v2", "obs://llm-bucket/v2/")
    version = ModelVersionInput.model_validate(
        {
            "name": "v2",
            "config": {
                "llm_model_config": {
                    "base_model_type": "llama3",
                    "model_path": "obs://llm-bucket/v2/",
                }
            },
        }
    )
    modelarts(
        emulator,
        lambda c: c.dataarts.update_model(
            WORKSPACE, model_id, DataArtsModelUpdateRequest(version=version)
        ),
    )
    puts = _puts(emulator)
    apply(cp, v2, ns)
    obj = wait_for(cp, "model", "bound", ns, _current("v2"), timeout=90, op=operator)
    [remote] = remote_llm(emulator, "it-llm-bind_bound")
    assert [v["name"] for v in remote["versions"]] == ["v1", "v2"]
    assert obj["status"]["versionId"] == remote["versions"][1]["id"]
    assert _puts(emulator) == puts
    delete_obj(cp, "model", "bound", ns)


def test_llm_description_changed_outside_is_put_back_on_resync(
    operator: OperatorProcess, emulator: Any
) -> None:
    """Compared with DataArts every resync period: no PUT while nothing differs; a description
    changed in the console is put back with a DriftCorrected event."""
    from modelarts_operator.api.dataarts import DataArtsModelUpdateRequest

    cp = operator.cp
    ns = namespace(cp, "it-llm-resync")
    manifest = llm_model("desc", description="from git")
    manifest["metadata"]["annotations"] = RESYNC
    apply(cp, manifest, ns)
    obj = wait_for(cp, "model", "desc", ns, _current("v1"), timeout=90, op=operator)
    model_id = obj["status"]["modelId"]
    puts = _puts(emulator)
    listed = int(emulator.admin.counters().get("GET /v1/workspaces/{workspace_id}/models", 0))
    wait_until(
        lambda: (
            emulator.admin.counters().get("GET /v1/workspaces/{workspace_id}/models", 0) - listed
            >= 6
        ),
        60,
        "resyncs and poll cycles",
    )
    assert _puts(emulator) == puts, "a PUT although nothing differed"

    modelarts(
        emulator,
        lambda c: c.dataarts.update_model(
            WORKSPACE, model_id, DataArtsModelUpdateRequest(description="console edit")
        ),
    )
    wait_until(
        lambda: (
            unmarked(remote_llm(emulator, "it-llm-resync_desc")[0]["description"]) == "from git"
        ),
        60,
        "the description to be put back",
    )
    assert _puts(emulator) == puts + 2  # the console's PUT and the correction
    assert any(
        e["reason"] == "DriftCorrected" and "description" in e["message"]
        for e in events_for(cp, ns, "desc")
    )
    delete_obj(cp, "model", "desc", ns)
