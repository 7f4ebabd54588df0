"""Every typed endpoint: exact method, path, query and body on the wire, and tolerant
parsing of the documented samples."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from modelarts_operator.api import (
    DataArtsModelCreateRequest,
    JobParameter,
    LlmModelConfig,
    ModelApi,
    ModelArtsClient,
    ModelConfig,
    ModelDependency,
    ModelDoc,
    ModelImportRequest,
    ModelPackage,
    ModelParam,
    ModelTemplate,
    ModelVersionInput,
    ServiceConfig,
    ServiceDeployRequest,
    ServiceSchedule,
    ServiceUpdateRequest,
    TemplateInput,
    TrainingJobConfig,
    TrainingJobCreateRequest,
    TrainingVersionConfig,
    TrainingVersionCreateRequest,
    Volume,
    WorkspaceCreateRequest,
    WorkspaceGrantRequest,
    WorkspaceUpdateRequest,
    errors,
)
from modelarts_operator.api.workspaces import WorkspaceQuotaUpdate

from .helpers import PROJECT, FakeTime, Script, make_client

P = f"/v1/{PROJECT}"
# The documented model import request (the API's sample, with our OBS paths).
SEED_000_SAMPLE = (
    '{"model_name":"mnist","model_version":"1.0.0","source_location":"https://models.obs.xx'
    'xx.com/mnist","source_job_id":"55","source_job_version":"V100","model_type":"TensorFlo'
    'w","runtime":"python2.7","description":"mnist model","execution_code":"https://testmod'
    'el.obs.xxxx.com/customize_service.py","input_params":[{"url":"/v1/xxx/image","protocol'
    '":"http","method":"post","param_name":"image_url","param_type":"string","min":0,"max":'
    '9,"param_desc":"http://test/test.jpeg"}],"output_params":[{"url":"/v1/xxx/image","prot'
    'ocol":"http","method":"post","param_name":"face_location","param_type":"box","param_de'
    'sc":"face_location param value description"}],"dependencies":[{"installer":"pip","pack'
    'ages":[{"package_name":"numpy","package_version":"1.5.0","restraint":"ATLEAST"}]}],"mo'
    'del_algorithm":"object_detection","model_metrics":"{\\"f1\\":0.52381,\\"recall\\":0.666667'
    ',\\"precision\\":0.466667,\\"accuracy\\":0.625}","apis":[{"url":"/v1/xxx/image","protocol"'
    ':"http","method":"post","input_params":{"type":"object","properties":{"image_url":{"ty'
    'pe":"string"}}},"output_params":{"type":"object","properties":{"face_location":{"type"'
    ':"box"}}}}]}'
)
Call = Callable[[ModelArtsClient], Awaitable[Any]]


async def _run(call: Call, response: Any, status: int = 200) -> tuple[Any, Script]:
    script = Script().json(status, response)
    client = make_client(script, FakeTime())
    result = await call(client)
    await client.aclose()
    return result, script


def _sent(script: Script) -> tuple[str, str, dict[str, str], Any]:
    request = script.requests[-1]
    return (
        request.method,
        request.url.path,
        dict(parse_qsl(request.url.query.decode(), keep_blank_values=True)),
        script.body(),
    )


# ------------------------------------------------------------------------------ workspaces
async def test_workspace_create() -> None:
    sample = {
        "id": "cfedf4a550124446a0c781c2deababe0",
        "name": "test-workspace",
        "description": "It's a test project",
        "owner": "testUser",
        "create_time": 1470000020000,
        "update_time": 1470000020000,
        "enterprise_project_id": "10eb0091-887f-4839-9929-cbc884f1e20e",
        "enterprise_project_name": "test-eps",
        "auth_type": "public",
        "status": "NORMAL",
    }
    req = WorkspaceCreateRequest(
        name="test-workspace",
        description="It's a test project",
        auth_type="INTERNAL",
        grants=[WorkspaceGrantRequest(user_name="test")],
    )
    ws, script = await _run(lambda c: c.workspaces.create(req), sample)
    assert _sent(script) == (
        "POST",
        f"{P}/workspaces",
        {},
        {
            "name": "test-workspace",
            "description": "It's a test project",
            "auth_type": "INTERNAL",
            "grants": [{"user_name": "test"}],
        },
    )
    assert ws.id == "cfedf4a550124446a0c781c2deababe0"
    assert ws.status == "NORMAL"


async def test_workspace_list_get_update_delete_quotas() -> None:
    page, script = await _run(
        lambda c: c.workspaces.list(offset=3, limit=2, sort_by="name", order="desc", name="te"),
        {"total_count": 10, "count": 2, "workspaces": [{"id": "0", "name": "default"}]},
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/workspaces",
        {"offset": "3", "limit": "2", "sort_by": "name", "order": "desc", "name": "te"},
    )
    assert page.total_count == 10
    assert page.workspaces[0].id == "0"

    ws, script = await _run(
        lambda c: c.workspaces.get("ccd0"),
        {"id": "ccd0", "auth_type": "INTERNAL", "grants": [{"user_id": "d01", "user_name": "u"}]},
    )
    assert _sent(script)[:2] == ("GET", f"{P}/workspaces/ccd0")
    assert ws.grants is not None
    assert ws.grants[0].user_id == "d01"

    upd = WorkspaceUpdateRequest(name="new_name", description="update description")
    wid, script = await _run(lambda c: c.workspaces.update("ccd0", upd), {"workspace_id": "ccd0"})
    assert _sent(script) == (
        "PUT",
        f"{P}/workspaces/ccd0",
        {},
        {"name": "new_name", "description": "update description"},
    )
    assert wid == "ccd0"

    wid, script = await _run(lambda c: c.workspaces.delete("ccd0"), {"workspace_id": "ccd0"})
    assert _sent(script)[:2] == ("DELETE", f"{P}/workspaces/ccd0")
    assert wid == "ccd0"

    quota = {"resource": "exemlProject.gpu_duration", "quota": 10, "min_quota": -1}
    quotas, script = await _run(
        lambda c: c.workspaces.get_quotas("ccd0"), {"quotas": [{**quota, "used_quota": 5}]}
    )
    assert _sent(script)[:2] == ("GET", f"{P}/workspaces/ccd0/quotas")
    assert quotas.quotas[0].used_quota == 5

    update = [WorkspaceQuotaUpdate(resource="exemlProject.gpu_duration", quota=10)]
    quotas, script = await _run(
        lambda c: c.workspaces.update_quotas("ccd0", update), {"quotas": [quota]}
    )
    assert _sent(script)[3] == {"quotas": [{"resource": "exemlProject.gpu_duration", "quota": 10}]}
    assert quotas.quotas[0].quota == 10


async def test_workspace_missing_sample_is_not_found() -> None:
    body = {
        "error_msg": "workspace: ccd05d1a553b4e188ea878e7dcb85e47 not exist.",
        "error_code": "ModelArts.0104",
        "request_id": "3df6cb1559f74c48b97db739c716eae0",
    }
    with pytest.raises(errors.NotFound) as info:
        await _run(lambda c: c.workspaces.delete("ccd05d1a553b4e188ea878e7dcb85e47"), body, 400)
    assert info.value.request_id == "3df6cb1559f74c48b97db739c716eae0"


# ---------------------------------------------------------------------------- training
NFS = {"id": "43b3", "src_path": "192.168.8.150:/", "dest_path": "/home/work/nas"}
JOB_CONFIG = TrainingJobConfig(
    worker_server_num=1,
    app_url="/usr/app/",
    boot_file_url="/usr/app/boot.py",
    parameter=[
        JobParameter(label="learning_rate", value="0.01"),
        JobParameter(label="batch_size", value="32"),
    ],
    dataset_id="38277e62-9e59-48f4-8d89-c8cf41622c24",
    dataset_version_id="2ff0d6ba-c480-45ae-be41-09a8369bfc90",
    spec_id=1,
    engine_id=1,
    train_url="/usr/train/",
    log_url="/usr/log/",
    volumes=[Volume.model_validate({"nfs": NFS})],
)


async def test_training_job_create_sends_the_documented_body_and_parses_strings() -> None:
    req = TrainingJobCreateRequest(
        job_name="TestModelArtsJob",
        job_desc="This is a ModelArts job",
        workspace_id="af261af2218841ec960b01ab3cf1a5fa",
        config=JOB_CONFIG,
    )
    sample = {
        "is_success": True,
        "job_id": "10",
        "job_name": "TestModelArtsJob",
        "status": "1",
        "create_time": "1524189990635",
        "version_id": "10",
        "version_name": "V0001",
        "resource_id": "jobafd08896",
    }
    created, script = await _run(lambda c: c.training_jobs.create(req), sample)
    method, path, query, body = _sent(script)
    assert (method, path, query) == ("POST", f"{P}/training-jobs", {})
    assert body == {
        "job_name": "TestModelArtsJob",
        "job_desc": "This is a ModelArts job",
        "workspace_id": "af261af2218841ec960b01ab3cf1a5fa",
        "config": {
            "worker_server_num": 1,
            "app_url": "/usr/app/",
            "boot_file_url": "/usr/app/boot.py",
            "parameter": [
                {"label": "learning_rate", "value": "0.01"},
                {"label": "batch_size", "value": "32"},
            ],
            "dataset_id": "38277e62-9e59-48f4-8d89-c8cf41622c24",
            "dataset_version_id": "2ff0d6ba-c480-45ae-be41-09a8369bfc90",
            "spec_id": 1,
            "engine_id": 1,
            "train_url": "/usr/train/",
            "log_url": "/usr/log/",
            "volumes": [
                {
                    "nfs": {
                        "id": "43b3",
                        "src_path": "192.168.8.150:/",
                        "dest_path": "/home/work/nas",
                    }
                }
            ],
        },
    }
    assert (created.job_id, created.version_id, created.status) == (10, 10, 1)
    assert created.create_time == 1524189990635


async def test_training_job_duplicate_name_is_already_exists() -> None:
    body = {
        "is_success": False,
        "error_msg": "Job name:TestModelArtsJob is existed",
        "error_code": "ModelArts.0103",
    }
    req = TrainingJobCreateRequest(job_name="TestModelArtsJob", config=JOB_CONFIG)
    with pytest.raises(errors.AlreadyExists):
        await _run(lambda c: c.training_jobs.create(req), body, 400)


async def test_training_job_list_with_filters() -> None:
    sample = {
        "is_success": True,
        "quotas": 5,
        "job_total_count": 1,
        "job_count_limit": 3,
        "jobs": [
            {
                "job_id": 10,
                "job_name": "testModelArtsJob",
                "version_id": 10,
                "status": 10,
                "create_time": 1524189990635,
                "duration": 532003,
                "job_desc": "This is ModelArts job",
                "version_count": 5,
            }
        ],
    }
    page, script = await _run(
        lambda c: c.training_jobs.list(
            status=7, per_page=10, page=1, sort_by="job_name", order="asc", search_content="job"
        ),
        sample,
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/training-jobs",
        {
            "status": "7",
            "per_page": "10",
            "page": "1",
            "sortBy": "job_name",
            "order": "asc",
            "search_content": "job",
        },
    )
    assert page.job_count_limit == 3
    assert page.jobs[0].version_count == 5


VERSION_DETAIL = {
    "is_success": True,
    "job_id": 10,
    "job_name": "TestModelArtsJob",
    "version_id": 10,
    "version_name": "jobVersion",
    "pre_version_id": 5,
    "engine_type": 1,
    "status": 10,
    "parameter": [{"label": "learning_rate", "value": 0.01}],
    "core": 2,
    "cpu": 8,
    "gpu_num": 2,
    "model_id": 1,
    "model_metric_list": '{"metric":[{"metric_values":{"recall":0.9}}],"total_metric":{}}',
    "system_metric_list": {"cpuUsage": ["0", "3.10"], "interval": 1},
    "data_source": [{"type": "obs", "data_url": "/qianjiajun-test/minst/data/"}],
    "spec_code": "modelarts.vm.gpu.p100",
}


async def test_training_version_get_tolerates_mixed_types() -> None:
    version, script = await _run(lambda c: c.training_jobs.get_version(10, 10), VERSION_DETAIL)
    assert _sent(script)[:2] == ("GET", f"{P}/training-jobs/10/versions/10")
    assert version.parameter is not None
    assert version.parameter[0].value == "0.01"
    assert (version.core, version.cpu) == ("2", "8")
    assert version.model_metric_list["metric"][0]["metric_values"]["recall"] == 0.9
    assert version.system_metric_list["cpuUsage"] == ["0", "3.10"]
    assert version.status_name == "JOBSTAT_COMPLETED"


async def test_training_versions_list_tolerates_string_fields() -> None:
    sample = {
        "is_success": True,
        "job_id": 10,
        "version_count": 2,
        "versions": [
            {
                **VERSION_DETAIL,
                "engine_type": "1",
                "model_id": "3",
                "system_metric_list": '{"cpuUsage":["1"],"interval":1}',
            }
        ],
    }
    page, script = await _run(
        lambda c: c.training_jobs.list_versions(10, per_page=5, page=1), sample
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/training-jobs/10/versions",
        {"per_page": "5", "page": "1"},
    )
    v = page.versions[0]
    assert (v.engine_type, v.model_id) == (1, 3)
    assert v.system_metric_list == {"cpuUsage": ["1"], "interval": 1}


async def test_training_version_create() -> None:
    config = TrainingVersionConfig(
        worker_server_num=1,
        app_url="/usr/app/",
        boot_file_url="/usr/app/boot.py",
        data_url="/usr/data/",
        spec_id=1,
        engine_id=1,
        train_url="/usr/train/",
        pre_version_id=20,
    )
    req = TrainingVersionCreateRequest(job_desc="This is a ModelArts job", config=config)
    sample = {
        "is_success": True,
        "job_id": 10,
        "job_name": "TestModelArtsJob",
        "status": 1,
        "create_time": 1524189990635,
        "version_id": 11,
    }
    created, script = await _run(lambda c: c.training_jobs.create_version(10, req), sample)
    method, path, _, body = _sent(script)
    assert (method, path) == ("POST", f"{P}/training-jobs/10/versions")
    assert body["config"]["pre_version_id"] == 20
    assert "create_version" not in body["config"]
    assert created.version_id == 11


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (lambda c: c.training_jobs.stop(10, 3), "POST", "/training-jobs/10/versions/3/stop", None),
        (
            lambda c: c.training_jobs.update_description(10, "new desc"),
            "PUT",
            "/training-jobs/10",
            {"job_desc": "new desc"},
        ),
        (lambda c: c.training_jobs.delete(10), "DELETE", "/training-jobs/10", None),
        (
            lambda c: c.training_jobs.delete_version(10, 3),
            "DELETE",
            "/training-jobs/10/versions/3",
            None,
        ),
    ],
)
async def test_training_simple_actions(call: Call, method: str, path: str, body: Any) -> None:
    _, script = await _run(call, {"is_success": True})
    assert _sent(script) == (method, P + path, {}, body)


async def test_training_stop_is_retried_after_timeout_because_it_is_idempotent() -> None:
    import httpx

    script = Script().then(httpx.ReadTimeout("t")).json(200, {"is_success": True})
    client = make_client(script, FakeTime())
    await client.training_jobs.stop(10, 3)
    assert len(script.requests) == 2


async def test_training_logs() -> None:
    names, script = await _run(
        lambda c: c.training_jobs.log_file_names(10, 3),
        {"is_success": True, "log_file_list": ["teseJob.0"]},
    )
    assert _sent(script)[:2] == ("GET", f"{P}/training-jobs/10/versions/3/log/file-names")
    assert names == ["teseJob.0"]
    names, _ = await _run(
        lambda c: c.training_jobs.log_file_names(10, 3),
        {"is_success": True, "log_file_list": "only.log"},
    )
    assert names == ["only.log"]

    log, script = await _run(
        lambda c: c.training_jobs.logs(10, 3, "log1.log", start_byte=0, offset=2048),
        {"is_success": True, "log": "Log string", "end_byte": "10", "count": "10"},
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/training-jobs/10/versions/3/log",
        {"log_file": "log1.log", "start_byte": "0", "offset": "2048"},
    )
    assert (log.log, log.end_byte, log.log_byte_count) == ("Log string", 10, 10)

    aom, script = await _run(
        lambda c: c.training_jobs.aom_logs(
            10, 3, "log1.log", base_line="1551252759254000002", lines=50, order="desc"
        ),
        {
            "is_success": True,
            "start_line": 1551252759254000002,
            "content": "Log string",
            "end_line": "1551252759254000003",
            "lines": "1",
        },
    )
    assert _sent(script)[2] == {
        "log_file": "log1.log",
        "base_line": "1551252759254000002",
        "lines": "50",
        "order": "desc",
    }
    assert aom.start_line == "1551252759254000002"  # exact beyond 2**53
    assert aom.lines == 1


async def test_training_specs_and_engines() -> None:
    specs, script = await _run(
        lambda c: c.training_jobs.resource_specs(),
        {"specs": [{"spec_id": 2, "core": "2", "max_num": 2, "no_resource": False}]},
    )
    assert _sent(script)[:3] == ("GET", f"{P}/job/resource-specs", {"job_type": "train"})
    assert specs.specs[0].max_num == 2
    engines, script = await _run(
        lambda c: c.training_jobs.engines(),
        {"engines": [{"engine_type": 1, "engine_name": "TensorFlow", "engine_id": 1}]},
    )
    assert _sent(script)[1] == f"{P}/job/ai-engines"
    assert engines.engines[0].engine_name == "TensorFlow"


# ------------------------------------------------------------------------------- models
def _full_import_request() -> ModelImportRequest:
    return ModelImportRequest(
        model_name="mnist",
        model_version="1.0.0",
        source_location="https://models.obs.xxxx.com/mnist",
        source_job_id="55",
        source_job_version="V100",
        model_type="TensorFlow",
        runtime="python2.7",
        description="mnist model",
        execution_code="https://testmodel.obs.xxxx.com/customize_service.py",
        input_params=[
            ModelParam(
                url="/v1/xxx/image",
                protocol="http",
                method="post",
                param_name="image_url",
                param_type="string",
                min=0,
                max=9,
                param_desc="http://test/test.jpeg",
            )
        ],
        output_params=[
            ModelParam(
                url="/v1/xxx/image",
                protocol="http",
                method="post",
                param_name="face_location",
                param_type="box",
                param_desc="face_location param value description",
            )
        ],
        dependencies=[
            ModelDependency(
                installer="pip",
                packages=[
                    ModelPackage(package_name="numpy", package_version="1.5.0", restraint="ATLEAST")
                ],
            )
        ],
        model_algorithm="object_detection",
        model_metrics='{"f1":0.52381,"recall":0.666667,"precision":0.466667,"accuracy":0.625}',
        apis=[
            ModelApi(
                url="/v1/xxx/image",
                protocol="http",
                method="post",
                input_params={"type": "object", "properties": {"image_url": {"type": "string"}}},
                output_params={
                    "type": "object",
                    "properties": {"face_location": {"type": "box"}},
                },
            )
        ],
    )


async def test_model_import_reproduces_the_seed_000_sample_exactly() -> None:
    created, script = await _run(
        lambda c: c.models.create(_full_import_request()),
        {"model_id": "10eb0091-887f-4839-9929-cbc884f1e20e"},
    )
    method, path, _, body = _sent(script)
    assert (method, path) == ("POST", f"{P}/models")
    assert created.model_id == "10eb0091-887f-4839-9929-cbc884f1e20e"
    assert body == json.loads(SEED_000_SAMPLE)


async def test_model_import_template_fields() -> None:
    req = ModelImportRequest(
        model_name="tpl",
        model_version="0.0.1",
        source_location="obs://b/m/",
        model_type="Template",
        initial_config="{}",
        workspace_id="0",
        model_docs=[ModelDoc(doc_name="guide", doc_url="https://example.com/d")],
        install_type=["real-time", "batch"],
        template=ModelTemplate(
            template_id="tpl-1",
            infer_format="fmt",
            template_inputs=[TemplateInput(input="obs://b/in/", input_id="model")],
        ),
        apis="[]",
    )
    _, script = await _run(lambda c: c.models.create(req), {"model_id": "x"})
    body = _sent(script)[3]
    assert body["template"] == {
        "template_id": "tpl-1",
        "infer_format": "fmt",
        "template_inputs": [{"input": "obs://b/in/", "input_id": "model"}],
    }
    assert body["install_type"] == ["real-time", "batch"]
    assert body["model_docs"] == [{"doc_name": "guide", "doc_url": "https://example.com/d"}]
    assert body["apis"] == "[]"
    assert "runtime" not in body


async def test_model_import_rejects_unknown_fields() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ModelImportRequest.model_validate(
            {
                "model_name": "m",
                "model_version": "1.0.0",
                "source_location": "s",
                "model_type": "TensorFlow",
                "modle_algorithm": "typo",
            }
        )


async def test_model_list_with_filters_and_get() -> None:
    page, script = await _run(
        lambda c: c.models.list(
            model_name="mnist", model_version="1.0.0", model_status="published", offset=0, limit=5
        ),
        {
            "total_count": 1,
            "count": 1,
            "models": [
                {
                    "model_name": "mnist",
                    "model_version": "1.0.0",
                    "model_id": "10eb",
                    "model_type": "tensorflow",
                    "model_size": 5012312,
                    "create_at": 1533041553000,
                    "workspace_id": "0",
                    "specification": {},
                }
            ],
        },
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/models",
        {
            "model_name": "mnist",
            "model_version": "1.0.0",
            "model_status": "published",
            "offset": "0",
            "limit": "5",
        },
    )
    assert page.models[0].model_status is None
    assert page.models[0].model_size == 5012312

    detail, script = await _run(
        lambda c: c.models.get("10eb"),
        {
            "model_id": "10eb",
            "model_status": "published",
            "apis": '[{"url":"/","method":"post"}]',
            "config": '{"model_algorithm": "image_classification", "tunable": false}',
            "model_metrics": '{"f1":0.5}',
            "install_type": ["realtime", "batch", "edge"],
            "labels_map": {"labels": []},
            "input_params": [{"url": "/", "param_name": "data", "param_type": "object"}],
        },
    )
    assert _sent(script)[:2] == ("GET", f"{P}/models/10eb")
    assert detail.apis == [{"url": "/", "method": "post"}]
    assert detail.config["tunable"] is False
    assert detail.model_metrics == {"f1": 0.5}
    assert detail.install_type == ["realtime", "batch", "edge"]


async def test_model_delete_partial_failure() -> None:
    result, script = await _run(
        lambda c: c.models.delete("fc9e", cascade=True),
        {"delete_success_list": ["fc9e", "f3f3"], "delete_failed_list": []},
    )
    assert _sent(script)[:3] == ("DELETE", f"{P}/models/fc9e", {"cascade": "true"})
    assert result.delete_success_list == ["fc9e", "f3f3"]

    failed = {
        "delete_success_list": [],
        "delete_failed_list": [
            {
                "model_id": "7596",
                "error_code": "ModelArts.3009",
                "error_msg": "Failed to delete model, model (7596) already deploy service.",
            }
        ],
    }
    with pytest.raises(errors.StateConflict) as info:
        await _run(lambda c: c.models.delete("7596"), failed)
    assert info.value.error_code == "ModelArts.3009"


# ------------------------------------------------------------------------------ services
async def test_service_deploy_body() -> None:
    req = ServiceDeployRequest(
        service_name="mnist",
        description="mnist service",
        infer_type="real-time",
        config=[
            ServiceConfig(
                model_id="xxxmodel-idxxx",
                weight=100,
                specification="modelarts.vm.cpu.2u",
                instance_count=1,
                envs={"load_epoch": "0"},
            )
        ],
        schedule=[ServiceSchedule(type="stop", time_unit="HOURS", duration=1)],
        additional_properties={"smn_notification": {"topic_urn": "urn:smn:x", "events": [1, 3]}},
    )
    created, script = await _run(lambda c: c.services.create(req), {"service_id": "10eb"})
    assert _sent(script) == (
        "POST",
        f"{P}/services",
        {},
        {
            "service_name": "mnist",
            "description": "mnist service",
            "infer_type": "real-time",
            "config": [
                {
                    "model_id": "xxxmodel-idxxx",
                    "weight": 100,
                    "specification": "modelarts.vm.cpu.2u",
                    "instance_count": 1,
                    "envs": {"load_epoch": "0"},
                }
            ],
            "schedule": [{"type": "stop", "time_unit": "HOURS", "duration": 1}],
            "additional_properties": {
                "smn_notification": {"topic_urn": "urn:smn:x", "events": [1, 3]}
            },
        },
    )
    assert created.service_id == "10eb"


async def test_service_list_and_get() -> None:
    page, script = await _run(
        lambda c: c.services.list(service_name="service-demo", status="running", workspace_id="0"),
        {
            "count": 1,
            "total_count": 1,
            "services": [
                {
                    "service_id": "8da3",
                    "status": "stopped",
                    "is_opened_sample_collection": False,
                    "due_time": 1584626633902,
                    "schedule": [{"type": "stop", "duration": 1, "time_unit": "HOURS"}],
                }
            ],
        },
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/services",
        {"service_name": "service-demo", "status": "running", "workspace_id": "0"},
    )
    assert page.services[0].is_opened_sample_collection == "false"

    detail, script = await _run(
        lambda c: c.services.get("f76f"),
        {
            "service_id": "f76f",
            "status": "running",
            "access_address": "https://x.apigw.example.com/v1/infers/f76f",
            "failed_times": 0,
            "is_shared": False,
            "config": [
                {
                    "model_id": "044e",
                    "specification": "custom",
                    "custom_spec": {},
                    "status": "notReady",
                    "weight": "100",
                    "instance_count": 1,
                }
            ],
        },
    )
    assert _sent(script)[:2] == ("GET", f"{P}/services/f76f")
    assert detail.access_address == "https://x.apigw.example.com/v1/infers/f76f"
    assert detail.config is not None
    assert detail.config[0].weight == 100


async def test_service_update_start_stop() -> None:
    req = ServiceUpdateRequest(
        description="",
        config=[
            ServiceConfig(
                model_id="m2", weight=100, specification="modelarts.vm.cpu.2u", instance_count=2
            )
        ],
    )
    _, script = await _run(lambda c: c.services.update("s1", req), {})
    assert _sent(script) == (
        "PUT",
        f"{P}/services/s1",
        {},
        {
            "description": "",
            "config": [
                {
                    "model_id": "m2",
                    "weight": 100,
                    "specification": "modelarts.vm.cpu.2u",
                    "instance_count": 2,
                }
            ],
        },
    )
    _, script = await _run(lambda c: c.services.stop("s1"), {})
    assert _sent(script) == ("PUT", f"{P}/services/s1", {}, {"status": "stopped"})
    _, script = await _run(lambda c: c.services.start("s1"), {})
    assert _sent(script)[3] == {"status": "running"}
    _, script = await _run(lambda c: c.services.set_node_status("s1", "n1", "stopped"), {})
    assert _sent(script) == ("PUT", f"{P}/services/s1/nodes/n1/status", {}, {"status": "stopped"})


async def test_service_update_in_wrong_state_is_state_conflict() -> None:
    body = {"error_code": "ModelArts.3519", "error_msg": "Wait until deployment completes"}
    with pytest.raises(errors.StateConflict):
        await _run(lambda c: c.services.stop("s1"), body, 400)


async def test_service_events_logs_monitor_specs_delete() -> None:
    events, script = await _run(
        lambda c: c.services.events("s1", event_type="normal", offset=0, limit=2),
        {
            "service_id": "s1",
            "count": 2,
            "total_count": 9,
            "events": [
                {"occur_time": 1562597251764, "event_type": "normal", "event_info": "start"},
                {"event_info": "[zcjtestTF 3.0.0] starting model"},
            ],
        },
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/services/s1/events",
        {"event_type": "normal", "offset": "0", "limit": "2"},
    )
    assert events.total_count == 9
    assert events.events[1].occur_time is None

    logs, script = await _run(
        lambda c: c.services.update_logs("s1"),
        {
            "service_id": "s1",
            "logs": [
                {
                    "config": [{"model_id": "f565", "weight": 100, "scaling": False, "envs": {}}],
                    "extend_config": [],
                    "update_time": 1586250930708,
                    "result": "RUNNING",
                }
            ],
        },
    )
    assert _sent(script)[:2] == ("GET", f"{P}/services/s1/logs")
    assert logs.logs[0].result == "RUNNING"

    monitor, script = await _run(
        lambda c: c.services.monitor("s1"),
        {
            "service_id": "s1",
            "monitors": [
                {
                    "model_id": "x",
                    "invocation_times": 50,
                    "failed_times": 1,
                    "cpu_core_usage": "2.4",
                    "cpu_memory_total": "8192",
                    "gpu_usage": "0.6",
                }
            ],
        },
    )
    assert _sent(script)[:2] == ("GET", f"{P}/services/s1/monitor")
    item = monitor.monitors[0]
    assert (item.cpu_core_usage, item.cpu_memory_total, item.gpu_usage) == (2.4, 8192, 0.6)

    specs, script = await _run(
        lambda c: c.services.specifications(infer_type="real-time", is_personal_cluster=False),
        {"specifications": [{"specification": "modelarts.vm.cpu.2u", "spec_status": "normal"}]},
    )
    assert _sent(script)[:3] == (
        "GET",
        f"{P}/services/specifications",
        {"infer_type": "real-time", "is_personal_cluster": "false"},
    )
    assert specs.specifications[0].spec_status == "normal"

    _, script = await _run(lambda c: c.services.delete("s1"), {})
    assert _sent(script)[:2] == ("DELETE", f"{P}/services/s1")
    _, script = await _run(lambda c: c.services.delete(["s1", "s2"]), {})
    assert script.requests[-1].url.raw_path.decode() == f"{P}/services/s1,s2"


# ------------------------------------------------------------------------------ dataarts
async def test_dataarts_create_model_uses_its_own_endpoint_and_path() -> None:
    req = DataArtsModelCreateRequest(
        name="LLama3-8b",
        description="description",
        version=ModelVersionInput(
            name="name",
            description="description",
            config=ModelConfig(
                llm_model_config=LlmModelConfig(
                    base_model_type="string", model_path="obs://bucketname/objectdir/modelpath/"
                )
            ),
        ),
    )
    script = Script().json(200, {"id": "ac8111bf-3601-4905-8ddd-b41d3e636a4e"})
    client = make_client(script, FakeTime(), dataarts_endpoint="https://dataarts.example.com")
    created = await client.dataarts.create_model("ws-1", req)
    request = script.requests[-1]
    assert request.url.host == "dataarts.example.com"
    assert request.url.path == "/v1/workspaces/ws-1/models"
    assert "X-Project-Id" not in request.headers
    assert script.body() == {
        "name": "LLama3-8b",
        "description": "description",
        "type": "LLM_MODEL",
        "version": {
            "name": "name",
            "description": "description",
            "config": {
                "llm_model_config": {
                    "base_model_type": "string",
                    "model_path": "obs://bucketname/objectdir/modelpath/",
                }
            },
        },
    }
    assert created.id == "ac8111bf-3601-4905-8ddd-b41d3e636a4e"
    assert created.version_id is None


async def test_dataarts_403_form() -> None:
    body = {
        "error": {"code": "403", "message": "X-Auth-Token is invalid", "title": "Forbidden"},
        "error_code": 403,
        "error_msg": "X-Auth-Token is invalid",
        "title": "Forbidden",
    }
    config = ModelConfig(
        llm_model_config=LlmModelConfig(base_model_type="llama3", model_path="obs://b/m/")
    )
    req = DataArtsModelCreateRequest(name="m", version=ModelVersionInput(name="v", config=config))
    with pytest.raises(errors.Forbidden) as info:
        await _run(lambda c: c.dataarts.create_model("ws", req), body, 403)
    assert info.value.error_code == "403"
