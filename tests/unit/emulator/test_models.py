"""Models: import -> publishing -> published/failed, validation, listing, deletion rules."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Env, P, model_body, published_model, realtime_body

M = P + "/models"


async def test_import_publishes_after_a_while(env: Env) -> None:
    resp = await env.http.post(M, json=model_body())
    assert resp.status_code == 200
    mid = resp.json()["model_id"]
    assert set(resp.json()) == {"model_id"}
    assert len(mid) == 36
    detail = (await env.http.get(f"{M}/{mid}")).json()
    assert detail["model_status"] == "publishing"
    assert detail["model_size"] == 0
    env.advance(30)
    detail = (await env.http.get(f"{M}/{mid}")).json()
    assert detail["model_status"] == "published"
    assert detail["model_size"] > 0
    assert detail["image_address"].endswith(f"{mid}:1.0.0")
    assert detail["source_location"] == "obs://models/mnist/"
    assert detail["install_type"] == ["real-time", "edge", "batch"]
    assert isinstance(detail["apis"], str)


@pytest.mark.parametrize(
    "source",
    [
        "obs://bucket/dir/",
        "/bucket/dir/model/",
        "https://models.obs.cn-north-4.myhuaweicloud.com/mnist",
    ],
)
async def test_obs_sources_publish(env: Env, source: str) -> None:
    mid = await published_model(env, source_location=source)
    assert (await env.http.get(f"{M}/{mid}")).json()["model_status"] == "published"


@pytest.mark.parametrize("source", ["s3://bucket/x", "bucket/dir", "http://example.com/m"])
async def test_invalid_source_fails(env: Env, source: str) -> None:
    mid = await published_model(env, source_location=source)
    detail = (await env.http.get(f"{M}/{mid}")).json()
    assert detail["model_status"] == "failed"
    assert "ModelArts.3017" in detail["error_msg"]


@pytest.mark.parametrize(
    ("change", "code", "needle"),
    [
        ({"model_version": "01.0.0"}, "ModelArts.3037", "model_version"),
        ({"model_version": "1.0"}, "ModelArts.3037", "model_version"),
        ({"model_version": "100.0.0"}, "ModelArts.3037", "model_version"),
        ({"model_version": None}, "ModelArts.0115", "model_version"),
        ({"model_name": "bad name"}, "ModelArts.3037", "model_name"),
        ({"model_name": "m" * 65}, "ModelArts.3037", "model_name"),
        ({"model_name": None}, "ModelArts.0115", "model_name"),
        ({"source_location": None}, "ModelArts.0115", "source_location"),
        ({"model_type": "Keras"}, "ModelArts.3037", "model_type"),
        ({"model_type": None}, "ModelArts.0115", "model_type"),
        ({"description": "it's"}, "ModelArts.3037", "description"),
        ({"description": "d" * 101}, "ModelArts.3037", "description"),
        ({"model_algorithm": "1abc"}, "ModelArts.3037", "model_algorithm"),
        ({"install_type": ["Real-Time"]}, "ModelArts.3037", "install_type"),
        ({"source_type": "manual"}, "ModelArts.3037", "source_type"),
        (
            {"dependencies": [{"installer": "conda", "packages": [{"package_name": "x"}]}]},
            "ModelArts.3037",
            "installer",
        ),
        (
            {
                "dependencies": [
                    {
                        "installer": "pip",
                        "packages": [{"package_name": "numpy", "package_version": "1.5.0"}],
                    }
                ]
            },
            "ModelArts.3041",
            "restraint",
        ),
        (
            {"model_docs": [{"doc_name": "1doc", "doc_url": "https://x"}]},
            "ModelArts.3037",
            "doc_name",
        ),
        (
            {"model_docs": [{"doc_name": f"d{i}", "doc_url": "https://x"} for i in range(4)]},
            "ModelArts.3037",
            "at most 3",
        ),
        ({"model_type": "Template"}, "ModelArts.0115", "template"),
    ],
)
async def test_import_validation(env: Env, change: dict[str, Any], code: str, needle: str) -> None:
    body = model_body()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    resp = await env.http.post(M, json=body)
    assert resp.status_code == 400, resp.text
    assert set(resp.json()) == {"error_code", "error_msg"}
    assert resp.json()["error_code"] == code
    assert needle in resp.json()["error_msg"]


async def test_accepted_version_and_name_forms(env: Env) -> None:
    for version in ("0.0.1", "1.0.0", "99.99.99"):
        resp = await env.http.post(M, json=model_body(version=version))
        assert resp.status_code == 200, version
    resp = await env.http.post(M, json=model_body(name="模型-1"))
    assert resp.status_code == 200


async def test_duplicate_name_and_version_is_3002(env: Env) -> None:
    await env.http.post(M, json=model_body())
    resp = await env.http.post(M, json=model_body())
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.3002"
    assert (await env.http.post(M, json=model_body(version="1.0.1"))).status_code == 200


async def test_list_filters_sorting_paging(env: Env) -> None:
    for i in range(5):
        await env.http.post(M, json=model_body(name=f"alpha-{i}", version=f"1.0.{i}"))
    await env.http.post(
        M, json=model_body(name="beta", model_type="PyTorch", description="torch model")
    )
    await env.http.post(M, json=model_body(name="broken", source_location="nope"))
    env.advance(30)
    await env.http.post(M, json=model_body(name="fresh"))
    everything = (await env.http.get(M)).json()
    assert everything["total_count"] == 8 == everything["count"]
    assert everything["models"][0]["model_name"] == "fresh"  # newest first by default
    page = (await env.http.get(M, params={"limit": 3, "offset": 1})).json()  # page index 1
    assert page["count"] == 3
    assert page["total_count"] == 8
    assert [m["model_name"] for m in page["models"]] == ["alpha-4", "alpha-3", "alpha-2"]
    q = {"model_name": "alpha", "sort_by": "model_version", "order": "asc"}
    alphas = (await env.http.get(M, params=q)).json()
    assert [m["model_version"] for m in alphas["models"]] == [f"1.0.{i}" for i in range(5)]
    assert (await env.http.get(M, params={"model_type": "pytorch"})).json()["total_count"] == 1
    assert (await env.http.get(M, params={"not_model_type": "PyTorch"})).json()["total_count"] == 7
    assert (await env.http.get(M, params={"description": "torch"})).json()["total_count"] == 1
    failed = (await env.http.get(M, params={"model_status": "failed"})).json()
    assert [m["model_name"] for m in failed["models"]] == ["broken"]
    publishing = (await env.http.get(M, params={"model_status": "publishing"})).json()
    assert [m["model_name"] for m in publishing["models"]] == ["fresh"]
    resp = await env.http.get(M, params={"model_type": "PyTorch", "not_model_type": "MXNet"})
    assert resp.status_code == 400
    for bad in ({"sort_by": "name"}, {"order": "x"}, {"model_status": "gone"}, {"limit": 0}):
        assert (await env.http.get(M, params=bad)).status_code == 400, bad


async def test_delete_and_not_found(env: Env) -> None:
    mid = await published_model(env)
    resp = await env.http.delete(f"{M}/{mid}")
    assert resp.json() == {"delete_success_list": [mid], "delete_failed_list": []}
    for method in ("GET", "DELETE"):
        resp = await env.http.request(method, f"{M}/{mid}")
        assert resp.status_code == 404
        assert resp.json()["error_code"] == "ModelArts.3001"


async def test_model_used_by_service_cannot_be_deleted(env: Env) -> None:
    mid = await published_model(env)
    resp = await env.http.post(P + "/services", json=realtime_body("svc", mid))
    assert resp.status_code == 200, resp.text
    sid = resp.json()["service_id"]
    resp = await env.http.delete(f"{M}/{mid}")
    assert resp.status_code == 409
    body = resp.json()
    assert body["delete_success_list"] == []
    assert body["delete_failed_list"][0]["model_id"] == mid
    assert body["delete_failed_list"][0]["error_code"] == "ModelArts.3009"
    assert (await env.http.get(f"{M}/{mid}")).status_code == 200
    await env.http.delete(f"{P}/services/{sid}")
    assert (await env.http.delete(f"{M}/{mid}")).status_code == 200


async def test_cascade_delete_removes_other_versions_partially(env: Env) -> None:
    ids = [await published_model(env, version=f"1.0.{i}") for i in range(3)]
    other = await published_model(env, name="other")
    await env.http.post(P + "/services", json=realtime_body("keep", ids[2]))
    resp = await env.http.delete(f"{M}/{ids[0]}", params={"cascade": "true"})
    assert resp.status_code == 200
    body = resp.json()
    assert sorted(body["delete_success_list"]) == sorted(ids[:2])
    assert [f["model_id"] for f in body["delete_failed_list"]] == [ids[2]]
    remaining = {m["model_id"] for m in (await env.http.get(M)).json()["models"]}
    assert remaining == {ids[2], other}


async def test_forced_model_failure(env: Env) -> None:
    env.emulator.force(kind="model", name="will-fail", error_msg="copy failed")
    resp = await env.http.post(M, json=model_body(name="will-fail"))
    env.advance(30)
    detail = (await env.http.get(f"{M}/{resp.json()['model_id']}")).json()
    assert detail["model_status"] == "failed"
    assert detail["error_msg"] == "copy failed"
