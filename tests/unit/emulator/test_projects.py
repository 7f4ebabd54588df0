"""Several projects of one account: each has its own objects; tokens are project-scoped
(0210 elsewhere); AK/SK open every project of the account, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from modelarts_testbed.emulator import DEFAULT_PROJECT_ID, Emulator, EmulatorConfig

from .conftest import job_body, token_body
from .test_auth import sdk_sign

OTHER = "fedcba9876543210fedcba9876543210"


@pytest.fixture
async def url() -> AsyncIterator[str]:
    cfg = EmulatorConfig(seed=2, extra_projects={OTHER: "cn-east-3"}, extra_keys={"AK2": "SK2"})
    async with Emulator(cfg).serve(port=0) as base:
        yield base


async def test_projects_are_separate_and_tokens_scoped(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as c:
        main = await c.post("/v3/auth/tokens", json=token_body())
        other = await c.post("/v3/auth/tokens", json=token_body(project={"name": "cn-east-3"}))
        assert other.json()["token"]["project"]["id"] == OTHER
        h_main = {"X-Auth-Token": main.headers["X-Subject-Token"]}
        h_other = {"X-Auth-Token": other.headers["X-Subject-Token"]}
        resp = await c.post(f"/v1/{OTHER}/training-jobs", json=job_body("east"), headers=h_other)
        assert resp.status_code == 200
        # the same name is free in the other project: objects are per project
        resp = await c.post(
            f"/v1/{DEFAULT_PROJECT_ID}/training-jobs", json=job_body("east"), headers=h_main
        )
        assert resp.status_code == 200
        listing = await c.get(f"/v1/{OTHER}/training-jobs", headers=h_other)
        assert [j["job_name"] for j in listing.json()["jobs"]] == ["east"]
        resp = await c.get(f"/v1/{OTHER}/training-jobs", headers=h_main)
        assert resp.status_code == 403
        assert resp.json()["error_code"] == "ModelArts.0210"
        projects = await c.get("/v3/projects", headers=h_main)
        assert {p["id"] for p in projects.json()["projects"]} == {DEFAULT_PROJECT_ID, OTHER}
        objects = await c.get("/_emulator/objects/training_job", params={"project_id": OTHER})
        assert len(objects.json()["items"]) == 1


async def test_extra_aksk_opens_every_project_of_the_account(url: str) -> None:
    async with httpx.AsyncClient() as c:
        for project in (DEFAULT_PROJECT_ID, OTHER):
            signed_url, headers = sdk_sign("GET", f"{url}/v1/{project}/models", ak="AK2", sk="SK2")
            assert (await c.get(signed_url, headers=headers)).status_code == 200
        signed_url, headers = sdk_sign("GET", f"{url}/v1/{'1' * 32}/models", ak="AK2", sk="SK2")
        resp = await c.get(signed_url, headers=headers)
        assert resp.status_code == 403
        assert resp.json()["error_code"] == "ModelArts.0210"
