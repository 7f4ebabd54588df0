"""The pydantic Spec/Status models: examples round-trip, camelCase aliases, constraints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from modelarts_operator.crd.generate import KINDS, find_root
from modelarts_operator.crd.model import ModelSpec, ModelStatus
from modelarts_operator.crd.notebook import NotebookSpec
from modelarts_operator.crd.service import ServiceSpec, ServiceStatus
from modelarts_operator.crd.training_job import TrainingJobSpec, TrainingJobStatus
from modelarts_operator.crd.workspace import WorkspaceSpec

EXAMPLES = find_root(Path(__file__).parent) / "examples"
SPECS: dict[str, type[BaseModel]] = {info.kind: info.spec for info in KINDS}


def _examples() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def test_demo_examples_cover_the_pipeline() -> None:
    kinds = [doc["kind"] for _, doc in _examples()]
    assert kinds == [
        "Network", "ResourcePool", "Algorithm", "Workspace", "TrainingJob", "Model", "Service"
    ]  # fmt: skip
    by_kind = {doc["kind"]: doc for _, doc in _examples()}
    # From pool and algorithm: the job starts from the Algorithm on the pool, the Service
    # runs on the pool, and the pool on the Network.
    pool = by_kind["ResourcePool"]["metadata"]["name"]
    assert (
        by_kind["ResourcePool"]["spec"]["networkRef"]["name"]
        == (by_kind["Network"]["metadata"]["name"])
    )
    job = by_kind["TrainingJob"]["spec"]
    assert job["algorithm"]["algorithmRef"]["name"] == by_kind["Algorithm"]["metadata"]["name"]
    assert job["resource"]["poolRef"]["name"] == pool
    groups = by_kind["Service"]["spec"]["v2"]["groupConfigs"]
    assert {g["poolRef"]["name"] for g in groups} == {pool}
    assert set(by_kind["ResourcePool"]["spec"]["scope"]) >= {"Train", "Infer"}
    assert (
        by_kind["Model"]["spec"]["trainingJobRef"]["name"]
        == by_kind["TrainingJob"]["metadata"]["name"]
    )
    # The pipeline's Service is the v2 form: the Model's weights mounted into its unit.
    unit = by_kind["Service"]["spec"]["v2"]["groupConfigs"][0]["unitConfigs"][0]
    service_ref = unit["models"][0]["modelRef"]["name"]
    assert service_ref == by_kind["Model"]["metadata"]["name"]


@pytest.mark.parametrize(("name", "doc"), _examples(), ids=lambda v: str(v)[:30])
def test_example_round_trips_without_losing_fields(name: str, doc: dict[str, Any]) -> None:
    assert doc["apiVersion"] == "modelarts.huaweicloud.com/v1alpha1"
    spec_model = SPECS[doc["kind"]]
    spec = spec_model.model_validate(doc["spec"])
    dumped = spec.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert dumped == doc["spec"], name


def test_snake_case_in_python_camel_case_in_yaml() -> None:
    job = TrainingJobSpec.model_validate(
        {
            "workspaceRef": {"name": "demo"},
            "config": {
                "workerServerNum": 2,
                "dataUrl": "/b/data/",
                "modelId": 4,
                "specId": 1,
                "trainUrl": "/b/out/",
            },
        }
    )
    assert job.config.worker_server_num == 2
    assert job.workspace_ref is not None
    assert job.workspace_ref.name == "demo"
    assert job.deletion_policy == "Delete"
    assert job.config.create_version is True
    assert job.model_dump(by_alias=True, exclude_none=True)["config"]["trainUrl"] == "/b/out/"
    # populate_by_name: the operator can build specs with Python names too
    assert WorkspaceSpec(auth_type="INTERNAL").auth_type == "INTERNAL"


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (WorkspaceSpec, {"name": "ab"}, "name"),
        (WorkspaceSpec, {"authType": "open"}, "authType"),
        (TrainingJobSpec, {"jobName": "bad name", "config": {}}, "jobName"),
        (ModelSpec, {"modelVersion": "01.0.0"}, "modelVersion"),
        (ModelSpec, {"description": "a<b"}, "description"),
        (ModelSpec, {"modelType": "Keras"}, "modelType"),
        (ServiceSpec, {"inferType": "stream", "config": []}, "inferType"),
        (ServiceSpec, {"inferType": "real-time", "config": []}, "config"),
    ],
)
def test_documented_constraints_are_enforced_in_python(
    model: type[BaseModel], data: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert field in {str(e["loc"][0]) for e in info.value.errors()}


def test_the_clouds_own_spelling_is_accepted_and_sent_as_documented() -> None:
    """The 2020 reference's example writes "auth_type": "internal"; Terraform sends it so."""
    assert WorkspaceSpec.model_validate({"authType": "internal"}).auth_type == "INTERNAL"
    volume = NotebookSpec.model_validate(
        {"image": {"id": "x"}, "flavor": "f", "volume": {"category": "evs", "ownership": "managed"}}
    ).volume
    assert (volume.category, volume.ownership) == ("EVS", "MANAGED")
    assert volume.to_wire() == {"category": "EVS", "ownership": "MANAGED"}


def test_chinese_names_allowed_where_the_api_allows_them() -> None:
    assert WorkspaceSpec(name="训练空间-01").name == "训练空间-01"
    assert ModelSpec.model_validate({"modelName": "手写数字"}).model_name == "手写数字"


def test_status_models_parse_what_the_operator_writes() -> None:
    status = TrainingJobStatus.model_validate(
        {
            "observedGeneration": 3,
            "phase": "Running",
            "jobId": 10,
            "versionId": 12,
            "versionName": "V0002",
            "remoteStatus": "JOBSTAT_RUNNING",
            "remoteStatusCode": 8,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "Running",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                    "observedGeneration": 3,
                }
            ],
            "metrics": {"accuracy": 0.9, "f1Score": 0.8},
        }
    )
    assert status.conditions[0].status == "False"
    assert status.metrics is not None
    assert status.metrics.f1_score == 0.8
    out = status.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert out["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    svc = ServiceStatus(service_id="s-1", access_address="https://x/v1/infers/s-1")
    assert svc.model_dump(by_alias=True, exclude_none=True)["accessAddress"].endswith("s-1")
    model = ModelStatus.model_validate({"modelId": "m", "source": {"jobId": "10"}})
    assert model.source is not None
    assert model.source.job_id == "10"
