"""Temporary credentials without a stored key: where they come from and how they stay fresh.

Each :class:`CredentialSource` obtains one set of temporary AK/SK + security token the way
the official SDK core does (``huaweicloudsdkcore/auth/internal.py``, same paths, headers and
bodies, judged against it in ``tests/unit/sdk/test_identity_sdk.py``):

- :class:`FederatedSource` (the SDK's ``FederalAccessor``): the pod's projected service-account
  token, read from its file at every exchange (the kubelet rotates it), is exchanged for an
  unscoped token at ``POST /v3.0/OS-AUTH/id-token/tokens`` (header ``X-Idp-Id``), and that for
  temporary credentials at ``POST /v3.0/OS-CREDENTIAL/securitytokens`` (``token`` method);
- :class:`PodIdentitySource` (``PodIdentityAccessor``): ``POST`` to the URI CCE injects, with
  the token file's contents as ``Authorization``;
- :class:`MetadataSource` (``MetadataAccessor``): the node's agency from the ECS metadata
  service (``PUT /meta-data/latest/api/token``, then ``GET /openstack/latest/securitykey``);
- :class:`AgencySource`: ``assume_role`` at ``POST /v3.0/OS-CREDENTIAL/securitytokens``,
  signed with another identity, turns it into an IAM agency (per-namespace identity).

:class:`TemporaryIdentity` keeps one source's credentials fresh (an :class:`auth.Refresher`:
40 minutes ahead of expiry as the SDK, in the background, and once more after a 401) and
turns every way of failing into :class:`IdentityError`, which names the mechanism and never a
value.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol
from urllib.parse import urlsplit

from . import errors
from .auth import AkSkCredentials, Lease, Refresher
from .redact import SecretScope


class Answer(Protocol):
    """What an identity source reads of an answer (``base.ApiResponse`` is one)."""

    @property
    def data(self) -> Any: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class Transport(Protocol):
    """The HTTP client an identity source calls IAM, the metadata service or the Pod
    Identity agent with (``base.BaseClient`` is one). A protocol rather than the class, so
    that the client, which signs with these identities, and the identities, which call through
    the client, do not import each other."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        endpoint_name: str,
        json_body: Any = None,
        service: Literal["modelarts", "iam", "dataarts"] = "modelarts",
        idempotent: bool | None = None,
        authenticate: bool = True,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> Answer: ...

    async def aclose(self) -> None: ...


__all__ = [
    "AgencySource",
    "CredentialSource",
    "FederatedSource",
    "IdentityError",
    "MetadataSource",
    "PodIdentitySource",
    "TemporaryIdentity",
    "parse_credential",
]

log = logging.getLogger(__name__)

# huaweicloudsdkcore/auth/credentials.py: _DEFAULT_EXPIRATION_THRESHOLD_SECONDS.
SDK_REFRESH_MARGIN = timedelta(minutes=40)
# huaweicloudsdkcore/auth/internal.py: FederalAccessor._DEFAULT_DURATION_SECONDS.
FEDERATED_DURATION_SECONDS = 6 * 3600
# MetadataAccessor._DEFAULT_TOKEN_TTL_SECONDS and its endpoint.
METADATA_TOKEN_TTL_SECONDS = 6 * 3600
METADATA_ENDPOINT = "http://169.254.169.254"
# The agency's credentials: IAM allows 15 min to 24 h (IdentityAssumerole.duration_seconds in
# huaweicloudsdkiam); an hour keeps a revoked agency's reach short.
AGENCY_DURATION_SECONDS = 3600


class IdentityError(errors.AuthFailed):
    """Temporary credentials could not be obtained. The message names the mechanism and what
    failed (a file, IAM's answer), never a token or key; the reason is ``AuthFailed``."""

    def __init__(self, message: str | None = None, *, mechanism: str = "", **fields: Any) -> None:
        fields.setdefault("error_msg", message)
        super().__init__(message, **fields)
        self.mechanism = mechanism


Issued = tuple[AkSkCredentials, datetime]
"""Temporary credentials and when they expire."""


def parse_credential(data: Any, where: str, mechanism: str) -> Issued:
    """The credential in any of the shapes the SDK's ``StsAccessor._process_credential``
    reads: under ``credential`` or ``credentials``, ``access``/``accessKeyId``/
    ``access_key_id`` and so on, ``expires_at`` or ``expiration``."""
    if isinstance(data, Mapping):
        inner = data.get("credential", data.get("credentials", data))
    else:
        inner = None
    if not isinstance(inner, Mapping):
        raise IdentityError(f"{where} answered without a credential", mechanism=mechanism)

    def first(*names: str) -> str | None:
        for name in names:
            value = inner.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    access = first("access", "accessKeyId", "access_key_id")
    secret = first("secret", "secretAccessKey", "secret_access_key")
    token = first("securitytoken", "securityToken", "security_token")
    expires = first("expires_at", "expiration")
    missing = [
        name
        for name, value in (("access", access), ("secret", secret), ("securitytoken", token))
        if value is None
    ]
    if missing or access is None or secret is None:
        raise IdentityError(
            f"{where} answered a credential without {', '.join(missing)}", mechanism=mechanism
        )
    expires_at = _parse_time(expires)
    if expires_at is None:
        raise IdentityError(
            f"{where} answered a credential without a valid expiry", mechanism=mechanism
        )
    return AkSkCredentials(ak=access, sk=secret, security_token=token), expires_at


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _read_token_file(path: str, mechanism: str, what: str) -> str:
    """The file's contents, read anew every time (the kubelet replaces it as it rotates)."""
    try:
        content = (await asyncio.to_thread(Path(path).read_text, encoding="utf-8")).strip()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        raise IdentityError(f"{what}: cannot read {path}: {reason}", mechanism=mechanism) from None
    if not content:
        raise IdentityError(f"{what}: {path} is empty", mechanism=mechanism)
    return content


def _refused(mechanism: str, what: str, err: errors.ModelArtsError) -> IdentityError:
    """``what (HTTP 401 IAM.0007: IAM's message)``: the answer, in brackets so that no
    redaction pattern ("token: <value>") takes the status for a value."""
    parts = [f"HTTP {err.status}" if err.status is not None else type(err).__name__]
    if err.error_code:
        parts.append(err.error_code)
    detail = " ".join(parts)
    if err.error_msg:
        detail = f"{detail}: {err.error_msg}"
    return IdentityError(f"{what} ({detail})", mechanism=mechanism)


class CredentialSource(ABC):
    """One way to obtain temporary credentials. ``mechanism`` is the metric label,
    ``description`` what a person reads in a condition (never a value)."""

    mechanism: ClassVar[str]
    description: str

    def __init__(self) -> None:
        # Intermediate bearer values (an ID token, IAM's unscoped token) of the last exchange.
        self.scope = SecretScope(f"{self.mechanism} exchange")

    @abstractmethod
    async def fetch(self, http: Transport) -> Issued:
        """One set of temporary credentials; raises IdentityError or an API error."""


class FederatedSource(CredentialSource):
    """OIDC federation with a projected service-account token (the SDK's FederalAccessor;
    ``HUAWEICLOUD_SDK_IDP_ID`` and ``HUAWEICLOUD_SDK_ID_TOKEN_FILE``)."""

    mechanism = "oidc"

    def __init__(self, idp_id: str, token_file: str) -> None:
        super().__init__()
        self.idp_id = idp_id
        self.token_file = token_file
        self.description = f"OIDC federation (identity provider {idp_id}, token {token_file})"

    async def fetch(self, http: Transport) -> Issued:
        id_token = await _read_token_file(self.token_file, self.mechanism, self.description)
        self.scope.replace([id_token])
        try:
            answer = await http.request(
                "POST",
                "/v3.0/OS-AUTH/id-token/tokens",
                endpoint_name="iam.id_token.tokens.create",
                json_body={"auth": {"id_token": {"id": id_token}}},
                headers={"X-Idp-Id": self.idp_id},
                service="iam",
                idempotent=True,
                authenticate=False,
            )
        except errors.ModelArtsError as err:
            raise _refused(
                self.mechanism, f"{self.description}: IAM refused the ID token", err
            ) from None
        unscoped = answer.headers.get("X-Subject-Token")
        if not unscoped:
            raise IdentityError(
                f"{self.description}: IAM answered without X-Subject-Token",
                mechanism=self.mechanism,
            )
        self.scope.replace([id_token, unscoped])
        body = {
            "auth": {
                "identity": {
                    "methods": ["token"],
                    "token": {"id": unscoped, "duration_seconds": FEDERATED_DURATION_SECONDS},
                }
            }
        }
        try:
            answer = await http.request(
                "POST",
                "/v3.0/OS-CREDENTIAL/securitytokens",
                endpoint_name="iam.securitytokens.create",
                json_body=body,
                service="iam",
                idempotent=True,
                authenticate=False,
            )
        except errors.ModelArtsError as err:
            raise _refused(
                self.mechanism,
                f"{self.description}: IAM refused temporary credentials for the federated user",
                err,
            ) from None
        return parse_credential(answer.data, f"{self.description}: IAM", self.mechanism)


class PodIdentitySource(CredentialSource):
    """CCE Pod Identity: the URI and token file CCE injects (``HC_CONTAINER_CREDENTIALS_FULL_URI``,
    ``HC_CONTAINER_AUTHORIZATION_TOKEN_FILE``; the SDK's PodIdentityAccessor)."""

    mechanism = "pod-identity"

    def __init__(self, uri: str, token_file: str) -> None:
        super().__init__()
        self.uri = uri
        self.token_file = token_file
        self.description = f"CCE Pod Identity ({uri}, token {token_file})"

    async def fetch(self, http: Transport) -> Issued:
        token = await _read_token_file(self.token_file, self.mechanism, self.description)
        self.scope.replace([token])
        split = urlsplit(self.uri)
        path = split.path or "/"
        try:
            answer = await http.request(
                "POST",
                path + (f"?{split.query}" if split.query else ""),
                endpoint_name="pod_identity.credentials",
                json_body={},
                headers={"Authorization": token},
                service="iam",
                base_url=f"{split.scheme}://{split.netloc}",
                idempotent=True,
                authenticate=False,
            )
        except errors.ModelArtsError as err:
            raise _refused(
                self.mechanism, f"{self.description}: the agent refused the token", err
            ) from None
        return parse_credential(answer.data, f"{self.description}: the agent", self.mechanism)


class MetadataSource(CredentialSource):
    """The node's agency from the ECS metadata service (the SDK's MetadataAccessor)."""

    mechanism = "ecs-metadata"

    def __init__(self, endpoint: str = METADATA_ENDPOINT) -> None:
        super().__init__()
        self.endpoint = endpoint.rstrip("/")
        self.description = f"ECS metadata ({self.endpoint})"

    async def fetch(self, http: Transport) -> Issued:
        headers: dict[str, str] = {}
        try:
            answer = await http.request(
                "PUT",
                "/meta-data/latest/api/token",
                endpoint_name="metadata.api_token",
                headers={"X-Metadata-Token-Ttl-Seconds": str(METADATA_TOKEN_TTL_SECONDS)},
                service="iam",
                base_url=self.endpoint,
                idempotent=True,
                authenticate=False,
            )
            if isinstance(answer.data, str) and answer.data.strip():
                headers["X-Metadata-Token"] = answer.data.strip()
                self.scope.replace([headers["X-Metadata-Token"]])
        except errors.ModelArtsError as err:
            # As the SDK: a metadata service without session tokens answers 404, 405 or 503;
            # the security key is then asked for without one.
            if err.status not in (404, 405, 503):
                raise _refused(
                    self.mechanism, f"{self.description}: no session token", err
                ) from None
        try:
            answer = await http.request(
                "GET",
                "/openstack/latest/securitykey",
                endpoint_name="metadata.securitykey",
                headers=headers,
                service="iam",
                base_url=self.endpoint,
                authenticate=False,
            )
        except errors.ModelArtsError as err:
            raise _refused(
                self.mechanism, f"{self.description}: no security key for the node", err
            ) from None
        return parse_credential(answer.data, f"{self.description}: the service", self.mechanism)


class AgencySource(CredentialSource):
    """An IAM agency assumed with another identity (``assume_role``): ``http`` signs with
    that identity's credentials."""

    mechanism = "agency"

    def __init__(self, domain: str, agency: str, assumed_with: str) -> None:
        super().__init__()
        self.domain = domain
        self.agency = agency
        self.description = f"agency {domain}/{agency} (assumed with {assumed_with})"

    async def fetch(self, http: Transport) -> Issued:
        body = {
            "auth": {
                "identity": {
                    "methods": ["assume_role"],
                    "assume_role": {
                        "domain_name": self.domain,
                        "agency_name": self.agency,
                        "duration_seconds": AGENCY_DURATION_SECONDS,
                    },
                }
            }
        }
        try:
            answer = await http.request(
                "POST",
                "/v3.0/OS-CREDENTIAL/securitytokens",
                endpoint_name="iam.securitytokens.assume_role",
                json_body=body,
                service="iam",
                idempotent=True,
            )
        except IdentityError as err:  # the identity it is assumed with failed first
            raise IdentityError(
                f"{self.description}: {err.error_msg}", mechanism=self.mechanism
            ) from None
        except errors.ModelArtsError as err:
            raise _refused(
                self.mechanism, f"{self.description}: IAM refused to assume it", err
            ) from None
        return parse_credential(answer.data, f"{self.description}: IAM", self.mechanism)


FetchHook = Callable[[str, bool, float | None], None]
"""Metrics: ``(mechanism, ok, seconds the new credentials are valid or None)``."""


class TemporaryIdentity:
    """One source's temporary credentials, kept fresh for every client that signs with them.

    ``http`` is the client the source calls (an unauthenticated one, or for an agency one
    signing with the identity it is assumed with); it belongs to this object and is closed
    with it.
    """

    def __init__(
        self,
        source: CredentialSource,
        http: Transport,
        *,
        now: Callable[[], datetime] | None = None,
        on_fetch: FetchHook | None = None,
        retry_seconds: float = 30.0,
    ) -> None:
        self.source = source
        self._http = http
        self._on_fetch = on_fetch
        self._refresher: Refresher[AkSkCredentials] = Refresher(
            self._fetch,
            now=now,
            refresh_margin=SDK_REFRESH_MARGIN,
            retry_seconds=retry_seconds,
            scope=SecretScope(f"{source.mechanism} credentials"),
            secrets_of=lambda creds: creds.secret_values(),
            on_fetch=self._fetched,
        )
        self._now = now or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"TemporaryIdentity({self.source.description!r})"

    @property
    def mechanism(self) -> str:
        return self.source.mechanism

    @property
    def description(self) -> str:
        return self.source.description

    @property
    def refresher(self) -> Refresher[AkSkCredentials]:
        return self._refresher

    async def get(self) -> AkSkCredentials:
        return await self._refresher.get()

    def invalidate(self, credentials: AkSkCredentials) -> None:
        self._refresher.invalidate(credentials)

    async def aclose(self) -> None:
        await self._refresher.aclose()
        self.source.scope.close()
        await self._http.aclose()

    async def _fetch(self) -> Lease[AkSkCredentials]:
        previous = self._refresher.lease
        try:
            credentials, expires_at = await self.source.fetch(self._http)
        except IdentityError:
            raise
        except errors.ModelArtsError as err:
            raise _refused(self.mechanism, self.description, err) from None
        now = self._now()
        lease = Lease(credentials, issued_at=now, expires_at=expires_at)
        if lease.expires_at <= now:
            raise IdentityError(
                f"{self.description}: the credentials answered have expired",
                mechanism=self.mechanism,
            )
        if previous is not None:
            log.info(
                "%s: new temporary credentials, valid %.0fs; the previous ones had %.0fs left",
                self.description,
                lease.lifetime.total_seconds(),
                (previous.expires_at - now).total_seconds(),
            )
        else:
            log.info(
                "%s: temporary credentials obtained, valid %.0fs",
                self.description,
                lease.lifetime.total_seconds(),
            )
        return lease

    def _fetched(self, ok: bool, lease: Lease[Any] | None, err: BaseException | None) -> None:
        if not ok:
            log.warning("%s", err)  # it names the mechanism already
        if self._on_fetch is not None:
            seconds = lease.lifetime.total_seconds() if lease is not None else None
            self._on_fetch(self.mechanism, ok, seconds)
