"""Workspace: a ModelArts workspace (``/v1/{project_id}/workspaces``)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ..vocab import workspace_quotas
from ..vocab import workspaces as vocab
from .common import (
    DELETION_POLICY_DESCRIPTION,
    MAX_ID,
    OWN_TEXT_256,
    CommonStatus,
    CrdModel,
    DeletionPolicy,
    KindInfo,
    cel,
    immutable,
    sdk_field,
    validations,
)

KIND = "Workspace"
PLURAL = "workspaces"
SHORT_NAMES = ["maws"]


class WorkspaceSpec(CrdModel):
    """Desired state of a ModelArts workspace (mirrors the create/modify workspace API)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            # The update body (UpdateWorkspaceReq) has no enterprise_project_id.
            immutable("enterpriseProjectId", unset="'0'"),
            # One quota per resource: two entries for one resource would be applied in turn.
            cel(
                "!has(self.quotas) || "
                "self.quotas.all(q, self.quotas.exists_one(p, p.resource == q.resource))",
                "quotas name each resource once",
                field_path=".quotas",
            ),
        )
    )

    name: str | None = sdk_field(
        vocab.CreateWorkspaceReq,
        "name",
        description=(
            "Workspace name in ModelArts (API field name): 4-64 letters, digits, Chinese "
            "characters, - or _; 'default' is reserved. Unset: a deterministic name derived "
            "from namespace and object name. May be changed (the workspace is renamed)."
        ),
    )
    description: str | None = Field(
        default=None,
        max_length=OWN_TEXT_256,
        description=(
            "Workspace description, 0-227 characters (the API's 256 less the operator's "
            "ownership marker, which follows it remotely)."
        ),
    )
    enterprise_project_id: str | None = sdk_field(
        vocab.CreateWorkspaceReq,
        "enterprise_project_id",
        description=(
            'Enterprise project the workspace is bound to; unset or "0" means the default '
            "enterprise project. Immutable (the modify API cannot change it)."
        ),
    )
    auth_type: vocab.CreateWorkspaceReqAuthType = Field(
        default="PUBLIC",
        description=(
            "Who may use the workspace (any case): PUBLIC (all users of the tenant, the "
            "default), PRIVATE (the creator and the primary account), INTERNAL (creator, "
            "primary account and the users in grants, which take effect only then)."
        ),
    )
    grants: list[vocab.CreateWorkspaceReqGrants] | None = sdk_field(
        vocab.CreateWorkspaceReq, "grants"
    )
    quotas: list[workspace_quotas.UpdateWorkspaceQuotasReqQuotas] | None = sdk_field(
        workspace_quotas.UpdateWorkspaceQuotasReq,
        "quotas",
        description=(
            "Workspace quotas to set (update_workspace_quotas): resource (e.g. "
            "trainJob.gpu_duration) and quota (-1: no limit). Each must lie within the "
            "quota's minimum and maximum, which status.quotas shows; ModelArts refuses "
            "others (Synced=False with its message). An entry removed leaves that quota as "
            "it is."
        ),
    )
    deletion_policy: DeletionPolicy = Field(
        default="Delete", description=DELETION_POLICY_DESCRIPTION
    )


class WorkspaceQuotaStatus(CrdModel):
    """One quota the spec sets, as ModelArts reports it (get_workspace_quotas)."""

    resource: str = Field(max_length=MAX_ID, description="Resource the quota is for.")
    quota: int | None = Field(default=None, description="The quota (-1: no limit).")
    used: int | None = Field(default=None, description="How much of it is used.")
    min: int | None = Field(default=None, description="The smallest quota ModelArts accepts.")
    max: int | None = Field(default=None, description="The largest quota ModelArts accepts.")
    unit: str | None = Field(default=None, max_length=32, description="Unit, e.g. minute.")


class WorkspaceStatus(CommonStatus):
    """Observed state of the ModelArts workspace."""

    workspace_id: str | None = Field(
        default=None, max_length=MAX_ID, description="ModelArts workspace ID (32 characters)."
    )
    owner: str | None = Field(
        default=None, max_length=MAX_ID, description="User name of the workspace creator."
    )
    enterprise_project_name: str | None = Field(
        default=None, max_length=MAX_ID, description="Name of the bound enterprise project."
    )
    auth_type: str | None = Field(
        default=None, max_length=16, description="Access type as stored by ModelArts."
    )
    quotas: list[WorkspaceQuotaStatus] | None = Field(
        default=None,
        max_length=8,
        description=(
            "The quotas spec.quotas names, as ModelArts reported them when they were last "
            "applied or checked (a reconcile: a spec change or the resync period)."
        ),
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Workspace-ID", "type": "string", "jsonPath": ".status.workspaceId"},
    {"name": "Remote-Name", "type": "string", "jsonPath": ".status.remoteName"},
    {"name": "Auth", "type": "string", "jsonPath": ".spec.authType"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=WorkspaceSpec,
    status=WorkspaceStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "Workspace is a ModelArts workspace: an isolated space for training jobs, models "
        "and services, with its own access control. Ready when the workspace is NORMAL."
    ),
)
