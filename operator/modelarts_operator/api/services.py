"""Services: real-time, batch and edge (``/v1/{project_id}/services``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import Field

from ._types import ApiModel, ApiRequest, FlexFloat, FlexInt, FlexNumber, FlexStr, StrList
from .pagination import Paging, first, paginate

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "EdgeNode",
    "ServiceConfig",
    "ServiceConfigStatus",
    "ServiceDeployRequest",
    "ServiceDeployed",
    "ServiceDetail",
    "ServiceEvent",
    "ServiceEventList",
    "ServiceList",
    "ServiceMonitor",
    "ServiceMonitorItem",
    "ServiceSchedule",
    "ServiceSpecification",
    "ServiceSpecificationList",
    "ServiceSummary",
    "ServiceUpdateLog",
    "ServiceUpdateLogList",
    "ServiceUpdateRequest",
    "Services",
]


class ServiceSchedule(ApiModel):
    type: FlexStr = None  # only "stop"
    time_unit: FlexStr = None  # DAYS | HOURS | MINUTES
    duration: FlexInt = None


class ServiceConfig(ApiRequest):
    """A ``config`` item for deploy/update; which fields apply depends on ``infer_type``.

    real-time: model_id, weight, specification, instance_count, envs, cluster_id
    (custom_spec with specification "custom"); batch: + src_type, src_path, dest_path,
    req_uri, mapping_type, mapping_rule; edge: model_id, specification, envs, nodes.
    """

    model_id: str
    weight: int | None = Field(default=None, ge=0, le=100)
    specification: str | None = None
    custom_spec: dict[str, Any] | None = None
    instance_count: int | None = Field(default=None, ge=1)
    envs: dict[str, str] | None = None
    cluster_id: str | None = None
    src_type: str | None = None
    src_path: str | None = None
    dest_path: str | None = None
    req_uri: str | None = None
    mapping_type: str | None = None
    mapping_rule: dict[str, Any] | None = None
    nodes: list[str] | None = None
    additional_properties: dict[str, Any] | None = None


class ServiceDeployRequest(ApiRequest):
    service_name: str = Field(min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=100)
    infer_type: str  # real-time | batch | edge
    workspace_id: str | None = None
    vpc_id: str | None = None
    subnet_network_id: str | None = None
    security_group_id: str | None = None
    cluster_id: str | None = None
    config: list[ServiceConfig]
    schedule: list[ServiceSchedule] | None = None
    additional_properties: dict[str, Any] | None = None


class ServiceUpdateRequest(ApiRequest):
    """The server applies only ``status`` when both ``status`` and ``config`` are sent."""

    description: str | None = Field(default=None, max_length=100)
    status: str | None = None  # running | stopped
    config: list[ServiceConfig] | None = None
    schedule: list[ServiceSchedule] | None = None
    additional_properties: dict[str, Any] | None = None


class ServiceDeployed(ApiModel):
    service_id: FlexStr = None


class ServiceSummary(ApiModel):
    service_id: FlexStr = None
    service_name: FlexStr = None
    description: FlexStr = None
    tenant: FlexStr = None
    project: FlexStr = None
    owner: FlexStr = None
    workspace_id: FlexStr = None
    publish_at: FlexInt = None
    infer_type: FlexStr = None
    status: FlexStr = None
    progress: FlexInt = None
    start_time: FlexInt = None
    finished_time: FlexInt = None
    invocation_times: FlexInt = None
    failed_times: FlexInt = None
    is_shared: bool | None = None
    shared_count: FlexInt = None
    schedule: list[ServiceSchedule] | None = None
    due_time: FlexInt = None
    operation_time: FlexInt = None
    is_opened_sample_collection: FlexStr = None
    transition_at: FlexInt = None
    is_free: bool | None = None
    additional_properties: dict[str, Any] | None = None


class ServiceList(ApiModel):
    total_count: FlexInt = None
    count: FlexInt = None
    services: list[ServiceSummary] = Field(default_factory=list)


class EdgeNode(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    instance_status: FlexStr = None
    predict_url: FlexStr = None
    node_label: FlexStr = None
    description: FlexStr = None
    host_name: FlexStr = None
    os_name: FlexStr = None
    os_type: FlexStr = None
    os_version: FlexStr = None
    arch: FlexStr = None
    cpu: FlexInt = None
    memory: FlexInt = None
    gpu_num: FlexInt = None
    enable_gpu: FlexStr = None
    host_ips: StrList = None
    deployment_num: FlexInt = None
    state: FlexStr = None
    created_at: FlexStr = None
    updated_at: FlexStr = None


class ServiceConfigStatus(ApiModel):
    """A ``config`` item as the detail returns it (status per model, batch times...)."""

    model_id: FlexStr = None
    model_name: FlexStr = None
    model_version: FlexStr = None
    source_type: FlexStr = None
    status: FlexStr = None  # ready | concerning | notReady
    weight: FlexInt = None
    specification: FlexStr = None
    custom_spec: dict[str, Any] | None = None
    envs: dict[str, Any] | None = None
    instance_count: FlexInt = None
    scaling: bool | None = None
    cluster_id: FlexStr = None
    support_debug: bool | None = None
    additional_properties: dict[str, Any] | None = None
    src_type: FlexStr = None
    src_path: FlexStr = None
    dest_path: FlexStr = None
    req_uri: FlexStr = None
    mapping_type: FlexStr = None
    mapping_rule: dict[str, Any] | None = None
    start_time: FlexInt = None
    finished_time: FlexInt = None
    nodes: list[EdgeNode | str] | None = None


class ServiceDetail(ServiceSummary):
    cluster_id: FlexStr = None
    vpc_id: FlexStr = None
    subnet_network_id: FlexStr = None
    security_group_id: FlexStr = None
    error_msg: FlexStr = None
    config: list[ServiceConfigStatus] | None = None
    access_address: FlexStr = None
    bind_access_address: FlexStr = None
    update_time: FlexInt = None
    debug_url: FlexStr = None


class ServiceEvent(ApiModel):
    occur_time: FlexInt = None
    event_type: FlexStr = None
    event_info: FlexStr = None


class ServiceEventList(ApiModel):
    service_id: FlexStr = None
    service_name: FlexStr = None
    events: list[ServiceEvent] = Field(default_factory=list)
    total_count: FlexInt = None
    count: FlexInt = None


class ServiceUpdateLog(ApiModel):
    update_time: FlexInt = None
    result: FlexStr = None  # SUCCESS | FAIL | RUNNING
    config: list[ServiceConfigStatus] | None = None
    success_num: FlexInt = None
    failed_num: FlexInt = None
    result_detail: list[dict[str, Any]] | None = None
    cluster_id: FlexStr = None
    extend_config: list[Any] | None = None


class ServiceUpdateLogList(ApiModel):
    service_id: FlexStr = None
    service_name: FlexStr = None
    logs: list[ServiceUpdateLog] = Field(default_factory=list)


class ServiceMonitorItem(ApiModel):
    """Numbers arrive as strings in the sample; they are parsed."""

    model_id: FlexStr = None
    model_name: FlexStr = None
    model_version: FlexStr = None
    node_id: FlexStr = None
    node_name: FlexStr = None
    invocation_times: FlexInt = None
    failed_times: FlexInt = None
    cpu_core_usage: FlexFloat = None
    cpu_core_total: FlexFloat = None
    cpu_memory_usage: FlexNumber = None
    cpu_memory_total: FlexNumber = None
    gpu_usage: FlexFloat = None
    gpu_total: FlexFloat = None


class ServiceMonitor(ApiModel):
    service_id: FlexStr = None
    service_name: FlexStr = None
    monitors: list[ServiceMonitorItem] = Field(default_factory=list)


class ServiceSpecification(ApiModel):
    specification: FlexStr = None
    billing_spec: FlexStr = None
    spec_status: FlexStr = None  # normal | sellout
    is_open: bool | None = None
    source_type: FlexStr = None
    is_free: bool | None = None
    over_quota: bool | None = None
    extend_params: FlexInt = None


class ServiceSpecificationList(ApiModel):
    specifications: list[ServiceSpecification] = Field(default_factory=list)


class _Empty(ApiModel):
    pass


PAGES: Paging[ServiceList, ServiceSummary] = Paging(lambda p: p.services, lambda p: p.total_count)
EVENT_PAGES: Paging[ServiceEventList, ServiceEvent] = Paging(
    lambda p: p.events, lambda p: p.total_count
)


class Services:
    """Typed calls for services."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str | int) -> str:
        return self._c.project_path("services", *parts)

    async def create(self, request: ServiceDeployRequest) -> ServiceDeployed:
        """Deploy; returns ``service_id``; the service then moves through ``deploying``."""
        return await self._c.call(
            ServiceDeployed,
            "POST",
            self._path(),
            endpoint_name="services.create",
            json_body=request.to_wire(),
        )

    deploy = create

    async def list(
        self,
        *,
        service_id: str | None = None,
        service_name: str | None = None,
        model_id: str | None = None,
        workspace_id: str | None = None,
        infer_type: str | None = None,
        status: str | None = None,
        offset: int | None = None,
        limit: int | None = None,
        sort_by: str | None = None,
        order: str | None = None,
    ) -> ServiceList:
        """One page (default workspace only unless ``workspace_id`` is given)."""
        return await self._c.call(
            ServiceList,
            "GET",
            self._path(),
            endpoint_name="services.list",
            params={
                "service_id": service_id,
                "service_name": service_name,
                "model_id": model_id,
                "workspace_id": workspace_id,
                "infer_type": infer_type,
                "status": status,
                "offset": offset,
                "limit": limit,
                "sort_by": sort_by,
                "order": order,
            },
        )

    def iter_all(
        self,
        *,
        page_size: int = 500,
        service_name: str | None = None,
        model_id: str | None = None,
        workspace_id: str | None = None,
        infer_type: str | None = None,
        status: str | None = None,
        sort_by: str | None = None,
        order: str | None = None,
    ) -> AsyncIterator[ServiceSummary]:
        fetch = partial(
            self.list,
            service_name=service_name,
            model_id=model_id,
            workspace_id=workspace_id,
            infer_type=infer_type,
            status=status,
            sort_by=sort_by,
            order=order,
        )
        return paginate(fetch, PAGES, page_size, offset_is_page=self._c.config.offset_is_page)

    async def find_by_name(
        self, service_name: str, *, workspace_id: str | None = None
    ) -> ServiceSummary | None:
        return await first(
            self.iter_all(service_name=service_name, workspace_id=workspace_id),
            lambda svc: svc.service_name == service_name,
        )

    async def get(self, service_id: str) -> ServiceDetail:
        return await self._c.call(
            ServiceDetail, "GET", self._path(service_id), endpoint_name="services.get"
        )

    async def update(self, service_id: str, request: ServiceUpdateRequest) -> None:
        await self._c.call(
            _Empty,
            "PUT",
            self._path(service_id),
            endpoint_name="services.update",
            json_body=request.to_wire(),
        )

    async def start(self, service_id: str) -> None:
        await self.update(service_id, ServiceUpdateRequest(status="running"))

    async def stop(self, service_id: str) -> None:
        await self.update(service_id, ServiceUpdateRequest(status="stopped"))

    async def set_node_status(self, service_id: str, node_id: str, status: str) -> None:
        """Start (``running``) or stop (``stopped``) the instance on one edge node."""
        await self._c.call(
            _Empty,
            "PUT",
            self._path(service_id, "nodes", node_id, "status"),
            endpoint_name="services.nodes.status",
            json_body={"status": status},
        )

    async def events(
        self,
        service_id: str,
        *,
        event_type: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        offset: int | None = None,
        limit: int | None = None,
        sort_by: str | None = None,
        order: str | None = None,
    ) -> ServiceEventList:
        return await self._c.call(
            ServiceEventList,
            "GET",
            self._path(service_id, "events"),
            endpoint_name="services.events",
            params={
                "event_type": event_type,
                "start_time": start_time,
                "end_time": end_time,
                "offset": offset,
                "limit": limit,
                "sort_by": sort_by,
                "order": order,
            },
        )

    def iter_events(
        self, service_id: str, *, page_size: int = 500, event_type: str | None = None
    ) -> AsyncIterator[ServiceEvent]:
        fetch = partial(self.events, service_id, event_type=event_type)
        return paginate(fetch, EVENT_PAGES, page_size, offset_is_page=self._c.config.offset_is_page)

    async def update_logs(self, service_id: str) -> ServiceUpdateLogList:
        return await self._c.call(
            ServiceUpdateLogList,
            "GET",
            self._path(service_id, "logs"),
            endpoint_name="services.logs",
        )

    async def monitor(self, service_id: str, *, node_id: str | None = None) -> ServiceMonitor:
        return await self._c.call(
            ServiceMonitor,
            "GET",
            self._path(service_id, "monitor"),
            endpoint_name="services.monitor",
            params={"node_id": node_id},
        )

    async def specifications(
        self, *, infer_type: str | None = None, is_personal_cluster: bool | None = None
    ) -> ServiceSpecificationList:
        return await self._c.call(
            ServiceSpecificationList,
            "GET",
            self._path("specifications"),
            endpoint_name="services.specifications",
            params={"infer_type": infer_type, "is_personal_cluster": is_personal_cluster},
        )

    async def delete(self, service_id: str | Sequence[str]) -> None:
        """Delete one service, or several at once (comma-separated ids)."""
        ids = service_id if isinstance(service_id, str) else ",".join(service_id)
        await self._c.call(
            _Empty,
            "DELETE",
            self._c.project_path("services") + "/" + _quote_ids(ids),
            endpoint_name="services.delete",
        )


def _quote_ids(ids: str) -> str:
    return quote(ids, safe=",")
