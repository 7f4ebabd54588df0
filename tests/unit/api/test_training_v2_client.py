"""Our client's v2 training and DataArts calls against the emulator the official SDKs judge
(tests/unit/sdk): the same flows, plus what only a client decides (error classes, paging
calls, never re-sending a create)."""

from __future__ import annotations

from datetime import datetime

import pytest

from modelarts_operator.api import (
    DataArtsModelCreateRequest,
    LlmModelConfig,
    ModelArtsClient,
    ModelConfig,
    ModelVersionInput,
    errors,
)
from modelarts_operator.api.dataarts import DataArtsModelUpdateRequest
from modelarts_operator.api.training_v2 import (
    JobAlgorithmV2,
    JobEngineV2,
    JobInputV2,
    JobMetadataV2,
    JobOutputV2,
    JobSpecV2,
    LogExportPath,
    SearchFilter,
    SpecResourceV2,
    TrainingJobV2CreateRequest,
)
from modelarts_testbed.emulator.server import Emulator

SEARCH = "POST /v2/{project_id}/training-job-searches"
CREATE = "POST /v2/{project_id}/training-jobs"


def job(name: str, *, log_path: bool = True) -> TrainingJobV2CreateRequest:
    return TrainingJobV2CreateRequest(
        metadata=JobMetadataV2(name=name, description="op-managed"),
        algorithm=JobAlgorithmV2(
            code_dir="obs://bkt/code/",
            boot_file="obs://bkt/code/train.py",
            engine=JobEngineV2(engine_id="pytorch-cp36-1.4.0-v2"),
            inputs=[
                JobInputV2.model_validate(
                    {"name": "data", "remote": {"obs": {"obs_url": "/bkt/d/"}}}
                )
            ],
            outputs=[
                JobOutputV2.model_validate(
                    {"name": "model", "remote": {"obs": {"obs_url": "/bkt/o/"}}}
                )
            ],
            environments={"A": "1", "B": "2"},
        ),
        spec=JobSpecV2(
            resource=SpecResourceV2(flavor_id="modelarts.vm.cpu.2u", node_count=1),
            log_export_path=LogExportPath(obs_url="/bkt/logs/") if log_path else None,
        ),
    )


async def test_create_get_and_find_by_name(client: ModelArtsClient, emu: Emulator) -> None:
    created = await client.training_jobs_v2.create(job("mnist"))
    assert created.phase == "Creating"
    assert created.algorithm is not None
    assert created.algorithm.environments == {"A": "1", "B": "2"}
    assert created.output_url() == "/bkt/o/"
    assert created.log_path == "/bkt/logs/"
    await client.training_jobs_v2.create(job("mnist-long"))
    found = await client.training_jobs_v2.find_by_name("mnist")
    assert found is not None
    assert found.id == created.id
    assert await client.training_jobs_v2.find_by_name("absent") is None
    assert await client.training_jobs_v2.name_taken("mnist")
    emu.advance(8)
    got = await client.training_jobs_v2.get(str(created.id))
    assert got.phase == "Running"
    assert got.status.tasks == ["worker-0"]


async def test_duplicate_name_is_already_exists(client: ModelArtsClient) -> None:
    await client.training_jobs_v2.create(job("dup"))
    with pytest.raises(errors.AlreadyExists) as caught:
        await client.training_jobs_v2.create(job("dup"))
    assert caught.value.error_code == "ModelArts.2751"
    assert caught.value.status == 400


async def test_a_create_with_an_unknown_outcome_is_never_re_sent(
    client: ModelArtsClient, emu: Emulator
) -> None:
    emu.add_fault(endpoint=CREATE, kind="error", status=500, error_code="ModelArts.2950", times=1)
    with pytest.raises(errors.Ambiguous):
        await client.training_jobs_v2.create(job("maybe"))
    assert emu.calls(CREATE) == 1


async def test_iter_all_pages_by_page_index_with_calls_per_page(
    client: ModelArtsClient, emu: Emulator
) -> None:
    for i in range(55):
        await client.training_jobs_v2.create(job(f"j{i:02d}"))
    emu.core.calls.clear()
    names = []
    async for found in client.training_jobs_v2.iter_all():
        names.append(found.metadata.name)
        if len(names) == 1:  # created while paging: read on a later page, shifting nothing
            await client.training_jobs_v2.create(job("late"))
    assert names == [f"j{i:02d}" for i in range(55)] + ["late"]
    assert emu.calls(SEARCH) == 2  # 50 + 6: calls grow with pages, not with jobs
    page = await client.training_jobs_v2.search(
        filters=[SearchFilter(key="name", operator="like", value=["j1"])], limit=5
    )
    assert (page.count, page.total, len(page.items)) == (10, 56, 5)


async def test_missing_job_is_not_found_and_delete_takes_effect_later(
    client: ModelArtsClient, emu: Emulator
) -> None:
    with pytest.raises(errors.NotFound) as caught:
        await client.training_jobs_v2.get("00000000-0000-4000-8000-000000000000")
    assert (caught.value.status, caught.value.error_code) == (400, "ModelArts.2775")
    created = await client.training_jobs_v2.create(job("bye"))
    job_id = str(created.id)
    await client.training_jobs_v2.delete(job_id)
    assert (await client.training_jobs_v2.get(job_id)).id == job_id
    emu.advance(10)
    with pytest.raises(errors.NotFound):
        await client.training_jobs_v2.get(job_id)


async def test_terminate_then_state_conflict_and_2878_is_retried(
    client: ModelArtsClient, emu: Emulator
) -> None:
    job_id = str((await client.training_jobs_v2.create(job("stop"))).id)
    emu.add_fault(
        endpoint="POST /v2/{project_id}/training-jobs/{training_job_id}/actions",
        kind="error",
        status=409,
        error_code="ModelArts.2878",
        times=1,
    )
    stopped = await client.training_jobs_v2.terminate(job_id)
    assert stopped.phase == "Terminating"
    assert emu.calls("POST /v2/{project_id}/training-jobs/{training_job_id}/actions") == 2
    with pytest.raises(errors.StateConflict) as caught:
        await client.training_jobs_v2.terminate(job_id)
    assert caught.value.error_code == "ModelArts.2796"


async def test_logs_and_metrics_before_and_after_the_run(
    client: ModelArtsClient, emu: Emulator
) -> None:
    jobs = client.training_jobs_v2
    job_id = str((await jobs.create(job("logs"))).id)
    with pytest.raises(errors.NotReady) as caught:
        await jobs.logs_preview(job_id, "worker-0")
    assert caught.value.error_code == "ModelArts.2818"
    assert await jobs.metrics(job_id, "worker-0") is None
    emu.advance(20)
    preview = await jobs.logs_preview(job_id, "worker-0")
    assert "loss=" in preview.text
    newest = await jobs.aom_logs(job_id, "worker-0", lines=3)
    assert newest.lines == 3
    metrics = await jobs.metrics(job_id, "worker-0")
    assert metrics is not None
    assert set(metrics.latest()) == {"cpuUsage", "memUsage"}  # -1 (no GPU/NPU) is left out
    events = await jobs.events(job_id, order="asc")
    assert events.events[0].message == "The training job is created."


async def test_finished_job_without_log_path(client: ModelArtsClient, emu: Emulator) -> None:
    job_id = str((await client.training_jobs_v2.create(job("nolog", log_path=False))).id)
    emu.advance(120)
    with pytest.raises(errors.NotFound) as caught:
        await client.training_jobs_v2.logs_preview(job_id, "worker-0")
    assert caught.value.error_code == "ModelArts.2822"


async def test_description_tags_catalogues_and_batch_delete(
    client: ModelArtsClient, emu: Emulator
) -> None:
    jobs = client.training_jobs_v2
    ids = [str((await jobs.create(job(f"t{i}"))).id) for i in range(2)]
    await jobs.update_description(ids[0], "changed")
    assert (await jobs.get(ids[0])).metadata.description == "changed"
    await jobs.add_tags(ids[0], {"team": "vision"})
    assert [(t.key, t.value) for t in await jobs.tags(ids[0])] == [("team", "vision")]
    await jobs.remove_tags(ids[0], ["team"])
    assert await jobs.tags(ids[0]) == []
    assert {f.flavor_type for f in await jobs.flavors(flavor_type="CPU")} == {"CPU"}
    assert any(e.engine_name == "PyTorch" for e in await jobs.engines())
    await jobs.batch_delete(ids)
    emu.advance(10)
    assert (await jobs.search()).count == 0


# ------------------------------------------------------------------------------ DataArts
def llm_version(name: str) -> ModelVersionInput:
    return ModelVersionInput(
        name=name,
        config=ModelConfig(
            llm_model_config=LlmModelConfig(
                base_model_type="llama3", model_path="obs://bucket/llm/"
            )
        ),
    )


async def test_dataarts_model_lifecycle(client: ModelArtsClient, emu: Emulator) -> None:
    fabric = client.dataarts
    created = await fabric.create_model(
        "ws-1", DataArtsModelCreateRequest(name="llm", version=llm_version("v1"))
    )
    model_id = str(created.id)
    emu.advance(10)
    model = await fabric.get_model("ws-1", model_id)
    assert isinstance(model.create_time, datetime)
    assert model.current_version is not None
    assert model.current_version.id == created.version_id
    updated = await fabric.update_model(
        "ws-1",
        model_id,
        DataArtsModelUpdateRequest(description="two versions", version=llm_version("v2")),
    )
    assert updated.description == "two versions"
    emu.advance(10)
    versions = await fabric.list_versions("ws-1", model_id)
    assert [v.name for v in versions.versions] == ["v2", "v1"]
    assert (await fabric.get_model("ws-1", model_id)).current_version.name == "v2"  # type: ignore[union-attr]
    await fabric.delete_version("ws-1", model_id, str(created.version_id))
    assert (await fabric.list_versions("ws-1", model_id)).total == 1
    await fabric.cleanup_model("ws-1", model_id)
    with pytest.raises(errors.NotFound):
        await fabric.get_model("ws-1", model_id)
    with pytest.raises(errors.NotFound):
        await fabric.cleanup_model("ws-1", model_id)
    assert (await fabric.base_models())[0].base_model_type


async def test_dataarts_iter_models_pages_by_item_offset(
    client: ModelArtsClient, emu: Emulator
) -> None:
    for i in range(105):
        await client.dataarts.create_model(
            "ws-2", DataArtsModelCreateRequest(name=f"m{i:03d}", version=llm_version("v1"))
        )
        emu.advance(0.01)
    emu.core.calls.clear()
    names = [m.name async for m in client.dataarts.iter_models("ws-2")]
    assert names == [f"m{i:03d}" for i in range(105)]
    assert emu.calls("GET /v1/workspaces/{workspace_id}/models") == 2
