"""The chart's Grafana dashboard and alerting rules, judged by the real tools: promtool (built
by `make tools` from the Prometheus Go module) checks the rendered rules and runs the unit
tests of every alert (alerts_test.yaml); every metric either names is one the operator
declares (the integration test finds each in a live /metrics)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.chart._helm import CHART, ROOT, by_kind, one
from tests.unit.chart.conftest import Render

HERE = Path(__file__).parent
DASHBOARD = CHART / "files" / "monitoring" / "dashboard.json"
METRIC = re.compile(r"\b((?:modelarts|process|python)_[a-z_]+)\b")
HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")


def metric_names(expr: str) -> set[str]:
    """The metric families a PromQL expression reads (histogram series folded to their
    family: ``x_bucket`` is ``x``)."""
    names = set()
    for name in METRIC.findall(expr):
        for suffix in HISTOGRAM_SERIES:
            if name.endswith("_seconds" + suffix):
                name = name.removesuffix(suffix)
        names.add(name)
    return names


def rule_exprs(rules: dict[str, Any]) -> list[str]:
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return exprs


def referenced_metrics() -> set[str]:
    """Every metric family the chart's dashboard and alerts read, with the defaults rendered.
    (Used by the integration test against a live /metrics too.)"""
    rules = yaml.safe_load((CHART / "files" / "monitoring" / "alerts.yaml").read_text())
    dashboard = json.loads(DASHBOARD.read_text())
    return {m for e in rule_exprs(rules) + dashboard_exprs(dashboard) for m in metric_names(e)}


def rendered_rules(render: Render, **values: Any) -> dict[str, Any]:
    objects = render({"metrics": {"prometheusRule": {"enabled": True, **values}}})
    spec: dict[str, Any] = one(objects, "PrometheusRule")["spec"]
    return spec


def test_monitoring_objects_are_off_by_default(render: Render) -> None:
    objects = render()
    assert by_kind(objects, "PrometheusRule") == []
    assert not [
        o for o in by_kind(objects, "ConfigMap") if o["metadata"]["name"].endswith("-dashboard")
    ]


def test_promtool_checks_the_rendered_rules(render: Render, promtool: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rendered_rules(render)))
    proc = subprocess.run(
        [str(promtool), "check", "rules", str(rules)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 8 rules found" in proc.stdout


def test_promtool_check_catches_a_broken_rule(promtool: Path, tmp_path: Path) -> None:
    """Guards the check above against a promtool that accepts anything."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "rate(x[5m]"}]}]})
    )
    proc = subprocess.run(
        [str(promtool), "check", "rules", str(rules)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0


def run_unit_tests(render: Render, promtool: Path, tmp_path: Path, cases: dict[str, Any]) -> str:
    """promtool test rules on ``cases`` against the rendered rules; each expected alert gets
    its rule's runbook text (it has no templating, so it is compared verbatim)."""
    rules = rendered_rules(render)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    runbooks = {
        r["alert"]: r["annotations"]["runbook"] for g in rules["groups"] for r in g["rules"]
    }
    for test in cases["tests"]:
        for check in test["alert_rule_test"]:
            for alert in check["exp_alerts"]:
                alert["exp_annotations"]["runbook"] = runbooks[check["alertname"]]
    (tmp_path / "alerts_test.yaml").write_text(yaml.safe_dump(cases))
    proc = subprocess.run(
        [str(promtool), "test", "rules", str(tmp_path / "alerts_test.yaml")],
        capture_output=True, text=True, check=False, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_promtool_unit_tests_of_every_alert_pass(
    render: Render, promtool: Path, tmp_path: Path
) -> None:
    cases = yaml.safe_load((HERE / "alerts_test.yaml").read_text())
    output = run_unit_tests(render, promtool, tmp_path, cases)
    assert "SUCCESS" in output
    rules = rendered_rules(render)
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    fired = {
        check["alertname"]
        for test in cases["tests"]
        for check in test["alert_rule_test"]
        if check["exp_alerts"]
    }
    silent = {
        check["alertname"]
        for test in cases["tests"]
        for check in test["alert_rule_test"]
        if not check["exp_alerts"]
    }
    assert fired == alerts, "every alert is shown firing"
    assert silent == alerts, "and shown silent where it must not fire"


def test_promtool_unit_tests_fail_on_a_wrong_expectation(
    render: Render, promtool: Path, tmp_path: Path
) -> None:
    """Guards the test above: an expected alert that does not fire fails the run."""
    cases = yaml.safe_load((HERE / "alerts_test.yaml").read_text())
    first = cases["tests"][0]["alert_rule_test"][0]
    first["exp_alerts"] = [{"exp_labels": {"severity": "critical"}, "exp_annotations": {}}]
    with pytest.raises(AssertionError, match="FAILED"):
        run_unit_tests(render, promtool, tmp_path, cases)


def test_every_alert_has_a_severity_summary_description_and_runbook(render: Render) -> None:
    for group in rendered_rules(render)["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
            annotations = rule["annotations"]
            assert {"summary", "description", "runbook"} <= annotations.keys(), rule["alert"]
            assert len(annotations["runbook"]) > 200, f"{rule['alert']}: a runbook says what to do"
            assert "__" not in json.dumps(rule), f"{rule['alert']}: a placeholder was left"


def test_rule_values_reach_the_expressions(render: Render) -> None:
    rules = rendered_rules(
        render,
        selector='job="ma", cluster="eu"',
        notSyncedFor="2h",
        pollStalledFor="30m",
        apiErrorRatio=0.2,
        apiThrottleRatio=0.5,
    )
    by_name = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    for rule in by_name.values():
        assert 'job="ma", cluster="eu"' in rule["expr"]
        assert "namespace=" not in rule["expr"]
    assert by_name["ModelArtsObjectsNotSynced"]["for"] == "2h"
    assert "[30m]" in by_name["ModelArtsPollingStalled"]["expr"]
    assert by_name["ModelArtsAPIErrors"]["expr"].endswith("> 0.2")
    assert by_name["ModelArtsAPIThrottled"]["expr"].endswith("> 0.5")


def test_the_rule_carries_the_labels_prometheus_selects_by(render: Render) -> None:
    objects = render(
        {"metrics": {"prometheusRule": {"enabled": True, "labels": {"release": "kps"}}}}
    )
    rule = one(objects, "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kps"
    assert rule["metadata"]["namespace"] == "modelarts-system"


def test_dashboard_configmap_has_the_sidecar_label_and_the_dashboard(render: Render) -> None:
    objects = render(
        {"metrics": {"dashboard": {"enabled": True, "namespace": "grafana",
                                   "annotations": {"grafana_folder": "Operators"}}}}
    )  # fmt: skip
    (config_map,) = [
        o for o in by_kind(objects, "ConfigMap") if o["metadata"]["name"].endswith("-dashboard")
    ]
    meta = config_map["metadata"]
    assert meta["labels"]["grafana_dashboard"] == "1"
    assert meta["namespace"] == "grafana"
    assert meta["annotations"] == {"grafana_folder": "Operators"}
    (body,) = config_map["data"].values()
    assert json.loads(body) == json.loads(DASHBOARD.read_text())


def test_dashboard_file_is_what_hack_dashboard_writes() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "dashboard.py"), "--check"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, "run `python3 hack/dashboard.py` and commit the result"


def test_dashboard_panels_query_one_installation_and_fit_the_grid() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert names == ["datasource", "namespace", "job"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["description"], panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        for target in panel["targets"]:
            assert 'namespace="$namespace", job="$job"' in target["expr"], panel["title"]
            assert metric_names(target["expr"]), panel["title"]


def test_every_metric_the_dashboard_and_alerts_read_is_declared() -> None:
    """Against the operator's own declarations; tests/integration/test_metrics_scrape.py
    checks the same names against a running operator."""
    from modelarts_operator.metrics import DECLARED

    # prometheus_client's own collectors come with every registry (metrics.py).
    collected = {"process_resident_memory_bytes", "process_cpu_seconds_total"}
    assert referenced_metrics() - set(DECLARED) - collected == set()
    # Everything the alerts need to be useful is among them.
    assert {
        "modelarts_leader",
        "modelarts_objects_not_synced",
        "modelarts_poll_cycle_seconds",
        "modelarts_api_calls_total",
        "modelarts_credentials_expiry_seconds",
    } <= referenced_metrics()


def test_the_reasons_the_alerts_name_are_in_the_operators_vocabulary() -> None:
    """A reason renamed in reasons.py must not leave an alert matching nothing."""
    from modelarts_operator import reasons

    text = (CHART / "files" / "monitoring" / "alerts.yaml").read_text()
    named = {
        name for matcher in re.findall(r'reason[!=]~"([^"]+)"', text) for name in matcher.split("|")
    }
    assert named == {"Paused", "AuthFailed", "CredentialsError"}
    assert all(reasons.is_known(name) for name in named)
