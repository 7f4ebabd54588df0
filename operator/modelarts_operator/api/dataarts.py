"""DataArts Fabric LLM models for their whole life (``/v1/workspaces/{workspace_id}/models``).

A different API from ModelArts model import: no project id in the paths, served from
``ClientConfig.dataarts_endpoint`` (default: the ModelArts endpoint). Shapes follow the
official SDK (huaweicloudsdkdataartsfabric 3.1.219): create answers ``{id, version_id}``;
list (item ``offset``, ``limit`` at most 100) answers ``ModelInfo`` items with ISO-8601
times; there is no show call, so one model is read by listing with ``id``; PUT changes the
name, description or current version and, with ``version``, adds a version (built
asynchronously: it becomes ``current_version`` once built); DELETE cleans the model up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from . import errors
from ._types import ApiModel, ApiRequest, FlexInt, FlexStr
from .pagination import iter_offset_pages

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "MAX_LIMIT",
    "BaseModelInfo",
    "DataArts",
    "DataArtsModel",
    "DataArtsModelCreateRequest",
    "DataArtsModelCreated",
    "DataArtsModelList",
    "DataArtsModelUpdateRequest",
    "DataArtsModelVersion",
    "DataArtsModelVersionList",
    "DataArtsUser",
    "LlmModelConfig",
    "ModelConfig",
    "ModelVersionInput",
]

MAX_LIMIT = 100

_NAME = r"^[A-Za-z0-9\u4e00-\u9fa5_. -]{1,64}$"  # SDK: Chinese characters too


class LlmModelConfig(ApiRequest):
    """The SDK (3.1.219) requires model_path; the reference (seed 003) makes it optional and
    adds local_model_path, its alternative."""

    base_model_type: str
    model_path: str | None = None
    local_model_path: str | None = None


class ModelConfig(ApiRequest):
    llm_model_config: LlmModelConfig | None = None


class ModelVersionInput(ApiRequest):
    name: str = Field(pattern=_NAME)
    description: str | None = None
    config: ModelConfig | None = None


class DataArtsModelCreateRequest(ApiRequest):
    name: str = Field(pattern=_NAME)
    description: str | None = Field(default=None, max_length=1024)
    type: Literal["LLM_MODEL"] = "LLM_MODEL"
    version: ModelVersionInput


class DataArtsModelCreated(ApiModel):
    id: FlexStr = None
    version_id: FlexStr = None  # documented, but absent from the sample answer


class DataArtsModelUpdateRequest(ApiRequest):
    """All optional: ``version`` adds a version; ``current_version_id`` switches to a built one."""

    name: str | None = Field(default=None, pattern=_NAME)
    description: str | None = Field(default=None, max_length=1024)
    current_version_id: str | None = None
    version: ModelVersionInput | None = None


class DataArtsUser(ApiModel):
    domain_name: FlexStr = None
    domain_id: FlexStr = None
    user_name: FlexStr = None
    user_id: FlexStr = None


class DataArtsLlmConfig(ApiModel):
    base_model_type: FlexStr = None
    model_path: FlexStr = None


class DataArtsVersionConfig(ApiModel):
    llm_model_config: DataArtsLlmConfig | None = None


class DataArtsModelVersion(ApiModel):
    """``ModelVersionInfo``."""

    id: FlexStr = None
    name: FlexStr = None
    description: FlexStr = None
    cap_white_list: list[str] = Field(default_factory=list)
    config: DataArtsVersionConfig | None = None
    create_time: datetime | None = None
    create_user: DataArtsUser | None = None


class DataArtsModel(ApiModel):
    """``ModelInfo``: list items and the PUT answer."""

    id: FlexStr = None
    name: FlexStr = None
    description: FlexStr = None
    type: FlexStr = None
    visibility: FlexStr = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    current_version: DataArtsModelVersion | None = None
    create_user: DataArtsUser | None = None
    update_user: DataArtsUser | None = None


class DataArtsModelList(ApiModel):
    total: FlexInt = None
    models: list[DataArtsModel] = Field(default_factory=list)


class DataArtsModelVersionList(ApiModel):
    total: FlexInt = None
    versions: list[DataArtsModelVersion] = Field(default_factory=list)


class BaseModelInfo(ApiModel):
    base_model_type: FlexStr = None
    max_tokens: FlexInt = None
    num_of_mu: FlexInt = None


class _BaseModelList(ApiModel):
    total: FlexInt = None
    models: list[BaseModelInfo] = Field(default_factory=list)


class DataArts:
    """Typed calls for DataArts Fabric models."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    async def create_model(
        self, workspace_id: str, request: DataArtsModelCreateRequest
    ) -> DataArtsModelCreated:
        return await self._c.call(
            DataArtsModelCreated,
            "POST",
            self._c.path("v1", "workspaces", workspace_id, "models"),
            endpoint_name="dataarts.models.create",
            json_body=request.to_wire(),
            service="dataarts",
        )

    def _models(self, workspace_id: str, *parts: str) -> str:
        return self._c.path("v1", "workspaces", workspace_id, "models", *parts)

    async def list_models(
        self,
        workspace_id: str,
        *,
        offset: int = 0,
        limit: int = MAX_LIMIT,
        name: str | None = None,
        model_id: str | None = None,
        sort_by: Literal["CREATE_TIME", "UPDATE_TIME", "NAME"] | None = None,
        order_by: Literal["ASC", "DESC"] | None = None,
    ) -> DataArtsModelList:
        """One page; ``offset`` is an item offset; ``name`` is a fuzzy match."""
        return await self._c.call(
            DataArtsModelList,
            "GET",
            self._models(workspace_id),
            endpoint_name="dataarts.models.list",
            params={
                "offset": offset,
                "limit": limit,
                "name": name,
                "id": model_id,
                "sort_by": sort_by,
                "order_by": order_by,
            },
            service="dataarts",
        )

    def iter_models(
        self, workspace_id: str, *, page_size: int = MAX_LIMIT
    ) -> AsyncIterator[DataArtsModel]:
        """Every model of the workspace, oldest first (a stable order while paging)."""

        async def fetch(offset: int, limit: int) -> DataArtsModelList:
            return await self.list_models(
                workspace_id, offset=offset, limit=limit, sort_by="CREATE_TIME", order_by="ASC"
            )

        return iter_offset_pages(
            fetch, lambda p: p.models, lambda p: p.total, limit=page_size, offset_is_page=False
        )

    async def get_model(self, workspace_id: str, model_id: str) -> DataArtsModel:
        """There is no show call: a list filtered by ``id``; ``NotFound`` when it is empty."""
        found = await self.list_models(workspace_id, model_id=model_id, limit=1)
        for model in found.models:
            if model.id == model_id:
                return model
        raise errors.NotFound(
            f"DataArts model {model_id} is not in workspace {workspace_id}",
            method="GET",
            path=self._models(workspace_id),
        )

    async def update_model(
        self, workspace_id: str, model_id: str, request: DataArtsModelUpdateRequest
    ) -> DataArtsModel:
        return await self._c.call(
            DataArtsModel,
            "PUT",
            self._models(workspace_id, model_id),
            endpoint_name="dataarts.models.update",
            json_body=request.to_wire(),
            service="dataarts",
        )

    async def cleanup_model(self, workspace_id: str, model_id: str) -> None:
        """Delete the model definition (``NotFound`` when it is already gone)."""
        await self._c.request(
            "DELETE",
            self._models(workspace_id, model_id),
            endpoint_name="dataarts.models.cleanup",
            service="dataarts",
        )

    async def list_versions(
        self,
        workspace_id: str,
        model_id: str,
        *,
        offset: int = 0,
        limit: int = MAX_LIMIT,
        name: str | None = None,
        version_id: str | None = None,
    ) -> DataArtsModelVersionList:
        """Newest first."""
        return await self._c.call(
            DataArtsModelVersionList,
            "GET",
            self._models(workspace_id, model_id, "versions"),
            endpoint_name="dataarts.models.versions.list",
            params={"offset": offset, "limit": limit, "name": name, "version_id": version_id},
            service="dataarts",
        )

    async def delete_version(self, workspace_id: str, model_id: str, version_id: str) -> None:
        await self._c.request(
            "DELETE",
            self._models(workspace_id, model_id, "versions", version_id),
            endpoint_name="dataarts.models.versions.delete",
            service="dataarts",
        )

    async def base_models(self, *, offset: int = 0, limit: int = MAX_LIMIT) -> list[BaseModelInfo]:
        found = await self._c.call(
            _BaseModelList,
            "GET",
            self._c.path("v1", "base-models"),
            endpoint_name="dataarts.base_models.list",
            params={"offset": offset, "limit": limit},
            service="dataarts",
        )
        return found.models
