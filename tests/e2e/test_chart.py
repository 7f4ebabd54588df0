"""The Helm chart against a real API server: what it renders is accepted (server-side
dry-run, so admission, schemas and RBAC escalation checks all run), and it installs."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from .conftest import CHART, KUBE_VERSION, OPERATOR_NS, RELEASE, SECRET, Cluster, Release

pytestmark = pytest.mark.cluster

CRDS = {
    "workspaces.modelarts.huaweicloud.com",
    "trainingjobs.modelarts.huaweicloud.com",
    "models.modelarts.huaweicloud.com",
    "services.modelarts.huaweicloud.com",
}

VALUE_SETS = {
    "defaults": [],
    "namespaced": [
        "--set",
        "scope=Namespaced",
        "--set",
        "watchNamespaces={team-a,team-b}",
        "--set",
        f"credentials.existingSecret={SECRET}",
    ],
    "ha-and-extras": [
        "--set",
        "replicaCount=2",
        "--set",
        "podDisruptionBudget.enabled=true",
        "--set",
        "argocdHealthChecks.enabled=true",
        "--set",
        "credentials.create=true",
        "--set",
        "credentials.ak=AKEXAMPLE",
        "--set",
        "credentials.sk=sk-example",
    ],
}


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_rendered_chart_is_accepted_by_the_api_server(cluster: Cluster, values: list[str]) -> None:
    for namespace in (OPERATOR_NS, "team-a", "team-b"):
        cluster.ensure_namespace(namespace)
    rendered = cluster.helm(
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        OPERATOR_NS,
        "--kube-version",
        KUBE_VERSION,
        # What the API server serves, so the ConfigMap admission policy renders too.
        "--api-versions",
        "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy",
        "--include-crds",
        *values,
    ).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    kinds = {d["kind"] for d in docs}
    assert {"CustomResourceDefinition", "Deployment", "ServiceAccount", "ClusterRole"} <= kinds
    assert "ValidatingAdmissionPolicy" in kinds
    # Custom resources whose CRD is in the same batch (the peering objects, Helm hooks that
    # run after the CRDs exist) cannot be dry-run together with it: check them separately.
    crd_kinds = {
        d["spec"]["names"]["kind"] for d in docs if d["kind"] == "CustomResourceDefinition"
    }
    first = [d for d in docs if d["kind"] not in crd_kinds]
    later = [d for d in docs if d["kind"] in crd_kinds]

    result = cluster.kubectl(
        "apply",
        "--dry-run=server",
        "-f",
        "-",
        input=yaml.safe_dump_all(first),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    accepted = [line for line in result.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(accepted) == len(first), result.stdout

    if later:
        # Install those CRDs for real, then dry-run the objects of their kinds.
        crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
        needed = [d for d in crds if d["spec"]["names"]["kind"] in {x["kind"] for x in later}]
        names = [f"crd/{d['metadata']['name']}" for d in needed]
        absent = cluster.kubectl("get", *names, check=False).returncode != 0
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(needed))
        try:
            cluster.wait_established(*names)
            result = cluster.kubectl(
                "apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(later), check=False
            )
            assert result.returncode == 0, result.stderr
            assert result.stdout.count("(server dry run)") == len(later), result.stdout
        finally:
            if absent:  # leave a foreign cluster as we found it
                cluster.kubectl("delete", *names, "--wait=false", check=False)


def test_a_value_the_schema_refuses_fails_before_anything_is_sent(cluster: Cluster) -> None:
    result = cluster.helm(
        "template",
        RELEASE,
        str(CHART),
        "--kube-version",
        KUBE_VERSION,
        "--set",
        "scope=Global",
        check=False,
    )
    assert result.returncode != 0
    assert "scope" in result.stderr


def test_helm_install_creates_the_operator_with_its_identity(
    cluster: Cluster, release: Release
) -> None:
    assert "STATUS: deployed" in release.install.stdout
    status = json.loads(cluster.helm("status", RELEASE, "-n", OPERATOR_NS, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"

    # The CRDs came with the chart and are served.
    crds = json.loads(cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
    established = {
        c["metadata"]["name"]
        for c in crds
        if any(
            x["type"] == "Established" and x["status"] == "True"
            for x in c.get("status", {}).get("conditions", [])
        )
    }
    assert established >= CRDS

    deployment = json.loads(
        cluster.kubectl("get", "deployment", RELEASE, "-n", OPERATOR_NS, "-o", "json").stdout
    )
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == RELEASE
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["MODELARTS_CREDENTIALS_SECRET"] == f"{OPERATOR_NS}/{SECRET}"
    assert "MODELARTS_NAMESPACES" not in env or not env["MODELARTS_NAMESPACES"]

    cluster.kubectl("get", "serviceaccount", RELEASE, "-n", OPERATOR_NS)
    binding = json.loads(cluster.kubectl("get", "clusterrolebinding", RELEASE, "-o", "json").stdout)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": RELEASE,
    }
    assert {"kind": "ServiceAccount", "name": RELEASE, "namespace": OPERATOR_NS} in binding[
        "subjects"
    ]

    if os.environ.get("E2E_IMAGE"):
        # A cluster with nodes runs the image: the pod starts and passes its probes.
        cluster.kubectl(
            "rollout",
            "status",
            f"deployment/{RELEASE}",
            "-n",
            OPERATOR_NS,
            "--timeout=180s",
            timeout=200,
        )
