"""Authentication: IAM tokens (issue, expiry, project scope) and AK/SK signatures verified
against what huaweicloudsdkcore's own Signer produces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from modelarts_testbed.emulator import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK
from modelarts_testbed.emulator.auth import verify_signature
from modelarts_testbed.emulator.errors import ApiError

from .conftest import Env, P, job_body, token_body


def sdk_sign(
    method: str,
    url: str,
    *,
    query: list[tuple[str, Any]] | None = None,
    body: bytes = b"",
    ak: str = DEFAULT_AK,
    sk: str = DEFAULT_SK,
    when: datetime | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign with the SDK's Signer; return the URL to send and the headers it set."""
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json"} if body else {}
    if when is not None:
        headers["X-Sdk-Date"] = when.strftime("%Y%m%dT%H%M%SZ")
    req = SdkRequest(
        method=method,
        schema=parts.scheme,
        host=parts.netloc,
        resource_path=parts.path,
        query_params=list(query or []),
        header_params=headers,
        body=body,
    )
    signed = Signer(BasicCredentials(ak, sk)).sign(req)
    return f"{parts.scheme}://{parts.netloc}{signed.uri}", dict(signed.header_params)


async def send_signed(env: Env, method: str, path: str, **kw: Any) -> httpx.Response:
    body = kw.get("body", b"")
    url, headers = sdk_sign(method, env.url + path, **kw)
    return await env.raw.request(method, url, headers=headers, content=body or None)


async def test_token_issue_shape(env: Env) -> None:
    resp = await env.raw.post("/v3/auth/tokens", json=token_body())
    assert resp.status_code == 201
    assert resp.headers["X-Subject-Token"].startswith("MII")
    token = resp.json()["token"]
    assert token["methods"] == ["password"]
    assert token["project"]["id"] == DEFAULT_PROJECT_ID
    expires = datetime.strptime(token["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    issued = datetime.strptime(token["issued_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert expires - issued == timedelta(hours=24)
    by_id = await env.raw.post(
        "/v3/auth/tokens", json=token_body(project={"id": DEFAULT_PROJECT_ID})
    )
    assert by_id.status_code == 201


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (token_body(password="s3cr3t-guess"), 401),
        (token_body(user="someone"), 401),
        (token_body(domain="other"), 401),
        (token_body(project={"name": "eu-west-101"}), 401),
        ({"auth": {"identity": {"methods": ["token"]}}}, 400),
        ({"auth": {"identity": token_body()["auth"]["identity"]}}, 400),  # no scope
    ],
)
async def test_token_refused(env: Env, body: dict[str, Any], status: int) -> None:
    resp = await env.raw.post("/v3/auth/tokens", json=body)
    assert resp.status_code == status
    err = resp.json()
    assert err["error"]["code"] == status
    assert err["error_msg"] == err["error"]["message"]
    assert "X-Subject-Token" not in resp.headers
    assert "s3cr3t-guess" not in resp.text
    assert "emulator-password" not in resp.text


async def test_token_errors(env: Env) -> None:
    resp = await env.raw.get(P + "/training-jobs")
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "ModelArts.0201"
    assert resp.json()["is_success"] is False  # training family shape
    resp = await env.raw.get(P + "/models", headers={"X-Auth-Token": "MIIjunk"})
    assert resp.status_code == 401
    assert resp.json() == {
        "error_msg": "Invalid token.",
        "error_code": "ModelArts.0203",
    }
    full = env.http.headers["X-Auth-Token"]
    resp = await env.raw.get(P + "/models", headers={"X-Auth-Token": full[:40]})
    assert resp.json()["error_code"] == "ModelArts.0204"
    resp = await env.http.get(f"/v1/{'9' * 32}/models")
    assert resp.status_code == 403
    assert resp.json()["error_code"] == "ModelArts.0210"


async def test_short_token_expires_on_the_clock(env: Env) -> None:
    resp = await env.raw.post("/_emulator/config", json={"token_ttl": 60})
    assert resp.json()["token_ttl"] == 60
    short = await env.raw.post("/v3/auth/tokens", json=token_body())
    headers = {"X-Auth-Token": short.headers["X-Subject-Token"]}
    assert (await env.raw.get(P + "/models", headers=headers)).status_code == 200
    env.advance(61)
    resp = await env.raw.get(P + "/models", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "ModelArts.0202"
    await env.raw.post("/_emulator/tokens/expire")
    assert (await env.http.get(P + "/models")).json()["error_code"] == "ModelArts.0202"
    fresh = await env.raw.post("/v3/auth/tokens", json=token_body())
    headers = {"X-Auth-Token": fresh.headers["X-Subject-Token"]}
    assert (await env.raw.get(P + "/models", headers=headers)).status_code == 200


async def test_aksk_get_with_query_and_post_with_body(env: Env) -> None:
    resp = await send_signed(
        env,
        "GET",
        P + "/training-jobs",
        query=[("per_page", 5), ("search_content", "a b/c~"), ("page", 1)],
    )
    assert resp.status_code == 200, resp.text
    body = json.dumps(job_body("signed-job")).encode()
    resp = await send_signed(env, "POST", P + "/training-jobs", body=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["job_name"] == "signed-job"
    resp = await send_signed(
        env,
        "POST",
        "/v1/workspaces/ws-1/models",
        body=json.dumps(
            {
                "name": "m",
                "type": "LLM_MODEL",
                "version": {
                    "name": "v1",
                    "config": {
                        "llm_model_config": {
                            "base_model_type": "llama3",
                            "model_path": "obs://b/m/",
                        }
                    },
                },
            }
        ).encode(),
    )
    assert resp.status_code == 200, resp.text


async def test_aksk_refusals(env: Env) -> None:
    resp = await send_signed(env, "GET", P + "/models", sk="not-the-secret")
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "ModelArts.0211"
    resp = await send_signed(env, "GET", P + "/models", ak="UNKNOWNAK")
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "ModelArts.0208"
    stale = datetime.now(UTC) - timedelta(minutes=16)
    resp = await send_signed(env, "GET", P + "/models", when=stale)
    assert resp.status_code == 401
    assert "15 minutes" in resp.json()["error_msg"]
    recent = datetime.now(UTC) - timedelta(minutes=10)
    assert (await send_signed(env, "GET", P + "/models", when=recent)).status_code == 200
    # tampering with the body or the query after signing breaks the signature
    body = json.dumps(job_body("tamper")).encode()
    url, headers = sdk_sign("POST", env.url + P + "/training-jobs", body=body)
    resp = await env.raw.post(url, headers=headers, content=body.replace(b"tamper", b"tamped"))
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "ModelArts.0211"
    url, headers = sdk_sign("GET", env.url + P + "/models", query=[("limit", 1)])
    resp = await env.raw.get(url.replace("limit=1", "limit=2"), headers=headers)
    assert resp.status_code == 401
    resp = await env.raw.get(P + "/models", headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "ModelArts.0211"
    # a valid signature does not open another project
    resp = await send_signed(env, "GET", f"/v1/{'9' * 32}/models")
    assert resp.status_code == 403
    assert resp.json()["error_code"] == "ModelArts.0210"


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", "/v1/p/training-jobs", [("b", "2"), ("a", "x y"), ("a", "1")], b""),
        ("POST", "/v1/p/models/", [], b'{"k":"\xe4\xb8\xad"}'),
        ("DELETE", "/v1/p/services/a,b", [("cascade", True)], b""),
        ("PUT", "/v1/p/workspaces/w%20x", [("q", "~!*()'")], b"{}"),
    ],
)
def test_verifier_matches_sdk_signer(
    method: str, path: str, query: list[tuple[str, Any]], body: bytes
) -> None:
    url, headers = sdk_sign(
        method, "http://127.0.0.1:9/" + path.lstrip("/"), query=query, body=body
    )
    parts = urlsplit(url)
    kwargs: dict[str, Any] = dict(
        method=method,
        raw_path=parts.path,
        raw_query=parts.query,
        headers=headers,
        body=body,
        keys={DEFAULT_AK: DEFAULT_SK},
        security_tokens={},
        wall_now=datetime.now(UTC).timestamp(),
        max_skew=900,
    )
    assert verify_signature(**kwargs) == DEFAULT_AK
    with pytest.raises(ApiError) as info:
        verify_signature(**dict(kwargs, keys={DEFAULT_AK: "other"}))
    assert info.value.code == "ModelArts.0211"
    with pytest.raises(ApiError):
        verify_signature(**dict(kwargs, method="PATCH"))
