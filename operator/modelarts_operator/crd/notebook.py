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
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from .common import (
    MAX_ID,
    MAX_ITEMS,
    MAX_PATH,
    OWN_TEXT_512,
    WORKSPACE_RULES,
    CommonStatus,
    CrdModel,
    KindInfo,
    WorkspaceScopedSpec,
    cel,
    validations,
)

KIND = "Notebook"
PLURAL = "notebooks"
SHORT_NAMES = ["manb"]

# Letters, digits, Chinese characters, - and _, up to 128 (the API's rule; names may repeat).
NOTEBOOK_NAME_PATTERN = "^[A-Za-z0-9_\u4e00-\u9fa5-]{1,128}$"
LEASE_MIN_MINUTES, LEASE_MAX_MINUTES = 60, 4320  # the API's 1 h .. 72 h

VolumeCategory = Literal["EVS", "OBS", "OBSFS", "EFS"]
LeaseType = Literal["TIMING", "IDLE"]


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


class NotebookCustomSpec(CrdModel):
    """Compute on a dedicated pool instead of a flavor."""

    cpu: float = Field(ge=0.4, le=1024, description="CPU cores (at least 0.4).")
    memory: int = Field(ge=513, le=4_194_304, description="Memory in MiB (at least 513).")
    gpu: float | None = Field(default=None, ge=0, le=64, description="GPUs.")
    gpu_type: str | None = Field(default=None, max_length=MAX_ID, description="GPU type.")
    arch: Literal["X86_64", "AARCH64"] | None = Field(default=None, description="CPU arch.")
    category: Literal["CPU", "GPU"] | None = Field(default=None, description="Resource kind.")


class NotebookVolume(CrdModel):
    """The notebook's storage, mounted under /home/ma-user/work. Only an EVS volume's capacity
    may change (grow) after creation."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.category != 'EVS' || self.ownership == 'MANAGED'",
                "an EVS volume is MANAGED",
                field_path=".ownership",
            ),
            cel(
                "self.ownership != 'DEDICATED' || has(self.uri)",
                "a DEDICATED volume needs uri",
                field_path=".uri",
            ),
            cel(
                "!(self.category == 'EFS' && self.ownership == 'DEDICATED') || has(self.id)",
                "a DEDICATED EFS volume needs id (the SFS Turbo file system ID)",
                field_path=".id",
            ),
            cel(
                "!(self.category in ['OBS', 'OBSFS']) || "
                "(has(self.uri) && self.uri.startsWith('obs://'))",
                "an OBS or OBSFS volume needs uri obs://bucket/dir/",
                field_path=".uri",
            ),
            cel(
                "self.category != 'OBS' || has(self.dewSecretName)",
                "an OBS volume needs dewSecretName (the DEW secret with its access keys)",
                field_path=".dewSecretName",
            ),
            cel(
                "!has(self.capacity) || self.category == 'EVS'",
                "capacity applies to EVS volumes only",
                field_path=".capacity",
            ),
            cel(
                "self.category == oldSelf.category && self.ownership == oldSelf.ownership && "
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

    category: VolumeCategory = Field(
        default="EVS",
        description=(
            "EVS (a disk, default), OBS or OBSFS (an OBS bucket directory), EFS (an SFS Turbo "
            "file system)."
        ),
    )
    ownership: Literal["MANAGED", "DEDICATED"] = Field(
        default="MANAGED",
        description="MANAGED (ModelArts provides it) or DEDICATED (yours: EFS, OBS, OBSFS).",
    )
    capacity: int | None = Field(
        default=None,
        ge=5,
        le=4096,
        description="EVS size in GB, 5-4096 (default 5); may grow, never shrink.",
    )
    uri: str | None = Field(
        default=None,
        max_length=MAX_PATH,
        description="obs://bucket/dir/ for OBS/OBSFS, the share path for a DEDICATED EFS.",
    )
    id: str | None = Field(default=None, max_length=MAX_ID, description="EFS file system ID.")
    mount_path: str | None = Field(
        default=None,
        max_length=256,
        pattern=r"^/home/ma-user/work(/.*)?$",
        description="Where it is mounted (under /home/ma-user/work; default that directory).",
    )
    read_only: bool | None = Field(default=None, description="Mount read-only.")
    dew_secret_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="DEW secret holding the OBS access keys (OBS volumes).",
    )


class NotebookLease(CrdModel):
    """Auto-stop: the notebook stops by itself when the lease ends."""

    type: LeaseType = Field(
        default="TIMING",
        description="TIMING (stop after the duration) or IDLE (after the duration unused).",
    )
    duration_minutes: int = Field(
        default=LEASE_MIN_MINUTES,
        ge=LEASE_MIN_MINUTES,
        le=LEASE_MAX_MINUTES,
        description=(
            "Lease length in minutes, 60-4320 (1 h-72 h). Changed on a running notebook, the "
            "lease is renewed from now."
        ),
    )


class NotebookSsh(CrdModel):
    """Remote SSH access to the notebook (only changeable while it is stopped)."""

    key_pair_names: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="ECS key pairs allowed to log in.",
    )
    allowed_access_ips: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None,
        max_length=5,
        description="Source addresses allowed to connect (up to 5); unset: any.",
    )


class NotebookSpec(WorkspaceScopedSpec):
    """Desired state of a ModelArts notebook."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.flavor) != has(self.customSpec)",
                "give exactly one of flavor and customSpec",
                field_path=".flavor",
            ),
            cel(
                "!has(self.customSpec) || has(self.poolId)",
                "customSpec needs poolId (a dedicated pool)",
                field_path=".poolId",
            ),
            *WORKSPACE_RULES,
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
    custom_spec: NotebookCustomSpec | None = Field(
        default=None, description="Compute on a dedicated pool instead of a flavor."
    )
    pool_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Dedicated resource pool ID; unset: the public pool. Immutable remotely.",
    )
    volume: NotebookVolume = Field(
        default_factory=NotebookVolume,
        description="Storage (default: a 5 GB EVS disk).",
    )
    lease: NotebookLease | None = Field(
        default=None, description="Auto-stop lease; unset: the API's default (TIMING, 1 h)."
    )
    ssh: NotebookSsh | None = Field(default=None, description="SSH access.")
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
        "spec.stopped stops it; a lease that ends leaves it Stopped (reason LeaseExpired)."
    ),
)
