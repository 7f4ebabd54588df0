"""The Prometheus exposition the operator serves on /metrics, read back by prometheus_client's
own parser (what a Prometheus server reads)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from modelarts_operator.api import errors
from modelarts_operator.metrics import BUCKETS, DECLARED, Metrics
from modelarts_operator.reconcile.failures import classify
from modelarts_operator.reconcile.registry import Registry

# What dashboards query (the names, types and labels exported before prometheus_client): a
# change here is a change for every dashboard built on them.
EXPORTED = {
    "modelarts_api_calls_total": ("counter", ("endpoint", "method", "code")),
    "modelarts_api_call_seconds": ("histogram", ("endpoint",)),
    "modelarts_reconciles_total": ("counter", ("kind", "result")),
    "modelarts_resumes_total": ("counter", ("kind", "outcome")),
    "modelarts_poll_cycles_total": ("counter", ("kind",)),
    "modelarts_poll_cycle_seconds": ("histogram", ("kind",)),
    "modelarts_status_patches_total": ("counter", ("kind",)),
    "modelarts_status_conflicts_total": ("counter", ("kind",)),
    "modelarts_objects": ("gauge", ("kind", "phase")),
    "modelarts_api_clients": ("gauge", ("state",)),
    "modelarts_credential_refreshes_total": ("counter", ("mechanism", "result")),
    "modelarts_credentials_expiry_seconds": ("gauge", ("mechanism",)),
    # Added for the chart's dashboard and alerts (objects stuck unsynced, no acting replica).
    "modelarts_objects_not_synced": ("gauge", ("kind", "object_namespace", "reason")),
    "modelarts_leader": ("gauge", ()),
}


def samples(metrics: Metrics) -> list[Sample]:
    text = metrics.render().decode()
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_the_exported_names_and_labels_are_kept() -> None:
    assert {name: (d.type, d.labels) for name, d in DECLARED.items()} == EXPORTED


def test_counters_histograms_and_gauges_render_in_exposition_format() -> None:
    m = Metrics()
    m.inc("modelarts_api_calls_total", endpoint="jobs.list", method="GET", code="200")
    m.inc("modelarts_api_calls_total", endpoint="jobs.list", method="GET", code="200")
    m.observe("modelarts_api_call_seconds", 0.02, endpoint="jobs.list")
    m.observe("modelarts_api_call_seconds", 3.0, endpoint="jobs.list")
    registry = Registry()
    for name, phase in (("a", "Running"), ("b", "Running"), ("c", "Succeeded")):
        registry.update(
            "trainingjobs",
            "ADDED",
            {"metadata": {"namespace": "ns", "name": name}, "status": {"phase": phase}},
        )
    m.gauge("modelarts_objects", registry.count_by_phase)
    text = m.render().decode()
    assert "# TYPE modelarts_api_calls_total counter" in text
    assert "# TYPE modelarts_api_call_seconds histogram" in text
    assert "# TYPE modelarts_objects gauge" in text
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples(m)}
    calls = (("code", "200"), ("endpoint", "jobs.list"), ("method", "GET"))
    assert found["modelarts_api_calls_total", calls] == 2
    assert m.value("modelarts_api_calls_total", endpoint="jobs.list", method="GET", code="200") == 2
    bucket = "modelarts_api_call_seconds_bucket"
    assert found[bucket, (("endpoint", "jobs.list"), ("le", "0.025"))] == 1
    assert found[bucket, (("endpoint", "jobs.list"), ("le", "+Inf"))] == 2
    assert len([k for k in found if k[0] == bucket]) == len(BUCKETS) + 1
    assert found["modelarts_api_call_seconds_sum", (("endpoint", "jobs.list"),)] == 3.02
    assert found["modelarts_objects", (("kind", "trainingjobs"), ("phase", "Running"))] == 2
    assert found["modelarts_objects", (("kind", "trainingjobs"), ("phase", "Succeeded"))] == 1
    # No <name>_created series beside the operator's counters and histograms.
    assert not [name for name, _ in found if name.startswith("modelarts_") and "created" in name]


def test_a_remote_error_code_cannot_inject_a_series() -> None:
    """The reconcile counter's result label is the Synced reason, which for a refused request
    is the error_code ModelArts sent: a quote and a newline in it stay inside the label."""
    code = 'ModelArts.0107"} 1\nmodelarts_injected{x="y'
    reason = classify(errors.InvalidParameter(status=400, error_code=code)).synced.reason
    assert reason == code
    m = Metrics()
    m.inc("modelarts_reconciles_total", kind="trainingjobs", result=reason)
    found = samples(m)
    assert "modelarts_injected" not in {s.name for s in found}
    results = [s.labels["result"] for s in found if s.name == "modelarts_reconciles_total"]
    assert results == [code]


def test_the_process_and_python_collectors_come_with_it() -> None:
    names = {s.name for s in samples(Metrics())}
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"} <= names
    assert any(name.startswith("python_gc_") for name in names)


def test_an_undeclared_metric_or_label_raises() -> None:
    m = Metrics()
    with pytest.raises(KeyError):
        m.inc("modelarts_typo_total", kind="x")
    with pytest.raises(ValueError, match="label"):
        m.inc("modelarts_poll_cycles_total", plural="x")
    with pytest.raises(ValueError, match="not a gauge"):
        m.gauge("modelarts_poll_cycles_total", dict)
