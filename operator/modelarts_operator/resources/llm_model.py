"""The LLM form of Model (``spec.llm``): DataArts Fabric models (``/v1/workspaces/{ws}/models``).

One remote model per Model object, in the DataArts workspace ``spec.llm.workspaceId``, under
``spec.llm.name`` or the derived name (immutable: it is how a create interrupted by a crash is
found again). DataArts has no show call, so a model is read by listing with its ``id``, and
the poller reads every watched model of a workspace from the list pages (100 items, item
offset): a list item is the whole model.

The description is updated in place (PUT). A version never changes: a changed
``spec.llm.version`` carries a new name (admission refuses otherwise) and is added by a PUT
with ``version``; DataArts builds it asynchronously and makes it current once built. The
version is looked up by name before that PUT, so a PUT whose answer was lost is not repeated.
Naming an older version again switches back to it (``current_version_id``). DataArts reports
no build state, so a version still building and one whose build failed look alike: neither
is current, and the Model stays Publishing.

A model deleted outside the operator is created again, as for an imported model. Deletion
with ``deletionPolicy: Delete`` cleans the model up and keeps the finalizer until the list no
longer shows it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from typing import Any

from ..api.client import ModelArtsClient
from ..api.dataarts import (
    MAX_LIMIT,
    DataArtsModel,
    DataArtsModelCreateRequest,
    DataArtsModelList,
    DataArtsModelUpdateRequest,
    DataArtsModelVersion,
    DataArtsModelVersionList,
    ModelVersionInput,
)
from ..api.pagination import Paging, first, paginate
from ..crd.model import LlmModel, ModelSpec
from ..reconcile.adapter import (
    Context,
    Created,
    InvalidSpec,
    Observation,
    Refs,
    Updated,
    confirmed_gone,
)
from ..reconcile.references import to_wire
from ..reconcile.registry import Entry, Registry
from .model_common import ModelAdapter

MODEL_PAGES: Paging[DataArtsModelList, DataArtsModel] = Paging(
    items=lambda page: page.models, total=lambda page: page.total
)
VERSION_PAGES: Paging[DataArtsModelVersionList, DataArtsModelVersion] = Paging(
    items=lambda page: page.versions, total=lambda page: page.total
)
LlmContext = Context[ModelSpec, Refs]


def _llm(spec: ModelSpec) -> LlmModel:
    llm = spec.llm
    assert llm is not None  # this adapter serves the objects whose spec has spec.llm
    return llm


def _stamp(value: dt.datetime | None) -> str | None:
    """A DataArts date-time as RFC 3339 in whole seconds (how the other kinds write times)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version_input(llm: LlmModel) -> ModelVersionInput:
    return ModelVersionInput.model_validate(to_wire(llm.version))


def create_request(llm: LlmModel, name: str) -> DataArtsModelCreateRequest:
    """The create body: spec.llm as it is (less its workspace, a path parameter), named."""
    wire = to_wire(llm, "workspace_id")
    wire["name"] = name
    return DataArtsModelCreateRequest.model_validate(wire)


class LlmModelAdapter(ModelAdapter[Refs]):
    recorded_fields = ("versionId", "versionName")
    refs_type = Refs

    def explicit_name(self, spec: ModelSpec) -> str | None:
        """``spec.llm.name`` (the kind's name field, ``modelName``, is the imported form's):
        lookups, the create and status use it."""
        return _llm(spec).name

    async def find(self, ctx: LlmContext) -> tuple[str, Any] | None:
        """The model under this object's remote name (the list's ``name`` filter is fuzzy)."""
        name = ctx.remote_name
        fetch = functools.partial(
            ctx.client.dataarts.list_models, _llm(ctx.spec).workspace_id, name=name
        )
        found = await first(
            paginate(fetch, MODEL_PAGES, MAX_LIMIT, offset_is_page=False),
            lambda model: model.name == name,
        )
        return (str(found.id), found) if found is not None else None

    async def get(self, ctx: LlmContext, remote_id: str) -> DataArtsModel:
        return await ctx.client.dataarts.get_model(_llm(ctx.spec).workspace_id, remote_id)

    async def create(self, ctx: LlmContext) -> Created:
        """Create the model with its first version. The answer is the IDs; no version is
        current until DataArts has built it."""
        llm = _llm(ctx.spec)
        created = await ctx.client.dataarts.create_model(
            llm.workspace_id, create_request(llm, ctx.remote_name)
        )
        recorded: dict[str, Any] = {"versionName": llm.version.name}
        if created.version_id:
            recorded["versionId"] = created.version_id
        return Created(str(created.id), _publishing(llm.version.name, None, {}), recorded)

    async def update(self, ctx: LlmContext, remote_id: str, remote: DataArtsModel) -> Updated:
        """PUT what differs: the description, and the spec's version (added, or made current
        again when DataArts has it already). One PUT for both; none when nothing differs."""
        llm = _llm(ctx.spec)
        updated = Updated(remote)
        request = DataArtsModelUpdateRequest()
        changed: list[str] = []
        if (llm.description or "") != (remote.description or ""):
            request.description = llm.description or ""
            changed.append("description")
        added = False
        wanted = llm.version.name
        building = ctx.status.get("versionName") == wanted and bool(ctx.status.get("versionId"))
        if not _is_current(remote, wanted) and not building:
            existing = await self._version_named(ctx, remote_id, wanted)
            if existing is None:
                request.version = _version_input(llm)
                changed.append("version")
                added = True
            else:
                _same_config_or_refuse(existing, llm)
                updated.recorded.update(_recorded(existing))
                if _older_than_current(existing, remote):
                    request.current_version_id = existing.id
                    changed.append("current version")
        elif remote.current_version is not None and _is_current(remote, wanted):
            updated.recorded.update(_recorded(remote.current_version))
        if not changed:
            return updated
        updated.remote = await ctx.client.dataarts.update_model(
            llm.workspace_id, remote_id, request
        )
        if added:
            new = await self._version_named(ctx, remote_id, wanted)
            # Its ID once DataArts lists it (None drops a stale one from status).
            updated.recorded.update(versionName=wanted, versionId=new.id if new else None)
        updated.change(*changed)
        return updated

    async def _version_named(
        self, ctx: LlmContext, remote_id: str, name: str
    ) -> DataArtsModelVersion | None:
        """The model's version called ``name`` (the list's ``name`` filter is fuzzy: "v1"
        also finds v10, v11..., so every page is read until the exact name)."""
        fetch = functools.partial(
            ctx.client.dataarts.list_versions, _llm(ctx.spec).workspace_id, remote_id, name=name
        )
        return await first(
            paginate(fetch, VERSION_PAGES, MAX_LIMIT, offset_is_page=False),
            lambda version: version.name == name,
        )

    def observe(self, ctx: LlmContext, remote: DataArtsModel) -> Observation:
        return _observe(_llm(ctx.spec).version.name, remote)

    async def delete(self, ctx: LlmContext, remote_id: str) -> bool:
        """Clean the model up; gone once listing by its ID finds nothing."""
        ws = _llm(ctx.spec).workspace_id
        await ctx.client.dataarts.cleanup_model(ws, remote_id)
        return await confirmed_gone(ctx.client.dataarts.get_model(ws, remote_id))

    def poll_scope(self, entry: Entry, registry: Registry) -> str:
        """The DataArts workspace the model lives in (spec.llm.workspaceId)."""
        return str(entry.spec["llm"]["workspaceId"])

    async def list_remote(
        self, client: ModelArtsClient, scope: str
    ) -> AsyncIterator[tuple[str, Any]]:
        """Every model of the DataArts workspace (pages of 100): a list item is the whole
        model."""
        async for model in client.dataarts.iter_models(scope):
            yield str(model.id), model

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        return _observe(str(entry.spec["llm"]["version"]["name"]), summary)


def _observe(wanted: str, remote: DataArtsModel) -> Observation:
    """Published once the model's current version is the spec's (``wanted``); Publishing
    before (the first version, or an added one, is being built — or its build failed:
    DataArts shows no build state, only which version is current)."""
    current = remote.current_version
    facts: dict[str, Any] = {
        "createTime": _stamp(remote.create_time),
        "updateTime": _stamp(remote.update_time),
    }
    if current is not None:
        facts["currentVersion"] = {
            "id": current.id,
            "name": current.name,
            "createTime": _stamp(current.create_time),
        }
    facts = {k: v for k, v in facts.items() if v is not None}
    if current is not None and current.name == wanted:
        facts.update(versionId=current.id, versionName=wanted)
        return Observation("Published", True, facts=facts, in_flight=False)
    return _publishing(wanted, current.name if current is not None else None, facts)


def _publishing(wanted: str, current: str | None, facts: dict[str, Any]) -> Observation:
    """A model whose current version (``current``) is not the spec's (``wanted``) yet."""
    if current is None:
        message = f"version {wanted!r} is being built (no version is current yet)"
    else:
        message = (
            f"version {wanted!r} is not current yet (current: {current!r}); DataArts "
            "makes a version current once built and never one whose build failed"
        )
    return Observation("Publishing", False, message=message, facts=facts)


def _is_current(remote: DataArtsModel, name: str) -> bool:
    return remote.current_version is not None and remote.current_version.name == name


def _recorded(version: DataArtsModelVersion) -> dict[str, Any]:
    """What status records of the version the spec names."""
    return {"versionName": version.name, **({"versionId": version.id} if version.id else {})}


def _older_than_current(version: DataArtsModelVersion, remote: DataArtsModel) -> bool:
    """True for a version made before the current one: a version to switch back to. A newer
    one that is not current is still being built (or failed), and cannot be switched to."""
    current = remote.current_version
    if current is None or current.create_time is None or version.create_time is None:
        return False
    return version.create_time < current.create_time


def _same_config_or_refuse(version: DataArtsModelVersion, llm: LlmModel) -> None:
    """A version name DataArts has already must mean the same files: versions never change."""
    have = version.config.llm_model_config if version.config else None
    want = llm.version.config.llm_model_config if llm.version.config else None
    if have is None or want is None:
        return
    if (have.base_model_type, have.model_path) != (want.base_model_type, want.model_path):
        raise InvalidSpec(
            f"spec.llm.version: version {llm.version.name!r} exists in DataArts with "
            f"baseModelType {have.base_model_type!r} and modelPath {have.model_path!r}; "
            "a changed version needs a new version.name"
        )
