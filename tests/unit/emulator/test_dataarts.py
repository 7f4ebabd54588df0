"""DataArts Fabric models: create, read back, asynchronous status, DataArts error shapes."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Env

D = "/v1/workspaces/ws-1/models"


def body(name: str = "LLama3-8b", path: str | None = "obs://bucket/llm/") -> dict[str, Any]:
    llm: dict[str, Any] = {"base_model_type": "llama3"}
    if path is not None:
        llm["model_path"] = path
    return {
        "name": name,
        "description": "d",
        "type": "LLM_MODEL",
        "version": {"name": "v 1.0", "config": {"llm_model_config": llm}},
    }


async def test_create_and_read_back(env: Env) -> None:
    resp = await env.http.post(D, json=body())
    assert resp.status_code == 200
    created = resp.json()
    assert 32 <= len(created["id"]) <= 36
    assert "version_id" in created
    got = (await env.http.get(f"{D}/{created['id']}")).json()
    assert got["status"] == "CREATING"
    assert got["name"] == "LLama3-8b"
    env.advance(10)
    got = (await env.http.get(f"{D}/{created['id']}")).json()
    assert got["status"] == "ACTIVE"
    assert got["version"]["name"] == "v 1.0"
    listing = (await env.http.get(D)).json()
    assert listing["total"] == 1
    assert listing["models"][0]["id"] == created["id"]
    assert (await env.http.get("/v1/workspaces/other/models")).json()["total"] == 0
    assert (await env.http.delete(f"{D}/{created['id']}")).status_code == 200
    resp = await env.http.get(f"{D}/{created['id']}")
    assert resp.status_code == 404
    assert resp.json() == {
        "error_code": "common.01000001",
        "error_msg": "response status exception, code: 404",
    }


async def test_non_obs_path_fails(env: Env) -> None:
    created = (await env.http.post(D, json=body(path="s3://nope"))).json()
    env.advance(10)
    got = (await env.http.get(f"{D}/{created['id']}")).json()
    assert got["status"] == "FAILED"
    assert "OBS" in got["error_msg"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "bad/name"},
        {"name": "x" * 65},
        {"type": "CV_MODEL"},
        {"type": None},
        {"version": None},
        {"version": {"name": ""}},
        {"description": "d" * 1025},
    ],
)
async def test_validation_uses_dataarts_codes(env: Env, change: dict[str, Any]) -> None:
    b = body()
    for k, val in change.items():
        if val is None:
            b.pop(k)
        else:
            b[k] = val
    resp = await env.http.post(D, json=b)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "common.01000001"
    assert resp.json()["error_msg"].startswith("failed to read http request")


async def test_duplicate_name_and_auth_shapes(env: Env) -> None:
    await env.http.post(D, json=body())
    resp = await env.http.post(D, json=body())
    assert resp.status_code == 400
    assert "already exists" in resp.json()["error_msg"]
    resp = await env.raw.post(D, json=body("other"))
    assert resp.status_code == 401
    assert resp.json() == {
        "error_code": "APIG.1002",
        "error_msg": "Incorrect token or token resolution failed",
    }
    resp = await env.http.post("/v1/workspaces/bad_ws!/models", json=body("x"))
    assert resp.status_code == 400
