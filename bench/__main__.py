"""`make bench`: run every benchmark and print the figures docs/benchmarks.md reports.

python -m bench                          # everything (about 4 hours on 2 cores: every
                                         # kind and form at 1,000 and 10,000 objects, a
                                         # 10,000-job run ~25 min, another kind's ~12; the
                                         # soak ~40 min)
python -m bench scale 100                # only the operator scale run, 100 v1 TrainingJobs
python -m bench cycle [N ...]            # the operator's own CPU per settled poll cycle
python -m bench scale notebooks 500      # one workload (trainingjobs, trainingjobs-v2,
                                         # models, models-llm, services, services-v2, workspaces,
                                         # notebooks) at the sizes given
python -m bench soak [N] [minutes] [R]   # N v1 jobs with a trickle of creates and deletes,
                                         # the operator restarted every R minutes
python -m bench creates                  # ModelArts calls per create, every kind and form
BENCH_PROFILE=1 python -m bench scale 10000   # with py-spy profiles of the operator
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str, *args: str) -> int:
    path = ROOT / "bench" / name
    if not path.exists():
        print(f"[bench] {name}: not present, skipped")
        return 0
    print(f"[bench] {name} {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, str(path), *args], cwd=ROOT)


# What `python -m bench` (everything) scales: each workload at these sizes.
ALL_SCALES = {
    "trainingjobs": [100, 1000, 10000],
    "trainingjobs-v2": [1000, 10000],
    "models": [1000, 10000],
    "models-llm": [1000, 10000],
    "services": [1000, 10000],
    "services-v2": [1000, 10000],
    "workspaces": [1000, 10000],
    "notebooks": [1000, 10000],
}


def _summary(result: dict[str, Any]) -> None:
    busy, settled = result["busy"], result["settled"]
    label = f"{result['objects']:>5} {result.get('workload', 'trainingjobs')}"
    line = (
        f"[bench] {label}: synced in {result['all_synced_s']} s, running shown in "
        f"{result['all_running_reflected_s']} s, {busy['api_calls_per_cycle']} API calls/cycle"
    )
    if base := result.get("per_object_baseline"):
        line += f" (per-object: {base['api_calls_per_cycle']})"
    if lag := result.get("completion_lag_s"):
        line += f", lag p50/p95 {lag['p50']}/{lag['p95']} s"
    line += (
        f", RSS {busy['rss_mb']} MB, writes/cycle busy {busy['apiserver_writes_per_cycle']}"
        f", settled: {settled['api_calls']} calls in {settled['poll_cycles']} cycles, "
        f"{settled['apiserver_writes']} writes"
    )
    print(line)
    phase = result["create_phase"]
    print(
        f"[bench] {label} created: {phase['remote_creates']} remote creates, "
        f"{phase['apiserver_writes_per_object']} API-server writes/object, "
        f"{phase['intents_left_open']} intents left open, CPU s {phase['cpu_seconds']}"
    )


def main(argv: list[str]) -> int:
    """``python -m bench [all|scale [workload] [sizes...]|cycle [N...]|creates|emulator|
    reliability|soak [N] [min] [restart min]]``."""
    from bench import operator_scale

    what = argv[0] if argv else "all"
    rest = argv[1:]
    status = 0
    if what == "scale":
        workload = rest.pop(0) if rest and rest[0] in operator_scale.WORKLOADS else "trainingjobs"
        scales = {workload: [int(a) for a in rest] or ALL_SCALES[workload]}
    else:
        scales = ALL_SCALES if what == "all" else {}
    for workload, sizes in scales.items():
        for result in operator_scale.main(sizes, workload):
            _summary(result)
    if what in ("all", "cycle"):
        status |= _script("poll_cycle.py", *(rest if what == "cycle" else []))
    if what in ("all", "creates"):
        status |= _script("create_calls.py")
    if what in ("all", "emulator"):
        status |= _script("emulator_throughput.py")
    if what in ("all", "reliability"):
        status |= _script("reliability.py")
    if what in ("all", "soak"):
        status |= _script("soak.py", *(rest if what == "soak" else ["1000", "30", "5"]))
    results = sorted((ROOT / "bench" / "results").glob("*.json"))
    print(json.dumps({p.name: json.loads(p.read_text()) for p in results}, indent=1)[:4000])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
