"""The judge itself: it must catch the shape faults the SDK's parser lets through or dies on
(the emulator's old DataArts list sent epoch milliseconds where ModelInfo has a date-time)."""

from __future__ import annotations

import huaweicloudsdkdataartsfabric.v1 as fabric
import huaweicloudsdkmodelarts.v1 as modelarts
import pytest

from .judge import model_problems

OLD_DATAARTS_ITEM = {
    "id": "m1",
    "name": "LLama3-8b",
    "type": "LLM_MODEL",
    "workspace_id": "ws-1",
    "create_time": 1764655200000,
    "status": "ACTIVE",
}


def test_the_old_dataarts_list_crashes_the_sdk_parser(
    fab: fabric.DataArtsFabricClient,
) -> None:
    with pytest.raises(AttributeError):
        fab._deserialize({"total": 1, "models": [OLD_DATAARTS_ITEM]}, "ListModelsResponse")


def test_the_judge_names_each_fault() -> None:
    problems = model_problems(
        {"total": 1, "models": [OLD_DATAARTS_ITEM]}, fabric.ListModelsResponse, fabric
    )
    assert "$.models[0].create_time: expected an ISO-8601 date-time string, got 1764655200000" in (
        problems
    )
    assert "$.models[0].status: not a field of ModelInfo" in problems
    assert "$.models[0].workspace_id: not a field of ModelInfo" in problems


def test_the_judge_checks_nested_training_types() -> None:
    job = {
        "metadata": {"id": "x", "create_time": "1764655200000"},
        "status": {"phase": "Running", "duration": 1.5, "tasks": "worker-0"},
        "algorithm": {"environments": {"A": "1"}},
        "spec": {"resource": {"flavor_detail": {"flavor_info": {"disk": {"size": 50}}}}},
    }
    problems = model_problems(job, modelarts.ShowTrainingJobDetailsResponse, modelarts)
    assert problems == [
        "$.metadata.create_time: expected int, got str '1764655200000'",
        "$.status.duration: expected int, got float 1.5",
        "$.status.tasks: expected a list, got str",
        "$.algorithm.environments: expected a list, got dict",
        "$.spec.resource.flavor_detail.flavor_info.disk.size: expected str, got int 50",
    ]
