"""The current (v2) form of a TrainingJob: the create body of ``/v2/{project_id}/training-jobs``.

Huawei retired v1 training on 2023-06-30; the official SDK and the Terraform provider speak
only v2. The fields mirror the create body (``metadata`` is this object's name, description
and workspace; ``algorithm``, ``spec.resource``, volumes, log export, schedule policy,
endpoints), camelCase in YAML and snake_case on the wire. Every documented constraint is in the
schema or a CEL rule, so a bad manifest is refused at ``kubectl apply`` naming the field:

- the algorithm comes from exactly one source: an algorithm ID, a subscription
  (``subscriptionId`` + ``itemVersionId``), or code in OBS (``codeDir`` + ``bootFile``); a custom
  image (``engine.imageUrl``) may also run alone, and then needs ``command`` (the API's
  ModelArts.2806);
- the engine is one of ``engineId``, ``engineName`` + ``engineVersion``, or ``imageUrl`` (a
  preset framework on a custom image is ``engineName`` + ``engineVersion`` + ``imageUrl``), and is
  left out for algorithm-ID and subscription sources;
- an input reads from exactly one of an OBS path or a dataset; an output writes to OBS.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .common import (
    MAX_ID,
    MAX_ITEMS,
    MAX_PATH,
    MAX_TEXT,
    OBS_PATH_PATTERN,
    CrdModel,
    cel,
    validations,
)

CHANNEL_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# local_code_dir must be under /home but not /home/ma-user itself nor the platform's own
# directories below it (the API refuses them).
RESERVED_CODE_DIRS = (
    "/home/ma-user/modelarts",
    "/home/ma-user/modelarts-dev",
    "/home/ma-user/infer",
)


class AlgorithmParameter(CrdModel):
    """A run argument, passed to the boot file as ``--name=value``."""

    name: str = Field(min_length=1, max_length=256, description="Argument name.")
    value: str = Field(default="", max_length=MAX_TEXT, description='Value, as a string ("0.01").')
    description: str | None = Field(default=None, max_length=256, description="What it is for.")


class ObsLocation(CrdModel):
    obs_url: str = Field(
        min_length=1,
        max_length=MAX_PATH,
        pattern=OBS_PATH_PATTERN,
        description=(
            "OBS path, obs://bucket/dir/ or /bucket/dir/ (bucket names: 3-63 lowercase letters, "
            "digits, - and .)."
        ),
    )


class DatasetSource(CrdModel):
    id: str = Field(min_length=1, max_length=MAX_ID, description="Dataset ID.")
    version_id: str | None = Field(
        default=None, max_length=MAX_ID, description="Dataset version ID (default: the latest)."
    )


class InputRemote(CrdModel):
    """Where an input channel reads from: exactly one of obs or dataset."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.obs) != has(self.dataset)", "an input needs exactly one of obs or dataset"
            )
        )
    )

    obs: ObsLocation | None = Field(default=None, description="An OBS path.")
    dataset: DatasetSource | None = Field(default=None, description="A dataset version.")


AccessMethod = Literal["parameter", "env"]


class AlgorithmInput(CrdModel):
    """A data input channel; the job finds it at localDir (default: the platform's choice)."""

    name: str = Field(
        pattern=CHANNEL_PATTERN, max_length=64, description="Channel name, e.g. data_url."
    )
    remote: InputRemote = Field(description="Where the data comes from.")
    local_dir: str | None = Field(
        default=None, max_length=MAX_PATH, description="Path in the container."
    )
    access_method: AccessMethod | None = Field(
        default=None,
        description="parameter (default: passed as --name=localDir) or env (a variable).",
    )


class OutputRemote(CrdModel):
    obs: ObsLocation = Field(description="The OBS path the output is uploaded to.")


class AlgorithmOutput(CrdModel):
    """An output channel; a Model's trainingJobRef imports from the first one (or the one named
    train_url)."""

    name: str = Field(
        pattern=CHANNEL_PATTERN, max_length=64, description="Channel name, e.g. train_url."
    )
    remote: OutputRemote = Field(description="Where the output goes.")
    local_dir: str | None = Field(
        default=None, max_length=MAX_PATH, description="Path in the container."
    )
    access_method: AccessMethod | None = Field(
        default=None, description="parameter (default) or env."
    )


class AlgorithmEngine(CrdModel):
    """A preset engine (engineId, or engineName + engineVersion) or a custom image (imageUrl)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.engineName) == has(self.engineVersion)",
                "engineName and engineVersion must be set together",
                field_path=".engineVersion",
            ),
            cel(
                "(has(self.engineId) ? 1 : 0) + (has(self.engineName) ? 1 : 0) "
                "+ (has(self.imageUrl) ? 1 : 0) >= 1",
                "an engine needs engineId, engineName+engineVersion or imageUrl",
            ),
            cel(
                "!has(self.engineId) || !(has(self.engineName) || has(self.imageUrl))",
                "engineId cannot be combined with engineName or imageUrl",
                field_path=".engineId",
            ),
            cel(
                "!has(self.installSysPackages) || (has(self.engineName) && has(self.imageUrl))",
                "installSysPackages needs engineName+engineVersion and imageUrl",
                field_path=".installSysPackages",
            ),
        )
    )

    engine_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Preset engine ID from the engines API, e.g. pytorch-cp36-1.4.0-v2.",
    )
    engine_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Preset engine name, e.g. PyTorch.",
    )
    engine_version: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID, description="Preset engine version."
    )
    image_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="Custom image in SWR as organization/image:tag; needs algorithm.command.",
    )
    install_sys_packages: bool | None = Field(
        default=None,
        description="Install the platform's MoXing into a custom image of a preset framework.",
    )
    image_repo_id: str | None = Field(
        default=None, max_length=MAX_ID, description="SWR enterprise repository instance ID."
    )


ALGORITHM_SOURCES = (
    "(has(self.id) ? 1 : 0) + (has(self.subscriptionId) ? 1 : 0) + (has(self.codeDir) ? 1 : 0)"
)


class TrainingAlgorithm(CrdModel):
    """What runs: the code or algorithm, its engine or image, arguments, data and outputs."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                f"{ALGORITHM_SOURCES} == 1 || ({ALGORITHM_SOURCES} == 0 && has(self.engine) "
                "&& has(self.engine.imageUrl))",
                "exactly one algorithm source is required: id, subscriptionId+itemVersionId, "
                "or codeDir+bootFile (a custom image engine.imageUrl may also run alone)",
            ),
            cel(
                "has(self.subscriptionId) == has(self.itemVersionId)",
                "subscriptionId and itemVersionId must be set together",
                field_path=".itemVersionId",
            ),
            cel(
                "has(self.codeDir) == has(self.bootFile)",
                "codeDir and bootFile must be set together",
                field_path=".bootFile",
            ),
            cel(
                "!has(self.codeDir) || self.bootFile.startsWith(self.codeDir)",
                "bootFile must be inside codeDir",
                field_path=".bootFile",
            ),
            cel(
                "!(has(self.engine) && has(self.engine.imageUrl)) || has(self.command)",
                "a custom image (engine.imageUrl) needs command",
                field_path=".command",
            ),
            cel(
                "!(has(self.id) || has(self.subscriptionId)) || !has(self.engine)",
                "an algorithm id or subscription brings its own engine: leave engine out",
                field_path=".engine",
            ),
            cel(
                "!has(self.codeDir) || has(self.engine)",
                "codeDir+bootFile needs an engine",
                field_path=".engine",
            ),
            cel(
                "!has(self.localCodeDir) || (self.localCodeDir.startsWith('/home/') "
                "&& self.localCodeDir != '/home/ma-user' && self.localCodeDir != '/home/ma-user/' "
                + "".join(f"&& !self.localCodeDir.startsWith('{d}')" for d in RESERVED_CODE_DIRS)
                + ")",
                "localCodeDir must be under /home, not /home/ma-user itself nor under "
                + ", ".join(RESERVED_CODE_DIRS),
                field_path=".localCodeDir",
            ),
            cel(
                "!has(self.parameters) || self.parameters.all(p, "
                "self.parameters.exists_one(q, q.name == p.name))",
                "parameter names must be unique",
                field_path=".parameters",
            ),
            cel(
                "!has(self.outputs) || "
                "self.outputs.all(o, self.outputs.exists_one(q, q.name == o.name))",
                "output channel names must be unique",
                field_path=".outputs",
            ),
            cel(
                "!has(self.inputs) || "
                "self.inputs.all(i, self.inputs.exists_one(q, q.name == i.name))",
                "input channel names must be unique",
                field_path=".inputs",
            ),
        )
    )

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Algorithm ID (algorithm management).",
    )
    subscription_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID, description="Subscribed algorithm ID."
    )
    item_version_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID, description="Version of the subscription."
    )
    code_dir: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="Code directory in OBS, e.g. obs://bucket/code/. Needs bootFile.",
    )
    boot_file: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="Boot file inside codeDir, e.g. obs://bucket/code/train.py.",
    )
    command: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TEXT,
        description="Container start command for a custom image, e.g. python train.py.",
    )
    engine: AlgorithmEngine | None = Field(default=None, description="The engine or custom image.")
    parameters: list[AlgorithmParameter] | None = Field(
        default=None, max_length=MAX_ITEMS, description="Run arguments; names unique."
    )
    inputs: list[AlgorithmInput] | None = Field(
        default=None, max_length=MAX_ITEMS, description="Data input channels."
    )
    outputs: list[AlgorithmOutput] | None = Field(
        default=None, max_length=MAX_ITEMS, description="Output channels."
    )
    environments: dict[str, str] | None = Field(
        default=None,
        max_length=100,
        json_schema_extra={
            "additionalProperties": {"type": "string", "maxLength": 4096},
            **validations(
                cel(
                    "self.all(k, k.matches('^[A-Za-z_][A-Za-z0-9_]*$') && size(k) <= 8192)",
                    "environment variable names are letters, digits and _, not a leading digit",
                )
            ),
        },
        description="Environment variables of the training containers (at most 100).",
    )
    local_code_dir: str | None = Field(
        default=None,
        max_length=MAX_PATH,
        description=(
            "Where the code is downloaded in the container: under /home, not /home/ma-user "
            "itself nor the platform's directories below it."
        ),
    )
    working_dir: str | None = Field(
        default=None, max_length=MAX_PATH, description="Working directory of the command."
    )


class CustomizedFlavor(CrdModel):
    """Resources of the main container on a dedicated pool (instead of a flavor's)."""

    cpu_core_num: float = Field(ge=0.1, le=1024, description="CPU cores.")
    mem_size: float = Field(ge=0.1, le=65536, description="Memory in GB.")
    accelerator_num: float = Field(default=0, ge=0, le=64, description="GPUs or NPUs.")


class TrainingResource(CrdModel):
    """Where and on how much it runs: a public-pool flavor or a dedicated pool."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.flavorId) || has(self.poolId)",
                "a public pool needs flavorId; a dedicated pool needs poolId",
            ),
            cel(
                "!has(self.mainContainerCustomizedFlavor) || has(self.poolId)",
                "mainContainerCustomizedFlavor is for dedicated pools (poolId)",
                field_path=".mainContainerCustomizedFlavor",
            ),
        )
    )

    flavor_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Flavor, e.g. modelarts.vm.pnt1.large.eco (training-job-flavors API).",
    )
    node_count: int = Field(default=1, ge=1, le=1024, description="Number of nodes.")
    pool_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID, description="Dedicated resource pool ID."
    )
    main_container_customized_flavor: CustomizedFlavor | None = Field(
        default=None, description="Custom resources for the main container (dedicated pool)."
    )


class NfsMount(CrdModel):
    nfs_server_path: str = Field(
        min_length=1, max_length=MAX_PATH, description="SFS Turbo address, e.g. 192.168.8.150:/."
    )
    local_path: str = Field(min_length=1, max_length=MAX_PATH, description="Path in the container.")
    read_only: bool = Field(default=False, description="Mount read-only.")


class PfsMount(CrdModel):
    pfs_path: str = Field(
        min_length=1, max_length=MAX_PATH, description="Parallel file system path."
    )
    local_path: str = Field(min_length=1, max_length=MAX_PATH, description="Path in the container.")


class ObsMount(CrdModel):
    obs_path: str = Field(min_length=1, max_length=MAX_PATH, description="OBS path.")
    local_path: str = Field(min_length=1, max_length=MAX_PATH, description="Path in the container.")


class TrainingVolume(CrdModel):
    """A volume mounted into the training containers (dedicated pools): exactly one kind."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "(has(self.nfs) ? 1 : 0) + (has(self.pfs) ? 1 : 0) + (has(self.obs) ? 1 : 0) == 1",
                "a volume needs exactly one of nfs, pfs or obs",
            )
        )
    )

    nfs: NfsMount | None = Field(default=None, description="An SFS Turbo (NFS) volume.")
    pfs: PfsMount | None = Field(default=None, description="A parallel file system volume.")
    obs: ObsMount | None = Field(default=None, description="An OBS volume.")


class LogExportPath(CrdModel):
    """Where the job's logs are kept; without it logs may become unavailable later."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("has(self.obsUrl) != has(self.hostPath)", "set exactly one of obsUrl or hostPath")
        )
    )

    obs_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="OBS path, e.g. obs://bucket/logs/.",
    )
    host_path: str | None = Field(
        default=None, min_length=1, max_length=MAX_PATH, description="Host path (dedicated pools)."
    )


class SchedulePolicy(CrdModel):
    """Scheduling on a dedicated pool."""

    priority: int | None = Field(
        default=None,
        ge=1,
        le=3,
        description="1 (default) to 3; 3 needs the high-priority permission.",
    )
    preemptible: bool | None = Field(default=None, description="Whether the job may be preempted.")


class SshEndpoint(CrdModel):
    key_pair_names: list[Annotated[str, Field(min_length=1, max_length=MAX_ID)]] = Field(
        min_length=1, max_length=16, description="ECS key pair names allowed to SSH into the tasks."
    )


class TrainingEndpoints(CrdModel):
    ssh: SshEndpoint | None = Field(default=None, description="SSH access to the tasks.")


class AutoStop(CrdModel):
    """Stop the job after a number of hours (the API's own timer)."""

    time_unit: Literal["HOURS"] = Field(default="HOURS", description="Unit of duration.")
    duration: int = Field(ge=1, le=8760, description="Hours after which the job is stopped.")


class ExperimentReference(CrdModel):
    """The training experiment the job belongs to: an existing one by id, or a new one by name."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("has(self.id) || has(self.name)", "an experiment needs id or name")
        )
    )

    id: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID, description="Experiment ID."
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=64, description="Experiment name."
    )
    description: str | None = Field(default=None, max_length=256, description="Its description.")


JobKind = Literal["job", "visualization_job"]

PreviousJobPolicy = Literal["Retain", "Delete"]


class FaultTolerance(CrdModel):
    """Automatic restarts (the API's fault-tolerance annotations)."""

    job_retry_num: int | None = Field(
        default=None, ge=1, le=128, description="Restart the job up to this many times on a fault."
    )
    unconditional_retry: bool | None = Field(
        default=None, description="Restart whatever the exit code (not only on platform faults)."
    )
    hang_retry: bool | None = Field(default=None, description="Restart a job that hangs.")


class TrainingFeatures(CrdModel):
    """Switches the API takes as job annotations (``metadata.annotations``)."""

    fault_tolerance: FaultTolerance | None = Field(default=None, description="Automatic restarts.")
    tensorboard: bool | None = Field(default=None, description="Serve TensorBoard for the job.")
    jupyter_lab: bool | None = Field(default=None, description="Serve JupyterLab in the job.")


V2_FIELDS = (
    "algorithm",
    "resource",
    "volumes",
    "logExportPath",
    "schedulePolicy",
    "endpoints",
    "autoStop",
    "experiment",
    "features",
    "jobKind",
    "previousJobPolicy",
)

FORM_RULES = (
    cel(
        "has(self.config) != has(self.algorithm)",
        "set exactly one form: config (the 2020 v1 training API) or algorithm + resource "
        "(the current v2 API)",
    ),
    cel(
        "!has(self.config) || !("
        + " || ".join(f"has(self.{f})" for f in V2_FIELDS if f != "algorithm")
        + ")",
        "resource, volumes, logExportPath, schedulePolicy, endpoints, autoStop, experiment, "
        "features, jobKind and previousJobPolicy belong to the v2 form (algorithm) and cannot "
        "be combined with config",
    ),
    cel(
        "!has(self.algorithm) || has(self.resource)",
        "the v2 form needs resource (flavorId and/or poolId, nodeCount)",
        field_path=".resource",
    ),
    cel(
        "has(self.config) == has(oldSelf.config)",
        "the API form (config or algorithm) cannot change; create a new object",
        reason="FieldValueForbidden",
    ),
)
"""Spec-level CEL rules choosing between the v1 and the v2 form (add to the spec's rules)."""
