"""A v2 TrainingJob's life as a user sees it, against the real API server and the emulator
(whose v2 shapes the official SDK judges): created once, Running → Succeeded, description in
place, a changed training field as a new job, a failed job Failed with its exit code, deletion
terminating a running job and releasing the finalizer only once the job is gone (2775), and a
Model imported from the job's output channel."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from modelarts_operator.reconcile.naming import marker_of, unmarked
from modelarts_testbed.emulator.training_v2 import endpoints_view
from tests.examples import standalone_training_job

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    get_obj,
    merge_patch,
    namespace,
    ready,
    remote_objects,
    synced,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.cluster

API = "modelarts.huaweicloud.com/v1alpha1"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def v2_job(name: str, bucket: str, **spec: Any) -> dict[str, Any]:
    algorithm = {
        "codeDir": f"obs://{bucket}/code/",
        "bootFile": f"obs://{bucket}/code/train.py",
        "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
        "parameters": [{"name": "epochs", "value": "3"}],
        "inputs": [{"name": "data_url", "remote": {"obs": {"obsUrl": f"obs://{bucket}/data/"}}}],
        "outputs": [{"name": "train_url", "remote": {"obs": {"obsUrl": f"obs://{bucket}/out/"}}}],
    }
    algorithm.update(spec.pop("algorithm", {}))
    return {
        "apiVersion": API,
        "kind": "TrainingJob",
        "metadata": {"name": name},
        "spec": {
            "jobDesc": "first description",
            "algorithm": algorithm,
            "resource": {"flavorId": "modelarts.vm.pnt1.large.eco", "nodeCount": 1},
            "logExportPath": {"obsUrl": f"obs://{bucket}/logs/"},
            **spec,
        },
    }


def remote_jobs(emulator: Any, **match: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in remote_objects(emulator, "training_job_v2")
        if all(r.get(k) == v for k, v in match.items()) and r.get("_status") != "Deleted"
    ]


def succeeded(obj: dict[str, Any]) -> bool:
    return obj.get("status", {}).get("phase") == "Succeeded" and ready(obj)


def test_v2_job_runs_once_to_success_and_changes_in_place(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-tj2-life")
    apply(cp, v2_job("mnist", "it-tj2-life"), ns)
    job = wait_for(cp, "trainingjob", "mnist", ns, synced, op=operator)
    job_id = job["status"]["jobId"]
    assert len(job_id) == 36  # a v2 UUID, not a v1 number
    running = wait_for(
        cp, "trainingjob", "mnist", ns, lambda o: o["status"].get("phase") == "Running", 60,
        operator,
    )  # fmt: skip
    assert running["status"]["tasks"] == ["worker-0"]
    assert condition(running, "Ready")["status"] == "False"
    done = wait_for(cp, "trainingjob", "mnist", ns, succeeded, 90, operator)
    status = done["status"]
    assert status["jobId"] == job_id
    assert status["trainUrl"] == "obs://it-tj2-life/out/"
    assert status["logLocation"] == "obs://it-tj2-life/logs/"
    assert status["remoteStatus"].startswith("Completed")
    assert status["durationSeconds"] >= 1
    assert status["completionTime"] >= status["startTime"]
    assert condition(done, "Failed")["status"] == "False"
    assert status["observedGeneration"] == done["metadata"]["generation"]
    (remote,) = remote_jobs(emulator, id=job_id)
    assert unmarked(remote["description"]) == "first description"
    assert marker_of(SimpleNamespace(description=remote["description"]))  # marked as ours
    assert remote["annotations"] in (None, {})  # no feature switch asked for

    # The description changes in place: same job, no new one.
    merge_patch(cp, "trainingjob", "mnist", ns, {"spec": {"jobDesc": "second"}})
    wait_until(
        lambda: unmarked(remote_jobs(emulator, id=job_id)[0]["description"]) == "second",
        30,
        "PUT",
    )
    wait_for(cp, "trainingjob", "mnist", ns, lambda o: synced(o) and o["status"][
        "observedGeneration"] == 2, 30, operator)  # fmt: skip
    assert len(remote_jobs(emulator, workspace_id="0", name=status["jobName"])) == 1
    assert get_obj(cp, "trainingjob", "mnist", ns)["status"]["jobId"] == job_id

    # A training field changes: the API cannot change it, so a new job runs under a new name;
    # the old one is retained (the default) and listed.
    merge_patch(
        cp, "trainingjob", "mnist", ns,
        {"spec": {"algorithm": {"parameters": [{"name": "epochs", "value": "5"}]}}},
    )  # fmt: skip
    rerun = wait_for(
        cp, "trainingjob", "mnist", ns, lambda o: o["status"].get("jobId") != job_id, 30, operator
    )
    new_name = rerun["status"]["jobName"]
    assert new_name == f"{status['jobName']}-g3"
    assert rerun["status"]["previousJobs"] == [
        {"jobId": job_id, "jobName": status["jobName"], "policy": "Retain"}
    ]
    (new_remote,) = remote_jobs(emulator, name=new_name)
    assert [p["value"] for p in new_remote["algorithm"]["parameters"]] == ["5"]
    assert len(remote_jobs(emulator, id=job_id)) == 1  # retained
    reasons = {e["reason"] for e in events_for(cp, ns, "mnist")}
    assert "Rerun" in reasons
    wait_for(cp, "trainingjob", "mnist", ns, succeeded, 90, operator)

    delete_obj(cp, "trainingjob", "mnist", ns)
    wait_until(lambda: not remote_jobs(emulator, id=new_remote["id"]), 30, "current job deleted")
    assert len(remote_jobs(emulator, id=job_id)) == 1  # a retained previous job stays


def test_v2_failed_job_is_failed_with_its_exit_code(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-tj2-fail")
    apply(cp, v2_job("boom", "it-tj2-fail"), ns)
    job = wait_for(cp, "trainingjob", "boom", ns, synced, op=operator)
    emulator.admin.force(
        kind="training_job_v2", id=job["status"]["jobId"], status="Failed", exit_code=137,
        error_msg="OOMKilled", when="now",
    )  # fmt: skip
    kubectl = cp.kubectl(
        "wait", "-n", ns, "trainingjob/boom", "--for=condition=Failed", "--timeout=60s",
        check=False,
    )  # fmt: skip
    assert kubectl.returncode == 0, kubectl.stderr
    failed = get_obj(cp, "trainingjob", "boom", ns)
    assert failed["status"]["phase"] == "Failed"
    ready_cond = condition(failed, "Ready")
    assert (ready_cond["status"], ready_cond["reason"]) == ("False", "Failed")
    assert "worker-0 exited 137: OOMKilled" in ready_cond["message"]
    assert failed["status"]["taskStatuses"][0]["exitCode"] == 137
    delete_obj(cp, "trainingjob", "boom", ns)


def test_v2_delete_terminates_a_running_job_and_waits_for_2775(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-tj2-del")
    apply(cp, v2_job("long", "it-tj2-del"), ns)
    job = wait_for(
        cp, "trainingjob", "long", ns, lambda o: o["status"].get("phase") == "Running", 60,
        operator,
    )  # fmt: skip
    job_id = job["status"]["jobId"]
    emulator.admin.clear_counters()
    cp.kubectl("delete", "trainingjob", "long", "-n", ns, "--wait=false")
    wait_until(lambda: get_obj(cp, "trainingjob", "long", ns) is None, 60, "finalizer released")
    calls = emulator.admin.counters()
    assert any("/actions" in k and v for k, v in calls.items()), calls  # terminated first
    assert any(k.startswith("DELETE ") and "training-jobs" in k and v for k, v in calls.items())
    assert not remote_jobs(emulator, id=job_id)


def test_model_imports_from_a_v2_jobs_output(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-tj2-model")
    apply(cp, v2_job("train", "it-tj2-model"), ns)
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Model",
            "metadata": {"name": "mnist-v1"},
            "spec": {
                "trainingJobRef": {"name": "train"},
                "modelVersion": "1.0.0",
                "modelType": "TensorFlow",
                "runtime": "python3.6",
            },
        },
        ns,
    )
    waiting = wait_for(
        cp, "model", "mnist-v1", ns,
        lambda o: condition(o, "Ready").get("reason") == "WaitingForTrainingJob", 30, operator,
    )  # fmt: skip
    assert waiting["status"]["phase"] == "Waiting"
    job = wait_for(cp, "trainingjob", "train", ns, succeeded, 90, operator)
    model = wait_for(cp, "model", "mnist-v1", ns, ready, 60, operator)
    source = model["status"]["source"]
    assert source["location"] == "obs://it-tj2-model/out/"
    assert source["jobId"] == job["status"]["jobId"]
    for kind, name in (("model", "mnist-v1"), ("trainingjob", "train")):
        delete_obj(cp, kind, name, ns)


def test_v2_form_is_printed_like_v1(operator: OperatorProcess) -> None:
    """kubectl's columns: a v2 UUID shows in JOB-ID (the column is a string now)."""
    cp = operator.cp
    ns = namespace(cp, "it-tj2-print")
    apply(cp, v2_job("show", "it-tj2-print"), ns)
    job = wait_for(cp, "trainingjob", "show", ns, synced, op=operator)
    table = cp.kubectl("get", "trainingjob", "show", "-n", ns).stdout
    assert job["status"]["jobId"] in table, table
    delete_obj(cp, "trainingjob", "show", ns)


def test_v2_deadline_terminates_and_a_job_deleted_behind_our_back_is_not_rerun(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-tj2-policy")
    apply(cp, v2_job("slow", "it-tj2-policy", activeDeadlineSeconds=2), ns)
    apply(cp, v2_job("gone", "it-tj2-policy"), ns)
    slow = wait_for(
        cp, "trainingjob", "slow", ns,
        lambda o: condition(o, "Ready").get("reason") == "DeadlineExceeded", 90, operator,
    )  # fmt: skip
    assert slow["status"]["phase"] == "Failed"
    assert condition(slow, "Failed")["status"] == "True"
    wait_until(
        lambda: (
            remote_jobs(emulator, id=slow["status"]["jobId"])[0]["_status"]
            in ("Terminating", "Terminated")
        ),
        30,
        "terminated through the actions API",
    )
    gone = wait_for(cp, "trainingjob", "gone", ns, synced, op=operator)
    job_id = gone["status"]["jobId"]
    emulator.admin.delete_object("training_job_v2", job_id)
    drifted = wait_for(
        cp, "trainingjob", "gone", ns,
        lambda o: condition(o, "Ready").get("reason") == "DeletedRemotely", 60, operator,
    )  # fmt: skip
    assert drifted["status"]["jobId"] == job_id
    assert not remote_jobs(emulator, name=gone["status"]["jobName"])  # never silently re-run
    for name in ("slow", "gone"):
        delete_obj(cp, "trainingjob", name, ns)


def test_tensorboard_example_waits_for_mnists_id_then_shows_its_url(
    operator: OperatorProcess, emulator: Any
) -> None:
    """examples/visualization/tensorboard.yaml over examples/02's mnist (in the default
    workspace): it waits for mnist's job ID, then runs with its URL in status, never the token."""

    def example(name: str) -> dict[str, Any]:
        doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
        del doc["spec"]["workspaceRef"]
        return doc

    cp = operator.cp
    ns = namespace(cp, "it-tj2-viz")
    apply(cp, example("visualization/tensorboard.yaml"), ns)
    waiting = wait_for(
        cp, "trainingjob", "mnist-tensorboard", ns,
        lambda o: condition(o, "Synced").get("reason") == "WaitingForTrainingJob", 30, operator,
    )  # fmt: skip
    assert "jobId" not in waiting["status"]
    mnist = standalone_training_job()  # no Algorithm or pool in this namespace
    del mnist["spec"]["workspaceRef"]
    apply(cp, mnist, ns)
    board = wait_for(
        cp, "trainingjob", "mnist-tensorboard", ns,
        lambda o: "tensorboard" in o.get("status", {}).get("endpoints", {}), 30, operator,
    )  # fmt: skip
    mnist_id = get_obj(cp, "trainingjob", "mnist", ns)["status"]["jobId"]
    (remote,) = remote_jobs(emulator, id=board["status"]["jobId"])
    assert remote["kind"] == "visualization_job"
    assert remote["algorithm"]["summary"] == {"data_sources": [{"job": {"job_id": mnist_id}}]}
    tensorboard = endpoints_view(remote, "Running")["tensorboard"]
    assert board["status"]["phase"] == "Running"
    assert ready(board)  # serving until stopped is its steady state
    assert board["status"]["endpoints"] == {"tensorboard": tensorboard["url"]}
    shown = str(board) + str(events_for(cp, ns, "mnist-tensorboard")) + operator.log()
    assert tensorboard["token"] not in shown
    # Both at once: each terminates its running job, then waits for the delete (2775).
    cp.kubectl("delete", "trainingjob", "mnist-tensorboard", "mnist", "-n", ns, "--wait=false")
    wait_until(
        lambda: (
            get_obj(cp, "trainingjob", "mnist-tensorboard", ns) is None
            and get_obj(cp, "trainingjob", "mnist", ns) is None
        ),
        60,
        "both jobs to go",
    )
