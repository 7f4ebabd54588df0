"""A real Argo CD syncs the shipped example Application (examples/argocd/) from a local git
repository, with the health checks the README documents in argocd-cm, against the real operator
and emulator: wave by wave to all-Healthy, Suspended after a commit that stops the Service,
Degraded for an object ModelArts refuses."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_testbed.controlplane import ControlPlaneError, tool_path
from modelarts_testbed.emulator import EmulatorConfig, Timings

from .argocd_harness import NAMESPACE, ArgoCD, load_yaml, resource_health
from .conftest import ROOT, OperatorProcess, Stack, condition, get_obj, isolated_stack

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

NS = "it-argocd-sync"
APP = "modelarts-demo-pipeline"
GROUP = "modelarts.huaweicloud.com"
# The kustomization's waves: the objects of one wave do not refer to each other.
WAVE_GROUPS = [
    [("Network", "demo-net"), ("Workspace", "demo")],
    [("ResourcePool", "demo-pool"), ("Algorithm", "mnist")],
    [("TrainingJob", "mnist")],
    [("Model", "mnist-v1")],
    [("Service", "mnist")],
]
WAVES = [key for group in WAVE_GROUPS for key in group]
# What the repository holds: the example manifests and the kustomization that puts them in
# waves, at the paths the shipped Application uses.
REPO_FILES = {
    **{f"examples/{p.name}": p for p in sorted((ROOT / "examples").glob("0*.yaml"))},
    "examples/argocd/pipeline/kustomization.yaml": (
        ROOT / "examples/argocd/pipeline/kustomization.yaml"
    ),
}


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return tool_path("helm")
    except ControlPlaneError as err:
        pytest.skip(f"helm binary not built ({err})")


@pytest.fixture(scope="module")
def stack(operator: OperatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An emulator and an operator of their own for NS (the examples' remote names would meet
    those of other tests in the shared emulator)."""
    timings = Timings(
        job_running=8.0,
        model_publishing=2.0,
        service_deploying=3.0,
        network_creating=2.0,
        pool_creating=3.0,
        jitter=0.0,
    )
    config = EmulatorConfig(seed=11, timings=timings)
    with isolated_stack(operator, NS, tmp_path_factory.mktemp("argocd-stack"), config) as s:
        yield s


@pytest.fixture(scope="module")
def argocd(stack: Stack, helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArgoCD]:
    """Argo CD running, the repository committed and the shipped Application applied (its
    repoURL and destination namespace pointed here, as its comment tells users to)."""
    argo = ArgoCD(stack.cp, tmp_path_factory.mktemp("argocd"), helm)
    argo.install()
    argo.init_repo(REPO_FILES)
    app = load_yaml(ROOT / "examples/argocd/pipeline-application.yaml")
    app["spec"]["source"]["repoURL"] = f"file://{argo.repo}"
    app["spec"]["destination"]["namespace"] = NS
    argo.start()
    try:
        argo.apply_application(app)
        yield argo
    finally:
        stack.cp.kubectl("delete", "application", APP, "-n", NAMESPACE, "--wait=false", check=False)
        pids = [p.pid for p in argo.procs.values()]
        argo.stop()
        leftover = [pid for pid in pids if _alive(pid)]
        busy = argo.ports_in_use()
        stack.cp.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
        assert not leftover, f"Argo CD processes still running: {leftover}"
        assert not busy, f"ports still listening after Argo CD stopped: {busy}"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_app(
    argo: ArgoCD,
    done: Callable[[dict[str, Any]], bool],
    what: str,
    timeout: float = 120.0,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    app: dict[str, Any] = {}
    while time.monotonic() < deadline:
        app = argo.application(APP)
        if on_poll is not None:
            on_poll(app)
        if done(app):
            return app
        time.sleep(0.5)
    status = app.get("status") or {}
    summary = {
        "sync": status.get("sync"),
        "health": status.get("health"),
        "resources": status.get("resources"),
        "conditions": status.get("conditions"),
        "operationState": (status.get("operationState") or {}).get("message"),
    }
    raise AssertionError(
        f"Application {APP}: not {what} in {timeout}s: {yaml.safe_dump(summary)}\n"
        f"controller: {argo.log('application-controller')[-2000:]}"
    )


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _all_healthy(app: dict[str, Any]) -> bool:
    status = app.get("status") or {}
    health = resource_health(app)
    return (
        (status.get("sync") or {}).get("status") == "Synced"
        and (status.get("health") or {}).get("status") == "Healthy"
        and len(health) == len(WAVES)
        and set(health.values()) == {"Healthy"}
    )


def test_pipeline_syncs_wave_by_wave_to_all_healthy(argocd: ArgoCD, stack: Stack) -> None:
    started = time.monotonic()
    app = _wait_app(argocd, _all_healthy, "Synced and all-Healthy", timeout=180)
    elapsed = time.monotonic() - started
    assert resource_health(app) == {key: "Healthy" for key in WAVES}
    # Each wave was applied only once the one before was Healthy (Ready): a dependent object
    # was created no earlier than its predecessor turned Ready (second resolution).
    objects = {}
    for kind, name in WAVES:
        obj = get_obj(stack.cp, f"{kind.lower()}s.{GROUP}", name, NS)
        assert obj is not None, (kind, name)
        objects[kind] = obj
    for earlier, later in itertools.pairwise(WAVE_GROUPS):
        for before, after in itertools.product(earlier, later):
            became_ready = _time(condition(objects[before[0]], "Ready")["lastTransitionTime"])
            created = _time(objects[after[0]]["metadata"]["creationTimestamp"])
            assert created >= became_ready, f"{after} created before {before} was Healthy"
    # The figures for the report (pytest -s).
    print(
        f"argocd startup {argocd.startup_seconds:.1f}s, sync to all-Healthy {elapsed:.1f}s, "
        f"RSS MiB {argocd.rss_mb()}"
    )


def _commit_service_stopped(argo: ArgoCD) -> None:
    path = argo.repo / "examples/04-service.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["stopped"] = True
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    argo.commit("stop the mnist service")
    argo.refresh(APP)


def test_a_commit_that_stops_the_service_shows_suspended(argocd: ArgoCD, stack: Stack) -> None:
    _wait_app(argocd, _all_healthy, "all-Healthy before the commit")
    _commit_service_stopped(argocd)
    app = _wait_app(
        argocd,
        lambda a: resource_health(a).get(("Service", "mnist")) == "Suspended",
        "showing the stopped Service Suspended",
    )
    assert (app["status"]["health"]["status"]) == "Suspended"
    svc = get_obj(stack.cp, f"services.{GROUP}", "mnist", NS)
    assert svc is not None
    assert svc["spec"]["stopped"] is True
    health = resource_health(app)
    assert all(health[key] == "Healthy" for key in WAVES[:-1]), health


REFUSED_JOB = {
    "apiVersion": f"{GROUP}/v1alpha1",
    "kind": "TrainingJob",
    "metadata": {"name": "refused"},
    "spec": {
        "workspaceRef": {"name": "demo"},
        "config": {
            "workerServerNum": 1,
            "appUrl": "/demo-bucket/refused/code/",
            "bootFileUrl": "/demo-bucket/refused/code/train.py",
            "engineId": 1,
            "specId": 999,  # admission allows it (>= 1); ModelArts refuses it (ModelArts.0107)
            "dataUrl": "/demo-bucket/refused/data/",
            "trainUrl": "/demo-bucket/refused/output/",
        },
    },
}


def test_a_refused_object_shows_degraded(argocd: ArgoCD, stack: Stack) -> None:
    """A commit adds a TrainingJob ModelArts refuses: once the operator wrote the refusal and
    Argo CD compared after that, the job must read Degraded (not wait as Progressing)."""
    (argocd.repo / "examples/05-refused.yaml").write_text(yaml.safe_dump(REFUSED_JOB))
    kustomization = argocd.repo / "examples/argocd/pipeline/kustomization.yaml"
    doc = yaml.safe_load(kustomization.read_text())
    doc["resources"].append("../../05-refused.yaml")
    kustomization.write_text(yaml.safe_dump(doc, sort_keys=False))
    argocd.commit("add a training job ModelArts refuses")
    argocd.refresh(APP)

    deadline = time.monotonic() + 60
    refused_at = None
    while refused_at is None and time.monotonic() < deadline:
        job = get_obj(stack.cp, f"trainingjobs.{GROUP}", "refused", NS)
        synced = condition(job, "Synced")
        if synced.get("status") == "False":
            refused_at = _time(synced["lastTransitionTime"])
        time.sleep(0.5)
    assert refused_at is not None, "the operator never wrote the refusal"
    assert synced["reason"] == "ModelArts.0107"
    argocd.refresh(APP)

    def judged(app: dict[str, Any]) -> bool:
        """Degraded, or a verdict Argo CD reached after the refusal was written."""
        health = resource_health(app).get(("TrainingJob", "refused"))
        reconciled = (app.get("status") or {}).get("reconciledAt")
        return health == "Degraded" or (
            health not in (None, "", "Missing")
            and reconciled is not None
            and _time(reconciled) > refused_at
        )

    app = _wait_app(argocd, judged, "judging the refused job", timeout=60)
    health = resource_health(app)
    assert health[("TrainingJob", "refused")] == "Degraded", health
