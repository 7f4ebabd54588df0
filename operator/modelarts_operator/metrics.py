"""Prometheus metrics in the text exposition format, without a client library dependency.

Counters and histograms keyed by label tuples; ``render()`` produces what ``/metrics`` serves.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable

Labels = tuple[tuple[str, str], ...]
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _fmt(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{v}"' for k, v in labels)
    return "{" + inner + "}"


class Metrics:
    def __init__(self) -> None:
        self._help: dict[str, tuple[str, str]] = {}
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._histograms: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._gauges: dict[str, Callable[[], dict[Labels, float]]] = {}

    def describe(self, name: str, kind: str, text: str) -> None:
        self._help[name] = (kind, text)

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        series = self._counters[name]
        series[key] = series.get(key, 0.0) + value

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        series = self._histograms[name].setdefault(key, [0.0] * (len(BUCKETS) + 2))
        series[bisect.bisect_left(BUCKETS, seconds)] += 1
        series[-1] += seconds

    def gauge(self, name: str, read: Callable[[], dict[Labels, float]]) -> None:
        self._gauges[name] = read

    def value(self, name: str, **labels: str) -> float:
        return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        lines: list[str] = []
        # Described families are listed (HELP, TYPE) before their first sample, so a query of
        # a counter that has not moved yet (no conflicts so far) finds the family.
        names = sorted({*self._counters, *self._histograms, *self._gauges, *self._help})
        for name in names:
            if name in self._help:
                kind, text = self._help[name]
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            for labels, value in sorted(self._counters.get(name, {}).items()):
                lines.append(f"{name}{_fmt(labels)} {value:g}")
            for labels, series in sorted(self._histograms.get(name, {}).items()):
                cumulative = 0.0
                for bound, count in zip((*BUCKETS, float("inf")), series[:-1], strict=True):
                    cumulative += count
                    le = "+Inf" if bound == float("inf") else f"{bound:g}"
                    lines.append(f"{name}_bucket{_fmt((*labels, ('le', le)))} {cumulative:g}")
                lines.append(f"{name}_count{_fmt(labels)} {cumulative:g}")
                lines.append(f"{name}_sum{_fmt(labels)} {series[-1]:g}")
            if name in self._gauges:
                for labels, value in sorted(self._gauges[name]().items()):
                    lines.append(f"{name}{_fmt(labels)} {value:g}")
        return "\n".join(lines) + "\n"


METRICS = Metrics()
METRICS.describe(
    "modelarts_api_calls_total", "counter", "ModelArts API calls by endpoint and outcome."
)
METRICS.describe("modelarts_api_call_seconds", "histogram", "ModelArts API call latency.")
METRICS.describe("modelarts_reconciles_total", "counter", "Reconciles by kind and result.")
METRICS.describe("modelarts_poll_cycles_total", "counter", "Batched poll cycles by kind.")
METRICS.describe(
    "modelarts_status_patches_total", "counter", "Status patches written by the poller."
)
METRICS.describe(
    "modelarts_status_conflicts_total",
    "counter",
    "Poller status patches refused because the object changed since it was read (re-read).",
)
METRICS.describe("modelarts_objects", "gauge", "Watched objects by kind and phase.")
METRICS.describe(
    "modelarts_api_clients",
    "gauge",
    "ModelArts clients by state: open (in use), retiring (Secret rotated or namespace gone, "
    "closing after the request timeout) and closed (so far).",
)
METRICS.describe("modelarts_poll_cycle_seconds", "histogram", "Duration of one poll cycle.")
METRICS.describe(
    "modelarts_objects_not_synced",
    "gauge",
    "Watched objects whose Synced condition is not True, by kind, namespace and reason "
    "(Unknown: no Synced condition yet).",
)
METRICS.describe(
    "modelarts_leader",
    "gauge",
    "1 while this replica acts (holds the leader Lease, or runs without leader election); "
    "0 while it stands by.",
)
