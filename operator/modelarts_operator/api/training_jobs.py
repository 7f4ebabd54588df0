"""Training jobs v1 and their versions (``/v1/{project_id}/training-jobs``).

Every response of this family carries ``is_success``; the base client turns
``is_success:false`` into the classified error, so methods here only see successes.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from pydantic import Field

from ._types import ApiModel, ApiRequest, FlexInt, FlexStr, JsonLoose, StrList
from .pagination import Paging, first, paginate

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "JOBSTAT",
    "JOBSTATS",
    "AomLog",
    "DataSource",
    "Engine",
    "EngineList",
    "HostPathVolume",
    "JobParameter",
    "JobStat",
    "LogFileNames",
    "NfsVolume",
    "ResourceSpec",
    "ResourceSpecList",
    "TrainingJobConfig",
    "TrainingJobCreateRequest",
    "TrainingJobCreated",
    "TrainingJobList",
    "TrainingJobSummary",
    "TrainingJobVersion",
    "TrainingJobVersionList",
    "TrainingJobs",
    "TrainingLog",
    "TrainingVersionConfig",
    "TrainingVersionCreateRequest",
    "TrainingVersionCreated",
    "Volume",
]


class JobStat(NamedTuple):
    """A training status code's documented name and the phase it means."""

    name: str
    phase: str  # Creating, Queued, Running, Stopping, Succeeded, Failed or Stopped


JOBSTATS: dict[int, JobStat] = {
    0: JobStat("JOBSTAT_UNKNOWN", "Creating"),
    1: JobStat("JOBSTAT_INIT", "Creating"),
    2: JobStat("JOBSTAT_IMAGE_CREATING", "Creating"),
    3: JobStat("JOBSTAT_IMAGE_FAILED", "Failed"),
    4: JobStat("JOBSTAT_SUBMIT_TRYING", "Creating"),
    5: JobStat("JOBSTAT_SUBMIT_FAILED", "Failed"),
    6: JobStat("JOBSTAT_DELETE_FAILED", "Failed"),
    7: JobStat("JOBSTAT_WAITING", "Queued"),
    8: JobStat("JOBSTAT_RUNNING", "Running"),
    9: JobStat("JOBSTAT_KILLING", "Stopping"),
    10: JobStat("JOBSTAT_COMPLETED", "Succeeded"),
    11: JobStat("JOBSTAT_FAILED", "Failed"),
    12: JobStat("JOBSTAT_KILLED", "Stopped"),
    13: JobStat("JOBSTAT_CANCELED", "Stopped"),
    14: JobStat("JOBSTAT_LOST", "Failed"),
    15: JobStat("JOBSTAT_SCALING", "Running"),
    16: JobStat("JOBSTAT_SUBMIT_MODEL_FAILED", "Failed"),
    17: JobStat("JOBSTAT_DEPLOY_SERVICE_FAILED", "Failed"),
    18: JobStat("JOBSTAT_CHECK_INIT", "Running"),
    19: JobStat("JOBSTAT_CHECK_RUNNING", "Running"),
    20: JobStat("JOBSTAT_CHECK_RUNNING_COMPLETED", "Succeeded"),
    21: JobStat("JOBSTAT_CHECK_FAILED", "Failed"),
}
"""Training status codes as the API documents them, and their phases. The documents give
names only; the phases follow the names: COMPLETED and CHECK_RUNNING_COMPLETED succeeded, every
*_FAILED and LOST failed, KILLED and CANCELED stopped, KILLING is stopping, WAITING queued."""

JOBSTAT: dict[int, str] = {code: stat.name for code, stat in JOBSTATS.items()}
"""Training status codes: code -> documented name."""


class JobParameter(ApiModel):
    """``{label, value}``; value is a String on the wire (responses may send a number)."""

    label: FlexStr = None
    value: FlexStr = None
    required: bool | None = None


class DataSource(ApiModel):
    type: FlexStr = None  # obs | dataset
    data_url: FlexStr = None
    dataset_id: FlexStr = None
    dataset_version: FlexStr = None


class NfsVolume(ApiModel):
    id: FlexStr = None
    src_path: FlexStr = None
    dest_path: FlexStr = None
    read_only: bool | None = None


class HostPathVolume(ApiModel):
    src_path: FlexStr = None
    dest_path: FlexStr = None
    read_only: bool | None = None


class Volume(ApiModel):
    """One key: ``nfs`` or ``host_path``."""

    nfs: NfsVolume | None = None
    host_path: HostPathVolume | None = None


class _ConfigBase(ApiRequest):
    worker_server_num: int | None = Field(default=None, ge=1)
    app_url: str | None = None
    boot_file_url: str | None = None
    parameter: list[JobParameter] | None = None
    data_url: str | None = None
    dataset_id: str | None = None
    dataset_version_id: str | None = None
    data_source: list[DataSource] | None = None
    spec_id: int | None = None
    engine_id: int | None = None
    model_id: int | None = None
    train_url: str | None = None
    log_url: str | None = None
    user_image_url: str | None = None
    user_command: str | None = None


class TrainingJobConfig(_ConfigBase):
    """``config`` of a job create. Exclusive groups are the CRD's job to validate."""

    create_version: bool | None = None
    volumes: list[Volume] | None = None


class TrainingVersionConfig(_ConfigBase):
    """``config`` of a version create: as a job's, plus the mandatory ``pre_version_id``."""

    pre_version_id: int


class TrainingJobCreateRequest(ApiRequest):
    job_name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    job_desc: str | None = Field(default=None, max_length=256)
    config: TrainingJobConfig
    workspace_id: str | None = None


class TrainingVersionCreateRequest(ApiRequest):
    job_desc: str | None = Field(default=None, max_length=256)
    config: TrainingVersionConfig


class TrainingJobCreated(ApiModel):
    job_id: FlexInt = None
    job_name: FlexStr = None
    status: FlexInt = None
    create_time: FlexInt = None
    version_id: FlexInt = None
    version_name: FlexStr = None
    resource_id: FlexStr = None


class TrainingVersionCreated(ApiModel):
    job_id: FlexInt = None
    job_name: FlexStr = None
    status: FlexInt = None
    create_time: FlexInt = None
    version_id: FlexInt = None
    version_name: FlexStr = None


class TrainingJobSummary(ApiModel):
    job_id: FlexInt = None
    job_name: FlexStr = None
    version_id: FlexInt = None
    status: FlexInt = None
    create_time: FlexInt = None
    duration: FlexInt = None
    job_desc: FlexStr = None
    version_count: FlexInt = None


class TrainingJobList(ApiModel):
    job_total_count: FlexInt = None
    job_count_limit: FlexInt = None
    quotas: FlexInt = None
    jobs: list[TrainingJobSummary] = Field(default_factory=list)


class TrainingJobVersion(ApiModel):
    """Version detail (and versions-list item). JSON-string fields arrive parsed."""

    job_id: FlexInt = None
    job_name: FlexStr = None
    job_desc: FlexStr = None
    version_id: FlexInt = None
    version_name: FlexStr = None
    pre_version_id: FlexInt = None
    engine_type: FlexInt = None
    engine_name: FlexStr = None
    engine_id: FlexInt = None
    engine_version: FlexStr = None
    status: FlexInt = None
    app_url: FlexStr = None
    boot_file_url: FlexStr = None
    create_time: FlexInt = None
    parameter: list[JobParameter] | None = None
    duration: FlexInt = None
    spec_id: FlexInt = None
    core: FlexStr = None
    cpu: FlexStr = None
    gpu_num: FlexInt = None
    gpu_type: FlexStr = None
    worker_server_num: FlexInt = None
    data_url: FlexStr = None
    train_url: FlexStr = None
    log_url: FlexStr = None
    dataset_version_id: FlexStr = None
    dataset_id: FlexStr = None
    data_source: list[DataSource] | None = None
    model_id: FlexInt = None
    model_metric_list: JsonLoose = None
    system_metric_list: JsonLoose = None
    user_image_url: FlexStr = None
    user_command: FlexStr = None
    resource_id: FlexStr = None
    dataset_name: FlexStr = None
    spec_code: FlexStr = None
    start_time: FlexInt = None
    volumes: list[Volume] | None = None
    dataset_version_name: FlexStr = None
    pool_name: FlexStr = None
    pool_id: FlexStr = None
    nas_mount_path: FlexStr = None
    nas_share_addr: FlexStr = None
    nas_type: FlexStr = None

    @property
    def status_name(self) -> str | None:
        return JOBSTAT.get(self.status) if self.status is not None else None


class TrainingJobVersionList(ApiModel):
    job_id: FlexInt = None
    job_name: FlexStr = None
    job_desc: FlexStr = None
    version_count: FlexInt = None
    versions: list[TrainingJobVersion] = Field(default_factory=list)


class LogFileNames(ApiModel):
    log_file_list: StrList = None


class TrainingLog(ApiModel):
    """Old byte-offset log API; the sample says ``count`` where the table says
    ``log_byte_count``: both are accepted."""

    log: FlexStr = None
    log_byte_count: FlexInt = Field(default=None, validation_alias="count")
    end_byte: FlexInt = None


class AomLog(ApiModel):
    """New line-based log API; line markers are strings (they exceed 2**53)."""

    content: FlexStr = None
    lines: FlexInt = None
    start_line: FlexStr = None
    end_line: FlexStr = None


class ResourceSpec(ApiModel):
    spec_id: FlexInt = None
    core: FlexStr = None
    cpu: FlexStr = None
    gpu_num: FlexInt = None
    gpu_type: FlexStr = None
    spec_code: FlexStr = None
    max_num: FlexInt = None
    unit_num: FlexInt = None
    storage: FlexStr = None
    interface_type: FlexInt = None
    no_resource: bool | None = None


class ResourceSpecList(ApiModel):
    spec_total_count: FlexInt = None
    specs: list[ResourceSpec] = Field(default_factory=list)


class Engine(ApiModel):
    engine_type: FlexInt = None
    engine_id: FlexInt = None
    engine_name: FlexStr = None
    engine_version: FlexStr = None


class EngineList(ApiModel):
    engines: list[Engine] = Field(default_factory=list)


class _Ok(ApiModel):
    is_success: bool | None = None


PAGES: Paging[TrainingJobList, TrainingJobSummary] = Paging(
    lambda p: p.jobs, lambda p: p.job_total_count, numbered=True
)
VERSION_PAGES: Paging[TrainingJobVersionList, TrainingJobVersion] = Paging(
    lambda p: p.versions, lambda p: p.version_count, numbered=True
)


class TrainingJobs:
    """Typed calls for training jobs and versions."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str | int) -> str:
        return self._c.project_path("training-jobs", *parts)

    async def create(self, request: TrainingJobCreateRequest) -> TrainingJobCreated:
        return await self._c.call(
            TrainingJobCreated,
            "POST",
            self._path(),
            endpoint_name="training_jobs.create",
            json_body=request.to_wire(),
        )

    async def list(
        self,
        *,
        status: int | None = None,
        per_page: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        order: str | None = None,
        search_content: str | None = None,
        workspace_id: str | None = None,
    ) -> TrainingJobList:
        """One page. ``search_content`` is a fuzzy match: compare names exactly."""
        return await self._c.call(
            TrainingJobList,
            "GET",
            self._path(),
            endpoint_name="training_jobs.list",
            params={
                "status": status,
                "per_page": per_page,
                "page": page,
                "sortBy": sort_by,
                "order": order,
                "search_content": search_content,
                "workspace_id": workspace_id,
            },
        )

    def iter_all(
        self,
        *,
        per_page: int = 500,
        status: int | None = None,
        search_content: str | None = None,
        workspace_id: str | None = None,
        sort_by: str | None = None,
        order: str | None = None,
    ) -> AsyncIterator[TrainingJobSummary]:
        fetch = partial(
            self.list,
            status=status,
            search_content=search_content,
            workspace_id=workspace_id,
            sort_by=sort_by,
            order=order,
        )
        return paginate(fetch, PAGES, per_page)

    async def find_by_name(
        self, job_name: str, *, workspace_id: str | None = None
    ) -> TrainingJobSummary | None:
        return await first(
            self.iter_all(search_content=job_name, workspace_id=workspace_id),
            lambda job: job.job_name == job_name,
        )

    async def list_versions(
        self, job_id: int, *, per_page: int | None = None, page: int | None = None
    ) -> TrainingJobVersionList:
        return await self._c.call(
            TrainingJobVersionList,
            "GET",
            self._path(job_id, "versions"),
            endpoint_name="training_jobs.versions.list",
            params={"per_page": per_page, "page": page},
        )

    def iter_versions(
        self, job_id: int, *, per_page: int = 100
    ) -> AsyncIterator[TrainingJobVersion]:
        return paginate(partial(self.list_versions, job_id), VERSION_PAGES, per_page)

    async def get_version(self, job_id: int, version_id: int) -> TrainingJobVersion:
        return await self._c.call(
            TrainingJobVersion,
            "GET",
            self._path(job_id, "versions", version_id),
            endpoint_name="training_jobs.versions.get",
        )

    async def create_version(
        self, job_id: int, request: TrainingVersionCreateRequest
    ) -> TrainingVersionCreated:
        return await self._c.call(
            TrainingVersionCreated,
            "POST",
            self._path(job_id, "versions"),
            endpoint_name="training_jobs.versions.create",
            json_body=request.to_wire(),
        )

    async def stop(self, job_id: int, version_id: int) -> None:
        """Asynchronous; stopping twice is harmless, so this POST may be retried."""
        await self._c.call(
            _Ok,
            "POST",
            self._path(job_id, "versions", version_id, "stop"),
            endpoint_name="training_jobs.versions.stop",
            idempotent=True,
        )

    async def update_description(self, job_id: int, job_desc: str) -> None:
        await self._c.call(
            _Ok,
            "PUT",
            self._path(job_id),
            endpoint_name="training_jobs.update",
            json_body={"job_desc": job_desc},
        )

    async def delete(self, job_id: int) -> None:
        await self._c.call(_Ok, "DELETE", self._path(job_id), endpoint_name="training_jobs.delete")

    async def delete_version(self, job_id: int, version_id: int) -> None:
        await self._c.call(
            _Ok,
            "DELETE",
            self._path(job_id, "versions", version_id),
            endpoint_name="training_jobs.versions.delete",
        )

    async def log_file_names(self, job_id: int, version_id: int) -> builtins.list[str]:
        result = await self._c.call(
            LogFileNames,
            "GET",
            self._path(job_id, "versions", version_id, "log", "file-names"),
            endpoint_name="training_jobs.logs.file_names",
        )
        return result.log_file_list or []

    async def logs(
        self,
        job_id: int,
        version_id: int,
        log_file: str,
        *,
        start_byte: int | None = None,
        offset: int | None = None,
    ) -> TrainingLog:
        return await self._c.call(
            TrainingLog,
            "GET",
            self._path(job_id, "versions", version_id, "log"),
            endpoint_name="training_jobs.logs.get",
            params={"log_file": log_file, "start_byte": start_byte, "offset": offset},
        )

    async def aom_logs(
        self,
        job_id: int,
        version_id: int,
        log_file: str,
        *,
        base_line: str | None = None,
        lines: int | None = None,
        order: str | None = None,
    ) -> AomLog:
        return await self._c.call(
            AomLog,
            "GET",
            self._path(job_id, "versions", version_id, "aom-log"),
            endpoint_name="training_jobs.logs.aom",
            params={"log_file": log_file, "base_line": base_line, "lines": lines, "order": order},
        )

    async def resource_specs(
        self,
        *,
        job_type: str | None = "train",
        engine_id: int | None = None,
        project_type: int | None = None,
    ) -> ResourceSpecList:
        return await self._c.call(
            ResourceSpecList,
            "GET",
            self._c.project_path("job", "resource-specs"),
            endpoint_name="training_jobs.resource_specs",
            params={"job_type": job_type, "engine_id": engine_id, "project_type": project_type},
        )

    async def engines(self, *, job_type: str | None = "train") -> EngineList:
        return await self._c.call(
            EngineList,
            "GET",
            self._c.project_path("job", "ai-engines"),
            endpoint_name="training_jobs.engines",
            params={"job_type": job_type},
        )
