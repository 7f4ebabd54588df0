"""The Helm chart, rendered by the pinned helm: lint, both RBAC scopes, both credential
sources, the hardened pod, the probes, and the operator's environment contract
(briefs/contracts.md, "Operator runtime")."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.reconcile.kinds import rbac_rules
from modelarts_operator.resources import KINDS as DECLARED_KINDS
from tests.unit.chart._helm import (
    CHART,
    NAMESPACE,
    ROOT,
    by_kind,
    container,
    env_of,
    one,
    run_template,
)

Render = Callable[..., list[dict[str, Any]]]

GROUP = "modelarts.huaweicloud.com"
KINDS = [kind.plural for kind in DECLARED_KINDS]
NAMESPACED = {"scope": "Namespaced", "watchNamespaces": ["team-a", "team-b"]}
AKSK = {"create": True, "ak": "AKEXAMPLE", "sk": "sk-example-value"}

# Every rule the operator may get, as (apiGroup, resource) -> verbs. Anything else rendered
# into a Role/ClusterRole is a test failure: least privilege is checked, not assumed.
# Taken from the kinds' declarations: a kind whose rules the chart lacks fails here.
NAMESPACED_RULES: dict[tuple[str, str], set[str]] = {
    key: set(verbs) for key, verbs in rbac_rules(DECLARED_KINDS).items()
}
CLUSTER_ONLY_RULES: dict[tuple[str, str], set[str]] = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list", "watch"},
    ("", "namespaces"): {"get", "list", "watch"},
}

CONTRACT_ENV = {
    "MODELARTS_REGION",
    "MODELARTS_ENDPOINT",
    "MODELARTS_IAM_ENDPOINT",
    "MODELARTS_PROJECT_ID",
    "MODELARTS_CREDENTIALS_SECRET",
    "MODELARTS_CA_BUNDLE",
    "MODELARTS_NAMESPACES",
    "MODELARTS_POLL_ACTIVE_SECONDS",
    "MODELARTS_POLL_SETTLED_SECONDS",
    "MODELARTS_API_QPS",
    "MODELARTS_API_BURST",
    "MODELARTS_METRICS_PORT",
    "MODELARTS_HEALTH_PORT",
    "MODELARTS_LEADER_ELECTION",
    "MODELARTS_LEADER_ELECTION_LEASE",
    "MODELARTS_LEADER_ELECTION_LEASE_SECONDS",
    "MODELARTS_LOG_FORMAT",
}


def rules_of(role: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """Flatten a Role's rules to (group, resource) -> verbs; no two rules may overlap."""
    flat: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                key = (group, resource)
                assert key not in flat, f"{key} granted twice in {role['metadata']['name']}"
                flat[key] = set(rule["verbs"])
    return flat


def all_rules(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for o in objects if o["kind"] in ("Role", "ClusterRole") for r in o["rules"]]


LEADER = "-leader-election"


def tenant_roles(objects: list[dict[str, Any]], kind: str = "Role") -> list[dict[str, Any]]:
    """Roles (or RoleBindings) for the watched resources, not the leader-election Lease's."""
    return [o for o in by_kind(objects, kind) if not o["metadata"]["name"].endswith(LEADER)]


# --- lint -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {},
        {**NAMESPACED, "credentials": AKSK, "replicaCount": 2},
    ],
    ids=["defaults", "namespaced-two-replicas"],
)
def test_helm_lint_strict_is_clean(helm: Path, tmp_path: Path, values: dict[str, Any]) -> None:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    proc = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART), "--namespace", NAMESPACE,
         "--kube-version", "1.34.4", "--values", str(values_file)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "[WARNING]" not in output
    assert "[ERROR]" not in output
    assert "0 chart(s) failed" in output


# --- RBAC -------------------------------------------------------------------------------


def test_cluster_scope_grants_exactly_the_contract_in_one_cluster_role(render: Render) -> None:
    objects = render()
    assert tenant_roles(objects) == []
    assert tenant_roles(objects, "RoleBinding") == []
    role = one(objects, "ClusterRole")
    assert rules_of(role) == {**CLUSTER_ONLY_RULES, **NAMESPACED_RULES}
    binding = one(objects, "ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    sa = one(objects, "ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa["name"], "namespace": NAMESPACE}
    ]
    assert container_sa(objects) == sa["name"]
    assert env_of(objects)["MODELARTS_NAMESPACES"] == ""


def container_sa(objects: list[dict[str, Any]]) -> str:
    name: str = one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
    return name


def test_namespaced_scope_binds_a_role_in_each_watched_namespace(render: Render) -> None:
    objects = render({**NAMESPACED})
    cluster_role = one(objects, "ClusterRole")
    assert rules_of(cluster_role) == CLUSTER_ONLY_RULES
    roles = {r["metadata"]["namespace"]: r for r in tenant_roles(objects)}
    assert set(roles) == {"team-a", "team-b"}
    for namespace, role in roles.items():
        assert rules_of(role) == NAMESPACED_RULES, namespace
    bindings = {b["metadata"]["namespace"]: b for b in tenant_roles(objects, "RoleBinding")}
    assert set(bindings) == {"team-a", "team-b"}
    sa = one(objects, "ServiceAccount")["metadata"]["name"]
    for binding in bindings.values():
        assert binding["roleRef"]["kind"] == "Role"
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": sa, "namespace": NAMESPACE}
        ]
    assert env_of(objects)["MODELARTS_NAMESPACES"] == "team-a,team-b"


def test_namespaced_scope_reads_only_the_named_default_secret_outside_its_namespaces(
    render: Render,
) -> None:
    objects = render({**NAMESPACED, "credentials": {"existingSecret": "modelarts-creds"}})
    extra = [r for r in tenant_roles(objects) if r["metadata"]["namespace"] == NAMESPACE]
    assert len(extra) == 1
    assert extra[0]["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["modelarts-creds"],
            "verbs": ["get", "list", "watch"],
        }
    ]
    # When the release namespace is itself watched, its Role already covers the Secret.
    watched = {"scope": "Namespaced", "watchNamespaces": [NAMESPACE]}
    objects = render({**watched, "credentials": {"existingSecret": "modelarts-creds"}})
    assert [r["metadata"]["namespace"] for r in tenant_roles(objects)] == [NAMESPACE]


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"replicaCount": 2},
        {**NAMESPACED, "replicaCount": 3},
        {**NAMESPACED, "credentials": {"existingSecret": "creds"}},
    ],
    ids=["cluster", "cluster-replicas", "namespaced-replicas", "namespaced-secret"],
)
def test_rbac_has_no_wildcards(render: Render, values: dict[str, Any]) -> None:
    rules = all_rules(render(values))
    assert rules
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs"):
            assert all("*" not in item for item in rule[field]), rule
        assert not {"escalate", "bind", "impersonate", "deletecollection"} & set(rule["verbs"])
        assert "nonResourceURLs" not in rule


def test_secrets_are_read_only_and_nothing_is_deleted(render: Render) -> None:
    for rule in all_rules(render()):
        writes = {"create", "update", "patch", "delete"} & set(rule["verbs"])
        if "secrets" in rule["resources"]:
            assert not writes
        assert "delete" not in rule["verbs"], rule


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({}, ["modelarts-credentials"]),
        ({"credentials": {"existingSecret": "ops-creds"}}, ["modelarts-credentials", "ops-creds"]),
        (
            {"credentials": {"existingSecret": "", "namespaceSecretNames": ["a", "b"]}},
            ["a", "b"],
        ),
        ({"credentials": {"existingSecret": "", "namespaceSecretNames": []}}, None),
        (
            {**NAMESPACED, "credentials": {"existingSecret": "", "namespaceSecretNames": ["t"]}},
            ["t"],
        ),
    ],
    ids=["default", "default-secret", "names", "none", "namespaced"],
)
def test_secrets_are_readable_only_by_name(
    render: Render, values: dict[str, Any], names: list[str] | None
) -> None:
    """An RBAC rule without resourceNames would grant every Secret in its scope."""
    objects = render(values)
    rules = [r for r in all_rules(objects) if "secrets" in r["resources"]]
    if names is None:
        assert rules == []
        return
    assert rules
    for rule in rules:
        assert rule["resourceNames"] == names or rule["resourceNames"] == names[-1:], rule
    env = env_of(objects)
    assert env.get("MODELARTS_CREDENTIALS_SECRET_NAMES", "").split(",") == (
        values.get("credentials", {}).get("namespaceSecretNames", ["modelarts-credentials"]) or [""]
    )


def test_rbac_create_false_renders_no_rbac(render: Render) -> None:
    objects = render({"rbac": {"create": False}})
    for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
        assert by_kind(objects, kind) == []


def test_the_crds_are_templates_that_upgrade_and_survive_uninstall(render: Render) -> None:
    crds = by_kind(render(), "CustomResourceDefinition")
    assert sorted(c["spec"]["names"]["kind"] for c in crds) == sorted(
        k.crd.kind for k in DECLARED_KINDS
    )
    for crd in crds:
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert "helm.sh/hook" not in crd["metadata"]["annotations"]
    assert by_kind(render({"crds": {"install": False}}), "CustomResourceDefinition") == []


# --- leader election -----------------------------------------------------------------------


def test_leader_election_gets_one_lease_in_the_release_namespace(render: Render) -> None:
    for values in ({"replicaCount": 2}, {**NAMESPACED, "replicaCount": 2}):
        objects = render(values)
        role = next(r for r in by_kind(objects, "Role") if r["metadata"]["name"].endswith(LEADER))
        assert role["metadata"]["namespace"] == NAMESPACE
        lease = "modelarts-operator"
        assert role["rules"] == [
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "resourceNames": [lease],
                "verbs": ["get", "update"],
            },
        ]
        binding = next(
            b for b in by_kind(objects, "RoleBinding") if b["metadata"]["name"].endswith(LEADER)
        )
        assert binding["roleRef"]["name"] == role["metadata"]["name"]
        env = env_of(objects)
        assert env["MODELARTS_LEADER_ELECTION"] == "true"
        assert env["MODELARTS_LEADER_ELECTION_LEASE"] == lease
        operator_env = {e["name"]: e for e in container(objects)["env"]}
        # namespace and identity come from the pod itself (downward API)
        assert operator_env["MODELARTS_LEADER_ELECTION_NAMESPACE"]["valueFrom"] == {
            "fieldRef": {"fieldPath": "metadata.namespace"}
        }
        assert operator_env["MODELARTS_LEADER_ELECTION_IDENTITY"]["valueFrom"] == {
            "fieldRef": {"fieldPath": "metadata.name"}
        }
        deployment = one(objects, "Deployment")
        assert deployment["spec"]["replicas"] == 2
        # old and new pods may overlap: the new one stands by until the old one releases
        assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
        for rule in all_rules(objects):
            assert "kopf.dev" not in rule["apiGroups"]  # no kopf peering any more


def test_without_leader_election_one_pod_and_never_two_at_once(render: Render) -> None:
    objects = render({"leaderElection": {"enabled": False}})
    assert env_of(objects)["MODELARTS_LEADER_ELECTION"] == "false"
    assert one(objects, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    assert [r for r in by_kind(objects, "Role") if r["metadata"]["name"].endswith(LEADER)] == []


def test_lease_name_and_duration_are_values(render: Render) -> None:
    objects = render({"leaderElection": {"leaseName": "ma-lease", "leaseSeconds": 30}})
    env = env_of(objects)
    assert env["MODELARTS_LEADER_ELECTION_LEASE"] == "ma-lease"
    assert env["MODELARTS_LEADER_ELECTION_LEASE_SECONDS"] == "30"


# --- credentials ------------------------------------------------------------------------


def test_existing_secret_is_referenced_by_name_and_not_created(render: Render) -> None:
    objects = render({"credentials": {"existingSecret": "modelarts-creds"}})
    assert by_kind(objects, "Secret") == []
    assert env_of(objects)["MODELARTS_CREDENTIALS_SECRET"] == f"{NAMESPACE}/modelarts-creds"


def test_created_aksk_secret_has_the_contract_keys(render: Render) -> None:
    objects = render({"credentials": {**AKSK, "securityToken": "tok"}})
    secret = one(objects, "Secret")
    assert secret["stringData"] == {
        "ak": "AKEXAMPLE",
        "sk": "sk-example-value",
        "securityToken": "tok",
    }
    name = secret["metadata"]["name"]
    assert env_of(objects)["MODELARTS_CREDENTIALS_SECRET"] == f"{NAMESPACE}/{name}"


def test_created_password_secret_has_the_contract_keys(render: Render) -> None:
    creds = {"create": True, "username": "u", "password": "p@ss", "domain": "d"}
    secret = one(render({"credentials": creds}), "Secret")
    assert secret["stringData"] == {"username": "u", "password": "p@ss", "domain": "d"}


def test_secret_values_never_reach_the_deployment(render: Render) -> None:
    objects = render({"credentials": AKSK})
    deployment = yaml.safe_dump(one(objects, "Deployment"))
    assert "sk-example-value" not in deployment
    assert "AKEXAMPLE" not in deployment


def test_no_credentials_leaves_the_variable_unset(render: Render) -> None:
    assert "MODELARTS_CREDENTIALS_SECRET" not in env_of(render())


@pytest.mark.parametrize(
    "credentials",
    [
        {**AKSK, "existingSecret": "also-this"},
        {"create": True},
        {"create": True, "ak": "a"},
        {**AKSK, "username": "u", "password": "p", "domain": "d"},
    ],
    ids=["both-sources", "empty", "ak-without-sk", "both-kinds"],
)
def test_ambiguous_credentials_are_refused(
    render_error: Callable[..., str], credentials: dict[str, Any]
) -> None:
    assert "credentials" in render_error({"credentials": credentials})


# --- pod ----------------------------------------------------------------------------------


def test_pod_is_hardened(render: Render) -> None:
    objects = render()
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container(objects)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not pod.get("hostNetwork")
    assert not pod.get("hostPID")
    # A writable /tmp on a read-only root: an emptyDir.
    mounts = {m["mountPath"]: m["name"] for m in container(objects)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize(
    "override",
    [
        {"securityContext": {"readOnlyRootFilesystem": False}},
        {"securityContext": {"allowPrivilegeEscalation": True}},
        {"securityContext": {"privileged": True}},
        {"podSecurityContext": {"runAsNonRoot": False}},
    ],
)
def test_schema_refuses_weakening_the_security_context(
    render_error: Callable[..., str], override: dict[str, Any]
) -> None:
    assert "values don't meet the specifications of the schema" in render_error(override)


def test_operator_runs_the_run_subcommand_with_resources(render: Render) -> None:
    operator = container(render())
    assert operator["command"] == ["modelarts-operator"]
    assert operator["args"] == ["run"]
    assert operator["resources"]["requests"]["cpu"]
    assert operator["resources"]["limits"]["memory"]
    assert operator["image"] == "modelarts-operator:0.1.0"


def test_probes_use_kopfs_liveness_endpoint_on_8080(render: Render) -> None:
    operator = container(render())
    ports = {p["name"]: p["containerPort"] for p in operator["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    for probe in ("livenessProbe", "readinessProbe"):
        get = operator[probe]["httpGet"]
        assert get["path"] == "/healthz"
        assert ports[get["port"]] == 8080
    env = env_of(render())
    assert env["MODELARTS_HEALTH_PORT"] == "8080"
    assert env["MODELARTS_METRICS_PORT"] == "9090"


def test_moved_ports_move_probes_service_and_env_together(render: Render) -> None:
    objects = render({"ports": {"health": 18080, "metrics": 19090}})
    operator = container(objects)
    assert {p["name"]: p["containerPort"] for p in operator["ports"]} == {
        "health": 18080,
        "metrics": 19090,
    }
    assert operator["livenessProbe"]["httpGet"]["port"] == "health"
    assert one(objects, "Service")["spec"]["ports"][0]["targetPort"] == "metrics"
    env = env_of(objects)
    assert (env["MODELARTS_HEALTH_PORT"], env["MODELARTS_METRICS_PORT"]) == ("18080", "19090")


# --- the environment contract -------------------------------------------------------------


def test_every_contract_variable_is_set_from_values(render: Render) -> None:
    objects = render(
        {
            **NAMESPACED,
            "modelarts": {
                "region": "ap-southeast-1",
                "endpoint": "https://modelarts.example.test",
                "iamEndpoint": "https://iam.example.test",
                "projectId": "0123456789abcdef",
                "caBundle": {"configMapName": "corp-ca", "key": "bundle.pem"},
                "pollActiveSeconds": 5,
                "pollSettledSeconds": 120,
                "apiQps": 7.5,
                "apiBurst": 15,
            },
            "credentials": {"existingSecret": "creds"},
            "replicaCount": 2,
            "leaderElection": {"leaseName": "ma-lease"},
            "logFormat": "text",
        }
    )
    env = env_of(objects)
    assert set(env) >= CONTRACT_ENV
    assert {k: env[k] for k in sorted(CONTRACT_ENV)} == {
        "MODELARTS_API_BURST": "15",
        "MODELARTS_API_QPS": "7.5",
        "MODELARTS_CA_BUNDLE": "/etc/modelarts-operator/ca/bundle.pem",
        "MODELARTS_CREDENTIALS_SECRET": f"{NAMESPACE}/creds",
        "MODELARTS_ENDPOINT": "https://modelarts.example.test",
        "MODELARTS_HEALTH_PORT": "8080",
        "MODELARTS_IAM_ENDPOINT": "https://iam.example.test",
        "MODELARTS_LOG_FORMAT": "text",
        "MODELARTS_METRICS_PORT": "9090",
        "MODELARTS_NAMESPACES": "team-a,team-b",
        "MODELARTS_LEADER_ELECTION": "true",
        "MODELARTS_LEADER_ELECTION_LEASE": "ma-lease",
        "MODELARTS_LEADER_ELECTION_LEASE_SECONDS": "15",
        "MODELARTS_POLL_ACTIVE_SECONDS": "5",
        "MODELARTS_POLL_SETTLED_SECONDS": "120",
        "MODELARTS_PROJECT_ID": "0123456789abcdef",
        "MODELARTS_REGION": "ap-southeast-1",
    }
    # The CA bundle file named by the variable is mounted read-only from the ConfigMap.
    operator = container(objects)
    mount = next(
        m for m in operator["volumeMounts"] if m["mountPath"] == "/etc/modelarts-operator/ca"
    )
    assert mount["readOnly"] is True
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "corp-ca"
    assert volume["configMap"]["items"] == [{"key": "bundle.pem", "path": "bundle.pem"}]


def test_the_operators_settings_accept_the_rendered_environment(render: Render) -> None:
    """The chart and the operator agree: OperatorSettings parses what the chart sets."""
    settings_mod = pytest.importorskip("modelarts_operator.settings")
    env = env_of(render({**NAMESPACED, "credentials": {"existingSecret": "creds"}}))
    settings = settings_mod.OperatorSettings.from_env(env)
    assert settings.namespaces == ["team-a", "team-b"]
    assert settings.credentials_secret == f"{NAMESPACE}/creds"
    assert settings.health_port == 8080
    assert settings.metrics_port == 9090
    assert settings.leader_election is True
    unknown = {k for k in env if k.startswith("MODELARTS_")} - {
        "MODELARTS_" + name.upper() for name in settings_mod.OperatorSettings.model_fields
    }
    assert not unknown, f"the chart sets variables the operator does not read: {unknown}"


def test_resource_tags_reach_the_operator_as_default_tags(render: Render) -> None:
    settings_mod = pytest.importorskip("modelarts_operator.settings")
    assert "MODELARTS_DEFAULT_TAGS" not in env_of(render())
    tags = {"team": "ml", "cost center": "a=b c", "环境": "生产"}
    env = env_of(render({"resourceTags": tags}))
    assert settings_mod.OperatorSettings.from_env(env).default_tags == tags


@pytest.mark.parametrize(
    "tags",
    [
        {"k8s-owner": "x"},
        {"team": "v" * 256},
        {f"k{i}": "v" for i in range(11)},
        {"team": 1},
    ],
)
def test_schema_refuses_resource_tags_the_operator_would(
    render_error: Callable[..., str], tags: dict[str, Any]
) -> None:
    assert "schema" in render_error({"resourceTags": tags})


def test_extra_env_cannot_shadow_the_contract(render_error: Callable[..., str]) -> None:
    render_error({"extraEnv": [{"name": "MODELARTS_REGION", "value": "x"}]})


# --- scope and replicas validation ---------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"scope": "Namespaced"},
        {"scope": "Cluster", "watchNamespaces": ["a"]},
        {"scope": "Everywhere"},
        {"replicaCount": 2, "leaderElection": {"enabled": False}},
        {"unknownKey": True},
        {"modelarts": {"region": "cn-north-4", "endpoint": "not a url"}},
        {"logFormat": "xml"},
    ],
    ids=["ns-without-list", "cluster-with-list", "bad-scope", "replicas-no-election", "unknown",
         "bad-endpoint", "bad-log-format"],
)  # fmt: skip
def test_schema_refuses_inconsistent_values(
    render_error: Callable[..., str], values: dict[str, Any]
) -> None:
    assert "schema" in render_error(values)


# --- metrics, PDB, Argo CD ----------------------------------------------------------------


def test_metrics_service_and_service_monitor_target_9090(render: Render) -> None:
    objects = render({"metrics": {"serviceMonitor": {"enabled": True, "labels": {"r": "p"}}}})
    service = one(objects, "Service")
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
    ]
    pod_labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    monitor = one(objects, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["r"] == "p"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )


def test_pod_disruption_budget_selects_the_operator(render: Render) -> None:
    objects = render({"podDisruptionBudget": {"enabled": True}})
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in pdb["spec"]
    selector = one(objects, "Deployment")["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    objects = render(
        {"podDisruptionBudget": {"enabled": True, "minAvailable": 1, "maxUnavailable": None}}
    )
    assert one(objects, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert by_kind(render(), "PodDisruptionBudget") == []


def test_argocd_health_configmap_carries_the_lua_checks(render: Render) -> None:
    objects = render({"argocdHealthChecks": {"enabled": True, "namespace": "argocd"}})
    configmap = one(objects, "ConfigMap")
    assert configmap["metadata"]["namespace"] == "argocd"
    expected = {
        f"resource.customizations.health.{GROUP}_{kind}": (ROOT / "argocd" / "health.lua")
        .read_text()
        .strip()
        for kind in (declared.crd.kind for declared in DECLARED_KINDS)
    }
    assert {k: v.strip() for k, v in configmap["data"].items()} == expected
    assert by_kind(render(), "ConfigMap") == []


def test_every_namespaced_object_lands_in_the_release_namespace(render: Render) -> None:
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
    objects = render(
        {"credentials": AKSK, "replicaCount": 2, "podDisruptionBudget": {"enabled": True}}
    )
    for obj in objects:
        if obj["kind"] in cluster_scoped:
            assert "namespace" not in obj["metadata"], obj["kind"]
        else:
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["kind"]


def test_releases_that_split_the_namespaces_share_no_object(helm: Path, tmp_path: Path) -> None:
    """How a platform shards the load today (docs/benchmarks.md, "Where one process ends"):
    one release per group of namespaces, the CRDs from one of them. Helm refuses to install
    an object another release owns, and two operators on one Lease would take turns instead
    of running side by side, so the releases must not name the same object."""

    def objects(release: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        proc = run_template(helm, tmp_path, {"credentials": AKSK, **values}, release=release)
        assert proc.returncode == 0, proc.stderr
        return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]

    shard_a = objects("ma-shard-a", {"scope": "Namespaced", "watchNamespaces": ["team-a"]})
    shard_b = objects(
        "ma-shard-b",
        {"scope": "Namespaced", "watchNamespaces": ["team-b"], "crds": {"install": False}},
    )

    def names(objs: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        return {
            (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objs
        }

    assert names(shard_a) & names(shard_b) == set()
    assert len(by_kind(shard_a, "CustomResourceDefinition")) == len(KINDS)
    assert by_kind(shard_b, "CustomResourceDefinition") == []
    assert env_of(shard_a)["MODELARTS_NAMESPACES"] == "team-a"
    assert env_of(shard_b)["MODELARTS_NAMESPACES"] == "team-b"
    leases = {env_of(s)["MODELARTS_LEADER_ELECTION_LEASE"] for s in (shard_a, shard_b)}
    assert len(leases) == 2
