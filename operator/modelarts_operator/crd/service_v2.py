"""The v2 form of a Service (``spec.v2``): the create body of the current inference API
(``/v2/{project_id}/services``), from the models generated from the official SDK
(``vocab.services``).

The service's name, description, workspace and tags are the Service spec's own fields; the
rest of the body is here: deployments (``groupConfigs``, the API takes one) of units
(``unitConfigs``: image, model, code and file mounts, flavor or custom spec, count, command,
envs, health checks, port, affinity...), how it is called (``runtimeConfig``), how a new
version rolls out (``upgradeConfig``), logs, schedule. A model mount may name a Model
(``modelRef``, the operator's own field): its source location is mounted.

Updates: the update API (ServiceUpdateRequest) refuses a version number that exists, except
for a description-only change, so a change of anything else here needs a new ``version``
(admission refuses it otherwise); setting an earlier version and its configuration back
switches to that recorded version. ``type``, ``deployType`` and ``workloadType`` are not in the
update body: they are immutable.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ..vocab import services as vocab
from .common import CrdModel, LocalObjectReference, cel, rules_of, sdk_field, validations


class ModelMount(vocab.ModelResource):
    """A model mount: an address, or ``modelRef`` for the source location of a Model."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *rules_of(vocab.ModelResource),
            cel(
                "!has(self.modelRef) || !has(self.address)",
                "modelRef fills address in: give one of them",
                field_path=".modelRef",
            ),
            cel(
                "!has(self.modelRef) || self.source.upperAscii() in ['OBS', 'OBSFS']",
                "modelRef mounts from OBS or OBSFS (a Model's source location is in OBS)",
                field_path=".modelRef",
            ),
        )
    )

    model_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "The operator's: a Model object in the same namespace whose source location "
            "(status.source.location) is mounted; the service waits until it is ready."
        ),
    )


class Unit(vocab.UnitConfig):
    """One unit (role) of a deployment: a container and what it mounts."""

    # The generated field, its items the mount with modelRef (pydantic overrides the field;
    # lists are invariant for mypy).
    models: list[ModelMount] | None = sdk_field(vocab.UnitConfig, "models")  # type: ignore[assignment]


class Group(vocab.GroupConfig):
    """A deployment: its pool (``poolId``, or ``poolRef`` for a ResourcePool) and units."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *rules_of(vocab.GroupConfig),
            cel(
                "!has(self.poolRef) || !has(self.poolId)",
                "poolRef fills poolId in: give one of them",
                field_path=".poolRef",
            ),
        )
    )

    pool_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "The operator's: a ResourcePool object in the same namespace whose ID "
            "(status.poolId) the deployment runs on; the service waits until it is running."
        ),
    )
    unit_configs: list[Unit] | None = sdk_field(vocab.GroupConfig, "unit_configs")  # type: ignore[assignment]


# What needs a new version when it changes (every field of the update body but the description:
# "服务版本，数据库中如果存在相同版本号，将会报错（仅修改描述的场景除外）", SDK
# ServiceUpdateRequest.version).
CONFIG_FIELDS = (
    "groupConfigs",
    "runtimeConfig",
    "upgradeConfig",
    "logConfigs",
    "ltsStrategy",
    "schedule",
    "customMetricsPath",
    "deployTimeoutMinutes",
    "taskType",
)
DEFAULT_VERSION = "1.0.0"  # SDK ServiceCreateRequest.version: "前端可不传默认设置为1.0.0"


def _same(field: str) -> str:
    """CEL: ``field`` is as it was (both absent, or equal)."""
    return (
        f"(has(self.{field}) == has(oldSelf.{field})) && "
        f"(!has(self.{field}) || self.{field} == oldSelf.{field})"
    )


def _version(side: str) -> str:
    return f"(has({side}.version) ? {side}.version : '{DEFAULT_VERSION}')"


class ServiceV2Form(CrdModel):
    """A v2 inference service (the create body less name, description, workspace, tags)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                f"{_version('self')} != {_version('oldSelf')} || ("
                + " && ".join(_same(f) for f in CONFIG_FIELDS)
                + ")",
                "a change of the configuration needs a new version (the update API refuses a "
                "version number that exists, except for a description-only change)",
                field_path=".version",
                reason="FieldValueInvalid",
            ),
            # The update body (ServiceUpdateRequest) has no type, deploy_type or workload_type.
            cel("self.type == oldSelf.type", "type is immutable", field_path=".type"),
            cel(
                "self.deployType == oldSelf.deployType",
                "deployType is immutable",
                field_path=".deployType",
            ),
            cel(
                "(has(self.workloadType) ? self.workloadType : '') == "
                "(has(oldSelf.workloadType) ? oldSelf.workloadType : '')",
                "workloadType is immutable",
                field_path=".workloadType",
            ),
        )
    )

    version: str | None = sdk_field(
        vocab.ServiceCreateRequest,
        "version",
        description=(
            "Version of the configuration, e.g. 1.0.0 (digits and dots, at most 8 characters; "
            "default 1.0.0). A new version with a new configuration rolls it out; an earlier "
            "version switches back to it."
        ),
    )
    type: vocab.ServiceCreateRequestType = Field(
        default="REAL_TIME",
        description=(
            "Inference service type: REAL_TIME (real-time service, the default here) or "
            "ASYNC_REAL_TIME (asynchronous service). Immutable."
        ),
    )
    deploy_type: vocab.ServiceCreateRequestDeployType = Field(
        default="SINGLE",
        description=(
            "Deployment type: SINGLE (one node, one card; the default here) or MULTI (several "
            "nodes and cards). Immutable."
        ),
    )
    group_configs: list[Group] = Field(
        max_length=1,
        description=(
            "Instance groups (deployments) of the service: at most 1 (SDK: "
            "group_configs的最大元素数量为1)."
        ),
    )
    runtime_config: vocab.RuntimeConfigCreateRequest = Field(
        description="How the service is called: invocation, limits, secrets."
    )
    upgrade_config: vocab.UpgradeConfig | None = sdk_field(
        vocab.ServiceCreateRequest, "upgrade_config"
    )
    lts_strategy: vocab.ServiceCreateRequestLtsStrategy | None = sdk_field(
        vocab.ServiceCreateRequest, "lts_strategy"
    )
    log_configs: list[vocab.LtsConfigurationV2] | None = sdk_field(
        vocab.ServiceCreateRequest, "log_configs"
    )
    schedule: list[vocab.ScheduleConfig] | None = sdk_field(vocab.ServiceCreateRequest, "schedule")
    custom_metrics_path: str | None = sdk_field(vocab.ServiceCreateRequest, "custom_metrics_path")
    deploy_timeout_minutes: int | None = sdk_field(
        vocab.ServiceCreateRequest, "deploy_timeout_minutes"
    )
    task_type: vocab.ServiceCreateRequestTaskType | None = sdk_field(
        vocab.ServiceCreateRequest, "task_type"
    )
    workload_type: vocab.ServiceCreateRequestWorkloadType | None = sdk_field(
        vocab.ServiceCreateRequest, "workload_type"
    )

    def body_fields(self) -> dict[str, Any]:
        """The form as the create body's fields (the caller resolves modelRef)."""
        return self.model_dump(mode="json", exclude_none=True)
