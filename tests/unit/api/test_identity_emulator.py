"""The operator's own client without a stored key, against the emulator's IAM: OIDC federation,
Pod Identity, ECS metadata and agencies obtain temporary credentials the emulator accepts;
they are refreshed 40 minutes ahead of expiry (the SDK's margin) in the background, so no call
waits or fails; a refused signature is retried once with fresh credentials; the token file is
read anew at each exchange (the kubelet rotates it); a failure names the mechanism and what
failed, never a value."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from modelarts_operator.api import (
    AkSkCredentials,
    ClientConfig,
    IdentityError,
    ModelArtsClient,
    TemporaryIdentity,
)
from modelarts_operator.api.base import BaseClient
from modelarts_operator.api.identity import (
    AgencySource,
    CredentialSource,
    FederatedSource,
    MetadataSource,
    PodIdentitySource,
)
from modelarts_testbed.emulator import (
    DEFAULT_AK,
    DEFAULT_IAM_DOMAIN,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    Emulator,
    EmulatorConfig,
)
from tests.oidc_issuer import AUDIENCE, ISSUER, Issuer

IDP = "cluster-oidc"
OPERATOR_SA = "system:serviceaccount:modelarts-system:modelarts-operator"


@dataclass
class Clock:
    """The operator's clock for refresh decisions: the emulator's frozen one, which tells
    expiries on it."""

    emulator: Emulator

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.emulator.core.clock.now(), UTC)

    def advance(self, seconds: float) -> None:
        self.emulator.advance(seconds)


@dataclass
class Env:
    emulator: Emulator
    url: str
    issuer: Issuer
    token_file: Path
    clock: Clock

    def identity(self, source: CredentialSource, base: Any = None) -> TemporaryIdentity:
        return TemporaryIdentity(source, self.client(base), now=self.clock)

    def client(self, credentials: Any) -> ModelArtsClient:
        """Signs with the real time (the emulator checks X-Sdk-Date against it); only the
        identity's refresh decisions follow ``clock``."""
        config = ClientConfig(
            project_id=DEFAULT_PROJECT_ID,
            endpoint=self.url,
            iam_endpoint=self.url,
            max_retries=0,
            qps=10_000,
            burst=10_000,
        )
        return ModelArtsClient(config, credentials)

    def federated(self) -> TemporaryIdentity:
        return self.identity(FederatedSource(IDP, str(self.token_file)))

    def exchanges(self) -> list[dict[str, Any]]:
        return list(self.emulator.core.exchanges)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    issuer = Issuer()
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    config = EmulatorConfig(
        seed=3,
        idps=[f"{IDP}={jwks},audience={AUDIENCE},subject={OPERATOR_SA},issuer={ISSUER}"],
        agencies={
            "team-a": [f"federated:{IDP}:{OPERATOR_SA}", "user:emulator-user"],
            "team-b": ["user:somebody-else"],
        },
        pod_identities={"pod-agency": IDP},
        metadata_agency="node-agency",
    )
    emulator = Emulator(config)
    emulator.freeze()
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token(pod="pod-1"))
    async with emulator.serve(port=0) as url:
        yield Env(emulator, url, issuer, token_file, Clock(emulator))


@contextlib.asynccontextmanager
async def using(env: Env, identity: TemporaryIdentity) -> AsyncIterator[ModelArtsClient]:
    client = env.client(identity)
    try:
        yield client
    finally:
        await client.aclose()
        await identity.aclose()


async def test_oidc_federation_signs_with_temporary_credentials(env: Env) -> None:
    async with using(env, env.federated()) as client:
        page = await client.workspaces.list()
        assert page.total_count >= 1
    (exchange,) = env.exchanges()
    assert exchange["principal"] == f"federated:{IDP}:{OPERATOR_SA}"
    calls = env.emulator.core.calls
    assert calls["POST /v3.0/OS-AUTH/id-token/tokens"] == 1
    assert calls["POST /v3.0/OS-CREDENTIAL/securitytokens"] == 1


async def test_refreshed_forty_minutes_ahead_in_the_background_without_a_gap(env: Env) -> None:
    identity = env.federated()
    async with using(env, identity) as client:
        await client.workspaces.list()
        first = identity.refresher.lease
        assert first is not None
        assert round(first.lifetime.total_seconds()) == 6 * 3600  # the SDK's FederalAccessor
        # A call every minute across two lifetimes: none waits for IAM or fails.
        left_at_refresh: list[float] = []
        for _ in range(12 * 60):
            env.clock.advance(60)
            lease = identity.refresher.lease
            await client.workspaces.list()
            if identity.refresher.pending is not None:
                assert lease is not None
                left_at_refresh.append(round((lease.expires_at - env.clock()).total_seconds()))
                await identity.refresher.pending
        # With 40 min left (the SDK's margin), a fetch starts beside the calls.
        assert left_at_refresh == [40 * 60, 40 * 60]
        assert identity.refresher.fetch_count == len(left_at_refresh) + 1 == 3


async def test_a_refused_signature_gets_fresh_credentials_once(env: Env) -> None:
    identity = env.federated()
    async with using(env, identity) as client:
        await client.workspaces.list()
        env.emulator.core.temporary.expire_all(env.emulator.core.clock.now())
        await client.workspaces.list()  # 401, fresh credentials, the same call again
        assert identity.refresher.fetch_count == 2
        # Now the identity provider refuses (another service account's token): the retry
        # fails once, naming the mechanism; no loop.
        env.token_file.write_text(env.issuer.token("team-a", "runner"))
        env.emulator.core.temporary.expire_all(env.emulator.core.clock.now())
        with pytest.raises(IdentityError) as failed:
            await client.workspaces.list()
    message = str(failed.value)
    assert failed.value.reason == "AuthFailed"
    assert message.startswith(f"OIDC federation (identity provider {IDP}, token {env.token_file})")
    assert "IAM refused the ID token (HTTP 401 IAM.0007: " in message
    assert "is not mapped" in message
    assert env.token_file.read_text() not in message
    assert env.emulator.core.calls["POST /v3.0/OS-AUTH/id-token/tokens"] == 3


async def test_the_token_file_is_read_at_every_exchange(env: Env) -> None:
    identity = env.federated()
    async with using(env, identity) as client:
        await client.workspaces.list()
        env.token_file.write_text(env.issuer.token(pod="pod-1", issued=time.time() + 5))
        env.clock.advance(6 * 3600)  # past the first credentials' life: a new exchange
        await client.workspaces.list()
    iats = [e["iat"] for e in env.exchanges()]
    assert len(set(iats)) == 2, iats


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("missing", "cannot read"),
        ("empty", "is empty"),
        ("expired", "the token has expired"),
    ],
)
async def test_failures_name_the_mechanism_and_the_cause(
    env: Env, broken: str, expected: str
) -> None:
    if broken == "missing":
        env.token_file.unlink()
    elif broken == "empty":
        env.token_file.write_text("\n")
    else:
        env.token_file.write_text(env.issuer.token(issued=1_000_000, lifetime=600))
    async with using(env, env.federated()) as client:
        with pytest.raises(IdentityError) as failed:
            await client.workspaces.list()
    assert "OIDC federation" in str(failed.value)
    assert expected in str(failed.value)


async def test_a_failure_is_not_asked_again_for_half_a_minute(env: Env) -> None:
    env.token_file.write_text(env.issuer.token("team-a", "runner"))
    async with using(env, env.federated()) as client:
        for _ in range(5):
            with pytest.raises(IdentityError):
                await client.workspaces.list()
        assert env.emulator.core.calls["POST /v3.0/OS-AUTH/id-token/tokens"] == 1
        env.clock.advance(31)
        with pytest.raises(IdentityError):
            await client.workspaces.list()
        assert env.emulator.core.calls["POST /v3.0/OS-AUTH/id-token/tokens"] == 2


async def test_pod_identity_and_ecs_metadata(env: Env, tmp_path: Path) -> None:
    pod_token = tmp_path / "pod-identity-token"
    pod_token.write_text(env.issuer.token(pod="pod-identity"))
    for source in (
        PodIdentitySource(f"{env.url}/pod-identity/credentials", str(pod_token)),
        MetadataSource(env.url),
    ):
        identity = env.identity(source)
        async with using(env, identity) as client:
            assert (await client.workspaces.list()).total_count >= 1
    principals = {k.principal for k in env.emulator.core.temporary._keys.values()}
    assert principals == {"agency:pod-agency", "agency:node-agency"}


async def test_ecs_metadata_without_an_agency_says_so(env: Env) -> None:
    env.emulator.core.config.metadata_agency = None
    async with using(env, env.identity(MetadataSource(env.url))) as client:
        with pytest.raises(IdentityError) as failed:
            await client.workspaces.list()
    assert str(failed.value).startswith(f"ECS metadata ({env.url}): no security key")
    assert "Please configure Cloud Service Agency first" in str(failed.value)


async def test_an_agency_is_assumed_with_the_identity_under_it(env: Env) -> None:
    federated = env.federated()
    agency = env.identity(
        AgencySource(DEFAULT_IAM_DOMAIN, "team-a", federated.description), federated
    )
    async with using(env, agency) as client:
        await client.workspaces.list()
    await federated.aclose()
    # With a stored key under it too (a namespace's Secret).
    aksk = AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK)
    agency = env.identity(AgencySource(DEFAULT_IAM_DOMAIN, "team-a", "Secret a/b"), aksk)
    async with using(env, agency) as client:
        await client.workspaces.list()
    issued = [k.principal for k in env.emulator.core.temporary._keys.values()]
    assert issued.count("agency:team-a") == 2


async def test_an_agency_that_does_not_trust_the_caller_is_refused(env: Env) -> None:
    aksk = AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK)
    agency = env.identity(AgencySource(DEFAULT_IAM_DOMAIN, "team-b", "Secret a/b"), aksk)
    async with using(env, agency) as client:
        with pytest.raises(IdentityError) as failed:
            await client.workspaces.list()
    assert str(failed.value) == (
        f"agency {DEFAULT_IAM_DOMAIN}/team-b (assumed with Secret a/b): IAM refused to assume "
        "it (HTTP 403 IAM.0003: Policy doesn't allow user:emulator-user to assume agency "
        "team-b.)"
    )


async def test_concurrent_calls_share_one_exchange(env: Env) -> None:
    async with using(env, env.federated()) as client:
        await asyncio.gather(*(client.workspaces.list() for _ in range(10)))
    assert env.emulator.core.calls["POST /v3.0/OS-AUTH/id-token/tokens"] == 1


def test_the_identity_client_needs_no_credentials() -> None:
    client = BaseClient(ClientConfig(project_id=""), None)
    assert "auth=none" in repr(client)


async def test_pod_identity_refused_says_why(env: Env, tmp_path: Path) -> None:
    pod_token = tmp_path / "pod-identity-token"
    pod_token.write_text(env.issuer.token(audience="not-the-agents"))
    source = PodIdentitySource(f"{env.url}/pod-identity/credentials", str(pod_token))
    async with using(env, env.identity(source)) as client:
        with pytest.raises(IdentityError) as failed:
            await client.workspaces.list()
    message = str(failed.value)
    assert message.startswith(f"CCE Pod Identity ({env.url}/pod-identity/credentials, token ")
    assert "the agent refused the token (HTTP 401: No Pod Identity association" in message
    assert "audience" in message
