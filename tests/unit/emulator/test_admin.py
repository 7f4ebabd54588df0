"""Admin API, faults, flow control, headers, persistence, the thread runner and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelarts_operator.cli import build_parser
from modelarts_testbed.emulator import (
    DEFAULT_PROJECT_ID,
    Emulator,
    EmulatorConfig,
    run_emulator_in_thread,
)

from .conftest import Env, P, job_body, model_body, token_body

TJ = P + "/training-jobs"


async def test_every_response_has_request_id_and_ratelimit_headers(env: Env) -> None:
    for resp in [
        await env.http.get(TJ),
        await env.http.get(P + "/models/nope"),
        await env.raw.get(P + "/services"),
        await env.raw.post("/v3/auth/tokens", json=token_body()),
        await env.http.post("/v1/workspaces/ws/models", json={}),
    ]:
        rid = resp.headers["X-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}-\d{13}-modelarts-emulator", rid), rid
        assert int(resp.headers["X-ratelimit"]) > 0
        assert int(resp.headers["X-ratelimit-used"]) >= 0
        assert resp.headers["X-ratelimit-window"] == "minute"


async def test_counters_by_route_template(env: Env) -> None:
    await env.raw.delete("/_emulator/counters")
    await env.http.get(TJ)
    await env.http.get(TJ + "/")  # trailing slash: same endpoint
    await env.http.get(f"{TJ}/1/versions")
    counters = (await env.raw.get("/_emulator/counters")).json()
    assert counters["calls"] == {
        "GET /v1/{project_id}/training-jobs": 2,
        "GET /v1/{project_id}/training-jobs/{job_id}/versions": 1,
    }
    assert counters["statuses"]["GET /v1/{project_id}/training-jobs/{job_id}/versions"] == {
        "404": 1
    }
    assert env.emulator.calls("GET /v1/{project_id}/training-jobs") == 2


async def test_error_fault_rate_is_deterministic_with_seed(env: Env) -> None:
    async def pattern() -> list[int]:
        await env.raw.post("/_emulator/reset")
        fresh = await env.raw.post("/v3/auth/tokens", json=token_body())
        env.http.headers["X-Auth-Token"] = fresh.headers["X-Subject-Token"]
        rule = {
            "endpoint": "GET /v1/{project_id}/models",
            "kind": "error",
            "rate": 0.5,
            "status": 503,
            "error_code": "ModelArts.0010",
        }
        assert (await env.raw.post("/_emulator/faults", json=rule)).status_code == 200
        return [(await env.http.get(P + "/models")).status_code for _ in range(20)]

    first = await pattern()
    assert set(first) == {200, 503}
    assert first == await pattern()
    resp = None
    for _ in range(20):
        resp = await env.http.get(P + "/models")
        if resp.status_code == 503:
            break
    assert resp is not None
    assert resp.json() == {
        "error_msg": "Injected fault.",
        "error_code": "ModelArts.0010",
    }
    assert (await env.http.get(TJ)).status_code == 200  # other endpoints untouched
    faults = (await env.raw.get("/_emulator/faults")).json()["rules"]
    assert faults[0]["fired"] > 0
    await env.raw.delete("/_emulator/faults")
    assert all([(await env.http.get(P + "/models")).status_code == 200 for _ in range(5)])


async def test_throttle_burst_with_retry_after(env: Env) -> None:
    rule = {"endpoint": "*", "kind": "throttle", "times": 2, "retry_after": 3}
    await env.raw.post("/_emulator/faults", json=rule)
    codes = []
    for _ in range(3):
        resp = await env.http.get(TJ)
        codes.append(resp.status_code)
        if resp.status_code == 429:
            assert resp.headers["Retry-After"] == "3"
            assert resp.json()["error_code"] == "ModelArts.0114"
            assert resp.json()["is_success"] is False
    assert codes == [429, 429, 200]


async def test_latency_and_dropped_connection(env: Env) -> None:
    import time

    env.emulator.add_fault(
        endpoint="GET /v1/{project_id}/models", kind="latency", latency=0.3, times=1
    )
    started = time.monotonic()
    assert (await env.http.get(P + "/models")).status_code == 200
    assert time.monotonic() - started >= 0.3
    env.emulator.add_fault(endpoint=P + "/services", kind="drop", times=1)
    with pytest.raises(httpx.TransportError):
        await env.http.get(P + "/services")
    assert (await env.http.get(P + "/services")).status_code == 200


async def test_rate_limit_returns_429_then_recovers_in_next_window(env: Env) -> None:
    await env.raw.post("/_emulator/config", json={"rate_limit": 3})
    core = env.emulator.core
    core.rate.used = 0
    codes = [(await env.http.get(TJ)).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    resp = await env.http.get(TJ)
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-ratelimit"] == "3"
    core.rate.started -= 61  # the window has passed
    assert (await env.http.get(TJ)).status_code == 200


async def test_clock_admin_and_reset(env: Env) -> None:
    clock = (await env.raw.get("/_emulator/clock")).json()
    assert clock["frozen"] is True
    after = (await env.raw.post("/_emulator/clock/advance", json={"seconds": 90})).json()
    assert after["now_ms"] - clock["now_ms"] == 90_000
    assert (await env.raw.post("/_emulator/speed", json={"speed": 10})).json()["speed"] == 10
    assert (await env.raw.post("/_emulator/clock", json={"advance": -1})).status_code == 400
    await env.http.post(TJ, json=job_body("before-reset"))
    assert (await env.raw.post("/_emulator/reset")).json() == {"reset": True}
    fresh = await env.raw.post("/v3/auth/tokens", json=token_body())  # tokens were dropped too
    headers = {"X-Auth-Token": fresh.headers["X-Subject-Token"]}
    assert (await env.raw.get(TJ, headers=headers)).json()["job_total_count"] == 0
    assert (await env.raw.get(TJ, headers=dict(env.http.headers))).status_code == 401


async def test_delete_behind_the_back_and_force_errors(env: Env) -> None:
    job = (await env.http.post(TJ, json=job_body("gone"))).json()
    model = (await env.http.post(P + "/models", json=model_body())).json()
    env.advance(8)
    raw = (await env.raw.get("/_emulator/objects/training_job")).json()["items"]
    assert [(r["job_name"], r["_status"]) for r in raw] == [("gone", 8)]
    raw_models = (await env.raw.get("/_emulator/objects/model")).json()["items"]
    assert raw_models[0]["_status"] == "published"
    resp = await env.raw.delete(f"/_emulator/objects/training_job/{job['job_id']}")
    assert resp.json() == {"deleted": True}
    assert (await env.http.get(f"{TJ}/{job['job_id']}/versions")).status_code == 404
    await env.raw.delete(f"/_emulator/objects/model/{model['model_id']}")
    assert (await env.http.get(f"{P}/models/{model['model_id']}")).status_code == 404
    assert (await env.raw.delete("/_emulator/objects/model/nope")).status_code == 404
    assert (
        await env.raw.post("/_emulator/force", json={"kind": "pizza", "id": 1})
    ).status_code == 400
    resp = await env.raw.post("/_emulator/force", json={"kind": "service", "id": "nope"})
    assert resp.status_code == 404
    resp = await env.raw.post("/_emulator/force", json={"kind": "model", "name": "future"})
    assert resp.json() == {"applied": False, "pending": True}


async def test_unknown_route_and_method(env: Env) -> None:
    resp = await env.http.get(P + "/no-such-family")
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "ModelArts.0102"
    resp = await env.http.patch(TJ)
    assert resp.status_code == 405
    resp = await env.http.post(
        TJ, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.json()["is_success"] is False


async def test_state_file_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    cfg = EmulatorConfig(seed=3, state_file=str(state))
    emu = Emulator(cfg)
    async with emu.serve(port=0) as url, httpx.AsyncClient(base_url=url) as c:
        tok = (await c.post("/v3/auth/tokens", json=token_body())).headers["X-Subject-Token"]
        h = {"X-Auth-Token": tok}
        job = (await c.post(TJ, json=job_body("persisted"), headers=h)).json()
        model = (await c.post(P + "/models", json=model_body(), headers=h)).json()
        ws = (await c.post(P + "/workspaces", json={"name": "kept-ws"}, headers=h)).json()
    data = json.loads(state.read_text())
    assert [j["job_name"] for j in data["projects"][DEFAULT_PROJECT_ID]["jobs"]] == ["persisted"]
    emu2 = Emulator(EmulatorConfig(seed=3, state_file=str(state)))
    async with emu2.serve(port=0) as url, httpx.AsyncClient(base_url=url) as c:
        tok = (await c.post("/v3/auth/tokens", json=token_body())).headers["X-Subject-Token"]
        h = {"X-Auth-Token": tok}
        jobs = (await c.get(TJ, headers=h)).json()["jobs"]
        assert [j["job_id"] for j in jobs] == [job["job_id"]]
        assert (await c.get(f"{P}/models/{model['model_id']}", headers=h)).status_code == 200
        assert (await c.get(f"{P}/workspaces/{ws['id']}", headers=h)).status_code == 200
        # names stay taken and IDs keep counting after a restart
        dup = await c.post(TJ, json=job_body("persisted"), headers=h)
        assert dup.json()["error_code"] == "ModelArts.0103"
        nxt = (await c.post(TJ, json=job_body("next"), headers=h)).json()
        assert nxt["job_id"] == job["job_id"] + 1


def test_thread_runner_and_admin_client() -> None:
    with run_emulator_in_thread(EmulatorConfig(seed=1)) as handle:
        handle.admin.freeze()
        with httpx.Client(base_url=handle.url) as c:
            tok = c.post("/v3/auth/tokens", json=token_body()).headers["X-Subject-Token"]
            h = {"X-Auth-Token": tok}
            job = c.post(TJ, json=job_body("threaded"), headers=h).json()
            path = f"{TJ}/{job['job_id']}/versions/{job['version_id']}"
            assert c.get(path, headers=h).json()["status"] == 1
            handle.admin.advance(120)
            assert c.get(path, headers=h).json()["status"] == 10
            handle.admin.add_fault(endpoint="*", kind="error", status=500, times=1)
            assert c.get(TJ, headers=h).status_code == 500
            assert handle.admin.counters()["GET /v1/{project_id}/training-jobs"] == 1
            handle.admin.force(kind="training_job", id=job["job_id"], status=11)
            assert c.get(path, headers=h).json()["status"] == 11


def test_cli_registers_emulator_with_documented_flags() -> None:
    args = build_parser().parse_args(
        [
            "emulator",
            "--port",
            "0",
            "--speed",
            "5",
            "--seed",
            "9",
            "--state-file",
            "/tmp/x.json",
            "--project-id",
            "p",
            "--ak",
            "a",
            "--sk",
            "s",
            "--iam-user",
            "u",
            "--iam-password",
            "w",
            "--iam-domain",
            "d",
        ]
    )
    assert args.command == "emulator"
    assert args.speed == 5
    assert args.iam_domain == "d"


def test_config_from_env() -> None:
    pairs = build_parser().parse_args(
        ["emulator", "--extra-project", "p2:cn-east-3", "--extra-ak-sk", "AK2:SK2"]
    )
    assert pairs.extra_project == ["p2:cn-east-3"]
    assert pairs.extra_ak_sk == ["AK2:SK2"]
    cfg2 = EmulatorConfig.from_env({"EMULATOR_EXTRA_PROJECTS": "p2:cn-east-3,p3:cn-south-1"})
    assert cfg2.extra_projects == {"p2": "cn-east-3", "p3": "cn-south-1"}
    env = {
        "EMULATOR_PROJECT_ID": "abc",
        "EMULATOR_SPEED": "2.5",
        "EMULATOR_SEED": "4",
        "EMULATOR_AK": "K",
    }
    cfg = EmulatorConfig.from_env(env, ak="flag-wins", sk=None)
    assert (cfg.project_id, cfg.speed, cfg.seed, cfg.ak) == ("abc", 2.5, 4, "flag-wins")
    assert "emulator-secret" not in repr(cfg)


@pytest.mark.parametrize("seed", [11])
async def test_seeded_ids_are_reproducible(seed: int) -> None:
    async def ids() -> list[Any]:
        emu = Emulator(EmulatorConfig(seed=seed))
        async with emu.serve(port=0) as url, httpx.AsyncClient(base_url=url) as c:
            tok = (await c.post("/v3/auth/tokens", json=token_body())).headers["X-Subject-Token"]
            h = {"X-Auth-Token": tok}
            m = (await c.post(P + "/models", json=model_body(), headers=h)).json()["model_id"]
            w = (await c.post(P + "/workspaces", json={"name": "seeded"}, headers=h)).json()["id"]
            return [m, w]

    assert await ids() == await ids()


def test_describe_shows_only_public_default_secrets() -> None:
    text = EmulatorConfig().describe()
    assert "emulator-secret-key-do-not-use-in-production-0001" in text
    custom = EmulatorConfig(sk="my-real-sk", iam_password="hunter22").describe()
    assert "my-real-sk" not in custom
    assert "hunter22" not in custom


async def test_health_unfreeze_and_save(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    emu = Emulator(EmulatorConfig(seed=1, state_file=str(state), persist_interval=3600))
    async with emu.serve(port=0) as url, httpx.AsyncClient(base_url=url) as c:
        health = (await c.get("/_emulator/health")).json()
        assert health["ok"] is True
        assert health["project_id"] == DEFAULT_PROJECT_ID
        await c.post("/_emulator/clock/freeze")
        frozen = (await c.get("/_emulator/clock")).json()["now_ms"]
        assert (await c.get("/_emulator/clock")).json()["now_ms"] == frozen
        assert (await c.post("/_emulator/clock/unfreeze")).json()["frozen"] is False
        assert not state.exists()
        assert (await c.post("/_emulator/save")).json() == {"saved": str(state)}
        assert "projects" in json.loads(state.read_text())
