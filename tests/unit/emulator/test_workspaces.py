"""Workspaces: NORMAL at once, DELETING then gone (with their contents), quotas, errors."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Env, P, job_body, model_body

W = P + "/workspaces"


async def create(env: Env, name: str, **extra: Any) -> dict[str, Any]:
    resp = await env.http.post(W, json={"name": name, **extra})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_create_get_list_update(env: Env) -> None:
    ws = await create(
        env, "team-a", description="ours", auth_type="internal", grants=[{"user_name": "bob"}]
    )
    assert ws["status"] == "NORMAL"
    assert len(ws["id"]) == 32
    assert ws["auth_type"] == "internal"
    got = (await env.http.get(f"{W}/{ws['id']}")).json()
    assert got["grants"] == [{"user_name": "bob"}]
    assert got["description"] == "ours"
    listing = (await env.http.get(W)).json()
    assert listing["total_count"] == 2
    assert [w["name"] for w in listing["workspaces"]] == ["team-a", "default"]  # name desc
    assert listing["workspaces"][1]["id"] == "0"
    resp = await env.http.put(f"{W}/{ws['id']}", json={"name": "team-b", "auth_type": "PRIVATE"})
    assert resp.json() == {"workspace_id": ws["id"]}
    got = (await env.http.get(f"{W}/{ws['id']}")).json()
    assert got["name"] == "team-b"
    assert got["auth_type"] == "PRIVATE"
    assert (await env.http.get(W, params={"name": "team"})).json()["total_count"] == 1
    page = (await env.http.get(W, params={"limit": 1, "offset": 1, "order": "asc"})).json()
    assert [w["name"] for w in page["workspaces"]] == ["team-b"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "abc"}, 400, "ModelArts.0107"),
        ({"name": "x" * 65}, 400, "ModelArts.0107"),
        ({"name": "with space"}, 400, "ModelArts.0107"),
        ({}, 400, "ModelArts.0115"),
        ({"name": "default"}, 409, "ModelArts.0103"),
        ({"name": "good-name", "auth_type": "SECRET"}, 400, "ModelArts.0107"),
        ({"name": "good-name", "description": "d" * 257}, 400, "ModelArts.0107"),
        ({"name": "good-name", "grants": [{}]}, 400, "ModelArts.0107"),
    ],
)
async def test_create_validation(env: Env, body: dict[str, Any], status: int, code: str) -> None:
    resp = await env.http.post(W, json=body)
    assert resp.status_code == status, resp.text
    err = resp.json()
    assert err["error_code"] == code
    assert len(err["request_id"]) == 32
    assert set(err) == {"error_code", "error_msg", "request_id"}


async def test_duplicate_and_not_found(env: Env) -> None:
    ws = await create(env, "dupe-name")
    resp = await env.http.post(W, json={"name": "dupe-name"})
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.0103"
    other = await create(env, "other-name")
    resp = await env.http.put(f"{W}/{other['id']}", json={"name": "dupe-name"})
    assert resp.status_code == 409
    missing = "c" * 32
    for method in ("GET", "PUT", "DELETE"):
        resp = await env.http.request(
            method, f"{W}/{missing}", json={} if method == "PUT" else None
        )
        assert resp.status_code == 404
        assert resp.json()["error_code"] == "ModelArts.0104"
        assert resp.json()["error_msg"] == f"workspace: {missing} not exist."
    assert (await env.http.get(f"{W}/{missing}/quotas")).status_code == 404
    del ws


async def test_default_workspace_rules(env: Env) -> None:
    resp = await env.http.delete(f"{W}/0")
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.0105"
    resp = await env.http.put(f"{W}/0", json={"name": "renamed"})
    assert resp.status_code == 400


async def test_delete_is_deleting_then_gone_with_contents(env: Env) -> None:
    ws = await create(env, "short-lived")
    body = job_body("in-ws")
    body["workspace_id"] = ws["id"]
    job = (await env.http.post(P + "/training-jobs", json=body)).json()
    model = (await env.http.post(P + "/models", json=model_body(workspace_id=ws["id"]))).json()
    assert (await env.http.delete(f"{W}/{ws['id']}")).json() == {"workspace_id": ws["id"]}
    assert (await env.http.get(f"{W}/{ws['id']}")).json()["status"] == "DELETING"
    resp = await env.http.post(P + "/models", json=model_body(name="late", workspace_id=ws["id"]))
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.7004"
    env.advance(10)
    assert (await env.http.get(f"{W}/{ws['id']}")).status_code == 404
    assert (await env.http.get(f"{P}/training-jobs/{job['job_id']}/versions")).status_code == 404
    assert (await env.http.get(f"{P}/models/{model['model_id']}")).status_code == 404
    assert (await env.http.get(W)).json()["total_count"] == 1
    # the name is free again
    await create(env, "short-lived")


async def test_quotas(env: Env) -> None:
    ws = await create(env, "quota-ws")
    quotas = (await env.http.get(f"{W}/{ws['id']}/quotas")).json()["quotas"]
    gpu = next(q for q in quotas if q["resource"] == "exemlProject.gpu_duration")
    assert gpu["quota"] == -1
    assert gpu["used_quota"] is None
    resp = await env.http.put(
        f"{W}/{ws['id']}/quotas",
        json={"quotas": [{"resource": "exemlProject.gpu_duration", "quota": 10}]},
    )
    assert resp.status_code == 200
    changed = resp.json()["quotas"]
    assert len(changed) == 1
    assert changed[0]["quota"] == 10
    assert "used_quota" not in changed[0]
    quotas = (await env.http.get(f"{W}/{ws['id']}/quotas")).json()["quotas"]
    assert next(q for q in quotas if q["resource"] == "exemlProject.gpu_duration")["quota"] == 10
    for bad in (
        [{"resource": "exemlProject.gpu_duration", "quota": 60001}],
        [{"resource": "exemlProject.gpu_duration", "quota": 0}],
        [{"resource": "nope", "quota": 1}],
        [{"quota": 1}],
    ):
        resp = await env.http.put(f"{W}/{ws['id']}/quotas", json={"quotas": bad})
        assert resp.status_code == 400, bad


async def test_contents_vanish_without_touching_the_workspace(env: Env) -> None:
    ws = await create(env, "quiet-ws")
    body = job_body("quiet-job")
    body["workspace_id"] = ws["id"]
    job = (await env.http.post(P + "/training-jobs", json=body)).json()
    await env.http.delete(f"{W}/{ws['id']}")
    path = f"{P}/training-jobs/{job['job_id']}/versions"
    assert (await env.http.get(path)).status_code == 200  # still DELETING
    env.advance(10)
    assert (await env.http.get(path)).status_code == 404
