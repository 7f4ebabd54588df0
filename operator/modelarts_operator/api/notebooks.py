"""Notebooks (``/v1/{project_id}/notebooks``) with the image and flavor catalogues they are
created from; shapes from the official SDK.

What differs from the other families:

* names may repeat, so a notebook is found by name *and* a mark: tags, which the create body
  cannot carry (the SDK's create request has none), so they are added right after create
  (``add_tags``) and ``find_marked`` looks up by name and tag; ``find_named`` finds the
  notebooks of a name created since a moment, for a crash between create and tagging;
* "not found" is HTTP 400 with ModelArts.6309 or 6404 (``NotFound``); ModelArts.6357 means
  "already in that state or busy" (``StateConflict``), e.g. a stop of a stopped notebook;
* lists page by item offset with ``limit`` 10, 20 or 50;
* a notebook on a timed lease stops by itself when the lease ends; ``start`` takes a new one.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..vocab import notebooks as vocab
from . import errors
from ._types import ApiModel, FlexFloat, FlexInt, FlexStr
from .pagination import iter_offset_pages

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "LEASE_MAX_MS",
    "LEASE_MIN_MS",
    "PAGE_SIZES",
    "EndpointRequest",
    "Flavor",
    "FlavorList",
    "Image",
    "ImageList",
    "LeaseRequest",
    "Notebook",
    "NotebookCreateRequest",
    "NotebookCustomSpec",
    "NotebookEndpoint",
    "NotebookImage",
    "NotebookLease",
    "NotebookList",
    "NotebookTag",
    "NotebookUpdateRequest",
    "NotebookVolume",
    "Notebooks",
    "VolumeMount",
]

PAGE_SIZES = (10, 20, 50)
LEASE_MIN_MS, LEASE_MAX_MS = 3_600_000, 259_200_000


# ---------------------------------------------------------------- request bodies
# The request bodies are the models generated from the official SDK (vocab.notebooks); the
# names below are this module's for them.
VolumeMount = vocab.VolumeMountRequest
NotebookCustomSpec = vocab.NotebookCustomSpec
LeaseRequest = vocab.LeaseReq
EndpointRequest = vocab.EndpointsReq
NotebookCreateRequest = vocab.NotebookCreateRequest
NotebookUpdateRequest = vocab.NotebookUpdateRequest


# ---------------------------------------------------------------- answers
class NotebookTag(ApiModel):
    key: FlexStr = None
    value: FlexStr = None


class NotebookImage(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    tag: FlexStr = None
    swr_path: FlexStr = None
    type: FlexStr = None


class NotebookLease(ApiModel):
    create_at: FlexInt = None
    update_at: FlexInt = None
    duration: FlexInt = None  # ms
    enable: bool | None = None
    type: FlexStr = None

    @property
    def ends_at(self) -> int | None:
        """When a timed lease stops the notebook (epoch ms), if auto-stop is on."""
        if not self.enable or self.create_at is None or self.duration is None:
            return None
        return self.create_at + self.duration


class NotebookVolume(ApiModel):
    category: FlexStr = None
    ownership: FlexStr = None
    capacity: FlexInt = None
    mount_path: FlexStr = None
    uri: FlexStr = None
    status: FlexStr = None


class NotebookEndpoint(ApiModel):
    service: FlexStr = None
    dev_service: FlexStr = None
    uri: FlexStr = None
    key_pair_names: list[str] | None = None


class Notebook(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    description: FlexStr = None
    status: FlexStr = None
    fail_reason: FlexStr = None
    flavor: FlexStr = None
    custom_spec: dict[str, Any] | None = None
    image: NotebookImage | None = None
    lease: NotebookLease | None = None
    pool: dict[str, Any] | None = None
    url: FlexStr = None
    volume: NotebookVolume | None = None
    endpoints: list[NotebookEndpoint] = Field(default_factory=list)
    workspace_id: FlexStr = None
    feature: FlexStr = None
    tags: list[NotebookTag] = Field(default_factory=list)
    action_progress: list[dict[str, Any]] | None = None
    create_at: FlexInt = None
    update_at: FlexInt = None

    def has_tags(self, wanted: Mapping[str, str]) -> bool:
        have = {t.key: t.value or "" for t in self.tags}
        return all(have.get(k) == val for k, val in wanted.items())

    @property
    def ssh_uri(self) -> str | None:
        return next((e.uri for e in self.endpoints if e.service == "SSH"), None)


class NotebookList(ApiModel):
    data: list[Notebook] = Field(default_factory=list)
    current: FlexInt = None
    size: FlexInt = None
    pages: FlexInt = None
    total: FlexInt = None


class Image(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    tag: FlexStr = None
    swr_path: FlexStr = None
    type: FlexStr = None  # BUILD_IN | DEDICATED
    status: FlexStr = None
    arch: FlexStr = None
    service_type: FlexStr = None
    resource_categories: list[str] | None = None
    dev_services: list[str] | None = None


class ImageList(ApiModel):
    data: list[Image] = Field(default_factory=list)
    total: FlexInt = None


class Flavor(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    arch: FlexStr = None
    category: FlexStr = None
    vcpus: FlexInt = None
    memory: FlexFloat = None
    free: bool | None = None
    sold_out: bool | None = None


class FlavorList(ApiModel):
    data: list[Flavor] | None = None
    flavors: list[Flavor] | None = None
    total: FlexInt = None

    @property
    def items(self) -> list[Flavor]:
        """The answer names the list ``data`` or ``flavors``; either is read."""
        return self.data if self.data is not None else self.flavors or []


class _Empty(ApiModel):
    pass


def tags_query(tags: Mapping[str, str]) -> str:
    """``{"k": "v"}`` -> ``k|v`` (the list filter's form; pairs joined by commas)."""
    return ",".join(f"{k}|{val}" for k, val in tags.items())


# ---------------------------------------------------------------- calls
class Notebooks:
    """Typed calls for notebooks, their images and flavors."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str) -> str:
        return self._c.project_path("notebooks", *parts)

    async def create(self, request: NotebookCreateRequest) -> Notebook:
        """Create (never re-sent on an unclear outcome: ``Ambiguous``; look up by name and
        mark before trying again). Mark it with ``add_tags`` right after."""
        return await self._c.call(
            Notebook,
            "POST",
            self._path(),
            endpoint_name="notebooks.create",
            json_body=request.to_wire(),
        )

    async def list(
        self,
        *,
        offset: int = 0,
        limit: int = 10,
        name: str | None = None,
        status: str | None = None,
        workspace_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        sort_dir: str | None = None,
    ) -> NotebookList:
        """One page; ``limit`` is 10, 20 or 50; ``name`` is a substring match."""
        if limit not in PAGE_SIZES:
            raise ValueError(f"limit must be one of {PAGE_SIZES}, not {limit}")
        return await self._c.call(
            NotebookList,
            "GET",
            self._path(),
            endpoint_name="notebooks.list",
            params={
                "offset": offset,
                "limit": limit,
                "name": name,
                "status": status,
                "workspace_id": workspace_id,
                "tags": tags_query(tags) if tags else None,
                "sort_dir": sort_dir,
            },
        )

    def iter_all(
        self,
        *,
        page_size: int = 50,
        name: str | None = None,
        status: str | None = None,
        workspace_id: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> AsyncIterator[Notebook]:
        """Every matching notebook, oldest first (a stable order while paging)."""

        async def fetch(offset: int, limit: int) -> NotebookList:
            return await self.list(
                offset=offset,
                limit=limit,
                name=name,
                status=status,
                workspace_id=workspace_id,
                tags=tags,
                sort_dir="ASC",
            )

        return iter_offset_pages(
            fetch, lambda p: p.data, lambda p: p.total, limit=page_size, offset_is_page=False
        )

    async def find_marked(
        self, name: str, tags: Mapping[str, str], *, workspace_id: str | None = None
    ) -> builtins.list[Notebook]:
        """Notebooks with exactly this name that carry all of ``tags`` (names may repeat, so
        the mark is what makes one ours)."""
        return [
            nb
            async for nb in self.iter_all(name=name, workspace_id=workspace_id, tags=tags)
            if nb.name == name and nb.has_tags(tags)
        ]

    async def find_named(
        self,
        name: str,
        *,
        created_since_ms: int | None = None,
        workspace_id: str | None = None,
    ) -> builtins.list[Notebook]:
        """Notebooks with exactly this name (created at or after ``created_since_ms``): after a
        crash between create and ``add_tags``, the one created since the recorded create intent
        and carrying no one else's mark is ours."""
        return [
            nb
            async for nb in self.iter_all(name=name, workspace_id=workspace_id)
            if nb.name == name
            and (created_since_ms is None or (nb.create_at or 0) >= created_since_ms)
        ]

    async def get(self, notebook_id: str) -> Notebook:
        return await self._c.call(
            Notebook, "GET", self._path(notebook_id), endpoint_name="notebooks.get"
        )

    async def update(self, notebook_id: str, request: NotebookUpdateRequest) -> Notebook:
        return await self._c.call(
            Notebook,
            "PUT",
            self._path(notebook_id),
            endpoint_name="notebooks.update",
            json_body=request.to_wire(),
        )

    async def start(
        self, notebook_id: str, *, duration_ms: int | None = None, lease_type: str | None = None
    ) -> Notebook:
        """Start with a new lease (``duration_ms`` 1 h..72 h, ``lease_type`` TIMING | IDLE)."""
        return await self._c.call(
            Notebook,
            "POST",
            self._path(notebook_id, "start"),
            endpoint_name="notebooks.start",
            params={"duration": duration_ms, "type": lease_type},
        )

    async def stop(self, notebook_id: str) -> Notebook:
        return await self._c.call(
            Notebook, "POST", self._path(notebook_id, "stop"), endpoint_name="notebooks.stop"
        )

    async def delete(self, notebook_id: str) -> Notebook | None:
        """Start deleting; None when a deletion was already under way (6357). Gone once
        ``get`` raises NotFound."""
        try:
            return await self._c.call(
                Notebook, "DELETE", self._path(notebook_id), endpoint_name="notebooks.delete"
            )
        except errors.StateConflict as exc:
            if exc.error_code == "ModelArts.6357":
                return None
            raise

    async def lease(self, notebook_id: str) -> NotebookLease:
        return await self._c.call(
            NotebookLease, "GET", self._path(notebook_id, "lease"), endpoint_name="notebooks.lease"
        )

    async def renew_lease(
        self, notebook_id: str, *, duration_ms: int, lease_type: str | None = None
    ) -> NotebookLease:
        """A new lease counted from now (a running notebook's stop moves with it)."""
        body = LeaseRequest(duration=duration_ms, type=lease_type or "TIMING")
        return await self._c.call(
            NotebookLease,
            "PATCH",
            self._path(notebook_id, "lease"),
            endpoint_name="notebooks.lease.renew",
            json_body=body.to_wire(),
        )

    async def add_tags(self, notebook_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags (idempotent: the same tags twice change nothing)."""
        await self._c.call(
            _Empty,
            "POST",
            self._path(notebook_id, "tags", "create"),
            endpoint_name="notebooks.tags.create",
            json_body={"tags": [{"key": k, "value": val} for k, val in tags.items()]},
            idempotent=True,
        )

    async def remove_tags(self, notebook_id: str, keys: builtins.list[str]) -> None:
        await self._c.call(
            _Empty,
            "DELETE",
            self._path(notebook_id, "tags", "delete"),
            endpoint_name="notebooks.tags.delete",
            json_body={"tags": [{"key": k} for k in keys]},
        )

    async def images(
        self, *, name: str | None = None, fuzzy: bool = False, limit: int = 100
    ) -> ImageList:
        return await self._c.call(
            ImageList,
            "GET",
            self._c.project_path("images"),
            endpoint_name="images.list",
            params={
                "name": name,
                "name_fuzzy_match": "true" if fuzzy else None,
                "limit": limit,
            },
        )

    async def find_image(self, name: str, tag: str | None = None) -> Image | None:
        """The image with exactly this name (and tag, when given), or None."""
        found = await self.images(name=name)
        for image in found.data:
            if image.name == name and (tag is None or image.tag == tag):
                return image
        return None

    async def flavors(self, *, category: str | None = None) -> builtins.list[Flavor]:
        answer = await self._c.call(
            FlavorList,
            "GET",
            self._path("flavors"),
            endpoint_name="notebooks.flavors",
            params={"category": category},
        )
        return answer.items
