"""Per-namespace credentials: which ModelArts client an object in a namespace uses.

A Namespace annotation names the Secret (and optionally region and project) its objects use,
so several teams or projects share one operator (ACK's CARM, ASO's per-namespace credential).
Without it the operator's default Secret applies. Clients are cached per (Secret version,
region, project), so a rotated Secret takes effect on the next reconcile, and objects that
share credentials share one client, one rate limiter and one batched poll. A client no
namespace uses any more (its Secret rotated, its namespace deleted) is closed after a grace
period that lets requests already under way finish, so connections do not pile up.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .. import GROUP
from ..api import AkSkCredentials, ClientConfig, ModelArtsClient, PasswordCredentials
from ..metrics import METRICS
from ..settings import OperatorSettings
from .kube import KubeClient, KubeError
from .policies import Allowance, allowance_of

log = logging.getLogger(__name__)
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
        self._allowances: dict[str, Allowance] = {}
        self._retired: dict[ModelArtsClient, asyncio.Task[None]] = {}
        self.closed = 0  # clients closed so far (rotations, namespaces gone)
        # Called with (namespace, name) when a credentials Secret in use changes.
        self.on_secret_change: Callable[[str, str], Awaitable[None]] | None = None
        self.watcher = SecretWatcher(kube, settings, self._secret_changed)
        METRICS.gauge("modelarts_api_clients", self._client_counts)

    CACHE_SECONDS = 15.0

    async def target_for(self, namespace: str) -> tuple[Target, dict[str, str]]:
        annotations: dict[str, str] = {}
        try:
            ns = await self.kube.get(f"/api/v1/namespaces/{namespace}")
            annotations = ns.get("metadata", {}).get("annotations") or {}
        except KubeError as err:
            if err.status not in (403, 404):
                raise
        self._allowances[namespace] = allowance_of(namespace, annotations)
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
        allowed = self.settings.credentials_secret_names
        if (
            allowed
            and (secret_ns, secret_name) != self._default_secret()
            and secret_name not in allowed
        ):
            raise CredentialsError(
                f"namespace {namespace} names Secret {secret_name}, which is not one of the "
                f"operator's credentials Secret names ({', '.join(allowed)}; "
                "MODELARTS_CREDENTIALS_SECRET_NAMES)"
            )
        self.watcher.ensure(secret_ns, secret_name)
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
            self._retire_unused()
            return client

    def _default_secret(self) -> tuple[str, str] | None:
        if not self.settings.credentials_secret:
            return None
        namespace, name = self.settings.credentials_secret.split("/", 1)
        return namespace, name

    async def _secret_changed(self, namespace: str, name: str) -> None:
        if self.on_secret_change is not None:
            await self.on_secret_change(namespace, name)

    def allowance(self, namespace: str) -> Allowance:
        """What the namespace's ``allow-adoption`` annotation allowed when last read (by
        :meth:`for_namespace`, which every reconcile calls first)."""
        return self._allowances.get(namespace, Allowance.NONE)

    def forget(self, namespace: str) -> None:
        """Drop the cached resolution (e.g. after an authentication failure)."""
        self._resolved.pop(namespace, None)

    def evict_namespace(self, namespace: str) -> None:
        """The namespace is gone: forget it, and close its client if no other uses it."""
        self._resolved.pop(namespace, None)
        self._targets.pop(namespace, None)
        self._allowances.pop(namespace, None)
        self._retire_unused()

    @property
    def open_clients(self) -> int:
        return len(self._clients)

    def _client_counts(self) -> dict[tuple[tuple[str, str], ...], float]:
        return {
            (("state", "open"),): float(len(self._clients)),
            (("state", "retiring"),): float(len(self._retired)),
            (("state", "closed"),): float(self.closed),
        }

    def _retire_unused(self) -> None:
        """Close the clients no namespace resolves to any more (an older Secret version, a
        deleted namespace), after the request timeout so calls under way can finish."""
        live = set(self._targets.values())
        for target in [t for t in self._clients if t not in live]:
            client = self._clients.pop(target)
            self._retired[client] = asyncio.get_running_loop().create_task(
                self._close_later(client)
            )

    async def _close_later(self, client: ModelArtsClient) -> None:
        await asyncio.sleep(self.CLOSE_GRACE_SECONDS or self.settings.api_timeout_seconds)
        self._retired.pop(client, None)
        await client.aclose()
        self.closed += 1

    CLOSE_GRACE_SECONDS: float = 0.0  # 0: the API timeout (one request's longest life)

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
        await self.watcher.stop()
        for client, task in list(self._retired.items()):
            task.cancel()
            await client.aclose()
        self._retired.clear()
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def location_of(client: ModelArtsClient) -> dict[str, str]:
    """Where a client's objects live: project, region and endpoint (recorded at first bind);
    empty for a client without a configuration (a test double)."""
    config = getattr(client, "config", None)
    if config is None:
        return {}
    return {
        "projectId": config.project_id,
        "region": config.region,
        "endpoint": config.base_url("modelarts"),
    }


class SecretWatcher:
    """Watches the credentials Secrets in use and nothing else: each by name (a field
    selector), cluster-wide or per served namespace. The operator needs read access to those
    names only, and a change of any other Secret never reaches it."""

    WATCH_SECONDS = 300
    RESTART_SECONDS = 5.0

    def __init__(
        self,
        kube: KubeClient,
        settings: OperatorSettings,
        on_change: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self.kube = kube
        self.settings = settings
        self.on_change = on_change
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def path_for(self, namespace: str, name: str) -> str:
        """Cluster scope: the name in every namespace (one watch serves every namespace that
        uses it); namespaced scope: in the Secret's namespace only."""
        selector = quote(f"metadata.name={name}", safe="")
        if self.settings.namespaces:
            return f"/api/v1/namespaces/{namespace}/secrets?fieldSelector={selector}"
        return f"/api/v1/secrets?fieldSelector={selector}"

    @property
    def paths(self) -> set[str]:
        return set(self._tasks)

    def ensure(self, namespace: str, name: str) -> None:
        """Watch this Secret from now on (once)."""
        path = self.path_for(namespace, name)
        if path not in self._tasks:
            self._tasks[path] = asyncio.get_running_loop().create_task(self._run(path))

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    async def _run(self, path: str) -> None:
        """List, then watch from the list's version; after any break, list again and report
        the Secrets whose version changed meanwhile (the first listing is not a change)."""
        versions: dict[tuple[str, str], str] = {}
        first = True
        while True:
            try:
                listing = await self.kube.get(path)
                for item in listing.get("items") or []:
                    key, version = _key_and_version(item)
                    if not first and versions.get(key) != version:
                        await self.on_change(*key)
                    versions[key] = version
                first = False
                since = str((listing.get("metadata") or {}).get("resourceVersion", ""))
                async for event in self.kube.watch(path, since, self.WATCH_SECONDS):
                    kind, obj = event.get("type"), event.get("object") or {}
                    if kind == "ERROR":
                        break  # e.g. 410 Gone: list again
                    if kind not in ("ADDED", "MODIFIED", "DELETED"):
                        continue  # bookmarks
                    key, version = _key_and_version(obj)
                    if kind == "DELETED":
                        versions.pop(key, None)
                    else:
                        versions[key] = version
                    await self.on_change(*key)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the API server went away, a 403: try again later
                log.warning("watching credentials Secrets (%s) failed: %s", path, err)
                await asyncio.sleep(self.RESTART_SECONDS)


def _key_and_version(obj: dict[str, Any]) -> tuple[tuple[str, str], str]:
    meta = obj.get("metadata") or {}
    key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
    return key, str(meta.get("resourceVersion", ""))
