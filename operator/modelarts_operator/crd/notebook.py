"""Notebook: a ModelArts development environment (``/v1/{project_id}/notebooks``).

The remote notebook is created from an image (by ID, or by name and tag through the images
API), on a flavor or a custom spec, with one volume, an auto-stop lease and optional SSH
access. ``stopped`` stops and starts it. Name, description and the EVS volume size change at
any time; image, flavor, custom spec and SSH only while it is stopped (the API refuses them
otherwise), so a change of those on a running notebook is reported as Synced=False
(StopRequired) until ``stopped: true``.

A lease that ends stops the notebook remotely; the operator shows that (Stopped, reason
LeaseExpired) and leaves it stopped: a person's notebook should not run again because a
controller resynced. Any applied change of the spec starts it again, e.g. a new
``restartToken``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from ..vocab import notebooks as vocab
from .common import (
    MAX_ID,
    MAX_PATH,
    OWN_TEXT_512,
    WORKSPACE_RULES,
    CommonStatus,
    CrdModel,
    KindInfo,
    LocalObjectReference,
    WorkspaceScopedSpec,
    cel,
    rules_of,
    sdk_field,
    tags_field,
    validations,
)

KIND = "Notebook"
PLURAL = "notebooks"
SHORT_NAMES = ["manb"]

# Letters, digits, Chinese characters, - and _, up to 128 (the API's rule; names may repeat).
NOTEBOOK_NAME_PATTERN = "^[A-Za-z0-9_\u4e00-\u9fa5-]{1,128}$"
LEASE_MIN_MINUTES, LEASE_MAX_MINUTES = 60, 4320  # the API's 1 h .. 72 h


class NotebookImageRef(CrdModel):
    """The image to run: its ID, or its name (and tag) as the images API lists it."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("has(self.id) != has(self.name)", "give exactly one of image.id and image.name"),
            cel("!has(self.tag) || has(self.name)", "image.tag goes with image.name"),
        )
    )

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Image ID (a UUID from GET /v1/{project_id}/images).",
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description=(
            "Image name, e.g. notebook2.0-mul-kernel-cpu-cp36; resolved to an ID through the "
            "images API (Synced=False, reason ImageNotFound, when there is none)."
        ),
    )
    tag: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Image tag, e.g. 3.3.2-release-v1; unset: the first image of that name.",
    )


class NotebookVolume(vocab.VolumeMountRequest):
    """The notebook's storage (the API's VolumeMountRequest). After creation only an EVS
    volume's capacity changes, and only grows: the update API takes the new EVS size alone
    (storage_new_size, "只允许扩容，不允许缩容": it may only grow)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *rules_of(vocab.VolumeMountRequest),
            cel(
                "self.category.upperAscii() == oldSelf.category.upperAscii() && "
                "self.ownership.upperAscii() == oldSelf.ownership.upperAscii() && "
                "(has(self.uri) ? self.uri : '') == (has(oldSelf.uri) ? oldSelf.uri : '') && "
                "(has(self.id) ? self.id : '') == (has(oldSelf.id) ? oldSelf.id : '') && "
                "(has(self.mountPath) ? self.mountPath : '') == "
                "(has(oldSelf.mountPath) ? oldSelf.mountPath : '')",
                "the volume cannot be changed after creation, except an EVS volume's capacity",
                reason="FieldValueForbidden",
            ),
            cel(
                "(has(self.capacity) ? self.capacity : 5) >= "
                "(has(oldSelf.capacity) ? oldSelf.capacity : 5)",
                "an EVS volume can only grow",
                field_path=".capacity",
                reason="FieldValueForbidden",
            ),
        )
    )

    category: vocab.VolumeMountRequestCategory = Field(
        default="EVS",
        description=(
            "Storage type: EVS (cloud disk, the default here), OBS (Object Storage Service), "
            "OBSFS (parallel file system, PFS) or EFS (SFS Turbo); any case."
        ),
    )
    ownership: vocab.VolumeMountRequestOwnership = Field(
        default="MANAGED",
        description=(
            "Who owns the resource: MANAGED (hosted by the service, the default here) or "
            "DEDICATED (in your account); any case."
        ),
    )


class NotebookLease(CrdModel):
    """Auto-stop: the notebook stops by itself when the lease ends."""

    type: vocab.LeaseReqType = Field(
        default="TIMING",
        description="TIMING (stop after the duration) or IDLE (after the duration unused).",
    )
    duration_minutes: int = Field(
        default=LEASE_MIN_MINUTES,
        ge=LEASE_MIN_MINUTES,
        le=LEASE_MAX_MINUTES,
        description=(
            "Lease length in minutes, 60-4320 (1 h-72 h; the API's lease.duration is in ms, "
            "3600000-259200000). Changed on a running notebook, the lease is renewed from now."
        ),
    )


class NotebookSsh(CrdModel):
    """Remote SSH access to the notebook: the API's endpoint of service SSH (only changeable
    while it is stopped)."""

    key_pair_names: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1,
        max_length=8,
        description="ECS key pairs allowed to log in (created on the ECS console's Key Pair page).",
    )
    allowed_access_ips: list[Annotated[str, Field(max_length=64)]] | None = sdk_field(
        vocab.EndpointsReq, "allowed_access_ips"
    )


# Fields a notebook takes at creation only: the first three are not in the API's update body
# (SDK NotebookUpdateRequest); the operator does not (yet) send the rest after creation.
CREATE_ONLY = {
    "feature": "the API does not change it",
    "runUser": "the API does not change it",
    "userVpc": "the API does not change it",
    "hooks": "the operator does not change it later; recreate the notebook",
    "affinity": "the operator does not change it later; recreate the notebook",
    "dataVolumes": "the operator does not change it later; recreate the notebook",
    "publicNetworkConfig": "the operator does not change it later; recreate the notebook",
    "poolRef": "the API does not move a notebook to another pool",
}


class NotebookSpec(WorkspaceScopedSpec):
    """Desired state of a ModelArts notebook."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            # The API reference (OTC, CreateNotebook): flavor "Mandatory: Yes"; the SDK's
            # custom_spec is the dedicated pools' alternative ("CPU/GPU专属池场景下自定义规格").
            cel(
                "has(self.flavor) || has(self.customSpec)",
                "give flavor or customSpec",
                field_path=".flavor",
            ),
            # SDK NotebookCustomSpec: its fields are "CPU/GPU专属池场景下自定义规格必填"
            # (required for a custom specification on CPU/GPU dedicated pools).
            cel(
                "!has(self.customSpec) || has(self.poolId) || has(self.poolRef)",
                "customSpec needs poolId or poolRef (a dedicated pool)",
                field_path=".poolId",
            ),
            cel(
                "!has(self.poolRef) || !has(self.poolId)",
                "poolRef fills poolId in: give one of them",
                field_path=".poolRef",
            ),
            *WORKSPACE_RULES,
            *(
                cel(
                    f"has(self.{field}) == has(oldSelf.{field}) && "
                    f"(!has(self.{field}) || self.{field} == oldSelf.{field})",
                    f"{field} is set at creation: {why}",
                    field_path=f".{field}",
                )
                for field, why in CREATE_ONLY.items()
            ),
        )
    )

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=NOTEBOOK_NAME_PATTERN,
        description=(
            "Notebook name in ModelArts: 1-128 letters, digits, Chinese characters, - or _. "
            "Unset: derived from namespace and object name. May be changed (renamed). Names "
            "may repeat remotely: the operator marks its notebook with a tag."
        ),
    )
    description: str | None = Field(
        default=None,
        max_length=OWN_TEXT_512,  # the API's 512, less room for the ownership marker
        pattern=r"^[^<>]*$",
        description=(
            f"Description, up to {OWN_TEXT_512} characters (the API's 512 less the operator's "
            "ownership marker, which follows it remotely), no < or >."
        ),
    )
    image: NotebookImageRef = Field(description="Image to run. Changeable only while stopped.")
    flavor: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Flavor, e.g. modelarts.vm.cpu.2u. Changeable only while stopped.",
    )
    custom_spec: vocab.NotebookCustomSpec | None = sdk_field(
        vocab.NotebookCreateRequest,
        "custom_spec",
        description="Compute on a dedicated pool instead of a flavor; changed only while stopped.",
    )
    pool_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Dedicated resource pool ID; unset: the public pool. Immutable remotely.",
    )
    pool_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "The operator's: a ResourcePool object in the same namespace whose ID "
            "(status.poolId) the notebook runs on; it waits until the pool is running. Set at "
            "creation."
        ),
    )
    volume: NotebookVolume = Field(
        default_factory=NotebookVolume,
        description="Storage (default: a 5 GB EVS disk).",
    )
    lease: NotebookLease | None = Field(
        default=None, description="Auto-stop lease; unset: the API's default (TIMING, 1 h)."
    )
    ssh: NotebookSsh | None = Field(
        default=None, description="SSH access (the API's endpoints of service SSH)."
    )
    feature: vocab.NotebookCreateRequestFeature | None = sdk_field(
        vocab.NotebookCreateRequest, "feature"
    )
    hooks: vocab.CustomHooks | None = sdk_field(vocab.NotebookCreateRequest, "hooks")
    affinity: vocab.AffinityType | None = sdk_field(vocab.NotebookCreateRequest, "affinity")
    run_user: vocab.RunUserRequest | None = sdk_field(vocab.NotebookCreateRequest, "run_user")
    data_volumes: list[vocab.VolumeMountRequest] | None = sdk_field(
        vocab.NotebookCreateRequest, "data_volumes"
    )
    user_vpc: vocab.UserVpcRequest | None = sdk_field(vocab.NotebookCreateRequest, "user_vpc")
    public_network_config: vocab.PublicNetworkConfig | None = sdk_field(
        vocab.NotebookCreateRequest, "public_network_config"
    )
    tags: list[vocab.TmsTag] | None = tags_field()
    stopped: bool = Field(
        default=False,
        description=(
            "true stops the notebook; false starts it (with a new lease). A notebook its lease "
            "stopped stays stopped until the spec changes (see restartToken)."
        ),
    )
    restart_token: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description=(
            "Any new value starts a notebook that stopped by itself (its lease ended), e.g. "
            "the date: an applied spec change is what starts it again."
        ),
    )


class NotebookStatus(CommonStatus):
    """Observed state of the ModelArts notebook."""

    notebook_id: str | None = Field(default=None, max_length=MAX_ID, description="Notebook ID.")
    url: str | None = Field(
        default=None, max_length=MAX_PATH, description="JupyterLab address (while running)."
    )
    ssh_uri: str | None = Field(
        default=None, max_length=MAX_PATH, description="SSH endpoint (spec.ssh)."
    )
    image_id: str | None = Field(default=None, max_length=MAX_ID, description="Image ID run.")
    image_name: str | None = Field(default=None, max_length=512, description="Image name.")
    image_tag: str | None = Field(default=None, max_length=MAX_ID, description="Image tag.")
    flavor: str | None = Field(default=None, max_length=MAX_ID, description="Flavor it runs on.")
    lease_type: str | None = Field(default=None, max_length=16, description="TIMING or IDLE.")
    lease_ends_at: datetime | None = Field(
        default=None, description="When the lease stops the notebook (auto-stop on)."
    )
    volume_capacity: int | None = Field(default=None, description="Volume size in GB (EVS).")
    volume_status: str | None = Field(
        default=None, max_length=32, description="Volume state, e.g. MOUNTED or RESIZING."
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "URL", "type": "string", "jsonPath": ".status.url"},
    {"name": "Notebook-ID", "type": "string", "jsonPath": ".status.notebookId", "priority": 1},
    {"name": "Lease-Ends", "type": "date", "jsonPath": ".status.leaseEndsAt", "priority": 1},
    {"name": "Stopped", "type": "boolean", "jsonPath": ".spec.stopped", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=NotebookSpec,
    status=NotebookStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "Notebook is a ModelArts development environment (JupyterLab, optionally SSH) from "
        "an image, on a flavor, with a volume and an auto-stop lease. Ready when RUNNING; "
        "spec.stopped stops it; a lease that ends leaves it Stopped (reason LeaseExpired). "
        "feature, runUser, userVpc, hooks, affinity, dataVolumes and publicNetworkConfig are "
        "set at creation (admission refuses a change)."
    ),
)
