"""Algorithms (``/v2/{project_id}/algorithms``): the successor of the 2020 API's training job
configurations. A team's reusable recipe (code and boot file or command, engine or image,
parameters with constraints, inputs and outputs) that training jobs start from by ID.

Create answers 201 with the algorithm; change (PUT) takes the whole body again; delete is
immediate. A missing algorithm is HTTP 400 ``ModelArts.2755`` (Terraform's
huaweicloud_modelarts_algorithm treats it as not found), which these calls raise as
``NotFound``: elsewhere (a training job naming an unknown algorithm) 2755 is a refused
parameter. Names are unique per project: 2821 ``DuplicateAlgorithmName``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import Field

from ..vocab import algorithms as vocab
from . import errors
from ._types import ApiModel, FlexInt, FlexStr
from .pagination import Paging, first, paginate

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = ["Algorithm", "AlgorithmList", "AlgorithmRequest", "Algorithms"]

# The create and change body (the SDK's Algorithm, generated).
AlgorithmRequest = vocab.Algorithm
NOT_FOUND = "ModelArts.2755"
MAX_PAGE = 50  # the reference: limit 1-50
T = TypeVar("T")


class AlgorithmMeta(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    description: FlexStr = None
    workspace_id: FlexStr = None
    user_name: FlexStr = None
    source: FlexStr = None
    is_valid: bool | None = None
    state: FlexStr = None
    size: FlexInt = None
    version_num: FlexInt = None
    create_time: FlexInt = None
    update_time: FlexInt = None


class Algorithm(ApiModel):
    """An algorithm as the API answers it (create, show, change, list items)."""

    metadata: AlgorithmMeta = Field(default_factory=AlgorithmMeta)
    job_config: dict[str, Any] | None = None
    resource_requirements: list[dict[str, Any]] | None = None
    advanced_config: dict[str, Any] | None = None

    @property
    def id(self) -> str | None:
        return self.metadata.id

    @property
    def name(self) -> str | None:
        return self.metadata.name

    @property
    def description(self) -> str | None:
        """The description (where the operator's ownership marker is)."""
        return self.metadata.description


class AlgorithmList(ApiModel):
    total: FlexInt = None
    count: FlexInt = None
    items: list[Algorithm] = Field(default_factory=list)


PAGES: Paging[AlgorithmList, Algorithm] = Paging(lambda p: p.items, lambda p: p.total)


async def _not_found_as_such(call: Awaitable[T]) -> T:
    """The algorithm calls' 2755 is "no such algorithm"."""
    try:
        return await call
    except errors.InvalidParameter as err:
        if err.error_code != NOT_FOUND:
            raise
        raise errors.NotFound(
            status=err.status,
            error_code=err.error_code,
            error_msg=err.error_msg,
            request_id=err.request_id,
            method=err.method,
            path=err.path,
        ) from None


class Algorithms:
    """Typed calls for algorithms. All HTTP behaviour is the base client's."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str) -> str:
        return self._c.path("v2", self._c.config.project_id, "algorithms", *parts)

    async def create(self, request: AlgorithmRequest) -> Algorithm:
        return await self._c.call(
            Algorithm,
            "POST",
            self._path(),
            endpoint_name="algorithms.create",
            json_body=request.to_wire(),
        )

    async def get(self, algorithm_id: str) -> Algorithm:
        return await _not_found_as_such(
            self._c.call(Algorithm, "GET", self._path(algorithm_id), endpoint_name="algorithms.get")
        )

    async def change(self, algorithm_id: str, request: AlgorithmRequest) -> Algorithm:
        """Replace the algorithm's configuration (the whole body: what is left out goes)."""
        return await _not_found_as_such(
            self._c.call(
                Algorithm,
                "PUT",
                self._path(algorithm_id),
                endpoint_name="algorithms.change",
                json_body=request.to_wire(),
            )
        )

    async def delete(self, algorithm_id: str) -> None:
        await _not_found_as_such(
            self._c.request("DELETE", self._path(algorithm_id), endpoint_name="algorithms.delete")
        )

    async def list(
        self,
        *,
        offset: int = 0,
        limit: int = MAX_PAGE,
        workspace_id: str | None = None,
        searches: str | None = None,
        sort_by: str | None = None,
        order: str | None = None,
    ) -> AlgorithmList:
        """One page; ``offset`` is an item index; ``searches`` e.g. ``name:<text>`` (fuzzy)."""
        return await self._c.call(
            AlgorithmList,
            "GET",
            self._path(),
            endpoint_name="algorithms.list",
            params={
                "offset": offset,
                "limit": limit,
                "workspace_id": workspace_id,
                "searches": searches,
                "sort_by": sort_by,
                "order": order,
            },
        )

    def iter_all(
        self,
        *,
        workspace_id: str | None = None,
        searches: str | None = None,
        page_size: int = MAX_PAGE,
    ) -> AsyncIterator[Algorithm]:
        """Every algorithm, oldest first (a stable order while paging)."""
        fetch = partial(
            self.list, workspace_id=workspace_id, searches=searches, sort_by="create_time",
            order="asc",
        )  # fmt: skip
        return paginate(fetch, PAGES, min(page_size, MAX_PAGE), offset_is_page=False)

    async def find_by_name(self, name: str, *, workspace_id: str | None = None) -> Algorithm | None:
        """The algorithm whose name is exactly ``name`` (the search is fuzzy)."""
        found = self.iter_all(workspace_id=workspace_id, searches=f"name:{name}")
        return await first(found, lambda a: a.name == name)
