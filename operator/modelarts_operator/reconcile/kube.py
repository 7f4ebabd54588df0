"""A small async Kubernetes API client for writes that cannot wait for a kopf handler to end.

kopf applies a handler's patch when the handler returns. The create-intent annotation must
reach the API server sooner, before the ModelArts create call, so that a crash before the ID
is recorded is resolved by a lookup and never produces a second remote object. The batched
poller, the dependency pokes and the events posted outside handlers also go through here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import kopf

from .. import GROUP, VERSION


class KubeError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


@dataclass(frozen=True)
class Kind:
    """A custom resource kind of this operator (plural is what URLs use)."""

    kind: str
    plural: str

    def path(self, namespace: str, name: str | None = None) -> str:
        base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{name}" if name else base


# Where the kubelet mounts the pod's service-account credentials. The token is a projected,
# bound token: the kubelet rewrites the file well before it expires (about hourly), so a
# process that read it once at start is logged out an hour later.
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path
SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def context_namespace(kubeconfig: str | None) -> str:
    """The namespace of the kubeconfig's current context ("default" without one), as kubectl
    picks it for a command without -n."""
    try:
        from kubernetes import config

        _, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except Exception:  # no kubeconfig: the in-cluster or --job-id cases
        return "default"
    return str((active or {}).get("context", {}).get("namespace") or "default")


def load_configuration(kubeconfig: str | None = None) -> Any:
    """The kubernetes library's Configuration: in-cluster, else the kubeconfig file.

    ``$KUBECONFIG`` is read now, not when the library was imported."""
    import os

    from kubernetes import client, config
    from kubernetes.config import incluster_config

    configuration = client.Configuration()
    try:
        incluster_config.InClusterConfigLoader(  # type: ignore[no-untyped-call]
            token_filename=SERVICE_ACCOUNT_TOKEN, cert_filename=SERVICE_ACCOUNT_CA
        ).load_and_set(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig or os.environ.get("KUBECONFIG") or None,
            client_configuration=configuration,
        )
    else:
        configuration.modelarts_token_file = SERVICE_ACCOUNT_TOKEN
    return configuration


def bearer_token(configuration: Any) -> str | None:
    """The bare token of a Configuration, whatever case its scheme prefix has.

    The in-cluster loader stores ``"bearer <token>"`` (lower case), the kubeconfig loader
    ``"Bearer <token>"``; sending either as is gives ``Bearer bearer <token>`` and a 401."""
    token: str | None = configuration.api_key.get("authorization") or configuration.api_key.get(
        "BearerToken"
    )
    if token:
        scheme, _, rest = token.partition(" ")
        if rest and scheme.lower() == "bearer":
            token = rest.strip()
    return token or None


# kopf logs in again after this long, so it picks up a rotated service-account token before
# the old one expires (it also does on a 401, but only after a failed request).
LOGIN_REFRESH = dt.timedelta(minutes=10)


def connection_info(kubeconfig: str | None = None) -> kopf.ConnectionInfo:
    """kopf's login: the same credentials as our own client (kopf's default reads $KUBECONFIG
    only at import time), valid for :data:`LOGIN_REFRESH` when they come from a token file."""
    cfg = load_configuration(kubeconfig)
    rotating = getattr(cfg, "modelarts_token_file", None) is not None
    return kopf.ConnectionInfo(
        server=cfg.host,
        ca_path=cfg.ssl_ca_cert,
        insecure=not cfg.verify_ssl,
        token=bearer_token(cfg),
        certificate_path=cfg.cert_file,
        private_key_path=cfg.key_file,
        expiration=dt.datetime.now(dt.UTC) + LOGIN_REFRESH if rotating else None,
    )


class BearerToken(httpx.Auth):
    """``Authorization: Bearer …`` from a fixed token (kubeconfig) or from the service-account
    token file, re-read whenever it changed and once more after a 401 (the kubelet may have
    rotated it between our check and the request)."""

    def __init__(self, token: str | None = None, path: str | None = None) -> None:
        self._token = token
        self._path = path
        self._stamp: tuple[int, int] | None = None
        if path:
            self._read()

    @classmethod
    def from_configuration(cls, configuration: Any) -> BearerToken | None:
        path = getattr(configuration, "modelarts_token_file", None)
        token = bearer_token(configuration)
        if not (token or path):
            return None
        return cls(token, path)

    def _read(self) -> bool:
        """Re-read the file if it changed (size and mtime); True when the token changed."""
        import os

        assert self._path is not None
        try:
            stat = os.stat(self._path)
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp == self._stamp:
                return False
            with open(self._path, encoding="utf-8") as file:
                token = file.read().strip()
        except OSError:
            return False  # keep the last token; the API server will say if it is bad
        self._stamp = stamp
        changed = token != self._token
        self._token = token
        return changed

    @property
    def token(self) -> str | None:
        if self._path:
            self._read()
        return self._token

    def auth_flow(self, request: httpx.Request) -> Any:
        if token := self.token:
            request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self._path:
            self._stamp = None  # force a re-read: the file may have been replaced in place
            if self._read() and self._token:
                request.headers["Authorization"] = f"Bearer {self._token}"
                yield request


class KubeClient:
    """Authenticated httpx client for the API server the operator talks to."""

    # Connections to the API server; more concurrent requests wait for one here rather than
    # in httpcore's queue (rescanned against every connection on each change), and every
    # connection is kept alive (httpx keeps 20 by default and re-handshakes TLS beyond that).
    MAX_CONNECTIONS = 16

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._in_flight = asyncio.Semaphore(self.MAX_CONNECTIONS)

    @classmethod
    def from_environment(cls, kubeconfig: str | None = None) -> KubeClient:
        """In-cluster service account, else ``kubeconfig`` / ``$KUBECONFIG`` (like kopf)."""
        configuration = load_configuration(kubeconfig)
        context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
        if configuration.cert_file:
            context.load_cert_chain(configuration.cert_file, configuration.key_file)
        http = httpx.AsyncClient(
            base_url=configuration.host,
            verify=context if configuration.verify_ssl else False,
            auth=BearerToken.from_configuration(configuration),
            timeout=30.0,
            limits=httpx.Limits(
                max_connections=cls.MAX_CONNECTIONS, max_keepalive_connections=cls.MAX_CONNECTIONS
            ),
        )
        return cls(http)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> dict[str, Any]:
        async with self._in_flight:
            response = await self._http.request(
                method,
                path,
                content=None if body is None else json.dumps(body),
                headers={"Content-Type": content_type} if body is not None else None,
            )
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise KubeError(response.status_code, message)
        result: dict[str, Any] = response.json() if response.content else {}
        return result

    async def get(self, path: str) -> dict[str, Any]:
        return await self._send("GET", path)

    async def watch(self, path: str, resource_version: str, seconds: int) -> AsyncIterator[Any]:
        """The events of a watch on ``path`` (which may carry a field selector) from
        ``resource_version``, for at most ``seconds``; outside the connection semaphore, since
        a watch holds its connection for its whole life."""
        sep = "&" if "?" in path else "?"
        url = (
            f"{path}{sep}watch=1&allowWatchBookmarks=true&resourceVersion={resource_version}"
            f"&timeoutSeconds={seconds}"
        )
        timeout = httpx.Timeout(30.0, read=seconds + 30.0)
        async with self._http.stream("GET", url, timeout=timeout) as response:
            if response.status_code >= 400:
                await response.aread()
                raise KubeError(response.status_code, response.text)
            async for line in response.aiter_lines():
                if line.strip():
                    yield json.loads(line)

    async def merge_patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        return await self._send("PATCH", path, patch, "application/merge-patch+json")

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._send("POST", path, body)

    async def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT: conditional on ``body.metadata.resourceVersion`` (409 when it moved)."""
        return await self._send("PUT", path, body)

    async def delete(self, path: str) -> None:
        try:
            await self._send("DELETE", path)
        except KubeError as err:
            if err.status != 404:
                raise

    # -- this operator's objects ------------------------------------------------------------

    async def patch_status(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        status: dict[str, Any],
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Merge ``status`` in. With ``resource_version`` the write is conditional: a 409
        Conflict if the object changed since it was read (a merge patch replaces whole lists
        such as ``conditions``, so a write from a stale view would undo a newer one)."""
        path = kind.path(namespace, name) + "/status"
        return await self._versioned_patch(path, {"status": status}, resource_version)

    async def patch_metadata(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        metadata: dict[str, Any],
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Merge ``metadata`` (annotations, finalizers...) in; with ``resource_version`` the
        write is conditional (a merge patch sets a list such as ``finalizers`` whole)."""
        path = kind.path(namespace, name)
        return await self._versioned_patch(path, {"metadata": metadata}, resource_version)

    async def _versioned_patch(
        self, path: str, patch: dict[str, Any], resource_version: str | None
    ) -> dict[str, Any]:
        """A merge patch, conditional on ``resource_version`` when given (409 Conflict when
        the object changed since)."""
        if resource_version:
            metadata = patch.get("metadata") or {}
            patch = {**patch, "metadata": {**metadata, "resourceVersion": resource_version}}
        return await self.merge_patch(path, patch)

    async def patch_annotations(
        self, kind: Kind, namespace: str, name: str, annotations: dict[str, str | None]
    ) -> dict[str, Any]:
        """Set (or, with None, remove) annotations."""
        return await self.merge_patch(
            kind.path(namespace, name), {"metadata": {"annotations": annotations}}
        )

    async def post_event(
        self,
        involved: dict[str, Any],
        type_: str,
        reason: str,
        message: str,
        *,
        name: str | None = None,
        at: str | None = None,
    ) -> None:
        """A core/v1 Event about ``involved`` (an object body). kopf.event only works inside
        kopf's own tasks; the poller runs beside them. With ``name`` the Event has that name
        (a second post of it is a 409: ``remote_events``), else a generated one; ``at`` is
        when it happened (RFC 3339, default now)."""
        meta = involved.get("metadata", {})
        now = at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        naming = {"name": name} if name else {"generateName": f"{meta.get('name', 'object')}."}
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {**naming, "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", f"{GROUP}/{VERSION}"),
                "kind": involved.get("kind", ""),
                "name": meta.get("name"),
                "namespace": meta["namespace"],
                "uid": meta.get("uid"),
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": "modelarts-operator"},
            "reportingComponent": "modelarts-operator",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        await self.create(f"/api/v1/namespaces/{meta['namespace']}/events", body)
