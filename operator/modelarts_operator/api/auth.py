"""Authentication: AK/SK request signing (``SDK-HMAC-SHA256``) and IAM password tokens.

The signer reproduces ``huaweicloudsdkcore.signer.Signer`` exactly (the tests compare them
byte for byte): the cloud verifies signatures with the same canonicalisation, so any
difference is a 401. The token provider caches one IAM token per credential, refreshes it
before ``expires_at`` and, once, when the server calls it expired.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, SecretStr

from .redact import register_secret

__all__ = [
    "AkSkCredentials",
    "AkSkSigner",
    "Credentials",
    "IamToken",
    "PasswordCredentials",
    "TokenProvider",
    "canonical_query_string",
    "canonical_uri",
    "password_auth_body",
]

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
HEADER_DATE = "X-Sdk-Date"
HEADER_HOST = "Host"
HEADER_AUTHORIZATION = "Authorization"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
HEADER_SECURITY_TOKEN = "X-Security-Token"  # noqa: S105 (a header name)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class AkSkCredentials(BaseModel):
    """Access key + secret key, optionally temporary (with a security token)."""

    model_config = ConfigDict(frozen=True)

    ak: str
    sk: SecretStr
    security_token: SecretStr | None = None

    def model_post_init(self, __context: Any) -> None:
        register_secret(self.sk.get_secret_value())
        if self.security_token is not None:
            register_secret(self.security_token.get_secret_value())


class PasswordCredentials(BaseModel):
    """IAM user, password and account (domain); exchanged for a project-scoped token."""

    model_config = ConfigDict(frozen=True)

    username: str
    password: SecretStr
    domain: str
    # The project the token is scoped to, by name; defaults to the region (IAM's own
    # convention: the default project of a region is named after it).
    project_name: str | None = None

    def model_post_init(self, __context: Any) -> None:
        register_secret(self.password.get_secret_value())


Credentials = AkSkCredentials | PasswordCredentials


def _url_encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    """Each path segment decoded then re-encoded; always ends with ``/``."""
    encoded = "/".join(_url_encode(part) for part in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query_string(params: Sequence[tuple[str, Any]] | None) -> str:
    """Sorted ``k=v`` pairs, RFC 3986 encoded; lists expand, booleans are lowercase.

    The same string is sent as the URL's query so that the server, re-deriving it from what
    it received, signs exactly what we signed.
    """
    if not params:
        return ""
    pairs: list[str] = []
    for key, value in sorted(params):
        k = _url_encode(key)
        if isinstance(value, list):
            pairs.extend(f"{k}={_url_encode(str(v))}" for v in sorted(value))
        elif isinstance(value, bool):
            pairs.append(f"{k}={_url_encode(str(value).lower())}")
        else:
            pairs.append(f"{k}={_url_encode(str(value))}")
    return "&".join(pairs)


class AkSkSigner:
    """Signs one request. Holds the SK; its repr never shows it."""

    def __init__(self, credentials: AkSkCredentials) -> None:
        self._ak = credentials.ak
        self._sk = credentials.sk
        self._security_token = credentials.security_token

    def __repr__(self) -> str:
        return f"AkSkSigner(ak={self._ak!r}, sk=***)"

    def sign(
        self,
        method: str,
        host: str,
        path: str,
        params: Sequence[tuple[str, Any]] | None,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """Return ``headers`` plus ``X-Sdk-Date``, ``Host`` and ``Authorization``.

        ``host`` is ``hostname[:port]`` exactly as it will be sent. ``now`` is used when the
        headers carry no ``X-Sdk-Date`` yet.
        """
        out: dict[str, str] = dict(headers)
        if self._security_token is not None:
            out[HEADER_SECURITY_TOKEN] = self._security_token.get_secret_value()
        content_type = _get_ci(out, "Content-Type")
        if (
            content_type
            and not content_type.startswith("application/json")
            and not content_type.startswith("application/bson")
        ):
            out[HEADER_CONTENT_SHA256] = "UNSIGNED-PAYLOAD"
        date_value = _get_ci(out, HEADER_DATE)
        if date_value is None:
            moment = (now or datetime.now(UTC)).astimezone(UTC)
            date_value = moment.strftime(DATE_FORMAT)
            out[HEADER_DATE] = date_value
        if _get_ci(out, "host") is None:
            out[HEADER_HOST] = host

        signed_headers = sorted(key.lower() for key in out if "_" not in key)
        lowered: dict[str, str] = {}
        for key in list(out):
            value = str(out[key]).strip()
            lowered[key.lower()] = value
            out[key] = value
        canonical_headers = "".join(f"{key}:{lowered[key]}\n" for key in signed_headers)

        if not body:
            payload_hash = EMPTY_SHA256
        else:
            payload_hash = _get_ci(out, HEADER_CONTENT_SHA256) or hashlib.sha256(body).hexdigest()

        canonical_request = "\n".join(
            [
                method.upper(),
                canonical_uri(path),
                canonical_query_string(params),
                canonical_headers,
                ";".join(signed_headers),
                payload_hash,
            ]
        )
        string_to_sign = "\n".join(
            [
                ALGORITHM,
                date_value,
                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
            ]
        )
        signature = hmac.new(
            self._sk.get_secret_value().encode("utf-8"),
            string_to_sign.encode("utf-8"),
            hashlib.sha256,
        ).hexdigest()
        out[HEADER_AUTHORIZATION] = (
            f"{ALGORITHM} Access={self._ak}, SignedHeaders={';'.join(signed_headers)}, "
            f"Signature={signature}"
        )
        return out


def _get_ci(headers: Mapping[str, str], name: str) -> str | None:
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:
            return value
    return None


def password_auth_body(credentials: PasswordCredentials, project_name: str) -> dict[str, Any]:
    """The documented ``POST /v3/auth/tokens`` body: password method, project scope."""
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": credentials.username,
                        "password": credentials.password.get_secret_value(),
                        "domain": {"name": credentials.domain},
                    }
                },
            },
            "scope": {"project": {"name": project_name}},
        }
    }


@dataclass(frozen=True)
class IamToken:
    """One issued token; the value never appears in a repr."""

    value: str
    expires_at: datetime
    issued_at: datetime

    def __repr__(self) -> str:
        return f"IamToken(value=***, expires_at={self.expires_at.isoformat()})"

    def refresh_at(self, margin: timedelta) -> datetime:
        """When to fetch the next one: ``margin`` early, but never past a fifth of its life."""
        lifetime = self.expires_at - self.issued_at
        return self.expires_at - min(margin, lifetime / 5)


TokenFetcher = Callable[[], Awaitable[IamToken]]


class TokenProvider:
    """Caches a token; one fetch at a time however many calls need it concurrently."""

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        now: Callable[[], datetime] | None = None,
        refresh_margin: timedelta = timedelta(hours=1),
    ) -> None:
        self._fetch = fetch
        self._now = now or (lambda: datetime.now(UTC))
        self._margin = refresh_margin
        self._token: IamToken | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"TokenProvider(cached={self._token!r})"

    async def get(self) -> str:
        token = self._token
        if token is not None and self._now() < token.refresh_at(self._margin):
            return token.value
        async with self._lock:
            token = self._token
            if token is None or self._now() >= token.refresh_at(self._margin):
                token = await self._fetch()
                register_secret(token.value)
                self.fetch_count += 1
                self._token = token
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` if it is still the cached token (the server rejected it)."""
        if self._token is not None and self._token.value == value:
            self._token = None


def parse_expires_at(text: str | None, fallback: datetime) -> datetime:
    """IAM's ``2019-02-13T06:52:13.855000Z``; 24 h after issue when absent or unreadable."""
    if text:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback + timedelta(hours=24)
