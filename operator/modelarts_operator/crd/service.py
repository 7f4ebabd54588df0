"""Service: a real-time, batch or edge inference service (``/v1/{project_id}/services``).

``config``, ``description``, ``schedule`` and ``additionalProperties`` are updated in place
(PUT); ``stopped`` starts and stops the service; the rest is fixed at deployment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from ..vocab import services as vocab
from .common import (
    FREE_FORM,
    K8S_NAME_PATTERN,
    MAX_ID,
    MAX_PATH,
    OWN_TEXT_100,
    WORKSPACE_RULES,
    CommonStatus,
    CrdModel,
    KindInfo,
    LocalObjectReference,
    WorkspaceScopedSpec,
    cel,
    immutable,
    immutable_once_set,
    tags_field,
    validations,
)
from .service_v2 import ServiceV2Form

KIND = "Service"
PLURAL = "services"
SHORT_NAMES = ["masvc"]

# 1-64 letters, Chinese characters, digits, - and _.
SERVICE_NAME_PATTERN = "^[A-Za-z0-9_\u4e00-\u9fa5-]{1,64}$"

InferType = Literal["real-time", "batch", "edge"]


class CustomSpec(CrdModel):
    """Resources of a custom specification (specification: custom, dedicated pools)."""

    cpu: float | None = Field(default=None, ge=0, description="CPU cores, e.g. 1.5.")
    memory: int | None = Field(default=None, ge=0, description="Memory in MB.")
    gpu_p4: float | None = Field(default=None, ge=0, description="Number of P4 GPUs.")
    ascend_a310: int | None = Field(default=None, ge=0, description="Number of Ascend 310 chips.")


class ServiceModelConfig(CrdModel):
    """One model deployed by the service; which fields apply depends on inferType."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.modelRef) != has(self.modelId)",
                "exactly one of modelRef or modelId is required",
                field_path=".modelRef",
            ),
            cel(
                "!has(self.mappingType) || self.mappingType != 'csv' || has(self.mappingRule)",
                "mappingRule is required when mappingType is csv",
                field_path=".mappingRule",
                reason="FieldValueRequired",
            ),
        )
    )

    model_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "Model object in the same namespace; its model ID is used once it is published. "
            "Exclusive with modelId."
        ),
    )
    model_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="ID of an existing ModelArts model. Exclusive with modelRef.",
    )
    weight: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Traffic weight in percent (real-time only, required there; sum 100).",
    )
    specification: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description=(
            "Resource flavor, e.g. modelarts.vm.cpu.2u, modelarts.vm.gpu.p4, "
            "modelarts.vm.gpu.t4, modelarts.vm.ai1.a310, modelarts.vm.cpu.free, or custom "
            "(with customSpec). Batch and edge: modelarts.vm.cpu.2u or modelarts.vm.gpu.p4."
        ),
    )
    custom_spec: CustomSpec | None = Field(
        default=None, description="Resources when specification is custom."
    )
    instance_count: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="Number of instances (real-time and batch; required there; > 0).",
    )
    # Operator size budget (the reference states no bounds): 16 variables, keys of at most
    # 64 and values of at most 256 characters.
    envs: dict[str, Annotated[str, Field(max_length=256)]] | None = Field(
        default=None,
        max_length=16,
        json_schema_extra=validations(
            cel("self.all(k, size(k) <= 64)", "envs keys are at most 64 characters")
        ),
        description="Environment variables of the model's containers.",
    )
    cluster_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="Dedicated resource pool for this model (real-time); wins over the service's.",
    )
    src_type: Literal["ManifestFile"] | None = Field(
        default=None,
        description="Batch: ManifestFile when srcPath is a manifest file; unset reads files.",
    )
    src_path: str | None = Field(
        default=None, max_length=512, description="Batch: OBS input path (required)."
    )
    dest_path: str | None = Field(
        default=None, max_length=512, description="Batch: OBS output path (required)."
    )
    req_uri: str | None = Field(
        default=None,
        max_length=512,
        description="Batch: inference path the requests are sent to, e.g. / (required).",
    )
    mapping_type: Literal["file", "csv"] | None = Field(
        default=None,
        description="Batch: file (one request per file) or csv (one per row) (required).",
    )
    mapping_rule: dict[str, Any] | None = Field(
        default=None,
        json_schema_extra=FREE_FORM,
        description=(
            "Batch csv: JSON-Schema-like copy of the model's input params with an index per "
            "field (its CSV column; -1 ignores the field)."
        ),
    )
    nodes: list[Annotated[str, Field(min_length=1, max_length=MAX_ID)]] | None = Field(
        default=None,
        min_length=1,
        max_length=16,  # operator size budget
        description="Edge: IDs of the edge nodes to deploy to (required).",
    )
    additional_properties: dict[str, Any] | None = Field(
        default=None,
        json_schema_extra=FREE_FORM,
        description="Real-time: additional properties of this model's deployment (free-form).",
    )


class SmnNotification(CrdModel):
    """Simple Message Notification of service events."""

    topic_urn: str = Field(min_length=1, max_length=256, description="URN of the SMN topic.")
    events: list[Literal[1, 3, 7, 11]] = Field(
        min_length=1,
        max_length=4,
        description="Events to notify: 1 failed, 3 running, 7 concerning, 11 pending.",
    )


class ServiceAdditionalProperties(CrdModel):
    """Additional service properties; smnNotification is the documented key."""

    model_config = ConfigDict(json_schema_extra=FREE_FORM, extra="allow")

    smn_notification: SmnNotification | None = Field(
        default=None, description="Notify an SMN topic of service events."
    )


class ScheduleItem(CrdModel):
    """Automatic stop of a real-time service after a duration."""

    type: Literal["stop"] = Field(description="Only stop.")
    time_unit: Literal["DAYS", "HOURS", "MINUTES"] = Field(description="Unit of duration.")
    duration: int = Field(ge=1, description="Stop the service after this many time units.")


class ExportTo(CrdModel):
    """A ConfigMap the operator owns and fills with the service's ID and access address."""

    config_map_name: str = Field(
        min_length=1,
        max_length=253,
        pattern=K8S_NAME_PATTERN,
        description=(
            "Name of the ConfigMap (in this namespace) written with keys serviceId, "
            "serviceName and accessAddress."
        ),
    )


def v1_only(rule: str) -> str:
    """A rule of the v1 form, held only by a v1 Service with its required fields (the
    exclusivity rules say what is missing)."""
    return f"has(self.v2) || !has(self.config) || !has(self.inferType) || ({rule})"


class ServiceSpec(WorkspaceScopedSpec):
    """Desired state of an inference service."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *WORKSPACE_RULES,
            immutable_once_set("serviceName"),
            immutable("inferType"),
            immutable("vpcId"),
            immutable("subnetNetworkId"),
            immutable("securityGroupId"),
            immutable("clusterId"),
            cel(
                v1_only("self.inferType == 'real-time' || size(self.config) == 1"),
                "batch and edge services take exactly one config item",
                field_path=".config",
            ),
            cel(
                v1_only(
                    "self.inferType != 'real-time' || "
                    "self.config.all(c, has(c.weight) && has(c.instanceCount))"
                ),
                "real-time config items need weight and instanceCount",
                field_path=".config",
            ),
            cel(
                v1_only(
                    "self.inferType != 'real-time' || "
                    "!self.config.all(c, has(c.weight)) || "
                    "self.config.map(c, c.weight).sum() == 100"
                ),
                "real-time config weights must sum to 100",
                field_path=".config",
            ),
            cel(
                v1_only(
                    "self.inferType != 'batch' || self.config.all(c, has(c.instanceCount) && "
                    "has(c.srcPath) && has(c.destPath) && has(c.reqUri) && has(c.mappingType))"
                ),
                "batch config needs instanceCount, srcPath, destPath, reqUri and mappingType",
                field_path=".config",
            ),
            cel(
                v1_only("self.inferType != 'edge' || self.config.all(c, has(c.nodes))"),
                "edge config needs nodes",
                field_path=".config",
            ),
            cel(
                v1_only(
                    "self.inferType == 'batch' || "
                    "self.config.all(c, !has(c.srcPath) && !has(c.destPath) && !has(c.mappingType))"
                ),
                "srcPath, destPath and mappingType apply to batch services only",
                field_path=".config",
            ),
            cel(
                v1_only("self.inferType == 'edge' || self.config.all(c, !has(c.nodes))"),
                "nodes apply to edge services only",
                field_path=".config",
            ),
            cel(
                v1_only(
                    "!has(self.schedule) || size(self.schedule) == 0 || "
                    "self.inferType == 'real-time'"
                ),
                "schedule applies to real-time services only",
                field_path=".schedule",
            ),
            cel(
                v1_only(
                    "!has(self.vpcId) || (has(self.subnetNetworkId) && has(self.securityGroupId))"
                ),
                "vpcId needs subnetNetworkId and securityGroupId",
                field_path=".vpcId",
            ),
            cel(
                "has(self.v2) != has(self.config)",
                "give exactly one form: config (v1) or v2",
                field_path=".v2",
            ),
            cel(
                "has(self.v2) != has(self.inferType)",
                "inferType belongs to the v1 form (config) and is required by it",
                field_path=".inferType",
            ),
            cel(
                "!has(self.v2) || !(has(self.vpcId) || has(self.clusterId) || "
                "has(self.additionalProperties) || has(self.schedule))",
                "vpcId, clusterId, additionalProperties and schedule belong to the v1 form "
                "(v2: v2.groupConfigs[].poolId, v2.schedule)",
                field_path=".v2",
            ),
            cel(
                "!has(self.tags) || has(self.v2)",
                "tags belong to the v2 form (the 2020 services API has none)",
                field_path=".tags",
            ),
            cel(
                "has(self.v2) == has(oldSelf.v2)",
                "the form (v1 config or v2) cannot change: create a new Service",
                field_path=".v2",
                reason="FieldValueForbidden",
            ),
        )
    )

    service_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=SERVICE_NAME_PATTERN,
        description=(
            "Service name in ModelArts: 1-64 letters, Chinese characters, digits, - or _. "
            "Unset: a deterministic name derived from namespace and object name. Immutable "
            "once set."
        ),
    )
    description: str | None = Field(
        default=None,
        max_length=OWN_TEXT_100,
        description=(
            "Service description, at most 71 characters (the API's 100 less the operator's "
            "ownership marker, which follows it remotely)."
        ),
    )
    infer_type: InferType | None = Field(
        default=None,
        description=(
            "real-time (keeps running), batch (runs its tasks and finishes) or edge (runs on "
            "IEF edge nodes). Immutable."
        ),
    )
    config: list[ServiceModelConfig] | None = Field(
        default=None,
        min_length=1,
        max_length=4,  # operator size budget; paths of a config item at most 512 characters
        description=(
            "The v1 form: models to deploy; real-time may list several with weights summing "
            "to 100, batch and edge exactly one. Exclusive with v2."
        ),
    )
    stopped: bool = Field(
        default=False,
        description="true stops the service (status stopped); false starts it again.",
    )
    schedule: list[ScheduleItem] | None = Field(
        default=None,
        max_length=4,
        description="Automatic stop of a real-time service.",
    )
    vpc_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description=(
            "VPC for real-time instances; unset: ModelArts allocates one. Needs "
            "subnetNetworkId and securityGroupId. Ignored when clusterId is set. Immutable."
        ),
    )
    subnet_network_id: str | None = Field(
        default=None, max_length=MAX_ID, description="Subnet network ID (with vpcId). Immutable."
    )
    security_group_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description=(
            "Security group (with vpcId); it must allow inbound TCP on port 8080 from "
            "0.0.0.0/0. Immutable."
        ),
    )
    cluster_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="Dedicated resource pool (must be running); its network is used. Immutable.",
    )
    additional_properties: ServiceAdditionalProperties | None = Field(
        default=None, description="Additional properties, e.g. smnNotification."
    )
    v2: ServiceV2Form | None = Field(
        default=None,
        description=(
            "The v2 form (the current inference API): an image on a dedicated pool with "
            "mounted model weights. Exclusive with config and inferType."
        ),
    )
    tags: list[vocab.ServiceCreateRequestTags] | None = tags_field()
    export_to: ExportTo | None = Field(
        default=None,
        description="Publish the service ID and access address in a ConfigMap for applications.",
    )


class ServiceModelStatus(CrdModel):
    """State of one deployed model as reported by ModelArts."""

    model_id: str | None = Field(default=None, max_length=MAX_ID, description="Model ID.")
    model_name: str | None = Field(default=None, max_length=MAX_ID, description="Model name.")
    model_version: str | None = Field(default=None, max_length=16, description="Model version.")
    status: str | None = Field(
        default=None,
        max_length=32,
        description="ready (all instances started), concerning (some) or notReady (none).",
    )


class ServiceStatus(CommonStatus):
    """Observed state of the inference service."""

    service_id: str | None = Field(
        default=None, max_length=MAX_ID, description="ModelArts service ID."
    )
    access_address: str | None = Field(
        default=None, max_length=MAX_PATH, description="Inference URL (real-time services)."
    )
    bind_access_address: str | None = Field(
        default=None, max_length=MAX_PATH, description="Inference URL of a bound custom domain."
    )
    debug_url: str | None = Field(
        default=None, max_length=MAX_PATH, description="Online debugging URL, when supported."
    )
    progress: int | None = Field(
        default=None, ge=0, le=100, description="Deployment progress in percent."
    )
    models: list[ServiceModelStatus] | None = Field(
        default=None, max_length=16, description="Deployed models and their readiness."
    )
    invocation_times: int | None = Field(
        default=None, ge=0, description="Number of inference calls."
    )
    failed_times: int | None = Field(
        default=None, ge=0, description="Number of failed inference calls."
    )
    due_time: datetime | None = Field(
        default=None, description="When the schedule will stop the service."
    )
    start_time: datetime | None = Field(default=None, description="Batch: when the run started.")
    finished_time: datetime | None = Field(
        default=None, description="Batch: when the run finished."
    )
    version: str | None = Field(
        default=None, max_length=16, description="v2: the configuration version running."
    )
    version_id: str | None = Field(
        default=None, max_length=MAX_ID, description="v2: ID of that version."
    )
    previous_version: str | None = Field(
        default=None,
        max_length=16,
        description=(
            "v2: the version before the last upgrade; set spec.v2 back to it (version and "
            "configuration) to switch back."
        ),
    )
    previous_version_id: str | None = Field(
        default=None, max_length=MAX_ID, description="v2: ID of the previous version."
    )
    exported_config_map: str | None = Field(
        default=None, max_length=253, description="ConfigMap written for spec.exportTo."
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Type", "type": "string", "jsonPath": ".spec.inferType"},
    {"name": "Service-ID", "type": "string", "jsonPath": ".status.serviceId"},
    {"name": "URL", "type": "string", "jsonPath": ".status.accessAddress"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Stopped", "type": "boolean", "jsonPath": ".spec.stopped", "priority": 1},
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=ServiceSpec,
    status=ServiceStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "Service is a ModelArts inference service (real-time, batch or edge) deploying one "
        "or more Models. Ready when running (batch: finished). Short name: masvc."
    ),
)
