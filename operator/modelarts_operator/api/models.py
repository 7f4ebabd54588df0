"""Imported models (``/v1/{project_id}/models``; the import fields of the documented request).

Not to be confused with DataArts Fabric LLM models (``dataarts.py``): a different API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import Field

from . import errors
from ._types import ApiModel, ApiRequest, FlexInt, FlexNumber, FlexStr, JsonLoose, StrList
from .pagination import Paging, first, paginate

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "ModelApi",
    "ModelDeleteFailure",
    "ModelDeleteResult",
    "ModelDependency",
    "ModelDetail",
    "ModelDoc",
    "ModelHealth",
    "ModelImportRequest",
    "ModelImported",
    "ModelList",
    "ModelPackage",
    "ModelParam",
    "ModelSpecification",
    "ModelSummary",
    "ModelTemplate",
    "Models",
    "TemplateInput",
]


class ModelParam(ApiModel):
    """``input_params``/``output_params`` item (Table 3)."""

    url: FlexStr = None
    method: FlexStr = None
    protocol: FlexStr = None
    param_name: FlexStr = None
    param_type: FlexStr = None
    min: FlexNumber = None
    max: FlexNumber = None
    param_desc: FlexStr = None


class ModelPackage(ApiModel):
    package_name: FlexStr = None
    package_version: FlexStr = None
    restraint: FlexStr = None  # EXACT | ATLEAST | ATMOST


class ModelDependency(ApiModel):
    installer: FlexStr = None  # only "pip"
    packages: list[ModelPackage] | None = None


class ModelDoc(ApiModel):
    doc_name: FlexStr = None
    doc_url: FlexStr = None


class ModelApi(ApiModel):
    """[E] ``apis`` item; ``input_params``/``output_params`` are JSON Schema objects."""

    url: FlexStr = None
    method: FlexStr = None
    protocol: FlexStr = None
    input_params: dict[str, Any] | None = None
    output_params: dict[str, Any] | None = None


class TemplateInput(ApiModel):
    input: FlexStr = None
    input_id: FlexStr = None


class ModelTemplate(ApiModel):
    """Mandatory when ``model_type`` is ``Template`` ([E] only)."""

    template_id: FlexStr = None
    infer_format: FlexStr = None
    template_inputs: list[TemplateInput] | None = None


class ModelImportRequest(ApiRequest):
    """Every field of the import API ([A], [E], [Z]); None fields are not sent."""

    model_name: str = Field(min_length=1, max_length=64)
    model_version: str
    source_location: str
    source_job_id: str | None = None
    source_job_version: str | None = None
    source_type: str | None = None
    model_type: str
    runtime: str | None = None
    description: str | None = Field(default=None, max_length=100)
    model_algorithm: str | None = None
    execution_code: str | None = None
    input_params: list[ModelParam] | None = None
    output_params: list[ModelParam] | None = None
    dependencies: list[ModelDependency] | None = None
    model_metrics: str | None = None
    # [E]: array of objects; [A]/[Z]: a string. Both are passed through as given.
    apis: list[ModelApi] | str | None = None
    initial_config: str | None = None
    workspace_id: str | None = None
    model_docs: list[ModelDoc] | None = Field(default=None, max_length=3)
    install_type: list[str] | None = None
    template: ModelTemplate | None = None


class ModelImported(ApiModel):
    model_id: FlexStr = None


class ModelSpecification(ApiModel):
    min_cpu: FlexStr = None
    min_gpu: FlexStr = None
    min_mem: FlexStr = None
    min_ascend: FlexStr = None


class ModelSummary(ApiModel):
    model_id: FlexStr = None
    model_name: FlexStr = None
    model_version: FlexStr = None
    model_status: FlexStr = None
    model_type: FlexStr = None
    model_size: FlexInt = None
    tenant: FlexStr = None
    project: FlexStr = None
    owner: FlexStr = None
    create_at: FlexInt = None
    description: FlexStr = None
    source_type: FlexStr = None
    workspace_id: FlexStr = None
    model_source: FlexStr = None
    tunable: bool | None = None
    market_flag: bool | None = None
    publishable_flag: bool | None = None
    install_type: StrList = None
    subscription_id: FlexStr = None
    extra: FlexStr = None
    specification: ModelSpecification | None = None


class ModelList(ApiModel):
    total_count: FlexInt = None
    count: FlexInt = None
    models: list[ModelSummary] = Field(default_factory=list)


class ModelHealth(ApiModel):
    url: FlexStr = None
    protocol: FlexStr = None
    initial_delay_seconds: FlexStr = None
    timeout_seconds: FlexStr = None


class ModelDetail(ModelSummary):
    """Detail adds source, code, params; ``apis``/``config``/``model_metrics`` arrive parsed."""

    source_location: FlexStr = None
    source_job_id: FlexStr = None
    source_job_version: FlexStr = None
    runtime: FlexStr = None
    execution_code: FlexStr = None
    schema_doc: FlexStr = None
    image_address: FlexStr = None
    input_params: list[ModelParam] | None = None
    output_params: list[ModelParam] | None = None
    dependencies: list[ModelDependency] | None = None
    model_metrics: JsonLoose = None
    apis: JsonLoose = None
    model_docs: list[ModelDoc] | None = None
    health: ModelHealth | None = None
    model_algorithm: FlexStr = None
    model_labels: StrList = None
    labels_map: JsonLoose = None
    config: JsonLoose = None
    error_msg: FlexStr = None


class ModelDeleteFailure(ApiModel):
    model_id: FlexStr = None
    error_code: FlexStr = None
    error_msg: FlexStr = None


class ModelDeleteResult(ApiModel):
    delete_success_list: StrList = None
    delete_failed_list: list[ModelDeleteFailure] | None = None


PAGES: Paging[ModelList, ModelSummary] = Paging(lambda p: p.models, lambda p: p.total_count)


class Models:
    """Typed calls for imported models."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    async def create(self, request: ModelImportRequest) -> ModelImported:
        """Import a model (``POST /models``); returns its ``model_id``."""
        return await self._c.call(
            ModelImported,
            "POST",
            self._c.project_path("models"),
            endpoint_name="models.create",
            json_body=request.to_wire(),
        )

    import_model = create

    async def list(
        self,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        model_status: str | None = None,
        model_type: str | None = None,
        not_model_type: str | None = None,
        description: str | None = None,
        offset: int | None = None,
        limit: int | None = None,
        sort_by: str | None = None,
        order: str | None = None,
        workspace_id: str | None = None,
    ) -> ModelList:
        """One page. ``model_name`` is a fuzzy match: compare names exactly."""
        return await self._c.call(
            ModelList,
            "GET",
            self._c.project_path("models"),
            endpoint_name="models.list",
            params={
                "model_name": model_name,
                "model_version": model_version,
                "model_status": model_status,
                "model_type": model_type,
                "not_model_type": not_model_type,
                "description": description,
                "offset": offset,
                "limit": limit,
                "sort_by": sort_by,
                "order": order,
                "workspace_id": workspace_id,
            },
        )

    def iter_all(
        self,
        *,
        page_size: int = 500,
        model_name: str | None = None,
        model_version: str | None = None,
        model_status: str | None = None,
        workspace_id: str | None = None,
        sort_by: str | None = None,
        order: str | None = None,
    ) -> AsyncIterator[ModelSummary]:
        fetch = partial(
            self.list,
            model_name=model_name,
            model_version=model_version,
            model_status=model_status,
            workspace_id=workspace_id,
            sort_by=sort_by,
            order=order,
        )
        return paginate(fetch, PAGES, page_size, offset_is_page=self._c.config.offset_is_page)

    async def find(
        self, model_name: str, model_version: str, *, workspace_id: str | None = None
    ) -> ModelSummary | None:
        """The model with exactly this name and version (names are unique with version)."""
        return await first(
            self.iter_all(
                model_name=model_name, model_version=model_version, workspace_id=workspace_id
            ),
            lambda m: m.model_name == model_name and m.model_version == model_version,
        )

    async def get(self, model_id: str) -> ModelDetail:
        return await self._c.call(
            ModelDetail,
            "GET",
            self._c.project_path("models", model_id),
            endpoint_name="models.get",
        )

    async def delete(self, model_id: str, *, cascade: bool | None = None) -> ModelDeleteResult:
        """Delete; if ``model_id`` itself is in ``delete_failed_list``, raise its error
        (classified: 3009 deployed as a service is a StateConflict)."""
        result = await self._c.call(
            ModelDeleteResult,
            "DELETE",
            self._c.project_path("models", model_id),
            endpoint_name="models.delete",
            params={"cascade": cascade},
        )
        for failure in result.delete_failed_list or []:
            if failure.model_id == model_id:
                cls = errors.classify(None, failure.error_code, failure.error_msg, "DELETE")
                raise cls(
                    error_code=failure.error_code,
                    error_msg=failure.error_msg,
                    method="DELETE",
                    path=self._c.project_path("models", model_id),
                )
        return result
