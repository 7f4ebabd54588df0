"""Reliability (chaos) suites: the operator under crashes, API faults, mass deletion with drift
and an emulator restart, and a scan for leaked secrets afterwards.

Each suite runs its own emulator and its own operator (watching only its namespace) through
``isolated_stack``; the shared session operator is stopped meanwhile and restarted after.
The scenario functions take their sizes as arguments: bench/reliability.py runs the same
scenarios with the larger numbers (N=200, M=200).
"""

from __future__ import annotations

import base64
import json
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_testbed.controlplane import ControlPlane
from modelarts_testbed.emulator import EmulatorConfig, Timings

from .conftest import (
    STACK_LOGS,
    STACK_SECRETS,
    STACK_SNAPSHOTS,
    OperatorProcess,
    Stack,
    condition,
    isolated_stack,
    kube_http,
    list_kind,
    ready,
    wait_all,
)

pytestmark = pytest.mark.cluster

GROUP_VERSION = "modelarts.huaweicloud.com/v1alpha1"
CREATE_PENDING = "modelarts.huaweicloud.com/create-pending"
FINALIZER = "modelarts.huaweicloud.com/finalizer"


# -- manifests ---------------------------------------------------------------------------------


def training_job(name: str, workspace: str | None = None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "jobDesc": f"reliability job {name}",
        "config": {
            "workerServerNum": 1,
            "appUrl": "/rel-bucket/code/",
            "bootFileUrl": "/rel-bucket/code/train.py",
            "engineId": 1,
            "specId": 1,
            "dataUrl": "/rel-bucket/data/",
            "trainUrl": f"/rel-bucket/out/{name}/",
            "logUrl": f"/rel-bucket/logs/{name}/",
        },
        **extra,
    }
    if workspace:
        spec["workspaceRef"] = {"name": workspace}
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "TrainingJob",
        "metadata": {"name": name},
        "spec": spec,
    }


def workspace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "Workspace",
        "metadata": {"name": name},
        "spec": {"description": "reliability", "authType": "PUBLIC"},
    }


def model(name: str, *, job: str | None = None, workspace: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "modelVersion": "1.0.0",
        "modelType": "TensorFlow",
        "runtime": "python3.6",
        "description": "reliability model",
    }
    if job:
        spec["trainingJobRef"] = {"name": job}
    else:
        spec["sourceLocation"] = f"/rel-bucket/models/{name}/"
    if workspace:
        spec["workspaceRef"] = {"name": workspace}
    return {"apiVersion": GROUP_VERSION, "kind": "Model", "metadata": {"name": name}, "spec": spec}


def service(name: str, model_name: str, workspace: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "description": "reliability service",
        "inferType": "real-time",
        "config": [
            {
                "modelRef": {"name": model_name},
                "weight": 100,
                "specification": "modelarts.vm.cpu.2u",
                "instanceCount": 1,
            }
        ],
    }
    if workspace:
        spec["workspaceRef"] = {"name": workspace}
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "Service",
        "metadata": {"name": name},
        "spec": spec,
    }


def apply_all(cp: ControlPlane, namespace: str, objs: list[dict[str, Any]]) -> None:
    cp.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump_all(objs), timeout=180.0)


def emulator_config(seed: int, **timings: float) -> EmulatorConfig:
    """An emulator with a non-default SK and password, so the leak scan means something."""
    tag = f"{seed:04d}{random.Random(seed).getrandbits(64):016x}"
    return EmulatorConfig(
        seed=seed,
        sk=f"reliability-sk-{tag}",
        iam_password=f"reliability-pw-{tag}",
        timings=Timings(**{"jitter": 0.0, **timings}),
    )


def synced(obj: dict[str, Any]) -> bool:
    return condition(obj, "Synced").get("status") == "True"


@dataclass(frozen=True)
class JobForm:
    """A TrainingJob form the scenarios run with (``v1``, the 2020 API; ``v2``, today's): its
    manifest, its create call, and where the emulator keeps its remote jobs."""

    name: str
    create_call: str
    remote_kind: str  # the emulator's object kind (admin delete, raw records)
    api_prefix: str  # the path prefix of its calls (what the fault rules hit)

    def manifest(self, name: str, workspace: str | None = None) -> dict[str, Any]:
        if self.name == "v1":
            return training_job(name, workspace)
        from .test_training_v2 import v2_job

        ref = {"workspaceRef": {"name": workspace}} if workspace else {}
        return v2_job(name, "rel-bucket", jobDesc=f"reliability job {name}", **ref)

    def remote(self, stack: Stack, prefix: str) -> list[tuple[str, str]]:
        """(name, ID) of the live remote jobs whose name starts with ``prefix``."""
        core = stack.handle.emulator.core
        if self.name == "v1":
            jobs = core.state.jobs.items.values()
            return [
                (j["job_name"], str(j["job_id"])) for j in jobs if _named(j["job_name"], prefix)
            ]
        now = core.now_ms()
        return [
            (r["name"], str(r["id"]))
            for r in core.state.jobs_v2.items.values()
            if _named(r["name"], prefix) and (r.get("deleted_at") is None or now < r["deleted_at"])
        ]


def _named(name: Any, prefix: str) -> bool:
    return str(name).startswith(prefix)


FORMS = {
    "v1": JobForm("v1", "POST /v1/{project_id}/training-jobs", "training_job", "/v1/"),
    "v2": JobForm("v2", "POST /v2/{project_id}/training-jobs", "training_job_v2", "/v2/"),
}
V1 = FORMS["v1"]


def remote_jobs(stack: Stack, prefix: str, form: JobForm = V1) -> list[tuple[str, str]]:
    return form.remote(stack, prefix)


def api_calls(stack: Stack) -> dict[str, int]:
    calls: dict[str, int] = stack.admin.counters()
    return calls


@dataclass
class Report:
    """Numbers a scenario measured (printed by the bench, asserted on by the tests)."""

    name: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name}: " + ", ".join(f"{k}={v}" for k, v in self.numbers.items())


def _suffix(form: JobForm) -> str:
    """Namespaces of the v2 runs differ from the v1 runs' (the bench runs both)."""
    return "" if form is V1 else f"-{form.name}"


# -- 1. SIGKILL while creating -----------------------------------------------------------------


PACED_QPS = 10  # ModelArts calls a second while the kills land (scenario_kill_during_create)


def scenario_kill_during_create(
    shared: OperatorProcess,
    workdir: Path,
    n: int,
    kills: int = 5,
    seed: int = 11,
    form: JobForm = V1,
) -> Report:
    """SIGKILL the operator ``kills`` times while ``n`` TrainingJobs are being created: exactly
    ``n`` remote jobs, each bound to exactly one object."""
    ns = f"rel-kill-{n}" + _suffix(form)
    rng = random.Random(seed)
    report = Report(f"kill x{kills} during {n} {form.name} creates")
    cfg = emulator_config(seed, job_init=1, job_waiting=1, job_running=4)
    with isolated_stack(shared, ns, workdir, cfg) as stack, kube_http(shared.cp) as http:
        assert stack.op is not None
        # The operator's own rate limit paces the creates (no burst), so that each incarnation
        # dies with creates still to make: a create takes two API-server writes now, and at the
        # default burst (40) one incarnation made the last 20 of 50 at once.
        stack.op.env.update(MODELARTS_API_QPS=str(PACED_QPS), MODELARTS_API_BURST="1")
        stack.op.restart()
        started = time.monotonic()
        apply_all(shared.cp, ns, [form.manifest(f"job-{i:03d}") for i in range(n)])
        bound_at_kill: list[int] = []

        def bound() -> int:
            objs = list_kind(http, ns, "trainingjobs")
            return sum(1 for o in objs if o.get("status", {}).get("jobId"))

        for _ in range(kills):
            # Kill each incarnation as soon as it has made progress (a create recorded), at a
            # random moment shortly after: mid-flight, with other creates under way.
            before, deadline = bound(), time.monotonic() + 30
            while bound() <= before < n and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(rng.uniform(0.0, 0.4))
            bound_at_kill.append(bound())
            stack.op.restart(signal.SIGKILL)
        objs = wait_all(http, ns, ("trainingjobs",), ready, n, timeout=60 + n * 1.5, op=stack.op)
        elapsed = time.monotonic() - started
        remote = remote_jobs(stack, f"{ns}_", form)
        names = Counter(name for name, _ in remote)
        ids = Counter(str(o["status"]["jobId"]) for o in objs)
        by_name = dict(remote)
        calls = api_calls(stack)
        creates = calls.get(form.create_call, 0)
        report.numbers.update(
            objects=n,
            remote_jobs=len(remote),
            bound_at_each_kill=bound_at_kill,
            create_calls=creates,
            api_calls=sum(calls.values()),
            seconds=round(elapsed, 1),
        )
        assert len(remote) == n, f"{len(remote)} remote jobs for {n} objects"
        assert max(names.values()) == 1, f"duplicate remote names: {names.most_common(3)}"
        assert len(ids) == n, f"{len(ids)} distinct jobIds for {n} objects"
        assert max(ids.values()) == 1, f"shared jobIds: {ids.most_common(3)}"
        for obj in objs:
            meta = obj["metadata"]
            assert str(obj["status"]["jobId"]) == by_name[obj["status"]["remoteName"]], meta["name"]
            assert obj["status"]["remoteName"] == f"{ns}_{meta['name']}"
            # An intent left on the object names the remote object its status records (the
            # intent stays once fulfilled: its removal alone would cost a write per create).
            intent = (meta.get("annotations") or {}).get(CREATE_PENDING)
            assert intent in (None, obj["status"]["remoteName"]), meta["name"]
        # The kills must have hit the create phase, or this proved nothing.
        assert sum(1 for b in bound_at_kill if 0 < b < n) >= min(3, kills), bound_at_kill
    return report


@pytest.mark.parametrize("form", ["v1", "v2"])
def test_sigkill_during_creates_yields_exactly_one_remote_job_each(
    operator: OperatorProcess, tmp_path: Path, form: str
) -> None:
    report = scenario_kill_during_create(operator, tmp_path, n=50, form=FORMS[form])
    print(report)


def create_remote_job(stack: Stack, ns: str, obj: str) -> int:
    """Create the training job of ``ns/obj`` through the project's own client, as the
    operator would: its derived name, its ownership marker in the description."""
    import asyncio

    from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient
    from modelarts_operator.api.training_jobs import TrainingJobConfig, TrainingJobCreateRequest
    from modelarts_operator.reconcile.naming import marked_description, owner_marker

    cfg = stack.emulator_config
    name = f"{ns}_{obj}"
    body = training_job(name)["spec"]["config"]
    desc = marked_description(None, owner_marker("", "TrainingJob", ns, obj), 256)

    async def go() -> int:
        config = ClientConfig(
            project_id=cfg.project_id, endpoint=stack.handle.url, iam_endpoint=stack.handle.url
        )
        async with ModelArtsClient(config, AkSkCredentials(ak=cfg.ak, sk=cfg.sk)) as client:
            wire = {
                "worker_server_num": 1,
                "app_url": body["appUrl"],
                "boot_file_url": body["bootFileUrl"],
                "engine_id": 1,
                "spec_id": 1,
                "data_url": body["dataUrl"],
                "train_url": body["trainUrl"],
            }
            created = await client.training_jobs.create(
                TrainingJobCreateRequest(
                    job_name=name, job_desc=desc, config=TrainingJobConfig(**wire)
                )
            )
            return int(created.job_id or 0)

    return asyncio.run(go())


def test_deleted_while_create_was_interrupted_leaves_no_remote_job(
    operator: OperatorProcess, tmp_path: Path
) -> None:
    """The state a crash leaves between the create call and recording its ID: the intent
    annotation and the finalizer (written together, before the create) are set, the remote job
    exists, status has no jobId. The object is deleted before the operator comes back: the job
    must still be found by name and deleted, not orphaned."""
    ns = "rel-kill-window"
    cfg = emulator_config(12, job_init=1, job_waiting=1, job_running=600)
    names = [f"job-{i}" for i in range(3)]
    paused = {"modelarts.huaweicloud.com/paused": "true"}
    with isolated_stack(operator, ns, tmp_path, cfg) as stack, kube_http(operator.cp) as http:
        assert stack.op is not None
        objs = [training_job(n) for n in names]
        for obj in objs:
            obj["metadata"]["annotations"] = paused
        apply_all(operator.cp, ns, objs)
        wait_all(
            http,
            ns,
            ("trainingjobs",),
            lambda o: bool(o.get("status")),  # handled (paused: nothing remote)
            len(names),
            timeout=30,
            op=stack.op,
        )
        stack.op.stop(signal.SIGKILL)
        for name in names:  # what the dead operator did and did not get to record
            create_remote_job(stack, ns, name)
            annotations = {"modelarts.huaweicloud.com/paused": None, CREATE_PENDING: f"{ns}_{name}"}
            intent = {"annotations": annotations, "finalizers": [FINALIZER]}
            http.patch(
                f"/apis/{GROUP_VERSION}/namespaces/{ns}/trainingjobs/{name}",
                content=json.dumps({"metadata": intent}),
                headers={"Content-Type": "application/merge-patch+json"},
            ).raise_for_status()
        assert len(remote_jobs(stack, f"{ns}_")) == len(names)
        operator.cp.kubectl("delete", "trainingjobs", "--all", "-n", ns, "--wait=false")
        stack.op.start()
        deadline = time.monotonic() + 60
        while list_kind(http, ns, "trainingjobs") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not list_kind(http, ns, "trainingjobs")
        left = [name for name, _ in remote_jobs(stack, f"{ns}_")]
        assert not left, f"remote jobs orphaned by the deletion: {left}"


# -- 2. 5xx, 429 and latency -------------------------------------------------------------------


def faults(prefixes: tuple[str, ...] = ("/v1/",)) -> list[dict[str, Any]]:
    """50 ms on every call; 20% 5xx and (after those) 12.5% 429 — 10% of all — on the
    ModelArts calls under ``prefixes``."""
    rules: list[dict[str, Any]] = [{"endpoint": "*", "kind": "latency", "latency": 0.05}]
    for prefix in prefixes:
        rules.append(
            {
                "endpoint": prefix,
                "kind": "error",
                "rate": 0.2,
                "status": 500,
                "error_code": "ModelArts.0010",
            }
        )
    rules += [
        {"endpoint": prefix, "kind": "throttle", "rate": 0.125, "retry_after": 1}
        for prefix in prefixes
    ]
    return rules


CALLS_PER_OBJECT_CEILING = 20  # API calls per object over the whole run (measured: 8-9)


def scenario_faults(
    shared: OperatorProcess, workdir: Path, jobs: int, seed: int = 22, form: JobForm = V1
) -> Report:
    """20% 5xx, 10% 429 with Retry-After and 50 ms latency on every call: a whole pipeline
    (Workspace → TrainingJobs → Models → Services) converges with a bounded number of calls."""
    ns = f"rel-faults-{jobs}" + _suffix(form)
    report = Report(f"faults 20% 5xx + 10% 429 over {jobs} {form.name} jobs")
    cfg = emulator_config(
        seed, job_init=1, job_waiting=1, job_running=3, model_publishing=1, service_deploying=2
    )
    models = max(1, jobs // 4)
    services = max(1, models // 2)
    objs = (
        [workspace("ws")]
        + [form.manifest(f"job-{i:03d}", "ws") for i in range(jobs)]
        + [model(f"model-{i:03d}", job=f"job-{i:03d}", workspace="ws") for i in range(models)]
        + [service(f"svc-{i:03d}", f"model-{i:03d}", "ws") for i in range(services)]
    )
    total = len(objs)
    with isolated_stack(shared, ns, workdir, cfg) as stack, kube_http(shared.cp) as http:
        for rule in faults(tuple(dict.fromkeys(("/v1/", form.api_prefix)))):
            stack.admin.add_fault(**rule)
        stack.admin.clear_counters()
        started = time.monotonic()
        apply_all(shared.cp, ns, objs)
        plurals = ("workspaces", "trainingjobs", "models", "services")
        done = wait_all(
            http, ns, plurals, lambda o: ready(o) and synced(o), total, timeout=150, op=stack.op
        )
        elapsed = time.monotonic() - started
        statuses = stack.handle.emulator.core.statuses
        by_status: Counter[int] = Counter()
        for per_endpoint in statuses.values():
            by_status.update(per_endpoint)
        calls = sum(api_calls(stack).values())
        fired: Counter[str] = Counter()
        for rule in stack.admin.faults():
            fired[rule["kind"]] += rule["fired"]
        report.numbers.update(
            objects=total,
            seconds=round(elapsed, 1),
            api_calls=calls,
            calls_per_object=round(calls / total, 1),
            http_500=by_status[500],
            http_429=by_status[429],
            faults_fired=dict(fired),
        )
        assert fired["error"] > 0, fired
        assert fired["throttle"] > 0, fired
        assert len(done) == total
        assert calls <= CALLS_PER_OBJECT_CEILING * total, report
        # Exactly once still holds under faults (a 500 on a create is ambiguous).
        remote = remote_jobs(stack, f"{ns}_", form)
        assert len(remote) == jobs, f"{len(remote)} remote jobs for {jobs} objects"
    return report


def test_faults_converge_with_bounded_calls(operator: OperatorProcess, tmp_path: Path) -> None:
    report = scenario_faults(operator, tmp_path, jobs=16)
    print(report)


# -- 3. mass deletion with drift ---------------------------------------------------------------

REMOTE_KIND = {
    "trainingjobs": ("training_job", "jobId"),
    "models": ("model", "modelId"),
    "workspaces": ("workspace", "workspaceId"),
}


def scenario_mass_delete(
    shared: OperatorProcess,
    workdir: Path,
    m: int,
    gone_fraction: float = 0.2,
    seed: int = 33,
    form: JobForm = V1,
) -> Report:
    """``m`` objects deleted at once, ``gone_fraction`` of them already deleted remotely
    behind the operator's back: all objects go, no finalizer stays, nothing stays remotely."""
    ns = f"rel-delete-{m}" + _suffix(form)
    rng = random.Random(seed)
    report = Report(
        f"delete {m} objects ({form.name} jobs), {int(gone_fraction * 100)}% gone remotely"
    )
    # Long-running jobs: most are still running when deleted (stop, then delete).
    cfg = emulator_config(seed, job_init=1, job_waiting=1, job_running=600, model_publishing=1)
    n_ws = max(1, m // 10)
    n_models = max(1, m // 5)
    n_jobs = m - n_ws - n_models
    objs = (
        [workspace(f"ws-{i:03d}") for i in range(n_ws)]
        + [model(f"model-{i:03d}") for i in range(n_models)]
        + [form.manifest(f"job-{i:03d}") for i in range(n_jobs)]
    )
    plurals = ("workspaces", "models", "trainingjobs")
    remote_kind = {**REMOTE_KIND, "trainingjobs": (form.remote_kind, "jobId")}
    with isolated_stack(shared, ns, workdir, cfg) as stack, kube_http(shared.cp) as http:
        apply_all(shared.cp, ns, objs)
        ids = {"workspaces": "workspaceId", "models": "modelId", "trainingjobs": "jobId"}

        def bound(o: dict[str, Any]) -> bool:
            plural = o["kind"].lower() + "s"
            return bool(o.get("status", {}).get(ids[plural])) and synced(o)

        live = wait_all(http, ns, plurals, bound, m, timeout=60 + m, op=stack.op)
        gone = rng.sample(live, int(m * gone_fraction))
        for obj in gone:
            kind, id_field = remote_kind[obj["kind"].lower() + "s"]
            stack.admin.delete_object(kind, str(obj["status"][id_field]))
        started = time.monotonic()
        shared.cp.kubectl(
            "delete", "workspaces,models,trainingjobs", "--all", "-n", ns, "--wait=false"
        )
        deadline = time.monotonic() + 60 + m
        left: list[dict[str, Any]] = live
        while time.monotonic() < deadline:
            left = [o for p in plurals for o in list_kind(http, ns, p)]
            if not left:
                break
            time.sleep(1.0)
        elapsed = time.monotonic() - started
        core = stack.handle.emulator.core
        remote_left = (
            len(remote_jobs(stack, f"{ns}_", form))
            + sum(1 for r in core.state.models.items.values() if r["model_name"].startswith(ns))
            + sum(1 for r in core.state.workspaces.items.values() if str(r["name"]).startswith(ns))
        )
        report.numbers.update(
            objects=m,
            gone_remotely_first=len(gone),
            seconds_to_all_gone=round(elapsed, 1),
            objects_left=len(left),
            remote_left=remote_left,
            api_calls=sum(api_calls(stack).values()),
        )
        stuck = [(o["kind"], o["metadata"]["name"], o.get("status", {})) for o in left[:3]]
        tail = stack.op.log()[-3000:] if stack.op else ""
        assert not left, f"{len(left)} objects left with finalizers: {stuck}\n{tail}"
        assert remote_left == 0, report
    return report


def test_mass_deletion_with_remote_drift_leaves_nothing(
    operator: OperatorProcess, tmp_path: Path
) -> None:
    report = scenario_mass_delete(operator, tmp_path, m=40)
    print(report)


# -- 4. emulator restart -----------------------------------------------------------------------


def scenario_emulator_restart(
    shared: OperatorProcess,
    workdir: Path,
    jobs: int,
    down_seconds: float = 4.0,
    seed: int = 44,
    form: JobForm = V1,
) -> Report:
    """The ModelArts endpoint goes away mid-run and comes back (state from its state file,
    issued IAM tokens forgotten): the operator recovers and everything converges once."""
    ns = f"rel-restart-{jobs}" + _suffix(form)
    report = Report(f"emulator restart during {jobs} {form.name} jobs")
    cfg = emulator_config(
        seed, job_init=1, job_waiting=1, job_running=4, model_publishing=1, service_deploying=2
    )
    cfg.state_file = str(workdir / "emulator-state.json")
    models = max(1, jobs // 4)
    objs = (
        [workspace("ws")]
        + [form.manifest(f"job-{i:03d}", "ws") for i in range(jobs)]
        + [model(f"model-{i:03d}", job=f"job-{i:03d}", workspace="ws") for i in range(models)]
        + [service("svc-000", "model-000", "ws")]
    )
    total = len(objs)
    plurals = ("workspaces", "trainingjobs", "models", "services")
    with (
        isolated_stack(shared, ns, workdir, cfg, credentials="password") as stack,
        kube_http(shared.cp) as http,
    ):
        started = time.monotonic()
        apply_all(shared.cp, ns, objs)
        # Restart once creation is under way: some objects bound, some not.
        deadline = time.monotonic() + 60
        bound = 0
        while time.monotonic() < deadline:
            bound = sum(
                1 for o in list_kind(http, ns, "trainingjobs") if o.get("status", {}).get("jobId")
            )
            if bound >= max(1, jobs // 4):
                break
            time.sleep(0.3)
        stack.stop_emulator()
        time.sleep(down_seconds)
        stack.start_emulator()  # same port, same state file
        restarted = time.monotonic()
        done = wait_all(
            http, ns, plurals, lambda o: ready(o) and synced(o), total, timeout=120, op=stack.op
        )
        remote = remote_jobs(stack, f"{ns}_", form)
        report.numbers.update(
            objects=total,
            jobs_bound_before_restart=bound,
            seconds_total=round(time.monotonic() - started, 1),
            seconds_after_restart=round(time.monotonic() - restarted, 1),
            token_requests_after_restart=api_calls(stack).get("POST /v3/auth/tokens", 0),
            api_calls_after_restart=sum(api_calls(stack).values()),
        )
        assert len(done) == total
        assert len(remote) == jobs, f"{len(remote)} remote jobs for {jobs} objects"
        # The restarted emulator forgot its tokens: the operator must have fetched a new one.
        assert report.numbers["token_requests_after_restart"] >= 1
    return report


def test_operator_recovers_from_emulator_restart(operator: OperatorProcess, tmp_path: Path) -> None:
    report = scenario_emulator_restart(operator, tmp_path, jobs=12, down_seconds=10.0)
    print(report)


# -- 5. no secret anywhere ---------------------------------------------------------------------


def leaks(haystacks: dict[str, str], secrets: list[str]) -> list[str]:
    """Which secret (or its base64 form) shows up where; secrets shown only as a prefix."""
    found = []
    for secret in {s for s in secrets if s and len(s) >= 8}:
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        for where, text in haystacks.items():
            if any(form in text for form in forms):
                found.append(f"{secret[:6]}... in {where}")
    return found


def test_no_secret_in_logs_events_or_status(operator: OperatorProcess, emulator: Any) -> None:
    """Runs after the suites above (file order): every secret they used, every IAM token the
    emulators issued, searched in the operator logs, all events and every object."""
    cp = operator.cp
    secrets = [*STACK_SECRETS, emulator.config.sk, emulator.config.iam_password]
    secrets += list(emulator.emulator.core.tokens._tokens)
    assert STACK_SECRETS, "run with the suites above: they provide the secrets to look for"
    assert any(s.startswith("MII") for s in STACK_SECRETS), "no IAM token was issued to scan for"
    haystacks = {"shared operator log": operator.log()}
    for i, path in enumerate(STACK_LOGS):
        haystacks[f"operator log {i} ({path.parent.name})"] = path.read_text(errors="replace")
    for i, path in enumerate(STACK_SNAPSHOTS):
        haystacks[f"events and objects {i} ({path.parent.name})"] = path.read_text()
    haystacks["events"] = cp.kubectl("get", "events", "-A", "-o", "json").stdout
    objects = cp.kubectl("get", "modelarts", "-A", "-o", "json").stdout
    haystacks["objects"] = objects
    haystacks["statuses"] = json.dumps([o.get("status") for o in json.loads(objects)["items"]])
    assert sum(len(t) for t in haystacks.values()) > 10_000  # there is something to scan
    assert not leaks(haystacks, secrets)
