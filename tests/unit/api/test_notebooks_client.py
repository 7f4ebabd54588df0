"""``client.notebooks`` against the emulator: image lookup by name and tag, marking by tags
(names repeat), item-offset paging, the lease stopping a notebook, and the family's own "not
found" (HTTP 400 6309/6404) and "already so" (6357) answers mapped to error classes."""

from __future__ import annotations

import pytest

from modelarts_operator.api import ModelArtsClient, errors
from modelarts_operator.api.notebooks import (
    EndpointRequest,
    LeaseRequest,
    NotebookCreateRequest,
    NotebookUpdateRequest,
    VolumeMount,
)
from modelarts_testbed.emulator.server import Emulator

MARK = {"modelarts.huaweicloud.com/owner": "ns.nb-uid-1"}
LIST = "GET /v1/{project_id}/notebooks"


async def request(client: ModelArtsClient, name: str) -> NotebookCreateRequest:
    image = await client.notebooks.find_image("notebook2.0-mul-kernel-cpu-cp36", "3.3.2-release-v1")
    assert image is not None
    assert image.id is not None
    return NotebookCreateRequest(
        name=name,
        image_id=image.id,
        flavor="modelarts.vm.cpu.2u",
        volume=VolumeMount(category="EVS", ownership="MANAGED", capacity=5),
        lease=LeaseRequest(duration=3_600_000),
        endpoints=[EndpointRequest(service="SSH", key_pair_names=["kp"])],
    )


async def test_catalogues(client: ModelArtsClient) -> None:
    assert await client.notebooks.find_image("notebook2.0-mul-kernel-cpu-cp36", "0.0.1") is None
    assert await client.notebooks.find_image("no-such-image") is None
    gpu = await client.notebooks.flavors(category="GPU")
    assert [f.id for f in gpu] == ["modelarts.vm.gpu.t4u8"]


async def test_marked_lookup_among_repeated_names(client: ModelArtsClient) -> None:
    ours = await client.notebooks.create(await request(client, "nb-dev"))
    theirs = await client.notebooks.create(await request(client, "nb-dev"))
    assert ours.id is not None
    await client.notebooks.add_tags(ours.id, MARK)
    await client.notebooks.add_tags(ours.id, MARK)  # a repeat changes nothing
    found = await client.notebooks.find_marked("nb-dev", MARK)
    assert [nb.id for nb in found] == [ours.id]
    assert found[0].tags[0].key == "modelarts.huaweicloud.com/owner"
    assert theirs.id not in {nb.id for nb in found}
    assert await client.notebooks.find_marked("nb-de", MARK) == []  # exact names only


async def test_an_untagged_create_is_found_by_name_and_time(
    client: ModelArtsClient, emu: Emulator
) -> None:
    """A crash between create and add_tags: the notebook created since the intent is ours."""
    old = await client.notebooks.create(await request(client, "nb-crash"))
    emu.advance(60)
    intent_at = emu.core.now_ms()
    ours = await client.notebooks.create(await request(client, "nb-crash"))
    assert await client.notebooks.find_marked("nb-crash", MARK) == []
    since = await client.notebooks.find_named("nb-crash", created_since_ms=intent_at)
    assert [nb.id for nb in since] == [ours.id]
    every = await client.notebooks.find_named("nb-crash")
    assert {nb.id for nb in every} == {old.id, ours.id}


async def test_iter_all_pages(client: ModelArtsClient, emu: Emulator) -> None:
    body = await request(client, "nb")
    for _ in range(23):
        await client.notebooks.create(body)
    emu.core.calls.clear()
    ids = [nb.id async for nb in client.notebooks.iter_all(page_size=10)]
    assert len(set(ids)) == 23
    assert emu.calls(LIST) == 3
    with pytest.raises(ValueError, match="limit"):
        await client.notebooks.list(limit=15)


async def test_lifecycle_and_family_errors(client: ModelArtsClient, emu: Emulator) -> None:
    nb = await client.notebooks.create(await request(client, "nb-life"))
    assert nb.id is not None
    assert nb.status == "INIT"
    emu.advance(20)
    running = await client.notebooks.get(nb.id)
    assert running.status == "RUNNING"
    assert running.url
    assert running.ssh_uri
    assert running.lease is not None
    with pytest.raises(errors.StateConflict) as info:
        await client.notebooks.update(nb.id, NotebookUpdateRequest(flavor="modelarts.vm.cpu.8u"))
    assert info.value.error_code == "ModelArts.6357"
    described = await client.notebooks.update(nb.id, NotebookUpdateRequest(description="d"))
    assert described.description == "d"
    ends = running.lease.ends_at
    assert ends is not None
    emu.advance((ends - emu.core.now_ms()) / 1000 - 1)
    assert (await client.notebooks.get(nb.id)).status == "RUNNING"
    emu.advance(10)  # the lease ends: it stops by itself
    assert (await client.notebooks.get(nb.id)).status == "STOPPED"
    with pytest.raises(errors.StateConflict):
        await client.notebooks.stop(nb.id)
    resized = await client.notebooks.update(
        nb.id, NotebookUpdateRequest(flavor="modelarts.vm.cpu.8u", storage_new_size=50)
    )
    assert resized.flavor == "modelarts.vm.cpu.8u"
    assert resized.volume is not None
    assert resized.volume.capacity == 50
    started = await client.notebooks.start(nb.id, duration_ms=7_200_000, lease_type="TIMING")
    assert started.status == "STARTING"
    emu.advance(20)
    lease = await client.notebooks.lease(nb.id)
    assert lease.duration == 7_200_000
    renewed = await client.notebooks.renew_lease(nb.id, duration_ms=10_800_000)
    assert renewed.duration == 10_800_000
    deleting = await client.notebooks.delete(nb.id)
    assert deleting is not None
    assert deleting.status == "DELETING"
    assert await client.notebooks.delete(nb.id) is None  # already being deleted (6357)
    emu.advance(10)
    with pytest.raises(errors.NotFound) as gone:
        await client.notebooks.get(nb.id)
    assert (gone.value.status, gone.value.error_code) == (400, "ModelArts.6309")
    with pytest.raises(errors.NotFound) as again:
        await client.notebooks.delete(nb.id)
    assert again.value.error_code == "ModelArts.6404"


async def test_invalid_parameters_name_the_field(client: ModelArtsClient) -> None:
    body = (await request(client, "nb-bad")).model_copy(update={"image_id": "nope"})
    with pytest.raises(errors.InvalidParameter) as info:
        await client.notebooks.create(body)
    assert info.value.error_code == "ModelArts.6400"
    assert "image_id" in (info.value.error_msg or "")


async def test_a_create_is_never_sent_twice(client: ModelArtsClient, emu: Emulator) -> None:
    emu.add_fault(endpoint="POST /v1/{project_id}/notebooks", kind="drop", times=1)
    with pytest.raises(errors.Ambiguous):
        await client.notebooks.create(await request(client, "nb-amb"))
    assert emu.calls("POST /v1/{project_id}/notebooks") == 1
    assert await client.notebooks.find_marked("nb-amb", MARK) == []
