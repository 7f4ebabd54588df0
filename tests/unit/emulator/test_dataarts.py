"""DataArts Fabric models over HTTP: the whole life (create, list, update with new versions,
current version, version delete, cleanup), base models, and the DataArts error shapes."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Env

D = "/v1/workspaces/ws-1/models"


def version(name: str = "v 1.0", path: str = "obs://bucket/llm/") -> dict[str, Any]:
    return {
        "name": name,
        "config": {"llm_model_config": {"base_model_type": "llama3", "model_path": path}},
    }


def body(name: str = "LLama3-8b", path: str = "obs://bucket/llm/") -> dict[str, Any]:
    return {"name": name, "description": "d", "type": "LLM_MODEL", "version": version(path=path)}


async def listed(env: Env, **query: Any) -> dict[str, Any]:
    resp = await env.http.get(D, params=query)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def one(env: Env, model_id: str) -> dict[str, Any]:
    """There is no show call: one model is read by listing with ``id``."""
    data = await listed(env, id=model_id)
    assert data["total"] == 1
    model: dict[str, Any] = data["models"][0]
    return model


async def test_create_list_and_current_version_after_build(env: Env) -> None:
    resp = await env.http.post(D, json=body())
    assert resp.status_code == 200
    created = resp.json()
    assert 32 <= len(created["id"]) <= 36
    model = await one(env, created["id"])
    assert model["name"] == "LLama3-8b"
    assert "current_version" not in model  # still building
    assert model["create_time"].endswith("Z")
    assert "T" in model["create_time"]
    env.advance(10)
    model = await one(env, created["id"])
    assert model["current_version"]["id"] == created["version_id"]
    assert model["current_version"]["config"]["llm_model_config"]["model_path"] == (
        "obs://bucket/llm/"
    )
    assert model["visibility"] == "PRIVATE"
    assert model["create_user"]["user_name"] == "emulator-user"
    assert (await env.http.get("/v1/workspaces/other/models")).json()["total"] == 0


async def test_update_adds_versions_and_switches_current(env: Env) -> None:
    created = (await env.http.post(D, json=body())).json()
    env.advance(10)
    resp = await env.http.put(
        f"{D}/{created['id']}", json={"description": "new", "version": version("v2")}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["description"] == "new"
    assert resp.json()["current_version"]["name"] == "v 1.0"  # v2 is still building
    env.advance(10)
    assert (await one(env, created["id"]))["current_version"]["name"] == "v2"
    versions = (await env.http.get(f"{D}/{created['id']}/versions")).json()
    assert versions["total"] == 2
    assert [v["name"] for v in versions["versions"]] == ["v2", "v 1.0"]
    resp = await env.http.put(
        f"{D}/{created['id']}", json={"current_version_id": created["version_id"]}
    )
    assert resp.json()["current_version"]["id"] == created["version_id"]
    # the current version cannot be deleted; another one can
    resp = await env.http.delete(f"{D}/{created['id']}/versions/{created['version_id']}")
    assert resp.status_code == 400
    v2 = versions["versions"][0]["id"]
    assert (await env.http.delete(f"{D}/{created['id']}/versions/{v2}")).status_code == 200
    assert (await env.http.get(f"{D}/{created['id']}/versions")).json()["total"] == 1


async def test_failed_version_never_becomes_current(env: Env) -> None:
    created = (await env.http.post(D, json=body())).json()
    env.advance(10)
    await env.http.put(f"{D}/{created['id']}", json={"version": version("bad", "s3://nope/")})
    env.advance(10)
    model = await one(env, created["id"])
    assert model["current_version"]["id"] == created["version_id"]
    bad = (await env.http.get(f"{D}/{created['id']}/versions", params={"name": "bad"})).json()
    resp = await env.http.put(
        f"{D}/{created['id']}", json={"current_version_id": bad["versions"][0]["id"]}
    )
    assert resp.status_code == 400
    assert "FAILED" in resp.json()["error_msg"]


async def test_cleanup_deletes_the_model(env: Env) -> None:
    created = (await env.http.post(D, json=body())).json()
    assert (await env.http.delete(f"{D}/{created['id']}")).status_code == 200
    assert (await listed(env, id=created["id"]))["total"] == 0
    resp = await env.http.delete(f"{D}/{created['id']}")
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "common.01000001"
    # the name is free again
    assert (await env.http.post(D, json=body())).status_code == 200


async def test_list_paging_filters_and_order(env: Env) -> None:
    for i in range(12):
        await env.http.post(D, json=body(f"model-{i:02d}"))
        env.advance(1)
    page = await listed(env, offset=0, limit=5)
    assert page["total"] == 12
    assert [m["name"] for m in page["models"]] == [f"model-{i:02d}" for i in (11, 10, 9, 8, 7)]
    page = await listed(env, offset=10, limit=5)  # offset is an item offset
    assert [m["name"] for m in page["models"]] == ["model-01", "model-00"]
    page = await listed(env, sort_by="NAME", order_by="ASC", limit=3)
    assert [m["name"] for m in page["models"]] == ["model-00", "model-01", "model-02"]
    assert (await listed(env, name="MODEL-1"))["total"] == 2  # fuzzy
    assert (await env.http.get(D, params={"limit": 101})).status_code == 400


async def test_base_models(env: Env) -> None:
    resp = await env.http.get("/v1/base-models", params={"limit": 2})
    assert resp.status_code == 200
    data = resp.json()
    assert data["total"] >= 3
    assert len(data["models"]) == 2
    assert {"base_model_type", "max_tokens", "num_of_mu"} <= set(data["models"][0])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "bad/name"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"type": "CV_MODEL"}, "type"),
        ({"type": None}, "type"),
        ({"version": None}, "version"),
        ({"version": {"name": ""}}, "version.name"),
        ({"version": {"name": "v1"}}, "version.config"),
        ({"version": {"name": "v1", "config": {"llm_model_config": {}}}}, "base_model_type"),
        (
            {"version": {"name": "v1", "config": {"llm_model_config": {"base_model_type": "x"}}}},
            "model_path",
        ),
        ({"description": "d" * 1025}, "description"),
    ],
)
async def test_validation_uses_dataarts_codes(env: Env, change: dict[str, Any], field: str) -> None:
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
    assert field in resp.json()["error_msg"]


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


async def test_forced_failure_keeps_the_model_without_a_current_version(env: Env) -> None:
    env.emulator.force(kind="dataarts_model", name="doomed")
    created = (await env.http.post(D, json=body("doomed"))).json()
    env.advance(10)
    assert "current_version" not in await one(env, created["id"])
