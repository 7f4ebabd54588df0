"""Services: deploy -> deploying (progress) -> running, update, stop/start, batch, errors."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_testbed.emulator import EmulatorConfig

from .conftest import Env, P, model_body, open_env, published_model, realtime_body

S = P + "/services"


async def deploy(env: Env, body: dict[str, Any]) -> str:
    resp = await env.http.post(S, json=body)
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"service_id"}
    return str(resp.json()["service_id"])


async def detail(env: Env, sid: str) -> dict[str, Any]:
    resp = await env.http.get(f"{S}/{sid}")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_a_restored_service_answers_at_the_restarted_emulators_address(
    tmp_path: Any,
) -> None:
    """The access address follows the emulator: restored from its state file on another
    port, a running service's address is the new one and answers there."""
    config = EmulatorConfig(seed=7, state_file=str(tmp_path / "state.json"))
    async with open_env(config) as env:
        sid = await deploy(env, realtime_body("svc", await published_model(env)))
        env.advance(30)
        assert (await detail(env, sid))["status"] == "running"
        first_url = env.url
        env.emulator.save()
    async with open_env(config) as env:
        assert env.url != first_url
        d = await detail(env, sid)
        assert d["access_address"] == f"{env.url}/v1/infers/{sid}"
        assert (await env.http.post(d["access_address"], json={"images": "x"})).status_code == 200


async def test_realtime_deploys_with_progress_then_runs(env: Env) -> None:
    mid = await published_model(env)
    sid = await deploy(env, realtime_body("svc", mid))
    d = await detail(env, sid)
    assert d["status"] == "deploying"
    assert d["progress"] < 100
    assert d["config"][0]["status"] == "notReady"
    assert d["config"][0]["weight"] == 100
    env.advance(5)
    mid_progress = (await detail(env, sid))["progress"]
    assert 0 < mid_progress < 100
    env.advance(20)
    d = await detail(env, sid)
    assert d["status"] == "running"
    assert d["progress"] == 100
    assert d["config"][0]["status"] == "ready"
    assert d["access_address"] == f"{env.url}/v1/infers/{sid}"
    assert d["config"][0]["model_name"] == "mnist"
    assert d["config"][0]["model_version"] == "1.0.0"
    # the access address answers while running and counts invocations
    resp = await env.http.post(d["access_address"], json={"images": "x"})
    assert resp.status_code == 200
    assert (await detail(env, sid))["invocation_times"] == 1
    events = (await env.http.get(f"{S}/{sid}/events")).json()
    infos = [e["event_info"] for e in events["events"]]
    assert infos[-1] == "start to deploy service"
    assert infos[0] == "service is running"
    assert events["total_count"] == len(infos) >= 9
    listing = (await env.http.get(S)).json()
    assert listing["services"][0]["status"] == "running"
    assert listing["total_count"] == 1


async def test_update_config_redeploys_and_is_refused_while_deploying(env: Env) -> None:
    m1 = await published_model(env)
    m2 = await published_model(env, version="2.0.0")
    sid = await deploy(env, realtime_body("svc", m1))
    resp = await env.http.put(f"{S}/{sid}", json={"config": realtime_body("x", m1, m2)["config"]})
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.3519"
    env.advance(30)
    resp = await env.http.put(f"{S}/{sid}", json={"config": realtime_body("x", m1, m2)["config"]})
    assert resp.status_code == 200
    assert resp.json() == {}
    d = await detail(env, sid)
    assert d["status"] == "deploying"
    assert len(d["config"]) == 2
    logs = (await env.http.get(f"{S}/{sid}/logs")).json()["logs"]
    assert [entry["result"] for entry in logs] == ["RUNNING", "SUCCESS"]
    env.advance(30)
    assert (await detail(env, sid))["status"] == "running"
    logs = (await env.http.get(f"{S}/{sid}/logs")).json()["logs"]
    assert [entry["result"] for entry in logs] == ["SUCCESS", "SUCCESS"]
    assert len(logs[0]["config"]) == 2


async def test_stop_and_start_through_status(env: Env) -> None:
    mid = await published_model(env)
    sid = await deploy(env, realtime_body("svc", mid))
    env.advance(30)
    # status wins over config in the same request (documented)
    resp = await env.http.put(f"{S}/{sid}", json={"status": "stopped", "config": []})
    assert resp.status_code == 200
    d = await detail(env, sid)
    assert d["status"] == "stopped"
    assert d["config"][0]["status"] == "notReady"
    resp = await env.http.post(f"{env.url}/v1/infers/{sid}", json={})
    assert resp.status_code == 503
    assert (await env.http.put(f"{S}/{sid}", json={"status": "running"})).status_code == 200
    assert (await detail(env, sid))["status"] == "deploying"
    env.advance(30)
    assert (await detail(env, sid))["status"] == "running"
    resp = await env.http.put(f"{S}/{sid}", json={"status": "paused"})
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.0107"


async def test_batch_service_finishes(env: Env) -> None:
    mid = await published_model(env)
    body = {
        "service_name": "batch",
        "infer_type": "batch",
        "config": [
            {
                "model_id": mid,
                "specification": "modelarts.vm.cpu.2u",
                "instance_count": 1,
                "src_path": "obs://in/",
                "dest_path": "obs://out/",
                "req_uri": "/",
                "mapping_type": "file",
            }
        ],
    }
    sid = await deploy(env, body)
    env.advance(20)
    d = await detail(env, sid)
    assert d["status"] == "running"
    assert "start_time" in d
    assert "access_address" not in d
    env.advance(60)
    d = await detail(env, sid)
    assert d["status"] == "finished"
    assert d["finished_time"] > d["start_time"]
    resp = await env.http.get(f"{S}/{sid}/monitor")
    assert resp.status_code == 400
    resp = await env.http.put(f"{S}/{sid}", json={"status": "running"})
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.3519"
    csv = dict(body, service_name="csv")
    csv["config"] = [dict(body["config"][0], mapping_type="csv")]
    resp = await env.http.post(S, json=csv)
    assert resp.status_code == 400
    assert "mapping_rule" in resp.json()["error_msg"]


async def test_schedule_stops_service(env: Env) -> None:
    mid = await published_model(env)
    body = realtime_body(
        "sched", mid, schedule=[{"type": "stop", "time_unit": "MINUTES", "duration": 2}]
    )
    sid = await deploy(env, body)
    env.advance(30)
    d = await detail(env, sid)
    assert d["status"] == "running"
    assert d["due_time"] > 0
    env.advance(120)
    assert (await detail(env, sid))["status"] == "stopped"


async def test_forced_concerning_and_failed(env: Env) -> None:
    mid = await published_model(env)
    sid = await deploy(env, realtime_body("svc", mid))
    env.advance(30)
    env.emulator.force(kind="service", id=sid, status="concerning", error_msg="1 of 2 down")
    d = await detail(env, sid)
    assert d["status"] == "concerning"
    assert d["config"][0]["status"] == "concerning"
    abnormal = (await env.http.get(f"{S}/{sid}/events", params={"event_type": "abnormal"})).json()
    assert abnormal["count"] == 1
    env.emulator.force(kind="service", name="bad", status="failed", error_msg="no resources")
    sid2 = await deploy(env, realtime_body("bad", mid))
    env.advance(30)
    d = await detail(env, sid2)
    assert d["status"] == "failed"
    assert d["error_msg"] == "no resources"
    failed = (await env.http.get(S, params={"status": "failed"})).json()
    assert [s["service_name"] for s in failed["services"]] == ["bad"]


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda b, m: b.update(service_name="bad name"), 400, "ModelArts.0107"),
        (lambda b, m: b.pop("service_name"), 400, "ModelArts.0115"),
        (lambda b, m: b.update(infer_type="stream"), 400, "ModelArts.0107"),
        (lambda b, m: b.update(description="d" * 101), 400, "ModelArts.0107"),
        (lambda b, m: b.update(config=[]), 400, "ModelArts.0115"),
        (lambda b, m: b["config"][0].update(weight="90"), 400, "ModelArts.0107"),
        (lambda b, m: b["config"][0].update(instance_count=0), 400, "ModelArts.0107"),
        (lambda b, m: b["config"][0].update(instance_count=500), 400, "ModelArts.3522"),
        (lambda b, m: b["config"][0].update(specification="huge"), 400, "ModelArts.0107"),
        (lambda b, m: b["config"][0].update(model_id="nope"), 404, "ModelArts.3507"),
        (lambda b, m: b["config"].append(dict(b["config"][0], weight=0)), 400, "ModelArts.3516"),
        (lambda b, m: b.update(vpc_id="vpc-1"), 400, "ModelArts.0115"),
        (lambda b, m: b.update(cluster_id="c-1"), 404, "ModelArts.3547"),
        (
            lambda b, m: b.update(
                schedule=[{"type": "start", "time_unit": "HOURS", "duration": 1}]
            ),
            400,
            "ModelArts.0107",
        ),
        (lambda b, m: b.update(workspace_id="a" * 32), 404, "ModelArts.7005"),
    ],
)
async def test_deploy_validation(env: Env, mutate: Any, status: int, code: str) -> None:
    mid = await published_model(env)
    body = realtime_body("valid", mid)
    mutate(body, mid)
    resp = await env.http.post(S, json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error_code"] == code
    assert (await env.http.get(S)).json()["total_count"] == 0


async def test_model_state_rules(env: Env) -> None:
    resp = await env.http.post(P + "/models", json=model_body(name="slow"))
    slow = resp.json()["model_id"]
    resp = await env.http.post(S, json=realtime_body("early", slow))
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.3515"
    batch_only = await published_model(env, name="batchonly", install_type=["batch"])
    resp = await env.http.post(S, json=realtime_body("wrongtype", batch_only))
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.3589"
    no_inputs = await published_model(env, name="noinputs", input_params=None)
    body = {
        "service_name": "b",
        "infer_type": "batch",
        "config": [
            {
                "model_id": no_inputs,
                "specification": "modelarts.vm.cpu.2u",
                "instance_count": 1,
                "src_path": "obs://i/",
                "dest_path": "obs://o/",
                "req_uri": "/",
                "mapping_type": "file",
            }
        ],
    }
    resp = await env.http.post(S, json=body)
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.3514"


async def test_duplicate_name_not_found_and_delete(env: Env) -> None:
    mid = await published_model(env)
    sid = await deploy(env, realtime_body("svc", mid))
    resp = await env.http.post(S, json=realtime_body("svc", mid))
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.3503"
    sid2 = await deploy(env, realtime_body("svc2", mid))
    assert (await env.http.delete(f"{S}/{sid},{sid2}")).json() == {}
    for method, path in [
        ("GET", sid),
        ("PUT", sid),
        ("DELETE", sid),
        ("GET", sid + "/events"),
        ("GET", sid + "/logs"),
        ("GET", sid + "/monitor"),
    ]:
        resp = await env.http.request(method, f"{S}/{path}", json={} if method == "PUT" else None)
        assert resp.status_code == 404, path
        assert resp.json()["error_code"] == "ModelArts.3502", path


async def test_list_filters_and_paging(env: Env) -> None:
    m1 = await published_model(env)
    m2 = await published_model(env, name="other")
    for i in range(6):
        await deploy(env, realtime_body(f"svc-{i}", m1 if i % 2 else m2))
    env.advance(30)
    await deploy(env, realtime_body("newest", m1))
    listing = (await env.http.get(S, params={"limit": 2, "offset": 1})).json()
    assert listing["total_count"] == 7
    assert listing["count"] == 2
    assert [s["service_name"] for s in listing["services"]] == ["svc-4", "svc-3"]
    by_name = (await env.http.get(S, params={"sort_by": "service_name", "order": "asc"})).json()
    assert by_name["services"][0]["service_name"] == "newest"
    assert (await env.http.get(S, params={"model_id": m1})).json()["total_count"] == 4
    deploying = (await env.http.get(S, params={"status": "deploying"})).json()
    assert [s["service_name"] for s in deploying["services"]] == ["newest"]
    assert (await env.http.get(S, params={"service_name": "svc"})).json()["total_count"] == 6
    assert (await env.http.get(S, params={"infer_type": "batch"})).json()["total_count"] == 0
    for bad in ({"status": "sleeping"}, {"sort_by": "x"}, {"infer_type": "x"}):
        assert (await env.http.get(S, params=bad)).status_code == 400


async def test_monitor_and_specifications(env: Env) -> None:
    mid = await published_model(env)
    sid = await deploy(env, realtime_body("svc", mid))
    env.advance(30)
    mon = (await env.http.get(f"{S}/{sid}/monitor")).json()
    assert mon["service_name"] == "svc"
    assert mon["monitors"][0]["model_id"] == mid
    assert mon["monitors"][0]["cpu_core_usage"] > 0
    specs = (await env.http.get(S + "/specifications")).json()["specifications"]
    assert "modelarts.vm.cpu.2u" in {s["specification"] for s in specs}
    batch = (await env.http.get(S + "/specifications", params={"infer_type": "batch"})).json()
    assert {s["specification"] for s in batch["specifications"]} == {
        "modelarts.vm.cpu.2u",
        "modelarts.vm.gpu.p4",
    }


async def test_description_update_and_edge_immutables(env: Env) -> None:
    mid = await published_model(env)
    sid = await deploy(env, realtime_body("svc", mid))
    resp = await env.http.put(f"{S}/{sid}", json={"description": "hello"})
    assert resp.status_code == 200
    assert (await detail(env, sid))["description"] == "hello"
    edge = {
        "service_name": "edge",
        "infer_type": "edge",
        "config": [{"model_id": mid, "specification": "modelarts.vm.cpu.2u", "nodes": ["n1"]}],
    }
    eid = await deploy(env, edge)
    env.advance(30)
    d = await detail(env, eid)
    assert d["config"][0]["nodes"][0]["instance_status"] == "running"
    change = [{"model_id": mid, "specification": "modelarts.vm.gpu.p4", "nodes": ["n1"]}]
    resp = await env.http.put(f"{S}/{eid}", json={"config": change})
    assert resp.status_code == 400
    assert "cannot be modified" in resp.json()["error_msg"]


async def test_edge_node_instance_start_stop(env: Env) -> None:
    mid = await published_model(env)
    edge = {
        "service_name": "edge",
        "infer_type": "edge",
        "config": [
            {"model_id": mid, "specification": "modelarts.vm.cpu.2u", "nodes": ["n1", "n2"]}
        ],
    }
    sid = await deploy(env, edge)
    path = f"{S}/{sid}/nodes/n1/status"
    resp = await env.http.put(path, json={"status": "stopped"})
    assert resp.status_code == 409  # still deploying
    assert resp.json()["error_code"] == "ModelArts.3513"
    env.advance(30)
    assert (await env.http.put(path, json={"status": "stopped"})).json() == {}
    nodes = (await detail(env, sid))["config"][0]["nodes"]
    assert [n["instance_status"] for n in nodes] == ["stopped", "running"]
    resp = await env.http.put(path, json={"status": "stopped"})  # only running ones stop
    assert resp.status_code == 409
    assert (await env.http.put(path, json={"status": "running"})).status_code == 200
    resp = await env.http.put(f"{S}/{sid}/nodes/n9/status", json={"status": "running"})
    assert resp.status_code == 404
    resp = await env.http.put(path, json={"status": "paused"})
    assert resp.status_code == 400


async def test_no_dedicated_clusters(env: Env) -> None:
    resp = await env.http.get(P + "/clusters")
    assert resp.json() == {"total_count": 0, "count": 0, "clusters": []}
