"""Algorithm: a ModelArts algorithm (``/v2/{project_id}/algorithms``), a team's reusable
training recipe (code and boot file or command, engine or image, parameters with their
constraints, inputs, outputs, resource requirements, hyperparameter search) that v2 training
jobs start from by ID (``TrainingJob.spec.algorithm.algorithmRef``).

The spec is the SDK's ``Algorithm`` body (``vocab.algorithms``, generated) with its envelope
flattened: ``metadata.name``/``description``/``workspace_id`` are the spec's ``name``,
``description`` and ``workspaceId``/``workspaceRef``; ``jobConfig``, ``resourceRequirements``
and ``advancedConfig`` keep their names. Every change but the name goes to the cloud with
``change_algorithm`` (one body, the whole configuration).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ..vocab import algorithms as vocab
from .common import (
    MAX_ID,
    OWNER_MARKER_ROOM,
    WORKSPACE_RULES,
    CommonStatus,
    KindInfo,
    WorkspaceScopedSpec,
    immutable,
    sdk_field,
    validations,
)

KIND = "Algorithm"
PLURAL = "algorithms"
SHORT_NAMES = ["maalgo"]

# SDK AlgorithmMetadata.description: "字符串的长度限制为[0, 256]", less the operator's
# ownership marker, which follows it remotely.
DESCRIPTION_LIMIT = 256


class AlgorithmSpec(WorkspaceScopedSpec):
    """Desired state of a ModelArts algorithm (the create/change algorithm body)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *WORKSPACE_RULES,
            # Terraform huaweicloud_modelarts_algorithm: metadata.name is not updatable
            # (ForceNew); the emulator follows it.
            immutable("name"),
        )
    )

    name: str | None = sdk_field(
        vocab.AlgorithmMetadata,
        "name",
        description=(
            "Algorithm name in ModelArts: 1-64 letters, digits, _ or - (SDK). Unset: a "
            "deterministic name derived from namespace and object name. Immutable."
        ),
    )
    description: str | None = Field(
        default=None,
        max_length=DESCRIPTION_LIMIT - OWNER_MARKER_ROOM,
        description=(
            f"Algorithm description, 0-{DESCRIPTION_LIMIT - OWNER_MARKER_ROOM} characters (the "
            f"API's {DESCRIPTION_LIMIT} less the operator's ownership marker)."
        ),
    )
    job_config: vocab.AlgorithmJobConfig | None = sdk_field(vocab.Algorithm, "job_config")
    resource_requirements: list[vocab.ResourceRequirement] | None = sdk_field(
        vocab.Algorithm, "resource_requirements"
    )
    advanced_config: vocab.AlgorithmAdvancedConfig | None = sdk_field(
        vocab.Algorithm, "advanced_config"
    )


class AlgorithmStatus(CommonStatus):
    """Observed state of the ModelArts algorithm."""

    algorithm_id: str | None = Field(
        default=None, max_length=MAX_ID, description="ModelArts algorithm ID (a UUID)."
    )
    workspace_id: str | None = Field(
        default=None, max_length=MAX_ID, description="Workspace the algorithm is in."
    )
    engine: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="The engine as ModelArts resolved it (name and version), or the image.",
    )
    valid: bool | None = Field(
        default=None, description="Whether ModelArts reports the algorithm valid (is_valid)."
    )
    algorithm_spec_hash: str | None = Field(
        default=None,
        max_length=64,
        description="Digest of the configuration last sent (create or change_algorithm).",
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Algorithm-ID", "type": "string", "jsonPath": ".status.algorithmId"},
    {"name": "Remote-Name", "type": "string", "jsonPath": ".status.remoteName"},
    {"name": "Engine", "type": "string", "jsonPath": ".status.engine"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=AlgorithmSpec,
    status=AlgorithmStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "Algorithm is a ModelArts algorithm: a reusable training recipe (code, engine or "
        "image, parameters, inputs and outputs) that v2 TrainingJobs start from "
        "(spec.algorithm.algorithmRef). Ready once it exists; a spec change is applied with "
        "change_algorithm. Jobs already created keep the configuration they started with."
    ),
)
