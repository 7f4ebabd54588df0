"""Shared building blocks of the custom resources: base model, common spec fields, status.

The pydantic models here are the single source of the CRD schemas (see ``generate.py``):
field descriptions become ``kubectl explain`` text, ``Field`` constraints become OpenAPI
bounds, and ``x-kubernetes-validations`` entries carry the CEL rules the API server enforces.
Every string and list is bounded so that CEL cost estimation accepts the rules.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from .. import GROUP, VERSION, reasons

API_VERSION = f"{GROUP}/{VERSION}"
CATEGORY = "modelarts"

# Bounds used where the ModelArts documentation gives none. They keep CEL cost estimates
# finite and are generous for real values (OBS paths, IDs, free text).
MAX_ID = 128
MAX_PATH = 1024
# An OBS location: obs://bucket/dir/ or /bucket/dir/ (bucket names: 3-63 lowercase letters,
# digits, - and .).
OBS_PATH_PATTERN = r"^(obs:/)?/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/"
MAX_TEXT = 4096
# Remote descriptions end with the operator's ownership marker, " [k8s-owner:<16 hex>]" (29
# characters): what is left for the user's text of the API's 100 and 256.
OWNER_MARKER_ROOM = 29
OWN_TEXT_100 = 100 - OWNER_MARKER_ROOM
OWN_TEXT_256 = 256 - OWNER_MARKER_ROOM
MAX_ITEMS = 64

CelRule = dict[str, str]


def cel(
    rule: str, message: str, *, field_path: str | None = None, reason: str | None = None
) -> CelRule:
    """One ``x-kubernetes-validations`` entry; ``field_path`` makes the error name the field."""
    entry = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    if reason is not None:
        entry["reason"] = reason
    return entry


def validations(*rules: CelRule) -> dict[str, Any]:
    """``json_schema_extra`` carrying CEL rules for a model or a field."""
    return {"x-kubernetes-validations": list(rules)}


FREE_FORM: dict[str, Any] = {"x-kubernetes-preserve-unknown-fields": True}
"""``json_schema_extra`` marking a field whose content is free-form JSON (kept as is)."""


def immutable_once_set(field: str) -> CelRule:
    """A spec-level transition rule: once ``field`` is set it can neither change nor go away."""
    return cel(
        f"!has(oldSelf.{field}) || (has(self.{field}) && self.{field} == oldSelf.{field})",
        f"{field} is immutable once set",
        field_path=f".{field}",
        reason="FieldValueForbidden",
    )


def immutable(field: str, unset: str = "''") -> CelRule:
    """A spec-level transition rule: ``field`` keeps its value (``unset`` stands for absent)."""
    return cel(
        f"(has(self.{field}) ? self.{field} : {unset}) == "
        f"(has(oldSelf.{field}) ? oldSelf.{field} : {unset})",
        f"{field} is immutable",
        field_path=f".{field}",
        reason="FieldValueForbidden",
    )


def sdk_field(model: type[BaseModel], name: str, *, description: str | None = None) -> Any:
    """A field of a generated SDK model (``vocab``) reused in a CRD model under the CRD's own
    name: its bounds, CEL rules and description (or ``description``), optional (default
    None). The annotation is given where it is used; the alias comes from that model."""
    info: FieldInfo = copy.deepcopy(model.model_fields[name])
    info.default = None
    info.alias = info.validation_alias = info.serialization_alias = None
    info.alias_priority = None
    if description is not None:
        info.description = description
    return info


def rules_of(model: type[BaseModel]) -> tuple[CelRule, ...]:
    """The class-level CEL rules a (generated) model carries: a subclass that sets its own
    rules starts from these, or they are lost."""
    extra = model.model_config.get("json_schema_extra")
    if isinstance(extra, dict):
        return tuple(cast(list[CelRule], extra.get("x-kubernetes-validations", [])))
    return ()


# The operator's ownership tag (reconcile.naming.OWNER_TAG_KEY and the Notebook's owner tag):
# reserved, a spec cannot set or change it.
RESERVED_TAG_KEYS = ("k8s-owner", "modelarts.huaweicloud.com/owner-uid")


def tags_field(max_items: int = 20) -> Any:
    """``spec.tags``: the API's tags (key, value), unique keys, the operator's ownership tag
    reserved. 20: the cloud's limit for services (SDK ServiceCreateRequest.tags "上限20个"),
    the operator's size budget for the kinds whose tag API states none."""
    return Field(
        default=None,
        max_length=max_items,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["key"],
            **validations(
                cel(
                    "self.all(t, !(t.key in "
                    + "["
                    + ", ".join(f"'{k}'" for k in RESERVED_TAG_KEYS)
                    + "]))",
                    "the operator's ownership tag keys are reserved: "
                    + ", ".join(RESERVED_TAG_KEYS),
                )
            ),
        },
        description=(
            "Tags of the remote object (key, value), kept alongside the operator's ownership "
            "tag and the operator-wide default tags (a key set here wins over a default). "
            "Changed in place: the operator adds, overwrites and removes tags to match (the "
            "cloud's _sys_ tags stay); services and notebooks also on every resync, training "
            "jobs on a spec change."
        ),
    )


class CrdModel(BaseModel):
    """Base of every CRD model: camelCase in YAML, snake_case in Python (like the wire API)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
    )


# A DNS-1123 subdomain, the rule for names of Kubernetes objects referenced by name.
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

# Workspace IDs: "0" (the default workspace) or a 32-character UUID without hyphens.
WORKSPACE_ID_PATTERN = r"^(0|[0-9a-fA-F]{32})$"


class LocalObjectReference(CrdModel):
    """A reference to another object of this API in the same namespace."""

    name: str = Field(
        min_length=1,
        max_length=253,
        pattern=K8S_NAME_PATTERN,
        description="Name of the referenced object in the same namespace.",
    )


DeletionPolicy = Literal["Delete", "Retain"]

DELETION_POLICY_DESCRIPTION = (
    "What happens to the ModelArts object when this Kubernetes object is deleted: Delete "
    "(default) removes it remotely (a running training job is stopped first); Retain leaves "
    "it in ModelArts."
)


class WorkspaceScopedSpec(CrdModel):
    """Spec fields shared by every kind that lives inside a ModelArts workspace."""

    deletion_policy: DeletionPolicy = Field(
        default="Delete", description=DELETION_POLICY_DESCRIPTION
    )
    workspace_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "Workspace object in the same namespace whose ModelArts workspace holds this "
            "object; the operator waits until it is ready. Mutually exclusive with "
            "workspaceId. Immutable."
        ),
    )
    workspace_id: str | None = Field(
        default=None,
        pattern=WORKSPACE_ID_PATTERN,
        max_length=32,
        description=(
            'ModelArts workspace ID: "0" for the default workspace or a 32-character ID. '
            'When neither workspaceRef nor workspaceId is set, "0" is used. Mutually '
            "exclusive with workspaceRef. Immutable."
        ),
    )


WORKSPACE_RULES: tuple[CelRule, ...] = (
    cel(
        "!(has(self.workspaceRef) && has(self.workspaceId))",
        "workspaceRef and workspaceId are mutually exclusive",
        field_path=".workspaceRef",
    ),
    immutable("workspaceId", unset="'0'"),
    cel(
        "(has(self.workspaceRef) ? self.workspaceRef.name : '') == "
        "(has(oldSelf.workspaceRef) ? oldSelf.workspaceRef.name : '')",
        "workspaceRef is immutable",
        field_path=".workspaceRef",
        reason="FieldValueForbidden",
    ),
)
"""CEL rules every workspace-scoped spec carries (add them to the spec's validations)."""


ConditionStatus = Literal["True", "False", "Unknown"]


def _reason_description() -> str:
    """Condition.reason's text, from the reason vocabulary (``reasons.py``)."""
    meaning, waiting = reasons.Meaning, f"{reasons.WAITING_FOR}<Kind>"

    def listed(of: tuple[reasons.Reason, ...], *meanings: reasons.Meaning) -> str:
        return ", ".join(reasons.names(of, *meanings))

    return (
        "Machine-readable cause. Synced=False: transient (the operator retries, resumes or "
        f"waits by itself): {listed(reasons.SYNCED, meaning.TRANSIENT)}, {waiting}; terminal "
        "(nothing changes until a person acts): the error_code of a refused request (e.g. "
        f"ModelArts.0107), {listed(reasons.SYNCED, meaning.TERMINAL)}. Ready=False: the "
        f"phase (Creating, Running...), {waiting}, "
        f"{listed(reasons.READY, meaning.NOT_READY)}, or the Synced reason while there is "
        "no remote object; a remote failure (Failed=True): "
        f"{listed(reasons.READY, meaning.FAILED)}; partly unhealthy (not Failed): "
        f"{listed(reasons.READY, meaning.DEGRADED)}. Failed=True: the reason of the remote "
        "failure or of the terminal Synced=False. docs/crd-reference.md describes each."
    )


class Condition(CrdModel):
    """One observation of the object's state, in the shape of metav1.Condition."""

    type: str = Field(
        max_length=316,
        description=(
            "Kind of condition: Synced (the current generation was applied to ModelArts), "
            "Ready (the remote object is in its steady good state) or Failed (the object "
            "cannot become Ready without a change by a person: `kubectl wait "
            "--for=condition=Failed`)."
        ),
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str | None = Field(
        default=None,
        max_length=1024,
        description=_reason_description(),
    )
    message: str | None = Field(
        default=None,
        max_length=32768,
        description="Human-readable detail, e.g. the ModelArts error_msg.",
    )
    last_transition_time: datetime | None = Field(
        default=None, description="When the status of this condition last changed."
    )
    observed_generation: int | None = Field(
        default=None,
        ge=0,
        description="metadata.generation this condition was computed from.",
    )


class Location(CrdModel):
    """Where the remote object lives, recorded when the object is first bound."""

    project_id: str = Field(max_length=MAX_ID, description="ModelArts project ID.")
    region: str = Field(max_length=MAX_ID, description="Huawei Cloud region.")
    endpoint: str = Field(max_length=MAX_PATH, description="ModelArts endpoint URL.")


class CommonStatus(CrdModel):
    """Status fields shared by every kind."""

    observed_generation: int | None = Field(
        default=None,
        ge=0,
        description=(
            "metadata.generation most recently acted on by the operator, whatever the outcome "
            "(applied, refused, waiting): compare it with metadata.generation before reading "
            "the conditions."
        ),
    )
    phase: str | None = Field(
        default=None,
        max_length=64,
        description=(
            "One word for humans and printer columns, e.g. Creating, Queued, Running, "
            "Completed, Ready, Failed, Deleting, WaitingForWorkspace."
        ),
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=16,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
        description="Synced, Ready and Failed conditions (reasons: see conditions[].reason).",
    )
    remote_name: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="Name of the ModelArts object (the spec's name or the computed default).",
    )
    location: Location | None = Field(
        default=None,
        description=(
            "Project, region and endpoint the remote object was bound in. When the namespace "
            "later points elsewhere the object is Synced=False, reason ProjectChanged, and "
            "nothing is changed remotely until the annotation "
            "modelarts.huaweicloud.com/accept-location names the new project ID."
        ),
    )
    remote_status: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description=(
            "Raw status reported by ModelArts, e.g. JOBSTAT_RUNNING, published, running, NORMAL."
        ),
    )
    remote_status_code: int | None = Field(
        default=None,
        description="Numeric form of remoteStatus where the API has one (training JOBSTAT code).",
    )
    error_message: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="Failure cause reported by ModelArts for a failed remote object.",
    )
    create_time: datetime | None = Field(
        default=None, description="When ModelArts created the remote object."
    )
    update_time: datetime | None = Field(
        default=None, description="When ModelArts last updated the remote object."
    )


@dataclass(frozen=True)
class KindInfo:
    """Everything the generator needs to know about one kind."""

    kind: str
    plural: str
    short_names: list[str]
    spec: type[BaseModel]
    status: type[BaseModel]
    printer_columns: list[dict[str, Any]]
    description: str

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"

    @property
    def filename(self) -> str:
        return f"{self.crd_name}.yaml"
