"""The operator's Prometheus metrics, served on ``/metrics`` through prometheus_client.

Every metric the operator exports is declared below with its labels: dashboards query these
names and labels, so a rename breaks them. prometheus_client writes the exposition format
(escaping label values: a ``result`` label carries a remote ``error_code``, and a quote or a
newline in it must not start a series of its own) and adds its process and Python collectors
(``process_*``: CPU, resident memory, open files; ``python_gc_*``, ``python_info``).

The call sites name a metric and its labels (``METRICS.inc("modelarts_poll_cycles_total",
kind=...)``); a name or a label set not declared here raises, so no series appears by typo.
Gauges are read when scraped, from a function returning ``{labels: value}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import prometheus_client
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["BUCKETS", "CONTENT_TYPE", "DECLARED", "METRICS", "Declared", "Labels", "Metrics"]

Labels = tuple[tuple[str, str], ...]
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST

# No ``<name>_created`` series beside each counter and histogram: they would double the
# series count, and nothing the operator's users query reads them. (A process-wide switch; the
# operator's process serves only these metrics.)
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Declared:
    """One exported metric: its type, help text and label names."""

    type: str  # counter, histogram or gauge
    help: str
    labels: tuple[str, ...]


DECLARED: dict[str, Declared] = {
    "modelarts_api_calls_total": Declared(
        "counter",
        "ModelArts API calls by endpoint and outcome.",
        ("endpoint", "method", "code"),
    ),
    "modelarts_api_call_seconds": Declared(
        "histogram", "ModelArts API call latency.", ("endpoint",)
    ),
    "modelarts_reconciles_total": Declared(
        "counter", "Reconciles by kind and result.", ("kind", "result")
    ),
    "modelarts_resumes_total": Declared(
        "counter",
        "Objects resumed after a restart by outcome: trusted (their status showed nothing to do: "
        "no call), then confirmed by a poll cycle's list or handed-over to their reconcile.",
        ("kind", "outcome"),
    ),
    "modelarts_poll_cycles_total": Declared("counter", "Batched poll cycles by kind.", ("kind",)),
    "modelarts_poll_cycle_seconds": Declared("histogram", "Duration of one poll cycle.", ("kind",)),
    "modelarts_status_patches_total": Declared(
        "counter", "Status patches written by the poller.", ("kind",)
    ),
    "modelarts_status_conflicts_total": Declared(
        "counter",
        "Poller status patches refused because the object changed since it was read (re-read).",
        ("kind",),
    ),
    "modelarts_objects": Declared("gauge", "Watched objects by kind and phase.", ("kind", "phase")),
    "modelarts_objects_not_synced": Declared(
        "gauge",
        "Watched objects whose Synced condition is not True, by kind, namespace and reason "
        "(Unknown: no Synced condition yet).",
        ("kind", "object_namespace", "reason"),
    ),
    "modelarts_leader": Declared(
        "gauge",
        "1 while this replica acts (holds the leader Lease, or runs without leader election); "
        "0 while it stands by.",
        (),
    ),
    "modelarts_api_clients": Declared(
        "gauge",
        "ModelArts clients by state: open (in use), retiring (Secret rotated or namespace gone, "
        "closing after the request timeout) and closed (so far).",
        ("state",),
    ),
    "modelarts_credential_refreshes_total": Declared(
        "counter",
        "Temporary credentials obtained (result ok) or not (failed), by mechanism: oidc, "
        "pod-identity, ecs-metadata, agency.",
        ("mechanism", "result"),
    ),
    "modelarts_credentials_expiry_seconds": Declared(
        "gauge",
        "Seconds until the temporary credentials in use expire, the soonest per mechanism.",
        ("mechanism",),
    ),
}


class _Gauges(Collector):
    """The gauges whose value is read when scraped (a registry's count, a factory's)."""

    def __init__(self) -> None:
        self.read: dict[str, Callable[[], dict[Labels, float]]] = {}

    def collect(self) -> Iterator[Metric]:
        for name, read in sorted(self.read.items()):
            declared = DECLARED[name]
            family = GaugeMetricFamily(name, declared.help, labels=declared.labels)
            for labels, value in sorted(read().items()):
                family.add_metric([dict(labels)[key] for key in declared.labels], value)
            yield family


class Metrics:
    """The declared metrics in a registry of their own, with the process and Python ones."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}
        for name, declared in DECLARED.items():
            if declared.type == "counter":
                self._counters[name] = Counter(
                    name, declared.help, declared.labels, registry=self.registry
                )
            elif declared.type == "histogram":
                self._histograms[name] = Histogram(
                    name, declared.help, declared.labels, registry=self.registry, buckets=BUCKETS
                )
        self._gauges = _Gauges()
        self.registry.register(self._gauges)

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        self._counters[name].labels(**labels).inc(value)

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        self._histograms[name].labels(**labels).observe(seconds)

    def gauge(self, name: str, read: Callable[[], dict[Labels, float]]) -> None:
        """Read gauge ``name`` from ``read()`` at each scrape (replacing an earlier reader)."""
        if DECLARED[name].type != "gauge":
            raise ValueError(f"{name} is a {DECLARED[name].type}, not a gauge")
        self._gauges.read[name] = read

    def value(self, name: str, **labels: str) -> float:
        """A counter's current value (0 for a series not seen yet)."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def render(self) -> bytes:
        """What ``/metrics`` serves (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)


METRICS = Metrics()
