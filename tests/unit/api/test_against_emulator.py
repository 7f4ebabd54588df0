"""Happy paths (and a few faults) against the in-process emulator over real HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from modelarts_operator.api import (
    AkSkCredentials,
    ClientConfig,
    DataArtsModelCreateRequest,
    LlmModelConfig,
    ModelArtsClient,
    ModelConfig,
    ModelImportRequest,
    ModelVersionInput,
    PasswordCredentials,
    ServiceConfig,
    ServiceDeployRequest,
    ServiceUpdateRequest,
    TrainingJobConfig,
    TrainingJobCreateRequest,
    TrainingVersionConfig,
    TrainingVersionCreateRequest,
    WorkspaceCreateRequest,
    WorkspaceUpdateRequest,
    errors,
)
from modelarts_testbed.emulator import (
    DEFAULT_AK,
    DEFAULT_IAM_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    EmulatorConfig,
)
from modelarts_testbed.emulator.server import Emulator

from .helpers import FakeTime


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=1))
    async with emu.serve(port=0):
        yield emu


def _client(emu: Emulator, *, password: bool = False, **config: object) -> ModelArtsClient:
    credentials: AkSkCredentials | PasswordCredentials
    if password:
        credentials = PasswordCredentials(
            username=DEFAULT_IAM_USER, password=DEFAULT_IAM_PASSWORD, domain=DEFAULT_IAM_DOMAIN
        )
    else:
        credentials = AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK)
    params: dict[str, object] = {
        "endpoint": emu.url,
        "iam_endpoint": emu.url,
        "project_id": DEFAULT_PROJECT_ID,
        "region": "cn-north-4",
        "max_retries": 3,
    }
    params.update(config)
    fake = FakeTime()
    return ModelArtsClient(
        ClientConfig(**params),  # type: ignore[arg-type]
        credentials,
        sleep=fake.sleep,
        clock=fake.clock,
    )


MODEL = ModelImportRequest(
    model_name="mnist",
    model_version="1.0.0",
    source_location="https://models.obs.cn-north-4.myhuaweicloud.com/mnist/",
    model_type="TensorFlow",
    install_type=["real-time", "batch"],
)


@pytest.mark.parametrize("password", [False, True], ids=["aksk", "token"])
async def test_workspace_lifecycle(emulator: Emulator, password: bool) -> None:
    async with _client(emulator, password=password) as client:
        ws = await client.workspaces.create(
            WorkspaceCreateRequest(name="team-alpha", description="d", auth_type="PUBLIC")
        )
        assert ws.id
        assert ws.name == "team-alpha"
        got = await client.workspaces.get(ws.id)
        assert got.status == "NORMAL"
        assert (
            await client.workspaces.update(ws.id, WorkspaceUpdateRequest(description="changed"))
            == ws.id
        )
        assert (await client.workspaces.get(ws.id)).description == "changed"
        names = [w.name async for w in client.workspaces.iter_all()]
        assert "team-alpha" in names
        assert "default" in names
        quotas = await client.workspaces.get_quotas(ws.id)
        assert isinstance(quotas.quotas, list)
        with pytest.raises(errors.AlreadyExists):
            await client.workspaces.create(WorkspaceCreateRequest(name="team-alpha"))
        await client.workspaces.delete(ws.id)
        emulator.advance(3600)
        with pytest.raises(errors.NotFound):
            await client.workspaces.get(ws.id)


async def test_training_job_lifecycle(emulator: Emulator) -> None:
    async with _client(emulator) as client:
        created = await client.training_jobs.create(
            TrainingJobCreateRequest(
                job_name="job-1",
                job_desc="first",
                config=TrainingJobConfig(
                    worker_server_num=1,
                    app_url="/bucket/app/",
                    boot_file_url="/bucket/app/boot.py",
                    data_url="/bucket/data/",
                    spec_id=1,
                    engine_id=1,
                    train_url="/bucket/train/",
                ),
            )
        )
        assert created.job_id is not None
        assert created.version_id is not None
        job_id, version_id = created.job_id, created.version_id
        found = await client.training_jobs.find_by_name("job-1")
        assert found is not None
        assert found.job_id == job_id
        version = await client.training_jobs.get_version(job_id, version_id)
        assert version.job_name == "job-1"
        emulator.advance(10_000)
        version = await client.training_jobs.get_version(job_id, version_id)
        assert version.status is not None
        await client.training_jobs.update_description(job_id, "second")
        new = await client.training_jobs.create_version(
            job_id,
            TrainingVersionCreateRequest(
                config=TrainingVersionConfig(
                    worker_server_num=1,
                    app_url="/bucket/app/",
                    boot_file_url="/bucket/app/boot.py",
                    data_url="/bucket/data/",
                    spec_id=1,
                    engine_id=1,
                    train_url="/bucket/train2/",
                    pre_version_id=version_id,
                )
            ),
        )
        versions = [v async for v in client.training_jobs.iter_versions(job_id)]
        assert {v.version_id for v in versions} >= {version_id, new.version_id}
        files = await client.training_jobs.log_file_names(job_id, version_id)
        if files:
            await client.training_jobs.logs(job_id, version_id, files[0])
            await client.training_jobs.aom_logs(job_id, version_id, files[0])
        assert new.version_id is not None
        # it may already have finished on the emulator's clock
        with contextlib.suppress(errors.StateConflict):
            await client.training_jobs.stop(job_id, new.version_id)
        emulator.advance(10_000)
        await client.training_jobs.delete(job_id)
        emulator.advance(10_000)
        assert await client.training_jobs.find_by_name("job-1") is None


async def test_model_and_service_lifecycle(emulator: Emulator) -> None:
    async with _client(emulator) as client:
        model = await client.models.create(MODEL)
        assert model.model_id
        with pytest.raises(errors.AlreadyExists):
            await client.models.create(MODEL)
        emulator.advance(600)
        detail = await client.models.get(model.model_id)
        assert detail.model_status == "published"
        found = await client.models.find("mnist", "1.0.0")
        assert found is not None
        assert found.model_id == model.model_id

        svc = await client.services.create(
            ServiceDeployRequest(
                service_name="mnist-svc",
                infer_type="real-time",
                config=[
                    ServiceConfig(
                        model_id=model.model_id,
                        weight=100,
                        specification="modelarts.vm.cpu.2u",
                        instance_count=1,
                    )
                ],
            )
        )
        assert svc.service_id
        emulator.advance(600)
        got = await client.services.get(svc.service_id)
        assert got.status == "running"
        events = [e async for e in client.services.iter_events(svc.service_id)]
        assert events
        await client.services.update_logs(svc.service_id)
        await client.services.monitor(svc.service_id)
        specs = await client.services.specifications()
        assert specs.specifications
        await client.services.update(svc.service_id, ServiceUpdateRequest(description="x"))
        await client.services.stop(svc.service_id)
        emulator.advance(600)
        assert (await client.services.get(svc.service_id)).status == "stopped"
        with pytest.raises(errors.StateConflict):
            await client.models.delete(model.model_id)
        await client.services.delete(svc.service_id)
        emulator.advance(600)
        with pytest.raises(errors.NotFound):
            await client.services.get(svc.service_id)
        await client.models.delete(model.model_id)
        emulator.advance(600)
        with pytest.raises(errors.NotFound):
            await client.models.get(model.model_id)


async def test_dataarts_create(emulator: Emulator) -> None:
    async with _client(emulator, password=True) as client:
        created = await client.dataarts.create_model(
            "ws-1",
            DataArtsModelCreateRequest(
                name="LLama3-8b",
                version=ModelVersionInput(
                    name="v1",
                    config=ModelConfig(
                        llm_model_config=LlmModelConfig(
                            base_model_type="llama3", model_path="obs://bucket/model/"
                        )
                    ),
                ),
            ),
        )
        assert created.id


async def test_pagination_over_many_pages(emulator: Emulator) -> None:
    async with _client(emulator) as client:
        for i in range(7):
            await client.models.create(
                MODEL.model_copy(update={"model_name": f"m{i}", "install_type": None})
            )
        seen = [m.model_name or "" async for m in client.models.iter_all(page_size=3)]
        assert sorted(seen) == [f"m{i}" for i in range(7)]


async def test_injected_throttle_is_retried_after_retry_after(emulator: Emulator) -> None:
    emulator.add_fault(
        endpoint="GET /v1/{project_id}/models", kind="throttle", retry_after=4, times=2
    )
    fake = FakeTime()
    client = ModelArtsClient(
        ClientConfig(endpoint=emulator.url, project_id=DEFAULT_PROJECT_ID),
        AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    async with client:
        page = await client.models.list()
    assert page.models == []
    assert fake.sleeps == [4.0, 4.0]


async def test_dropped_create_is_ambiguous_and_not_resent(emulator: Emulator) -> None:
    emulator.add_fault(endpoint="POST /v1/{project_id}/models", kind="drop", times=1)
    attempts: list[int | None] = []

    def hook(name: str, _method: str, status: int | None, _seconds: float) -> None:
        if name == "models.create":
            attempts.append(status)

    async with _client(emulator, on_call=hook) as client:
        with pytest.raises(errors.Ambiguous):
            await client.models.create(MODEL)
        assert attempts == [None]  # one attempt, no HTTP answer, never re-sent
        # the caller's recovery: look the name up (the drop happened before the create)
        assert await client.models.find("mnist", "1.0.0") is None


async def test_wrong_secret_is_auth_failed(emulator: Emulator) -> None:
    client = ModelArtsClient(
        ClientConfig(endpoint=emulator.url, project_id=DEFAULT_PROJECT_ID),
        AkSkCredentials(ak=DEFAULT_AK, sk="not-the-secret"),
    )
    async with client:
        with pytest.raises(errors.AuthFailed):
            await client.models.list()
