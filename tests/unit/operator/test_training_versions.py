"""A config change creates exactly one new job version, even across a crash."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from modelarts_operator.api.training_jobs import TrainingJobVersion
from modelarts_operator.crd.training_job import TrainingJobSpec
from modelarts_operator.reconcile.adapter import Context
from modelarts_operator.resources.training_common import TrainingRefs
from modelarts_operator.resources.training_v1 import TrainingJobV1Adapter

from .contexts import adapter_context

SPEC = {
    "jobDesc": "d",
    "config": {
        "workerServerNum": 1,
        "appUrl": "/b/code/",
        "bootFileUrl": "/b/code/train.py",
        "engineId": 1,
        "specId": 1,
        "dataUrl": "/b/data/",
        "trainUrl": "/b/out/",
    },
}


def version(version_id: int, data_url: str) -> TrainingJobVersion:
    return TrainingJobVersion.model_validate(
        {
            "job_id": 7,
            "version_id": version_id,
            "job_desc": "d",
            "status": 8,
            "worker_server_num": 1,
            "app_url": "/b/code/",
            "boot_file_url": "/b/code/train.py",
            "engine_id": 1,
            "spec_id": 1,
            "data_url": data_url,
            "train_url": "/b/out/",
        }
    )


class FakeJobs:
    def __init__(self, versions: list[TrainingJobVersion]) -> None:
        self.versions = versions
        self.created: list[Any] = []

    async def list_versions(self, job_id: int) -> Any:
        return SimpleNamespace(versions=self.versions)

    async def get_version(self, job_id: int, version_id: int) -> TrainingJobVersion:
        return next(v for v in self.versions if v.version_id == version_id)

    async def create_version(self, job_id: int, request: Any) -> Any:
        self.created.append(request)
        new = version(100 + len(self.created), request.config.data_url)
        self.versions.append(new)
        return SimpleNamespace(version_id=new.version_id, version_name="V0002")

    async def update_description(self, job_id: int, desc: str) -> None:
        raise AssertionError("description unchanged")


def context(
    jobs: FakeJobs, generation: int, status: dict[str, Any]
) -> Context[TrainingJobSpec, TrainingRefs]:
    return adapter_context(
        TrainingJobSpec.model_validate(SPEC),
        TrainingRefs(),
        SimpleNamespace(training_jobs=jobs),
        name="job",
        remote_name="ns-job",
        generation=generation,
        status=status,
    )


async def test_config_change_creates_one_version() -> None:
    jobs = FakeJobs([version(1, "/b/old-data/")])
    ctx = context(jobs, generation=2, status={"versionId": 1, "configGeneration": 1})
    updated = await TrainingJobV1Adapter().update(ctx, "7", jobs.versions[0])
    assert len(jobs.created) == 1
    assert jobs.created[0].config.pre_version_id == 1
    assert updated.remote.version_id == 101
    assert updated.recorded["configGeneration"] == 2
    assert [e[1] for e in updated.events] == ["VersionCreated"]


async def test_version_created_before_a_crash_is_adopted_not_duplicated() -> None:
    # The previous run created version 2 with the new config, then died before recording it:
    # status still points at version 1.
    jobs = FakeJobs([version(1, "/b/old-data/"), version(2, "/b/data/")])
    ctx = context(jobs, generation=2, status={"versionId": 1, "configGeneration": 1})
    updated = await TrainingJobV1Adapter().update(ctx, "7", jobs.versions[0])
    assert jobs.created == []
    assert updated.remote.version_id == 2
    assert updated.recorded["versionId"] == 2


async def test_no_new_version_twice_for_one_generation() -> None:
    # The API normalises a value so the drift never closes: one version per generation.
    jobs = FakeJobs([version(1, "/b/old-data/")])
    ctx = context(jobs, generation=3, status={"versionId": 1, "configGeneration": 3})
    await TrainingJobV1Adapter().update(ctx, "7", jobs.versions[0])
    assert jobs.created == []
