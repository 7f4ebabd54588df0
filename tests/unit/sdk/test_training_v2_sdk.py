"""huaweicloudsdkmodelarts (3.1.219) v2 training calls against the emulator: every answer
parses into the SDK's own response model, field types included, with the documented error
codes parsing into the SDK's exception."""

from __future__ import annotations

from typing import Any

import huaweicloudsdkmodelarts.v1 as sdk
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from modelarts_testbed.emulator.server import EmulatorHandle

from .judge import Judge, model_problems

Client = sdk.ModelArtsClient


def code_job(name: str, *, nodes: int = 1, log_path: bool = True, **algo: Any) -> sdk.Job:
    spec = sdk.Spec(
        resource=sdk.SpecResource(flavor_id="modelarts.vm.cpu.2u", node_count=nodes),
        log_export_path=sdk.LogExportPath(obs_url="/bkt/logs/") if log_path else None,
    )
    algorithm = {
        "code_dir": "obs://bkt/code/",
        "boot_file": "obs://bkt/code/train.py",
        "engine": sdk.JobEngine(engine_id="pytorch-cp36-1.4.0-v2"),
        "parameters": [sdk.Parameters(name="epochs", value="3")],
        "inputs": [
            sdk.Input(
                name="data_url", remote=sdk.InputDataInfo(obs=sdk.InputDataInfoObs("/bkt/data/"))
            )
        ],
        "outputs": [
            sdk.Output(name="train_url", remote=sdk.Remote(obs=sdk.RemoteObs("/bkt/out/")))
        ],
        "environments": {"NCCL_DEBUG": "INFO", "EPOCHS": "3"},
        **algo,
    }
    return sdk.Job(
        kind="job",
        metadata=sdk.JobMetadata(name=name, description="op-managed"),
        algorithm=sdk.JobAlgorithm(**algorithm),
        spec=spec,
    )


def create(ma: Client, judge: Judge, job: sdk.Job) -> sdk.CreateTrainingJobResponse:
    return judge.judged(ma.create_training_job, sdk.CreateTrainingJobRequest(body=job))


def show(ma: Client, judge: Judge, job_id: str) -> sdk.ShowTrainingJobDetailsResponse:
    return judge.judged(
        ma.show_training_job_details, sdk.ShowTrainingJobDetailsRequest(training_job_id=job_id)
    )


def search(ma: Client, judge: Judge, **body: Any) -> sdk.ListTrainingJobsResponse:
    return judge.judged(
        ma.list_training_jobs, sdk.ListTrainingJobsRequest(body=sdk.JobSearches(**body))
    )


def refused(call: Any, request: Any) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call(request)
    return caught.value


def test_create_show_and_search_parse_into_the_sdk_models(
    ma: Client, ma_judge: Judge, emu: EmulatorHandle
) -> None:
    created = create(ma, ma_judge, code_job("mnist-a1", nodes=2))
    assert created.status_code == 201
    job_id = created.metadata.id
    assert len(job_id) == 36
    assert created.status.phase == "Creating"
    assert created.metadata.create_time > 0
    # the request's map comes back as an array of maps
    assert created.algorithm.environments == [{"NCCL_DEBUG": "INFO"}, {"EPOCHS": "3"}]
    assert created.algorithm.engine.engine_name == "PyTorch"
    assert created.spec.resource.flavor_detail.flavor_info.disk.size == "50"
    assert created.spec.resource.node_count == 2
    assert created.algorithm.outputs[0].remote.obs.obs_url == "/bkt/out/"
    shown = show(ma, ma_judge, job_id)
    assert shown.metadata.name == "mnist-a1"
    assert shown.status.tasks == ["worker-0", "worker-1"]
    listed = search(ma, ma_judge, offset=0, limit=10)
    assert listed.count == 1
    assert listed.total == 1
    assert [item.metadata.id for item in listed.items] == [job_id]


def test_phases_times_tasks_and_running_records(
    ma: Client, ma_judge: Judge, emu: EmulatorHandle
) -> None:
    job_id = create(ma, ma_judge, code_job("phases")).metadata.id
    emu.admin.advance(3)
    assert show(ma, ma_judge, job_id).status.phase == "Pending"
    emu.admin.advance(5)
    running = show(ma, ma_judge, job_id).status
    assert running.phase == "Running"
    assert running.secondary_phase == "Running"
    assert running.start_time > 0
    emu.admin.advance(10)
    later = show(ma, ma_judge, job_id).status
    assert later.duration >= 10_000
    assert later.running_records[0].start_at == running.start_time // 1000
    emu.admin.advance(60)
    done = show(ma, ma_judge, job_id).status
    assert done.phase == "Completed"
    assert [t.exit_code for t in done.task_statuses] == [0]
    assert done.running_records[0].end_reason == "job completed"
    assert done.running_records[0].end_at >= done.running_records[0].start_at


def test_forced_failure_carries_the_task_exit_code(
    ma: Client, ma_judge: Judge, emu: EmulatorHandle
) -> None:
    emu.admin.force(
        kind="training_job_v2", name="doomed", status="Failed", exit_code=3, error_msg="OOM"
    )
    job_id = create(ma, ma_judge, code_job("doomed", nodes=2)).metadata.id
    emu.admin.advance(120)
    status = show(ma, ma_judge, job_id).status
    assert status.phase == "Failed"
    assert (status.task_statuses[0].exit_code, status.task_statuses[0].message) == (3, "OOM")
    assert status.task_statuses[1].exit_code == 137
    assert status.running_records[0].end_reason == "exit with 3"
    emu.admin.force(kind="training_job_v2", name="broken", status="Abnormal", error_msg="no pool")
    abnormal_id = create(ma, ma_judge, code_job("broken")).metadata.id
    emu.admin.advance(5)
    status = show(ma, ma_judge, abnormal_id).status
    assert (status.phase, status.secondary_phase) == ("Abnormal", "CreateFailed")


def test_custom_image_needs_a_command(ma: Client, ma_judge: Judge) -> None:
    image_only = sdk.Job(
        kind="job",
        metadata=sdk.JobMetadata(name="img"),
        algorithm=sdk.JobAlgorithm(engine=sdk.JobEngine(image_url="myorg/trainer:1.0")),
        spec=sdk.Spec(resource=sdk.SpecResource(flavor_id="modelarts.vm.cpu.8u", node_count=1)),
    )
    err = refused(ma.create_training_job, sdk.CreateTrainingJobRequest(body=image_only))
    assert (err.status_code, err.error_code) == (400, "ModelArts.2806")
    image_only.algorithm.command = "bash /home/ma-user/run.sh"
    created = create(ma, ma_judge, image_only)
    assert created.algorithm.engine.image_url == "myorg/trainer:1.0"
    # An algorithm id with code_dir and boot_file: Terraform's acceptance test sends it.
    both = code_job("both", id="0d1f4c6e-algorithm")
    assert create(ma, ma_judge, both).algorithm.id == "0d1f4c6e-algorithm"


def test_duplicate_name_is_2751_and_the_name_check_sees_it(ma: Client, ma_judge: Judge) -> None:
    check = sdk.ValidateTrainingJobNameRequest(job_name="dup")
    assert ma_judge.judged(ma.validate_training_job_name, check).is_duplicate is False
    create(ma, ma_judge, code_job("dup"))
    err = refused(ma.create_training_job, sdk.CreateTrainingJobRequest(body=code_job("dup")))
    assert (err.status_code, err.error_code) == (400, "ModelArts.2751")
    assert ma_judge.judged(ma.validate_training_job_name, check).is_duplicate is True


def test_terminate_is_asynchronous_and_refused_once_stopping(
    ma: Client, ma_judge: Judge, emu: EmulatorHandle
) -> None:
    job_id = create(ma, ma_judge, code_job("stopme")).metadata.id
    emu.admin.advance(8)
    stop = sdk.StopTrainingJobRequest(
        training_job_id=job_id, body=sdk.JobActionType(action_type="terminate")
    )
    stopped = ma_judge.judged(ma.stop_training_job, stop)
    assert stopped.status_code == 202
    assert stopped.status.phase == "Terminating"
    err = refused(ma.stop_training_job, stop)
    assert (err.status_code, err.error_code) == (409, "ModelArts.2796")
    emu.admin.advance(10)
    assert show(ma, ma_judge, job_id).status.phase == "Terminated"


def visualization_job(name: str, source_id: str | None) -> sdk.Job:
    """TensorBoard over ``source_id``'s logs: kind visualization_job, the tensorboard/enable
    annotation, and the data source it then needs (SDK Summary.data_sources)."""
    job = code_job(name)
    job.kind = "visualization_job"
    job.metadata.annotations = {"tensorboard/enable": "true"}
    sources = [sdk.DataSource(job=sdk.JobSummary(job_id=source_id))] if source_id else None
    job.algorithm.summary = sdk.Summary(data_sources=sources)
    return job


def test_a_visualization_job_serves_tensorboard_until_stopped(
    ma: Client, ma_judge: Judge, emu: EmulatorHandle
) -> None:
    source = code_job("writes-logs")
    source.algorithm.summary = sdk.Summary(
        log_type="tensorboard", log_dir=sdk.LogDir(pfs=sdk.PFSSummary(pfs_path="obs://pfs/tb/"))
    )
    source_id = create(ma, ma_judge, source).metadata.id
    created = create(ma, ma_judge, visualization_job("board", source_id))
    assert created.kind == "visualization_job"
    assert created.algorithm.summary.data_sources[0].job.job_id == source_id
    assert created.endpoints.tensorboard is None  # not before it runs
    emu.admin.advance(3600)  # far past any training job's run: it is still serving
    shown = show(ma, ma_judge, created.metadata.id)
    assert shown.status.phase == "Running"
    assert shown.endpoints.tensorboard.url.startswith("https://")
    assert shown.endpoints.tensorboard.token
    assert show(ma, ma_judge, source_id).algorithm.summary.log_dir.pfs.pfs_path == "obs://pfs/tb/"
    stop = sdk.StopTrainingJobRequest(
        training_job_id=created.metadata.id, body=sdk.JobActionType(action_type="terminate")
    )
    ma_judge.judged(ma.stop_training_job, stop)
    emu.admin.advance(10)
    stopped = show(ma, ma_judge, created.metadata.id)
    assert stopped.status.phase == "Terminated"
    assert stopped.endpoints.tensorboard is None


def test_tensorboard_without_a_data_source_is_refused(ma: Client, ma_judge: Judge) -> None:
    request = sdk.CreateTrainingJobRequest(body=visualization_job("no-source", None))
    err = refused(ma.create_training_job, request)
    assert err.status_code == 400
    assert "algorithm.summary.data_sources" in err.error_msg


def test_delete_is_asynchronous_then_2775(ma: Client, ma_judge: Judge, emu: EmulatorHandle) -> None:
    job_id = create(ma, ma_judge, code_job("gone")).metadata.id
    deleted = ma_judge.call(
        ma.delete_training_job, sdk.DeleteTrainingJobRequest(training_job_id=job_id)
    )
    assert deleted.status_code == 202
    assert show(ma, ma_judge, job_id).metadata.id == job_id  # still there for a while
    emu.admin.advance(10)
    err = refused(
        ma.show_training_job_details, sdk.ShowTrainingJobDetailsRequest(training_job_id=job_id)
    )
    assert (err.status_code, err.error_code) == (400, "ModelArts.2775")
    assert search(ma, ma_judge).count == 0
    create(ma, ma_judge, code_job("gone"))  # the name is free again


def test_batch_delete(ma: Client, ma_judge: Judge, emu: EmulatorHandle) -> None:
    ids = [create(ma, ma_judge, code_job(f"b{i}")).metadata.id for i in range(3)]
    body = sdk.BatchDeleteJobsReq(
        jobs=[
            sdk.BatchDeleteJobItem(kind="job", metadata=sdk.BatchDeleteJobMetadata(id=i))
            for i in ids[:2]
        ]
    )
    ma_judge.call(ma.batch_delete_training_job, sdk.BatchDeleteTrainingJobRequest(body=body))
    emu.admin.advance(10)
    assert [item.metadata.id for item in search(ma, ma_judge).items] == [ids[2]]


def test_search_pages_by_page_index_and_filters(
    ma: Client, ma_judge: Judge, emu: EmulatorHandle
) -> None:
    for i in range(23):
        create(ma, ma_judge, code_job(f"job-{i:02d}"))
        emu.admin.advance(0.1)
    pages = [search(ma, ma_judge, offset=n, limit=10) for n in range(3)]
    names = [item.metadata.name for page in pages for item in page.items]
    assert [len(page.items) for page in pages] == [10, 10, 3]
    assert names == [f"job-{i:02d}" for i in reversed(range(23))]  # newest first
    assert pages[1].offset == 1
    like = search(
        ma, ma_judge, filters=[sdk.Filter(key="name", operator="like", value=["job-1"])], limit=50
    )
    assert like.count == 10
    assert like.total == 23
    emu.admin.advance(10)
    running = search(
        ma, ma_judge, filters=[sdk.Filter(key="phase", operator="in", value=["Running"])]
    )
    assert running.count == 23
    err = refused(
        ma.list_training_jobs, sdk.ListTrainingJobsRequest(body=sdk.JobSearches(limit=51))
    )
    assert err.error_code == "ModelArts.2788"
    err = refused(
        ma.list_training_jobs,
        sdk.ListTrainingJobsRequest(
            body=sdk.JobSearches(filters=[sdk.Filter(key="colour", operator="in", value=["x"])])
        ),
    )
    assert err.error_code == "ModelArts.2807"


def test_update_description(ma: Client, ma_judge: Judge) -> None:
    job_id = create(ma, ma_judge, code_job("described")).metadata.id
    updated = ma_judge.call(
        ma.change_training_job_description,
        sdk.ChangeTrainingJobDescriptionRequest(
            training_job_id=job_id, body=sdk.JobUpdateRequestBody(description="second")
        ),
    )
    assert updated.status_code == 200
    assert show(ma, ma_judge, job_id).metadata.description == "second"


def test_logs_metrics_and_events(ma: Client, ma_judge: Judge, emu: EmulatorHandle) -> None:
    job_id = create(ma, ma_judge, code_job("logs", nodes=2)).metadata.id
    preview = sdk.ShowTrainingJobLogsPreviewRequest(training_job_id=job_id, task_id="worker-0")
    err = refused(ma.show_training_job_logs_preview, preview)
    assert (err.status_code, err.error_code) == (400, "ModelArts.2818")
    metrics = sdk.ShowTrainingJobMetricsRequest(training_job_id=job_id, task_id="worker-0")
    not_yet = ma_judge.call(ma.show_training_job_metrics, metrics)
    assert (not_yet.status_code, not_yet.metrics) == (204, None)
    emu.admin.advance(20)
    log = ma_judge.judged(ma.show_training_job_logs_preview, preview)
    assert "loss=" in log.content
    assert log.current_size == log.full_size == len(log.content.encode())
    aom = ma_judge.judged(
        ma.show_training_job_logs_from_aom,
        sdk.ShowTrainingJobLogsFromAomRequest(training_job_id=job_id, task_id="worker-1", lines=2),
    )
    assert aom.lines == 2
    assert int(aom.end_line) > int(aom.start_line)
    measured = ma_judge.judged(ma.show_training_job_metrics, metrics)
    by_name = {m.metric: m.value for m in measured.metrics}
    assert by_name["gpuUtil"] == [-1.0]  # a CPU flavor
    assert 0 < by_name["cpuUsage"][0] <= 100
    events = ma_judge.judged(
        ma.list_training_job_events, sdk.ListTrainingJobEventsRequest(training_job_id=job_id)
    )
    assert "The training job is running." in [e.message for e in events.events]
    assert {e.source for e in events.events} >= {"Job", "K8S"}


def test_finished_job_without_a_log_path_says_so(
    ma: Client, ma_judge: Judge, emu: EmulatorHandle
) -> None:
    job_id = create(ma, ma_judge, code_job("nolog", log_path=False)).metadata.id
    emu.admin.advance(120)
    err = refused(
        ma.show_training_job_logs_preview,
        sdk.ShowTrainingJobLogsPreviewRequest(training_job_id=job_id, task_id="worker-0"),
    )
    assert err.error_code == "ModelArts.2822"
    assert "log export path" in err.error_msg


def test_catalogues_and_tags(ma: Client, ma_judge: Judge) -> None:
    flavors = ma_judge.judged(
        ma.show_training_job_flavors, sdk.ShowTrainingJobFlavorsRequest(flavor_type="GPU")
    )
    assert flavors.total_count == len(flavors.flavors) >= 1
    assert {f.flavor_type for f in flavors.flavors} == {"GPU"}
    engines = ma_judge.judged(ma.show_training_job_engines, sdk.ShowTrainingJobEnginesRequest())
    assert "pytorch-cp36-1.4.0-v2" in [e.engine_id for e in engines.items]
    job_id = create(ma, ma_judge, code_job("tagged")).metadata.id
    tags = [sdk.TmsTag(key="team", value="vision")]
    added = ma_judge.call(
        ma.create_train_job_tags,
        sdk.CreateTrainJobTagsRequest(training_job_id=job_id, body=sdk.CreateTmsTagsRequest(tags)),
    )
    assert added.status_code == 204
    shown = ma_judge.judged(
        ma.show_train_job_tags, sdk.ShowTrainJobTagsRequest(training_job_id=job_id)
    )
    assert [(t.key, t.value) for t in shown.tags] == [("team", "vision")]
    every = ma_judge.judged(ma.list_training_job_tags, sdk.ListTrainingJobTagsRequest())
    assert [(t.key, t.values) for t in every.tags] == [("team", ["vision"])]
    ma_judge.call(
        ma.delete_train_job_tags,
        sdk.DeleteTrainJobTagsRequest(training_job_id=job_id, body=sdk.DeleteTmsTagsRequest(tags)),
    )
    shown = ma_judge.judged(
        ma.show_train_job_tags, sdk.ShowTrainJobTagsRequest(training_job_id=job_id)
    )
    assert shown.tags == []


def test_task_history_and_stages(ma: Client, ma_judge: Judge, emu: EmulatorHandle) -> None:
    job_id = create(ma, ma_judge, code_job("placed", nodes=2)).metadata.id
    request = sdk.ListTrainingJobTasksRequest(training_job_id=job_id)
    assert ma_judge.call(ma.list_training_job_tasks, request).to_json_object() == []
    emu.admin.advance(120)
    placed = ma_judge.call(ma.list_training_job_tasks, request)
    assert [t.task for t in placed.body] == ["worker-0", "worker-1"]
    assert all(t.ip and t.host_ip and t.schedule_count == 1 for t in placed.body)
    for item in placed.to_json_object():
        assert not model_problems(item, sdk.TaskHistory, sdk)
    found = ma_judge.judged(
        ma.list_training_job_stages, sdk.ListTrainingJobStagesRequest(training_job_id=job_id)
    )
    names = [s.name for s in found.running_records[0].stages]
    assert names == ["scheduling", "running", "end"]
    assert found.running_records[0].stages[1].end_time
