"""Notebooks in the emulator: validation that names the field, the state machine on the
clock (INIT -> CREATING -> STARTING -> RUNNING; lease expiry; stop/start; delete), the
lab URL, forced outcomes and persistence."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelarts_testbed.emulator import DEFAULT_PROJECT_ID, EmulatorConfig
from modelarts_testbed.emulator.notebooks import IMAGES

from .conftest import Env, open_env

N = f"/v1/{DEFAULT_PROJECT_ID}/notebooks"
HOUR = 3_600_000
BODY: dict[str, Any] = {
    "name": "nb",
    "image_id": IMAGES[0]["id"],
    "flavor": "modelarts.vm.cpu.2u",
    "volume": {"category": "EVS", "ownership": "MANAGED", "capacity": 5},
}


def body(**fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(BODY)
    out.update(fields)
    return out


async def create(env: Env, data: dict[str, Any]) -> dict[str, Any]:
    resp = await env.http.post(N, json=data)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def status(env: Env, nid: str) -> str:
    return str((await env.http.get(f"{N}/{nid}")).json()["status"])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({k: v for k, v in BODY.items() if k != "volume"}, "volume"),
        (body(name="x" * 129), "name"),
        (body(flavor=None), "custom_spec"),
        (body(flavor="modelarts.vm.tpu"), "flavor"),
        (body(flavor=None, custom_spec={"cpu": 0.2, "memory": 1024}), "custom_spec.cpu"),
        (body(volume={"category": "SFS", "ownership": "MANAGED"}), "volume.category"),
        (body(volume={"category": "EVS", "ownership": "MANAGED", "capacity": 4097}),
         "volume.capacity"),
        (body(volume={"category": "EFS", "ownership": "DEDICATED", "uri": "1.2.3.4:/"}),
         "volume.id"),
        (body(volume={"category": "OBS", "ownership": "DEDICATED", "uri": "obs://b/d/"}),
         "volume.dew_secret_name"),
        (body(lease={"duration": 300 * HOUR}), "lease.duration"),
        (body(lease={"type": "FOREVER"}), "lease.type"),
        (body(endpoints=[{"service": "SSH"}]), "key_pair_names"),
        (body(description="<b>"), "description"),
    ],
)  # fmt: skip
async def test_bad_bodies_name_the_field(env: Env, data: dict[str, Any], field: str) -> None:
    resp = await env.http.post(N, json=data)
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.6400"
    assert field in resp.json()["error_msg"]
    assert (await env.http.get(N)).json()["total"] == 0


async def test_create_walks_its_states_and_the_lab_answers_when_running(env: Env) -> None:
    nb = await create(env, body(lease={"duration": HOUR, "type": "TIMING"}))
    seen = [nb["status"]]
    for _ in range(40):
        env.advance(0.5)
        current = await status(env, nb["id"])
        if current != seen[-1]:
            seen.append(current)
    assert seen == ["INIT", "CREATING", "STARTING", "RUNNING"]
    shown = (await env.http.get(f"{N}/{nb['id']}")).json()
    assert shown["url"] == f"{env.url}/lab/{nb['id']}"
    assert (await env.http.get(f"/lab/{nb['id']}")).status_code == 200
    env.advance(HOUR / 1000 + 10)
    assert await status(env, nb["id"]) == "STOPPED"
    assert (await env.http.get(f"/lab/{nb['id']}")).status_code == 503


async def test_legacy_duration_minus_one_never_stops(env: Env) -> None:
    nb = await create(env, body(duration=-1, lease={"duration": HOUR}))
    assert nb["lease"]["enable"] is False
    env.advance(23 * 3600)  # far past any lease (tokens last 24 h)
    assert await status(env, nb["id"]) == "RUNNING"


async def test_start_of_a_running_notebook_is_6357(env: Env) -> None:
    nid = (await create(env, body()))["id"]
    env.advance(20)
    resp = await env.http.post(f"{N}/{nid}/start")
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.6357"
    resp = await env.http.post(f"{N}/{nid}/start?duration=60")
    assert resp.status_code == 400


async def test_forced_outcomes(env: Env) -> None:
    env.emulator.force(kind="notebook", name="broken", status="CREATE_FAILED", error_msg="quota")
    broken = await create(env, body(name="broken"))
    fine = await create(env, body(name="fine"))
    env.advance(20)
    shown = (await env.http.get(f"{N}/{broken['id']}")).json()
    assert shown["status"] == "CREATE_FAILED"
    assert shown["fail_reason"] == "quota"
    assert shown["action_progress"][-1]["status"] == "FAILED"
    env.emulator.force(kind="notebook", id=fine["id"], status="ERROR")
    assert await status(env, fine["id"]) == "ERROR"
    objects = (await env.http.get("/_emulator/objects/notebook")).json()["items"]
    assert sorted(o["_status"] for o in objects) == ["CREATE_FAILED", "ERROR"]


async def test_state_file_keeps_notebooks_and_their_lease(tmp_path: Any) -> None:
    path = str(tmp_path / "state.json")
    async with open_env(EmulatorConfig(seed=4, state_file=path)) as env:
        nid = (await create(env, body(lease={"duration": HOUR})))["id"]
        env.advance(20)
    async with open_env(EmulatorConfig(seed=4, state_file=path)) as env:
        assert await status(env, nid) == "RUNNING"
        env.advance(3600)
        assert await status(env, nid) == "STOPPED"


async def test_data_volumes_are_checked_and_shown(env: Env) -> None:
    extra = [{"category": "OBSFS", "ownership": "DEDICATED", "uri": "obs://b/data/",
              "mount_path": "/home/ma-user/work/data"}]  # fmt: skip
    nb = await create(env, body(data_volumes=extra))
    assert nb["data_volumes"] == [
        {"category": "OBSFS", "mount_path": "/home/ma-user/work/data", "url": "obs://b/data/",
         "status": "MOUNTED", "mount_type": "STATIC"}
    ]  # fmt: skip
    resp = await env.http.post(N, json=body(data_volumes=[{"category": "OBSFS"}]))
    assert resp.status_code == 400
    assert resp.json()["error_msg"].startswith("data_volumes[0]: ")


async def test_growing_the_volume_shows_resizing_for_a_moment(env: Env) -> None:
    nid = (await create(env, body()))["id"]
    env.advance(20)
    resp = await env.http.put(f"{N}/{nid}", json={"storage_new_size": 50})
    assert resp.json()["volume"] == {**resp.json()["volume"], "capacity": 50, "status": "RESIZING"}
    env.advance(10)
    shown = (await env.http.get(f"{N}/{nid}")).json()
    assert shown["volume"]["status"] == "MOUNTED"
    assert "resized_at" not in shown["volume"]
    resp = await env.http.put(f"{N}/{nid}", json={"storage_new_size": 40})
    assert resp.status_code == 400
    assert "storage_new_size" in resp.json()["error_msg"]
