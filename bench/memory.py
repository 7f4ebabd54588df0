"""Where the operator's memory per watched object goes, by the library that allocated it.

    python bench/memory.py [N] [workload] [frames] [tag]   (default: 1000 trainingjobs 10)

``frames`` 0 runs the operator as it ships (no tracemalloc) and reports its RSS only, at the
same three points: the product's figure, without the tracer's own overhead. ``tag`` names the
result file (``memory_<workload>_<N>[_<tag>].json``), to keep a run before a change beside one
after it.

The operator runs under tracemalloc (`frames` deep, started after its imports); it writes a
snapshot summary on SIGUSR1. Tracing is slow in proportion to the depth: at 25 frames the
operator created 1,634 of 2,000 objects in 25 minutes; 10 frames are enough to reach the
library frame above the stdlib for nearly every allocation.
One summary is taken once it is up with nothing to watch, one with N objects Synced and
running and its backlog done, and one in a fresh (traced) operator on the same objects once it
holds and has confirmed them all: what a process holds per object with no create phase behind
it. Each live allocation is charged to the innermost frame in a
library (kopf, our package by module, aiohttp, httpx, pydantic, ...), not to the stdlib
function that made it: a watch event parsed by ``json`` for kopf is kopf's. The difference
between the two summaries, divided by N, is the cost of one more object. RSS is reported
beside it (tracemalloc sees Python allocations only, not the arenas' free space or its own
overhead, which roughly doubles RSS while tracing, so RSS here is not the product's).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.operator_scale import (
    RESULTS,
    WORKLOADS,
    Seen,
    _proc_stats,
    _quiesce,
    _restarted,
    _start_operator,
    stack,
)
from bench.progress import Progress

TRACED_OPERATOR = r"""
import collections, json, os, signal, sys, tracemalloc

OUT, FRAMES = sys.argv[1], int(sys.argv[2])
LIBRARIES = ("kopf", "aiohttp", "httpx", "httpcore", "pydantic", "kubernetes", "yaml", "anyio")


def owner(traceback):
    for frame in reversed(traceback):  # the most recent call last
        path = frame.filename
        if "/modelarts_operator/" in path:
            tail = path.split("/modelarts_operator/", 1)[1]
            return "modelarts_operator." + tail.split("/")[0].removesuffix(".py")
        for lib in LIBRARIES:
            if f"/{lib}/" in path:
                return lib
    return "python: " + os.path.basename(traceback[-1].filename)


def dump(*_):
    snapshot = tracemalloc.take_snapshot()
    by_owner = collections.Counter()
    by_site = collections.Counter()
    for trace in snapshot.traces:
        who = owner(trace.traceback)
        by_owner[who] += trace.size
        last = trace.traceback[-1]
        by_site[f"{who} <- {os.path.basename(last.filename)}:{last.lineno}"] += trace.size
    summary = {
        "traced_bytes": sum(by_owner.values()),
        "by_owner": dict(by_owner.most_common()),
        "by_site": dict(by_site.most_common(60)),
    }
    with open(OUT + ".tmp", "w") as f:
        json.dump(summary, f)
    os.replace(OUT + ".tmp", OUT)


signal.signal(signal.SIGUSR1, dump)
from modelarts_operator.cli import main
import modelarts_operator.runner, kopf  # imported before tracing starts: tracing them is slow

tracemalloc.start(FRAMES)
sys.exit(main(["run", *sys.argv[3:]]))
"""


async def _up(port: int, limit_s: float = 300) -> None:
    """Wait for the operator's metrics endpoint (a traced operator starts slowly)."""
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient() as http:
        while True:
            try:
                (await http.get(f"http://127.0.0.1:{port}/metrics", timeout=10)).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)


def _read(out: Path) -> dict[str, Any] | None:
    summary: dict[str, Any] | None = json.loads(out.read_text()) if out.exists() else None
    return summary


async def _summary(op_pid: int, out: Path) -> dict[str, Any]:
    """Ask the traced operator for a summary and wait for it."""
    previous = _read(out)
    os.kill(op_pid, signal.SIGUSR1)
    deadline = time.monotonic() + 300
    while (summary := _read(out)) is None or summary == previous:
        if time.monotonic() > deadline:
            raise TimeoutError("the operator wrote no memory summary")
        await asyncio.sleep(1)
    summary["rss_mb"] = round(_proc_stats(op_pid)[0], 1)
    return summary


def _per_object(before: dict[str, Any], after: dict[str, Any], n: int) -> dict[str, int]:
    """Bytes per object by owner between two summaries (the owners above 50 bytes)."""
    owners = set(before["by_owner"]) | set(after["by_owner"])
    per_object = {
        who: round((after["by_owner"].get(who, 0) - before["by_owner"].get(who, 0)) / n)
        for who in owners
    }
    return dict(
        sorted(((k, v) for k, v in per_object.items() if abs(v) >= 50), key=lambda kv: -kv[1])
    )


async def _sample(op_pid: int, out: Path, traced: bool) -> dict[str, Any]:
    """A traced operator's summary, or an untraced one's RSS alone (printed as it is taken:
    a run stopped before its end still says what it measured)."""
    sample = await _summary(op_pid, out) if traced else {"rss_mb": round(_proc_stats(op_pid)[0], 1)}
    print(f"[bench] memory sample: RSS {sample['rss_mb']} MB", flush=True)
    return sample


async def measure(n: int, workload_name: str, frames: int, tag: str = "") -> dict[str, Any]:
    workload = WORKLOADS[workload_name]
    work = Path(tempfile.mkdtemp(prefix=f"memory-{workload_name}-{n}-"))
    out = work / "memory.json"
    traced = frames > 0
    argv = [sys.executable, "-c", TRACED_OPERATOR, str(out), str(frames)] if traced else None
    async with stack(work, workload, 3600, operator=argv) as bench:
        await _up(bench.port)
        await _quiesce(bench.port)
        empty = await _sample(bench.op.pid, out, traced)
        if workload.prelude:
            await bench.api.create_ready(workload.prelude())
        seen = Seen(workload.id_field, workload.active)
        watcher = asyncio.create_task(bench.api.watch(seen))
        started = time.monotonic()
        await bench.api.create_objects(n)
        await seen.wait_for("running", seen.active, n, 1800, Progress(f"memory, {n}"))
        running_s = time.monotonic() - started
        await _quiesce(bench.port, limit_s=300)
        loaded = await _sample(bench.op.pid, out, traced)
        watcher.cancel()
        # What a process holds for the same objects without a create phase behind it: a
        # restarted operator, once it holds them all and its first poll cycle confirmed them.
        bench.stop_operator()
        bench.op = _start_operator(bench.cp, bench.emu, work / "restarted.log", bench.port, argv)
        await _up(bench.port)
        await _restarted(bench.op, bench.port, workload, n, time.monotonic())
        held = await _sample(bench.op.pid, out, traced)
    rss = {"empty": empty["rss_mb"], "loaded": loaded["rss_mb"], "held": held["rss_mb"]}
    result: dict[str, Any] = {
        "workload": workload_name,
        "objects": n,
        "traceback_frames": frames,
        "all_running_s": round(running_s, 1),
        "rss_mb": rss,
        "rss_kb_per_object": {
            "loaded": round((rss["loaded"] - rss["empty"]) * 1024 / n, 1),
            "held": round((rss["held"] - rss["empty"]) * 1024 / n, 1),
        },
    }
    if traced:
        result |= _traced(empty, loaded, held, n)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"memory_{workload_name}_{n}{'_' + tag if tag else ''}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    return result


def _traced(
    empty: dict[str, Any], loaded: dict[str, Any], held: dict[str, Any], n: int
) -> dict[str, Any]:
    """What the tracer saw at the three points: totals, bytes per object by owner, top sites."""
    return {
        "traced_mb": {
            "empty": round(empty["traced_bytes"] / 2**20, 1),
            "loaded": round(loaded["traced_bytes"] / 2**20, 1),
            "held": round(held["traced_bytes"] / 2**20, 1),
        },
        "traced_bytes_per_object": round((loaded["traced_bytes"] - empty["traced_bytes"]) / n),
        "bytes_per_object_by_owner": _per_object(empty, loaded, n),
        "held_bytes_per_object": round((held["traced_bytes"] - empty["traced_bytes"]) / n),
        "held_bytes_per_object_by_owner": _per_object(empty, held, n),
        "top_sites_loaded": dict(list(loaded["by_site"].items())[:25]),
        "top_sites_held": dict(list(held["by_site"].items())[:25]),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    size = int(args[0]) if args else 1000
    name = args[1] if len(args) > 1 else "trainingjobs"
    depth = int(args[2]) if len(args) > 2 else 10
    label = args[3] if len(args) > 3 else ""
    print(json.dumps(asyncio.run(measure(size, name, depth, label)), indent=2))
