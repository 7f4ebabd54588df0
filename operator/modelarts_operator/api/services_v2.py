"""Inference services v2 (``/v2/{project_id}/services``): an image on a dedicated pool,
``group_configs[]`` (deployments) of ``unit_configs[]`` (roles); shapes from the official SDK.

Lists page by *item* offset that must be a multiple of ``limit`` (at most 500), so
``iter_all`` asks for offsets 0, limit, 2*limit... A service that is gone answers 404
(``NotFound``). The desired configuration of a service lives under ``version`` in every answer;
a configuration change is a rolling upgrade to a new ``version`` string.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..vocab import services as vocab
from ._types import ApiModel, FlexInt, FlexStr
from .pagination import iter_offset_pages

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "MAX_PAGE_SIZE",
    "CustomResourceSpec",
    "GroupConfig",
    "HealthCheck",
    "ImageRef",
    "LogConfig",
    "MountSource",
    "PredictUrl",
    "RateLimit",
    "RuntimeConfig",
    "ServiceInvoke",
    "ServiceLimit",
    "ServiceSchedule",
    "ServiceV2",
    "ServiceV2CreateRequest",
    "ServiceV2Event",
    "ServiceV2EventList",
    "ServiceV2Group",
    "ServiceV2Item",
    "ServiceV2List",
    "ServiceV2Unit",
    "ServiceV2UpdateRequest",
    "ServiceV2Version",
    "ServiceV2VersionList",
    "ServicesV2",
    "Tag",
    "UnitConfig",
    "UpgradeConfig",
]

MAX_PAGE_SIZE = 500


# ---------------------------------------------------------------- request bodies
# The request bodies are the models generated from the official SDK (vocab.services); the
# names below are this module's for them.
Tag = vocab.ServiceCreateRequestTags
ImageRef = vocab.ImageInfo
MountSource = vocab.ModelResource
HealthCheck = vocab.Health
CustomResourceSpec = vocab.CustomResourceSpec
UnitConfig = vocab.UnitConfig
GroupConfig = vocab.GroupConfig
ServiceInvoke = vocab.ServiceInvokeCreateRequest
RateLimit = vocab.RateLimit
ServiceLimit = vocab.ServiceLimit
RuntimeConfig = vocab.RuntimeConfigCreateRequest
UpgradeConfig = vocab.UpgradeConfig
LogConfig = vocab.LtsConfigurationV2
ServiceSchedule = vocab.ScheduleConfig
ServiceV2CreateRequest = vocab.ServiceCreateRequest
ServiceV2UpdateRequest = vocab.ServiceUpdateRequest


# ---------------------------------------------------------------- answers
class ServiceV2Unit(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    role: FlexStr = None
    image: dict[str, Any] | None = None
    flavor: FlexStr = None
    custom_spec: dict[str, Any] | None = None
    count: FlexInt = None
    cmd: FlexStr = None
    envs: dict[str, Any] | None = None
    port: FlexInt = None
    files: list[dict[str, Any]] | None = None
    models: list[dict[str, Any]] | None = None
    codes: list[dict[str, Any]] | None = None


class ServiceV2Group(ApiModel):
    """A deployment (``version.instance_groups[]``)."""

    id: FlexStr = None
    name: FlexStr = None
    pool_id: FlexStr = None
    weight: FlexInt = None
    count: FlexInt = None
    status: FlexStr = None
    running_count: FlexInt = None
    traffic_ratio: FlexStr = None
    version: FlexStr = None
    version_id: FlexStr = None
    version_count: FlexInt = None
    framework: FlexStr = None
    unit_configs: list[ServiceV2Unit] = Field(default_factory=list)


class ServiceV2Version(ApiModel):
    id: FlexStr = None
    version: FlexStr = None
    description: FlexStr = None
    predict_url: FlexStr = None
    runtime_config: dict[str, Any] | None = None
    upgrade_config: dict[str, Any] | None = None
    instance_groups: list[ServiceV2Group] = Field(default_factory=list)
    log_configs: list[dict[str, Any]] | None = None
    create_at: FlexInt = None


class PredictUrl(ApiModel):
    type: FlexStr = None  # CONSOLE | PUBLIC | INTERNAL
    urls: list[str] = Field(default_factory=list)


class ServiceV2(ApiModel):
    """ServiceResponse; ``create_at``/``update_at`` arrive as strings of epoch ms."""

    id: FlexStr = None
    name: FlexStr = None
    workspace_id: FlexStr = None
    type: FlexStr = None
    deploy_type: FlexStr = None
    status: FlexStr = None
    failure_reason: FlexStr = None
    version: ServiceV2Version | None = None
    predict_url: list[PredictUrl] = Field(default_factory=list)
    tags: list[dict[str, Any]] | None = None
    schedule: list[dict[str, Any]] | None = None
    deploy_timeout_minutes: FlexInt = None
    create_at: FlexInt = None
    update_at: FlexInt = None
    task_type: FlexStr = None

    @property
    def url(self) -> str | None:
        """The first invocation address, once deployed."""
        for entry in self.predict_url:
            if entry.urls:
                return entry.urls[0]
        return self.version.predict_url or None if self.version else None


class ServiceV2Item(ApiModel):
    """A list item (ServiceItemResponseData): times as integers, ``version`` a string."""

    id: FlexStr = None
    name: FlexStr = None
    status: FlexStr = None
    version: FlexStr = None
    version_count: FlexInt = None
    description: FlexStr = None
    type: FlexStr = None
    deploy_type: FlexStr = None
    user_name: FlexStr = None
    workspace_id: FlexStr = None
    create_at: FlexInt = None
    update_at: FlexInt = None
    auth_type: FlexStr = None
    tags: list[dict[str, Any]] | None = None


class ServiceV2List(ApiModel):
    data: list[ServiceV2Item] = Field(default_factory=list)
    current: FlexInt = None
    size: FlexInt = None
    pages: FlexInt = None
    total: FlexInt = None


class ServiceV2VersionList(ApiModel):
    data: list[ServiceV2Version] = Field(default_factory=list)
    total: FlexInt = None


class _Tag(ApiModel):
    key: FlexStr = None
    value: FlexStr = None


class _TagsAnswer(ApiModel):
    tags: list[_Tag] = Field(default_factory=list)


class ServiceV2Event(ApiModel):
    """One remote event of a service (the SDK's ServiceEventResponse): repeated occurrences
    are counted (``event_count``) between ``create_at`` and ``update_at``."""

    id: FlexStr = None
    service_id: FlexStr = None
    service_version_id: FlexStr = None
    event_count: FlexInt = None
    event_type: FlexStr = None  # NORMAL | ABNORMAL | WARNING
    event_info: FlexStr = None
    event_info_cn: FlexStr = None
    create_at: FlexInt = None
    update_at: FlexInt = None


class ServiceV2EventList(ApiModel):
    total: FlexInt = None
    data: list[ServiceV2Event] = Field(default_factory=list)


class _Empty(ApiModel):
    pass


class _DeleteAnswer(ApiModel):
    service_responses: list[ServiceV2] = Field(default_factory=list)


# ---------------------------------------------------------------- calls
class ServicesV2:
    """Typed calls for v2 inference services."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str) -> str:
        return self._c.path("v2", self._c.config.project_id, "services", *parts)

    async def create(
        self, request: ServiceV2CreateRequest, *, provider_token: str | None = None
    ) -> ServiceV2:
        """Create (never re-sent on an unclear outcome: ``Ambiguous``, then look the name up)."""
        headers = {"X-Auth-Token-Provider": provider_token} if provider_token else None
        return await self._c.call(
            ServiceV2,
            "POST",
            self._path(),
            endpoint_name="services_v2.create",
            json_body=request.to_wire(),
            headers=headers,
        )

    async def list(
        self,
        *,
        offset: int = 0,
        limit: int = 10,
        name: str | None = None,
        service_id: str | None = None,
        status: str | None = None,
        type: str | None = None,
        workspace_id: str | None = None,
        pool_id: str | None = None,
        tags: str | None = None,
        sort_key: str | None = None,
        sort_dir: str | None = None,
    ) -> ServiceV2List:
        """One page; ``offset`` must be a multiple of ``limit``; ``name`` is a substring."""
        return await self._c.call(
            ServiceV2List,
            "GET",
            self._path(),
            endpoint_name="services_v2.list",
            params={
                "offset": offset,
                "limit": limit,
                "name": name,
                "id": service_id,
                "status": status,
                "type": type,
                "workspace_id": workspace_id,
                "pool_id": pool_id,
                "tags": tags,
                "sort_key": sort_key,
                "sort_dir": sort_dir,
            },
        )

    def iter_all(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        name: str | None = None,
        status: str | None = None,
        workspace_id: str | None = None,
        tags: str | None = None,
    ) -> AsyncIterator[ServiceV2Item]:
        """Every matching service, oldest first (a stable order while paging)."""

        async def fetch(offset: int, limit: int) -> ServiceV2List:
            return await self.list(
                offset=offset,
                limit=limit,
                name=name,
                status=status,
                workspace_id=workspace_id,
                tags=tags,
                sort_key="create_at",
                sort_dir="ASC",
            )

        return iter_offset_pages(
            fetch,
            lambda p: p.data,
            lambda p: p.total,
            limit=min(page_size, MAX_PAGE_SIZE),
            offset_is_page=False,
        )

    async def find_by_name(
        self, name: str, *, workspace_id: str | None = None
    ) -> ServiceV2Item | None:
        """The service with exactly this name (names are unique until deleted)."""
        async for item in self.iter_all(name=name, workspace_id=workspace_id):
            if item.name == name:
                return item
        return None

    async def get(self, service_id: str) -> ServiceV2:
        return await self._c.call(
            ServiceV2, "GET", self._path(service_id), endpoint_name="services_v2.get"
        )

    async def update(self, service_id: str, request: ServiceV2UpdateRequest) -> ServiceV2:
        return await self._c.call(
            ServiceV2,
            "PUT",
            self._path(service_id),
            endpoint_name="services_v2.update",
            json_body=request.to_wire(),
        )

    async def start(self, service_id: str) -> ServiceV2:
        return await self._action(service_id, "start")

    async def stop(self, service_id: str) -> ServiceV2:
        return await self._action(service_id, "stop")

    async def _action(self, service_id: str, action: str) -> ServiceV2:
        return await self._c.call(
            ServiceV2,
            "POST",
            self._path(service_id, action),
            endpoint_name=f"services_v2.{action}",
        )

    async def delete(self, service_ids: str | Sequence[str]) -> builtins.list[ServiceV2]:
        """Start deleting (``POST /services/delete``); gone once ``get`` raises NotFound.
        Safe to repeat: a service already DELETING is accepted again."""
        ids = [service_ids] if isinstance(service_ids, str) else list(service_ids)
        answer = await self._c.call(
            _DeleteAnswer,
            "POST",
            self._path("delete"),
            endpoint_name="services_v2.delete",
            json_body={"service_ids": ids},
            idempotent=True,
        )
        return answer.service_responses

    async def switch_version(self, service_id: str, target_version_id: str) -> ServiceV2:
        """Make a recorded version current again (roll back an upgrade); safe to repeat."""
        return await self._c.call(
            ServiceV2,
            "POST",
            self._path(service_id, "versions", "switch"),
            endpoint_name="services_v2.versions.switch",
            json_body={"id": service_id, "target_version_id": target_version_id},
            idempotent=True,
        )

    def _tags_path(self, service_id: str, *action: str) -> str:
        return self._c.path(
            "v2", self._c.config.project_id, "modelarts-service-v2", service_id, "tags", *action
        )

    async def tags(self, service_id: str) -> dict[str, str]:
        answer = await self._c.call(
            _TagsAnswer, "GET", self._tags_path(service_id), endpoint_name="services_v2.tags"
        )
        return {t.key or "": t.value or "" for t in answer.tags}

    async def add_tags(self, service_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags (idempotent: the same tags twice change nothing)."""
        await self._c.call(
            _Empty,
            "POST",
            self._tags_path(service_id, "create"),
            endpoint_name="services_v2.tags.create",
            json_body={"tags": [{"key": k, "value": val} for k, val in tags.items()]},
            idempotent=True,
        )

    async def remove_tags(self, service_id: str, keys: Sequence[str]) -> None:
        await self._c.call(
            _Empty,
            "DELETE",
            self._tags_path(service_id, "delete"),
            endpoint_name="services_v2.tags.delete",
            json_body={"tags": [{"key": k} for k in keys]},
        )

    async def versions(self, service_id: str, *, limit: int = 10) -> ServiceV2VersionList:
        """The service's versions, newest first (the previous one is the second)."""
        return await self._c.call(
            ServiceV2VersionList,
            "GET",
            self._path(service_id, "versions"),
            endpoint_name="services_v2.versions",
            params={"limit": limit},
        )

    async def events(
        self,
        service_id: str,
        *,
        offset: int = 0,
        limit: int = 100,
        event_type: str | None = None,
        start_time: int | None = None,
        sort_dir: str | None = None,
    ) -> ServiceV2EventList:
        """One page of the service's events (``start_time``: epoch ms, the newer ones)."""
        return await self._c.call(
            ServiceV2EventList,
            "GET",
            self._path(service_id, "events"),
            endpoint_name="services_v2.events",
            params={
                "offset": offset,
                "limit": limit,
                "event_type": event_type,
                "start_time": start_time,
                "sort_key": "update_at",
                "sort_dir": sort_dir,
            },
        )
