"""ResourcePool: a dedicated ModelArts resource pool (``/v2/{project_id}/pools``): nodes of
given flavors that training jobs (v2), services (v2) and notebooks run on (their ``poolRef``).

The spec is the SDK's create body (``vocab.pools``, generated) with its envelope flattened: the
body's ``spec`` fields (type, scope, resources, network, jobFlavors, driver) sit at the top;
the ``os.modelarts/name``, ``workspace.id`` and ``node.prefix`` labels are ``name`` (required:
the API's name rule admits none of the operator's derived names), ``workspaceId``/
``workspaceRef`` and ``nodePrefix``; the description annotation is ``description`` and the
billing annotations are ``billing``. ``networkRef`` names a Network object instead of
``network.name``. The update body (PoolUpdateRequest) changes the description, the order ID,
scope, node counts per flavor (a scale), job flavors and drivers; the rest is immutable.

A pool is billed while it exists, so ``deletionPolicy`` defaults to Retain here: deleting the
Kubernetes object (a namespace cleanup, an Argo CD prune) leaves the pool and its nodes in
ModelArts unless the spec says Delete.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from ..vocab import pools as vocab
from .common import (
    MAX_ID,
    OWNER_MARKER_ROOM,
    WORKSPACE_RULES,
    CommonStatus,
    CrdModel,
    DeletionPolicy,
    KindInfo,
    LocalObjectReference,
    WorkspaceScopedSpec,
    cel,
    sdk_field,
    validations,
)

KIND = "ResourcePool"
PLURAL = "resourcepools"
SHORT_NAMES = ["mapool"]

DESCRIPTION_LIMIT = 512  # the generated model's budget for the description annotation
ANNOTATIONS = vocab.PoolAnnotationsCreation


class PoolBilling(CrdModel):
    """How the pool is billed (the create body's billing annotations)."""

    billing_mode: vocab.PoolAnnotationsCreationOsModelartsBillingMode | None = sdk_field(
        ANNOTATIONS, "os_modelarts_billing_mode"
    )
    period_num: str | None = sdk_field(ANNOTATIONS, "os_modelarts_period_num")
    period_type: vocab.PoolAnnotationsCreationOsModelartsPeriodType | None = sdk_field(
        ANNOTATIONS, "os_modelarts_period_type"
    )
    auto_renew: vocab.PoolAnnotationsCreationOsModelartsAutoRenew | None = sdk_field(
        ANNOTATIONS, "os_modelarts_auto_renew"
    )
    auto_pay: vocab.PoolAnnotationsCreationOsModelartsAutoPay | None = sdk_field(
        ANNOTATIONS, "os_modelarts_auto_pay"
    )
    promotion_info: str | None = sdk_field(ANNOTATIONS, "os_modelarts_promotion_info")
    service_console_url: str | None = sdk_field(ANNOTATIONS, "os_modelarts_service_console_url")
    order_id: str | None = sdk_field(ANNOTATIONS, "os_modelarts_order_id")


class PoolResource(vocab.PoolResourceFlavor):
    """A flavor's nodes: what the create body takes, and the update body's spread of the
    nodes over availability zones (sent with a scale)."""

    azs: list[vocab.PoolNodeAz] | None = sdk_field(vocab.PoolSpecUpdateResources, "azs")


class ResourcePoolSpec(WorkspaceScopedSpec, vocab.PoolSpecCreation):
    """Desired state of a dedicated resource pool (the create/patch pool bodies)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *WORKSPACE_RULES,
            cel("self.name == oldSelf.name", "name is immutable", field_path=".name"),
            # PoolUpdateRequest has no type, network or node prefix.
            cel("self.type == oldSelf.type", "type is immutable", field_path=".type"),
            cel(
                "has(self.network) == has(oldSelf.network) && "
                "(!has(self.network) || self.network == oldSelf.network) && "
                "has(self.networkRef) == has(oldSelf.networkRef) && "
                "(!has(self.networkRef) || self.networkRef == oldSelf.networkRef)",
                "the network is immutable",
                field_path=".network",
            ),
            # The update body has no billing mode or period (only the order ID of a change
            # made in the billing center): billing is set at creation.
            cel(
                "has(self.billing) == has(oldSelf.billing) && "
                "(!has(self.billing) || self.billing == oldSelf.billing)",
                "billing is set at creation (change it in the billing center)",
                field_path=".billing",
            ),
            # PoolUpdateRequest has no node name prefix.
            cel(
                "has(self.nodePrefix) == has(oldSelf.nodePrefix) && "
                "(!has(self.nodePrefix) || self.nodePrefix == oldSelf.nodePrefix)",
                "nodePrefix is immutable",
                field_path=".nodePrefix",
            ),
            cel(
                "!(has(self.network) && has(self.networkRef))",
                "networkRef fills network.name in: give one of them",
                field_path=".networkRef",
            ),
        )
    )

    # SDK PoolLabelsCreation.os.modelarts/name (the generated model's bounds; required here).
    name: str = Field(
        min_length=4,
        max_length=32,
        pattern="^[a-z]([a-z0-9-]*[a-z0-9])?$",
        description=(
            "Pool name in ModelArts (label os.modelarts/name): a lowercase letter first, "
            "lowercase letters, digits and hyphens, no hyphen last, 4-32 characters. Required "
            "and immutable."
        ),
    )
    node_prefix: str | None = sdk_field(vocab.PoolLabelsCreation, "os_modelarts_node_prefix")
    description: str | None = Field(
        default=None,
        max_length=DESCRIPTION_LIMIT - OWNER_MARKER_ROOM,
        description="Pool description (annotation os.modelarts/description).",
    )
    billing: PoolBilling | None = Field(
        default=None, description="How the pool is billed (default pay-per-use)."
    )
    # The generated field, its items with azs (pydantic overrides the field; lists are
    # invariant for mypy).
    resources: list[PoolResource] = Field(  # type: ignore[assignment]
        max_length=8,
        description=(
            "Resource flavors of the pool and the number of nodes of each: a changed count "
            "scales the pool."
        ),
    )
    network_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "The operator's: a Network object in the same namespace whose ID is network.name; "
            "the pool waits until it is ready."
        ),
    )
    deletion_policy: DeletionPolicy = Field(
        default="Retain",
        description=(
            "What happens to the pool when this object is deleted: Retain (the default: a "
            "pool is billed while it exists, and deleting it removes its nodes, so it is "
            "not deleted unless asked) leaves it in ModelArts; Delete deletes it."
        ),
    )


class FlavorNodes(CrdModel):
    """Nodes of one flavor by state."""

    flavor: str = Field(max_length=MAX_ID, description="Resource flavor.")
    available: int | None = Field(default=None, description="Nodes ready for work.")
    creating: int | None = Field(default=None, description="Nodes being created.")
    abnormal: int | None = Field(default=None, description="Nodes in trouble.")
    deleting: int | None = Field(default=None, description="Nodes being removed.")


class ResourcePoolStatus(CommonStatus):
    """Observed state of the resource pool."""

    pool_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="ModelArts pool ID (metadata.name remotely: <name>-<project ID>).",
    )
    nodes: list[FlavorNodes] | None = Field(
        default=None, max_length=16, description="Node counts per flavor and state."
    )
    # Item length: the operator's status budget (the status writer cuts a longer text).
    scope: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=8, description="Job types the pool serves now."
    )
    message: str | None = Field(
        default=None, max_length=1024, description="ModelArts' message on the pool's state."
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Pool-ID", "type": "string", "jsonPath": ".status.poolId"},
    {"name": "Type", "type": "string", "jsonPath": ".spec.type"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=ResourcePoolSpec,
    status=ResourcePoolStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "ResourcePool is a dedicated ModelArts resource pool: nodes of given flavors for "
        "training jobs, services and notebooks (their poolRef). Ready when Running; "
        "spec.resources[].count scales it. deletionPolicy defaults to Retain: a pool is "
        "billed, and deleting this object leaves it unless the spec says Delete."
    ),
)
