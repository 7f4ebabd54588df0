"""The Argo CD health fixtures come from the operator, not from us: this drives real objects
(real API server, emulator, operator) into every state the health script distinguishes,
captures them as ``kubectl get -o json`` shows them, strips what changes from run to run, and
compares them with ``tests/fixtures/argocd/``. ``UPDATE_GOLDEN=1`` writes the fixtures instead;
without it a difference fails: the operator's output changed, so the health script and its
fixtures must be looked at again (re-capture, then run tests/unit/argocd).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.unit.argocd.cases import CASES, Case

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    get_obj,
    merge_patch,
    namespace,
    ready,
    write_secret,
)
from .test_lifecycle import API, service, training_job

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

NS = "it-argocd"
GROUP = "modelarts.huaweicloud.com"
WORKSPACE, JOB, MODEL, SERVICE, NETWORK, POOL, ALGORITHM = (
    f"{plural}.{GROUP}"
    for plural in (
        "workspaces", "trainingjobs", "models", "services", "networks", "resourcepools",
        "algorithms",
    )
)  # fmt: skip  # qualified: a bare "service" is the core Service to kubectl
CREDS_NS = "it-argocd-creds"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
CREATE_WORKSPACE = "POST /v1/{project_id}/workspaces"
WRONG_SK = "wrong-sk-argocd-4b1d9e7c2a"
SETTLE_SECONDS = 3.0  # an object counts as captured once it stopped changing this long

# Values that differ between runs of the same scenario: replaced by a placeholder naming them.
_VOLATILE_METADATA = ("uid", "resourceVersion", "creationTimestamp", "managedFields")
# Annotations of the machinery (kopf's last-handled spec, the poller's re-trigger stamp), there
# or not depending on timing; the ones a user sets stay.
_MACHINERY_ANNOTATIONS = re.compile(
    r"^(kopf\.|kubectl\.kubernetes\.io/last-applied|modelarts\.huaweicloud\.com/reconcile-request$)"
)
_PATTERNS = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), "<time>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<hex32>"),
    (re.compile(r"https?://127\.0\.0\.1:\d+"), "<emulator>"),  # a port of its own each run
]
# Status fields (at any depth) holding remote IDs, sizes, counters or times: their presence
# matters, not the value (the shared emulator numbers objects in the order tests create them).
# algorithmSpecHash digests the create body, which holds the workspace's ID (another ID in a
# longer session of the shared emulator).
_VOLATILE_STATUS = re.compile(
    r"(Id|Time|Timestamp|Seconds|At|Count|Size|Url|Address)$|^(versionName|endpoint|algorithmSpecHash)$"
)


def normalize(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what changes between two runs of the same story."""
    obj = json.loads(json.dumps(obj))
    meta = obj.get("metadata", {})
    for key in _VOLATILE_METADATA:
        meta.pop(key, None)
    annotations = {
        k: v for k, v in (meta.pop("annotations", None) or {}).items()
        if not _MACHINERY_ANNOTATIONS.match(k)
    }  # fmt: skip
    if annotations:
        meta["annotations"] = annotations
    status = obj.get("status") or {}
    _placeholders(status)
    if isinstance(status.get("metrics"), dict):  # the emulator's seeded random draws
        status["metrics"] = {name: f"<{name}>" for name in status["metrics"]}
    return _scrub(obj)  # type: ignore[no-any-return]


def _placeholders(node: Any) -> None:
    """Replace, in place, every scalar whose key names a run-specific value."""
    if isinstance(node, list):
        for item in node:
            _placeholders(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                _placeholders(value)
            elif _VOLATILE_STATUS.search(key):
                node[key] = f"<{key}>"


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        for pattern, placeholder in _PATTERNS:
            value = pattern.sub(placeholder, value)
        return value
    return value


@dataclass(frozen=True)
class Target:
    """Where a case's object lives and the state it is captured in."""

    kind: str
    name: str
    namespace: str
    reached: Callable[[dict[str, Any]], bool]


def _synced_false(obj: dict[str, Any]) -> bool:
    return condition(obj, "Synced").get("status") == "False"


def _phase(*phases: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: (obj.get("status") or {}).get("phase") in phases


def _ready_reason(reason: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: condition(obj, "Ready").get("reason") == reason


TARGETS: dict[str, Target] = {
    "workspace-ready": Target(WORKSPACE, "demo", NS, ready),
    "trainingjob-completed": Target(JOB, "mnist", NS, ready),
    "model-published": Target(MODEL, "mnist-v1", NS, ready),
    "service-running": Target(SERVICE, "mnist", NS, ready),
    "trainingjob-running": Target(JOB, "running", NS, _phase("Running")),
    "service-waiting-for-model": Target(SERVICE, "waiting", NS, _ready_reason("WaitingForModel")),
    "trainingjob-refused-spec": Target(JOB, "refused", NS, _synced_false),
    "service-refused-create": Target(SERVICE, "pool", NS, _synced_false),
    "workspace-bad-credentials": Target(WORKSPACE, "team", CREDS_NS, _synced_false),
    "workspace-retrying": Target(WORKSPACE, "retrying", NS, _synced_false),
    "trainingjob-failed": Target(JOB, "failed", NS, _phase("Failed")),
    "service-failed": Target(SERVICE, "failed", NS, _phase("Failed")),
    "service-stopped": Target(SERVICE, "stopped", NS, _phase("Stopped")),
    "network-ready": Target(NETWORK, "net", NS, ready),
    "resourcepool-ready": Target(POOL, "pool", NS, ready),
    "resourcepool-waiting-for-network": Target(
        POOL, "waiting", NS, lambda o: condition(o, "Synced").get("reason") == "WaitingForNetwork"
    ),
    "algorithm-ready": Target(ALGORITHM, "mnist", NS, ready),
}


def _in_workspace(obj: dict[str, Any]) -> dict[str, Any]:
    obj["spec"]["workspaceRef"] = {"name": "demo"}
    return obj


def _job(name: str, **spec: Any) -> dict[str, Any]:
    return _in_workspace(training_job(name, f"it-argocd/{name}", **spec))


def _service(name: str, model: str = "mnist-v1", **spec: Any) -> dict[str, Any]:
    return _in_workspace(service(name, [(model, 100)], **spec))


def waves() -> tuple[list[dict[str, Any]], ...]:
    """The objects of NS in the order of Argo CD's sync waves (workspace, network and pools;
    algorithm and jobs; model; services): one pipeline that succeeds, and one object per
    thing that goes otherwise (each job with a bucket of its own: two jobs sharing a trainUrl
    are refused)."""
    workspace = {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": "demo"},
        "spec": {"name": "it-argocd", "authType": "PUBLIC"},
    }
    model = {
        "apiVersion": API,
        "kind": "Model",
        "metadata": {"name": "mnist-v1"},
        "spec": {
            "workspaceRef": {"name": "demo"},
            "trainingJobRef": {"name": "mnist"},
            "modelVersion": "1.0.0",
            "modelType": "TensorFlow",
            "runtime": "python3.6",
        },
    }
    jobs = [_job("mnist"), _job("running"), _job("refused", config={"specId": 999}), _job("failed")]
    services = [
        _service("mnist"),
        _service("stopped"),
        _service("failed"),
        _service("waiting", model="absent"),
        _service("pool", clusterId="pool-missing"),
    ]
    *platform, algorithm = _platform()
    return [workspace, *platform], [algorithm, *jobs], [model], services


def _platform() -> list[dict[str, Any]]:
    """A Network, a pool on it and a pool on a Network that does not exist (yet), with the
    workspace; an Algorithm in the workspace, with the jobs (after examples/00-01)."""
    network = {"name": "it-argocd-net", "cidr": "192.168.128.0/17"}
    pool = {
        "type": "Dedicate",
        "scope": ["Train", "Infer"],
        "resources": [{"flavor": "modelarts.vm.cpu.8ud", "count": 1}],
    }
    algorithm = {
        "workspaceRef": {"name": "demo"},
        "jobConfig": {
            "codeDir": "/it-argocd/algo/code/",
            "bootFile": "/it-argocd/algo/code/train.py",
            "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
        },
    }
    on_net = {**pool, "name": "it-argocd-pool", "networkRef": {"name": "net"}}
    on_absent = {**pool, "name": "it-argocd-wait", "networkRef": {"name": "absent"}}
    return [
        {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}
        for kind, name, spec in (
            ("Network", "net", network),
            ("ResourcePool", "pool", on_net),
            ("ResourcePool", "waiting", on_absent),
            ("Algorithm", "mnist", algorithm),
        )
    ]


def _version(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["resourceVersion"])


def _wait(op: OperatorProcess, target: Target, timeout: float = 120.0) -> dict[str, Any]:
    """The object once it reached the target state and stopped changing for a while."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] | None = None
    since = time.monotonic()
    while time.monotonic() < deadline:
        obj = get_obj(op.cp, target.kind, target.name, target.namespace)
        if obj is None or not target.reached(obj):
            last = None
        elif last is None or _version(obj) != _version(last):
            last, since = obj, time.monotonic()
        elif time.monotonic() - since >= SETTLE_SECONDS:
            return obj
        time.sleep(0.5)
    status = json.dumps((last or obj or {}).get("status"), indent=1)
    raise AssertionError(f"{target.kind}/{target.name}: not there in {timeout}s: {status}")


def _remote_id(op: OperatorProcess, kind: str, name: str, field: str) -> str:
    deadline = time.monotonic() + 120
    obj = None
    while time.monotonic() < deadline:
        obj = get_obj(op.cp, kind, name, NS)
        if obj and (obj.get("status") or {}).get(field):
            return str(obj["status"][field])
        time.sleep(0.5)
    status = json.dumps((obj or {}).get("status"), indent=1)
    raise AssertionError(f"{kind}/{name} got no status.{field}: {status}\n{op.log()[-3000:]}")


def _force_jobs(operator: OperatorProcess, emulator: Any) -> None:
    """A job that runs for ever and one that fails: JOBSTAT 8 RUNNING and 11 FAILED from now
    on, forced in the emulator once the operator created them."""
    for name, jobstat in (("running", 8), ("failed", 11)):
        job_id = _remote_id(operator, JOB, name, "jobId")
        emulator.admin.force(kind="training_job", id=job_id, status=jobstat, when="now")


def _apply_all(cp: Any, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        apply(cp, obj, NS)


@pytest.fixture(scope="module")
def stories(operator: OperatorProcess, emulator: Any) -> Iterator[OperatorProcess]:
    """Every case's object, driven to where its story goes."""
    cp = operator.cp
    namespace(cp, NS)
    workspaces, jobs, models, services = waves()
    # Each wave once the previous one is there, so what an object saw of its references does
    # not depend on timing.
    _apply_all(cp, workspaces)
    _wait(operator, TARGETS["workspace-ready"])
    _apply_all(cp, jobs)
    _force_jobs(operator, emulator)
    _wait(operator, TARGETS["trainingjob-completed"])
    _apply_all(cp, models)
    _wait(operator, TARGETS["model-published"])
    _apply_all(cp, services)
    emulator.admin.force(
        kind="service", id=_remote_id(operator, SERVICE, "failed", "serviceId"), status="failed"
    )
    _wait(operator, Target(SERVICE, "stopped", NS, ready))
    merge_patch(cp, SERVICE, "stopped", NS, {"spec": {"stopped": True}})
    # Every workspace create answered 503 from now on (until teardown): retried, never refused.
    emulator.admin.add_fault(endpoint=CREATE_WORKSPACE, kind="error", status=503)
    retrying = {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": "retrying"},
        "spec": {"name": "it-argocd-retrying"},
    }
    apply(cp, retrying, NS)

    ns = namespace(cp, CREDS_NS, {"modelarts.huaweicloud.com/credentials-secret": "team-creds"})
    write_secret(cp, ns, "team-creds", {"ak": emulator.config.ak, "sk": WRONG_SK})
    team = {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": "team"},
        "spec": {"name": "it-argocd-creds"},
    }
    apply(cp, team, ns)
    try:
        yield operator
    finally:
        emulator.admin.clear_faults()
    for kind in (SERVICE, MODEL, JOB, ALGORITHM, POOL, NETWORK, WORKSPACE):
        cp.kubectl("delete", kind, "--all", "-n", NS, "--wait=false", check=False)
    cp.kubectl("delete", WORKSPACE, "--all", "-n", CREDS_NS, "--wait=false", check=False)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_matches_the_operators_output(stories: OperatorProcess, case: Case) -> None:
    obj = normalize(_wait(stories, TARGETS[case.name]))
    assert obj["kind"] == case.kind
    text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    if UPDATE:
        case.path.parent.mkdir(parents=True, exist_ok=True)
        case.path.write_text(text, encoding="utf-8")
        return
    assert case.path.exists(), f"no fixture {case.path.name}: run with UPDATE_GOLDEN=1"
    expected = case.path.read_text(encoding="utf-8")
    assert text == expected, (
        f"the operator's output for {case.name} ({case.story}) differs from "
        f"{case.path.relative_to(case.path.parents[3])}: re-capture with UPDATE_GOLDEN=1 and "
        "check the health tests (tests/unit/argocd)"
    )


def test_normalize_keeps_what_health_reads() -> None:
    """Placeholders replace only run-specific values: conditions, reasons, messages without
    IDs, generations and phases stay as the operator wrote them."""
    obj = {
        "kind": "Service",
        "metadata": {"name": "s", "uid": "u", "resourceVersion": "9", "generation": 2},
        "spec": {"stopped": True},
        "status": {
            "observedGeneration": 2,
            "phase": "Running",
            "serviceId": "6f1c2d7e-8a9b-4c3d-9e0f-1a2b3c4d5e6f",
            "accessAddress": "https://x/6f1c",
            "models": [{"modelId": "m-1", "modelSize": 3, "status": "ready"}],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Running",
                    "message": "service 6f1c2d7e-8a9b-4c3d-9e0f-1a2b3c4d5e6f is running",
                    "observedGeneration": 2,
                    "lastTransitionTime": "2026-12-02T06:00:00Z",
                }
            ],
        },
    }
    out = normalize(obj)
    assert out["metadata"] == {"name": "s", "generation": 2}
    assert out["spec"] == {"stopped": True}
    assert out["status"]["serviceId"] == "<serviceId>"
    assert out["status"]["accessAddress"] == "<accessAddress>"
    assert out["status"]["models"] == [
        {"modelId": "<modelId>", "modelSize": "<modelSize>", "status": "ready"}
    ]
    assert (out["status"]["observedGeneration"], out["status"]["phase"]) == (2, "Running")
    cond = out["status"]["conditions"][0]
    assert cond["message"] == "service <uuid> is running"
    assert cond["lastTransitionTime"] == "<lastTransitionTime>"
    assert (cond["type"], cond["status"], cond["reason"]) == ("Ready", "True", "Running")
