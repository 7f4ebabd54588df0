"""Authentication as the cloud enforces it: IAM tokens the emulator issued, or AK/SK signatures.

The AK/SK verifier is written here from the algorithm (SDK-HMAC-SHA256 as huaweicloudsdkcore
signs), independently of the project's client signer, so a bug in one cannot hide a bug in the
other. Canonical request = METHOD, canonical URI (each segment percent-encoded, trailing "/"),
canonical query (sorted, percent-encoded), canonical headers (the SignedHeaders, lower-cased,
values trimmed), the SignedHeaders list and the hex SHA-256 of the body; string to sign =
algorithm, X-Sdk-Date, hex SHA-256 of the canonical request; signature = HMAC-SHA256(SK, it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from .errors import ApiError

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DATE_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass
class Token:
    value: str
    project_id: str
    project_name: str
    user: str
    domain: str
    issued_at: float
    expires_at: float


@dataclass
class Principal:
    """Who made an authenticated request, and for which project (None: any, AK/SK).

    ``user`` names the principal as agencies' trust lists match it: ``user:<name>`` (an IAM
    user: password token or permanent AK/SK), ``federated:<idp>:<subject>`` (an OIDC ID
    token exchanged), ``agency:<name>`` (credentials of an agency)."""

    method: str  # "token" | "aksk"
    project_id: str | None
    user: str


@dataclass
class TemporaryKey:
    """Temporary AK/SK and security token (``/v3.0/OS-CREDENTIAL/securitytokens``, ECS
    metadata, Pod Identity); ``expires_at`` on the emulated clock."""

    access: str
    secret: str
    security_token: str
    principal: str
    issued_at: float
    expires_at: float


class TemporaryKeyStore:
    """Temporary credentials issued, judged against the emulated clock."""

    def __init__(self) -> None:
        self._keys: dict[str, TemporaryKey] = {}

    def issue(self, principal: str, *, now: float, ttl: float) -> TemporaryKey:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        access = "".join(secrets.choice(alphabet) for _ in range(20))
        secret = "".join(secrets.choice(alphabet + alphabet.lower()) for _ in range(40))
        token = base64.b64encode(secrets.token_bytes(240)).decode()
        key = TemporaryKey(access, secret, token, principal, now, now + ttl)
        self._keys[access] = key
        if len(self._keys) > 10_000:  # as TokenStore: a hungry client cannot exhaust memory
            for old in list(self._keys)[:1000]:
                del self._keys[old]
        return key

    def get(self, access: str) -> TemporaryKey | None:
        return self._keys.get(access)

    def expire_all(self, now: float) -> int:
        for key in self._keys.values():
            key.expires_at = min(key.expires_at, now)
        return len(self._keys)

    def clear(self) -> None:
        self._keys.clear()


class TokenStore:
    """Tokens issued by ``POST /v3/auth/tokens``; judged against the emulated clock."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def issue(
        self,
        *,
        project_id: str,
        project_name: str,
        user: str,
        domain: str,
        now: float,
        ttl: float,
    ) -> Token:
        # Real tokens are long PKI-looking strings starting with "MII".
        raw = base64.urlsafe_b64encode(secrets.token_bytes(180)).decode().rstrip("=")
        tok = Token("MII" + raw, project_id, project_name, user, domain, now, now + ttl)
        self._tokens[tok.value] = tok
        if len(self._tokens) > 10_000:  # forget the oldest so a token-hungry client cannot OOM us
            for key in list(self._tokens)[:1000]:
                del self._tokens[key]
        return tok

    def expire_all(self, now: float) -> int:
        for tok in self._tokens.values():
            tok.expires_at = min(tok.expires_at, now)
        return len(self._tokens)

    def clear(self) -> None:
        self._tokens.clear()

    def check(self, value: str | None, now: float) -> Token:
        """Return the token or raise the documented 02xx error."""
        if not value:
            raise ApiError(401, "ModelArts.0201", "The token does not exist. Check X-Auth-Token.")
        tok = self._tokens.get(value)
        if tok is None:
            if len(value) >= 16 and any(t.startswith(value) for t in self._tokens):
                raise ApiError(401, "ModelArts.0204", "Incomplete token.")
            raise ApiError(401, "ModelArts.0203", "Invalid token.")
        if now >= tok.expires_at:
            raise ApiError(
                401,
                "ModelArts.0202",
                "The token has expired. Generate a new token; the validity period of a token "
                "is 24 hours.",
            )
        return tok


def _encode(s: str) -> str:
    return quote(s, safe="~")


def canonical_uri(raw_path: str) -> str:
    path = "/".join(_encode(seg) for seg in unquote(raw_path).split("/"))
    return path if path.endswith("/") else path + "/"


def canonical_query(raw_query: str) -> str:
    pairs: list[tuple[str, str]] = []
    if raw_query:
        for part in raw_query.split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            pairs.append((unquote(key.replace("+", " ")), unquote(value.replace("+", " "))))
    pairs.sort()
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


@dataclass
class ParsedAuthorization:
    access: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization:
    algo, _, rest = value.strip().partition(" ")
    if algo != ALGORITHM:
        raise ApiError(401, "ModelArts.0211", f"Unsupported signing algorithm {algo!r}.")
    items: dict[str, str] = {}
    for chunk in rest.split(","):
        key, sep, val = chunk.strip().partition("=")
        if sep:
            items[key.strip()] = val.strip()
    access = items.get("Access") or items.get("Credential", "").split("/")[0]
    if not access or "SignedHeaders" not in items or "Signature" not in items:
        raise ApiError(401, "ModelArts.0211", "Malformed Authorization header.")
    return ParsedAuthorization(
        access, [h for h in items["SignedHeaders"].split(";") if h], items["Signature"]
    )


def string_to_sign(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    signed_headers: list[str],
    body: bytes,
    sdk_date: str,
) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    canon_headers = "".join(f"{h}:{lower.get(h, '').strip()}\n" for h in signed_headers)
    if not body:
        payload_hash = EMPTY_SHA256
    else:
        payload_hash = lower.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join(
        [
            method.upper(),
            canonical_uri(raw_path),
            canonical_query(raw_query),
            canon_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def verify_signature(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    keys: dict[str, str],
    security_tokens: dict[str, str | None],
    wall_now: float,
    max_skew: float,
) -> str:
    """Verify an SDK-HMAC-SHA256 request; return the AK or raise the documented error."""
    lower = {k.lower(): v for k, v in headers.items()}
    parsed = parse_authorization(lower.get("authorization", ""))
    sk = keys.get(parsed.access)
    if sk is None:
        raise ApiError(401, "ModelArts.0208", "The uploaded AK/SK are unavailable.")
    sdk_date = lower.get("x-sdk-date")
    if not sdk_date:
        raise ApiError(401, "ModelArts.0211", "X-Sdk-Date is missing.")
    try:
        signed_at = datetime.strptime(sdk_date, DATE_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise ApiError(401, "ModelArts.0211", "X-Sdk-Date is malformed.") from None
    if abs(wall_now - signed_at) > max_skew:
        raise ApiError(
            401,
            "ModelArts.0211",
            "The request has expired: X-Sdk-Date is more than 15 minutes off.",
        )
    if "x-sdk-date" not in parsed.signed_headers or "host" not in parsed.signed_headers:
        raise ApiError(401, "ModelArts.0211", "host and x-sdk-date must be signed.")
    expected_token = security_tokens.get(parsed.access)
    if expected_token is not None and lower.get("x-security-token") != expected_token:
        raise ApiError(401, "ModelArts.0211", "The security token is missing or wrong.")
    sts = string_to_sign(
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=headers,
        signed_headers=parsed.signed_headers,
        body=body,
        sdk_date=sdk_date,
    )
    expected = hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parsed.signature.lower()):
        raise ApiError(401, "ModelArts.0211", "AK/SK failed IAM verification: wrong signature.")
    return parsed.access
