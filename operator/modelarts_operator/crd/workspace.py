"""Workspace: a ModelArts workspace (``/v1/{project_id}/workspaces``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

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
    validations,
)

KIND = "Workspace"
PLURAL = "workspaces"
SHORT_NAMES = ["maws"]

# 4-64 characters: letters, digits, Chinese characters, - and _ (the API's rule for names).
WORKSPACE_NAME_PATTERN = "^[A-Za-z0-9_\u4e00-\u9fa5-]{4,64}$"

AuthType = Literal["PUBLIC", "PRIVATE", "INTERNAL"]


class WorkspaceGrant(CrdModel):
    """An IAM user granted access to an INTERNAL workspace: give userId or userName."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.userId) || has(self.userName)",
                "a grant needs userId or userName",
            )
        )
    )

    user_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="IAM user ID. Wins over userName when both are set.",
    )
    user_name: str | None = Field(default=None, max_length=MAX_ID, description="IAM user name.")


class WorkspaceSpec(CrdModel):
    """Desired state of a ModelArts workspace (mirrors the create/modify workspace API)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!has(self.grants) || size(self.grants) == 0 || self.authType == 'INTERNAL'",
                "grants take effect only with authType INTERNAL",
                field_path=".grants",
            ),
            immutable("enterpriseProjectId", unset="'0'"),
        )
    )

    name: str | None = Field(
        default=None,
        min_length=4,
        max_length=64,
        pattern=WORKSPACE_NAME_PATTERN,
        json_schema_extra=validations(
            cel("self != 'default'", "the name 'default' is reserved by ModelArts")
        ),
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
    enterprise_project_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^(0|[0-9a-fA-F-]{1,64})$",
        description=(
            'Enterprise project the workspace is bound to; unset or "0" means the default '
            "enterprise project. Immutable (the modify API cannot change it)."
        ),
    )
    auth_type: AuthType = Field(
        default="PUBLIC",
        description=(
            "Who may use the workspace: PUBLIC (all users of the tenant), PRIVATE (the "
            "creator and the primary account), INTERNAL (creator, primary account and the "
            "users in grants)."
        ),
    )
    grants: list[WorkspaceGrant] | None = Field(
        default=None,
        max_length=100,
        description="IAM users allowed to use an INTERNAL workspace.",
    )
    deletion_policy: DeletionPolicy = Field(
        default="Delete", description=DELETION_POLICY_DESCRIPTION
    )


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
