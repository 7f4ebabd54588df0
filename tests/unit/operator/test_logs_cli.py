"""``modelarts-operator logs`` against the emulator: a running and a finished job, --tail,
--follow to the end, the "not ready yet" and "no log path" messages, v1 jobs, and the
TrainingJob read from the cluster (a stand-in API server answering GET)."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from typing import Any

import pytest

from modelarts_operator.api import ModelArtsClient
from modelarts_operator.logs_cli import LogsError, add_arguments, run_logs
from modelarts_operator.reconcile.kube import KubeError
from modelarts_testbed.emulator import DEFAULT_PROJECT_ID
from modelarts_testbed.emulator.server import Emulator

V2_JOBS = f"/v2/{DEFAULT_PROJECT_ID}/training-jobs"


def args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


class Cluster:
    """Answers GET for TrainingJob objects the way the API server does."""

    def __init__(self, objects: dict[str, dict[str, Any]]) -> None:
        self.objects = objects
        self.paths: list[str] = []

    async def get(self, path: str) -> dict[str, Any]:
        self.paths.append(path)
        name = path.rsplit("/", 1)[-1]
        if name not in self.objects:
            raise KubeError(404, "not found")
        return self.objects[name]


async def v2_job(
    emu: Emulator, client: ModelArtsClient, name: str, *, log_path: bool = True
) -> str:
    body: dict[str, Any] = {
        "kind": "job",
        "metadata": {"name": name},
        "algorithm": {
            "code_dir": "obs://bkt/code/",
            "boot_file": "obs://bkt/code/train.py",
            "engine": {"engine_id": "pytorch-cp36-1.4.0-v2"},
        },
        "spec": {"resource": {"flavor_id": "modelarts.vm.cpu.2u", "node_count": 2}},
    }
    if log_path:
        body["spec"]["log_export_path"] = {"obs_url": "/bkt/logs/"}
    response = await client.request("POST", V2_JOBS, endpoint_name="test", json_body=body)
    return str(response.data["metadata"]["id"])


async def logs(client: ModelArtsClient, *argv: str, kube: Any = None, **kw: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    await run_logs(args(*argv), out=out, err=err, environ={}, client=client, kube=kube, **kw)
    return out.getvalue(), err.getvalue()


async def test_running_and_finished_job(emu: Emulator, client: ModelArtsClient) -> None:
    job_id = await v2_job(emu, client, "mnist")
    emu.advance(20)
    running, _ = await logs(client, "--job-id", job_id)
    assert "loss=" in running
    assert "finished" not in running
    emu.advance(120)
    finished, _ = await logs(client, "--job-id", job_id)
    assert finished.startswith(running)  # the same log, grown
    assert finished.rstrip().endswith("[INFO] training finished successfully")
    other, _ = await logs(client, "--job-id", job_id, "--task", "worker-1")
    assert other != finished  # each task has its own log


async def test_tail_reads_backwards_past_one_page(emu: Emulator, client: ModelArtsClient) -> None:
    emu.core.config.timings.job_running = 3000.0  # long enough for more than 500 lines
    job_id = await v2_job(emu, client, "long")
    emu.advance(1500)
    three, _ = await logs(client, "--job-id", job_id, "--tail", "3")
    assert len(three.splitlines()) == 3
    many, _ = await logs(client, "--job-id", job_id, "--tail", "700")
    lines = many.splitlines()
    assert len(lines) == 700
    assert lines[-3:] == three.splitlines()
    steps = [int(line.split("step ")[1].split(":")[0]) for line in lines]
    assert steps == sorted(steps)
    assert len(set(steps)) == 700


async def test_follow_waits_then_prints_to_the_end(emu: Emulator, client: ModelArtsClient) -> None:
    job_id = await v2_job(emu, client, "followed")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        emu.advance(seconds)

    out, err = await logs(client, "--job-id", job_id, "-f", "--interval", "4", sleep=sleep)
    assert "waiting for the logs" in err
    assert out.rstrip().endswith("[INFO] training finished successfully")
    everything, _ = await logs(client, "--job-id", job_id)
    assert out == everything  # nothing lost, nothing twice
    assert set(slept) == {4.0}


async def test_not_ready_and_no_log_path_messages(emu: Emulator, client: ModelArtsClient) -> None:
    job_id = await v2_job(emu, client, "early")
    with pytest.raises(
        LogsError, match=r"not ready yet \(the job is Creating\) \[ModelArts.2818\]"
    ):
        await logs(client, "--job-id", job_id)
    nolog = await v2_job(emu, client, "nolog", log_path=False)
    emu.advance(200)
    with pytest.raises(LogsError, match=r"no log export path .*ModelArts.2822"):
        await logs(client, "--job-id", nolog)
    with pytest.raises(LogsError, match="no task 'worker-5'; its tasks: worker-0, worker-1"):
        await logs(client, "--job-id", job_id, "--task", "worker-5")
    emu.force(kind="training_job_v2", name="broken", status="Abnormal")
    broken = await v2_job(emu, client, "broken")
    emu.advance(10)
    for follow in ([], ["--follow"]):
        with pytest.raises(LogsError, match=r"ended \(Abnormal\) before its tasks wrote a log"):
            await logs(client, "--job-id", broken, *follow)
    with pytest.raises(LogsError, match=r"does not exist in ModelArts \[ModelArts.2775\]"):
        await logs(client, "--job-id", "00000000-0000-4000-8000-000000000000")


async def test_reads_the_job_id_from_the_trainingjob(
    emu: Emulator, client: ModelArtsClient
) -> None:
    job_id = await v2_job(emu, client, "in-cluster")
    emu.advance(20)
    cluster = Cluster(
        {
            "mnist": {"status": {"jobId": job_id, "phase": "Running"}},
            "fresh": {"status": {"phase": "Creating"}},
        }
    )
    out, _ = await logs(client, "trainingjob/mnist", "-n", "team", "--tail", "2", kube=cluster)
    assert len(out.splitlines()) == 2
    assert cluster.paths == [
        "/apis/modelarts.huaweicloud.com/v1alpha1/namespaces/team/trainingjobs/mnist"
    ]
    with pytest.raises(LogsError, match="has no ModelArts job yet"):
        await logs(client, "matj/fresh", "-n", "team", kube=cluster)
    with pytest.raises(LogsError, match="trainingjob team/absent not found"):
        await logs(client, "trainingjob/absent", "-n", "team", kube=cluster)
    with pytest.raises(LogsError, match="only training jobs have logs"):
        await logs(client, "service/mnist", "-n", "team", kube=cluster)


async def test_v1_jobs_use_the_v1_log_api(emu: Emulator, client: ModelArtsClient) -> None:
    response = await client.request(
        "POST",
        f"/v1/{DEFAULT_PROJECT_ID}/training-jobs",
        endpoint_name="test",
        json_body={
            "job_name": "legacy",
            "config": {
                "worker_server_num": 1,
                "app_url": "/bucket/app/",
                "boot_file_url": "/bucket/app/boot.py",
                "data_url": "/bucket/data/",
                "spec_id": 1,
                "engine_id": 1,
                "train_url": "/bucket/out/legacy/",
            },
        },
    )
    emu.advance(200)
    cluster = Cluster(
        {
            "legacy": {
                "status": {
                    "jobId": response.data["job_id"],
                    "versionId": response.data["version_id"],
                }
            }
        }
    )
    out, _ = await logs(client, "trainingjob/legacy", "-n", "x", kube=cluster)
    assert out.rstrip().endswith("[INFO] training finished successfully")


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        ("logs", ("--follow", "trainingjob/NAME")),
        ("flavors", ("spec.resource.flavorId", "--infer-type")),
    ],
)
def test_console_scripts_expose_the_command(command: str, shows: tuple[str, ...]) -> None:
    """Both entry points (``modelarts-operator`` and ``kubectl-modelarts``) have the command."""
    for argv in (
        [sys.executable, "-m", "modelarts_operator.cli", command, "--help"],
        [
            sys.executable,
            "-c",
            "from modelarts_operator.cli import plugin_main; plugin_main()",
            command,
            "--help",
        ],
    ):
        shown = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60)
        for text in shows:
            assert text in shown.stdout
