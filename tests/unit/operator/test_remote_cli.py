"""``kubectl modelarts events --remote``, ``monitor`` and ``history`` against the emulator: a v1
and a v2 service's remote event log, a v2 training job's, a v1 service's monitor figures and
update log, a v2 service's versions, and the plain errors (no monitor API for v2 services, no
event API for v1 jobs, no remote object yet). The objects are the examples, read from a
stand-in API server answering GET."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator import remote_cli, status_cli
from modelarts_operator.api import ModelArtsClient
from modelarts_operator.logs_cli import LogsError
from modelarts_operator.remote_cli import run_remote
from modelarts_testbed.emulator import DEFAULT_PROJECT_ID
from modelarts_testbed.emulator.server import Emulator

from ..sdk.test_sdk_services_v2 import body as v2_service_body
from .test_logs_cli import Cluster, v2_job

EXAMPLES = Path(__file__).parents[3] / "examples"
V1 = f"/v1/{DEFAULT_PROJECT_ID}"
V2 = f"/v2/{DEFAULT_PROJECT_ID}"


def example(path: str, name: str, **status: Any) -> dict[str, Any]:
    """The example object, as the cluster has it once the operator recorded ``status``."""
    obj: dict[str, Any] = yaml.safe_load((EXAMPLES / path).read_text())
    obj["metadata"] = {"name": name, "namespace": "team", "uid": f"uid-{name}"}
    obj["status"] = status
    return obj


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    status_cli.add_parser(sub)
    remote_cli.add_parser(sub)
    return parser.parse_args([*argv, "-n", "team"])


async def command(client: ModelArtsClient, cluster: Cluster, *argv: str) -> str:
    out = io.StringIO()
    await run_remote(parse(*argv), out=out, environ={}, kube=cluster, client=client)
    return out.getvalue()


async def post(client: ModelArtsClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.request("POST", path, endpoint_name="test", json_body=body)
    data: dict[str, Any] = answer.data
    return data


async def v1_service(emu: Emulator, client: ModelArtsClient) -> str:
    model = await post(
        client,
        f"{V1}/models",
        {
            "model_name": "mnist",
            "model_version": "1.0.0",
            "source_location": "obs://models/mnist/",
            "model_type": "TensorFlow",
            "runtime": "python3.6",
        },
    )
    emu.advance(60)
    config = {
        "model_id": model["model_id"],
        "weight": "100",
        "specification": "modelarts.vm.cpu.2u",
        "instance_count": 1,
    }
    body = {"service_name": "svc", "infer_type": "real-time", "config": [config]}
    return str((await post(client, f"{V1}/services", body))["service_id"])


async def test_a_v1_services_events_monitor_and_history(
    emu: Emulator, client: ModelArtsClient
) -> None:
    service_id = await v1_service(emu, client)
    emu.advance(60)
    cluster = Cluster({"svc": example("v1/service-v1.yaml", "svc", serviceId=service_id)})

    events = await command(client, cluster, "events", "--remote", "service/svc")
    lines = events.splitlines()
    assert lines[0].split() == ["TIME", "TYPE", "MESSAGE"]
    assert "start to deploy service" in lines[1]  # oldest first
    assert "service is running" in lines[-1]
    assert all(line.split()[1] == "Normal" for line in lines[1:])
    newest = await command(client, cluster, "events", "--remote", "masvc/svc", "--limit", "2")
    assert newest.splitlines()[1:] == lines[-2:]

    monitor = (await command(client, cluster, "monitor", "service/svc")).splitlines()
    assert re.split(r"\s{2,}", monitor[0].strip()) == [
        "MODEL", "NODE", "CALLS", "FAILED", "CPU CORES", "MEMORY MB", "GPU"
    ]  # fmt: skip
    assert monitor[1].split()[:2] == ["mnist", "1.0.0"]
    assert "1024/8192" in monitor[1]  # memory used of the instance's total while it runs

    history = (await command(client, cluster, "history", "service/svc")).splitlines()
    assert history[0].split() == ["TIME", "RESULT", "CONFIG"]
    assert "SUCCESS" in history[1]
    assert "mnist 1.0.0 modelarts.vm.cpu.2u x1 100%" in history[1]


async def test_a_v2_services_events_and_versions_and_no_monitor(
    emu: Emulator, client: ModelArtsClient
) -> None:
    service_id = str((await post(client, f"{V2}/services", v2_service_body("svc2")))["id"])
    emu.advance(30)
    cluster = Cluster({"svc2": example("04-service.yaml", "svc2", serviceId=service_id)})

    events = (await command(client, cluster, "events", "--remote", "service/svc2")).splitlines()
    assert [line.split(None, 2)[1:] for line in events[1:]] == [
        ["Normal", "start to deploy service"],
        ["Normal", "service is running"],
    ]
    versions = (await command(client, cluster, "history", "service/svc2")).splitlines()
    assert versions[0].split() == ["CREATED", "VERSION", "VERSION-ID", "DESCRIPTION"]
    assert versions[1].split()[1] == "1.0.0"
    with pytest.raises(LogsError, match="no monitor API for v2 services"):
        await command(client, cluster, "monitor", "service/svc2")


async def test_a_v2_training_jobs_events(emu: Emulator, client: ModelArtsClient) -> None:
    job_id = await v2_job(emu, client, "mnist")
    emu.advance(200)
    cluster = Cluster({"mnist": example("02-trainingjob.yaml", "mnist", jobId=job_id)})
    events = (
        await command(client, cluster, "events", "--remote", "trainingjob/mnist")
    ).splitlines()
    assert len(events) > 2
    assert events[0].split() == ["TIME", "TYPE", "MESSAGE"]
    times = [line.split()[0] for line in events[1:]]
    assert times == sorted(times)  # oldest first


@pytest.mark.parametrize(
    ("argv", "objects", "message"),
    [
        (
            ["events", "--remote", "trainingjob/old"],
            {"old": example("v1/trainingjob-v1.yaml", "old", jobId=12, versionId=3)},
            "v1 \\(2020 API\\) job, which has no event API",
        ),
        (
            ["monitor", "trainingjob/old"],
            {},
            "for service/NAME only, not 'trainingjob/old'",
        ),
        (["events", "--remote", "notebook/nb"], {}, "for service/NAME or trainingjob/NAME only"),
        (["monitor", "service/none"], {}, "service team/none not found"),
        (
            ["history", "service/new"],
            {"new": example("04-service.yaml", "new", phase="Creating")},
            "service team/new has no ModelArts object yet \\(Creating\\)",
        ),
        (["monitor", "svc"], {}, "name the object as service/NAME, not 'svc'"),
    ],
)
async def test_plain_errors(
    client: ModelArtsClient, argv: list[str], objects: dict[str, Any], message: str
) -> None:
    with pytest.raises(LogsError, match=message):
        await command(client, Cluster(objects), *argv)


async def test_a_refusal_is_said_in_one_sentence(client: ModelArtsClient) -> None:
    cluster = Cluster({"gone": example("v1/service-v1.yaml", "gone", serviceId="0" * 32)})
    with pytest.raises(LogsError, match=r"ModelArts refused: .*ModelArts"):
        await command(client, cluster, "events", "--remote", "service/gone")
