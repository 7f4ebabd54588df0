"""DataArts Fabric LLM models (``POST /v1/workspaces/{workspace_id}/models``).

A different API from ModelArts model import: no project id in the path,
``name``/``type``/``version{}`` in the body, ``id`` in the answer. Served from
``ClientConfig.dataarts_endpoint`` (default: the ModelArts endpoint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ._types import ApiModel, ApiRequest, FlexStr

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "DataArts",
    "DataArtsModelCreateRequest",
    "DataArtsModelCreated",
    "LlmModelConfig",
    "ModelConfig",
    "ModelVersionInput",
]

_NAME = r"^[A-Za-z0-9_. -]{1,64}$"


class LlmModelConfig(ApiRequest):
    base_model_type: str
    model_path: str | None = None  # OBS path
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
