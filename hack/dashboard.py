#!/usr/bin/env python3
"""Writes the chart's Grafana dashboard (helm/modelarts-operator/files/monitoring/dashboard.json)
from the panel list below: `python3 hack/dashboard.py` (stdlib only).

Every query reads a metric the operator exports (operator/modelarts_operator/metrics.py);
tests/unit/chart/test_monitoring.py fails when the file differs from what this writes, and the
integration test finds every metric named here in a running operator's /metrics. The
dashboard selects one installation through its variables (the Prometheus data source, the
operator's namespace and scrape job), so one file serves every release.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1] / "helm/modelarts-operator/files/monitoring/dashboard.json"
)
SEL = 'namespace="$namespace", job="$job"'
RATE = "$__rate_interval"


@dataclass
class Panel:
    title: str
    description: str
    targets: list[tuple[str, str]]  # (PromQL, legend)
    kind: str = "timeseries"  # timeseries | stat | table
    unit: str = "short"
    width: int = 12
    height: int = 8
    stack: bool = False
    # (color, from value) steps; the first one's value is None (from minus infinity).
    thresholds: list[tuple[str, float | None]] = field(default_factory=list)


ROWS: list[tuple[str, list[Panel]]] = [
    (
        "Overview",
        [
            Panel(
                "Replicas acting",
                "Replicas reporting modelarts_leader 1: the one holding the leader Lease (or the "
                "only one). 0 means nothing is reconciled; more than 1 must never happen.",
                [(f"sum(modelarts_leader{{{SEL}}})", "acting")],
                kind="stat",
                width=4,
                height=4,
                thresholds=[("red", None), ("green", 1), ("red", 2)],
            ),
            Panel(
                "Replicas scraped",
                "Replicas whose /metrics answered (standbys included).",
                [(f"count(modelarts_leader{{{SEL}}})", "scraped")],
                kind="stat",
                width=4,
                height=4,
            ),
            Panel(
                "Objects",
                "Objects of the five kinds the acting replica watches.",
                [(f"sum(modelarts_objects{{{SEL}}})", "objects")],
                kind="stat",
                width=4,
                height=4,
            ),
            Panel(
                "Objects not Synced",
                "Objects whose Synced condition is not True (any reason, Paused included).",
                [(f"sum(modelarts_objects_not_synced{{{SEL}}}) or vector(0)", "not synced")],
                kind="stat",
                width=4,
                height=4,
                thresholds=[("green", None), ("orange", 1)],
            ),
            Panel(
                "ModelArts calls/s",
                "Calls to the ModelArts, IAM and DataArts APIs per second.",
                [(f"sum(rate(modelarts_api_calls_total{{{SEL}}}[{RATE}]))", "calls/s")],
                kind="stat",
                unit="reqps",
                width=4,
                height=4,
            ),
            Panel(
                "ModelArts calls failing",
                "Share of calls answered 5xx or not at all (code error).",
                [
                    (
                        f'sum(rate(modelarts_api_calls_total{{{SEL}, code=~"5..|error"}}[{RATE}]))'
                        f" / sum(rate(modelarts_api_calls_total{{{SEL}}}[{RATE}]))",
                        "failing",
                    )
                ],
                kind="stat",
                unit="percentunit",
                width=4,
                height=4,
                thresholds=[("green", None), ("orange", 0.01), ("red", 0.05)],
            ),
        ],
    ),
    (
        "Objects",
        [
            Panel(
                "Objects by kind and phase",
                "The phase each object's status shows (Pending: none yet).",
                [(f"sum by (kind, phase) (modelarts_objects{{{SEL}}})", "{{kind}} {{phase}}")],
                stack=True,
            ),
            Panel(
                "Objects not Synced by reason",
                "Synced=False by reason: a ModelArts error code or InvalidSpec (the spec was "
                "refused), AuthFailed / CredentialsError (credentials), Throttled / ServerError / "
                "TransportError (retried), NameTaken, Paused; Unknown: no verdict yet.",
                [
                    (
                        f"sum by (kind, reason) (modelarts_objects_not_synced{{{SEL}}})",
                        "{{kind}} {{reason}}",
                    )
                ],
                stack=True,
            ),
            Panel(
                "Not Synced, by namespace",
                "Which namespaces (teams) have objects that are not Synced, and why.",
                [
                    (
                        "sum by (object_namespace, kind, reason) "
                        f"(modelarts_objects_not_synced{{{SEL}}})",
                        "",
                    )
                ],
                kind="table",
            ),
            Panel(
                "Reconciles by result",
                "Reconciles per second by kind and result: ok, or the reason it ended with.",
                [
                    (
                        "sum by (kind, result) "
                        f"(rate(modelarts_reconciles_total{{{SEL}}}[{RATE}]))",
                        "{{kind}} {{result}}",
                    )
                ],
                unit="ops",
            ),
        ],
    ),
    (
        "ModelArts API",
        [
            Panel(
                "Calls by endpoint and code",
                "HTTP status of each call (error: no answer - connection, TLS or timeout).",
                [
                    (
                        "sum by (endpoint, code) "
                        f"(rate(modelarts_api_calls_total{{{SEL}}}[{RATE}]))",
                        "{{endpoint}} {{code}}",
                    )
                ],
                unit="reqps",
            ),
            Panel(
                "Failing, throttled and refused calls",
                "Shares of all calls: 5xx or no answer; 429 (throttled: the operator backs off); "
                "401/403 (credentials or permissions).",
                [
                    (
                        f'sum(rate(modelarts_api_calls_total{{{SEL}, code=~"5..|error"}}[{RATE}]))'
                        f" / sum(rate(modelarts_api_calls_total{{{SEL}}}[{RATE}]))",
                        "5xx / no answer",
                    ),
                    (
                        f'sum(rate(modelarts_api_calls_total{{{SEL}, code="429"}}[{RATE}]))'
                        f" / sum(rate(modelarts_api_calls_total{{{SEL}}}[{RATE}]))",
                        "throttled (429)",
                    ),
                    (
                        f'sum(rate(modelarts_api_calls_total{{{SEL}, code=~"401|403"}}[{RATE}]))'
                        f" / sum(rate(modelarts_api_calls_total{{{SEL}}}[{RATE}]))",
                        "refused (401/403)",
                    ),
                ],
                unit="percentunit",
            ),
            Panel(
                "Call latency (p50, p95, p99)",
                "Latency of ModelArts calls by endpoint.",
                [
                    (
                        f"histogram_quantile({q}, sum by (le, endpoint) "
                        f"(rate(modelarts_api_call_seconds_bucket{{{SEL}}}[{RATE}])))",
                        f"{{{{endpoint}}}} p{round(q * 100)}",
                    )
                    for q in (0.5, 0.95, 0.99)
                ],
                unit="s",
            ),
            Panel(
                "API clients",
                "ModelArts clients (one per credentials and project): open, retiring after a "
                "rotated Secret, closed so far.",
                [(f"sum by (state) (modelarts_api_clients{{{SEL}}})", "{{state}}")],
            ),
        ],
    ),
    (
        "Polling",
        [
            Panel(
                "Poll cycles per minute",
                "Batched list walks per kind (one walk covers every object of a kind and "
                "credentials); none while nothing of the kind needs polling.",
                [
                    (
                        f"sum by (kind) (rate(modelarts_poll_cycles_total{{{SEL}}}[{RATE}])) * 60",
                        "{{kind}}",
                    )
                ],
                width=8,
            ),
            Panel(
                "Poll cycle duration (p95)",
                "How long one turn of each kind's poll loop takes: how far behind the remote "
                "state an object's status can be, beyond the poll period.",
                [
                    (
                        "histogram_quantile(0.95, sum by (le, kind) "
                        f"(rate(modelarts_poll_cycle_seconds_bucket{{{SEL}}}[{RATE}])))",
                        "{{kind}}",
                    )
                ],
                unit="s",
                width=8,
            ),
            Panel(
                "Status patches and conflicts",
                "Status patches the poller wrote (only changed objects are patched) and those "
                "refused because the object had changed meanwhile (re-read and retried).",
                [
                    (
                        f"sum by (kind) (rate(modelarts_status_patches_total{{{SEL}}}[{RATE}]))",
                        "{{kind}} patches",
                    ),
                    (
                        f"sum by (kind) (rate(modelarts_status_conflicts_total{{{SEL}}}[{RATE}]))",
                        "{{kind}} conflicts",
                    ),
                ],
                unit="ops",
                width=8,
            ),
        ],
    ),
    (
        "Credentials",
        [
            Panel(
                "Temporary credentials obtained",
                "Keyless credentials fetched per hour by mechanism (oidc, pod-identity, "
                "ecs-metadata, agency) and result: failed ones are retried; see the alert "
                "ModelArtsCredentialsExpiring.",
                [
                    (
                        "sum by (mechanism, result) "
                        f"(rate(modelarts_credential_refreshes_total{{{SEL}}}[{RATE}])) * 3600",
                        "{{mechanism}} {{result}}",
                    )
                ],
            ),
            Panel(
                "Time until temporary credentials expire",
                "The soonest expiry per mechanism; the operator renews 40 minutes ahead, so a "
                "line below that has not been renewed.",
                [
                    (
                        f"min by (mechanism) (modelarts_credentials_expiry_seconds{{{SEL}}})",
                        "{{mechanism}}",
                    )
                ],
                unit="s",
            ),
        ],
    ),
    (
        "Replicas",
        [
            Panel(
                "Acting replica",
                "modelarts_leader per pod: which replica holds the Lease over time (a hand-over "
                "shows as a step from one pod to another).",
                [(f"max by (pod) (modelarts_leader{{{SEL}}})", "{{pod}}")],
                width=8,
            ),
            Panel(
                "Resident memory",
                "Each replica's RSS: the acting one holds every watched object (about 50-100 KB "
                "each, docs/benchmarks.md); compare with the chart's resources.limits.memory.",
                [(f"max by (pod) (process_resident_memory_bytes{{{SEL}}})", "{{pod}}")],
                unit="bytes",
                width=8,
            ),
            Panel(
                "CPU",
                "Each replica's CPU use, as a share of one core.",
                [(f"max by (pod) (rate(process_cpu_seconds_total{{{SEL}}}[{RATE}]))", "{{pod}}")],
                unit="percentunit",
                width=8,
            ),
        ],
    ),
]


def _panel(panel: Panel, ident: int, x: int, y: int) -> dict[str, object]:
    steps: list[tuple[str, float | None]] = panel.thresholds or [("green", None)]
    defaults: dict[str, object] = {
        "unit": panel.unit,
        "thresholds": {
            "mode": "absolute",
            "steps": [{"color": color, "value": value} for color, value in steps],
        },
    }
    out: dict[str, object] = {
        "id": ident,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "expr": expr,
                "legendFormat": legend or "__auto",
                **({"instant": True, "format": "table"} if panel.kind == "table" else {}),
            }
            for i, (expr, legend) in enumerate(panel.targets)
        ],
    }
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "stacking": {"mode": "normal" if panel.stack else "none"},
            "fillOpacity": 20 if panel.stack else 0,
        }
        out["options"] = {"legend": {"displayMode": "table", "placement": "right"}}
    return out


def dashboard() -> dict[str, object]:
    panels: list[dict[str, object]] = []
    y, ident = 0, 1
    for title, row in ROWS:
        panels.append(
            {"id": ident, "type": "row", "title": title, "collapsed": False,
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}
        )  # fmt: skip
        ident, y, x, tallest = ident + 1, y + 1, 0, 0
        for panel in row:
            if x + panel.width > 24:
                x, y, tallest = 0, y + tallest, 0
            panels.append(_panel(panel, ident, x, y))
            ident, x, tallest = ident + 1, x + panel.width, max(tallest, panel.height)
        y += tallest
    variables = [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus"},
        _query_variable("namespace", "Namespace", "label_values(modelarts_leader, namespace)"),
        _query_variable(
            "job", "Job", 'label_values(modelarts_leader{namespace="$namespace"}, job)'
        ),
    ]
    return {
        "uid": "modelarts-operator",
        "title": "ModelArts operator",
        "description": "Objects by phase and Synced reason, ModelArts API calls, errors, "
        "throttling and latency, polling, and the acting replica (chart modelarts-operator).",
        "tags": ["modelarts", "operator"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables},
        "panels": panels,
    }


def _query_variable(name: str, label: str, query: str) -> dict[str, object]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "query": {"query": query, "refId": name},
        "definition": query,
        "refresh": 2,
        "sort": 1,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=1) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if OUT.read_text() == render() else 1)
    OUT.write_text(render())
    print(f"wrote {OUT}")
