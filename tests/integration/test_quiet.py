"""Nothing is written when nothing changed, for every kind and form in a settled state.

Counted by what we did not write: the API server's own ``apiserver_request_total`` (writes by
resource and verb) and the emulator's per-endpoint call counters, over several poll cycles of
the operator (its ``modelarts_poll_cycles_total``).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelarts_testbed.emulator import EmulatorConfig, Timings

from .conftest import (
    OperatorProcess,
    Stack,
    condition,
    isolated_stack,
    kube_http,
    list_kind,
    ready,
    wait_all,
)
from .test_lifecycle import API, model, service, training_job
from .test_reliability import apply_all

pytestmark = pytest.mark.cluster

GROUP = "modelarts.huaweicloud.com"
WRITE_VERBS = {"POST", "PUT", "PATCH", "DELETE", "APPLY"}
WATCHED = {"workspaces", "trainingjobs", "models", "services", "events", "configmaps"}
LIST_PAGES = {
    "GET /v1/{project_id}/workspaces",
    "GET /v1/{project_id}/training-jobs",
    "GET /v1/{project_id}/models",
    "GET /v1/{project_id}/services",
    "GET /v1/workspaces/{workspace_id}/models",  # DataArts Fabric models (Model.spec.llm)
}
_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')
_CYCLES = re.compile(r'^modelarts_poll_cycles_total\{kind="(\w+)"\} (\S+)$', re.M)


def apiserver_writes(http: Any) -> Counter[tuple[str, str]]:
    """Write requests the API server counted, by (resource, verb), for this operator's kinds,
    Events and ConfigMaps."""
    counts: Counter[tuple[str, str]] = Counter()
    resp = http.get("/metrics")
    resp.raise_for_status()
    for line in resp.text.splitlines():
        match = _SAMPLE.match(line)
        if match is None:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        resource, verb = labels.get("resource", ""), labels.get("verb", "")
        if verb in WRITE_VERBS and resource in WATCHED:
            counts[(resource, verb)] += int(float(match["value"]))
    return counts


def poll_cycles(stack: Stack) -> Counter[str]:
    """The operator's poll cycles by kind (its own /metrics)."""
    assert stack.op is not None
    port = stack.op.env["MODELARTS_METRICS_PORT"]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    cycles: Counter[str] = Counter()
    for kind, value in _CYCLES.findall(text):
        cycles[kind] = int(float(value))
    return cycles


def settled_objects(ns: str) -> list[dict[str, Any]]:
    """One object of every kind and form, each of which settles."""
    workspace = {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": "ws"},
        "spec": {"name": f"{ns}-ws", "description": "quiet"},
    }
    llm = {
        "apiVersion": API,
        "kind": "Model",
        "metadata": {"name": "llm"},
        "spec": {
            "llm": {
                "workspaceId": "ws-1",
                "description": "quiet",
                "version": {
                    "name": "v1",
                    "config": {
                        "llmModelConfig": {
                            "baseModelType": "llama3",
                            "modelPath": "obs://bucket/llm/",
                        }
                    },
                },
            }
        },
    }
    from_job = model("from-job", ns, trainingJobRef={"name": "job"})
    del from_job["spec"]["sourceLocation"]
    return [
        workspace,
        training_job("job", ns, workspaceRef={"name": "ws"}),
        model("imported", ns),
        from_job,
        llm,
        service("web", [("imported", 100)]),
        service("exported", [("from-job", 100)], exportTo={"configMapName": "svc-url"}),
        service("stopped", [("imported", 100)], stopped=True),
    ]


def _settled(obj: dict[str, Any]) -> bool:
    if obj["metadata"]["name"] == "stopped":
        return obj.get("status", {}).get("phase") == "Stopped"
    return ready(obj) and condition(obj, "Synced").get("status") == "True"


def test_settled_objects_cause_no_writes_and_only_list_calls(
    operator: OperatorProcess, tmp_path: Path
) -> None:
    ns = "it-quiet"
    cfg = EmulatorConfig(
        seed=11,
        timings=Timings(job_running=2.0, model_publishing=1.0, service_deploying=1.0, jitter=0.0),
    )
    with isolated_stack(operator, ns, tmp_path, cfg) as stack, kube_http(operator.cp) as http:
        objs = settled_objects(ns)
        apply_all(operator.cp, ns, objs)
        plurals = ("workspaces", "trainingjobs", "models", "services")
        wait_all(http, ns, plurals, _settled, len(objs), timeout=180, op=stack.op)
        # Settled is not quiet yet: the last transition's detail and events may still land.
        # Quiet is two consecutive cycles of every kind without a write.
        _wait_until_quiet(http, stack)

        writes, calls = apiserver_writes(http), stack.admin.counters()
        cycles = poll_cycles(stack)
        _wait_for_cycles(stack, cycles, 3)
        write_delta = apiserver_writes(http) - writes
        call_delta = Counter(stack.admin.counters()) - Counter(calls)
        model_cycles = poll_cycles(stack)["models"] - cycles["models"]
        assert write_delta == Counter(), f"writes while settled: {dict(write_delta)}"
        beyond_lists = {k: v for k, v in call_delta.items() if k not in LIST_PAGES}
        assert beyond_lists == {}, f"ModelArts calls beyond list pages: {beyond_lists}"
        # Every polled kind listed, the LLM model through the DataArts list (one page).
        assert set(call_delta) == LIST_PAGES, call_delta
        dataarts_pages = call_delta["GET /v1/workspaces/{workspace_id}/models"]
        assert abs(dataarts_pages - model_cycles) <= 1, (dataarts_pages, model_cycles)
        statuses = {
            f"{o['kind']}/{o['metadata']['name']}": o["status"].get("phase")
            for p in plurals
            for o in list_kind(http, ns, p)
        }
        assert statuses["Model/llm"] == "Published", statuses


def _wait_for_cycles(stack: Stack, since: Counter[str], n: int, timeout: float = 90.0) -> None:
    """Until every polled kind ran ``n`` more poll cycles."""
    deadline = time.monotonic() + timeout
    kinds = ("workspaces", "trainingjobs", "models", "services")
    while time.monotonic() < deadline:
        now = poll_cycles(stack)
        if all(now[k] - since[k] >= n for k in kinds):
            return
        time.sleep(0.5)
    raise AssertionError(f"poll cycles did not advance by {n}: {since} -> {poll_cycles(stack)}")


def _wait_until_quiet(http: Any, stack: Stack, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = apiserver_writes(http)
        _wait_for_cycles(stack, poll_cycles(stack), 2)
        if apiserver_writes(http) == before:
            return
    raise AssertionError("the operator kept writing after every object settled")
