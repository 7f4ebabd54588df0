"""A test OIDC issuer: an RSA key pair, its JWKS and JWTs signed with it, shaped like the
projected service-account tokens a Kubernetes API server issues (``sub``
``system:serviceaccount:<ns>:<name>``, ``kubernetes.io`` claims naming the pod). Used where no
real API server issues tokens (unit tests); the in-pod e2e uses the node's own."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "modelarts-operator-client"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class Issuer:
    kid: str = "test-key-1"
    issuer: str = ISSUER
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _b64int(numbers.n),
                    "e": _b64int(numbers.e),
                }
            ]
        }

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()))
        return path

    def token(
        self,
        namespace: str = "modelarts-system",
        service_account: str = "modelarts-operator",
        *,
        audience: str = AUDIENCE,
        lifetime: float = 3600,
        issued: float | None = None,
        pod: str = "operator-0",
        signer: rsa.RSAPrivateKey | None = None,
        **claims: Any,
    ) -> str:
        iat = int(time.time() if issued is None else issued)
        body = {
            "aud": [audience],
            "exp": int(iat + lifetime),
            "iat": iat,
            "nbf": iat,
            "iss": self.issuer,
            "sub": f"system:serviceaccount:{namespace}:{service_account}",
            "kubernetes.io": {
                "namespace": namespace,
                "pod": {"name": pod, "uid": f"uid-{pod}"},
                "serviceaccount": {"name": service_account, "uid": "sa-uid"},
            },
            **claims,
        }
        header = {"alg": "RS256", "kid": self.kid}
        signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
        signature = (signer or self.key).sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{_b64(signature)}"

    def forged(self, **kwargs: Any) -> str:
        """A token that claims this issuer's key but is signed with another one."""
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.token(signer=other, **kwargs)
