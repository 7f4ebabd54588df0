"""`make bench`: run every benchmark and print the figures docs/benchmarks.md reports.

python -m bench                 # everything (about 15 minutes on 2 cores)
python -m bench scale 100       # only the operator scale run with 100 objects
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str, *args: str) -> int:
    path = ROOT / "bench" / name
    if not path.exists():
        print(f"[bench] {name}: not present, skipped")
        return 0
    print(f"[bench] {name} {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, str(path), *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "all"
    sizes = [int(a) for a in argv[1:]] or [100, 1000]
    status = 0
    if what in ("all", "scale"):
        from bench import operator_scale

        for result in operator_scale.main(sizes):
            busy, settled = result["busy"], result["settled"]
            print(
                f"[bench] {result['objects']:>5} jobs: synced in {result['all_synced_s']} s, "
                f"{busy['api_calls_per_cycle']} API calls/cycle (per-object: "
                f"{result['per_object_baseline']['api_calls_per_cycle']}), lag p50/p95 "
                f"{result['completion_lag_s']['p50']}/{result['completion_lag_s']['p95']} s, "
                f"RSS {busy['rss_mb']} MB, writes/cycle busy {busy['apiserver_writes_per_cycle']}"
                f", settled writes {settled['apiserver_writes']}"
            )
            phase = result["create_phase"]
            print(
                f"[bench] {result['objects']:>5} jobs created: {phase['remote_creates']} remote "
                f"creates, {phase['apiserver_writes_per_object']} API-server writes/object, "
                f"{phase['intents_left_open']} intents left open, CPU s {phase['cpu_seconds']}"
            )
    if what in ("all", "emulator"):
        status |= _script("emulator_throughput.py")
    if what in ("all", "reliability"):
        status |= _script("reliability.py")
    results = sorted((ROOT / "bench" / "results").glob("*.json"))
    print(json.dumps({p.name: json.loads(p.read_text()) for p in results}, indent=1)[:4000])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
