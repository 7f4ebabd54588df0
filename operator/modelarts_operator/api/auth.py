"""Authentication: AK/SK request signing (``SDK-HMAC-SHA256``) and IAM password tokens.

The signer reproduces ``huaweicloudsdkcore.signer.Signer`` exactly (the tests compare them
byte for byte): the cloud verifies signatures with the same canonicalisation, so any
difference is a 401. A :class:`Refresher` keeps one expiring thing fresh (an IAM token, or
temporary credentials, see ``identity``): fetched ahead of ``expires_at`` without making
anyone wait, and once more when the server refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, SecretStr

from .redact import SecretScope

__all__ = [
    "AkSkCredentials",
    "AkSkSigner",
    "Credentials",
    "Lease",
    "PasswordCredentials",
    "Refresher",
    "canonical_query_string",
    "canonical_uri",
    "password_auth_body",
]

T = TypeVar("T")

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

    def secret_values(self) -> list[str]:
        """What redaction must hide while these credentials are in use."""
        token = self.security_token.get_secret_value() if self.security_token else None
        return [v for v in (self.sk.get_secret_value(), token) if v]


class PasswordCredentials(BaseModel):
    """IAM user, password and account (domain); exchanged for a project-scoped token."""

    model_config = ConfigDict(frozen=True)

    username: str
    password: SecretStr
    domain: str
    # The project the token is scoped to, by name; defaults to the region (IAM's own
    # convention: the default project of a region is named after it).
    project_name: str | None = None

    def secret_values(self) -> list[str]:
        """What redaction must hide while these credentials are in use."""
        return [self.password.get_secret_value()]


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
class Lease(Generic[T]):
    """Something that expires (an IAM token, temporary credentials); its value never shows
    in a repr."""

    value: T
    issued_at: datetime
    expires_at: datetime

    def __repr__(self) -> str:
        return f"Lease(value=***, expires_at={self.expires_at.isoformat()})"

    @property
    def lifetime(self) -> timedelta:
        return self.expires_at - self.issued_at

    def refresh_at(self, margin: timedelta) -> datetime:
        """When to start fetching the next one: ``margin`` early (the SDK's 40 minutes for
        temporary credentials), but never earlier than four fifths into its life, so that a
        short lease is not fetched again on every call."""
        return self.expires_at - min(margin, self.lifetime / 5)

    def usable_until(self) -> datetime:
        """After this a request signed with it may arrive after it expired: wait for the next
        one instead (a minute early, or a tenth of a short life)."""
        return self.expires_at - min(timedelta(minutes=1), self.lifetime / 10)


LeaseFetcher = Callable[[], Awaitable[Lease[T]]]
RefreshHook = Callable[[bool, "Lease[Any] | None", BaseException | None], None]
"""Called after every fetch: ``(ok, the new lease or None, the error or None)``."""


class Refresher(Generic[T]):
    """Keeps one lease fresh for however many callers need it, without a gap.

    Until ``refresh_at`` callers get the cached value. From then until ``usable_until`` they
    still get it while one fetch runs in the background; if that fetch fails the value is used
    on, and the fetch is tried again ``retry_seconds`` later. Only without a usable value do
    callers wait, for one shared fetch; a failed one is raised to every waiter and, for
    ``retry_seconds``, to every later caller without asking again (a broken identity must not
    hammer IAM once per object). ``invalidate`` forgets a value the server refused.
    """

    def __init__(
        self,
        fetch: LeaseFetcher[T],
        *,
        now: Callable[[], datetime] | None = None,
        refresh_margin: timedelta = timedelta(hours=1),
        retry_seconds: float = 30.0,
        scope: SecretScope | None = None,
        secrets_of: Callable[[T], list[str]] | None = None,
        on_fetch: RefreshHook | None = None,
    ) -> None:
        self._fetch = fetch
        self._now = now or (lambda: datetime.now(UTC))
        self._margin = refresh_margin
        self._retry = timedelta(seconds=retry_seconds)
        self._scope = scope
        self._secrets_of = secrets_of
        self._on_fetch = on_fetch
        self._lease: Lease[T] | None = None
        self._failure: BaseException | None = None
        self._quiet_until: datetime | None = None  # no new fetch before this
        self._task: asyncio.Task[Lease[T]] | None = None
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(cached={self._lease!r})"

    @property
    def lease(self) -> Lease[T] | None:
        return self._lease

    @property
    def pending(self) -> asyncio.Task[Lease[T]] | None:
        """The fetch under way, if any (tests await it)."""
        return self._task if self._task is not None and not self._task.done() else None

    async def get(self) -> T:
        now = self._now()
        lease = self._lease
        if lease is not None and now < lease.usable_until():
            if now >= lease.refresh_at(self._margin) and self._may_fetch(now):
                self._start()  # ahead of expiry, in the background: nobody waits
            return lease.value
        if self._failure is not None and not self._may_fetch(now):
            raise self._failure
        task = self._task if self._task is not None and not self._task.done() else self._start()
        return (await asyncio.shield(task)).value

    def invalidate(self, value: T) -> None:
        """Forget ``value`` if it is still the cached one (the server refused it)."""
        if self._lease is not None and self._lease.value == value:
            self._lease = None
            self._quiet_until = None

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._scope is not None:
            self._scope.close()

    def _may_fetch(self, now: datetime) -> bool:
        if self.pending is not None:
            return False
        return self._quiet_until is None or now >= self._quiet_until

    def _start(self) -> asyncio.Task[Lease[T]]:
        self._task = asyncio.get_running_loop().create_task(self._run())
        # A background fetch's failure is kept in ``_failure``; mark it retrieved here so
        # asyncio does not also report it as never retrieved.
        self._task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return self._task

    async def _run(self) -> Lease[T]:
        try:
            lease = await self._fetch()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._failure = err
            self._quiet_until = self._now() + self._retry
            self._report(False, None, err)
            raise
        self.fetch_count += 1
        if self._scope is not None and self._secrets_of is not None:
            self._scope.replace(self._secrets_of(lease.value))
        self._lease, self._failure, self._quiet_until = lease, None, None
        self._report(True, lease, None)
        return lease

    def _report(self, ok: bool, lease: Lease[T] | None, err: BaseException | None) -> None:
        if self._on_fetch is None:
            return
        try:
            self._on_fetch(ok, lease, err)
        except Exception:  # a metrics bug must never break authentication
            logging.getLogger(__name__).exception("refresh hook failed")


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
