"""OpenID Connect identity providers as IAM sees them: the JWT checks behind
``POST /v3.0/OS-AUTH/id-token/tokens`` and the Pod Identity agent.

An IAM OIDC identity provider holds the issuer's URL, the client ID (the audience the ID token
must carry) and the signing keys; a mapping decides which subjects it lets in. Here one
``--idp ID=JWKS_FILE_OR_URL,audience=CLIENT_ID[,subject=GLOB][,issuer=URL]`` says the same:
the keys come from a JWKS file or URL (a Kubernetes API server serves its service-account
keys at ``/openid/v1/jwks``), the issuer from ``issuer=`` or, for a URL, from the OpenID
discovery document next to it, and ``subject`` is a glob over ``sub``
(``system:serviceaccount:<namespace>:<name>``; default: any).

A token is refused (HTTP 401, as IAM refuses an ID token) when its signature does not verify
with a key of the provider, or its issuer, audience, expiry or subject do not match. The
checks use the real clock: tokens come from a real issuer. Signatures are checked with
``cryptography`` (the ``local`` extra), imported only when a provider is configured.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import ApiError

# Clock skew tolerated on exp/nbf/iat, as common JWT libraries allow by default (a minute).
LEEWAY_SECONDS = 60.0
_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}


def refused(reason: str) -> ApiError:
    """IAM's answer to an ID token it does not accept. The IAM reference gives no error code
    for it; its published 401 for a request parameter it cannot accept is IAM.0007."""
    return ApiError(401, "IAM.0007", f"Request parameter id_token is invalid: {reason}.")


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise refused("it is not a JWT (bad base64url)") from None


def _b64int(text: str) -> int:
    return int.from_bytes(_b64url(text), "big")


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, the signed part and the signature, without checking anything."""
    parts = token.split(".")
    if len(parts) != 3:
        raise refused("it is not a JWT (three dot-separated parts)")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except ValueError:
        raise refused("it is not a JWT (header or claims are not JSON)") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise refused("it is not a JWT (header or claims are not objects)")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), _b64url(parts[2])


def _verify_signature(jwk: dict[str, Any], alg: str, signed: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    try:
        if alg[:2] in ("RS", "PS") and jwk.get("kty") == "RSA":
            key = rsa.RSAPublicNumbers(_b64int(jwk["e"]), _b64int(jwk["n"])).public_key()
            pad: padding.AsymmetricPadding = (
                padding.PKCS1v15()
                if alg.startswith("RS")
                else padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            )
            key.verify(signature, signed, pad, digest)
            return True
        if alg.startswith("ES") and jwk.get("kty") == "EC":
            curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
            curve = curves.get(str(jwk.get("crv")))
            if curve is None:
                return False
            public = ec.EllipticCurvePublicNumbers(_b64int(jwk["x"]), _b64int(jwk["y"]), curve)
            half = len(signature) // 2
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            public.public_key().verify(der, signed, ec.ECDSA(digest))
            return True
    except (InvalidSignature, KeyError, ValueError):
        return False
    return False


@dataclass
class IdentityProvider:
    """One IAM OIDC identity provider."""

    id: str
    jwks_source: str
    audience: str
    subject: str = "*"
    issuer: str | None = None
    _keys: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @classmethod
    def parse(cls, spec: str) -> IdentityProvider:
        """``ID=JWKS_FILE_OR_URL,audience=CLIENT_ID[,subject=GLOB][,issuer=URL]``."""
        head, _, rest = spec.partition(",")
        idp_id, sep, source = head.partition("=")
        options: dict[str, str] = {}
        for item in filter(None, rest.split(",")):
            key, eq, value = item.partition("=")
            if not eq or key not in ("audience", "subject", "issuer"):
                raise ValueError(f"--idp {spec!r}: unknown option {item!r}")
            options[key] = value
        if not sep or not idp_id or not source or not options.get("audience"):
            raise ValueError(
                f"--idp {spec!r}: expected ID=JWKS_FILE_OR_URL,audience=CLIENT_ID"
                "[,subject=GLOB][,issuer=URL]"
            )
        idp = cls(
            idp_id,
            source,
            options["audience"],
            options.get("subject") or "*",
            options.get("issuer"),
        )
        if idp.issuer is None and not idp.is_url:
            raise ValueError(
                f"--idp {spec!r}: issuer=URL is needed with a JWKS file (a URL's issuer is "
                "read from the discovery document next to it)"
            )
        return idp

    @property
    def is_url(self) -> bool:
        return self.jwks_source.startswith(("http://", "https://"))

    def load(self) -> None:
        """Read the keys (and, for a URL without ``issuer=``, the issuer) now."""
        if self.is_url:
            self._keys = _keys_of(httpx.get(self.jwks_source, timeout=10).json())
            if self.issuer is None:
                split = urlsplit(self.jwks_source)
                discovery = f"{split.scheme}://{split.netloc}/.well-known/openid-configuration"
                self.issuer = str(httpx.get(discovery, timeout=10).json()["issuer"])
        else:
            self._keys = _keys_of(json.loads(Path(self.jwks_source).read_text()))

    def verify(self, token: str, subject: str | None = None) -> dict[str, Any]:
        """The token's claims, or ``refused`` saying which check failed. ``subject`` replaces
        the provider's own subject glob (a Pod Identity association has its own)."""
        header, claims, signed, signature = decode_unverified(token)
        alg = str(header.get("alg", ""))
        if alg not in _ALGORITHMS:
            raise refused(f"signing algorithm {alg!r} is not accepted")
        if not self._keys:
            self.load()
        kid = header.get("kid")
        candidates = [k for k in self._keys if kid is None or k.get("kid") == kid]
        if not candidates and self.is_url:
            self.load()  # the issuer may have rotated its keys
            candidates = [k for k in self._keys if kid is None or k.get("kid") == kid]
        if not any(_verify_signature(k, alg, signed, signature) for k in candidates):
            raise refused(f"the signature does not verify with identity provider {self.id}'s keys")
        if claims.get("iss") != self.issuer:
            raise refused(f"issuer {claims.get('iss')!r} is not {self.issuer!r}")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences or []
        if self.audience not in audiences:
            raise refused(f"audience {audiences!r} does not include {self.audience!r}")
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or now > exp + LEEWAY_SECONDS:
            raise refused("the token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and now < nbf - LEEWAY_SECONDS:
            raise refused("the token is not valid yet")
        sub = str(claims.get("sub", ""))
        if not fnmatch.fnmatchcase(sub, subject or self.subject):
            raise refused(f"subject {sub!r} is not mapped by identity provider {self.id}")
        return claims


def _keys_of(jwks: Any) -> list[dict[str, Any]]:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise ValueError("not a JWKS document (no keys)")
    return [k for k in keys if isinstance(k, dict)]
