"""Dedicated resource pools (``/v2/{project_id}/pools``) and their networks
(``/v1/{project_id}/networks``): Kubernetes-shaped objects (``apiVersion``, ``kind``,
``metadata``, ``spec``, ``status``) whose ID is ``metadata.name`` (``<name>-<project id>``
in the reference's examples) and whose user-given name is the ``os.modelarts/name`` label.

A pool is created (200, phase Creating), scaled and changed with PATCH (the reference calls it
a merge patch; the SDK sends ``application/json``, as these calls do), and deleted (200, then
Deleting until a GET answers 404 ``ModelArts.50015001``). A network goes Creating -> Active
and, deleted, away (404 ``ModelArts.50025001``). Pools are listed per workspace in one answer;
networks page with ``limit`` and ``continue``.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from ..vocab import networks as network_vocab
from ..vocab import pools as pool_vocab
from ._types import ApiModel, FlexInt, FlexStr

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "NAME_LABEL",
    "Network",
    "NetworkCreateRequest",
    "NetworkUpdateRequest",
    "Networks",
    "Pool",
    "PoolCreateRequest",
    "PoolUpdateRequest",
    "Pools",
]

# The request bodies are the models generated from the official SDK.
PoolCreateRequest = pool_vocab.CreatePoolRequestBody
PoolUpdateRequest = pool_vocab.PoolUpdateRequest
NetworkCreateRequest = network_vocab.NetworkCreationRequest
NetworkUpdateRequest = network_vocab.NetworkUpdateRequest
# The envelope every create carries (the SDK's only values).
POOL_ENVELOPE = {"apiVersion": "v2", "kind": "Pool"}
NETWORK_ENVELOPE = {"apiVersion": "v1", "kind": "Network"}
NAME_LABEL = "os.modelarts/name"
WORKSPACE_LABEL = "os.modelarts/workspace.id"
DESCRIPTION = "os.modelarts/description"


class ObjectMeta(ApiModel):
    name: FlexStr = None  # the ID
    creationTimestamp: FlexStr = None
    deletionTimestamp: FlexStr = None
    labels: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None


class _Kube(ApiModel):
    """What pools and networks share: the ID, the user's name, the description."""

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @property
    def id(self) -> str | None:
        return self.metadata.name

    @property
    def display_name(self) -> str | None:
        value = (self.metadata.labels or {}).get(NAME_LABEL)
        return str(value) if value is not None else None

    @property
    def workspace_id(self) -> str:
        return str((self.metadata.labels or {}).get(WORKSPACE_LABEL) or "0")

    @property
    def description(self) -> str | None:
        """The description annotation (where the operator's ownership marker is)."""
        value = (self.metadata.annotations or {}).get(DESCRIPTION)
        return str(value) if value is not None else None


class FlavorCount(ApiModel):
    flavor: FlexStr = None
    count: FlexInt = None
    maxCount: FlexInt = None
    azs: list[dict[str, Any]] | None = None


class PoolResources(ApiModel):
    """Nodes per flavor by state. The reference's examples answer lists of flavor counts;
    the SDK's model types each as one object: both are read."""

    creating: list[FlavorCount] | None = None
    available: list[FlavorCount] | None = None
    abnormal: list[FlavorCount] | None = None
    deleting: list[FlavorCount] | None = None

    @model_validator(mode="before")
    @classmethod
    def _listed(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: [v] if isinstance(v, dict) else v for k, v in data.items()}

    def nodes(self, state: str) -> dict[str, int]:
        """Node count per flavor in ``state`` (creating, available, abnormal, deleting)."""
        out: dict[str, int] = {}
        for item in getattr(self, state) or []:
            if item.flavor:
                out[item.flavor] = out.get(item.flavor, 0) + int(item.count or 0)
        return out


class PoolScope(ApiModel):
    scopeType: FlexStr = None
    state: FlexStr = None


class PoolStatus(ApiModel):
    phase: FlexStr = None  # Creating | Running | Abnormal | Deleting | Error
    message: FlexStr = None
    resources: PoolResources = Field(default_factory=PoolResources)
    scope: list[PoolScope] = Field(default_factory=list)


class PoolSpec(ApiModel):
    type: FlexStr = None
    scope: list[str] | None = None
    resources: list[FlavorCount] = Field(default_factory=list)
    network: dict[str, Any] | None = None
    jobFlavors: list[str] | None = None
    driver: dict[str, Any] | None = None


class Pool(_Kube):
    spec: PoolSpec = Field(default_factory=PoolSpec)
    status: PoolStatus = Field(default_factory=PoolStatus)


class _PoolList(ApiModel):
    items: list[Pool] = Field(default_factory=list)


class NetworkStatus(ApiModel):
    phase: FlexStr = None  # Creating | Active | Abnormal
    connectionStatus: dict[str, Any] | None = None


class NetworkSpec(ApiModel):
    cidr: FlexStr = None
    connection: dict[str, Any] | None = None


class Network(_Kube):
    spec: NetworkSpec = Field(default_factory=NetworkSpec)
    status: NetworkStatus = Field(default_factory=NetworkStatus)


class _ListMeta(ApiModel):
    continue_: FlexStr = Field(default=None, alias="continue")


class _NetworkList(ApiModel):
    metadata: _ListMeta = Field(default_factory=_ListMeta)
    items: list[Network] = Field(default_factory=list)


def name_selector(name: str) -> str:
    """The label selector of the object the user named ``name``."""
    return f"{NAME_LABEL}={name}"


class Pools:
    """Typed calls for dedicated resource pools."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str) -> str:
        return self._c.path("v2", self._c.config.project_id, "pools", *parts)

    async def create(self, request: PoolCreateRequest) -> Pool:
        return await self._c.call(
            Pool,
            "POST",
            self._path(),
            endpoint_name="pools.create",
            json_body={**POOL_ENVELOPE, **request.to_wire()},
        )

    async def get(self, pool_id: str) -> Pool:
        return await self._c.call(Pool, "GET", self._path(pool_id), endpoint_name="pools.get")

    async def patch(self, pool_id: str, request: PoolUpdateRequest) -> Pool:
        """Change the description, job types, flavor node counts (scaling), job flavors or
        drivers."""
        return await self._c.call(
            Pool,
            "PATCH",
            self._path(pool_id),
            endpoint_name="pools.patch",
            json_body=request.to_wire(),
        )

    async def delete(self, pool_id: str) -> Pool:
        return await self._c.call(Pool, "DELETE", self._path(pool_id), endpoint_name="pools.delete")

    async def list(
        self,
        *,
        workspace_id: str | None = None,
        label_selector: str | None = None,
        status: str | None = None,
    ) -> builtins.list[Pool]:
        """Every pool of the workspace (one answer: the API does not page pools)."""
        found = await self._c.call(
            _PoolList,
            "GET",
            self._path(),
            endpoint_name="pools.list",
            params={"workspaceId": workspace_id, "labelSelector": label_selector, "status": status},
        )
        return found.items

    async def find_by_name(self, name: str, *, workspace_id: str | None = None) -> Pool | None:
        """The pool the user named ``name`` (by its name label)."""
        pools = await self.list(workspace_id=workspace_id, label_selector=name_selector(name))
        return next((p for p in pools if p.display_name == name), None)


class Networks:
    """Typed calls for the networks resource pools are in."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str) -> str:
        return self._c.path("v1", self._c.config.project_id, "networks", *parts)

    async def create(self, request: NetworkCreateRequest) -> Network:
        return await self._c.call(
            Network,
            "POST",
            self._path(),
            endpoint_name="networks.create",
            json_body={**NETWORK_ENVELOPE, **request.to_wire()},
        )

    async def get(self, network_id: str) -> Network:
        return await self._c.call(
            Network, "GET", self._path(network_id), endpoint_name="networks.get"
        )

    async def patch(self, network_id: str, request: NetworkUpdateRequest) -> Network:
        """Change the description or the peering connections."""
        return await self._c.call(
            Network,
            "PATCH",
            self._path(network_id),
            endpoint_name="networks.patch",
            json_body=request.to_wire(),
        )

    async def delete(self, network_id: str) -> Network:
        return await self._c.call(
            Network, "DELETE", self._path(network_id), endpoint_name="networks.delete"
        )

    async def list(
        self, *, label_selector: str | None = None, limit: int = 500, cont: str | None = None
    ) -> _NetworkList:
        return await self._c.call(
            _NetworkList,
            "GET",
            self._path(),
            endpoint_name="networks.list",
            params={"labelSelector": label_selector, "limit": limit, "continue": cont},
        )

    async def iter_all(
        self, *, label_selector: str | None = None, limit: int = 500
    ) -> AsyncIterator[Network]:
        """Every network, page by page (``continue`` carries on where a page stopped)."""
        cont: str | None = None
        while True:
            page = await self.list(label_selector=label_selector, limit=limit, cont=cont)
            for item in page.items:
                yield item
            cont = page.metadata.continue_
            if not cont or not page.items:
                return

    async def find_by_name(self, name: str) -> Network | None:
        """The network the user named ``name`` (by its name label)."""
        async for network in self.iter_all(label_selector=name_selector(name)):
            if network.display_name == name:
                return network
        return None
