"""`python -m bench`: the benchmarks behind docs/benchmarks.md (`make bench` runs `all`).

Every run writes its figures to bench/results/*.json; `results` prints them, `plots` draws the
docs' charts from them. `python -m bench COMMAND --help` says what each command takes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# What `all` scales: each workload at these sizes (about 3 hours on 2 cores: a 10,000 v1-job
# run took 32 min on 2026-12-06, as its jobs run for 15 min; another kind's 6-10 min).
ALL_SCALES = {
    "trainingjobs": [100, 1000, 10000],
    "trainingjobs-v2": [1000, 10000],
    "models": [1000, 10000],
    "models-llm": [1000, 10000],
    "services": [1000, 10000],
    "services-v2": [1000, 10000],
    "workspaces": [1000, 10000],
    "notebooks": [1000, 10000],
    # The kinds of issue 26 (a team holds tens of pools and networks, hundreds of
    # algorithms: 10,000 is the operator's bound, not a project's).
    "workspaces-quotas": [1000, 10000],
    "algorithms": [1000, 10000],
    "networks": [1000, 10000],
    "resourcepools": [1000, 10000],
}
WORKLOADS = tuple(ALL_SCALES)


def _script(name: str, *args: str) -> int:
    print(f"[bench] {name} {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, str(ROOT / "bench" / name), *args], cwd=ROOT)


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


def _scale(scales: dict[str, list[int]]) -> int:
    from bench import operator_scale

    for workload, sizes in scales.items():
        for result in operator_scale.main(sizes, workload):
            _summary(result)
    return 0


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of objects: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a number of objects is at least 1, not {value}")
    return value


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"minutes must be more than 0, not {value}")
    return value


def cmd_all(_: argparse.Namespace) -> int:
    status = _scale(ALL_SCALES)
    status |= _script("poll_cycle.py")
    status |= _script("create_calls.py")
    status |= _script("emulator_throughput.py")
    status |= _script("reliability.py")
    status |= _script("soak.py", "1000", "30", "5")
    return status


def cmd_scale(args: argparse.Namespace) -> int:
    return _scale({args.workload: args.sizes or ALL_SCALES[args.workload]})


def cmd_cycle(args: argparse.Namespace) -> int:
    return _script("poll_cycle.py", args.form, *map(str, args.sizes))


def cmd_creates(_: argparse.Namespace) -> int:
    return _script("create_calls.py")


def cmd_emulator(_: argparse.Namespace) -> int:
    return _script("emulator_throughput.py")


def cmd_reliability(_: argparse.Namespace) -> int:
    return _script("reliability.py")


def cmd_soak(args: argparse.Namespace) -> int:
    return _script("soak.py", str(args.objects), f"{args.minutes:g}", f"{args.restart_every:g}")


def cmd_results(args: argparse.Namespace) -> int:
    paths = sorted(RESULTS.glob("*.json"))
    names = {p.stem for p in paths}
    unknown = [n for n in args.names if n not in names]
    if unknown:
        known = ", ".join(sorted(names))
        print(
            f"bench results: no result named {', '.join(unknown)} (known: {known})", file=sys.stderr
        )
        return 2
    chosen = [p for p in paths if not args.names or p.stem in args.names]
    print(json.dumps({p.stem: json.loads(p.read_text()) for p in chosen}, indent=1))
    return 0


def cmd_plots(args: argparse.Namespace) -> int:
    from bench import plots

    for path in plots.write(args.out):
        print(f"[bench] wrote {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    from bench import plots

    top = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n\n")[0].removeprefix("`python -m bench`: "),
        epilog="Results go to bench/results/; docs/benchmarks.md reports them.",
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str, run: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    command("all", "every benchmark below, at the sizes of docs/benchmarks.md (~4 h)", cmd_all)
    scale = command(
        "scale",
        "the operator at scale: create N objects of one kind and form against the emulator, "
        "then measure time to Synced, calls per poll cycle, lag, RSS and CPU",
        cmd_scale,
    )
    scale.add_argument(
        "workload", nargs="?", default="trainingjobs", choices=WORKLOADS,
        help="kind and form (default: trainingjobs, the v1 form)",
    )  # fmt: skip
    scale.add_argument(
        "sizes", nargs="*", type=_size, metavar="N",
        help="object counts (default: the sizes `all` runs for the workload)",
    )  # fmt: skip
    cycle = command("cycle", "the operator's own CPU per settled poll cycle", cmd_cycle)
    cycle.add_argument("--form", choices=("v1", "v2"), default="v1", help="TrainingJob form")
    cycle.add_argument("sizes", nargs="*", type=_size, metavar="N", help="default: 1000 10000")
    command("creates", "ModelArts calls per create, every kind and form", cmd_creates)
    command("emulator", "the emulator's own throughput", cmd_emulator)
    command("reliability", "faults injected while objects converge", cmd_reliability)
    soak = command(
        "soak",
        "N v1 jobs with a trickle of creates and deletes, the operator restarted (SIGTERM) "
        "every R minutes",
        cmd_soak,
    )
    soak.add_argument("objects", nargs="?", type=_size, default=1000, help="default: 1000")
    soak.add_argument("minutes", nargs="?", type=_minutes, default=30.0, help="default: 30")
    soak.add_argument(
        "restart_every", nargs="?", type=_minutes, default=5.0, metavar="R",
        help="minutes between restarts (default: 5)",
    )  # fmt: skip
    results = command("results", "print stored results (all, or the ones named)", cmd_results)
    results.add_argument("names", nargs="*", metavar="NAME", help="e.g. operator_scale_1000")
    plot = command("plots", "draw the SVG charts of docs/benchmarks.md from the results", cmd_plots)
    plot.add_argument("--out", type=Path, default=plots.OUT, help=f"default: {plots.OUT}")
    return top


def main(argv: list[str]) -> int:
    p = parser()
    # `scale` reads its optional workload and the sizes as positionals: argparse would try
    # "100" as a workload, so a number in that place is the first size.
    if len(argv) > 1 and argv[0] == "scale" and argv[1] not in WORKLOADS and argv[1][:1].isdigit():
        argv = ["scale", "trainingjobs", *argv[1:]]
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help()
        return 2
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
