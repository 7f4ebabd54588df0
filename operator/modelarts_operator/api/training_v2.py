"""Training jobs v2 (``/v2/{project_id}/training-jobs``): the training API the cloud accepts
today (v1 training was retired on 2023-06-30).

Shapes follow the official SDK (huaweicloudsdkmodelarts 3.1.219 ``Job``/``JobResponse``).
What a caller must know: a missing job answers HTTP 400 ModelArts.2775 (``NotFound`` here); a
duplicate name in a workspace answers 400 ModelArts.2751 (``AlreadyExists``) and the create is
never re-sent after an unknown outcome (``Ambiguous``: look the name up with ``find_by_name``);
terminate and delete are asynchronous; the search pages by page index with at most 50 jobs a
page; the response's ``algorithm.environments`` is an array of maps (read here as one map).
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from ..vocab import training as vocab
from ._types import ApiModel, ApiRequest, FlexInt, FlexStr
from .pagination import iter_offset_pages

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = [
    "MAX_SEARCH_LIMIT",
    "TERMINAL_PHASES",
    "AomLogLines",
    "JobAlgorithmV2",
    "JobEngineV2",
    "JobInputV2",
    "JobMetadataV2",
    "JobOutputV2",
    "JobParameterV2",
    "JobSpecV2",
    "LogExportPath",
    "SearchFilter",
    "SpecResourceV2",
    "TrainingEngineV2",
    "TrainingEventList",
    "TrainingFlavorV2",
    "TrainingJobV2",
    "TrainingJobV2CreateRequest",
    "TrainingJobV2List",
    "TrainingJobV2UpdateRequest",
    "TrainingJobsV2",
    "TrainingLogPreview",
    "TrainingMetrics",
]

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_SEARCH_LIMIT = 50
TERMINAL_PHASES = frozenset({"Completed", "Failed", "Abnormal", "Terminated"})


# ------------------------------------------------------------------------------ requests
# The request bodies are the models generated from the official SDK (vocab.training); the
# names below are this module's for them.
TrainingJobV2CreateRequest = vocab.Job
JobMetadataV2 = vocab.JobMetadata
JobAlgorithmV2 = vocab.JobAlgorithm
JobEngineV2 = vocab.JobEngine
JobParameterV2 = vocab.Parameters
JobInputV2 = vocab.Input
JobOutputV2 = vocab.Output
JobSpecV2 = vocab.Spec
SpecResourceV2 = vocab.SpecResource
LogExportPath = vocab.LogExportPath
TrainingJobV2UpdateRequest = vocab.JobUpdateRequestBody


class SearchFilter(ApiRequest):
    """``{"key": "name", "operator": "like", "value": ["mnist"]}``; operators: between, like,
    in, not."""

    key: str
    operator: Literal["between", "like", "in", "not"]
    value: list[str]


# ------------------------------------------------------------------------------ responses
def _merge_maps(value: Any) -> Any:
    """``[{"A": "1"}, {"B": "2"}]`` (the response form) -> ``{"A": "1", "B": "2"}``."""
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for item in value:
            if isinstance(item, Mapping):
                merged.update(item)
        return merged
    return value


EnvironmentMap = Annotated[dict[str, str] | None, BeforeValidator(_merge_maps)]


class TaskStatusV2(ApiModel):
    task: FlexStr = None
    exit_code: FlexInt = None
    message: FlexStr = None


class RunningRecordV2(ApiModel):
    start_at: FlexInt = None
    end_at: FlexInt = None
    start_type: FlexStr = None
    end_reason: FlexStr = None
    end_related_task: FlexStr = None


class JobStatusV2(ApiModel):
    phase: FlexStr = None
    secondary_phase: FlexStr = None
    duration: FlexInt = None  # ms
    start_time: FlexInt = None  # ms epoch, 0 before the run
    tasks: list[str] = Field(default_factory=list)
    task_statuses: list[TaskStatusV2] = Field(default_factory=list)
    running_records: list[RunningRecordV2] = Field(default_factory=list)


class JobMetadataV2Response(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    workspace_id: FlexStr = None
    description: FlexStr = None
    create_time: FlexInt = None  # ms epoch
    user_name: FlexStr = None
    annotations: dict[str, str] | None = None


class EngineV2Response(ApiModel):
    engine_id: FlexStr = None
    engine_name: FlexStr = None
    engine_version: FlexStr = None
    image_url: FlexStr = None


class ChannelRemote(ApiModel):
    obs: dict[str, Any] | None = None
    dataset: dict[str, Any] | None = None

    @property
    def obs_url(self) -> str | None:
        """The OBS location, of a dataset too (the server resolves it)."""
        source = self.obs or self.dataset or {}
        url = source.get("obs_url")
        return str(url) if url else None


class ChannelV2Response(ApiModel):
    name: FlexStr = None
    local_dir: FlexStr = None
    access_method: FlexStr = None
    remote: ChannelRemote | None = None


class JobAlgorithmV2Response(ApiModel):
    id: FlexStr = None
    name: FlexStr = None
    code_dir: FlexStr = None
    boot_file: FlexStr = None
    command: FlexStr = None
    engine: EngineV2Response | None = None
    parameters: list[dict[str, Any]] = Field(default_factory=list)
    inputs: list[ChannelV2Response] = Field(default_factory=list)
    outputs: list[ChannelV2Response] = Field(default_factory=list)
    environments: EnvironmentMap = None


class ResourceV2Response(ApiModel):
    policy: FlexStr = None
    flavor_id: FlexStr = None
    flavor_name: FlexStr = None
    node_count: FlexInt = None
    pool_id: FlexStr = None


class JobSpecV2Response(ApiModel):
    resource: ResourceV2Response | None = None
    log_export_path: dict[str, Any] | None = None
    schedule_policy: dict[str, Any] | None = None  # priority, preemptible (changeable)


class JobAccess(ApiModel):
    """A tool's address in a job (``endpoints.tensorboard`` and its kin). Its ``token`` is a
    secret (SDK Tensorboard.token: the TensorBoard token): not kept, so it cannot reach status,
    events, logs or metrics by any path."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    url: FlexStr = None


class TaskUrlV2(ApiModel):
    task: FlexStr = None
    url: FlexStr = None


class SshAccessV2(ApiModel):
    key_pair_names: list[str] = Field(default_factory=list)
    task_urls: list[TaskUrlV2] = Field(default_factory=list)


class JobEndpointsV2(ApiModel):
    """The job's addresses (SDK JobEndpointsResp): SSH per task, JupyterLab, TensorBoard,
    MindStudio Insight; each tool's token dropped (``JobAccess``)."""

    ssh: SshAccessV2 | None = None
    jupyter_lab: JobAccess | None = None
    tensorboard: JobAccess | None = None
    mindstudio_insight: JobAccess | None = None


class TrainingJobV2(ApiModel):
    """One job as create, show, terminate and the search answer it."""

    kind: FlexStr = None
    metadata: JobMetadataV2Response = Field(default_factory=JobMetadataV2Response)
    status: JobStatusV2 = Field(default_factory=JobStatusV2)
    algorithm: JobAlgorithmV2Response | None = None
    spec: JobSpecV2Response | None = None
    endpoints: JobEndpointsV2 | None = None

    @property
    def id(self) -> str | None:
        return self.metadata.id

    @property
    def description(self) -> str | None:
        """The description (where the operator's ownership marker is)."""
        return self.metadata.description

    @property
    def phase(self) -> str | None:
        return self.status.phase

    @property
    def log_path(self) -> str | None:
        path = (self.spec.log_export_path or {}) if self.spec else {}
        url = path.get("obs_url")
        return str(url) if url else None

    def output_url(self, name: str | None = None) -> str | None:
        """The OBS location of the output channel ``name`` (default: the first)."""
        for channel in self.algorithm.outputs if self.algorithm else []:
            if name is None or channel.name == name:
                return channel.remote.obs_url if channel.remote else None
        return None


class TrainingJobV2List(ApiModel):
    total: FlexInt = None  # all jobs of the workspace
    count: FlexInt = None  # the jobs matching the filters
    limit: FlexInt = None
    offset: FlexInt = None
    items: list[TrainingJobV2] = Field(default_factory=list)


class _NameCheck(ApiModel):
    is_duplicate: bool = False


class TrainingLogPreview(ApiModel):
    content: FlexStr = None
    current_size: FlexInt = None
    full_size: FlexInt = None
    context: FlexStr = None  # the field's name before 2022-03-01

    @property
    def text(self) -> str:
        return self.content if self.content is not None else (self.context or "")


class AomLogLines(ApiModel):
    start_line: FlexStr = None
    end_line: FlexStr = None
    lines: FlexInt = None
    content: FlexStr = None


class MetricSeries(ApiModel):
    metric: FlexStr = None
    value: list[float] = Field(default_factory=list)


class TrainingMetrics(ApiModel):
    metrics: list[MetricSeries] = Field(default_factory=list)

    def latest(self) -> dict[str, float]:
        """The newest one-minute average per metric, without the ``-1`` "no data" marks."""
        out = {}
        for series in self.metrics:
            known = [x for x in series.value if x >= 0]
            if series.metric and known:
                out[series.metric] = known[-1]
        return out


class TrainingEvent(ApiModel):
    message: FlexStr = None
    level: FlexStr = None
    time: FlexStr = None
    source: FlexStr = None


class TrainingEventList(ApiModel):
    total: FlexInt = None
    events: list[TrainingEvent] = Field(default_factory=list)


class TrainingFlavorV2(ApiModel):
    flavor_id: FlexStr = None
    flavor_name: FlexStr = None
    flavor_type: FlexStr = None
    max_num: FlexInt = None


class _FlavorList(ApiModel):
    total_count: FlexInt = None
    flavors: list[TrainingFlavorV2] = Field(default_factory=list)


class TrainingEngineV2(ApiModel):
    engine_id: FlexStr = None
    engine_name: FlexStr = None
    engine_version: FlexStr = None
    v1_compatible: bool | None = None


class _EngineList(ApiModel):
    total: FlexInt = None
    items: list[TrainingEngineV2] = Field(default_factory=list)


class Tag(ApiModel):
    key: str
    value: str = ""


class _TagList(ApiModel):
    tags: list[Tag] = Field(default_factory=list)


# ------------------------------------------------------------------------------ calls
class TrainingJobsV2:
    """Typed calls for v2 training jobs."""

    def __init__(self, client: BaseClient) -> None:
        self._c = client

    def _path(self, *parts: str) -> str:
        return self._c.path("v2", self._c.config.project_id, *parts)

    def _job(self, job_id: str, *parts: str) -> str:
        return self._path("training-jobs", job_id, *parts)

    async def create(self, request: TrainingJobV2CreateRequest) -> TrainingJobV2:
        """Never re-sent after an unknown outcome: ``Ambiguous`` then, and 2751
        (``AlreadyExists``) when the name is taken; look the job up by name either way."""
        return await self._c.call(
            TrainingJobV2,
            "POST",
            self._path("training-jobs"),
            endpoint_name="training_jobs_v2.create",
            json_body=request.to_wire(),
        )

    async def search(
        self,
        *,
        offset: int = 0,
        limit: int = MAX_SEARCH_LIMIT,
        workspace_id: str | None = None,
        filters: builtins.list[SearchFilter] | None = None,
        sort_by: str | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> TrainingJobV2List:
        """One page; ``offset`` is the page index (0 = first), ``limit`` at most 50."""
        body: dict[str, Any] = {"offset": offset, "limit": limit}
        if workspace_id is not None:
            body["workspace_id"] = workspace_id
        if filters:
            body["filters"] = [f.to_wire() for f in filters]
        if sort_by is not None:
            body["sort_by"] = sort_by
        if order is not None:
            body["order"] = order
        return await self._c.call(
            TrainingJobV2List,
            "POST",
            self._path("training-job-searches"),
            endpoint_name="training_jobs_v2.search",
            json_body=body,
            idempotent=True,  # a search changes nothing: safe to re-send
        )

    def iter_all(
        self,
        *,
        workspace_id: str | None = None,
        filters: builtins.list[SearchFilter] | None = None,
        page_size: int = MAX_SEARCH_LIMIT,
    ) -> AsyncIterator[TrainingJobV2]:
        """Every matching job, page by page (calls grow with pages of ``page_size``).

        Oldest first, so jobs created while paging land on later pages instead of shifting
        the ones still to be read. A job deleted meanwhile shifts later ones back by one and
        one of them can be missed: confirm a job missing from a listing with ``get`` before
        acting on its absence.
        """

        async def fetch(offset: int, limit: int) -> TrainingJobV2List:
            return await self.search(
                offset=offset,
                limit=limit,
                workspace_id=workspace_id,
                filters=filters,
                sort_by="create_time",
                order="asc",
            )

        return iter_offset_pages(
            fetch, lambda p: p.items, lambda p: p.count, limit=page_size, offset_is_page=True
        )

    async def find_by_name(
        self, name: str, *, workspace_id: str | None = None
    ) -> TrainingJobV2 | None:
        """The job called exactly ``name`` (the ``like`` filter also matches longer names)."""
        wanted = [SearchFilter(key="name", operator="like", value=[name])]
        async for job in self.iter_all(workspace_id=workspace_id, filters=wanted):
            if job.metadata.name == name:
                return job
        return None

    async def name_taken(self, name: str, *, workspace_id: str | None = None) -> bool:
        check = await self._c.call(
            _NameCheck,
            "GET",
            self._path("training-job-names"),
            endpoint_name="training_jobs_v2.names",
            params={"job_name": name, "workspace_id": workspace_id},
        )
        return check.is_duplicate

    async def get(self, job_id: str) -> TrainingJobV2:
        """``NotFound`` (400 ModelArts.2775) once the job is gone."""
        return await self._c.call(
            TrainingJobV2, "GET", self._job(job_id), endpoint_name="training_jobs_v2.get"
        )

    async def update_description(self, job_id: str, description: str) -> None:
        await self.update(job_id, TrainingJobV2UpdateRequest(description=description))

    async def update(self, job_id: str, request: TrainingJobV2UpdateRequest) -> None:
        """What a job changes in place: its description, ``metadata.annotation`` (the
        JupyterLab switch), ``spec.schedule_policy`` priority and preemption, and
        ``spec.notification``."""
        await self._c.request(
            "PUT",
            self._job(job_id),
            endpoint_name="training_jobs_v2.update",
            json_body=request.to_wire(),
        )

    async def terminate(self, job_id: str) -> TrainingJobV2:
        """Asynchronous (the answer says Terminating). ``StateConflict`` (409 2796) when the
        job has already ended or is being stopped."""
        return await self._c.call(
            TrainingJobV2,
            "POST",
            self._job(job_id, "actions"),
            endpoint_name="training_jobs_v2.terminate",
            json_body={"action_type": "terminate"},
            idempotent=True,  # a repeated terminate cannot do more than the first
        )

    async def delete(self, job_id: str) -> None:
        """Asynchronous: GET returns the job a while longer, then ``NotFound``."""
        await self._c.request("DELETE", self._job(job_id), endpoint_name="training_jobs_v2.delete")

    async def batch_delete(self, job_ids: builtins.list[str], *, kind: str = "job") -> None:
        """At most 100 jobs of one workspace."""
        await self._c.request(
            "POST",
            self._path("training-jobs", "batch-delete"),
            endpoint_name="training_jobs_v2.batch_delete",
            json_body={"jobs": [{"kind": kind, "metadata": {"id": i}} for i in job_ids]},
            idempotent=True,
        )

    async def logs_preview(self, job_id: str, task: str) -> TrainingLogPreview:
        """``NotReady`` (2818/2776) before the task ran; ``NotFound`` (2822) for a finished
        job without a log export path."""
        return await self._c.call(
            TrainingLogPreview,
            "GET",
            self._job(job_id, "tasks", task, "logs", "preview"),
            endpoint_name="training_jobs_v2.logs.preview",
        )

    async def aom_logs(
        self,
        job_id: str,
        task: str,
        *,
        base_line: str | None = None,
        lines: int | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> AomLogLines:
        """Without ``base_line`` the newest lines; ``desc`` with it: the lines after it."""
        return await self._c.call(
            AomLogLines,
            "GET",
            self._job(job_id, "logs", task),
            endpoint_name="training_jobs_v2.logs.aom",
            params={"base_line": base_line, "lines": lines, "order": order},
        )

    async def metrics(self, job_id: str, task: str) -> TrainingMetrics | None:
        """None before the task runs (HTTP 204, the documented NotReadyToFetchMetric)."""
        response = await self._c.request(
            "GET", self._job(job_id, "metrics", task), endpoint_name="training_jobs_v2.metrics"
        )
        if response.status == 204:
            return None
        data = response.data if isinstance(response.data, Mapping) else {}
        return TrainingMetrics.model_validate(data)

    async def events(
        self,
        job_id: str,
        *,
        offset: int | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | None = None,
        level: Literal["Info", "Warning", "Error"] | None = None,
    ) -> TrainingEventList:
        return await self._c.call(
            TrainingEventList,
            "GET",
            self._job(job_id, "events"),
            endpoint_name="training_jobs_v2.events",
            params={"offset": offset, "limit": limit, "order": order, "level": level},
        )

    async def flavors(
        self, *, flavor_type: Literal["CPU", "GPU", "Ascend"] | None = None
    ) -> builtins.list[TrainingFlavorV2]:
        found = await self._c.call(
            _FlavorList,
            "GET",
            self._path("training-job-flavors"),
            endpoint_name="training_jobs_v2.flavors",
            params={"flavor_type": flavor_type},
        )
        return found.flavors

    async def engines(self) -> builtins.list[TrainingEngineV2]:
        found = await self._c.call(
            _EngineList,
            "GET",
            self._path("training-job-engines"),
            endpoint_name="training_jobs_v2.engines",
        )
        return found.items

    def _tags(self, job_id: str, *parts: str) -> str:
        return self._path("modelarts-training-job", job_id, "tags", *parts)

    async def tags(self, job_id: str) -> builtins.list[Tag]:
        found = await self._c.call(
            _TagList, "GET", self._tags(job_id), endpoint_name="training_jobs_v2.tags"
        )
        return found.tags

    async def add_tags(self, job_id: str, tags: Mapping[str, str]) -> None:
        await self._c.request(
            "POST",
            self._tags(job_id, "create"),
            endpoint_name="training_jobs_v2.tags.create",
            json_body={"tags": [{"key": k, "value": val} for k, val in tags.items()]},
            idempotent=True,  # setting the same tags twice leaves the same tags
        )

    async def remove_tags(self, job_id: str, keys: builtins.list[str]) -> None:
        await self._c.request(
            "DELETE",
            self._tags(job_id, "delete"),
            endpoint_name="training_jobs_v2.tags.delete",
            json_body={"tags": [{"key": k} for k in keys]},
        )
