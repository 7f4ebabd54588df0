"""Every metric the chart's Grafana dashboard and alerting rules read is in a scrape of a running
operator (the rig's, after it reconciled an object), so neither queries a name that does not
exist. The rules themselves are checked by promtool in tests/unit/chart/test_monitoring.py."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.unit.chart.test_monitoring import referenced_metrics

from .conftest import OperatorProcess, apply, delete_obj, namespace, ready, synced, wait_for
from .test_status import _workspace

pytestmark = pytest.mark.cluster

FAMILY = re.compile(r"^# TYPE (\S+) \S+$", re.M)
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", re.M)


def families(text: str) -> set[str]:
    """Metric families of an exposition: declared ones (# TYPE), and every sample's name with
    a histogram's suffixes folded to its family."""
    names = set(FAMILY.findall(text))
    for name in SAMPLE.findall(text):
        names.add(re.sub(r"_(bucket|count|sum)$", "", name) if "_seconds_" in name else name)
    return names


def test_every_metric_the_dashboard_and_alerts_read_is_scraped(operator: OperatorProcess) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-metrics-scrape")
    apply(cp, _workspace("scraped", "it-metrics-scrape"), ns)
    wait_for(cp, "workspace", "scraped", ns, lambda o: ready(o) and synced(o), op=operator)
    try:
        port = operator.env["MODELARTS_METRICS_PORT"]
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        missing = referenced_metrics() - families(text)
        assert not missing, f"not in /metrics: {sorted(missing)}\n{text[:3000]}"
        # The operator acts (no leader election in the rig) and says so.
        assert re.search(r"^modelarts_leader 1(\.0)?$", text, re.M), text[:3000]
    finally:
        delete_obj(cp, "workspace", "scraped", ns)
