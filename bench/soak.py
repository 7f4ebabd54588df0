"""Soak: N TrainingJobs (the v1 form) for M minutes with a slow trickle of creates,
completions and deletes, on the local control plane with the emulator (issue 15).

The population stays at N: every tick creates ``per_tick`` jobs and deletes as many of the
oldest finished ones; the emulator completes each job ``running`` seconds after it starts.
Measured: operator RSS and open sockets after the first settle and at the end (and sampled
every minute between), and whether any transition was missed:
  - every object created shows its remote ID (Synced) and later Succeeded;
  - every completion is shown (status lag from the emulator's completion time);
  - every deleted object goes, and its remote job with it (deletionPolicy Delete);
  - the emulator ran exactly one create per object (no double create under churn).
With a restart period R (minutes), the operator is stopped (SIGTERM, as a ``helm upgrade`` or
a pod delete does) every R minutes; while it is down a few objects are created and a few
finished ones deleted, and jobs go on finishing remotely. Each restart records what it cost
(ModelArts calls by endpoint until its first poll cycle settled the objects it resumed on
trust; how many were trusted, confirmed from the list, handed to their reconcile) and how long
until it held and had confirmed them all; the checks above then cover every restart: nothing
missed, nothing created twice.
Result: bench/results/soak_<N>_<M>min[_restart_<R>min].json.

    python bench/soak.py [N] [minutes] [restart every R minutes]
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.operator_scale import (
    GROUP,
    NS,
    RESULTS,
    VERSION,
    WORKLOADS,
    Stack,
    _proc_stats,
    _quiesce,
    _restarted,
    _start_operator,
    follow,
    stack,
)

WORKLOAD = WORKLOADS["trainingjobs"]
CREATE = WORKLOAD.create_call


def _sockets(pid: int) -> int:
    """Open sockets of a process (its HTTP connections to the API server and ModelArts, its
    watch streams and its listening ports)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


class Ledger:
    """What the watch saw of each object: when it got its ID, when it showed Succeeded
    (and the API's completionTime), whether it went."""

    def __init__(self) -> None:
        self.synced: dict[str, float] = {}
        self.done: dict[str, float] = {}
        self.completion: dict[str, float] = {}
        self.gone: set[str] = set()
        self.changed = asyncio.Event()

    def progress(self) -> str:
        return f"{len(self.synced)} synced, {len(self.done)} succeeded, {len(self.gone)} gone"

    def record(self, event: str, obj: dict[str, Any]) -> None:
        name, status = obj["metadata"]["name"], obj.get("status") or {}
        self.changed.set()
        if event == "DELETED":
            self.gone.add(name)
            return
        if status.get("jobId"):
            self.synced.setdefault(name, time.monotonic())
        if status.get("phase") == "Succeeded" and name not in self.done:
            self.done[name] = time.time()
            if stamp := status.get("completionTime"):
                self.completion[name] = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


def _sample(pid: int, t0: float) -> dict[str, float]:
    rss, cpu = _proc_stats(pid)
    return {
        "t_s": round(time.monotonic() - t0, 1),
        "rss_mb": round(rss, 1),
        "sockets": _sockets(pid),
        "cpu_s": round(cpu, 1),
    }


async def soak(
    n: int,
    minutes: float,
    restart_every_min: float = 0.0,
    tick_s: float = 10.0,
    per_tick: int = 2,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"soak-{n}-"))
    running_s = float(os.environ.get("SOAK_JOB_RUNNING_S", "120"))
    result: dict[str, Any] = {
        "objects": n,
        "minutes": minutes,
        "restart_every_min": restart_every_min,
        "tick_s": tick_s,
        "per_tick": per_tick,
        "job_running_s": running_s,
    }
    restarts: list[dict[str, Any]] = []
    async with stack(work, WORKLOAD, running_s) as bench:
        api, emu, port = bench.api, bench.emu, bench.port
        ledger = Ledger()
        watcher = asyncio.create_task(follow(api.http, api.base, ledger.record))
        created: list[str] = []
        deleted: list[str] = []

        async def create(i: int) -> None:
            name = f"trainingjob-{i:05d}"
            body = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": WORKLOAD.kind,
                "metadata": {"name": name, "namespace": NS},
                "spec": WORKLOAD.spec(i),
            }
            (await api.http.post(api.base, json=body)).raise_for_status()
            created.append(name)

        async def until(predicate: Any, limit_s: float) -> bool:
            deadline = time.monotonic() + limit_s
            report = time.monotonic() + 30
            while not predicate() and time.monotonic() < deadline:
                if time.monotonic() > report:
                    report += 30
                    print(f"[soak] waiting: {ledger.progress()}", flush=True)
                ledger.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ledger.changed.wait(), 1.0)
            return bool(predicate())

        try:
            await asyncio.sleep(3)
            sem = asyncio.Semaphore(32)

            async def bounded(i: int) -> None:
                async with sem:
                    await create(i)

            await asyncio.gather(*(bounded(i) for i in range(n)))
            await until(lambda: len(ledger.done) >= n, 900)
            await _quiesce(port)
            t0 = time.monotonic()
            samples = [_sample(bench.op.pid, t0)]
            result["start"] = samples[0]
            next_i, next_sample = n, t0 + 60
            next_restart = t0 + restart_every_min * 60 if restart_every_min else float("inf")

            async def churn() -> None:
                nonlocal next_i
                for _ in range(per_tick):
                    await create(next_i)
                    next_i += 1
                finished = [c for c in created if c in ledger.done and c not in deleted]
                for name in finished[:per_tick]:
                    (await api.http.delete(f"{api.base}/{name}")).raise_for_status()
                    deleted.append(name)

            while time.monotonic() - t0 < minutes * 60:
                await churn()
                if time.monotonic() >= next_sample:
                    samples.append(_sample(bench.op.pid, t0))
                    next_sample += 60
                if time.monotonic() >= next_restart:
                    still_present = len(set(created) - set(deleted))
                    restarts.append(
                        await _restart(bench, work, len(restarts), churn, still_present)
                    )
                    restarts[-1]["t_s"] = round(time.monotonic() - t0, 1)
                    print(f"[soak] restart {len(restarts)}: {restarts[-1]}", flush=True)
                    next_restart += restart_every_min * 60
                await asyncio.sleep(tick_s)
            # Let the last creates run to completion and the last deletes finish.
            await until(
                lambda: all(c in ledger.done for c in created) and set(deleted) <= ledger.gone,
                running_s + 120,
            )
            await _quiesce(port)
            samples.append(_sample(bench.op.pid, t0))
            result["end"] = samples[-1]
            result["samples"] = samples
            result["restarts"] = restarts
            async with httpx.AsyncClient(base_url=emu.url, timeout=30) as raw:
                remote = (await raw.get("/_emulator/objects/training_job")).json()
            present = set(created) - ledger.gone
            lags = sorted(ledger.done[k] - ledger.completion[k] for k in ledger.completion)
            result["transitions"] = {
                "created": len(created),
                "deleted": len(deleted),
                "never_synced": sorted(set(created) - set(ledger.synced)),
                "never_succeeded": sorted(present - set(ledger.done)),
                "deleted_but_present": sorted(set(deleted) - ledger.gone),
                "remote_jobs_left": len(remote["items"]),
                "objects_left": len(present),
                "remote_creates": emu.admin.counters().get(CREATE, 0),
            }
            result["completion_lag_s"] = {
                "p50": round(statistics.median(lags), 2),
                "p95": round(lags[int(0.95 * (len(lags) - 1))], 2),
                "max": round(lags[-1], 2),
                "samples": len(lags),
            }
        finally:
            watcher.cancel()
    RESULTS.mkdir(parents=True, exist_ok=True)
    minutes_label = f"{minutes:g}".replace(".", "_")
    if restart_every_min:
        minutes_label += f"min_restart_{restart_every_min:g}".replace(".", "_")
    path = RESULTS / f"soak_{n}_{minutes_label}min.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result


async def _restart(
    bench: Stack, work: Path, index: int, churn: Callable[[], Awaitable[None]], present: int
) -> dict[str, Any]:
    """Stop the operator (SIGTERM), churn once while it is down (creates, deletes; jobs go
    on finishing remotely), start a new one and wait until it holds every object and has
    settled what it resumed on trust; what that cost."""
    emu = bench.emu
    before = emu.admin.counters()
    writes0 = await bench.api.apiserver_writes()
    bench.stop_operator()
    await churn()  # while no operator runs
    started = time.monotonic()
    log = work / f"operator-{index + 1}.log"
    bench.op = _start_operator(bench.cp, emu, log, bench.port)
    figures = await _restarted(bench.op, bench.port, WORKLOAD, present, started)
    after = emu.admin.counters()
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    figures["calls_by_endpoint"] = {k: v for k, v in calls.items() if v and "/v3/auth" not in k}
    figures["apiserver_writes"] = await bench.api.apiserver_writes() - writes0
    return figures


def verdict(result: dict[str, Any]) -> list[str]:
    """What the soak shows wrong: growth beyond the bounds, a missed transition."""
    start, end, t = result["start"], result["end"], result["transitions"]
    problems = []
    if end["rss_mb"] > start["rss_mb"] * 1.15 + 20:
        problems.append(f"RSS grew {start['rss_mb']} -> {end['rss_mb']} MB (bound: +15% +20 MB)")
    if end["sockets"] > start["sockets"] + 4:
        problems.append(f"sockets grew {start['sockets']} -> {end['sockets']} (bound: +4)")
    for key in ("never_synced", "never_succeeded", "deleted_but_present"):
        if t[key]:
            problems.append(f"{key}: {t[key][:5]} ({len(t[key])})")
    if t["remote_jobs_left"] != t["objects_left"]:
        problems.append(f"{t['remote_jobs_left']} remote jobs for {t['objects_left']} objects")
    if t["remote_creates"] != t["created"]:
        problems.append(f"{t['remote_creates']} remote creates for {t['created']} objects")
    return problems


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args[0]) if args else 1000
    minutes = float(args[1]) if len(args) > 1 else 30.0
    restart_every = float(args[2]) if len(args) > 2 else 0.0
    res = asyncio.run(soak(n, minutes, restart_every))
    print(json.dumps({k: v for k, v in res.items() if k != "samples"}, indent=2))
    found = verdict(res)
    print("[soak] " + ("; ".join(found) if found else "no growth beyond the bounds, none missed"))
    sys.exit(1 if found else 0)
