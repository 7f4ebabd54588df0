"""Operator at scale: N objects of one kind and form on the local control plane with the
emulator. Workloads, one per kind and form: ``trainingjobs`` (the 2020 v1 form),
``trainingjobs-v2`` (the current API: searches of 50 per page), ``models`` (imported from OBS),
``services`` (the v1 form, all on one published model), ``services-v2``, ``workspaces``,
``workspaces-quotas`` (each setting a quota, shown in status), ``notebooks``, ``algorithms``,
``networks``, ``resourcepools`` (all on one Network).

Measures, for N objects (issue 7):
  (a) time until all are Synced (remote ID in status) and until Running/Succeeded show;
  (b) ModelArts API calls per poll cycle while all jobs are active (emulator counters);
  (c) status lag from the emulator's completion of a job to the CR showing Succeeded;
  (d) operator RSS and CPU while busy and when settled;
  (e) API-server writes per poll cycle in steady state (kube-apiserver's own metrics);
  (f) the same steady state under a per-object polling operator (bench/per_object_operator.py:
      a kopf timer per object doing one GET each), as a ratio.
Jobs complete (so (c) applies to them); the other kinds stay in their steady state (Running,
Published, Ready), so for them (b) is their settled cycle. (f) mirrors the phase of v1 jobs and
only reads for the other kinds and forms (a lower bound on its cost).
Results go to bench/results/operator_scale[_<workload>]_<N>.json; `python -m bench` writes the
summary.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import json
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.progress import Progress
from modelarts_operator import GROUP, VERSION
from modelarts_operator.reconcile.policies import CREATE_PENDING, intent_fulfilled
from modelarts_testbed.controlplane import ControlPlane, free_port, running
from modelarts_testbed.emulator import EmulatorConfig
from modelarts_testbed.emulator.server import AdminClient

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
NS = "bench"
POLL_ACTIVE = 10.0
POLL_SETTLED = 60.0


def _v1_job(i: int) -> dict[str, Any]:
    return {
        "jobDesc": "benchmark",
        "config": {
            "workerServerNum": 1,
            "appUrl": "/bench/code/",
            "bootFileUrl": "/bench/code/train.py",
            "engineId": 1,
            "specId": 1,
            "dataUrl": "/bench/data/",
            "trainUrl": f"/bench/out/{i}/",
        },
    }


def _v2_job(i: int) -> dict[str, Any]:
    obs = "obs://bench"
    return {
        "jobDesc": "benchmark",
        "algorithm": {
            "codeDir": f"{obs}/code/",
            "bootFile": f"{obs}/code/train.py",
            "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
            "inputs": [{"name": "data_url", "remote": {"obs": {"obsUrl": f"{obs}/data/"}}}],
            "outputs": [{"name": "train_url", "remote": {"obs": {"obsUrl": f"{obs}/out/{i}/"}}}],
        },
        "resource": {"flavorId": "modelarts.vm.pnt1.large.eco", "nodeCount": 1},
    }


def _notebook(i: int) -> dict[str, Any]:
    return {
        "image": {"name": "notebook2.0-mul-kernel-cpu-cp36", "tag": "3.3.2-release-v1"},
        "flavor": "modelarts.vm.cpu.2u",
        "volume": {"category": "EVS", "capacity": 5},
    }


def _model(i: int) -> dict[str, Any]:
    return {
        "modelVersion": "1.0.0",
        "modelType": "TensorFlow",
        "runtime": "python3.6",
        "sourceLocation": f"obs://bench/models/{i}/",
    }


def _llm_model(i: int) -> dict[str, Any]:
    """A DataArts Fabric LLM model; all in one DataArts workspace (list pages of 100)."""
    config = {"llmModelConfig": {"baseModelType": "llama3", "modelPath": f"obs://bench/llm/{i}/"}}
    return {"llm": {"workspaceId": "bench-dataarts", "version": {"name": "v1", "config": config}}}


def _workspace(i: int) -> dict[str, Any]:
    return {"description": f"team {i}", "authType": "PUBLIC", "deletionPolicy": "Delete"}


def _workspace_quotas(i: int) -> dict[str, Any]:
    """A team's workspace with one quota set (the emulator's catalog: -1 .. 600000 minutes)."""
    quota = {"resource": "trainJob.gpu_duration", "quota": 1000 + i}
    return {**_workspace(i), "quotas": [quota]}


def _algorithm(i: int) -> dict[str, Any]:
    """A team's training recipe, after examples/01-algorithm.yaml."""
    return {
        "description": "benchmark",
        "jobConfig": {
            "codeDir": f"/bench/algo/{i}/code/",
            "bootFile": f"/bench/algo/{i}/code/train.py",
            "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
            "inputs": [{"name": "data_url"}],
            "outputs": [{"name": "train_url"}],
        },
    }


def _network(i: int) -> dict[str, Any]:
    # Names are project-wide (os.modelarts/name, 4-32 characters); CIDRs may repeat remotely.
    return {"name": f"bench-net-{i:05d}", "cidr": "192.168.128.0/17"}


def _pool(i: int) -> dict[str, Any]:
    return {
        "name": f"bench-pool-{i:05d}",
        "type": "Dedicate",
        "scope": ["Train"],
        "resources": [{"flavor": "modelarts.vm.cpu.8ud", "count": 1}],
        "networkRef": {"name": "base"},
    }


def _base_network() -> list[dict[str, Any]]:
    """What the pools run on: one Network (a platform team's pools share it)."""
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Network"}
    return [{**body, "metadata": {"name": "base", "namespace": NS}, "spec": _network(99999)}]


def _service_v1(i: int) -> dict[str, Any]:
    config = {"modelRef": {"name": "base"}, "specification": "modelarts.vm.cpu.2u"}
    return {"inferType": "real-time", "config": [{**config, "instanceCount": 1, "weight": 100}]}


def _base_model() -> list[dict[str, Any]]:
    """What the v1 services deploy: one published model (services share it, as they do)."""
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Model"}
    return [{**body, "metadata": {"name": "base", "namespace": NS}, "spec": _model(0)}]


def _service_v2(i: int) -> dict[str, Any]:
    unit = {
        "image": {"source": "SWR", "swrPath": "swr.cn-north-4.myhuaweicloud.com/bench/serve:1.0"},
        "flavor": "modelarts.vm.cpu.2u",
        "count": 1,
        "port": 8080,
        "models": [{"source": "OBS", "mountPath": "/models/m", "address": f"obs://bench/m/{i}/"}],
    }
    return {
        "v2": {
            "version": "1.0.0",
            "groupConfigs": [
                {"name": "main", "poolId": "pool-dedicated-1", "weight": 100, "unitConfigs": [unit]}
            ],
            "runtimeConfig": {
                "serviceInvoke": {"port": 8080, "protocol": "HTTP", "authType": "TOKEN"},
                "serviceLimit": {
                    "rateLimit": {"num": 200, "unit": "SECONDS"},
                    "requestSizeLimit": 12,
                    "requestTimeout": 40,
                },
            },
        }
    }


@dataclass(frozen=True)
class Workload:
    """One kind and form to scale: how an object looks, where its ID goes, what creates it."""

    name: str
    kind: str
    plural: str
    id_field: str
    create_call: str  # the emulator counter of the create request
    spec: Callable[[int], dict[str, Any]]
    completes: bool  # jobs finish (a completion lag to measure); the others stay steady
    active: tuple[str, ...] = ("Running", "Succeeded")  # the phases of a remote state shown
    prelude: Callable[[], list[dict[str, Any]]] | None = None  # created (and Ready) first
    # A status field that must be there too for the remote state to count as shown (quotas
    # are applied after the create, so Ready alone says nothing of them).
    active_needs: str | None = None

    @property
    def label(self) -> str:
        return {"trainingjobs": "v1 jobs", "trainingjobs-v2": "v2 jobs"}.get(self.name, self.name)


WORKLOADS = {
    w.name: w
    for w in (
        Workload(
            "trainingjobs",
            "TrainingJob",
            "trainingjobs",
            "jobId",
            "POST /v1/{project_id}/training-jobs",
            _v1_job,
            True,
        ),
        Workload(
            "trainingjobs-v2",
            "TrainingJob",
            "trainingjobs",
            "jobId",
            "POST /v2/{project_id}/training-jobs",
            _v2_job,
            True,
        ),
        Workload(
            "notebooks",
            "Notebook",
            "notebooks",
            "notebookId",
            "POST /v1/{project_id}/notebooks",
            _notebook,
            False,
        ),
        Workload(
            "services-v2",
            "Service",
            "services",
            "serviceId",
            "POST /v2/{project_id}/services",
            _service_v2,
            False,
        ),
        Workload(
            "models",
            "Model",
            "models",
            "modelId",
            "POST /v1/{project_id}/models",
            _model,
            False,
            active=("Published",),
        ),
        Workload(
            "models-llm",
            "Model",
            "models",
            "modelId",
            "POST /v1/workspaces/{workspace_id}/models",
            _llm_model,
            False,
            active=("Published",),
        ),
        Workload(
            "services",
            "Service",
            "services",
            "serviceId",
            "POST /v1/{project_id}/services",
            _service_v1,
            False,
            prelude=_base_model,
        ),
        Workload(
            "workspaces",
            "Workspace",
            "workspaces",
            "workspaceId",
            "POST /v1/{project_id}/workspaces",
            _workspace,
            False,
            active=("Ready",),
        ),
        Workload(
            "workspaces-quotas",
            "Workspace",
            "workspaces",
            "workspaceId",
            "POST /v1/{project_id}/workspaces",
            _workspace_quotas,
            False,
            active=("Ready",),
            active_needs="quotas",
        ),
        Workload(
            "algorithms",
            "Algorithm",
            "algorithms",
            "algorithmId",
            "POST /v2/{project_id}/algorithms",
            _algorithm,
            False,
            active=("Ready",),
        ),
        Workload(
            "networks",
            "Network",
            "networks",
            "networkId",
            "POST /v1/{project_id}/networks",
            _network,
            False,
            active=("Ready",),  # the operator's phase once the network is Active
        ),
        Workload(
            "resourcepools",
            "ResourcePool",
            "resourcepools",
            "poolId",
            "POST /v2/{project_id}/pools",
            _pool,
            False,
            active=("Ready",),  # the operator's phase once the pool is Running
            prelude=_base_network,
        ),
    )
}


class Seen:
    """When each object first had a remote ID, showed Running, and showed Succeeded."""

    def __init__(
        self, id_field: str, active: tuple[str, ...], active_needs: str | None = None
    ) -> None:
        self.id_field = id_field
        self.active_phases = active
        self.active_needs = active_needs
        self.t0 = time.monotonic()
        self.synced: dict[str, float] = {}
        self.active: dict[str, float] = {}
        self.done: dict[str, float] = {}  # wall clock, to compare with the API's timestamps
        self.completion: dict[str, float] = {}
        self.changed = asyncio.Event()

    async def wait_for(
        self, what: str, found: dict[str, float], n: int, limit_s: float, progress: Progress
    ) -> None:
        """Until ``found`` has ``n`` objects (or ``limit_s`` passed), saying how far it got."""
        deadline = time.monotonic() + limit_s
        while len(found) < n and time.monotonic() < deadline:
            progress.update(what, len(found), n)
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1.0)
        progress.update(what, len(found), n, final=True)

    def record(self, obj: dict[str, Any]) -> None:
        name, status = obj["metadata"]["name"], obj.get("status") or {}
        now = time.monotonic() - self.t0
        if status.get(self.id_field):
            self.synced.setdefault(name, now)
        shown = not self.active_needs or status.get(self.active_needs)
        if status.get("phase") in self.active_phases and shown:
            self.active.setdefault(name, now)
        self.changed.set()
        if status.get("phase") == "Succeeded" and name not in self.done:
            self.done[name] = time.time()
            if stamp := status.get("completionTime"):
                self.completion[name] = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


async def follow(
    http: httpx.AsyncClient, path: str, on_event: Callable[[str, dict[str, Any]], None]
) -> None:
    """Every watch event of ``path`` to ``on_event(type, object)``, reconnecting from the last
    resourceVersion seen (from a fresh list when that is too old), until cancelled."""
    version = ""
    while True:
        try:
            params = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "1"}
            async with http.stream("GET", path, params=params, timeout=None) as stream:
                if stream.status_code != 200:
                    # e.g. 429 "storage is (re)initializing" right after the API server
                    # starts: a Status body, not events
                    await stream.aread()
                    raise httpx.HTTPStatusError(
                        f"watch {stream.status_code}", request=stream.request, response=stream
                    )
                async for line in stream.aiter_lines():
                    if not line:
                        continue
                    event = json.loads(line)
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        version = ""  # too old: start over from a fresh list
                        break
                    version = obj["metadata"].get("resourceVersion", version)
                    if event["type"] != "BOOKMARK":
                        on_event(event["type"], obj)
        except httpx.HTTPError:
            await asyncio.sleep(0.5)


class Api:
    """Admin access to the API server for creating and listing objects quickly."""

    def __init__(self, cp: ControlPlane, workload: Workload) -> None:
        self.cp = cp
        self.workload = workload
        self.http = httpx.AsyncClient(
            base_url=cp.server,
            verify=ssl.create_default_context(cafile=str(cp.ca_file)),
            headers={"Authorization": f"Bearer {cp.token_for('admin')}"},
            timeout=60,
        )
        self.base = f"/apis/{GROUP}/{VERSION}/namespaces/{NS}/{workload.plural}"

    async def create_objects(self, n: int, concurrency: int = 32) -> None:
        sem = asyncio.Semaphore(concurrency)
        w = self.workload

        async def one(i: int) -> None:
            body = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": w.kind,
                "metadata": {"name": f"{w.kind.lower()}-{i:05d}", "namespace": NS},
                "spec": w.spec(i),
            }
            async with sem:
                r = await self.http.post(self.base, json=body)
                r.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(n)))

    async def create_ready(self, manifests: list[dict[str, Any]], limit_s: float = 120) -> None:
        """Create objects another workload depends on and wait until each is Ready."""
        for body in manifests:
            path = f"/apis/{GROUP}/{VERSION}/namespaces/{NS}/{body['kind'].lower()}s"
            (await self.http.post(path, json=body)).raise_for_status()
            deadline = time.monotonic() + limit_s
            while time.monotonic() < deadline:
                got = (await self.http.get(f"{path}/{body['metadata']['name']}")).json()
                conditions = (got.get("status") or {}).get("conditions") or []
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    break
                await asyncio.sleep(1)
            else:
                raise TimeoutError(f"{body['kind']}/{body['metadata']['name']} not Ready")

    async def watch(self, seen: Seen) -> None:
        """Follow the objects with a watch (listing 1000 objects every second would load
        the machine the benchmark measures) and record when each first showed what."""
        await follow(self.http, self.base, lambda _, obj: seen.record(obj))

    async def phases(self) -> dict[str, int]:
        """How many objects show each phase (and, for finished jobs, no completion time)."""
        items = (await self.http.get(self.base)).json()["items"]
        counts: dict[str, int] = {}
        for o in items:
            status = o.get("status") or {}
            phase = str(status.get("phase"))
            if phase == "Succeeded" and not status.get("completionTime"):
                phase += " without completionTime"
            counts[phase] = counts.get(phase, 0) + 1
        return counts

    async def open_intents(self) -> int:
        """Objects whose create intent is not fulfilled (0 once creates settled): the intent
        annotation without the remote object it names recorded in status."""
        r = await self.http.get(self.base)
        items = r.json()["items"]
        return sum(
            1
            for o in items
            if CREATE_PENDING in (o["metadata"].get("annotations") or {})
            and not intent_fulfilled(
                o["metadata"]["annotations"], o.get("status") or {}, self.workload.id_field
            )
        )

    async def apiserver_writes(self) -> float:
        """PATCH/PUT requests the API server served for the workload's resource (all
        subresources)."""
        r = await self.http.get("/metrics")
        total = 0.0
        resource = f'resource="{self.workload.plural}"'
        for line in r.text.splitlines():
            ours = line.startswith("apiserver_request_total{") and resource in line
            if ours and re.search(r'verb="(PATCH|PUT|APPLY)"', line):
                total += float(line.rsplit(" ", 1)[1])
        return total


def _proc_stats(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds used so far) of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_kb / 1024, (int(fields[11]) + int(fields[12])) / ticks


def _operator_metric(port: int, name: str, plural: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") and f'kind="{plural}"' in line
    )


def _cycle_seconds(port: int, plural: str) -> tuple[float, float]:
    """(seconds spent in poll cycles so far, cycles so far) from the operator's histogram."""
    return (
        _operator_metric(port, "modelarts_poll_cycle_seconds_sum", plural),
        _operator_metric(port, "modelarts_poll_cycle_seconds_count", plural),
    )


async def _cycles_ended(port: int, plural: str, count: int, limit_s: float) -> float:
    """Wait until ``count`` more poll cycles have ended (or ``limit_s`` passed); how many did.

    A cycle's end (its duration observed) is followed by the poller's rest, so a window from
    one end to another holds whole cycles: counting calls over a fixed window instead split
    a cycle at each edge (80 list calls "in 3 cycles" at 10,000 v1 jobs, 20 pages each)."""
    start = _cycle_seconds(port, plural)[1]
    deadline = time.monotonic() + limit_s
    while (ended := _cycle_seconds(port, plural)[1] - start) < count:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return ended


async def _quiesce(port: int, limit_s: float = 60.0) -> None:
    """Wait until the operator's reconcile counter has not moved for 5 s."""
    last, still_since, deadline = -1.0, time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics", timeout=10)).text
        count = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("modelarts_reconciles_total{")
        )
        if count != last:
            last, still_since = count, time.monotonic()
        elif time.monotonic() - still_since >= 5:
            return
        await asyncio.sleep(1)


def _start_operator(
    cp: ControlPlane,
    emu: Any,
    log: Path,
    metrics_port: int,
    script: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, **(extra_env or {}))
    env.update(
        MODELARTS_ENDPOINT=emu.url,
        MODELARTS_IAM_ENDPOINT=emu.url,
        MODELARTS_PROJECT_ID=emu.config.project_id,
        MODELARTS_REGION=emu.config.region,
        MODELARTS_CREDENTIALS_SECRET="modelarts-system/credentials",
        MODELARTS_POLL_ACTIVE_SECONDS=str(POLL_ACTIVE),
        MODELARTS_POLL_SETTLED_SECONDS=str(POLL_SETTLED),
        MODELARTS_METRICS_PORT=str(metrics_port),
        MODELARTS_HEALTH_PORT=str(free_port()),
        MODELARTS_API_QPS="200",
        MODELARTS_API_BURST="400",
    )
    argv = script or [sys.executable, "-m", "modelarts_operator", "run"]
    return subprocess.Popen(
        [*argv, "--kubeconfig", str(cp.kubeconfig)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )


EMULATOR_SCRIPT = """
import asyncio, sys
from modelarts_testbed.emulator import Emulator, EmulatorConfig, Timings
async def main():
    timings = Timings(job_init=2, job_waiting=3, job_running=float(sys.argv[2]), jitter=0.2)
    # The account's workspace quota raised (ModelArts.0113 refuses past 1,000, the default):
    # the benchmark measures the operator at 10,000 workspaces, not the quota.
    config = EmulatorConfig(seed=1, timings=timings, workspace_quota=100_000)
    async with Emulator(config).serve(port=int(sys.argv[1])):
        await asyncio.Event().wait()
asyncio.run(main())
"""


class EmulatorProcess:
    """The emulator in its own process (its CPU is not shared with the benchmark's)."""

    def __init__(self, running_seconds: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = EmulatorConfig()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", EMULATOR_SCRIPT, str(self.port), str(running_seconds)]
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/_emulator/counters", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.admin = AdminClient(self.url)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@dataclass
class Stack:
    """What one benchmark run measures: a fresh control plane, the emulator in its own
    process, admin access to the API server, and the operator (metrics on ``port``)."""

    cp: ControlPlane
    emu: EmulatorProcess
    api: Api
    op: subprocess.Popen[bytes]
    port: int

    def stop_operator(self) -> None:
        if self.op.poll() is None:
            self.op.send_signal(signal.SIGTERM)
            self.op.wait(30)


@contextlib.asynccontextmanager
async def stack(
    work: Path, workload: Workload, running_seconds: float, operator: list[str] | None = None
) -> AsyncIterator[Stack]:
    """A :class:`Stack` for ``workload`` in ``work`` (the operator's log is there), taken
    down at the end; ``operator`` replaces the operator's command line."""
    profiling = ("--profiling=true",) if os.environ.get("BENCH_PROFILE") else ()
    with (
        running(work / "cp", apiserver_args=profiling) as cp,
        EmulatorProcess(running_seconds) as emu,
    ):
        prepare(cp, emu)
        api = Api(cp, workload)
        port = free_port()
        op = _start_operator(cp, emu, work / "operator.log", port, operator)
        bench = Stack(cp, emu, api, op, port)
        try:
            yield bench
        finally:
            bench.stop_operator()
            await api.http.aclose()


def prepare(cp: ControlPlane, emu: EmulatorProcess) -> None:
    """CRDs, the benchmark namespace and the operator's credentials Secret."""
    cp.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    cp.kubectl("create", "namespace", NS)
    cp.kubectl("create", "namespace", "modelarts-system")
    cp.kubectl(
        "create",
        "secret",
        "generic",
        "credentials",
        "-n",
        "modelarts-system",
        f"--from-literal=ak={emu.config.ak}",
        f"--from-literal=sk={emu.config.sk}",
    )


class Profile:
    """py-spy sampling the operator for one phase (BENCH_PROFILE=1): where its CPU goes.

    Summarised as the functions with the most samples on the stack (inclusive) and at the
    top of it (self), in percent of the phase's samples; the raw stacks stay beside the
    operator log for a flame graph (``py-spy`` reads them back, or speedscope)."""

    def __init__(self, pid: int, out: Path) -> None:
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None
        if os.environ.get("BENCH_PROFILE"):
            spy = Path(sys.executable).with_name("py-spy")
            argv = [str(spy), "record", "--pid", str(pid), "--rate", "50", "--format", "raw"]
            self.proc = subprocess.Popen(
                [*argv, "--nonblocking", "--output", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def stop(self, top: int = 15) -> dict[str, Any] | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(60)
        inclusive: dict[str, int] = {}
        own: dict[str, int] = {}
        total = 0
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            n = int(count)
            frames = [_frame(f) for f in stack.split(";") if f]
            total += n
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + n
            if frames:
                own[frames[-1]] = own.get(frames[-1], 0) + n

        def ranked(counts: dict[str, int]) -> dict[str, float]:
            best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
            return {name: round(100 * n / max(total, 1), 1) for name, n in best}

        return {"samples": total, "inclusive_pct": ranked(inclusive), "self_pct": ranked(own)}


class ApiServerProfile:
    """kube-apiserver's own CPU profile (Go pprof) for ``seconds`` of one phase
    (BENCH_PROFILE=1, which also starts the API server with ``--profiling=true``): where the
    API server's share of the two cores goes while the operator creates.

    Summarised by ``go tool pprof`` as the functions with the most CPU on the stack (cum) and
    at its top (flat), in percent of the profile's samples; the raw profile stays beside the
    operator log (``go tool pprof -http`` reads it)."""

    def __init__(self, api: Api, out: Path, seconds: int = 60) -> None:
        self.out = out
        self.task: asyncio.Task[None] | None = None
        if os.environ.get("BENCH_PROFILE"):
            self.task = asyncio.create_task(self._record(api, seconds))

    async def _record(self, api: Api, seconds: int) -> None:
        params = {"seconds": str(seconds)}
        r = await api.http.get("/debug/pprof/profile", params=params, timeout=seconds + 60)
        r.raise_for_status()
        self.out.write_bytes(r.content)

    async def stop(self, top: int = 20) -> dict[str, Any] | None:
        if self.task is None:
            return None
        await self.task
        every = self._top(["-cum"], 1000)
        return {
            "components_cum_pct": {
                label: max((pct for fn, pct in every.items() if re.search(rx, fn)), default=0.0)
                for label, rx in self.COMPONENTS.items()
            },
            "cum_pct": dict(list(every.items())[:top]),
            "flat_pct": self._top([], top),
        }

    # Parts of the API server's work, each the cum% of the function that does it.
    COMPONENTS = {
        "CEL validation rules": r"schema/cel\.\(\*Validator\)\.Validate$",
        "OpenAPI schema validation": r"validate\.\(\*SchemaValidator\)\.Validate$",
        "managedFields bookkeeping": r"managedfields/internal\.\(\*FieldManager\)\.Update$",
        "decoding request bodies": r"versioning\.\(\*codec\)\.Decode$",
        "encoding responses and watch events": r"versioning\.\(\*codec\)\.Encode$",
        "etcd watch -> cache": r"etcd3\.\(\*watchChan\)\.serialProcessEvents$",
        "Go garbage collector": r"^runtime\.gcBgMarkWorker$",
    }

    def _top(self, order: list[str], top: int) -> dict[str, float]:
        argv = ["go", "tool", "pprof", "-top", *order, f"-nodecount={top}", str(self.out)]
        text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        ranked: dict[str, float] = {}
        for line in text.splitlines():
            # flat  flat%   sum%        cum   cum%  function
            cols = line.split(maxsplit=5)
            if len(cols) == 6 and cols[1].endswith("%") and cols[4].endswith("%"):
                pct = cols[4] if order else cols[1]
                ranked[cols[5]] = float(pct.rstrip("%"))
        return ranked


def _frame(raw: str) -> str:
    """``func (path/to/module.py:123)`` -> ``module.py:func`` (lines merged)."""
    name, _, where = raw.partition(" (")
    return f"{Path(where.split(':')[0]).name}:{name.strip()}"


def _calls(counters: dict[str, int]) -> int:
    return sum(n for key, n in counters.items() if "/v3/auth" not in key)


async def measure(workload: Workload, n: int, running_seconds: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{workload.name}-{n}-"))
    plural = workload.plural
    result: dict[str, Any] = {
        "workload": workload.name,
        "objects": n,
        "poll_active_s": POLL_ACTIVE,
        "poll_settled_s": POLL_SETTLED,
    }
    async with stack(work, workload, running_seconds) as bench:
        cp, emu, api, op, metrics_port = bench.cp, bench.emu, bench.api, bench.op, bench.port
        try:
            await asyncio.sleep(3)
            procs = {"operator": op.pid, "emulator": emu.proc.pid}
            procs.update(zip(("etcd", "kube-apiserver"), cp.pids, strict=True))
            cpu0 = {name: _proc_stats(pid)[1] for name, pid in procs.items()}
            writes0 = await api.apiserver_writes()
            if workload.prelude:
                await api.create_ready(workload.prelude())
            seen = Seen(workload.id_field, workload.active, workload.active_needs)
            progress = Progress(f"{n} {workload.label}")
            watcher = asyncio.create_task(api.watch(seen))
            t0 = seen.t0
            profile = Profile(op.pid, work / "profile-create.txt")
            apiserver_profile = ApiServerProfile(api, work / "apiserver-create.pprof")
            await api.create_objects(n)
            result["create_requests_s"] = round(time.monotonic() - t0, 1)
            await seen.wait_for("Synced", seen.synced, n, limit_s=900, progress=progress)
            result["all_synced_s"] = round(max(seen.synced.values()), 1)
            if summary := profile.stop():
                result["profile_create"] = summary
            # The create phase's cost, up to all Synced: what each process burnt on the shared
            # two cores, and what each object cost the API server and ModelArts.
            writes = await api.apiserver_writes() - writes0
            creates = emu.admin.counters().get(workload.create_call, 0)
            result["create_phase"] = {
                "cpu_seconds": {
                    name: round(_proc_stats(pid)[1] - cpu0[name], 1) for name, pid in procs.items()
                },
                "apiserver_writes_per_object": round(writes / n, 2),
                "remote_creates": creates,
            }
            if summary := await apiserver_profile.stop():  # after the CPU figures above
                result["apiserver_profile_create"] = summary
            await seen.wait_for("running", seen.active, n, limit_s=600, progress=progress)
            result["all_running_reflected_s"] = round(max(seen.active.values()), 1)

            # Busy steady state: every job RUNNING, nothing changes remotely; first let the
            # operator finish the creation backlog (its reconcile count stops moving).
            await _quiesce(metrics_port)
            result["create_phase"]["intents_left_open"] = await api.open_intents()
            # Jobs poll every active period: the window runs from a cycle's end over three
            # whole cycles. The other kinds rest at the settled period: a fixed window, in
            # which they make no cycle (their cycle is the settled one, below).
            if workload.completes:
                await _cycles_ended(metrics_port, plural, 1, limit_s=3 * POLL_ACTIVE)
            emu.admin.clear_counters()
            writes0 = await api.apiserver_writes()
            _, cpu0 = _proc_stats(op.pid)
            started = time.monotonic()
            profile = Profile(op.pid, work / "profile-busy.txt")
            if workload.completes:
                cycles = await _cycles_ended(metrics_port, plural, 3, limit_s=6 * POLL_ACTIVE)
            else:
                cycles0 = _operator_metric(metrics_port, "modelarts_poll_cycles_total", plural)
                await asyncio.sleep(3 * POLL_ACTIVE + 1)
                cycles = (
                    _operator_metric(metrics_port, "modelarts_poll_cycles_total", plural) - cycles0
                )
            window = time.monotonic() - started
            calls = emu.admin.counters()
            rss1, cpu1 = _proc_stats(op.pid)
            writes = await api.apiserver_writes() - writes0
            if summary := profile.stop():
                result["profile_busy"] = summary
            spent = _cycle_seconds(metrics_port, plural)
            result["busy"] = {
                "poll_cycles": cycles,
                "window_s": round(window, 1),
                "mean_poll_cycle_s_so_far": round(spent[0] / max(spent[1], 1), 2),
                "api_calls": _calls(calls),
                "api_calls_per_cycle": round(_calls(calls) / max(cycles, 1), 1),
                "calls_by_endpoint": {k: v for k, v in calls.items() if v},
                "apiserver_writes": writes,
                "apiserver_writes_per_cycle": round(writes / max(cycles, 1), 2),
                "rss_mb": round(rss1, 1),
                "cpu_percent": round(100 * (cpu1 - cpu0) / window, 1),
            }

            # Completion lag: the emulator completes each job at start + running; the CR
            # shows Succeeded some time later.
            if workload.completes:
                # The last job starts when all are synced and runs up to 1.2 x (jitter).
                limit = result["all_synced_s"] + 1.2 * running_seconds + 120
                spent0 = _cycle_seconds(metrics_port, plural)
                await seen.wait_for("completed", seen.done, n, limit_s=limit, progress=progress)
                # How long the poller's cycles took while the jobs completed (each completion
                # adds a detail GET and a status patch to its cycle): the lag follows from it.
                spent = _cycle_seconds(metrics_port, plural)
                result["completion_phase_poll_cycles"] = {
                    "cycles": spent[1] - spent0[1],
                    "mean_s": round((spent[0] - spent0[0]) / max(spent[1] - spent0[1], 1), 2),
                }
                result["not_succeeded_when_settled_window_began"] = n - len(seen.done)
                lags = sorted(seen.done[k] - seen.completion[k] for k in seen.completion)
                result["completion_lag_s"] = {
                    "p50": round(statistics.median(lags), 2),
                    "p95": round(lags[int(0.95 * (len(lags) - 1))], 2),
                    "max": round(lags[-1], 2),
                    "samples": len(lags),
                    "note": "completionTime has 1 s resolution, so figures carry up to 1 s error",
                }
            watcher.cancel()

            # Settled: nothing in flight; the poller slows to the settled period.
            await asyncio.sleep(5)
            emu.admin.clear_counters()
            cycles0 = _operator_metric(metrics_port, "modelarts_poll_cycles_total", plural)
            writes0 = await api.apiserver_writes()
            _, cpu0 = _proc_stats(op.pid)
            window = POLL_SETTLED + 5
            await asyncio.sleep(window)
            cycles = _operator_metric(metrics_port, "modelarts_poll_cycles_total", plural) - cycles0
            calls = emu.admin.counters()
            rss1, cpu1 = _proc_stats(op.pid)
            writes = await api.apiserver_writes() - writes0
            result["settled"] = {
                "window_s": window,
                "poll_cycles": cycles,
                "api_calls": _calls(calls),
                "calls_by_endpoint": {k: v for k, v in calls.items() if v},
                "objects_by_phase": await api.phases(),
                "apiserver_writes": writes,
                "rss_mb": round(rss1, 1),
                "cpu_percent": round(100 * (cpu1 - cpu0) / window, 1),
            }
        finally:
            bench.stop_operator()
        result["restart"] = await _restart(bench, workload, n, work)

        # (f) the common per-object pattern on the same objects (all settled now: it still
        # asks once per object per interval).
        base = _start_operator(
            cp,
            emu,
            work / "per-object.log",
            free_port(),
            [sys.executable, str(ROOT / "bench" / "per_object_operator.py")],
            {"BENCH_PEER_PLURAL": plural},
        )
        try:
            await asyncio.sleep(15)
            emu.admin.clear_counters()
            window = 3 * POLL_ACTIVE
            await asyncio.sleep(window)
            calls = emu.admin.counters()
            per_cycle = _calls(calls) / (window / POLL_ACTIVE)
            # Ours: the busy cycle; for kinds that rest at the settled period (no cycle in
            # the busy window), the settled one.
            busy, settled = result["busy"], result["settled"]
            ours = (
                busy["api_calls_per_cycle"]
                if busy["poll_cycles"]
                else (settled["api_calls"] / max(settled["poll_cycles"], 1))
            )
            result["per_object_baseline"] = {
                "api_calls_per_cycle": round(per_cycle, 1),
                "calls_by_endpoint": {k: v for k, v in calls.items() if v},
                "ratio_vs_batched": round(per_cycle / max(ours, 0.1), 1),
            }
        finally:
            base.send_signal(signal.SIGTERM)
            base.wait(30)
    return _save(workload, n, result)


def _resumes(port: int, plural: str) -> dict[str, float]:
    """The operator's modelarts_resumes_total by outcome (trusted, confirmed, handed-over)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("modelarts_resumes_total{") and f'kind="{plural}"' in line:
            outcome = re.search(r'outcome="([^"]+)"', line).group(1)  # type: ignore[union-attr]
            found[outcome] = found.get(outcome, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


async def _restart(bench: Stack, workload: Workload, n: int, work: Path) -> dict[str, Any]:
    """A fresh operator on the same settled objects, as after every ``helm upgrade``: how
    long until it holds them all and until its first poll cycle has confirmed the objects it
    resumed on trust, what that cost (ModelArts calls: list pages only, not one GET per
    object; no API-server write), what it then holds in memory with no create phase behind it
    (the create-phase RSS minus this is what the create peak left behind), and that it
    creates nothing."""
    started = time.monotonic()
    bench.emu.admin.clear_counters()
    writes0 = await bench.api.apiserver_writes()
    port = free_port()
    op = _start_operator(bench.cp, bench.emu, work / "restarted.log", port)
    try:
        result = await _restarted(op, port, workload, n, started)
        calls = bench.emu.admin.counters()
        result.update(
            remote_creates=calls.get(workload.create_call, 0),
            api_calls=_calls(calls),
            objects_per_call=round(n / max(_calls(calls), 1), 1),
            calls_by_endpoint={k: v for k, v in calls.items() if v},
            apiserver_writes=await bench.api.apiserver_writes() - writes0,
        )
        return result
    finally:
        op.send_signal(signal.SIGTERM)
        op.wait(30)


async def _restarted(
    op: subprocess.Popen[bytes], port: int, workload: Workload, n: int, started: float
) -> dict[str, Any]:
    """Wait for a restarted operator to hold all ``n`` objects and to have settled every one
    it resumed on trust (confirmed or handed over), then let it quiesce."""
    plural = workload.plural
    holds_all_s = confirmed_s = None
    resumes: dict[str, float] = {}
    while time.monotonic() - started < 600:
        try:
            if holds_all_s is None and _operator_metric(port, "modelarts_objects", plural) >= n:
                holds_all_s = time.monotonic() - started
            resumes = _resumes(port, plural)
            trusted = resumes.get("trusted", 0)
            settled = resumes.get("confirmed", 0) + resumes.get("handed-over", 0)
            # every object resumed: on trust, or reconciled as before; and every trusted one
            # settled: confirmed or handed over by a poll cycle, or reconciled first (a resync
            # armed at a random point of its period may fire before the cycle ends: that
            # reconcile settles it without either outcome, and at 3,000 v2 Services one did,
            # which held this wait for its full 600 s)
            reconciled = _operator_metric(port, "modelarts_reconciles_total", plural)
            if trusted + reconciled >= n and settled + reconciled >= trusted:
                confirmed_s = time.monotonic() - started
                break
        except httpx.HTTPError:
            pass  # not serving metrics yet
        await asyncio.sleep(0.5)
    await _quiesce(port)
    rss, cpu = _proc_stats(op.pid)
    return {
        "holds_all_objects_s": None if holds_all_s is None else round(holds_all_s, 1),
        "all_confirmed_s": None if confirmed_s is None else round(confirmed_s, 1),
        "resumes": resumes,
        "measured_at_s": round(time.monotonic() - started, 1),
        "rss_mb": round(rss, 1),
        "cpu_seconds": round(cpu, 1),
    }


def _save(workload: Workload, n: int, result: dict[str, Any]) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if workload.name == "trainingjobs" else f"_{workload.name}"
    path = RESULTS / f"operator_scale{suffix}_{n}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(sizes: list[int], workload: str = "trainingjobs") -> list[dict[str, Any]]:
    w = WORKLOADS[workload]
    out = []
    for n in sizes:
        print(f"[bench] operator scale, {n} {w.label} ...", flush=True)
        # Jobs must still be running when the busy window is measured, after all synced.
        res = asyncio.run(measure(w, n, running_seconds=120 + n * 0.08))
        print(json.dumps(res, indent=2), flush=True)
        out.append(res)
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    kind = args.pop(0) if args and args[0] in WORKLOADS else "trainingjobs"
    main([int(a) for a in args] or [100, 1000], kind)
