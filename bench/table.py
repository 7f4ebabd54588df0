"""The docs' table of every kind and form at each size, rendered from bench/results.

    python bench/table.py [workload ...] [N ...]
        (default: every workload with a result, at 1,000 and 10,000 objects)

docs/benchmarks.md quotes these rows; rendering them from the JSON the runs wrote keeps a
figure from being copied wrong. A missing figure is a dash; a row
with nothing but dashes (the lag, for kinds that never complete) is left out.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.operator_scale import RESULTS, WORKLOADS

Result = dict[str, Any]


def _path(workload: str, n: int) -> Path:
    suffix = "" if workload == "trainingjobs" else f"_{workload}"
    return RESULTS / f"operator_scale{suffix}_{n}.json"


def _cpu(r: Result) -> str:
    cpu = r["create_phase"]["cpu_seconds"]
    return " / ".join(str(cpu[p]) for p in ("operator", "kube-apiserver", "etcd", "emulator"))


def _lag(r: Result) -> str:
    lag = r.get("completion_lag_s")
    return f"{lag['p50']} / {lag['p95']} ({lag['max']})" if lag else "—"


def _settled(r: Result) -> str:
    s = r["settled"]
    return f"{s['api_calls']} in {s['poll_cycles']:g} / {s['apiserver_writes']:g}"


def _peer(r: Result) -> str:
    peer = r.get("per_object_baseline")
    return f"{peer['api_calls_per_cycle']}; {peer.get('ratio_vs_batched', '?')}x" if peer else "—"


def _busy_calls(r: Result) -> str:
    busy = r["busy"]
    return f"{busy['api_calls_per_cycle']}" if busy["poll_cycles"] else "(no cycle: settled)"


def _ratio(r: Result) -> str:
    return f"{r['all_synced_s'] / r['create_requests_s']:.2f}"


def _restart(r: Result) -> str:
    """Held all / all confirmed (a run before restarts by list pages: held only)."""
    restart = r.get("restart")
    if not restart:
        return "—"
    confirmed = restart.get("all_confirmed_s")
    held = restart["holds_all_objects_s"]
    return f"{held} / {confirmed}" if confirmed is not None else f"{held} / —"


def _restart_cost(r: Result) -> str:
    restart = r.get("restart")
    if not restart:
        return "—"
    calls = restart["api_calls"]
    per_call = restart.get("objects_per_call", round(r["objects"] / max(calls, 1), 1))
    return f"{calls} ({per_call}); {restart['apiserver_writes']:g}; {restart['remote_creates']}"


ROWS: list[tuple[str, Callable[[Result], str]]] = [
    ("all Synced after the first create, s (≤ 360 at 10,000)", lambda r: str(r["all_synced_s"])),
    ("create requests themselves, s", lambda r: str(r["create_requests_s"])),
    ("all Synced ÷ create requests (≤ 2 at 10,000)", _ratio),
    ("all remote states reflected (running phase), s", lambda r: str(r["all_running_reflected_s"])),
    (
        "remote creates; intents left open",
        lambda r: (
            f"{r['create_phase']['remote_creates']}; {r['create_phase']['intents_left_open']}"
        ),
    ),
    (
        "API-server writes per object until Synced (≤ 2.5)",
        lambda r: str(r["create_phase"]["apiserver_writes_per_object"]),
    ),
    ("CPU s until Synced: operator / kube-apiserver / etcd / emulator", _cpu),
    ("ModelArts calls per poll cycle, busy", _busy_calls),
    ("API-server writes per cycle, busy", lambda r: f"{r['busy']['apiserver_writes_per_cycle']:g}"),
    ("lag, completion → Succeeded, p50 / p95 (max), s", _lag),
    ("settled (65 s): ModelArts calls in cycles / API-server writes", _settled),
    (
        "operator RSS busy / settled, MB (busy ≤ 400 at 10,000)",
        lambda r: f"{r['busy']['rss_mb']} / {r['settled']['rss_mb']}",
    ),
    ("restart: held all / confirmed all, s (≤ 20)", _restart),
    (
        "restart: ModelArts calls (objects per call, ≥ 50); API-server writes (0); creates (0)",
        _restart_cost,
    ),
    ("restart: operator RSS, MB", lambda r: str(r["restart"]["rss_mb"]) if "restart" in r else "—"),
    (
        "operator CPU busy / settled, %",
        lambda r: f"{r['busy']['cpu_percent']} / {r['settled']['cpu_percent']}",
    ),
    ("per-object peer: calls per cycle; ratio", _peer),
]


def render(columns: list[tuple[str, Result]]) -> str:
    head = "| Figure | " + " | ".join(label for label, _ in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    rows = [(name, [cell(r) for _, r in columns]) for name, cell in ROWS]
    body = [
        f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows if set(cells) != {"—"}
    ]
    return "\n".join([head, rule, *body])


def main(args: list[str]) -> str:
    """The table of the workloads named (default: all) at the sizes named (default: 1,000
    and 10,000): a size alone keeps a table to the runs of one session."""
    sizes = [int(a) for a in args if a.isdigit()] or [1000, 10000]
    workloads = [a for a in args if not a.isdigit()]
    columns = []
    for w in workloads or list(WORKLOADS):
        for n in sizes:
            if (path := _path(w, n)).exists():
                columns.append((f"{w} {n:,}", json.loads(path.read_text())))
    return render(columns)


if __name__ == "__main__":
    print(main(sys.argv[1:]))
