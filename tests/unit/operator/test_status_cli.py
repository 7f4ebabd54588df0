"""``kubectl modelarts status`` and ``events`` against a stand-in API server answering GET."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from typing import Any

import pytest

from modelarts_operator import GROUP, VERSION
from modelarts_operator.reconcile.kube import KubeError
from modelarts_operator.status_cli import (
    StatusError,
    add_parser,
    kinds,
    run_events,
    run_status,
)

API = f"/apis/{GROUP}/{VERSION}"


def cond(type_: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def obj(name: str, namespace: str = "team", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "status": status,
    }


READY = [cond("Synced", "True", "Synced"), cond("Ready", "True", "Running")]


class Cluster:
    """GET answers from a dict of path -> body; anything else is a 404."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def get(self, path: str) -> dict[str, Any]:
        self.asked.append(path)
        if path in self.answers:
            return self.answers[path]
        raise KubeError(404, f"{path} not found")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def namespace_listing(namespace: str, **by_plural: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        f"{API}/namespaces/{namespace}/{view.plural}": {"items": by_plural.get(view.plural, [])}
        for view in kinds()
    }


def test_every_kind_is_known_with_its_remote_id_field() -> None:
    ids = {view.kind: view.remote_id for view in kinds()}
    assert ids == {
        "Workspace": "workspaceId",
        "Algorithm": "algorithmId",
        "TrainingJob": "jobId",
        "Model": "modelId",
        "Service": "serviceId",
        "Notebook": "notebookId",
        "Network": "networkId",
        "ResourcePool": "poolId",
    }


async def test_status_lists_failures_first_with_conditions_and_remote_ids() -> None:
    cluster = Cluster(
        namespace_listing(
            "team",
            workspaces=[obj("ws", phase="Ready", workspaceId="ws-1", conditions=READY)],
            trainingjobs=[
                obj("running", phase="Running", jobId="job-1", conditions=[
                    cond("Synced", "True", "Synced"), cond("Ready", "False", "Running")]),
                obj("refused", phase="Error", conditions=[
                    cond("Synced", "False", "ModelArts.0107", "The flavor   is\\nnot supported."),
                    cond("Ready", "False", "ModelArts.0107"),
                    cond("Failed", "True", "ModelArts.0107"),
                ]),
            ],
            services=[
                obj("throttled", phase="Running", serviceId="svc-9", conditions=[
                    cond("Synced", "False", "Throttled", "429: too many requests"),
                    cond("Ready", "True", "Running"),
                ]),
            ],
        )
    )  # fmt: skip
    out = io.StringIO()
    assert await run_status(parse("status", "-n", "team"), out=out, kube=cluster) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["KIND/NAME", "PHASE", "SYNCED", "READY", "REMOTE-ID", "MESSAGE"]
    names = [line.split()[0] for line in lines[1:5]]
    assert names == [
        "trainingjob/refused",
        "service/throttled",
        "trainingjob/running",
        "workspace/ws",
    ]
    assert "False ModelArts.0107" in lines[1]
    assert "The flavor is\\nnot supported." in lines[1]  # whitespace runs folded
    assert "svc-9" in lines[2]
    assert "job-1" in lines[3]
    assert lines[-1] == "4 objects: 1 Failed, 1 not Synced, 1 not Ready, 1 Ready"
    # One list per kind, in the asked namespace only.
    assert all(path.startswith(f"{API}/namespaces/team/") for path in cluster.asked)


async def test_status_exits_0_when_everything_is_ready() -> None:
    cluster = Cluster(namespace_listing("team", workspaces=[obj("ws", conditions=READY)]))
    out = io.StringIO()
    assert await run_status(parse("status", "-n", "team"), out=out, kube=cluster) == 0
    assert out.getvalue().endswith("1 objects: 1 Ready\n")


async def test_status_across_namespaces_adds_the_column_and_lists_cluster_wide() -> None:
    answers = {f"{API}/{view.plural}": {"items": []} for view in kinds()}
    answers[f"{API}/models"] = {"items": [obj("m", "team-b", phase="Published", modelId="m-1",
                                              conditions=READY)]}  # fmt: skip
    out = io.StringIO()
    assert await run_status(parse("status", "-A"), out=out, kube=Cluster(answers)) == 0
    header, first = out.getvalue().splitlines()[:2]
    assert header.split()[0] == "NAMESPACE"
    assert first.split()[:2] == ["team-b", "model/m"]


async def test_long_messages_are_cut_unless_wide_and_json_is_there_for_scripts() -> None:
    long = "x" * 200
    listing = namespace_listing(
        "team", workspaces=[obj("ws", conditions=[cond("Synced", "False", "InvalidSpec", long)])]
    )
    narrow, wide, as_json = io.StringIO(), io.StringIO(), io.StringIO()
    await run_status(parse("status", "-n", "team"), out=narrow, kube=Cluster(listing))
    await run_status(parse("status", "-n", "team", "-o", "wide"), out=wide, kube=Cluster(listing))
    await run_status(
        parse("status", "-n", "team", "-o", "json"), out=as_json, kube=Cluster(listing)
    )
    assert long not in narrow.getvalue()
    assert "…" in narrow.getvalue()
    assert long in wide.getvalue()
    (entry,) = json.loads(as_json.getvalue())
    assert entry == {
        "namespace": "team", "object": "workspace/ws", "state": "not Synced", "phase": "-",
        "synced": "False InvalidSpec", "ready": "-", "remoteId": None, "message": long,
    }  # fmt: skip


async def test_status_of_an_empty_namespace_says_so() -> None:
    out = io.StringIO()
    assert (
        await run_status(
            parse("status", "-n", "quiet"), out=out, kube=Cluster(namespace_listing("quiet"))
        )
        == 0
    )
    assert out.getvalue() == "No ModelArts objects in namespace quiet.\n"


async def test_status_without_the_crds_says_what_is_missing() -> None:
    with pytest.raises(StatusError, match="are the CRDs installed"):
        await run_status(parse("status", "-n", "team"), out=io.StringIO(), kube=Cluster({}))


def event(
    reason: str, when: str, type_: str = "Normal", count: int = 1, message: str = ""
) -> dict[str, Any]:
    return {"metadata": {"name": f"e-{reason}"}, "type": type_, "reason": reason,
            "count": count, "lastTimestamp": when, "message": message}  # fmt: skip


async def test_events_of_one_object_oldest_first() -> None:
    path = f"{API}/namespaces/team/trainingjobs/mnist"
    cluster = Cluster(
        {
            path: obj("mnist"),
            "/api/v1/namespaces/team/events?fieldSelector=involvedObject.uid=uid-mnist": {
                "items": [
                    event("Succeeded", "2026-12-05T10:09:00Z"),
                    event("Created", "2026-12-05T10:00:00Z", message="job   3f1c created"),
                    event("Throttled", "2026-12-05T10:05:00Z", "Warning", 3),
                ]
            },
        }
    )
    out = io.StringIO()
    now = dt.datetime(2026, 12, 5, 10, 10, tzinfo=dt.UTC)
    assert (
        await run_events(
            parse("events", "matj/mnist", "-n", "team"), out=out, kube=cluster, now=now
        )
        == 0
    )
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "COUNT", "MESSAGE"]
    assert [line.split()[2] for line in lines[1:]] == ["Created", "Throttled", "Succeeded"]
    assert lines[1].split()[0] == "10m"
    assert lines[1].endswith("job 3f1c created")
    assert lines[2].split()[:4] == ["5m", "Warning", "Throttled", "3"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("mnist", "KIND/NAME"),
        ("pod/mnist", "'pod' is not a ModelArts kind"),
        ("trainingjob/", "KIND/NAME"),
    ],
)
async def test_events_refuses_a_target_it_cannot_name(target: str, message: str) -> None:
    with pytest.raises(StatusError, match=message):
        await run_events(parse("events", target, "-n", "team"), out=io.StringIO(), kube=Cluster({}))


async def test_events_of_a_missing_object_says_not_found() -> None:
    with pytest.raises(StatusError, match="service team/gone not found"):
        await run_events(
            parse("events", "masvc/gone", "-n", "team"), out=io.StringIO(), kube=Cluster({})
        )


def test_the_kubectl_plugin_has_status_events_and_logs(capsys: pytest.CaptureFixture[str]) -> None:
    from modelarts_operator.cli import plugin_main

    with pytest.raises(SystemExit):
        plugin_main(["--help"])
    help_text = capsys.readouterr().out
    for command in ("status", "events", "logs"):
        assert command in help_text
