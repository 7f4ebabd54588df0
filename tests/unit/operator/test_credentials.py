"""Which identity a namespace's objects use, and what is refused on the way (issue 24's
credential findings and issue 25's chain). Values read from a Namespace are checked where
they are read and fail closed with CredentialsError; redaction is per credential source."""

from __future__ import annotations

import asyncio
import base64
import posixpath
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from modelarts_operator.api import ModelArtsClient, TemporaryIdentity
from modelarts_operator.api.identity import (
    AgencySource,
    FederatedSource,
    IdentityError,
    MetadataSource,
    PodIdentitySource,
)
from modelarts_operator.api.redact import redact
from modelarts_operator.reconcile.credentials import ClientFactory, CredentialsError
from modelarts_operator.reconcile.failures import classify
from modelarts_operator.reconcile.kube import KubeError
from modelarts_operator.settings import OperatorSettings, SettingsError

P = "modelarts.huaweicloud.com/"


class FakeKube:
    """Namespaces and Secrets as the API server serves them: a path is normalised as an HTTP
    client and the server do (``a/../b`` is ``b``); a path may be made to answer an error."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, int] = {}
        self.version = 0
        self.read: list[str] = []

    def put(self, path: str, body: dict[str, Any]) -> None:
        self.version += 1
        body.setdefault("metadata", {})["resourceVersion"] = str(self.version)
        self.objects[path] = body

    def namespace(self, name: str, **annotations: str) -> None:
        self.put(f"/api/v1/namespaces/{name}", {"metadata": {"annotations": annotations}})

    def secret(self, namespace: str, name: str, **values: str | bytes) -> None:
        data = {
            k: base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode()
            for k, v in values.items()
        }
        self.put(f"/api/v1/namespaces/{namespace}/secrets/{name}", {"data": data})

    async def get(self, path: str) -> dict[str, Any]:
        path = posixpath.normpath(path)
        self.read.append(path)
        if path in self.errors:
            raise KubeError(self.errors[path], "refused")
        if path not in self.objects:
            raise KubeError(404, "not found")
        return self.objects[path]


def run(
    kube: FakeKube, settings: OperatorSettings, body: Callable[[ClientFactory], Awaitable[Any]]
) -> Any:
    async def main() -> Any:
        factory = ClientFactory(settings, kube)  # type: ignore[arg-type]
        factory.CACHE_SECONDS = 0.0
        factory.CLOSE_GRACE_SECONDS = 0.01
        try:
            return await body(factory)
        finally:
            await factory.aclose()

    return asyncio.run(main())


def refused(
    kube: FakeKube, settings: OperatorSettings, namespace: str = "team-a"
) -> CredentialsError:
    async def body(factory: ClientFactory) -> CredentialsError:
        with pytest.raises(CredentialsError) as info:
            await factory.for_namespace(namespace)
        return info.value

    result: CredentialsError = run(kube, settings, body)
    return result


DEFAULT = OperatorSettings(credentials_secret="ops/creds", project_id="p0", ecs_metadata=False)


@pytest.fixture
def kube() -> FakeKube:
    kube = FakeKube()
    kube.secret("ops", "creds", ak="AK0", sk="default-secret-key")
    return kube


# ---------------------------------------------------------------- issue 24, each failing on main
@pytest.mark.parametrize(
    "region", ["x@attacker.example#", "attacker.example/", "cn-north-4.attacker.example", "CN-1"]
)
def test_a_region_annotation_that_is_no_region_is_refused(kube: FakeKube, region: str) -> None:
    kube.namespace("team-a", **{P + "region": region})
    err = refused(kube, DEFAULT)
    assert f"{P}region" in str(err)
    assert "is not a region ID" in str(err)


def test_a_real_region_builds_the_documented_host(kube: FakeKube) -> None:
    kube.namespace("team-a", **{P + "region": "ap-southeast-1"})

    async def body(factory: ClientFactory) -> str:
        client = await factory.for_namespace("team-a")
        return client.config.base_url("modelarts")

    assert run(kube, DEFAULT, body) == "https://modelarts.ap-southeast-1.myhuaweicloud.com"


@pytest.mark.parametrize("project", ["../workspaces", "p/x", "p?x=1", "p\r\nX-Injected: 1"])
def test_a_project_annotation_that_is_no_id_is_refused(kube: FakeKube, project: str) -> None:
    kube.namespace("team-a", **{P + "project-id": project})
    assert "is not a project ID" in str(refused(kube, DEFAULT))


def test_a_crafted_secret_name_never_reaches_another_namespaces_secret(kube: FakeKube) -> None:
    """Without an allow-list, ``../../team-b/secrets/theirs`` was normalised into team-b's
    Secret path and used."""
    kube.secret("team-b", "theirs", ak="AKB", sk="team-b-secret-key")
    kube.namespace("team-a", **{P + "credentials-secret": "../../team-b/secrets/theirs"})
    err = refused(kube, DEFAULT)
    assert "is not a Secret name" in str(err)
    assert "/api/v1/namespaces/team-b/secrets/theirs" not in kube.read


@pytest.mark.parametrize("status", [403, 404])
def test_an_unreadable_namespace_is_not_a_reason_to_use_the_default(
    kube: FakeKube, status: int
) -> None:
    kube.namespace("team-a", **{P + "credentials-secret": "own"})
    kube.errors["/api/v1/namespaces/team-a"] = status
    err = refused(kube, DEFAULT)
    assert f"cannot read namespace team-a (HTTP {status})" in str(err)
    assert "/api/v1/namespaces/ops/secrets/creds" not in kube.read


def test_a_binary_secret_value_is_a_clear_error(kube: FakeKube) -> None:
    kube.namespace("team-a", **{P + "credentials-secret": "own"})
    kube.secret("team-a", "own", ak="AK1", sk=b"\xff\xfe binary")
    err = refused(kube, DEFAULT)
    assert str(err) == "Secret team-a/own: key sk is not UTF-8 text"


def test_redaction_follows_the_secret_and_spares_words(kube: FakeKube) -> None:
    """A Secret holding ``Fail`` turned every ``Failed`` into ``***ed``, for good."""
    kube.namespace("team-a", **{P + "credentials-secret": "own"})
    kube.secret("team-a", "own", ak="AK1", sk="Fail")

    async def body(factory: ClientFactory) -> None:
        await factory.for_namespace("team-a")
        assert redact("the job Failed") == "the job Failed"
        assert redact("sk=Fail") == "sk=***"
        assert redact("echoed: Fail") == "echoed: ***"
        kube.secret("team-a", "own", ak="AK1", sk="rotated-secret-key")  # rotation
        await factory.for_namespace("team-a")
        assert redact("rotated-secret-key") == "***"
        await asyncio.sleep(0.05)  # the old client's grace period
        assert redact("echoed: Fail") == "echoed: Fail"  # pruned with its client

    run(kube, DEFAULT, body)


def test_the_settings_refuse_what_the_annotations_refuse() -> None:
    with pytest.raises(SettingsError, match="MODELARTS_REGION"):
        OperatorSettings.from_env({"MODELARTS_REGION": "x@attacker.example#"})
    with pytest.raises(SettingsError, match="MODELARTS_CREDENTIALS_SECRET"):
        OperatorSettings.from_env({"MODELARTS_CREDENTIALS_SECRET": "ops/../kube-system/x"})


# ------------------------------------------------------------------------ the chain (issue 25)
def identity_of(kube: FakeKube, settings: OperatorSettings) -> Any:
    async def body(factory: ClientFactory) -> Any:
        client: ModelArtsClient = await factory.for_namespace("team-a")
        return client._identity or client._signer

    return run(kube, settings, body)


KEYLESS = {"project_id": "p0", "idp_id": "cluster-oidc", "id_token_file": "/var/run/oidc/token"}
POD_IDENTITY = {
    "pod_identity_uri": "http://169.254.170.2/v1/credentials",
    "pod_identity_token_file": "/var/run/pod-identity/token",
}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({**KEYLESS, **POD_IDENTITY, "credentials_secret": "ops/creds"}, "signer"),
        ({**KEYLESS, **POD_IDENTITY}, FederatedSource),
        ({"project_id": "p0", **POD_IDENTITY}, PodIdentitySource),
        ({"project_id": "p0"}, MetadataSource),
    ],
)
def test_the_chain_in_the_sdks_order(
    kube: FakeKube, settings: dict[str, Any], expected: Any
) -> None:
    kube.namespace("team-a")
    found = identity_of(kube, OperatorSettings(**settings))
    if expected == "signer":
        assert not isinstance(found, TemporaryIdentity)  # a configured Secret wins
    else:
        assert isinstance(found, TemporaryIdentity)
        assert isinstance(found.source, expected)


def test_a_namespace_secret_keeps_working_beside_the_pods_identity(kube: FakeKube) -> None:
    kube.namespace("team-a", **{P + "credentials-secret": "own"})
    kube.secret("team-a", "own", ak="AK1", sk="team-a-secret-key")
    found = identity_of(kube, OperatorSettings(**KEYLESS))
    assert not isinstance(found, TemporaryIdentity)


def test_nothing_configured_and_no_metadata_says_how_to_configure(kube: FakeKube) -> None:
    kube.namespace("team-a")
    err = refused(kube, OperatorSettings(project_id="p0", ecs_metadata=False))
    assert "no credentials" in str(err)
    assert "OIDC federation" in str(err)


def test_half_an_oidc_configuration_fails_at_start() -> None:
    with pytest.raises(SettingsError, match="HUAWEICLOUD_SDK_ID_TOKEN_FILE"):
        OperatorSettings.from_env({"HUAWEICLOUD_SDK_IDP_ID": "cluster-oidc"})


def test_the_sdks_variable_names_are_honoured() -> None:
    settings = OperatorSettings.from_env(
        {
            "HUAWEICLOUD_SDK_IDP_ID": "idp",
            "HUAWEICLOUD_SDK_ID_TOKEN_FILE": "/t",
            "HUAWEICLOUD_SDK_IAM_ENDPOINT": "https://iam.example",
            "HUAWEICLOUD_SDK_PROJECT_ID": "p1",
            "HC_CONTAINER_CREDENTIALS_FULL_URI": "http://agent/creds",
            "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/pi",
            "MODELARTS_PROJECT_ID": "p2",  # ours wins where both are set
        }
    )
    assert (settings.idp_id, settings.id_token_file) == ("idp", "/t")
    assert settings.iam_endpoint == "https://iam.example"
    assert settings.project_id == "p2"
    assert settings.pod_identity_uri == "http://agent/creds"


# --------------------------------------------------------------------------------- agencies
def test_an_agency_needs_the_platforms_allowance(kube: FakeKube) -> None:
    kube.namespace("team-a", **{P + "agency": "acme/team-a-agency"})
    err = refused(kube, DEFAULT)
    assert "MODELARTS_AGENCIES" in str(err)
    assert "acme/team-a-agency" in str(err)


def test_an_allowed_agency_is_assumed_with_the_namespaces_identity(kube: FakeKube) -> None:
    kube.namespace("team-a", **{P + "agency": "acme/team-a-agency"})
    settings = DEFAULT.model_copy(update={"agencies": ["acme/team-a-agency"]})
    found = identity_of(kube, settings)
    assert isinstance(found, TemporaryIdentity)
    assert isinstance(found.source, AgencySource)
    assert found.description == "agency acme/team-a-agency (assumed with Secret ops/creds)"


@pytest.mark.parametrize("value", ["team-a-agency", "acme/x/y", "acme/ agency"])
def test_an_agency_annotation_must_name_account_and_agency(kube: FakeKube, value: str) -> None:
    kube.namespace("team-a", **{P + "agency": value})
    assert "is not <account>/<agency>" in str(refused(kube, DEFAULT))


# ---------------------------------------------------------------------- what the user sees
def test_a_refresh_failure_is_synced_false_auth_failed_naming_the_mechanism() -> None:
    err = IdentityError(
        "OIDC federation (identity provider idp, token /var/run/oidc/token): IAM refused "
        "the ID token (HTTP 401 IAM.0007: Request parameter id_token is invalid: the token "
        "has expired.)",
        mechanism="oidc",
    )
    failure = classify(err)
    assert failure.synced.status is False
    assert failure.synced.reason == "AuthFailed"
    assert failure.synced.message.startswith("OIDC federation (identity provider idp")
    assert failure.auth
    assert classify(err, by_category=True).synced.reason == "AuthFailed"


def test_exchanges_and_the_time_left_are_exported() -> None:
    """``modelarts_credential_refreshes_total{mechanism,result}`` and
    ``modelarts_credentials_expiry_seconds{mechanism}`` as a scrape shows them."""
    from datetime import UTC, datetime, timedelta

    from modelarts_operator.api.auth import AkSkCredentials, Lease
    from modelarts_operator.metrics import METRICS
    from modelarts_operator.reconcile.credentials import _count_fetch

    before = METRICS.value(
        "modelarts_credential_refreshes_total", mechanism="oidc", result="failed"
    )
    _count_fetch("oidc", False, None)
    after = METRICS.value("modelarts_credential_refreshes_total", mechanism="oidc", result="failed")
    assert after == before + 1

    async def body(factory: ClientFactory) -> None:
        identity = factory._ambient()
        lease = Lease(
            AkSkCredentials(ak="AK", sk="temporary-secret"),
            issued_at=datetime.now(UTC),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        identity.refresher._lease = lease
        text = METRICS.render().decode()
        (line,) = [x for x in text.splitlines() if x.startswith("modelarts_credentials_expiry")]
        assert line.startswith('modelarts_credentials_expiry_seconds{mechanism="oidc"} 3')

    kube = FakeKube()
    run(kube, OperatorSettings(**KEYLESS), body)
