"""The AK/SK signer must produce exactly huaweicloudsdkcore's Authorization header."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from modelarts_operator.api import AkSkCredentials, AkSkSigner, ClientConfig
from modelarts_operator.api.auth import canonical_query_string

from .helpers import FakeTime, Script, make_client

AK = "QTWAOYTTINDUT2QVKYUC"
SK = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
DATE = "20240506T070809Z"

JSON = {"Content-Type": "application/json"}
BODY = json.dumps({"job_name": "训练-1", "config": {"spec_id": 1}}, ensure_ascii=False).encode()

CASES: list[dict[str, Any]] = [
    {"method": "GET", "path": "/v1/p/models", "params": [], "headers": {}, "body": b""},
    {
        "method": "get",
        "path": "/v1/p/training-jobs",
        "params": [("status", 7), ("per_page", 10), ("page", 1), ("sortBy", "job_name")],
        "headers": {},
        "body": b"",
    },
    {
        "method": "GET",
        "path": "/v1/p/models",
        "params": [("model_name", "a b&c=d/e?f#g+h%i"), ("description", "名字 ü")],
        "headers": {},
        "body": b"",
    },
    {
        "method": "GET",
        "path": "/v1/p/models",
        "params": [("x", "~-._*'()!$,;:@"), ("a", ""), ("A", "upper"), ("b", "2")],
        "headers": {},
        "body": b"",
    },
    {
        "method": "GET",
        "path": "/v1/p/workspaces",
        "params": [("filter_accessible", True), ("cascade", False), ("ids", ["b", "a", "c"])],
        "headers": {},
        "body": b"",
    },
    {"method": "POST", "path": "/v1/p/training-jobs", "params": [], "headers": JSON, "body": BODY},
    {"method": "POST", "path": "/v1/p/training-jobs", "params": [], "headers": JSON, "body": b""},
    {
        "method": "POST",
        "path": "/v1/p/training-jobs/10/versions/3/stop",
        "params": [],
        "headers": {},
        "body": b"",
    },
    {"method": "PUT", "path": "/v1/p/services/abc", "params": [], "headers": JSON, "body": BODY},
    {
        "method": "DELETE",
        "path": "/v1/p/models/023e90be-7e2a",
        "params": [("cascade", True)],
        "headers": {},
        "body": b"",
    },
    {"method": "PATCH", "path": "/v1/p/x/", "params": [], "headers": JSON, "body": b"{}"},
    {"method": "HEAD", "path": "/v1/p/x", "params": [], "headers": {}, "body": b""},
    {"method": "GET", "path": "/v1/p/models/a%20b%2Fc", "params": [], "headers": {}, "body": b""},
    {"method": "GET", "path": "/v1/p/models/模型", "params": [], "headers": {}, "body": b""},
    {
        "method": "POST",
        "path": "/v1/p/upload",
        "params": [],
        "headers": {"Content-Type": "application/octet-stream"},
        "body": b"\x00\x01binary",
    },
    {
        "method": "GET",
        "path": "/v1/p/models",
        "params": [],
        "headers": {"X-Project-Id": "p", "X_Ignored": "underscore", "X-Custom": "  padded  "},
        "body": b"",
    },
]
HOSTS = [
    "modelarts.cn-north-4.myhuaweicloud.com",
    "modelarts.cn-north-4.myhuaweicloud.com:443",
    "127.0.0.1:8443",
]


def _sdk_sign(
    case: dict[str, Any], host: str, security_token: str | None
) -> tuple[str, str, dict[str, str]]:
    headers = {**case["headers"], "X-Sdk-Date": DATE}
    request = SdkRequest(
        method=case["method"],
        schema="https",
        host=host,
        resource_path=case["path"],
        query_params=[(k, list(v) if isinstance(v, list) else v) for k, v in case["params"]],
        header_params=headers,
        body=case["body"],
    )
    credentials = BasicCredentials(AK, SK)
    if security_token:
        credentials.with_security_token(security_token)
        signed = credentials.sign_request(request)
    else:
        signed = Signer(credentials).sign(request)
    return signed.header_params["Authorization"], signed.uri, signed.header_params


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['method']}-{c['path']}")
@pytest.mark.parametrize("security_token", [None, "temporary-security-token-value"])
def test_signature_matches_huaweicloudsdkcore(
    case: dict[str, Any], host: str, security_token: str | None
) -> None:
    expected, expected_uri, expected_headers = _sdk_sign(case, host, security_token)
    signer = AkSkSigner(AkSkCredentials(ak=AK, sk=SK, security_token=security_token))
    headers = signer.sign(
        case["method"],
        host,
        case["path"],
        [(k, list(v) if isinstance(v, list) else v) for k, v in case["params"]],
        {**case["headers"], "X-Sdk-Date": DATE},
        case["body"],
    )
    assert headers["Authorization"] == expected
    # The URL we send carries exactly the query string that was signed.
    query = canonical_query_string(case["params"])
    assert (f"{case['path']}?{query}" if query else case["path"]) == expected_uri
    assert headers["Host"] == expected_headers["Host"]
    assert headers["X-Sdk-Date"] == DATE
    if security_token:
        assert headers["X-Security-Token"] == security_token
        assert "x-security-token" in headers["Authorization"]


def test_signer_uses_now_when_no_date_header() -> None:
    from datetime import UTC, datetime

    signer = AkSkSigner(AkSkCredentials(ak=AK, sk=SK))
    headers = signer.sign(
        "GET", "h", "/v1/p/models", None, {}, None, now=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    )
    assert headers["X-Sdk-Date"] == DATE
    case = {"method": "GET", "path": "/v1/p/models", "params": [], "headers": {}, "body": b""}
    assert headers["Authorization"] == _sdk_sign(case, "h", None)[0]


def test_different_secret_gives_different_signature() -> None:
    a = AkSkSigner(AkSkCredentials(ak=AK, sk=SK)).sign(
        "GET", "h", "/", None, {"X-Sdk-Date": DATE}, None
    )
    b = AkSkSigner(AkSkCredentials(ak=AK, sk=SK + "x")).sign(
        "GET", "h", "/", None, {"X-Sdk-Date": DATE}, None
    )
    assert a["Authorization"] != b["Authorization"]


@pytest.mark.parametrize("endpoint", ["https://modelarts.example.com", "http://127.0.0.1:8080"])
async def test_requests_sent_by_the_client_verify_with_the_sdk(endpoint: str) -> None:
    """What goes on the wire (path, query, headers, body) re-signs to the same header."""
    from modelarts_operator.api import ModelImportRequest

    script = Script().json(200, {"models": [], "total_count": 0, "count": 0})
    client = make_client(script, FakeTime(), endpoint=endpoint)
    await client.models.list(model_name="mnist ü&x", model_status="published", offset=0, limit=5)
    script.json(200, {"model_id": "m-1"})
    await client.models.create(
        ModelImportRequest(
            model_name="mnist",
            model_version="1.0.0",
            source_location="obs://b/m/",
            model_type="TensorFlow",
        )
    )
    script.json(200, {})
    await client.services.delete(["a b", "c"])
    for sent in script.requests:
        raw = sent.url.raw_path.decode()
        path, _, query = raw.partition("?")
        signed_names = (
            sent.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        )
        headers = {name: sent.headers[name] for name in signed_names}
        request = SdkRequest(
            method=sent.method,
            schema="https",
            host=urlsplit(endpoint).netloc,
            resource_path=path,
            query_params=parse_qsl(query, keep_blank_values=True),
            header_params=headers,
            body=sent.content,
        )
        resigned = Signer(BasicCredentials("AKTESTACCESSKEY", "sk-very-secret-value")).sign(request)
        assert resigned.header_params["Authorization"] == sent.headers["Authorization"]
        assert sent.headers["Host"] == urlsplit(endpoint).netloc
    await client.aclose()


def test_config_defaults_to_documented_endpoints() -> None:
    config = ClientConfig(project_id="p", region="cn-east-3")
    assert config.base_url("modelarts") == "https://modelarts.cn-east-3.myhuaweicloud.com"
    assert config.base_url("iam") == "https://iam.cn-east-3.myhuaweicloud.com"
    assert config.base_url("dataarts") == config.base_url("modelarts")
