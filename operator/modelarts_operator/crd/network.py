"""Network: the network dedicated resource pools run in (``/v1/{project_id}/networks``).

The spec is the SDK's create body (``vocab.networks``, generated) with its envelope flattened:
the ``os.modelarts/name`` label is ``name`` (required: the API's name rule, a lowercase
letter first and 4-32 lowercase letters, digits and hyphens, admits none of the operator's
derived names), the ``os.modelarts/workspace.id`` label ``workspaceId``/``workspaceRef``, the
``os.modelarts/description`` annotation ``description``; ``cidr`` and ``connection`` keep their
names. The update body (NetworkUpdateRequest) has the description and the connections only:
the rest is immutable.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ..vocab import networks as vocab
from .common import (
    MAX_ID,
    OWNER_MARKER_ROOM,
    WORKSPACE_RULES,
    CommonStatus,
    CrdModel,
    KindInfo,
    WorkspaceScopedSpec,
    cel,
    sdk_field,
    validations,
)

KIND = "Network"
PLURAL = "networks"
SHORT_NAMES = ["manet"]

# The description's budget in the generated model (vocab.networks), less the ownership marker.
DESCRIPTION_LIMIT = 512


class NetworkSpec(WorkspaceScopedSpec):
    """Desired state of a ModelArts network (the create/patch network bodies)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *WORKSPACE_RULES,
            # NetworkUpdateRequest has metadata.annotations and spec.connection only.
            cel("self.name == oldSelf.name", "name is immutable", field_path=".name"),
            cel("self.cidr == oldSelf.cidr", "cidr is immutable", field_path=".cidr"),
        )
    )

    # SDK NetworkMetadataLabels.os.modelarts/name: "只能以小写字母开头，数字、中划线组成，不能以
    # 中划线结尾，且长度为4-32" (the generated model's bounds, repeated: required here).
    name: str = Field(
        min_length=4,
        max_length=32,
        pattern="^[a-z]([a-z0-9-]*[a-z0-9])?$",
        description=(
            "Network name in ModelArts (label os.modelarts/name): a lowercase letter first, "
            "lowercase letters, digits and hyphens, no hyphen last, 4-32 characters. Required "
            "and immutable."
        ),
    )
    description: str | None = Field(
        default=None,
        max_length=DESCRIPTION_LIMIT - OWNER_MARKER_ROOM,
        # SDK NetworkMetadataAnnotations.os.modelarts/description: "不能包含字符!<>=&\"'"
        pattern="^[^!<>=&\"']*$",
        description="Network description (annotation os.modelarts/description); none of !<>=&\"'.",
    )
    # Required (SDK NetworkSpec.cidr is required); its bounds are the generated model's.
    cidr: str = Field(
        max_length=128, description=str(vocab.NetworkSpec.model_fields["cidr"].description)
    )
    connection: vocab.NetworkConnection | None = sdk_field(vocab.NetworkSpec, "connection")


class PeerConnectionStatus(CrdModel):
    """A peering connection and its phase (status.connectionStatus remotely)."""

    peer_vpc_id: str | None = Field(default=None, max_length=MAX_ID, description="Peer VPC ID.")
    peer_subnet_id: str | None = Field(
        default=None, max_length=MAX_ID, description="Peer subnet ID."
    )
    phase: str | None = Field(
        default=None, max_length=32, description="Connecting, Active or Abnormal."
    )


class NetworkStatus(CommonStatus):
    """Observed state of the ModelArts network."""

    network_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="ModelArts network ID (metadata.name remotely: <name>-<project ID>).",
    )
    cidr: str | None = Field(default=None, max_length=64, description="The network's CIDR.")
    peer_connections: list[PeerConnectionStatus] | None = Field(
        default=None,
        max_length=8,
        description="Each peering connection (peerVpcId, peerSubnetId) and its phase.",
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Network-ID", "type": "string", "jsonPath": ".status.networkId"},
    {"name": "CIDR", "type": "string", "jsonPath": ".spec.cidr"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=NetworkSpec,
    status=NetworkStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "Network is the ModelArts network dedicated resource pools run in: a CIDR block and "
        "VPC peering connections. Ready when Active; the description and the connections "
        "change in place, the name and the CIDR are immutable."
    ),
)
