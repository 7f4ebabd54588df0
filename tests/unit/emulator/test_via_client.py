"""The emulator driven through the project's own client (``modelarts_operator.api``), with both
credential kinds: what the operator will see, including errors, retries and token refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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
    errors,
)
from modelarts_operator.api.training_jobs import (
    TrainingJobConfig,
    TrainingJobCreateRequest,
    TrainingVersionConfig,
    TrainingVersionCreateRequest,
)
from modelarts_operator.api.workspaces import WorkspaceCreateRequest
from modelarts_testbed.emulator import (
    DEFAULT_AK,
    DEFAULT_IAM_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    Emulator,
    EmulatorConfig,
)


def job_config(name: str, **extra: Any) -> TrainingJobConfig:
    fields: dict[str, Any] = {
        "worker_server_num": 1,
        "app_url": "/bucket/app/",
        "boot_file_url": "/bucket/app/boot.py",
        "data_url": "/bucket/data/",
        "spec_id": 2,
        "engine_id": 1,
        "train_url": f"/bucket/out/{name}/",
    }
    fields.update(extra)
    return TrainingJobConfig(**fields)


@pytest.fixture(params=["aksk", "password"])
async def setup(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Emulator, ModelArtsClient]]:
    emulator = Emulator(EmulatorConfig(seed=5))
    emulator.freeze()
    async with emulator.serve(port=0) as url:
        creds: Any = (
            AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK)
            if request.param == "aksk"
            else PasswordCredentials(
                username=DEFAULT_IAM_USER, password=DEFAULT_IAM_PASSWORD, domain=DEFAULT_IAM_DOMAIN
            )
        )
        config = ClientConfig(
            endpoint=url,
            iam_endpoint=url,
            project_id=DEFAULT_PROJECT_ID,
            region="cn-north-4",
            qps=1000.0,
            burst=1000,
            max_retries=3,
            backoff_base=0.01,
            backoff_max=0.05,
        )
        async with ModelArtsClient(config, creds) as client:
            yield emulator, client


async def test_training_job_lifecycle(setup: tuple[Emulator, ModelArtsClient]) -> None:
    emu, client = setup
    ws = await client.workspaces.create(WorkspaceCreateRequest(name="team-ws"))
    assert ws.status == "NORMAL"
    created = await client.training_jobs.create(
        TrainingJobCreateRequest(job_name="train-1", config=job_config("t1"), workspace_id=ws.id)
    )
    assert created.status == 1
    assert created.job_id is not None
    assert created.version_id is not None
    statuses = []
    for _ in range(60):
        ver = await client.training_jobs.get_version(created.job_id, created.version_id)
        if not statuses or statuses[-1] != ver.status:
            statuses.append(ver.status)
        if ver.status == 10:
            break
        emu.advance(1)
    assert statuses == [1, 7, 8, 10]
    v2 = await client.training_jobs.create_version(
        created.job_id,
        TrainingVersionCreateRequest(
            config=TrainingVersionConfig(
                **job_config("t1").model_dump(exclude_none=True), pre_version_id=created.version_id
            )
        ),
    )
    emu.advance(8)
    await client.training_jobs.stop(created.job_id, v2.version_id)
    versions = await client.training_jobs.list_versions(created.job_id)
    assert [v.status for v in versions.versions] == [9, 10]
    with pytest.raises(errors.StateConflict) as info:
        await client.training_jobs.delete(created.job_id)
    assert info.value.error_code == "ModelArts.0105"
    emu.advance(10)
    await client.training_jobs.delete(created.job_id)
    with pytest.raises(errors.NotFound):
        await client.training_jobs.get_version(created.job_id, created.version_id)


async def test_paging_all_jobs_costs_pages_not_objects(
    setup: tuple[Emulator, ModelArtsClient],
) -> None:
    emu, client = setup
    for i in range(250):
        await client.training_jobs.create(
            TrainingJobCreateRequest(job_name=f"job-{i:03d}", config=job_config(str(i)))
        )
    emu.core.calls.clear()
    names = [job.job_name async for job in client.training_jobs.iter_all(per_page=100)]
    assert names == [f"job-{i:03d}" for i in range(250)]
    assert emu.calls("GET /v1/{project_id}/training-jobs") == 3
    found = await client.training_jobs.find_by_name("job-123")
    assert found is not None
    assert found.job_name == "job-123"


async def test_model_and_service_flow(setup: tuple[Emulator, ModelArtsClient]) -> None:
    emu, client = setup
    imported = await client.models.create(
        ModelImportRequest(
            model_name="mnist",
            model_version="1.0.0",
            source_location="obs://models/mnist/",
            model_type="TensorFlow",
        )
    )
    assert (await client.models.get(imported.model_id)).model_status == "publishing"
    emu.advance(30)
    assert (await client.models.get(imported.model_id)).model_status == "published"
    with pytest.raises(errors.AlreadyExists) as dup:
        await client.models.create(
            ModelImportRequest(
                model_name="mnist",
                model_version="1.0.0",
                source_location="obs://models/mnist/",
                model_type="TensorFlow",
            )
        )
    assert dup.value.error_code == "ModelArts.3002"
    request = ServiceDeployRequest(
        service_name="mnist-svc",
        infer_type="real-time",
        config=[
            ServiceConfig(
                model_id=imported.model_id,
                weight=100,
                specification="modelarts.vm.cpu.2u",
                instance_count=1,
            )
        ],
    )
    deployed = await client.services.create(request)
    detail = await client.services.get(deployed.service_id)
    assert detail.status == "deploying"
    emu.advance(30)
    detail = await client.services.get(deployed.service_id)
    assert detail.status == "running"
    assert detail.access_address is not None
    assert detail.access_address.endswith(deployed.service_id)
    await client.services.stop(deployed.service_id)
    assert (await client.services.get(deployed.service_id)).status == "stopped"
    await client.services.start(deployed.service_id)
    emu.advance(30)
    assert (await client.services.get(deployed.service_id)).status == "running"
    events = await client.services.events(deployed.service_id)
    assert events.total_count is not None
    assert events.total_count >= 9
    summaries = [s.service_name async for s in client.services.iter_all()]
    assert summaries == ["mnist-svc"]
    with pytest.raises(errors.StateConflict) as used:
        await client.models.delete(imported.model_id)
    assert used.value.error_code == "ModelArts.3009"
    await client.services.delete(deployed.service_id)
    with pytest.raises(errors.NotFound):
        await client.services.get(deployed.service_id)
    result = await client.models.delete(imported.model_id)
    assert result.delete_success_list == [imported.model_id]


async def test_models_paging_agrees_with_the_client(
    setup: tuple[Emulator, ModelArtsClient],
) -> None:
    emu, client = setup
    for i in range(25):
        await client.models.create(
            ModelImportRequest(
                model_name=f"m{i:02d}",
                model_version="1.0.0",
                source_location="obs://bkt/m/",
                model_type="PyTorch",
            )
        )
    emu.core.calls.clear()
    seen = [m.model_name async for m in client.models.iter_all(page_size=10)]
    assert seen == [f"m{i:02d}" for i in reversed(range(25))]  # newest first, no overlap
    assert emu.calls("GET /v1/{project_id}/models") == 3


async def test_errors_retries_and_faults(setup: tuple[Emulator, ModelArtsClient]) -> None:
    emu, client = setup
    with pytest.raises(errors.InvalidParameter) as bad:
        await client.training_jobs.create(
            TrainingJobCreateRequest(job_name="nodata", config=job_config("x", data_url=None))
        )
    assert bad.value.error_code == "ModelArts.0115"
    assert bad.value.request_id
    # transient 500s and a throttle burst are retried by the client and succeed
    emu.core.calls.clear()
    emu.add_fault(endpoint="GET /v1/{project_id}/models", kind="error", status=500, times=2)
    assert (await client.models.list()).total_count == 0
    assert emu.calls("GET /v1/{project_id}/models") == 3
    emu.add_fault(endpoint="GET /v1/{project_id}/services", kind="throttle", times=1, retry_after=0)
    assert (await client.services.list()).total_count == 0
    # beyond max_retries the error surfaces with the API's code
    emu.add_fault(
        endpoint="GET /v1/{project_id}/workspaces",
        kind="error",
        status=503,
        error_code="ModelArts.0013",
        times=10,
    )
    with pytest.raises(errors.ServerError) as server:
        await client.workspaces.list()
    assert server.value.error_code == "ModelArts.0013"


async def test_token_refresh_after_expiry(setup: tuple[Emulator, ModelArtsClient]) -> None:
    emu, client = setup
    await client.models.list()
    emu.core.tokens.expire_all(emu.core.clock.now())
    # a password client sees 401 0202, fetches a new token and retries; AK/SK is unaffected
    assert (await client.models.list()).total_count == 0


def _llm_version() -> ModelVersionInput:
    return ModelVersionInput(
        name="v1",
        config=ModelConfig(
            llm_model_config=LlmModelConfig(
                base_model_type="llama3", model_path="obs://bucket/llm/"
            )
        ),
    )


async def test_dataarts_create(setup: tuple[Emulator, ModelArtsClient]) -> None:
    emu, client = setup
    created = await client.dataarts.create_model(
        "ws-1", DataArtsModelCreateRequest(name="LLama3-8b", version=_llm_version())
    )
    assert created.id in emu.core.state.dataarts.items
    with pytest.raises(errors.ModelArtsError) as dup:
        await client.dataarts.create_model(
            "ws-1",
            DataArtsModelCreateRequest(name="LLama3-8b", version=_llm_version()),
        )
    assert dup.value.status == 400
