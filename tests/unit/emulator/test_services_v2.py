"""v2 inference services in the emulator: validation that names the field, the state machine
on the clock (deploy, rolling upgrade, stop/start, scheduled stop, async delete), the predict
URL, forced outcomes, faults and counters, persistence, and a workspace's deletion."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelarts_testbed.emulator import DEFAULT_PROJECT_ID, EmulatorConfig

from .conftest import Env, open_env

S = f"/v2/{DEFAULT_PROJECT_ID}/services"
BODY: dict[str, Any] = {
    "name": "svc",
    "type": "REAL_TIME",
    "group_configs": [
        {
            "name": "main",
            "weight": 100,
            "pool_id": "pool-1",
            "unit_configs": [
                {"image": {"source": "SWR", "swr_path": "r/i:1"}, "flavor": "f.cpu", "port": 80}
            ],
        }
    ],
    "runtime_config": {
        "service_invoke": {"port": 80, "protocol": "HTTP", "auth_type": "NONE"},
        "service_limit": {
            "rate_limit": {"num": 200, "unit": "SECONDS"},
            "request_size_limit": 12,
            "request_timeout": 40,
        },
    },
}


def body(name: str = "svc", **top: Any) -> dict[str, Any]:
    out = copy.deepcopy(BODY)
    out["name"] = name
    out.update(top)
    return out


def unit_with(**fields: Any) -> dict[str, Any]:
    out = body()
    out["group_configs"][0]["unit_configs"][0].update(fields)
    return out


async def create(env: Env, data: dict[str, Any]) -> dict[str, Any]:
    resp = await env.http.post(S, json=data)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def status(env: Env, sid: str) -> str:
    return str((await env.http.get(f"{S}/{sid}")).json()["status"])


def _two_groups() -> dict[str, Any]:
    out = body()
    out["group_configs"].append(copy.deepcopy(out["group_configs"][0]))
    return out


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({k: v for k, v in BODY.items() if k != "type"}, "ModelArts.0115", "type"),
        (body(name="bad name!"), "ModelArts.0107", "name"),
        (body(version="1.0"), "ModelArts.0107", "version"),
        (body(type="STREAM"), "ModelArts.0107", "type"),
        (body(runtime_config={"service_invoke": BODY["runtime_config"]["service_invoke"]}),
         "ModelArts.0115", "service_limit"),
        (unit_with(custom_spec={"cpu": 1, "gpu": 1, "ascend": 1}), "ModelArts.0107", "ascend"),
        (_two_groups(), "ModelArts.0107", "group_configs"),
        (unit_with(image=None), "ModelArts.0115", "unit_configs[0].image"),
        (unit_with(envs={"1BAD": "x"}), "ModelArts.0107", "envs"),
        (unit_with(files=[{"source": "NFS", "mount_path": "/m"}]), "ModelArts.0107", "source"),
        (unit_with(models=[{"source": "OBS", "mount_path": "rel"}]), "ModelArts.0107",
         "models[0].mount_path"),
        (unit_with(readiness_health={"check_method": "HTTP", "url": "health"}),
         "ModelArts.0107", "readiness_health.url"),
        (body(runtime_config={}), "ModelArts.0115", "service_invoke"),
        (body(schedule=[{"type": "STOP", "time_unit": "DAYS", "duration": 8}]),
         "ModelArts.0107", "schedule[0].duration"),
        (body(tags=[{"key": "_sys_x", "value": "1"}]), "ModelArts.0107", "tags[0].key"),
    ],
)  # fmt: skip
async def test_bad_bodies_name_the_field(
    env: Env, data: dict[str, Any], code: str, field: str
) -> None:
    resp = await env.http.post(S, json=data)
    assert resp.status_code == 400
    error = resp.json()
    assert error["error_code"] == code
    assert field in error["error_msg"]
    assert (await env.http.get(S)).json()["total"] == 0  # nothing was created


async def test_deploy_predict_url_and_busy_updates(env: Env) -> None:
    svc = await create(env, body())
    url = f"/v2/infers/{svc['id']}"
    assert (await env.http.post(url, json={})).status_code == 503
    resp = await env.http.put(f"{S}/{svc['id']}", json={"description": "x"})
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.3519"
    env.advance(30)
    assert (await env.http.post(url, json={})).status_code == 200
    shown = (await env.http.get(f"{S}/{svc['id']}")).json()
    assert shown["predict_url"][0]["urls"] == [env.url + url]
    assert shown["version"]["predict_url"] == env.url + url


async def test_upgrade_while_stopped_applies_at_start(env: Env) -> None:
    sid = (await create(env, body()))["id"]
    env.advance(30)
    await env.http.post(f"{S}/{sid}/stop")
    env.advance(10)
    groups = copy.deepcopy(BODY["group_configs"])
    groups[0]["unit_configs"][0]["image"]["swr_path"] = "r/i:2"
    resp = await env.http.put(f"{S}/{sid}", json={"version": "1.0.1", "group_configs": groups})
    assert resp.json()["status"] == "STOPPED"
    assert resp.json()["version"]["version"] == "1.0.1"
    await env.http.post(f"{S}/{sid}/start")
    env.advance(30)
    shown = (await env.http.get(f"{S}/{sid}")).json()
    assert shown["status"] == "RUNNING"
    image = shown["version"]["instance_groups"][0]["unit_configs"][0]["image"]
    assert image["swr_path"] == "r/i:2"
    versions = (await env.http.get(f"{S}/{sid}/versions")).json()["data"]
    assert [v["version"] for v in versions] == ["1.0.1", "1.0.0"]


async def test_schedule_stops_a_running_service(env: Env) -> None:
    sched = [{"type": "STOP", "time_unit": "HOURS", "duration": 1}]
    sid = (await create(env, body(schedule=sched)))["id"]
    env.advance(30)
    shown = (await env.http.get(f"{S}/{sid}")).json()
    assert shown["status"] == "RUNNING"
    assert shown["schedule"][0]["processed"] is False
    env.advance(3600)
    shown = (await env.http.get(f"{S}/{sid}")).json()
    assert shown["status"] == "STOPPED"
    assert shown["schedule"][0]["processed"] is True


async def test_forced_outcomes(env: Env) -> None:
    env.emulator.force(kind="service_v2", name="doomed", status="ERROR", error_msg="no GPUs")
    doomed = (await create(env, body("doomed")))["id"]
    ok = (await create(env, body("ok")))["id"]
    env.advance(30)
    failed = (await env.http.get(f"{S}/{doomed}")).json()
    assert failed["status"] == "ERROR"
    assert failed["failure_reason"] == "no GPUs"
    env.emulator.force(kind="service_v2", id=ok, status="CONCERNING")
    assert await status(env, ok) == "CONCERNING"
    resp = await env.http.post(f"{S}/{doomed}/start")
    assert resp.json()["status"] == "DEPLOYING"  # a failed service can be started again
    env.advance(30)
    assert await status(env, doomed) == "RUNNING"


async def test_faults_counters_and_behind_the_back_delete(env: Env) -> None:
    env.emulator.add_fault(endpoint="GET /v2/{project_id}/services", kind="throttle", times=1)
    resp = await env.http.get(S)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "1"
    assert (await env.http.get(S)).status_code == 200
    assert env.emulator.calls("GET /v2/{project_id}/services") == 2
    sid = (await create(env, body()))["id"]
    assert env.emulator.delete_object("service_v2", sid)
    assert (await env.http.get(f"{S}/{sid}")).status_code == 404
    await create(env, body())  # the name is free again


async def test_state_file_keeps_services(tmp_path: Any) -> None:
    path = str(tmp_path / "state.json")
    async with open_env(EmulatorConfig(seed=3, state_file=path)) as env:
        sid = (await create(env, body()))["id"]
        env.advance(30)
    restarted = EmulatorConfig(seed=3, state_file=path)
    async with open_env(restarted) as env:
        assert await status(env, sid) == "RUNNING"
        resp = await env.http.post(S, json=body())
        assert resp.json()["error_code"] == "ModelArts.3503"  # the name index survived too


async def test_workspace_deletion_takes_its_services(env: Env) -> None:
    ws = await env.http.post(f"/v1/{DEFAULT_PROJECT_ID}/workspaces", json={"name": "team"})
    ws_id = ws.json()["id"]
    sid = (await create(env, body(workspace_id=ws_id)))["id"]
    await env.http.delete(f"/v1/{DEFAULT_PROJECT_ID}/workspaces/{ws_id}")
    env.advance(10)
    assert (await env.http.get(f"{S}/{sid}")).status_code == 404


async def test_a_repeated_upgrade_is_accepted_once(env: Env) -> None:
    """A client that lost the answer to an upgrade re-sends the same PUT: no second version,
    no 409 although the service is UPGRADING; the same version with another config is refused."""
    sid = (await create(env, body()))["id"]
    env.advance(30)
    groups = copy.deepcopy(BODY["group_configs"])
    groups[0]["unit_configs"][0]["image"]["swr_path"] = "r/i:2"
    upgrade = {"version": "1.0.1", "group_configs": groups}
    assert (await env.http.put(f"{S}/{sid}", json=upgrade)).json()["status"] == "UPGRADING"
    again = await env.http.put(f"{S}/{sid}", json=upgrade)
    assert again.status_code == 200
    assert again.json()["status"] == "UPGRADING"
    env.advance(30)
    groups[0]["unit_configs"][0]["port"] = 81
    resp = await env.http.put(f"{S}/{sid}", json={"version": "1.0.1", "group_configs": groups})
    assert resp.status_code == 400
    assert "version" in resp.json()["error_msg"]
    versions = (await env.http.get(f"{S}/{sid}/versions")).json()
    assert [v["version"] for v in versions["data"]] == ["1.0.1", "1.0.0"]


async def test_secret_values_are_not_echoed(env: Env) -> None:
    data = body()
    data["runtime_config"]["service_secret"] = {
        "secret_enable": True,
        "secret_type": "custom",
        "secret_volumes": [
            {"secret_name": "db", "secret_key": "pw", "secret_value": "aHVudGVyMg==",
             "mount_path": "/secrets"}
        ],
    }  # fmt: skip
    sid = (await create(env, data))["id"]
    shown = await env.http.get(f"{S}/{sid}")
    assert "aHVudGVyMg==" not in shown.text
    volume = shown.json()["version"]["runtime_config"]["service_secret"]["secret_volumes"][0]
    assert volume["secret_name"] == "db"


async def test_switch_needs_a_recorded_version(env: Env) -> None:
    sid = (await create(env, body()))["id"]
    resp = await env.http.post(f"{S}/{sid}/versions/switch", json={"target_version_id": "nope"})
    assert resp.status_code == 400
    assert "target_version_id" in resp.json()["error_msg"]
    resp = await env.http.post(f"{S}/{sid}/versions/switch", json={})
    assert resp.json()["error_code"] == "ModelArts.0115"
