"""Per-namespace credentials: which ModelArts client an object in a namespace uses.

A Namespace annotation names the Secret (and optionally region and project) its objects use,
so several teams or projects share one operator (ACK's CARM, ASO's per-namespace credential).
Without it the operator's default Secret applies. Clients are cached per (Secret version,
region, project), so a rotated Secret takes effect on the next reconcile, and objects that
share credentials share one client, one rate limiter and one batched poll.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from typing import Any

from .. import GROUP
from ..api import AkSkCredentials, ClientConfig, ModelArtsClient, PasswordCredentials
from ..settings import OperatorSettings
from .kube import KubeClient, KubeError

SECRET_ANNOTATION = f"{GROUP}/credentials-secret"
REGION_ANNOTATION = f"{GROUP}/region"
PROJECT_ANNOTATION = f"{GROUP}/project-id"


class CredentialsError(Exception):
    """Credentials cannot be found or read; the message names the Secret, never its values."""


@dataclass(frozen=True)
class Target:
    """What decides which client to use (also the key for batched polling)."""

    secret_namespace: str
    secret_name: str
    secret_version: str
    region: str
    project_id: str


def credentials_from_secret(
    data: dict[str, str], where: str
) -> AkSkCredentials | PasswordCredentials:
    """Build credentials from Secret data (base64 values): ak/sk[/securityToken] or
    username/password/domain."""
    values = {k: base64.b64decode(v).decode().strip() for k, v in data.items()}
    if values.get("ak") and values.get("sk"):
        return AkSkCredentials(
            ak=values["ak"], sk=values["sk"], security_token=values.get("securityToken") or None
        )
    if values.get("username") and values.get("password") and values.get("domain"):
        return PasswordCredentials(
            username=values["username"], password=values["password"], domain=values["domain"]
        )
    raise CredentialsError(
        f"Secret {where} has neither keys ak+sk nor username+password+domain "
        f"(keys present: {', '.join(sorted(values)) or 'none'})"
    )


class ClientFactory:
    """Resolves and caches ModelArts clients per namespace."""

    def __init__(self, settings: OperatorSettings, kube: KubeClient) -> None:
        self.settings = settings
        self.kube = kube
        self._clients: dict[Target, ModelArtsClient] = {}
        self._targets: dict[str, Target] = {}
        self._lock = asyncio.Lock()
        self._resolved: dict[str, tuple[float, ModelArtsClient]] = {}

    CACHE_SECONDS = 15.0

    async def target_for(self, namespace: str) -> tuple[Target, dict[str, str]]:
        annotations: dict[str, str] = {}
        try:
            ns = await self.kube.get(f"/api/v1/namespaces/{namespace}")
            annotations = ns.get("metadata", {}).get("annotations") or {}
        except KubeError as err:
            if err.status not in (403, 404):
                raise
        if secret_name := annotations.get(SECRET_ANNOTATION):
            secret_ns = namespace
        elif self.settings.credentials_secret:
            secret_ns, secret_name = self.settings.credentials_secret.split("/", 1)
        else:
            raise CredentialsError(
                f"no credentials: annotate namespace {namespace} with {SECRET_ANNOTATION} "
                "or set the operator's default credentials Secret"
            )
        where = f"{secret_ns}/{secret_name}"
        try:
            secret = await self.kube.get(f"/api/v1/namespaces/{secret_ns}/secrets/{secret_name}")
        except KubeError as err:
            raise CredentialsError(f"cannot read Secret {where}: HTTP {err.status}") from None
        project = annotations.get(PROJECT_ANNOTATION) or self.settings.project_id
        if not project:
            raise CredentialsError(
                f"no project ID for namespace {namespace}: set {PROJECT_ANNOTATION} "
                "or the operator's project"
            )
        target = Target(
            secret_ns,
            secret_name,
            str(secret.get("metadata", {}).get("resourceVersion", "")),
            annotations.get(REGION_ANNOTATION) or self.settings.region,
            project,
        )
        return target, secret.get("data") or {}

    async def for_namespace(self, namespace: str) -> ModelArtsClient:
        """The namespace's client; the Namespace and Secret are re-read at most every
        ``CACHE_SECONDS`` (the poller asks for every object every cycle)."""
        cached = self._resolved.get(namespace)
        if cached is not None and time.monotonic() - cached[0] < self.CACHE_SECONDS:
            return cached[1]
        target, data = await self.target_for(namespace)
        async with self._lock:
            client = self._clients.get(target)
            if client is None:
                client = self._build(target, data)
                self._clients[target] = client
            self._targets[namespace] = target
            self._resolved[namespace] = (time.monotonic(), client)
            return client

    def forget(self, namespace: str) -> None:
        """Drop the cached resolution (e.g. after an authentication failure)."""
        self._resolved.pop(namespace, None)

    def namespaces_using(self, secret_namespace: str, secret_name: str) -> set[str] | None:
        """Namespaces whose objects may use this Secret; None means any (it is the default
        Secret, which every namespace without its own annotation uses)."""
        if self.settings.credentials_secret == f"{secret_namespace}/{secret_name}":
            return None
        using = {
            ns
            for ns, t in self._targets.items()
            if (t.secret_namespace, t.secret_name) == (secret_namespace, secret_name)
        }
        return using | {secret_namespace}  # an annotation names a Secret of its own namespace

    def _build(self, target: Target, data: dict[str, str]) -> ModelArtsClient:
        s = self.settings
        config = ClientConfig(
            project_id=target.project_id,
            region=target.region,
            endpoint=s.endpoint,
            iam_endpoint=s.iam_endpoint,
            dataarts_endpoint=s.dataarts_endpoint,
            qps=s.api_qps,
            burst=s.api_burst,
            timeout=s.api_timeout_seconds,
            ca_bundle=s.ca_bundle,
            on_call=self.on_call,
        )
        creds = credentials_from_secret(data, f"{target.secret_namespace}/{target.secret_name}")
        return ModelArtsClient(config, creds)

    on_call: Any = None  # set by the runner to feed metrics

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
