"""Reliability at size: the chaos scenarios of tests/integration/test_reliability.py with the
larger numbers (not part of `make test`).

    .venv/bin/python bench/reliability.py [--n 200] [--m 200] [--jobs 48] [--only kill,...]
                                          [--forms v1,v2]

Scenarios: ``kill`` (SIGKILL the operator 5 times while N TrainingJobs are created: exactly N
remote jobs, one per object), ``faults`` (20% 5xx, 10% 429 + Retry-After, 50 ms latency: a
pipeline converges with bounded API calls), ``delete`` (M deletions, 20% already gone
remotely: nothing left behind), ``restart`` (the emulator restarts mid-run from its state
file). Each runs with the TrainingJobs of each form given (v2 results are named ``kill-v2``
and so on), its own emulator and operator on a fresh local control plane. Results go to
bench/results/reliability.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CLUSTER_IDENTITIES  # noqa: E402
from tests.integration import test_reliability as scenarios  # noqa: E402

from modelarts_testbed.controlplane import ControlPlane, running  # noqa: E402


@dataclass
class NoSharedOperator:
    """Stands in for the session operator the scenarios stop and restart (none here)."""

    cp: ControlPlane

    def stop(self, *_: Any) -> None:
        return None

    def start(self) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="TrainingJobs created under kills")
    parser.add_argument("--m", type=int, default=200, help="objects deleted")
    parser.add_argument("--jobs", type=int, default=48, help="jobs in the faults/restart runs")
    parser.add_argument("--only", default="kill,faults,delete,restart")
    parser.add_argument("--forms", default="v1,v2", help="TrainingJob forms to run them with")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    results: dict[str, Any] = {}
    failed = 0
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as tmp:
        work = Path(tmp)
        with running(work / "cp", CLUSTER_IDENTITIES) as cp:
            cp.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
            shared: Any = NoSharedOperator(cp)
            runs: dict[str, Callable[[Path, scenarios.JobForm], scenarios.Report]] = {
                "kill": lambda d, f: scenarios.scenario_kill_during_create(
                    shared, d, n=args.n, form=f
                ),
                "faults": lambda d, f: scenarios.scenario_faults(shared, d, jobs=args.jobs, form=f),
                "delete": lambda d, f: scenarios.scenario_mass_delete(shared, d, m=args.m, form=f),
                "restart": lambda d, f: scenarios.scenario_emulator_restart(
                    shared, d, jobs=args.jobs, form=f
                ),
            }
            for scenario, form in [
                (s, scenarios.FORMS[f]) for s in runs for f in args.forms.split(",")
            ]:
                if scenario not in wanted:
                    continue
                name = scenario if form.name == "v1" else f"{scenario}-{form.name}"
                workdir = work / name
                workdir.mkdir()
                started = time.monotonic()
                try:
                    report = runs[scenario](workdir, form)
                    results[name] = {"ok": True, **report.numbers}
                    print(f"[reliability] {report}", flush=True)
                except AssertionError as err:
                    failed += 1
                    results[name] = {"ok": False, "error": str(err)[:2000]}
                    print(f"[reliability] {name} FAILED: {str(err)[:2000]}", flush=True)
                results[name]["wall_seconds"] = round(time.monotonic() - started, 1)
    out = ROOT / "bench" / "results" / "reliability.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"[reliability] results in {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
