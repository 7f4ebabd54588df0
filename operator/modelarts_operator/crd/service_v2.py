"""The v2 form of a Service (``spec.v2``): a container image on a dedicated pool, the shape of
the current inference API (``/v2/{project_id}/services``).

One deployment (``groupConfigs``, the API takes one) of units (``unitConfigs``: image, model,
code and file mounts, flavor or custom spec, count, command, envs, health checks, port). A
change of the deployment, runtime, upgrade or log configuration is a rolling upgrade to a new
``version`` (admission refuses such a change with the same version); setting an earlier
version and its configuration back switches to that recorded version.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .common import (
    MAX_ID,
    MAX_PATH,
    MAX_TEXT,
    CrdModel,
    LocalObjectReference,
    cel,
    validations,
)

# Digit.Digit.Digit, each 0-99 (the API's rule for v2 service versions).
VERSION_PATTERN = r"^\d{1,2}\.\d{1,2}\.\d{1,2}$"
PERCENT_PATTERN = r"^([1-9][0-9]?|100)%$"
ROLE_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENV_KEY_PATTERN = "^[A-Za-z_.-][A-Za-z0-9_.-]{0,63}$"  # no backslashes: it goes into CEL

MountSourceKind = Literal["OBS", "OBSFS", "EFS", "LOCAL"]


class V2Image(CrdModel):
    """The container image of a unit."""

    swr_path: str = Field(
        min_length=1,
        max_length=MAX_PATH,
        description="SWR image address, e.g. swr.cn-north-4.myhuaweicloud.com/org/app:1.0.",
    )
    source: Literal["SWR", "IMAGE"] = Field(
        default="SWR", description="SWR (an SWR address) or IMAGE (a ModelArts image)."
    )
    id: str | None = Field(default=None, max_length=MAX_ID, description="Image ID (IMAGE).")
    category: Literal["CPU", "GPU", "ASCEND"] | None = Field(
        default=None, description="Processor the image is built for (default CPU)."
    )


class V2Mount(CrdModel):
    """A directory mounted into the unit: from OBS, OBSFS, EFS (SFS Turbo) or LOCAL."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!(self.source in ['OBS', 'OBSFS']) || has(self.address)",
                "an OBS or OBSFS mount needs address",
                field_path=".address",
            ),
        )
    )

    source: MountSourceKind = Field(description="OBS, OBSFS, EFS or LOCAL.")
    mount_path: str = Field(
        min_length=1,
        max_length=MAX_PATH,
        pattern=r"^/",
        description="Absolute path in the container.",
    )
    address: str | None = Field(
        default=None,
        max_length=MAX_PATH,
        description="obs://bucket/dir/ (OBS, OBSFS) or the EFS share path.",
    )
    source_id: str | None = Field(default=None, max_length=MAX_ID, description="EFS ID.")
    read_only: bool | None = Field(default=None, description="Mount read-only.")


class V2ModelMount(V2Mount):
    """A model mount: an address, or ``modelRef`` for the source location of a Model."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!(self.source in ['OBS', 'OBSFS']) || has(self.address) != has(self.modelRef)",
                "an OBS or OBSFS model mount needs exactly one of address and modelRef",
                field_path=".address",
            ),
            cel(
                "!has(self.modelRef) || self.source in ['OBS', 'OBSFS']",
                "modelRef mounts from OBS or OBSFS",
                field_path=".modelRef",
            ),
        )
    )

    model_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "Model object in the same namespace whose source location (status.source.location) "
            "is mounted; the service waits until it is ready."
        ),
    )


class V2HealthCheck(CrdModel):
    """A probe of the unit: an HTTP GET of url, or a command."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.checkMethod == 'HTTP' ? has(self.url) : has(self.cmd)",
                "an HTTP check needs url, an EXEC check needs cmd",
            ),
        )
    )

    check_method: Literal["HTTP", "EXEC"] = Field(default="HTTP", description="HTTP or EXEC.")
    url: str | None = Field(
        default=None, max_length=MAX_PATH, pattern=r"^/", description="Path to GET (HTTP)."
    )
    cmd: str | None = Field(
        default=None,
        max_length=MAX_PATH,
        pattern=r"^[^#~^$|%&*<>()'\"\[\]{}]*$",
        description="Command to run (EXEC); no shell metacharacters.",
    )
    protocol: Literal["HTTP", "HTTPS"] | None = Field(default=None, description="HTTP scheme.")
    initial_delay_seconds: int | None = Field(default=None, ge=1, le=3600, description="Delay.")
    timeout_seconds: int | None = Field(default=None, ge=1, le=3600, description="Timeout.")
    period_seconds: int | None = Field(default=None, ge=1, le=3600, description="Period.")
    failure_threshold: int | None = Field(default=None, ge=1, le=100, description="Failures.")


class V2CustomSpec(CrdModel):
    """Resources of a unit on a dedicated pool instead of a flavor."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!(has(self.gpu) && self.gpu > 0.0 && has(self.ascend) && self.ascend > 0)",
                "gpu and ascend cannot be used together",
            )
        )
    )

    cpu: float = Field(ge=0.01, le=1024, description="CPU cores.")
    memory: int = Field(ge=1, le=4_194_304, description="Memory in MiB.")
    gpu: float | None = Field(default=None, ge=0, le=64, description="GPUs.")
    ascend: int | None = Field(default=None, ge=0, le=64, description="Ascend NPUs.")
    arch: Literal["x86", "arm64"] | None = Field(default=None, description="CPU architecture.")


EnvValue = Annotated[str, Field(max_length=MAX_TEXT)]


class V2Unit(CrdModel):
    """One role of the deployment: a container and what it mounts."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.flavor) != has(self.customSpec)",
                "a unit needs exactly one of flavor and customSpec",
                field_path=".flavor",
            ),
            cel(
                "!has(self.envs) || self.envs.all(k, k.matches('" + ENV_KEY_PATTERN + "'))",
                "envs keys are letters, digits, _, . and - (1-64, not starting with a digit)",
                field_path=".envs",
            ),
        )
    )

    name: str | None = Field(
        default=None, max_length=16, pattern=ROLE_NAME_PATTERN, description="Role name."
    )
    image: V2Image = Field(description="Container image.")
    flavor: str | None = Field(
        default=None, min_length=1, max_length=128, description="Flavor of the pool."
    )
    custom_spec: V2CustomSpec | None = Field(default=None, description="Custom resources.")
    count: int | None = Field(default=None, ge=1, le=128, description="Instances of the unit.")
    cmd: str | None = Field(default=None, max_length=MAX_TEXT, description="Start command.")
    envs: dict[str, EnvValue] | None = Field(
        default=None, max_length=64, description="Environment variables."
    )
    port: int | None = Field(default=None, ge=1, le=65535, description="Port it serves on.")
    models: list[V2ModelMount] | None = Field(
        default=None, max_length=8, description="Model weights to mount."
    )
    codes: list[V2Mount] | None = Field(default=None, max_length=8, description="Code to mount.")
    files: list[V2Mount] | None = Field(default=None, max_length=8, description="Files to mount.")
    readiness_health: V2HealthCheck | None = Field(default=None, description="Readiness.")
    startup_health: V2HealthCheck | None = Field(default=None, description="Startup.")
    liveness_health: V2HealthCheck | None = Field(default=None, description="Liveness.")


class V2Group(CrdModel):
    """The deployment: its pool and units."""

    name: str = Field(min_length=1, max_length=64, description="Deployment name.")
    pool_id: str = Field(min_length=1, max_length=64, description="Dedicated resource pool.")
    weight: int = Field(
        default=100, ge=100, le=100, description="Traffic share (100: one deployment)."
    )
    count: int | None = Field(default=None, ge=1, le=128, description="Instances.")
    framework: Literal["COMMON", "VLLM", "MINDIE"] | None = Field(
        default=None, description="Serving framework."
    )
    unit_configs: list[V2Unit] = Field(
        min_length=1, max_length=8, description="The units (roles) of the deployment."
    )


class V2RateLimit(CrdModel):
    """Requests allowed per unit of time."""

    num: int = Field(ge=1, le=10000, description="Requests per unit of time.")
    unit: Literal["SECONDS", "MINUTES"] = Field(default="SECONDS", description="Time unit.")


class V2ServiceLimit(CrdModel):
    """Limits on requests."""

    rate_limit: V2RateLimit = Field(description="Rate limit.")
    request_size_limit: int = Field(ge=1, le=50, description="Request size limit in MB.")
    request_timeout: int = Field(ge=1, le=7200, description="Request timeout in seconds.")


class V2ServiceInvoke(CrdModel):
    """Where and how requests reach the service."""

    port: int = Field(ge=1, le=65535, description="Port requests are forwarded to.")
    protocol: Literal["HTTP", "HTTPS", "WS", "WSS"] = Field(default="HTTP", description="Protocol.")
    auth_type: Literal["TOKEN", "API_KEY", "NONE"] = Field(
        default="TOKEN", description="How callers authenticate."
    )


class V2RuntimeConfig(CrdModel):
    """How the service is called."""

    service_invoke: V2ServiceInvoke = Field(description="Invocation port, protocol and auth.")
    service_limit: V2ServiceLimit | None = Field(default=None, description="Limits.")


class V2UpgradeConfig(CrdModel):
    """How a new version rolls out."""

    type: Literal["ROLLING"] = Field(default="ROLLING", description="ROLLING.")
    max_surge: str | None = Field(
        default=None,
        max_length=4,
        pattern=PERCENT_PATTERN,
        description="Instances added above the count during a rollout, 1%-100% (default 1%).",
    )
    max_unavailable: str | None = Field(
        default=None,
        max_length=4,
        pattern=PERCENT_PATTERN,
        description="Instances that may be down during a rollout, 1%-100% (default 1%).",
    )


class V2LogConfig(CrdModel):
    """One kind of log collected to LTS."""

    type: Literal["STDOUT", "EVENT", "FILE"] = Field(description="Which logs.")
    status: Literal["ON", "OFF"] | None = Field(default=None, description="ON or OFF.")
    log_group_id: str | None = Field(default=None, max_length=MAX_ID, description="LTS group.")
    log_stream_id: str | None = Field(default=None, max_length=MAX_ID, description="LTS stream.")


class V2Schedule(CrdModel):
    """Stop the service after a while."""

    type: Literal["STOP"] = Field(default="STOP", description="STOP.")
    duration: int = Field(ge=1, le=100000, description="How long it runs.")
    time_unit: Literal["MINUTES", "HOURS", "DAYS"] = Field(description="Unit of duration.")


CONFIG_FIELDS = ("groupConfigs", "runtimeConfig", "upgradeConfig", "logConfigs")


def _same(field: str) -> str:
    """CEL: ``field`` is as it was (both absent, or equal)."""
    return (
        f"(has(self.{field}) == has(oldSelf.{field})) && "
        f"(!has(self.{field}) || self.{field} == oldSelf.{field})"
    )


class ServiceV2Form(CrdModel):
    """A v2 inference service (mirrors its create body)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.version != oldSelf.version || ("
                + " && ".join(_same(f) for f in CONFIG_FIELDS)
                + ")",
                "a change of groupConfigs, runtimeConfig, upgradeConfig or logConfigs is a "
                "rolling upgrade: give it a new version",
                field_path=".version",
                reason="FieldValueInvalid",
            ),
            cel("self.type == oldSelf.type", "type is immutable", field_path=".type"),
            cel(
                "self.deployType == oldSelf.deployType",
                "deployType is immutable",
                field_path=".deployType",
            ),
        )
    )

    version: str = Field(
        max_length=8,
        pattern=VERSION_PATTERN,
        description=(
            "Version of the configuration, e.g. 1.0.0 (each part 0-99). A new version with a "
            "new configuration rolls it out; an earlier version switches back to it."
        ),
    )
    type: Literal["REAL_TIME", "ASYNC_REAL_TIME"] = Field(
        default="REAL_TIME", description="REAL_TIME or ASYNC_REAL_TIME. Immutable."
    )
    deploy_type: Literal["SINGLE", "MULTI"] = Field(
        default="SINGLE", description="SINGLE (one node per instance) or MULTI. Immutable."
    )
    group_configs: list[V2Group] = Field(
        min_length=1, max_length=1, description="The deployment (the API takes one)."
    )
    runtime_config: V2RuntimeConfig = Field(description="How the service is called.")
    upgrade_config: V2UpgradeConfig | None = Field(default=None, description="Rollout.")
    log_configs: list[V2LogConfig] | None = Field(
        default=None, max_length=3, description="Log collection."
    )
    schedule: list[V2Schedule] | None = Field(
        default=None, max_length=1, description="Automatic stop."
    )
    deploy_timeout_minutes: int | None = Field(
        default=None, ge=0, le=300, description="Deployment timeout in minutes."
    )
