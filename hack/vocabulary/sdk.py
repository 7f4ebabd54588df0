"""The official SDKs' request models, walked: classes, fields, wire names, types, required-ness
and the (Chinese) docstrings, for the families of calls the operator makes.

The SDK classes describe themselves: ``openapi_types`` (attribute -> type string such as
``str``, ``list[Input]``, ``dict(str, str)``), ``attribute_map`` (attribute -> JSON key) and an
``__init__`` that assigns required attributes unconditionally and optional ones under
``if x is not None``; its docstring holds one ``:param x: <text>`` per attribute.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

MODELARTS = "huaweicloudsdkmodelarts.v1"
DATAARTS = "huaweicloudsdkdataartsfabric.v1"
PRIMITIVES = frozenset({"str", "int", "float", "bool", "object", "datetime", "date"})


@dataclass(frozen=True)
class Family:
    """A family of calls: the request bodies of one resource's create, update and tag calls."""

    name: str
    package: str
    roots: tuple[str, ...]
    title: str


FAMILIES: tuple[Family, ...] = (
    Family(
        "training",
        MODELARTS,
        ("Job", "JobUpdateRequestBody", "CreateTmsTagsRequest", "DeleteTmsTagsRequest"),
        "v2 training jobs (create_training_job, change_training_job_description, "
        "create/delete_train_job_tags)",
    ),
    Family(
        "services",
        MODELARTS,
        ("ServiceCreateRequest", "ServiceUpdateRequest"),
        "v2 inference services (create_infer_service, update_infer_service)",
    ),
    Family(
        "notebooks",
        MODELARTS,
        (
            "NotebookCreateRequest",
            "NotebookUpdateRequest",
            "CreateTmsTagsRequest",
            "DeleteTmsTagsRequest",
        ),
        "notebooks (create_notebook, update_notebook, create/delete_notebook_tags)",
    ),
    Family(
        "workspaces",
        MODELARTS,
        ("CreateWorkspaceReq", "UpdateWorkspaceReq"),
        "workspaces (create_workspace, update_workspace)",
    ),
    Family(
        "algorithms",
        MODELARTS,
        ("Algorithm",),
        "algorithms (create_algorithm, change_algorithm: one body)",
    ),
    Family(
        "pools",
        MODELARTS,
        ("CreatePoolRequestBody", "PoolUpdateRequest"),
        "dedicated resource pools (create_pool, patch_pool)",
    ),
    Family(
        "networks",
        MODELARTS,
        ("NetworkCreationRequest", "NetworkUpdateRequest"),
        "resource pool networks (create_network, patch_network)",
    ),
    Family(
        "workspace_quotas",
        MODELARTS,
        ("UpdateWorkspaceQuotasReq",),
        "workspace quotas (update_workspace_quotas)",
    ),
    Family(
        "dataarts",
        DATAARTS,
        ("CreateModelInput", "UpdateModelInput"),
        "DataArts Fabric models and versions (create/update_model_definition)",
    ),
)
FAMILY = {f.name: f for f in FAMILIES}


@dataclass(frozen=True)
class SdkField:
    """One attribute of an SDK model class."""

    owner: str  # the class name
    attr: str  # the Python attribute name in the SDK
    wire: str  # the JSON key
    type: str  # the SDK's type string
    required: bool
    doc: str  # the SDK's docstring text, HTML entities decoded, whitespace collapsed

    @property
    def key(self) -> str:
        """``Class.wire`` — how the committed tables name a field."""
        return f"{self.owner}.{self.wire}"

    @property
    def inner(self) -> str:
        return inner_type(self.type)


def package(name: str) -> ModuleType:
    return importlib.import_module(name)


def inner_type(typ: str) -> str:
    """The element type of ``list[X]`` / ``dict(str, X)``, recursively; else ``typ``."""
    if typ.startswith("list["):
        return inner_type(typ[5:-1])
    found = re.fullmatch(r"dict\(([^,]*), (.*)\)", typ)
    if found:
        return inner_type(found.group(2))
    return typ


def _clean(text: str) -> str:
    for entity, char in (
        ("\\&quot;", '"'),
        ("&quot;", '"'),
        ("&#x3D;", "="),
        ("&#x60;", "`"),
        ("&#39;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ):
        text = text.replace(entity, char)
    return " ".join(text.split())


@cache
def docs_of(package_name: str, class_name: str) -> dict[str, str]:
    cls = getattr(package(package_name), class_name)
    doc = cls.__init__.__doc__ or ""
    return {
        m.group(1): _clean(m.group(2))
        for m in re.finditer(r":param (\w+): (.*?)\n\s+:type", doc, re.S)
    }


@cache
def is_model(package_name: str, class_name: str) -> bool:
    """A class with attributes (an enum class has none)."""
    return bool(getattr(package(package_name), class_name).openapi_types)


@cache
def enum_values(package_name: str, class_name: str) -> tuple[str, ...]:
    """The allowed values of an SDK enum class (its upper-case string attributes)."""
    cls = getattr(package(package_name), class_name)
    return tuple(
        value
        for key, value in vars(cls).items()
        if key.isupper() and isinstance(value, str) and not key.startswith("_")
    )


@cache
def fields_of(package_name: str, class_name: str) -> tuple[SdkField, ...]:
    cls = getattr(package(package_name), class_name)
    source = inspect.getsource(cls.__init__)
    docs = docs_of(package_name, class_name)
    out = []
    for attr, typ in cls.openapi_types.items():
        guarded = re.search(rf"if {attr} is not None:\n\s+self\.{attr} = {attr}\n", source)
        assigned = re.search(rf"\n\s+self\.{attr} = {attr}\n", source)
        out.append(
            SdkField(
                owner=class_name,
                attr=attr,
                wire=cls.attribute_map[attr],
                type=typ,
                required=bool(assigned) and not guarded,
                doc=docs.get(attr, ""),
            )
        )
    return tuple(out)


def classes(family: Family, excluded: frozenset[str] = frozenset()) -> list[str]:
    """Every model class reachable from the family's roots (fields in ``excluded`` — keys
    ``Class.wire`` — are not followed), leaves first (a class after the classes it uses)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for field in fields_of(family.package, name):
            if field.key in excluded:
                continue
            inner = field.inner
            if inner not in PRIMITIVES and is_model(family.package, inner):
                visit(inner)
        visiting.discard(name)
        order.append(name)

    for root in family.roots:
        visit(root)
    return order


def paths(
    family: Family, root: str, excluded: frozenset[str] = frozenset()
) -> Iterator[tuple[tuple[str, ...], SdkField]]:
    """Every field under ``root`` as (wire path, field), depth first; excluded fields (and
    what is below them) are skipped. A class met again below itself is not re-entered."""

    def walk(name: str, prefix: tuple[str, ...], seen: frozenset[str]) -> Iterator[Any]:
        for field in fields_of(family.package, name):
            if field.key in excluded:
                continue
            path = (*prefix, field.wire)
            yield path, field
            inner = field.inner
            if inner not in PRIMITIVES and is_model(family.package, inner) and inner not in seen:
                yield from walk(inner, path, seen | {inner})

    yield from walk(root, (), frozenset({root}))


def all_fields(family: Family, excluded: frozenset[str] = frozenset()) -> list[SdkField]:
    return [
        field
        for name in classes(family, excluded)
        for field in fields_of(family.package, name)
        if field.key not in excluded
    ]
