"""A Notebook's life against the real API server and the emulator: apply → Running with a URL
→ changes applied the way the API allows → stopped → started → deleted with nothing left; a
lease that ends leaves it stopped until the spec changes; an unknown image is named; a
repeated name remotely is not mistaken for ours, and an interrupted create is recovered
without a second notebook."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelarts_operator.api.notebooks import NotebookCreateRequest, VolumeMount
from modelarts_operator.reconcile.naming import remote_name
from modelarts_operator.reconcile.policies import CREATE_PENDING

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    get_obj,
    merge_patch,
    modelarts,
    namespace,
    ready,
    reconciled_again,
    remote_objects,
    synced,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.cluster

API = "modelarts.huaweicloud.com/v1alpha1"
OWNER_TAG = "modelarts.huaweicloud.com/owner-uid"
CPU_IMAGE = {"name": "notebook2.0-mul-kernel-cpu-cp36", "tag": "3.3.2-release-v1"}
TORCH_IMAGE_ID = "278e88d1-5b71-4766-8502-b3ba72e824d9"


def notebook(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Notebook",
        "metadata": {"name": name},
        "spec": {
            "image": CPU_IMAGE,
            "flavor": "modelarts.vm.cpu.2u",
            "volume": {"category": "EVS", "capacity": 5},
            **spec,
        },
    }


def remote_notebooks(emulator: Any, name: str) -> list[dict[str, Any]]:
    return [r for r in remote_objects(emulator, "notebook") if r.get("name") == name]


def remote(emulator: Any, nid: str) -> dict[str, Any] | None:
    return next((r for r in remote_objects(emulator, "notebook") if r["id"] == nid), None)


def remote_status(emulator: Any, nid: str) -> str | None:
    rec = remote(emulator, nid)
    return str(rec["_status"]) if rec else None


def tags_of(rec: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in rec.get("tags") or []}


def phase_is(phase: str) -> Any:
    return lambda o: (o.get("status") or {}).get("phase") == phase


def test_notebook_lifecycle(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-nb-life")
    apply(
        cp,
        notebook(
            "lab",
            description="v1",
            lease={"type": "TIMING", "durationMinutes": 120},
            ssh={"keyPairNames": ["dev-key"]},
        ),
        ns,
    )
    nb = wait_for(cp, "manb", "lab", ns, ready, op=operator)
    nid, status = nb["status"]["notebookId"], nb["status"]
    assert status["phase"] == "Running"
    assert status["url"].startswith("http")
    assert (status["imageName"], status["imageTag"]) == (CPU_IMAGE["name"], CPU_IMAGE["tag"])
    assert status["leaseType"] == "TIMING"
    assert status["sshUri"].startswith("ssh://")
    assert "leaseEndsAt" in status
    [rec] = remote_notebooks(emulator, "it-nb-life_lab")
    assert rec["id"] == nid
    assert tags_of(rec)[OWNER_TAG] == nb["metadata"]["uid"]  # marked as ours
    assert rec["lease"]["duration"] == 120 * 60_000
    table = cp.kubectl("get", "manb", "lab", "-n", ns).stdout.splitlines()
    assert status["url"] in table[1]

    # Description and disk size change while it runs.
    merge_patch(cp, "manb", "lab", ns, {"spec": {"description": "v2", "volume": {"capacity": 8}}})
    wait_until(
        lambda: (remote(emulator, nid) or {}).get("description") == "v2",
        what="the new description remotely",
    )
    wait_until(lambda: int(remote(emulator, nid)["volume"]["capacity"]) == 8, what="disk grown")

    # A flavor change on a running notebook is refused by the API: Synced=False naming it,
    # the remote flavor unchanged, until the notebook is stopped.
    merge_patch(cp, "manb", "lab", ns, {"spec": {"flavor": "modelarts.vm.cpu.8u"}})
    nb = wait_for(
        cp,
        "manb",
        "lab",
        ns,
        lambda o: condition(o, "Synced").get("reason") == "StopRequired",
        op=operator,
    )
    assert "flavor" in condition(nb, "Synced")["message"]
    assert "spec.stopped" in condition(nb, "Synced")["message"]
    assert remote(emulator, nid)["flavor"] == "modelarts.vm.cpu.2u"
    assert remote_status(emulator, nid) == "RUNNING"

    # stopped: true → Stopped remotely, and the flavor is applied while stopped.
    merge_patch(cp, "manb", "lab", ns, {"spec": {"stopped": True}})
    nb = wait_for(
        cp, "manb", "lab", ns, lambda o: phase_is("Stopped")(o) and synced(o), op=operator
    )
    assert condition(nb, "Ready")["reason"] == "Stopped"
    assert remote_status(emulator, nid) == "STOPPED"
    wait_until(lambda: remote(emulator, nid)["flavor"] == "modelarts.vm.cpu.8u", what="flavor")

    # stopped: false → Running again, same notebook.
    merge_patch(cp, "manb", "lab", ns, {"spec": {"stopped": False}})
    nb = wait_for(cp, "manb", "lab", ns, lambda o: ready(o) and synced(o), op=operator)
    assert nb["status"]["notebookId"] == nid
    assert nb["status"]["flavor"] == "modelarts.vm.cpu.8u"
    assert remote_status(emulator, nid) == "RUNNING"
    reasons = {e["reason"] for e in events_for(cp, ns, "lab")}
    assert {"Created", "Updated", "Stopped", "Started"} <= reasons
    assert len(remote_notebooks(emulator, "it-nb-life_lab")) == 1

    delete_obj(cp, "manb", "lab", ns)
    assert remote_notebooks(emulator, "it-nb-life_lab") == []


def _advance_clock(emulator: Any, seconds: float) -> None:
    httpx.post(
        f"{emulator.url}/_emulator/clock/advance", json={"seconds": seconds}
    ).raise_for_status()


def test_lease_expiry_is_shown_and_not_fought(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-nb-lease")
    apply(cp, notebook("lease", lease={"type": "TIMING", "durationMinutes": 60}), ns)
    nb = wait_for(cp, "manb", "lease", ns, ready, op=operator)
    nid = nb["status"]["notebookId"]

    _advance_clock(emulator, 3600 + 30)  # the lease ends: ModelArts stops it by itself
    nb = wait_for(cp, "manb", "lease", ns, phase_is("Stopped"), timeout=60, op=operator)
    assert condition(nb, "Ready")["reason"] == "LeaseExpired"
    assert "restartToken" in condition(nb, "Ready")["message"]
    assert condition(nb, "Synced")["status"] == "True"  # nothing the operator failed at
    assert condition(nb, "Failed").get("status") != "True"
    # A restarted operator resumes every object, and a reconcile after that (the barrier:
    # it has run once the annotation it asks for is handled) does not start it again.
    operator.restart()
    reconciled_again(cp, "manb", "lease", ns, op=operator)
    assert remote_status(emulator, nid) == "STOPPED"
    nb = get_obj(cp, "manb", "lease", ns) or {}
    assert phase_is("Stopped")(nb)
    assert condition(nb, "Ready")["reason"] == "LeaseExpired"
    assert "Started" not in {e["reason"] for e in events_for(cp, ns, "lease")}

    # A spec change starts it again.
    merge_patch(cp, "manb", "lease", ns, {"spec": {"restartToken": "1"}})
    nb = wait_for(cp, "manb", "lease", ns, lambda o: ready(o) and synced(o), op=operator)
    assert remote_status(emulator, nid) == "RUNNING"
    delete_obj(cp, "manb", "lease", ns)
    assert remote(emulator, nid) is None


def test_unknown_image_is_named_and_nothing_is_created(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-nb-image")
    apply(cp, notebook("noimg", image={"name": "no-such-image", "tag": "9.9"}), ns)
    nb = wait_for(
        cp,
        "manb",
        "noimg",
        ns,
        lambda o: condition(o, "Synced").get("reason") == "ImageNotFound",
        op=operator,
    )
    assert "no-such-image:9.9" in condition(nb, "Synced")["message"]
    assert condition(nb, "Ready")["status"] == "False"
    assert remote_notebooks(emulator, "it-nb-image_noimg") == []
    # Fixed: the image by ID is used and the notebook comes up.
    merge_patch(
        cp,
        "manb",
        "noimg",
        ns,
        {"spec": {"image": {"id": TORCH_IMAGE_ID, "name": None, "tag": None}}},
    )
    nb = wait_for(cp, "manb", "noimg", ns, ready, op=operator)
    assert nb["status"]["imageId"] == TORCH_IMAGE_ID
    delete_obj(cp, "manb", "noimg", ns)
    assert remote_notebooks(emulator, "it-nb-image_noimg") == []


def _create_remote(emulator: Any, name: str, tags: dict[str, str] | None = None) -> str:
    """A notebook created straight through the API (someone else's, or ours from before a
    crash), optionally tagged."""

    async def create(client: Any) -> str:
        created = await client.notebooks.create(
            NotebookCreateRequest(
                name=name,
                image_id="e1a07296-22a8-4f05-8bc8-e936c8e54090",
                flavor="modelarts.vm.cpu.2u",
                volume=VolumeMount(category="EVS", ownership="MANAGED", capacity=5),
            )
        )
        if tags:
            await client.notebooks.add_tags(str(created.id), tags)
        return str(created.id)

    return str(modelarts(emulator, create))


def _delete_remote(emulator: Any, nid: str) -> None:
    async def delete(client: Any) -> None:
        await client.notebooks.delete(nid)

    modelarts(emulator, delete)


def test_a_repeated_name_remotely_is_not_taken_for_ours(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-nb-repeat")
    theirs = _create_remote(emulator, "it-nb-repeat_dup")
    apply(cp, notebook("dup"), ns)
    nb = wait_for(cp, "manb", "dup", ns, ready, op=operator)
    ours = nb["status"]["notebookId"]
    assert ours != theirs
    recs = {r["id"]: r for r in remote_notebooks(emulator, "it-nb-repeat_dup")}
    assert set(recs) == {ours, theirs}
    assert OWNER_TAG not in tags_of(recs[theirs])
    delete_obj(cp, "manb", "dup", ns)
    assert [r["id"] for r in remote_notebooks(emulator, "it-nb-repeat_dup")] == [theirs]
    _delete_remote(emulator, theirs)


def test_interrupted_create_is_recovered_by_name_time_and_tag(
    operator: OperatorProcess, emulator: Any
) -> None:
    """The operator wrote its create intent, created the notebook and died before tagging it.
    Started again, it binds to that notebook (named so, created since the object, untagged),
    tags it, and creates nothing; a same-named notebook tagged for another object is not
    touched."""
    cp = operator.cp
    ns = namespace(cp, "it-nb-recover")
    name = remote_name(ns, "crashed")
    operator.stop()
    try:
        manifest = notebook("crashed")
        manifest["metadata"]["annotations"] = {CREATE_PENDING: name}
        apply(cp, manifest, ns)
        uid = (get_obj(cp, "manb", "crashed", ns) or {})["metadata"]["uid"]
        other = _create_remote(emulator, name, {OWNER_TAG: "another-object-uid"})
        untagged = _create_remote(emulator, name)
    finally:
        operator.start()
    nb = wait_for(cp, "manb", "crashed", ns, ready, timeout=90, op=operator)
    assert nb["status"]["notebookId"] == untagged
    assert CREATE_PENDING not in nb["metadata"].get("annotations", {})
    recs = {r["id"]: r for r in remote_notebooks(emulator, name)}
    assert set(recs) == {other, untagged}  # no third notebook
    assert tags_of(recs[untagged])[OWNER_TAG] == uid
    assert tags_of(recs[other])[OWNER_TAG] == "another-object-uid"
    messages = [e["message"] for e in events_for(cp, ns, "crashed")]
    assert any("recovered interrupted create" in m for m in messages), messages
    delete_obj(cp, "manb", "crashed", ns)
    assert [r["id"] for r in remote_notebooks(emulator, name)] == [other]
    _delete_remote(emulator, other)
