"""The one place where HTTP happens: endpoints, auth, rate limit, retries, errors, logging.

Resource modules describe *what* to call (method, path, models); this module decides *how*:
sign or attach a token, wait for the rate limiter, retry throttling and transient faults with
backoff and jitter (honouring ``Retry-After``), refuse to re-send a create whose outcome is
unknown (``Ambiguous``), classify errors, and log each call with the server's request id and
no secret.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel

from . import errors
from .auth import (
    AkSkCredentials,
    AkSkSigner,
    Credentials,
    Lease,
    PasswordCredentials,
    Refresher,
    canonical_query_string,
    parse_expires_at,
    password_auth_body,
)
from .identity import TemporaryIdentity
from .ratelimit import RateLimiter
from .redact import RedactingFilter, SecretScope

__all__ = ["REGION_PATTERN", "ApiResponse", "BaseClient", "ClientConfig", "OnCall", "Service"]

log = logging.getLogger("modelarts_operator.api")
if not any(isinstance(f, RedactingFilter) for f in log.filters):
    log.addFilter(RedactingFilter())

Service = Literal["modelarts", "iam", "dataarts"]
OnCall = Callable[[str, str, int | None, float], None]
"""Metrics hook: ``(endpoint_name, method, http_status_or_None, seconds)`` per attempt."""

T = TypeVar("T", bound=BaseModel)
QueryParams = Mapping[str, Any] | Sequence[tuple[str, Any]] | None

_SENT_NOTHING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# Huawei Cloud region IDs (cn-north-4, ap-southeast-1, la-south-2, eu-west-101...): a default
# endpoint host is built from the region, so nothing else may pass for one (issue 24: a region
# "x@attacker.example#" sent credentials to attacker.example).
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+$")


def _with_scheme(url: str) -> str:
    url = url.rstrip("/")
    return url if "://" in url else f"https://{url}"


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """Where and how to call. Endpoints without a scheme get ``https://``.

    ``endpoint`` defaults to the documented regional endpoint, ``iam_endpoint`` to
    ``iam.{region}.myhuaweicloud.com`` and ``dataarts_endpoint`` to ``endpoint``.
    """

    project_id: str
    region: str = "cn-north-4"
    endpoint: str | None = None
    iam_endpoint: str | None = None
    dataarts_endpoint: str | None = None
    qps: float = 20.0
    burst: int = 40
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # A Retry-After longer than this is not slept on: Throttled is raised with
    # ``retry_after`` so the reconciler requeues instead of holding a worker.
    max_retry_after: float = 120.0
    ca_bundle: str | None = None
    verify_tls: bool = True
    max_connections: int = 32
    token_refresh_margin: float = 3600.0
    # offset/limit lists: the documents call offset the "index of the page" (True); set
    # False for a server that reads it as the index of the first item.
    offset_is_page: bool = True
    user_agent: str = "modelarts-operator"
    on_call: OnCall | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not REGION_PATTERN.fullmatch(self.region):
            raise ValueError(f"region {self.region!r} is not a region ID like cn-north-4")

    def base_url(self, service: Service) -> str:
        modelarts = _with_scheme(self.endpoint or f"modelarts.{self.region}.myhuaweicloud.com")
        if service == "modelarts":
            return modelarts
        if service == "iam":
            return _with_scheme(self.iam_endpoint or f"iam.{self.region}.myhuaweicloud.com")
        return _with_scheme(self.dataarts_endpoint) if self.dataarts_endpoint else modelarts


@dataclass(frozen=True)
class ApiResponse:
    status: int
    data: Any
    request_id: str | None
    headers: httpx.Headers


def _ssl_context(config: ClientConfig) -> ssl.SSLContext | bool:
    if not config.verify_tls:
        return False
    if config.ca_bundle:
        return ssl.create_default_context(cafile=config.ca_bundle)
    return True


def _query_pairs(params: QueryParams) -> list[tuple[str, Any]]:
    if not params:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(k), v) for k, v in items if v is not None]


def _decode(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


class BaseClient:
    """Async HTTP client for one (credentials, project) pair. Close it with ``aclose``."""

    def __init__(
        self,
        config: ClientConfig,
        credentials: Credentials | TemporaryIdentity | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._credentials = credentials
        self._sleep = sleep
        self._clock = clock
        self._now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self._rand = rand
        self.limiter = RateLimiter(config.qps, config.burst, clock=clock, sleep=sleep)
        # Requests beyond the pool's connections wait here, not in httpcore's queue, which
        # rescans every queued request against every connection on each change.
        self._in_flight = asyncio.Semaphore(config.max_connections)
        self._signer = AkSkSigner(credentials) if isinstance(credentials, AkSkCredentials) else None
        self._identity = credentials if isinstance(credentials, TemporaryIdentity) else None
        # The secrets this client holds are hidden from every text while it lives.
        self._scope = SecretScope(f"client {config.project_id}")
        if isinstance(credentials, AkSkCredentials | PasswordCredentials):
            self._scope.replace(credentials.secret_values())
        self.tokens: Refresher[str] | None = (
            Refresher(
                self._fetch_token,
                now=self._now,
                refresh_margin=timedelta(seconds=config.token_refresh_margin),
                scope=SecretScope(f"IAM token {config.project_id}"),
                secrets_of=lambda token: [token],
            )
            if isinstance(credentials, PasswordCredentials)
            else None
        )
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            verify=_ssl_context(config),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_connections,
            ),
            follow_redirects=False,
            headers={"User-Agent": config.user_agent},
        )

    def __repr__(self) -> str:
        kind = (
            "aksk"
            if self._signer
            else f"temporary ({self._identity.mechanism})"
            if self._identity
            else "token"
            if self.tokens
            else "none"
        )
        return (
            f"{type(self).__name__}(endpoint={self.config.base_url('modelarts')!r}, "
            f"project_id={self.config.project_id!r}, auth={kind})"
        )

    async def aclose(self) -> None:
        """Close the connections and forget this client's secrets (a temporary identity is
        shared and closed by whoever made it)."""
        await self._http.aclose()
        if self.tokens is not None:
            await self.tokens.aclose()
        self._scope.close()

    async def __aenter__(self) -> BaseClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------------------- paths
    def project_path(self, *parts: str | int) -> str:
        """``/v1/{project_id}/a/b``, each part percent-encoded as one segment."""
        return self.path("v1", self.config.project_id, *parts)

    @staticmethod
    def path(*parts: str | int) -> str:
        return "/" + "/".join(quote(str(p), safe="") for p in parts)

    # ----------------------------------------------------------------------------- calls
    async def call(
        self,
        model: type[T],
        method: str,
        path: str,
        *,
        endpoint_name: str,
        params: QueryParams = None,
        json_body: Any = None,
        service: Service = "modelarts",
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        """``request`` and validate the JSON body into ``model``."""
        response = await self.request(
            method,
            path,
            endpoint_name=endpoint_name,
            params=params,
            json_body=json_body,
            service=service,
            idempotent=idempotent,
            headers=headers,
        )
        data = response.data if isinstance(response.data, Mapping) else {}
        return model.model_validate(data)

    async def request(
        self,
        method: str,
        path: str,
        *,
        endpoint_name: str,
        params: QueryParams = None,
        json_body: Any = None,
        service: Service = "modelarts",
        idempotent: bool | None = None,
        authenticate: bool = True,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> ApiResponse:
        """One logical call, retried as its kind allows; raises ``errors.ModelArtsError``.

        ``idempotent`` defaults to False for POST: such a call is re-sent only when the
        server provably did not act (429, connection refused); otherwise ``Ambiguous``.
        ``headers`` are extra request headers (signed with the rest under AK/SK).
        ``base_url`` replaces the service's endpoint (the Pod Identity agent, ECS metadata).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        if isinstance(json_body, BaseModel):
            json_body = json_body.model_dump(mode="json", by_alias=True, exclude_none=True)
        body = (
            json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            if json_body is not None
            else None
        )
        pairs = _query_pairs(params)
        config = self.config
        attempt = 0
        refreshed = False
        while True:
            await self.limiter.acquire()
            request, used = await self._build(
                method, service, path, pairs, body, authenticate, headers, base_url
            )
            try:
                async with self._in_flight:
                    started = self._clock()
                    response = await self._http.send(request)
                    payload = await response.aread()
            except httpx.TransportError as exc:
                elapsed = self._clock() - started
                self._record(endpoint_name, method, None, elapsed)
                what = type(exc).__name__
                if not idempotent and not isinstance(exc, _SENT_NOTHING):
                    log.warning("%s %s: %s after %.3fs; not re-sent", method, path, what, elapsed)
                    raise errors.Ambiguous(
                        f"{method} {path}: no reliable answer ({what}); the create may have "
                        "happened: look it up by name before trying again",
                        method=method,
                        path=path,
                    ) from exc
                if attempt >= config.max_retries:
                    raise errors.TransportError(
                        f"{method} {path}: {what} after {attempt + 1} attempts",
                        method=method,
                        path=path,
                    ) from exc
                delay = self._backoff(attempt)
                log.warning(
                    "%s %s: %s; retry %d/%d in %.2fs",
                    method, path, what, attempt + 1, config.max_retries, delay,
                )  # fmt: skip
                await self._sleep(delay)
                attempt += 1
                continue

            elapsed = self._clock() - started
            status = response.status_code
            request_id = response.headers.get("X-request-id")
            self._record(endpoint_name, method, status, elapsed)
            data = _decode(payload)
            failed = isinstance(data, Mapping) and data.get("is_success") is False
            if response.is_success and not failed:
                log.debug(
                    "%s %s -> %d in %.3fs (request id %s)",
                    method, path, status, elapsed, request_id,
                )  # fmt: skip
                return ApiResponse(status, data, request_id, response.headers)

            retry_after = self._retry_after(response.headers)
            err = errors.error_from_response(
                status,
                data if isinstance(data, Mapping) else payload,
                request_id=request_id,
                retry_after=retry_after,
                method=method,
                path=path,
            )
            log.info(
                "%s %s -> %d %s in %.3fs (request id %s)",
                method, path, status, err.error_code or "", elapsed, err.request_id,
            )  # fmt: skip
            if (
                isinstance(err, errors.AuthFailed)
                and used is not None
                and not refreshed
                and (status == 401 or err.error_code in errors.TOKEN_EXPIRED_CODES)
            ):
                # Refused: the token expired early or the temporary credentials were revoked.
                # Forget them and try once more with fresh ones, never more.
                self._invalidate(used)
                refreshed = True
                log.info("%s %s: credentials refused; fetching new ones", method, path)
                continue
            if not err.retryable:
                raise err
            if not idempotent and not isinstance(err, errors.Throttled) and status != 503:
                raise errors.Ambiguous(
                    f"{method} {path}: HTTP {status} {err.error_code or ''}: the create may "
                    "have happened: look it up by name before trying again",
                    status=status,
                    error_code=err.error_code,
                    error_msg=err.error_msg,
                    request_id=err.request_id,
                    method=method,
                    path=path,
                ) from err
            if attempt >= config.max_retries:
                raise err
            if retry_after is not None and retry_after > config.max_retry_after:
                raise err
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if isinstance(err, errors.Throttled):
                self.limiter.pause(delay)
            log.warning(
                "%s %s -> %d %s; retry %d/%d in %.2fs (request id %s)",
                method, path, status, err.error_code or "", attempt + 1, config.max_retries,
                delay, err.request_id,
            )  # fmt: skip
            await self._sleep(delay)
            attempt += 1

    # ----------------------------------------------------------------------------- helpers
    async def _build(
        self,
        method: str,
        service: Service,
        path: str,
        pairs: list[tuple[str, Any]],
        body: bytes | None,
        authenticate: bool,
        extra_headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> tuple[httpx.Request, str | AkSkCredentials | None]:
        """The request, signed or with a token; also what authenticated it (a token or
        temporary credentials), to forget if the server refuses it."""
        base = base_url or self.config.base_url(service)
        split = urlsplit(base)
        full_path = split.path.rstrip("/") + path
        query = canonical_query_string(pairs)
        url = f"{split.scheme}://{split.netloc}{full_path}" + (f"?{query}" if query else "")
        headers: dict[str, str] = dict(extra_headers or {})
        if body is not None:
            headers["Content-Type"] = "application/json"
        if service == "modelarts":
            headers["X-Project-Id"] = self.config.project_id
        used: str | AkSkCredentials | None = None
        if authenticate:
            signer = self._signer
            if self._identity is not None:
                used = await self._identity.get()
                signer = AkSkSigner(used)
            if signer is not None:
                headers = signer.sign(
                    method, split.netloc, full_path, pairs, headers, body, now=self._now()
                )
            elif self.tokens is not None:
                used = await self.tokens.get()
                headers["X-Auth-Token"] = used
        return self._http.build_request(method, url, headers=headers, content=body), used

    def _invalidate(self, used: str | AkSkCredentials) -> None:
        if isinstance(used, AkSkCredentials):
            if self._identity is not None:
                self._identity.invalidate(used)
        elif self.tokens is not None:
            self.tokens.invalidate(used)

    async def _fetch_token(self) -> Lease[str]:
        credentials = self._credentials
        assert isinstance(credentials, PasswordCredentials)
        issued = self._now()
        response = await self.request(
            "POST",
            "/v3/auth/tokens",
            endpoint_name="iam.tokens.create",
            json_body=password_auth_body(
                credentials, credentials.project_name or self.config.region
            ),
            service="iam",
            idempotent=True,
            authenticate=False,
        )
        value = response.headers.get("X-Subject-Token")
        if not value:
            raise errors.AuthFailed(
                "IAM answered without an X-Subject-Token header",
                status=response.status,
                request_id=response.request_id,
            )
        token_body = response.data.get("token") if isinstance(response.data, Mapping) else None
        expires = token_body.get("expires_at") if isinstance(token_body, Mapping) else None
        return Lease(
            value,
            issued_at=issued,
            expires_at=parse_expires_at(expires if isinstance(expires, str) else None, issued),
        )

    def _backoff(self, attempt: int) -> float:
        """Exponential with "equal jitter": never below half the step, so never a hot loop."""
        step = min(self.config.backoff_max, self.config.backoff_base * float(2**attempt))
        return step / 2 + self._rand() * step / 2

    def _retry_after(self, headers: httpx.Headers) -> float | None:
        value = headers.get("Retry-After")
        if not value:
            return None
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - self._now()).total_seconds())

    def _record(self, endpoint_name: str, method: str, status: int | None, seconds: float) -> None:
        hook = self.config.on_call
        if hook is None:
            return
        try:
            hook(endpoint_name, method, status, seconds)
        except Exception:  # a metrics bug must never fail a reconcile
            log.exception("on_call hook failed for %s", endpoint_name)
