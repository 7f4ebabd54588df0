"""The Prometheus exposition the operator serves on /metrics."""

from __future__ import annotations

from modelarts_operator.metrics import Metrics
from modelarts_operator.reconcile.registry import Registry


def test_counters_histograms_and_gauges_render_in_exposition_format() -> None:
    m = Metrics()
    m.describe("calls_total", "counter", "Calls.")
    m.inc("calls_total", endpoint="jobs.list", code="200")
    m.inc("calls_total", endpoint="jobs.list", code="200")
    m.observe("call_seconds", 0.02, endpoint="jobs.list")
    m.observe("call_seconds", 3.0, endpoint="jobs.list")
    registry = Registry()
    for name, phase in (("a", "Running"), ("b", "Running"), ("c", "Succeeded")):
        registry.update(
            "trainingjobs",
            "ADDED",
            {"metadata": {"namespace": "ns", "name": name}, "status": {"phase": phase}},
        )
    m.gauge("objects", registry.count_by_phase)
    text = m.render()
    assert "# TYPE calls_total counter" in text
    assert 'calls_total{code="200",endpoint="jobs.list"} 2' in text
    assert 'call_seconds_bucket{endpoint="jobs.list",le="0.025"} 1' in text
    assert 'call_seconds_bucket{endpoint="jobs.list",le="+Inf"} 2' in text
    assert 'call_seconds_sum{endpoint="jobs.list"} 3.02' in text
    assert 'objects{kind="trainingjobs",phase="Running"} 2' in text
    assert 'objects{kind="trainingjobs",phase="Succeeded"} 1' in text
