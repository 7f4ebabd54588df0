"""TrainingJob: a ModelArts training job, in one of two forms.

- The current form (``spec.algorithm`` + ``spec.resource``…, see ``training_v2.py``) is the create
  body of ``/v2/{project_id}/training-jobs``: what the cloud accepts today. The API has no
  versions, so a change to the job's training fields runs a new job under a new name.
- The 2020 form (``spec.config``) mirrors ``/v1/{project_id}/training-jobs``' ``config``; changing
  it creates a new job **version**. Huawei stopped accepting new v1 jobs on 2023-06-30; the form
  stays for clouds and emulators that still serve it.

``jobDesc`` is the description in both forms and is changed in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from .common import (
    MAX_ID,
    MAX_PATH,
    MESSAGE_LENGTH,
    OWN_TEXT_256,
    WORKSPACE_RULES,
    CommonStatus,
    CrdModel,
    KindInfo,
    WorkspaceScopedSpec,
    cel,
    immutable_once_set,
    validations,
)
from .training_v2 import FORM_RULES, TrainingV2Fields

KIND = "TrainingJob"
PLURAL = "trainingjobs"
SHORT_NAMES = ["matj"]

JOB_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class TrainingParameter(CrdModel):
    """A running parameter; for a custom image it becomes a container environment variable."""

    # maxLength 64 and 256 (label, value): operator size budget, not a cloud rule.
    label: str = Field(min_length=1, max_length=64, description="Parameter name.")
    value: str = Field(
        max_length=256,
        description='Parameter value, as a string (e.g. "0.01").',
    )


class DataSourceItem(CrdModel):
    """One data source: an OBS path (type obs) or a dataset version (type dataset)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.type != 'obs' || (has(self.dataUrl) && !has(self.datasetId) && "
                "!has(self.datasetVersion))",
                "a data source of type obs needs dataUrl and no datasetId/datasetVersion",
            ),
            cel(
                "self.type != 'dataset' || (has(self.datasetId) && has(self.datasetVersion) "
                "&& !has(self.dataUrl))",
                "a data source of type dataset needs datasetId and datasetVersion and no dataUrl",
            ),
        )
    )

    type: Literal["obs", "dataset"] = Field(
        description="obs: read dataUrl; dataset: read datasetId/datasetVersion."
    )
    data_url: str | None = Field(
        default=None, max_length=512, description="OBS bucket path (type obs)."
    )
    dataset_id: str | None = Field(
        default=None, max_length=MAX_ID, description="Dataset ID (type dataset)."
    )
    dataset_version: str | None = Field(
        default=None, max_length=MAX_ID, description="Dataset version ID (type dataset)."
    )


class NfsVolume(CrdModel):
    """An SFS Turbo (NFS) volume; only for resource pools connected to its network. (Paths of
    at most 512 characters: the operator's size budget.)"""

    id: str = Field(min_length=1, max_length=MAX_ID, description="SFS Turbo ID.")
    src_path: str = Field(
        min_length=1, max_length=512, description="SFS Turbo address, e.g. 192.168.8.150:/."
    )
    dest_path: str = Field(
        min_length=1, max_length=512, description="Local path in the training job."
    )
    read_only: bool = Field(default=False, description="Mount read-only.")


class HostPathVolume(CrdModel):
    """A host directory; only for dedicated resource pools."""

    src_path: str = Field(min_length=1, max_length=512, description="Path on the host.")
    dest_path: str = Field(
        min_length=1, max_length=512, description="Local path in the training job."
    )
    read_only: bool = Field(default=False, description="Mount read-only.")


class Volume(CrdModel):
    """A volume mounted into the training containers: exactly one of nfs or hostPath."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.nfs) != has(self.hostPath)",
                "a volume needs exactly one of nfs or hostPath",
            )
        )
    )

    nfs: NfsVolume | None = Field(default=None, description="An SFS Turbo (NFS) volume.")
    host_path: HostPathVolume | None = Field(default=None, description="A host path volume.")


CODE_GROUP_MESSAGE = (
    "exactly one code source is required: appUrl+bootFileUrl+engineId, modelId "
    "(built-in algorithm) or userImageUrl (custom image)"
)


class TrainingConfig(CrdModel):
    """The training job's ``config``: code, data, resources and outputs.

    Exclusive groups (enforced by CEL): data is exactly one of dataUrl, datasetId +
    datasetVersionId, or dataSource; code is exactly one of appUrl + bootFileUrl + engineId,
    modelId (built-in algorithm), or userImageUrl (custom image, with userCommand).
    """

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "(has(self.dataUrl) ? 1 : 0) + "
                "((has(self.datasetId) || has(self.datasetVersionId)) ? 1 : 0) + "
                "(has(self.dataSource) ? 1 : 0) == 1",
                "exactly one data source is required: dataUrl, datasetId+datasetVersionId, "
                "or dataSource",
            ),
            cel(
                "has(self.datasetId) == has(self.datasetVersionId)",
                "datasetId and datasetVersionId must be set together",
                field_path=".datasetVersionId",
            ),
            cel(
                "(has(self.modelId) ? 1 : 0) + (has(self.userImageUrl) ? 1 : 0) + "
                "((has(self.bootFileUrl) || has(self.engineId)) ? 1 : 0) == 1",
                CODE_GROUP_MESSAGE,
            ),
            cel(
                "!(has(self.bootFileUrl) || has(self.engineId)) || "
                "(has(self.appUrl) && has(self.bootFileUrl) && has(self.engineId))",
                "appUrl, bootFileUrl and engineId must be set together",
                field_path=".bootFileUrl",
            ),
            cel(
                "!has(self.userCommand) || has(self.userImageUrl)",
                "userCommand needs userImageUrl (it is the custom image's boot command)",
                field_path=".userCommand",
            ),
        )
    )

    worker_server_num: int = Field(
        ge=1,
        le=1024,
        description=("Number of workers. At most the spec's max_num from the resource-specs API."),
    )
    app_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="Code directory in OBS, e.g. /bucket/app/. Used with bootFileUrl.",
    )
    boot_file_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="Boot file inside appUrl, e.g. /bucket/app/boot.py. Used with appUrl.",
    )
    engine_id: int | None = Field(
        default=None,
        ge=1,
        description="AI engine ID (ai-engines API; 1 is TensorFlow). Used with appUrl.",
    )
    model_id: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Built-in algorithm ID (built-in-algorithms API). Replaces appUrl, bootFileUrl "
            "and engineId."
        ),
    )
    parameter: list[TrainingParameter] | None = Field(
        default=None,
        max_length=16,  # operator size budget (as the v2 form's parameters)
        description="Running parameters passed to the boot file as --label=value.",
    )
    data_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="OBS path of the training data, e.g. /bucket/data/.",
    )
    dataset_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Dataset ID; needs datasetVersionId.",
    )
    dataset_version_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID,
        description="Dataset version ID; needs datasetId.",
    )
    data_source: list[DataSourceItem] | None = Field(
        default=None,
        min_length=1,
        max_length=4,  # operator size budget
        description="Data sources (OBS paths or dataset versions).",
    )
    spec_id: int = Field(ge=1, description="Resource specification ID (resource-specs API).")
    train_url: str = Field(
        min_length=1,
        max_length=MAX_PATH,
        description=(
            "OBS output path, e.g. /bucket/output/; a Model's trainingJobRef imports from here. "
            "It cannot be shared with another running job (ModelArts.2604)."
        ),
    )
    log_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description="OBS path for training logs, e.g. /bucket/log/.",
    )
    user_image_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description=(
            "SWR URL of a custom image, e.g. swr.cn-north-4.myhuaweicloud.com/team/train:1.0."
        ),
    )
    user_command: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,  # operator size budget (as the v2 form's command)
        description=(
            "Boot command of the custom image, e.g. bash /home/work/run_train.sh python "
            "/home/work/user-job-dir/app/train.py."
        ),
    )
    create_version: bool = Field(
        default=True,
        description="Create a version together with the job (the API default; keep true).",
    )
    volumes: list[Volume] | None = Field(
        default=None,
        max_length=2,  # operator size budget (the reference's sample mounts two)
        description="Volumes mounted into the training containers.",
    )


class TrainingJobSpec(WorkspaceScopedSpec, TrainingV2Fields):
    """Desired state of a ModelArts training job: the v2 form (algorithm + resource...) or the
    2020 v1 form (config), exactly one."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *WORKSPACE_RULES,
            *FORM_RULES,
            immutable_once_set("jobName"),
        )
    )

    job_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=JOB_NAME_PATTERN,
        description=(
            "Training job name in ModelArts: 1-64 letters, digits, - or _. Unset: a "
            "deterministic name derived from namespace and object name. Immutable once set."
        ),
    )
    job_desc: str | None = Field(
        default=None,
        max_length=OWN_TEXT_256,
        description=(
            "Job description, 0-227 characters (the API's 256 less the operator's ownership "
            "marker, which follows it remotely); a change is applied in place."
        ),
    )
    config: TrainingConfig | None = Field(
        default=None,
        description=(
            "The 2020 v1 form's training configuration; a change creates a new job version. "
            "Exclusive with the v2 form (algorithm)."
        ),
    )
    active_deadline_seconds: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Stop the job when a version has run longer than this many seconds (like a "
            "Kubernetes Job); the object then ends Failed with reason DeadlineExceeded."
        ),
    )
    ttl_seconds_after_finished: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Delete this object this many seconds after the job finished (completed or "
            "failed), applying deletionPolicy to the remote job."
        ),
    )


class TrainingMetrics(CrdModel):
    """Overall evaluation metrics reported by the training job (total_metric_values)."""

    accuracy: float | None = Field(default=None, description="Accuracy.")
    precision: float | None = Field(default=None, description="Precision.")
    recall: float | None = Field(default=None, description="Recall.")
    f1_score: float | None = Field(default=None, description="F1 score.")


class TaskStatus(CrdModel):
    """How one task of a v2 job ended."""

    task: str | None = Field(default=None, max_length=MAX_ID, description="Task, e.g. worker-0.")
    exit_code: int | None = Field(default=None, description="Its exit code.")
    message: str | None = Field(
        default=None,
        max_length=MESSAGE_LENGTH,  # operator's size budget: a longer one is cut
        description=f"Its message (its first {MESSAGE_LENGTH} characters).",
    )


# Status budget (sizes.STATUS_BUDGET): the TrainingJob status was within ~13 KB of it, so
# the addresses get the operator's size budget below, not MAX_PATH; a longer one is cut.
MAX_URL = 256
MAX_SSH_TASKS = 4


class TaskUrl(CrdModel):
    """Where to SSH into one task of a v2 job."""

    task: str | None = Field(default=None, max_length=64, description="Task, e.g. worker-0.")
    url: str | None = Field(default=None, max_length=MAX_URL, description="Its SSH address.")


class JobEndpoints(CrdModel):
    """A v2 job's addresses (the API's endpoints) while it runs. The API's tokens for them
    are secrets and are never shown: open the console, or ask the API, for one."""

    tensorboard: str | None = Field(
        default=None, max_length=MAX_URL, description="TensorBoard URL."
    )
    jupyter_lab: str | None = Field(default=None, max_length=MAX_URL, description="JupyterLab URL.")
    mindstudio_insight: str | None = Field(
        default=None, max_length=MAX_URL, description="MindStudio Insight URL."
    )
    ssh: list[TaskUrl] | None = Field(
        default=None,
        max_length=MAX_SSH_TASKS,
        description=f"SSH address of each task (the first {MAX_SSH_TASKS}).",
    )


class RunningRecord(CrdModel):
    """One run of a v2 job (a fault restart starts another)."""

    start_time: datetime | None = Field(default=None, description="When the run started.")
    end_time: datetime | None = Field(default=None, description="When it ended.")
    start_type: str | None = Field(
        default=None, max_length=MAX_ID, description="init_or_rescheduled or restarted."
    )
    end_reason: str | None = Field(
        default=None,
        max_length=MESSAGE_LENGTH,  # operator's size budget: a longer one is cut
        description=f"Why it ended (the first {MESSAGE_LENGTH} characters).",
    )
    end_related_task: str | None = Field(
        default=None, max_length=MAX_ID, description="The task that ended it."
    )


class PreviousJob(CrdModel):
    """A v2 job an earlier spec ran, replaced when the training fields changed."""

    job_id: str = Field(max_length=MAX_ID, description="Its ModelArts job ID.")
    job_name: str | None = Field(default=None, max_length=MAX_ID, description="Its name.")
    policy: Literal["Retain", "Delete"] = Field(
        description="What previousJobPolicy did with it: Retain (kept, stopped) or Delete."
    )


class TrainingJobStatus(CommonStatus):
    """Observed state of the training job (v2) or of the v1 job's latest version."""

    job_id: int | Annotated[str, Field(max_length=MAX_ID)] | None = Field(
        default=None,
        # An int-or-string takes no maxLength in a structural schema: CEL bounds it.
        json_schema_extra=validations(
            cel(f"size(string(self)) <= {MAX_ID}", f"at most {MAX_ID} characters")
        ),
        description="ModelArts training job ID: a UUID (v2) or a number (v1).",
    )
    job_name: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="v2: name of the job running the current spec (<name>-g<generation> "
        "after a rerun).",
    )
    training_spec_hash: str | None = Field(
        default=None,
        max_length=64,
        description="v2: digest of the training fields the current job was created from.",
    )
    previous_jobs: list[PreviousJob] | None = Field(
        default=None, max_length=16, description="v2: jobs that earlier specs ran, newest first."
    )
    tasks: list[Annotated[str, Field(max_length=MAX_ID)]] | None = Field(
        default=None, max_length=64, description="v2: the job's tasks (for logs: --task)."
    )
    task_statuses: list[TaskStatus] | None = Field(
        default=None, max_length=16, description="v2: how the tasks ended."
    )
    running_records: list[RunningRecord] | None = Field(
        default=None, max_length=16, description="v2: the job's runs and fault restarts."
    )
    version_id: int | None = Field(
        default=None, description="ID of the version that runs the current spec.config."
    )
    version_name: str | None = Field(
        default=None, max_length=MAX_ID, description="Name of that version, e.g. V0001."
    )
    version_count: int | None = Field(
        default=None, ge=0, description="Number of versions the job has."
    )
    config_generation: int | None = Field(
        default=None,
        ge=0,
        description="metadata.generation whose config the current version was created from.",
    )
    resource_id: str | None = Field(
        default=None, max_length=MAX_ID, description="Charged resource ID of the job."
    )
    start_time: datetime | None = Field(
        default=None, description="When the current version started running."
    )
    completion_time: datetime | None = Field(
        default=None, description="When the current version finished."
    )
    duration_seconds: int | None = Field(
        default=None, ge=0, description="Running time of the current version in seconds."
    )
    train_url: str | None = Field(
        default=None, max_length=MAX_PATH, description="OBS output path of the current version."
    )
    log_location: str | None = Field(
        default=None,
        max_length=MAX_PATH,
        description="Where the logs are: the OBS logUrl of the version, if any.",
    )
    metrics: TrainingMetrics | None = Field(
        default=None, description="Evaluation metrics of the current version."
    )
    endpoints: JobEndpoints | None = Field(
        default=None,
        description=(
            "v2: the job's TensorBoard, JupyterLab, MindStudio Insight and SSH addresses while "
            "it runs (never their tokens)."
        ),
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Job-ID", "type": "string", "jsonPath": ".status.jobId"},
    {"name": "Version", "type": "string", "jsonPath": ".status.versionName"},
    {"name": "Remote-Status", "type": "string", "jsonPath": ".status.remoteStatus"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Job-Name", "type": "string", "jsonPath": ".status.remoteName", "priority": 1},
    {
        "name": "TensorBoard",
        "type": "string",
        "jsonPath": ".status.endpoints.tensorboard",
        "priority": 1,
    },
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=TrainingJobSpec,
    status=TrainingJobStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "TrainingJob is a ModelArts training job. A change of spec.config runs a new job "
        "version; in the v2 form, jobDesc, tags, notification, schedulePolicy.priority and "
        ".preemptible and the JupyterLab switch (features.jupyterLab, annotation "
        "jupyter-lab/enable) change in place, any other change runs a new job "
        "(previousJobPolicy). Ready when the current version completed."
    ),
)
