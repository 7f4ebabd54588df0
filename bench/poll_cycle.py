"""The operator's own CPU for one poll cycle of N running TrainingJobs, nothing else.

    python bench/poll_cycle.py [v1|v2] [N ...]        (default: v1 1000 10000)

The real poller, training-job adapter, status writer and ModelArts client list N jobs from the
emulator (its own process, so its CPU is not counted). v1: the watched objects are copies of a
real operator-written TrainingJob (tests/fixtures/trainingjob-watched.json) carrying the
remote IDs. v2: objects with the benchmark's v2 spec whose status shows only the job ID, its
location and Running; the first cycle writes the rest. The API server is the unit tests'
stand-in (tests/unit/operator/pollfakes.py), which applies status patches conditionally on the
resourceVersion and bumps it: after the first cycle the objects show their remote state, so
every later cycle is a settled one, and it must write nothing. The operator's garbage
collector tuning (runner._tune_gc) is applied first, as the operator does. In the
whole-operator benchmark (bench/operator_scale.py) a busy cycle's CPU is a share of a core
used beside the API server and mixed with watch traffic; here it is measured alone
(``time.process_time`` of this process per cycle), so a change to the cycle shows as a ratio.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.operator.pollfakes import ApiServer, Runtime

from bench.operator_scale import RESULTS, ROOT, EmulatorProcess, _proc_stats, _v2_job
from modelarts_operator.api.auth import AkSkCredentials
from modelarts_operator.api.base import ClientConfig
from modelarts_operator.api.client import ModelArtsClient
from modelarts_operator.api.training_jobs import TrainingJobCreateRequest
from modelarts_operator.crd.training_job import TrainingJobSpec
from modelarts_operator.reconcile.controller import Reconciler
from modelarts_operator.reconcile.poller import Poller
from modelarts_operator.resources.training_job import DECLARATION
from modelarts_operator.resources.training_v2 import create_request
from modelarts_operator.runner import _tune_gc

FIXTURE = ROOT / "tests" / "fixtures" / "trainingjob-watched.json"
PLURAL = "trainingjobs"
CYCLES = 5


@dataclass
class Clients:
    client: ModelArtsClient

    async def for_namespace(self, namespace: str) -> ModelArtsClient:
        return self.client


async def _create_remote(client: ModelArtsClient, n: int) -> list[tuple[int, int]]:
    """N running v1 jobs in the emulator: (job ID, version ID) each."""
    gate = asyncio.Semaphore(32)

    async def one(i: int) -> tuple[int, int]:
        request = TrainingJobCreateRequest.model_validate(
            {
                "job_name": f"bench_trainingjob-{i:05d}",
                "job_desc": "benchmark",
                "config": {
                    "worker_server_num": 1,
                    "app_url": "/bench/code/",
                    "boot_file_url": "/bench/code/train.py",
                    "engine_id": 1,
                    "spec_id": 1,
                    "data_url": "/bench/data/",
                    "train_url": f"/bench/out/{i}/",
                },
            }
        )
        async with gate:
            created = await client.training_jobs.create(request)
        return int(created.job_id or 0), int(created.version_id or 0)

    return await asyncio.gather(*(one(i) for i in range(n)))


def _watched(i: int, ids: tuple[int, int], endpoint: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(FIXTURE.read_text())
    body["metadata"].pop("managedFields", None)
    body["metadata"].update(name=f"trainingjob-{i:05d}", resourceVersion=str(1000 + i))
    status = body["status"]
    status.update(jobId=ids[0], versionId=ids[1], remoteName=f"bench_trainingjob-{i:05d}")
    status["location"]["endpoint"] = endpoint
    return body


async def _create_v2(client: ModelArtsClient, n: int) -> list[str]:
    """N running v2 jobs in the emulator, created from the scale benchmark's spec."""
    gate = asyncio.Semaphore(32)

    async def one(i: int) -> str:
        spec = TrainingJobSpec.model_validate(_v2_job(i))
        request = create_request(spec, f"bench_trainingjob-{i:05d}", "0", "benchmark")
        async with gate:
            created = await client.training_jobs_v2.create(request)
        return str(created.id)

    return await asyncio.gather(*(one(i) for i in range(n)))


def _watched_v2(i: int, job_id: str, endpoint: str) -> dict[str, Any]:
    v1: dict[str, Any] = json.loads(FIXTURE.read_text())
    location = {**v1["status"]["location"], "endpoint": endpoint}
    name = f"trainingjob-{i:05d}"
    return {
        "apiVersion": v1["apiVersion"],
        "kind": "TrainingJob",
        "metadata": {"name": name, "namespace": "bench", "resourceVersion": str(1000 + i)},
        "spec": _v2_job(i),
        "status": {
            "jobId": job_id,
            "location": location,
            "phase": "Running",
            "conditions": v1["status"]["conditions"],
            "observedGeneration": 1,
        },
    }


async def measure(n: int, form: str = "v1") -> dict[str, Any]:
    _tune_gc()  # as the operator does at startup
    with EmulatorProcess(running_seconds=1e6) as emu:
        cfg = emu.config
        config = ClientConfig(endpoint=emu.url, project_id=cfg.project_id, qps=1e6, burst=10**6)
        async with ModelArtsClient(config, AkSkCredentials(ak=cfg.ak, sk=cfg.sk)) as client:
            if form == "v2":
                v2_ids = await _create_v2(client, n)
                bodies = [_watched_v2(i, j, emu.url) for i, j in enumerate(v2_ids)]
            else:
                v1_ids = await _create_remote(client, n)
                bodies = [_watched(i, j, emu.url) for i, j in enumerate(v1_ids)]
            await asyncio.sleep(6)  # INIT 2 s, WAITING 3 s: every job RUNNING
            server = ApiServer({b["metadata"]["name"]: b for b in bodies})
            rt = Runtime(server, clients=cast(Any, Clients(client)))
            rt.watch()
            reconciler = Reconciler(DECLARATION, cast(Any, server), rt.clients, rt.registry)
            poller = Poller(cast(Any, rt), reconciler)
            await poller.cycle()  # the objects come to show their remote state
            first_writes = server.writes
            rt.watch()
            server.writes = 0
            emu.admin.clear_counters()
            cpu: list[float] = []
            wall: list[float] = []
            for _ in range(CYCLES):
                start, started = time.process_time(), time.monotonic()
                await poller.cycle()
                cpu.append(time.process_time() - start)
                wall.append(time.monotonic() - started)
            calls = {k: v for k, v in emu.admin.counters().items() if v and "/v3/auth" not in k}
    return {
        "form": form,
        "objects": n,
        "first_cycle_writes": first_writes,
        "settled_cycles": CYCLES,
        "settled_writes": server.writes,
        "pokes": len(rt.pokes),
        "api_calls_per_cycle": sum(calls.values()) / CYCLES,
        "cpu_ms_per_cycle": {
            "median": round(1000 * statistics.median(cpu), 1),
            "min": round(1000 * min(cpu), 1),
            "max": round(1000 * max(cpu), 1),
        },
        "cpu_ms_per_object": round(1000 * statistics.median(cpu) / n, 4),
        "wall_ms_per_cycle": round(1000 * statistics.median(wall), 1),
        "rss_mb_after": round(_proc_stats(os.getpid())[0], 1),
    }


def main(form: str, sizes: list[int]) -> list[dict[str, Any]]:
    results = []
    for n in sizes:
        print(f"[bench] poll cycle, {n} running {form} jobs ...", flush=True)
        result: dict[str, Any] = asyncio.run(measure(n, form))
        print(json.dumps(result), flush=True)
        results.append(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if form == "v1" else f"_{form}"
    (RESULTS / f"poll_cycle{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = args.pop(0) if args and args[0] in ("v1", "v2") else "v1"
    main(chosen, [int(a) for a in args] or [1000, 10000])
