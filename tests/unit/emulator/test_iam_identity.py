"""The emulator's IAM for keyless identity, by itself: its flags, and what it refuses in each
exchange (the flows end to end are judged by the SDK in tests/unit/sdk/test_identity_sdk.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelarts_operator.cli import build_parser
from modelarts_testbed.emulator import DEFAULT_IAM_DOMAIN, DEFAULT_PROJECT_ID, EmulatorConfig
from modelarts_testbed.emulator.cli import config_from_args
from modelarts_testbed.emulator.oidc import IdentityProvider
from modelarts_testbed.emulator.server import Emulator
from tests.oidc_issuer import AUDIENCE, ISSUER, Issuer

from .conftest import token_body

SA = "system:serviceaccount:ops:operator"


def test_the_flags_configure_providers_agencies_and_associations() -> None:
    args = build_parser().parse_args(
        [
            "emulator",
            "--idp", "k8s=https://api.example/openid/v1/jwks,audience=client,subject=system:*",
            "--agency", "team-a=federated:k8s:*;user:emulator-user",
            "--pod-identity", "pod-agency=k8s,subject=system:serviceaccount:ops:*",
            "--metadata-agency", "node-agency",
            "--credential-ttl", "60",
        ]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.idps == [
        "k8s=https://api.example/openid/v1/jwks,audience=client,subject=system:*"
    ]
    assert config.agencies == {"team-a": ["federated:k8s:*", "user:emulator-user"]}
    assert config.pod_identities == {"pod-agency": "k8s,subject=system:serviceaccount:ops:*"}
    assert (config.metadata_agency, config.credential_ttl) == ("node-agency", 60.0)
    idp = IdentityProvider.parse(config.idps[0])
    assert (idp.id, idp.audience, idp.subject, idp.issuer) == ("k8s", "client", "system:*", None)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("k8s=/jwks.json,audience=client", "issuer=URL is needed with a JWKS file"),
        ("k8s=/jwks.json", "expected ID=JWKS_FILE_OR_URL,audience=CLIENT_ID"),
        ("k8s=/jwks.json,audience=c,issuer=i,scope=x", "unknown option"),
    ],
)
def test_an_idp_spec_is_checked_at_start(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        IdentityProvider.parse(spec)


@pytest.fixture
async def iam(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Issuer]]:
    issuer = Issuer()
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    config = EmulatorConfig(
        seed=1,
        idps=[f"k8s={jwks},audience={AUDIENCE},subject={SA},issuer={ISSUER}"],
        agencies={"team-a": ["user:emulator-user"]},
        credential_ttl=60,
    )
    emulator = Emulator(config)
    emulator.freeze()
    async with emulator.serve(port=0) as url, httpx.AsyncClient(base_url=url) as http:
        yield http, issuer


async def _federated_token(http: httpx.AsyncClient, issuer: Issuer) -> str:
    resp = await http.post(
        "/v3.0/OS-AUTH/id-token/tokens",
        headers={"X-Idp-Id": "k8s"},
        json={"auth": {"id_token": {"id": issuer.token("ops", "operator")}}},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()["token"]
    assert body["methods"] == ["mapped"]
    assert body["user"]["OS-FEDERATION"]["identity_provider"]["id"] == "k8s"
    return resp.headers["X-Subject-Token"]


def _by_token(token: str, duration: Any = 3600) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token, "duration_seconds": duration}}
        }
    }


async def test_an_unknown_identity_provider_is_404(
    iam: tuple[httpx.AsyncClient, Issuer],
) -> None:
    http, issuer = iam
    resp = await http.post(
        "/v3.0/OS-AUTH/id-token/tokens",
        headers={"X-Idp-Id": "nobody"},
        json={"auth": {"id_token": {"id": issuer.token("ops", "operator")}}},
    )
    assert resp.status_code == 404
    assert resp.json()["error"]["title"] == "Not Found"  # IAM's Keystone-shaped body


async def test_credentials_are_capped_and_durations_checked(
    iam: tuple[httpx.AsyncClient, Issuer],
) -> None:
    http, issuer = iam
    token = await _federated_token(http, issuer)
    resp = await http.post("/v3.0/OS-CREDENTIAL/securitytokens", json=_by_token(token))
    assert resp.status_code == 201
    credential = resp.json()["credential"]
    assert set(credential) == {"access", "secret", "securitytoken", "expires_at"}
    for bad in (899, 86401, "3600"):
        resp = await http.post("/v3.0/OS-CREDENTIAL/securitytokens", json=_by_token(token, bad))
        assert resp.status_code == 400, bad


async def test_an_unscoped_federated_token_opens_no_project(
    iam: tuple[httpx.AsyncClient, Issuer],
) -> None:
    http, issuer = iam
    token = await _federated_token(http, issuer)
    resp = await http.get(f"/v1/{DEFAULT_PROJECT_ID}/workspaces", headers={"X-Auth-Token": token})
    assert resp.status_code == 403


async def test_assume_role_refusals(iam: tuple[httpx.AsyncClient, Issuer]) -> None:
    http, _ = iam
    password = await http.post("/v3/auth/tokens", json=token_body())
    headers = {"X-Auth-Token": password.headers["X-Subject-Token"]}

    def assume(agency: str, domain: str = DEFAULT_IAM_DOMAIN) -> dict[str, Any]:
        role = {"agency_name": agency, "domain_name": domain, "duration_seconds": 900}
        return {"auth": {"identity": {"methods": ["assume_role"], "assume_role": role}}}

    ok = await http.post(
        "/v3.0/OS-CREDENTIAL/securitytokens", json=assume("team-a"), headers=headers
    )
    assert ok.status_code == 201
    unknown = await http.post(
        "/v3.0/OS-CREDENTIAL/securitytokens", json=assume("team-z"), headers=headers
    )
    assert unknown.status_code == 404
    other = await http.post(
        "/v3.0/OS-CREDENTIAL/securitytokens", json=assume("team-a", "another"), headers=headers
    )
    assert other.status_code == 404
    anonymous = await http.post("/v3.0/OS-CREDENTIAL/securitytokens", json=assume("team-a"))
    assert anonymous.status_code == 401


async def test_metadata_needs_its_session_token(iam: tuple[httpx.AsyncClient, Issuer]) -> None:
    http, _ = iam
    assert (await http.get("/openstack/latest/securitykey")).status_code == 401
    too_long = await http.put(
        "/meta-data/latest/api/token", headers={"X-Metadata-Token-Ttl-Seconds": "21601"}
    )
    assert too_long.status_code == 400
    session = await http.put(
        "/meta-data/latest/api/token", headers={"X-Metadata-Token-Ttl-Seconds": "60"}
    )
    resp = await http.get(
        "/openstack/latest/securitykey", headers={"X-Metadata-Token": session.text}
    )
    assert resp.status_code == 401  # no agency configured for the node
    assert "Please configure Cloud Service Agency first" in resp.text
