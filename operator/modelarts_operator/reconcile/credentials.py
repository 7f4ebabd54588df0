"""Per-namespace credentials: which ModelArts client an object in a namespace uses.

A Namespace annotation names the Secret (and optionally region and project) its objects use,
so several teams or projects share one operator (ACK's CARM, ASO's per-namespace credential).
Without it the chain the official SDK follows applies, in its order: the operator's default
Secret, then the pod's own identity without any stored key: OIDC federation with its
projected service-account token, CCE Pod Identity, the node's agency from ECS metadata
(``ambient_source``). A Namespace may further name an IAM agency its objects act as; the
platform allows which (``MODELARTS_AGENCIES``), as it allows adoption.

Everything read from a Namespace is validated where it is read and fails closed with
:class:`CredentialsError`: a region is a region ID (a default endpoint host is built from it),
a project ID is an ID, a Secret name is a Kubernetes name, an unreadable Namespace is an error
rather than a reason to fall back to the platform's credentials.

Clients are cached per (identity, Secret version, region, project, agency), so a rotated
Secret takes effect on the next reconcile, and objects that share credentials share one
client, one rate limiter and one batched poll. A client no namespace uses any more (its Secret
rotated, its namespace deleted) is closed after a grace period that lets requests already
under way finish, so connections do not pile up; closing it forgets its secrets for redaction.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .. import GROUP
from ..api import AkSkCredentials, ClientConfig, ModelArtsClient, PasswordCredentials
from ..api.base import REGION_PATTERN, BaseClient
from ..api.identity import (
    AgencySource,
    CredentialSource,
    FederatedSource,
    MetadataSource,
    PodIdentitySource,
    TemporaryIdentity,
)
from ..metrics import METRICS
from ..settings import AGENCY_REFERENCE, DNS_SUBDOMAIN, OperatorSettings
from .kube import KubeClient, KubeError
from .policies import Allowance, allowance_of

log = logging.getLogger(__name__)
SECRET_ANNOTATION = f"{GROUP}/credentials-secret"
REGION_ANNOTATION = f"{GROUP}/region"
PROJECT_ANNOTATION = f"{GROUP}/project-id"
# On the Namespace, set by the platform: "<account name>/<agency name>", an IAM agency the
# namespace's objects act as, assumed with the namespace's identity. Only agencies listed in
# MODELARTS_AGENCIES (the chart's credentials.agencies.allowed) are ever assumed.
AGENCY_ANNOTATION = f"{GROUP}/agency"
# IAM project IDs are 32 hex digits; this admits any run of ID characters and nothing that
# could change a URL or a header (the ID goes into paths and X-Project-Id).
PROJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SECRET_IDENTITY = "secret"  # noqa: S105 (the name of an identity kind)
# Only these keys of a credentials Secret are read; others (a CA file...) are left alone.
SECRET_KEYS = ("ak", "sk", "securityToken", "username", "password", "domain")


class CredentialsError(Exception):
    """Credentials cannot be found or read; the message names the Secret, never its values."""


@dataclass(frozen=True)
class Target:
    """What decides which client to use (also the key for batched polling)."""

    identity: str  # "secret", or the mechanism of the pod's own identity ("oidc"...)
    secret_namespace: str  # "" unless identity is "secret"
    secret_name: str
    secret_version: str
    region: str
    project_id: str
    agency: str = ""  # "<account>/<agency>" assumed on top of the identity, or ""


def ambient_source(settings: OperatorSettings) -> CredentialSource | None:
    """The pod's own identity where no Secret applies, in the SDK's order: OIDC federation,
    CCE Pod Identity, the node's agency from ECS metadata (unless turned off); None when
    there is none."""
    if settings.idp_id and settings.id_token_file:
        return FederatedSource(settings.idp_id, settings.id_token_file)
    if settings.pod_identity_uri and settings.pod_identity_token_file:
        return PodIdentitySource(settings.pod_identity_uri, settings.pod_identity_token_file)
    if settings.ecs_metadata:
        return MetadataSource(settings.metadata_endpoint)
    return None


def credentials_from_secret(
    data: Mapping[str, str], where: str
) -> AkSkCredentials | PasswordCredentials:
    """Build credentials from Secret data (base64 values): ak/sk[/securityToken] or
    username/password/domain. A value that is not base64 text is an error naming its key."""
    values: dict[str, str] = {}
    for key in SECRET_KEYS:
        if key not in data:
            continue
        try:
            values[key] = base64.b64decode(data[key], validate=True).decode("utf-8").strip()
        except UnicodeDecodeError:
            raise CredentialsError(f"Secret {where}: key {key} is not UTF-8 text") from None
        except (binascii.Error, ValueError, TypeError):
            raise CredentialsError(f"Secret {where}: key {key} is not base64") from None
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
        f"(keys present: {', '.join(sorted(data)) or 'none'})"
    )


def _checked(
    namespace: str, annotations: Mapping[str, str], key: str, pattern: re.Pattern[str], what: str
) -> str | None:
    """The annotation's value if it is one, else CredentialsError (never a fallback)."""
    value = annotations.get(key)
    if not value:
        return None
    if not pattern.fullmatch(value):
        shown = value if len(value) <= 80 else value[:80] + "..."
        raise CredentialsError(f"namespace {namespace} annotation {key}: {shown!r} is not {what}")
    return value


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
        # The pod's own identity (built on first use) and the agencies assumed per target.
        self.ambient = ambient_source(settings)
        self._ambient_identity: TemporaryIdentity | None = None
        self._agencies: dict[Target, TemporaryIdentity] = {}
        METRICS.gauge("modelarts_api_clients", self._client_counts)
        METRICS.gauge("modelarts_credentials_expiry_seconds", self._expiry_seconds)

    CACHE_SECONDS = 15.0

    async def target_for(self, namespace: str) -> tuple[Target, dict[str, str]]:
        annotations = await self._annotations(namespace)
        self._allowances[namespace] = allowance_of(namespace, annotations)
        region = (
            _checked(namespace, annotations, REGION_ANNOTATION, REGION_PATTERN, "a region ID")
            or self.settings.region
        )
        project = (
            _checked(namespace, annotations, PROJECT_ANNOTATION, PROJECT_ID, "a project ID")
            or self.settings.project_id
        )
        agency = self._agency(namespace, annotations)
        secret_name = _checked(
            namespace, annotations, SECRET_ANNOTATION, DNS_SUBDOMAIN, "a Secret name"
        )
        if secret_name:
            secret_ns = namespace
        elif self.settings.credentials_secret:
            secret_ns, secret_name = self.settings.credentials_secret.split("/", 1)
        elif self.ambient is not None:
            if not project:
                raise self._no_project(namespace)
            target = Target(self.ambient.mechanism, "", "", "", region, project, agency)
            return target, {}
        else:
            raise CredentialsError(
                f"no credentials: annotate namespace {namespace} with {SECRET_ANNOTATION}, "
                "set the operator's default credentials Secret, or give the operator an "
                "identity of its own (OIDC federation, CCE Pod Identity, ECS metadata)"
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
        if not project:
            raise self._no_project(namespace)
        target = Target(
            SECRET_IDENTITY,
            secret_ns,
            secret_name,
            str(secret.get("metadata", {}).get("resourceVersion", "")),
            region,
            project,
            agency,
        )
        return target, secret.get("data") or {}

    async def _annotations(self, namespace: str) -> dict[str, str]:
        """The Namespace's annotations. They choose the credentials, so a Namespace that
        cannot be read stops everything in it (it never falls back to the platform's)."""
        try:
            ns = await self.kube.get(f"/api/v1/namespaces/{namespace}")
        except KubeError as err:
            if err.status in (401, 403, 404):
                raise CredentialsError(
                    f"cannot read namespace {namespace} (HTTP {err.status}); its annotations "
                    "choose the credentials, so nothing is done without them"
                ) from None
            raise
        return dict(ns.get("metadata", {}).get("annotations") or {})

    def _agency(self, namespace: str, annotations: Mapping[str, str]) -> str:
        agency = _checked(
            namespace, annotations, AGENCY_ANNOTATION, AGENCY_REFERENCE, "<account>/<agency>"
        )
        if not agency:
            return ""
        if agency not in self.settings.agencies:
            raise CredentialsError(
                f"namespace {namespace} names agency {agency}, which the platform does not "
                f"allow (MODELARTS_AGENCIES, the chart's credentials.agencies.allowed: "
                f"{', '.join(self.settings.agencies) or 'none'})"
            )
        return agency

    @staticmethod
    def _no_project(namespace: str) -> CredentialsError:
        return CredentialsError(
            f"no project ID for namespace {namespace}: set {PROJECT_ANNOTATION} "
            "or the operator's project"
        )

    async def for_namespace(self, namespace: str) -> ModelArtsClient:
        """The namespace's client; the Namespace and Secret are re-read at most every
        ``CACHE_SECONDS`` (the poller asks for every object every cycle)."""
        cached = self._resolved.get(namespace)
        if cached is not None and time.monotonic() - cached[0] < self.CACHE_SECONDS:
            return cached[1]
        try:
            target, data = await self.target_for(namespace)
        except CredentialsError:
            # Nothing of the namespace's former resolution stays in use.
            self._resolved.pop(namespace, None)
            if self._targets.pop(namespace, None) is not None:
                self._retire_unused()
            raise
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

    def _expiry_seconds(self) -> dict[tuple[tuple[str, str], ...], float]:
        """Seconds until the temporary credentials in use expire, the soonest per mechanism."""
        now = datetime.now(UTC)
        soonest: dict[str, float] = {}
        identities = [*self._agencies.values()]
        if self._ambient_identity is not None:
            identities.append(self._ambient_identity)
        for identity in identities:
            lease = identity.refresher.lease
            if lease is None:
                continue
            left = (lease.expires_at - now).total_seconds()
            soonest[identity.mechanism] = min(left, soonest.get(identity.mechanism, left))
        return {(("mechanism", m),): left for m, left in soonest.items()}

    def _retire_unused(self) -> None:
        """Close the clients no namespace resolves to any more (an older Secret version, a
        deleted namespace), after the request timeout so calls under way can finish."""
        live = set(self._targets.values())
        for target in [t for t in self._clients if t not in live]:
            client = self._clients.pop(target)
            agency = self._agencies.pop(target, None)
            self._retired[client] = asyncio.get_running_loop().create_task(
                self._close_later(client, agency)
            )

    async def _close_later(
        self, client: ModelArtsClient, agency: TemporaryIdentity | None = None
    ) -> None:
        await asyncio.sleep(self.CLOSE_GRACE_SECONDS or self.settings.api_timeout_seconds)
        self._retired.pop(client, None)
        await client.aclose()
        if agency is not None:
            await agency.aclose()
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

    def _config(self, region: str, project_id: str) -> ClientConfig:
        s = self.settings
        return ClientConfig(
            project_id=project_id,
            region=region,
            endpoint=s.endpoint,
            iam_endpoint=s.iam_endpoint,
            dataarts_endpoint=s.dataarts_endpoint,
            qps=s.api_qps,
            burst=s.api_burst,
            timeout=s.api_timeout_seconds,
            ca_bundle=s.ca_bundle,
            on_call=self._record_call,
        )

    def _identity_client(self, region: str, credentials: Any = None) -> BaseClient:
        """The client an identity calls IAM, the Pod Identity agent or ECS metadata with:
        few retries (a failure is reported and retried by the refresher) and a short connect
        timeout, as the SDK's (3 s) for the metadata service."""
        config = ClientConfig(
            project_id="",
            region=region,
            iam_endpoint=self.settings.iam_endpoint,
            timeout=self.settings.api_timeout_seconds,
            connect_timeout=3.0,
            max_retries=2,
            backoff_max=5.0,
            ca_bundle=self.settings.ca_bundle,
            on_call=self._record_call,
        )
        return BaseClient(config, credentials)

    def _ambient(self) -> TemporaryIdentity:
        if self._ambient_identity is None:
            assert self.ambient is not None
            self._ambient_identity = TemporaryIdentity(
                self.ambient,
                self._identity_client(self.settings.region),
                on_fetch=_count_fetch,
            )
        return self._ambient_identity

    def _build(self, target: Target, data: dict[str, str]) -> ModelArtsClient:
        credentials: AkSkCredentials | PasswordCredentials | TemporaryIdentity
        if target.identity == SECRET_IDENTITY:
            where = f"{target.secret_namespace}/{target.secret_name}"
            credentials = credentials_from_secret(data, where)
            who = f"Secret {where}"
        else:
            credentials = self._ambient()
            who = credentials.description
        if target.agency:
            domain, agency = target.agency.split("/", 1)
            identity = TemporaryIdentity(
                AgencySource(domain, agency, assumed_with=who),
                self._identity_client(target.region, credentials),
                on_fetch=_count_fetch,
            )
            self._agencies[target] = identity
            credentials = identity
        return ModelArtsClient(self._config(target.region, target.project_id), credentials)

    on_call: Any = None  # set by the runner to feed metrics

    def _record_call(self, endpoint: str, method: str, status: int | None, seconds: float) -> None:
        if self.on_call is not None:
            self.on_call(endpoint, method, status, seconds)

    async def aclose(self) -> None:
        await self.watcher.stop()
        for client, task in list(self._retired.items()):
            task.cancel()
            await client.aclose()
        self._retired.clear()
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        for identity in self._agencies.values():
            await identity.aclose()
        self._agencies.clear()
        if self._ambient_identity is not None:
            await self._ambient_identity.aclose()
            self._ambient_identity = None


def _count_fetch(mechanism: str, ok: bool, _valid_seconds: float | None) -> None:
    METRICS.inc(
        "modelarts_credential_refreshes_total", mechanism=mechanism, result="ok" if ok else "failed"
    )


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
