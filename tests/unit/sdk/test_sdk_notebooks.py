"""The official SDK's notebook, image and flavor calls against the emulator: answers parse
into the SDK's models with the declared JSON types; "not found" answers are HTTP 400 with the
codes real clients test for (6309, 6404) and "already in that state" is 6357."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from huaweicloudsdkmodelarts.v1 import (
    CreateNotebookRequest,
    CreateNotebookTagsRequest,
    CreateTmsTagsRequest,
    DeleteNotebookRequest,
    DeleteNotebookTagsRequest,
    DeleteTmsTagsRequest,
    LeaseReq,
    ListFlavorsRequest,
    ListImageRequest,
    ListNotebooksRequest,
    NotebookCreateRequest,
    NotebookUpdateRequest,
    RenewLeaseRequest,
    ShowLeaseRequest,
    ShowNotebookRequest,
    ShowNotebookTagsRequest,
    StartNotebookRequest,
    StopNotebookRequest,
    TmsTag,
    UpdateNotebookRequest,
)

from .svc2_judge import Judge, judge

HOUR_MS = 3_600_000


@pytest.fixture
def j() -> Iterator[Judge]:
    with judge() as opened:
        yield opened


def image_id(j: Judge, name: str = "notebook2.0-mul-kernel-cpu-cp36") -> str:
    images = j.call(j.sdk.list_image, ListImageRequest(name=name))
    assert images.total == 1
    return str(images.data[0].id)


def create(j: Judge, name: str, **overrides: Any) -> Any:
    body: dict[str, Any] = {
        "name": name,
        "image_id": image_id(j),
        "flavor": "modelarts.vm.cpu.2u",
        "volume": {"category": "EVS", "ownership": "MANAGED", "capacity": 5},
        "lease": {"duration": HOUR_MS, "type": "TIMING"},
        "workspace_id": "0",
        "endpoints": [{"service": "SSH", "key_pair_names": ["kp-1"]}],
    }
    body.update(overrides)
    return j.call(j.sdk.create_notebook, CreateNotebookRequest(body=body))


def show(j: Judge, nid: str) -> Any:
    return j.call(j.sdk.show_notebook, ShowNotebookRequest(id=nid))


def test_catalogues(j: Judge) -> None:
    flavors = j.call(j.sdk.list_flavors, ListFlavorsRequest(category="CPU"))
    codes = {f.id for f in flavors.flavors}
    assert "modelarts.vm.cpu.2u" in codes
    assert all(f.category == "CPU" for f in flavors.flavors)
    fuzzy = j.call(j.sdk.list_image, ListImageRequest(name="pytorch", name_fuzzy_match=True))
    assert [i.name for i in fuzzy.data] == ["pytorch1.8-cuda10.2-cudnn7-ubuntu18.04"]
    assert fuzzy.data[0].swr_path.endswith(":2.0.0")
    assert fuzzy.data[0].tag == "2.0.0"
    assert j.call(j.sdk.list_image, ListImageRequest(name="pytorch")).total == 0


def test_create_runs_and_lists_repeated_names(j: Judge) -> None:
    first = create(j, "nb-dev")
    assert first.status == "INIT"
    assert first.image.id == image_id(j)
    assert first.lease.duration == HOUR_MS
    assert first.lease.enable is True
    assert first.volume.mount_path.startswith("/home/ma-user/work")
    second = create(j, "nb-dev")
    assert second.id != first.id
    j.advance(20)
    shown = show(j, first.id)
    assert shown.status == "RUNNING"
    assert shown.url
    assert shown.endpoints[0].uri.startswith("ssh://")
    assert [p.status for p in shown.action_progress] == ["COMPLETED"] * 4
    listed = j.call(j.sdk.list_notebooks, ListNotebooksRequest(name="nb-dev", limit=10))
    assert sorted(n.id for n in listed.data) == sorted([first.id, second.id])
    assert listed.total == 2
    j.refused(400, "ModelArts.6400", j.sdk.list_notebooks, ListNotebooksRequest(limit=15))


def test_a_sdk_model_body_is_accepted(j: Judge) -> None:
    body = NotebookCreateRequest(
        name="nb-model",
        image_id=image_id(j),
        flavor="modelarts.vm.cpu.8u",
        volume={"category": "EVS", "ownership": "MANAGED", "capacity": 10},
        lease=LeaseReq(duration=2 * HOUR_MS, type="IDLE"),
    )
    created = j.call(j.sdk.create_notebook, CreateNotebookRequest(body=body))
    assert created.lease.type == "IDLE"
    assert created.volume.capacity == 10


def test_timed_lease_stops_it_by_itself(j: Judge) -> None:
    nid = create(j, "nb-lease").id
    j.advance(20)
    assert show(j, nid).status == "RUNNING"
    lease = j.call(j.sdk.show_lease, ShowLeaseRequest(id=nid))
    assert lease.duration == HOUR_MS
    j.advance(3600 + 10)
    assert show(j, nid).status == "STOPPED"
    started = j.call(
        j.sdk.start_notebook, StartNotebookRequest(id=nid, duration=2 * HOUR_MS, type="TIMING")
    )
    assert started.status == "STARTING"
    assert started.lease.duration == 2 * HOUR_MS
    j.advance(20 + 3600)
    assert show(j, nid).status == "RUNNING"  # the new lease is two hours
    renewed = j.call(
        j.sdk.renew_lease, RenewLeaseRequest(id=nid, body=LeaseReq(duration=3 * HOUR_MS))
    )
    assert renewed.duration == 3 * HOUR_MS
    j.advance(2 * 3600)
    assert show(j, nid).status == "RUNNING"  # renewed from now, not from the start
    j.advance(3600 + 10)
    assert show(j, nid).status == "STOPPED"


def test_update_respects_the_stopped_only_fields(j: Judge) -> None:
    nid = create(j, "nb-up").id
    j.advance(20)
    renamed = j.call(
        j.sdk.update_notebook,
        UpdateNotebookRequest(
            id=nid, body=NotebookUpdateRequest(name="nb-up2", storage_new_size=20)
        ),
    )
    assert renamed.name == "nb-up2"
    assert renamed.volume.capacity == 20
    change_flavor = UpdateNotebookRequest(
        id=nid, body=NotebookUpdateRequest(flavor="modelarts.vm.cpu.8u")
    )
    assert "STOPPED" in j.refused(400, "ModelArts.6357", j.sdk.update_notebook, change_flavor)
    stopping = j.call(j.sdk.stop_notebook, StopNotebookRequest(id=nid))
    assert stopping.status == "STOPPING"
    j.advance(10)
    j.refused(400, "ModelArts.6357", j.sdk.stop_notebook, StopNotebookRequest(id=nid))
    changed = j.call(j.sdk.update_notebook, change_flavor)
    assert changed.flavor == "modelarts.vm.cpu.8u"
    assert changed.status == "STOPPED"


def test_tags_mark_and_filter(j: Judge) -> None:
    ours, other = create(j, "nb-t").id, create(j, "nb-t").id
    tags = CreateTmsTagsRequest(tags=[TmsTag(key="managed-by", value="modelarts-operator")])
    j.call(j.sdk.create_notebook_tags, CreateNotebookTagsRequest(resource_id=ours, body=tags))
    query = ListNotebooksRequest(name="nb-t", tags="managed-by|modelarts-operator")
    listed = j.call(j.sdk.list_notebooks, query)
    assert [n.id for n in listed.data] == [ours]
    assert listed.data[0].tags[0].value == "modelarts-operator"
    assert other != ours
    # show_notebook_tags is GET /v1/{project_id}/notebooks/tags: the project's tag keys, not a
    # notebook called "tags" (issue 23: it was read as a notebook ID and answered 400).
    every = j.call(j.sdk.show_notebook_tags, ShowNotebookTagsRequest())
    assert [(t.key, t.values) for t in every.tags] == [("managed-by", ["modelarts-operator"])]
    untag = DeleteNotebookTagsRequest(
        resource_id=ours, body=DeleteTmsTagsRequest(tags=[TmsTag(key="managed-by")])
    )
    j.call(j.sdk.delete_notebook_tags, untag)
    assert j.call(j.sdk.list_notebooks, query).total == 0
    assert show(j, ours).tags == []


def test_delete_then_not_found(j: Judge) -> None:
    nid = create(j, "nb-del").id
    j.advance(20)
    deleting = j.call(j.sdk.delete_notebook, DeleteNotebookRequest(id=nid))
    assert deleting.status == "DELETING"
    j.refused(400, "ModelArts.6357", j.sdk.delete_notebook, DeleteNotebookRequest(id=nid))
    j.advance(10)
    j.refused(400, "ModelArts.6309", j.sdk.show_notebook, ShowNotebookRequest(id=nid))
    j.refused(400, "ModelArts.6404", j.sdk.delete_notebook, DeleteNotebookRequest(id=nid))
    assert j.call(j.sdk.list_notebooks, ListNotebooksRequest()).total == 0


def test_documented_refusals_parse(j: Judge) -> None:
    bad_image = {"image_id": "00000000-0000-4000-8000-000000000000"}
    msg = j.refused(
        400, "ModelArts.6400", j.sdk.create_notebook,
        CreateNotebookRequest(body={**_minimal(j), **bad_image}),
    )  # fmt: skip
    assert "image_id" in msg
    short = {"lease": {"duration": 60_000, "type": "TIMING"}}
    msg = j.refused(
        400, "ModelArts.6400", j.sdk.create_notebook,
        CreateNotebookRequest(body={**_minimal(j), **short}),
    )  # fmt: skip
    assert "lease.duration" in msg


def _minimal(j: Judge) -> dict[str, Any]:
    return {
        "name": "nb-x",
        "image_id": image_id(j),
        "flavor": "modelarts.vm.cpu.2u",
        "volume": {"category": "EVS", "ownership": "MANAGED"},
    }
