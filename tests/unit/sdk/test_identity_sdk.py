"""Keyless identity judged by the official SDK core's own code (huaweicloudsdkcore 3.1.x):
its ``FederalAccessor`` (OIDC federation), ``PodIdentityAccessor`` and
``MetadataCredentialProvider``, pointed at the emulator, obtain temporary credentials and make
a signed ModelArts call the emulator accepts (with ``X-Security-Token``); an ID token with the
wrong audience, of another service account, expired, or with a forged signature is refused
as IAM refuses it. The operator's own client then goes the same ways
(tests/unit/api/test_identity_emulator.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import huaweicloudsdkmodelarts.v1 as modelarts
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.auth.internal import MetadataAccessor, PodIdentityAccessor
from huaweicloudsdkcore.auth.provider import MetadataCredentialProvider
from huaweicloudsdkcore.exceptions.exceptions import SdkException
from huaweicloudsdkcore.http.http_config import HttpConfig

from modelarts_testbed.emulator import DEFAULT_PROJECT_ID, EmulatorConfig
from modelarts_testbed.emulator.server import EmulatorHandle, run_emulator_in_thread
from tests.oidc_issuer import AUDIENCE, ISSUER, Issuer

IDP = "cluster-oidc"
OPERATOR_SA = "system:serviceaccount:modelarts-system:modelarts-operator"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def iam(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    jwks = issuer.write_jwks(tmp_path_factory.mktemp("idp") / "jwks.json")
    config = EmulatorConfig(
        seed=5,
        idps=[f"{IDP}={jwks},audience={AUDIENCE},subject={OPERATOR_SA},issuer={ISSUER}"],
        pod_identities={"pod-agency": f"{IDP},subject={OPERATOR_SA}"},
        metadata_agency="node-agency",
    )
    with run_emulator_in_thread(config) as handle:
        yield handle


def _client(url: str, credentials: BasicCredentials) -> modelarts.ModelArtsClient:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 30)
    return (
        modelarts.ModelArtsClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_endpoints([url])
        .build()
    )


def _signed_call_is_accepted(url: str, credentials: BasicCredentials) -> None:
    listed = _client(url, credentials).list_workspace(modelarts.ListWorkspaceRequest())
    assert listed.total_count >= 1  # the default workspace: the emulator took the signature


def _federal(iam: EmulatorHandle, token_file: Path) -> BasicCredentials:
    return (
        BasicCredentials(project_id=DEFAULT_PROJECT_ID)
        .with_idp_id(IDP)
        .with_id_token_file(str(token_file))
        .with_iam_endpoint(iam.url)
    )


def _exchanges(iam: EmulatorHandle) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = httpx.get(f"{iam.url}/_emulator/iam/exchanges").json()[
        "exchanges"
    ]
    return result


def test_federal_accessor_gets_temporary_credentials_and_signs_with_them(
    iam: EmulatorHandle, issuer: Issuer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token(pod="sdk-federal"))
    credentials = _federal(iam, token_file)
    _signed_call_is_accepted(iam.url, credentials)
    # The SDK exchanged the token, then signed with temporary credentials and their token.
    assert credentials.security_token
    assert credentials.ak
    assert credentials.ak != iam.config.ak
    (seen,) = [e for e in _exchanges(iam) if e["pod"] == "sdk-federal"]
    assert seen["outcome"] == "ok"
    assert seen["principal"] == f"federated:{IDP}:{OPERATOR_SA}"


def test_pod_identity_accessor_gets_the_agency(
    iam: EmulatorHandle, issuer: Issuer, tmp_path: Path
) -> None:
    token_file = tmp_path / "pod-identity-token"
    token_file.write_text(issuer.token(pod="sdk-pod-identity"))
    credentials = BasicCredentials(project_id=DEFAULT_PROJECT_ID)
    credentials.sts_accessor = PodIdentityAccessor(
        f"{iam.url}/pod-identity/credentials", str(token_file)
    )
    credentials.process_sts(None)
    assert credentials.security_token
    _signed_call_is_accepted(iam.url, credentials)
    (seen,) = [e for e in _exchanges(iam) if e["pod"] == "sdk-pod-identity"]
    assert seen["principal"] == "agency:pod-agency"


def test_metadata_credential_provider_gets_the_node_agency(
    iam: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MetadataAccessor, "_METADATA_ENDPOINT", iam.url)
    provider = MetadataCredentialProvider.get_basic_credential_metadata_provider()
    provider.project_id = DEFAULT_PROJECT_ID
    credentials = provider.get_credentials()
    assert credentials.security_token
    _signed_call_is_accepted(iam.url, credentials)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong audience", "audience"),
        ("another service account", "is not mapped"),
        ("expired", "expired"),
        ("forged signature", "signature does not verify"),
    ],
)
def test_tokens_iam_would_not_take_are_refused(
    iam: EmulatorHandle, issuer: Issuer, tmp_path: Path, case: str, reason: str
) -> None:
    token = {
        "wrong audience": lambda: issuer.token(audience="someone-else"),
        "another service account": lambda: issuer.token("team-a", "runner"),
        "expired": lambda: issuer.token(issued=1_000_000, lifetime=600),
        "forged signature": lambda: issuer.forged(),
    }[case]()
    token_file = tmp_path / "token"
    token_file.write_text(token)
    with pytest.raises(SdkException) as refused:
        _client(iam.url, _federal(iam, token_file)).list_workspace(modelarts.ListWorkspaceRequest())
    err: Any = refused.value
    assert err.status_code == 401, err
    assert err.error_code == "IAM.0007"
    assert reason in err.error_msg


def test_temporary_credentials_expire_on_the_emulated_clock(
    iam: EmulatorHandle, issuer: Issuer, tmp_path: Path
) -> None:
    """The SDK holds credentials valid for 6 h; once the emulated clock passes that, the same
    signature is refused as expired (the SDK itself would have fetched new ones 40 min before,
    by its own wall clock)."""
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token(pod="sdk-expiry"))
    credentials = _federal(iam, token_file)
    client = _client(iam.url, credentials)
    client.list_workspace(modelarts.ListWorkspaceRequest())
    iam.admin.advance(6 * 3600 + 1)
    with pytest.raises(SdkException) as refused:
        client.list_workspace(modelarts.ListWorkspaceRequest())
    err: Any = refused.value
    assert err.status_code == 401
    assert "expired" in err.error_msg
