"""Workspaces (``/v1/{project_id}/workspaces``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import TYPE_CHECKING

from pydantic import Field

from ..vocab import workspaces as vocab
from ._types import ApiModel, ApiRequest, FlexInt, FlexStr
from .pagination import Paging, first, paginate

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "Workspace",
    "WorkspaceCreateRequest",
    "WorkspaceGrant",
    "WorkspaceGrantRequest",
    "WorkspaceList",
    "WorkspaceQuota",
    "WorkspaceQuotaList",
    "WorkspaceQuotaUpdate",
    "WorkspaceUpdateRequest",
    "Workspaces",
]


class WorkspaceGrant(ApiModel):
    """An IAM user allowed into an INTERNAL workspace (an answer's grant)."""

    user_id: FlexStr = None
    user_name: FlexStr = None
    user_type: FlexStr = None


# The request bodies are the models generated from the official SDK (vocab.workspaces).
WorkspaceCreateRequest = vocab.CreateWorkspaceReq
WorkspaceUpdateRequest = vocab.UpdateWorkspaceReq
WorkspaceGrantRequest = vocab.CreateWorkspaceReqGrants


class Workspace(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    description: FlexStr = None
    owner: FlexStr = None
    create_time: FlexInt = None
    update_time: FlexInt = None
    enterprise_project_id: FlexStr = None
    enterprise_project_name: FlexStr = None
    auth_type: FlexStr = None
    status: FlexStr = None  # CREATE_FAILED | NORMAL | DELETING | DELETE_FAILED
    grants: list[WorkspaceGrant] | None = None


class WorkspaceList(ApiModel):
    total_count: FlexInt = None
    count: FlexInt = None
    workspaces: list[Workspace] = Field(default_factory=list)


class _WorkspaceIdResponse(ApiModel):
    workspace_id: FlexStr = None


class WorkspaceQuota(ApiModel):
    name_en: FlexStr = None
    name_cn: FlexStr = None
    resource: FlexStr = None
    quota: FlexInt = None
    min_quota: FlexInt = None
    max_quota: FlexInt = None
    unit_en: FlexStr = None
    unit_cn: FlexStr = None
    update_time: FlexInt = None
    used_quota: FlexInt = None


class WorkspaceQuotaList(ApiModel):
    quotas: list[WorkspaceQuota] = Field(default_factory=list)


class WorkspaceQuotaUpdate(ApiRequest):
    resource: str
    quota: int = Field(ge=-1)


PAGES: Paging[WorkspaceList, Workspace] = Paging(lambda p: p.workspaces, lambda p: p.total_count)


class Workspaces:
    """Typed calls for workspaces. All HTTP behaviour is the base client's."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    async def create(self, request: WorkspaceCreateRequest) -> Workspace:
        return await self._c.call(
            Workspace,
            "POST",
            self._c.project_path("workspaces"),
            endpoint_name="workspaces.create",
            json_body=request.to_wire(),
        )

    async def list(
        self,
        *,
        offset: int | None = None,
        limit: int | None = None,
        sort_by: str | None = None,
        order: str | None = None,
        enterprise_project_id: str | None = None,
        name: str | None = None,
        filter_accessible: bool | None = None,
    ) -> WorkspaceList:
        """One page. ``name`` is a fuzzy match on the server: compare names exactly."""
        return await self._c.call(
            WorkspaceList,
            "GET",
            self._c.project_path("workspaces"),
            endpoint_name="workspaces.list",
            params={
                "offset": offset,
                "limit": limit,
                "sort_by": sort_by,
                "order": order,
                "enterprise_project_id": enterprise_project_id,
                "name": name,
                "filter_accessible": filter_accessible,
            },
        )

    def iter_all(
        self,
        *,
        page_size: int = 500,
        name: str | None = None,
        enterprise_project_id: str | None = None,
        sort_by: str | None = None,
        order: str | None = None,
    ) -> AsyncIterator[Workspace]:
        fetch = partial(
            self.list,
            name=name,
            enterprise_project_id=enterprise_project_id,
            sort_by=sort_by,
            order=order,
        )
        return paginate(fetch, PAGES, page_size, offset_is_page=self._c.config.offset_is_page)

    async def find_by_name(self, name: str) -> Workspace | None:
        """The workspace whose name is exactly ``name`` (the list filter is fuzzy)."""
        return await first(self.iter_all(name=name), lambda ws: ws.name == name)

    async def get(self, workspace_id: str) -> Workspace:
        return await self._c.call(
            Workspace,
            "GET",
            self._c.project_path("workspaces", workspace_id),
            endpoint_name="workspaces.get",
        )

    async def update(self, workspace_id: str, request: WorkspaceUpdateRequest) -> str | None:
        result = await self._c.call(
            _WorkspaceIdResponse,
            "PUT",
            self._c.project_path("workspaces", workspace_id),
            endpoint_name="workspaces.update",
            json_body=request.to_wire(),
        )
        return result.workspace_id

    async def delete(self, workspace_id: str) -> str | None:
        result = await self._c.call(
            _WorkspaceIdResponse,
            "DELETE",
            self._c.project_path("workspaces", workspace_id),
            endpoint_name="workspaces.delete",
        )
        return result.workspace_id

    async def get_quotas(self, workspace_id: str) -> WorkspaceQuotaList:
        return await self._c.call(
            WorkspaceQuotaList,
            "GET",
            self._c.project_path("workspaces", workspace_id, "quotas"),
            endpoint_name="workspaces.quotas.get",
        )

    async def update_quotas(
        self, workspace_id: str, quotas: Sequence[WorkspaceQuotaUpdate]
    ) -> WorkspaceQuotaList:
        return await self._c.call(
            WorkspaceQuotaList,
            "PUT",
            self._c.project_path("workspaces", workspace_id, "quotas"),
            endpoint_name="workspaces.quotas.update",
            json_body={"quotas": [q.to_wire() for q in quotas]},
        )
