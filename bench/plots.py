"""The benchmark tables' key figures as SVG charts, drawn from bench/results (no plotting
library: a line chart of a few series is a few dozen SVG elements).

    python -m bench plots [--out docs/benchmarks]

Each chart puts one figure against the number of objects, one line per workload (kind and
form), on logarithmic axes where the figures span decades; the per-object polling peer
(``per_object_baseline``: one GET per object per cycle) is drawn dashed beside the operator's
batched polling. docs/benchmarks.md shows them; a test fails when they differ from what the
stored results draw.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
SCALE_FILE = re.compile(r"^operator_scale(?:_(?P<workload>[a-z0-9-]+?))?_(?P<n>\d+)\.json$")
# One colour per workload (Okabe-Ito, distinguishable with colour-blindness), in legend order.
COLOURS = {
    "trainingjobs": "#0072B2",
    "trainingjobs-v2": "#56B4E9",
    "models": "#009E73",
    "models-llm": "#8FD175",
    "services": "#D55E00",
    "services-v2": "#E69F00",
    "workspaces": "#CC79A7",
    "notebooks": "#444444",
}
LABELS = {
    "trainingjobs": "TrainingJob v1",
    "trainingjobs-v2": "TrainingJob v2",
    "models": "Model",
    "models-llm": "Model (LLM)",
    "services": "Service v1",
    "services-v2": "Service v2",
    "workspaces": "Workspace",
    "notebooks": "Notebook",
}
Result = dict[str, Any]
Point = tuple[float, float]


def load(results: Path = RESULTS) -> dict[str, dict[int, Result]]:
    """Every operator scale run by workload and object count (named variants, such as a run
    kept from before a change, are left out)."""
    runs: dict[str, dict[int, Result]] = {}
    for path in sorted(results.glob("operator_scale*.json")):
        match = SCALE_FILE.match(path.name)
        if match is None:
            continue
        workload = match["workload"] or "trainingjobs"
        runs.setdefault(workload, {})[int(match["n"])] = json.loads(path.read_text())
    return runs


def calls_per_cycle(r: Result) -> float | None:
    """ModelArts calls in one poll cycle: the busy window's, or the settled cycle's for kinds
    that settle at once (no busy cycle)."""
    busy, settled = r["busy"], r["settled"]
    if busy.get("poll_cycles"):
        return float(busy["api_calls_per_cycle"])
    if settled.get("poll_cycles"):
        return float(settled["api_calls"]) / float(settled["poll_cycles"])
    return None


def peer_calls_per_cycle(r: Result) -> float | None:
    peer = r.get("per_object_baseline") or {}
    value = peer.get("api_calls_per_cycle")
    return float(value) if value else None


def lag(percentile: str) -> Callable[[Result], float | None]:
    def read(r: Result) -> float | None:
        lags = r.get("completion_lag_s")
        return float(lags[percentile]) if lags else None

    return read


@dataclass
class Series:
    label: str
    colour: str
    points: list[Point]
    dashed: bool = False


@dataclass
class Chart:
    name: str
    title: str
    y_label: str
    series: list[Series]
    log_y: bool = True


def series(
    runs: dict[str, dict[int, Result]],
    figure: Callable[[Result], float | None],
    suffix: str = "",
    dashed: bool = False,
    only: Iterable[str] | None = None,
) -> list[Series]:
    out = []
    for workload in COLOURS:
        if workload not in runs or (only is not None and workload not in only):
            continue
        points = [
            (float(n), value)
            for n, r in sorted(runs[workload].items())
            if (value := figure(r)) is not None and value > 0
        ]
        if points:
            out.append(Series(LABELS[workload] + suffix, COLOURS[workload], points, dashed))
    return out


def charts(runs: dict[str, dict[int, Result]]) -> list[Chart]:
    completing = ("trainingjobs", "trainingjobs-v2")
    return [
        Chart(
            "calls-per-cycle",
            "ModelArts calls per poll cycle (dashed: per-object polling peer)",
            "calls per cycle",
            series(runs, calls_per_cycle)
            + series(runs, peer_calls_per_cycle, " (per-object peer)", dashed=True),
        ),
        Chart(
            "time-to-synced",
            "Time from the first create until every object is Synced",
            "seconds",
            series(runs, lambda r: float(r["all_synced_s"])),
        ),
        Chart(
            "rss",
            "Operator resident memory with every object watched (busy)",
            "MB",
            series(runs, lambda r: float(r["busy"]["rss_mb"])),
            log_y=False,
        ),
        Chart(
            "lag",
            "Status lag, remote completion to Succeeded: p50 (solid), p95 (dashed)",
            "seconds",
            series(runs, lag("p50"), " p50", only=completing)
            + series(runs, lag("p95"), " p95", dashed=True, only=completing),
            log_y=False,
        ),
    ]


# --- SVG -------------------------------------------------------------------------------------

WIDTH, HEIGHT = 820, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 250, 40, 50  # margins; the legend sits in the right one


def _ticks_log(lo: float, hi: float) -> list[float]:
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return [10.0**e for e in range(first, last + 1)]


def _ticks_linear(hi: float) -> list[float]:
    step = 10 ** math.floor(math.log10(hi)) / 10
    for factor in (1, 2, 5, 10):
        if hi / (step * factor) <= 6:
            step *= factor
            break
    return [step * i for i in range(0, math.ceil(hi / step) + 1)]


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(chart: Chart) -> str:
    """The chart as a standalone SVG document (deterministic: the same results draw the same
    bytes)."""
    xs = [x for s in chart.series for x, _ in s.points]
    ys = [y for s in chart.series for _, y in s.points]
    x_ticks = _ticks_log(min(xs), max(xs))
    y_ticks = _ticks_log(min(ys), max(ys)) if chart.log_y else _ticks_linear(max(ys))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        lo, hi = math.log10(x_ticks[0]), math.log10(x_ticks[-1])
        return LEFT + (math.log10(x) - lo) / (hi - lo) * plot_w

    def py(y: float) -> float:
        if chart.log_y:
            lo, hi = math.log10(y_ticks[0]), math.log10(y_ticks[-1])
            share = (math.log10(y) - lo) / (hi - lo)
        else:
            share = y / y_ticks[-1]
        return TOP + plot_h - share * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{_escape(chart.title)}</text>',
    ]
    for x in x_ticks:
        out.append(
            f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{TOP + plot_h}" '
            'stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{px(x):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{_fmt(x)}</text>'
        )
    for y in y_ticks:
        out.append(
            f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" y2="{py(y):.1f}" '
            'stroke="#ddd"/>'
        )
        out.append(f'<text x="{LEFT - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{_fmt(y)}</text>')
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>'
    )
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
        "objects (log scale)</text>"
    )
    y_scale = " (log scale)" if chart.log_y else ""
    out.append(
        f'<text transform="translate(18 {TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_escape(chart.y_label)}{y_scale}</text>'
    )
    for i, s in enumerate(chart.series):
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>'
        )
        for x, y in s.points:
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{s.colour}">'
                f"<title>{_escape(s.label)}: {_fmt(x)} objects, {_fmt(round(y, 2))}</title>"
                "</circle>"
            )
        ly = TOP + 10 + i * 18
        lx = WIDTH - RIGHT + 16
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{s.colour}" '
            f'stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{_escape(s.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(out: Path = OUT, results: Path = RESULTS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts(load(results)):
        path = out / f"{chart.name}.svg"
        path.write_text(render(chart))
        written.append(path)
    return written
