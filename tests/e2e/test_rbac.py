"""The chart's RBAC is enough and no more: the operator, authenticated as the chart's
ServiceAccount (Cluster scope), reconciles the example pipeline to Ready and deletes it again
without a single 403, while the same identity is refused what the role does not grant."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from modelarts_testbed.emulator import DEFAULT_AK, DEFAULT_SK, EmulatorConfig, Timings

from .conftest import (
    EXAMPLES,
    OPERATOR_NS,
    RELEASE,
    SECRET,
    Cluster,
    OperatorUnderTest,
    Release,
    condition,
    is_ready,
    run_as_service_account,
    secret_manifest,
)

pytestmark = pytest.mark.cluster

NS = "e2e-pipeline"
# (kind for kubectl, name) in dependency order; deleted in reverse.
PIPELINE = [
    ("workspace", "demo"),
    ("trainingjob", "mnist"),
    ("model", "mnist-v1"),
    ("masvc", "mnist"),
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from modelarts_testbed.emulator import run_emulator_in_thread

    timings = Timings(job_running=8.0, model_publishing=2.0, service_deploying=3.0, jitter=0.0)
    # The release's Secret holds the default emulator keys.
    config = EmulatorConfig(seed=11, speed=2.0, timings=timings)
    with run_emulator_in_thread(config) as handle:
        yield handle


@pytest.fixture(scope="module")
def operator_as_service_account(
    cluster: Cluster, release: Release, emulator: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorUnderTest]:
    with run_as_service_account(cluster, release, emulator, tmp_path_factory) as op:
        yield op


# An HTTP 403 as kopf and the kubernetes client report it ("Code: 403", "'code': 403",
# "(403)", "Forbidden"), but not the digits inside a timestamp (",403") or a number ("0.403").
# A 403 as a status code, not as part of a number or a quoted value (a resourceVersion '403'
# in a debug dump of an object flagged a clean run).
FORBIDDEN = re.compile(r"(?<![\w.,'\"])403(?!\w|\.\d)|forbidden", re.IGNORECASE)


def _forbidden_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if FORBIDDEN.search(line)]


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("WARNING kopf.objects: Failed to post an event. Code: 403. Message: nope", True),
        ("ERROR kopf: APIForbiddenError('events is forbidden: User ...')", True),
        ("ERROR x: (403) Reason: Forbidden", True),
        ("2026-01-01 00:00:00,403 DEBUG kopf.objects: Patching with: {}", False),
        ("DEBUG x: took 0.403 s; id 1403a", False),
        ("DEBUG kopf.objects: Deletion is in progress: {'resourceVersion': '403'}", False),
    ],
)
def test_the_403_detector(line: str, flagged: bool) -> None:
    assert bool(_forbidden_lines(line)) is flagged


def test_the_service_account_reconciles_the_pipeline_without_a_403(
    cluster: Cluster, operator_as_service_account: OperatorUnderTest
) -> None:
    op = operator_as_service_account
    cluster.ensure_namespace(NS)
    cluster.kubectl("apply", "-n", NS, "-f", str(EXAMPLES))

    for kind, name in PIPELINE:
        obj = cluster.wait_for(kind, name, NS, is_ready, timeout=90, context=op.tail)
        assert condition(obj, "Synced").get("status") == "True", (kind, name)
    svc = cluster.get("masvc", "mnist", NS)
    assert svc is not None
    url = svc["status"]["accessAddress"]
    assert url.startswith("http")
    # The exported ConfigMap: a create the role must allow.
    exported = cluster.wait_for(
        "configmap", "mnist-endpoint", NS, lambda o: o is not None, timeout=30, context=op.tail
    )
    assert exported is not None
    assert exported["data"]["accessAddress"] == url
    # Events for remote actions were posted (events: create/patch).
    events = cluster.kubectl("get", "events", "-n", NS, "-o", "name").stdout.split()
    assert events, "the operator posted no events"

    # Deleting runs the finalizers through the same identity: remote deletes, then finalizer
    # removal (patch) on every kind, in reverse dependency order.
    for kind, name in reversed(PIPELINE):
        cluster.kubectl("delete", kind, name, "-n", NS, "--wait=false")
        cluster.wait_for(kind, name, NS, lambda o: o is None, timeout=60, context=op.tail)

    assert op.proc.poll() is None, op.tail()
    assert _forbidden_lines(op.log()) == [], op.tail()
    if not cluster.local:  # leave a foreign cluster as we found it
        cluster.kubectl("delete", "namespace", NS, "--wait=false", check=False)


@pytest.mark.parametrize(
    ("verb", "args"),
    [
        ("delete a Secret", ["delete", "secret", SECRET, "-n", OPERATOR_NS]),
        ("list pods", ["get", "pods", "--all-namespaces"]),
        ("create a Deployment", ["create", "deployment", "x", "--image=x", "-n", OPERATOR_NS]),
        ("update a CRD", ["label", "crd", "models.modelarts.huaweicloud.com", "x=y"]),
        (
            "grant itself cluster-admin",
            [
                "create",
                "clusterrolebinding",
                "x",
                "--clusterrole=cluster-admin",
                f"--serviceaccount={OPERATOR_NS}:{RELEASE}",
            ],
        ),
    ],
)
def test_the_service_account_is_refused_outside_its_role(
    cluster: Cluster, release: Release, verb: str, args: list[str]
) -> None:
    """Least privilege: each of these would be harmless for the operator to lack, and
    dangerous for it to have."""
    kubeconfig = cluster.service_account_kubeconfig(OPERATOR_NS, release.service_account)
    result = cluster.kubectl(*args, kubeconfig=kubeconfig, check=False)
    assert result.returncode != 0, f"the operator's identity may {verb}: {result.stdout}"
    assert "forbidden" in result.stderr.lower(), result.stderr
    assert release.service_account in result.stderr


TENANT_NS = "e2e-tenant"


def test_the_service_account_reads_credentials_secrets_by_name_only(
    cluster: Cluster, release: Release
) -> None:
    """The chart grants the credentials Secret names and nothing else: an unrelated Secret,
    in the operator's namespace or a tenant's, is unreadable, and so is a listing of all."""
    kubeconfig = cluster.service_account_kubeconfig(OPERATOR_NS, release.service_account)
    cluster.ensure_namespace(TENANT_NS)
    for ns in (OPERATOR_NS, TENANT_NS):
        cluster.kubectl(
            "apply", "-f", "-", input=secret_manifest(ns, "unrelated", {"password": "x"})
        )
        denied = cluster.kubectl(
            "get", "secret", "unrelated", "-n", ns, kubeconfig=kubeconfig, check=False
        )
        assert denied.returncode != 0
        assert "forbidden" in denied.stderr.lower(), denied.stderr
    listing = cluster.kubectl("get", "secrets", "-A", kubeconfig=kubeconfig, check=False)
    assert "forbidden" in listing.stderr.lower(), listing.stdout
    # What the operator does use works: its Secret by name, and the watch by name.
    mine = cluster.kubectl("get", "secret", SECRET, "-n", OPERATOR_NS, kubeconfig=kubeconfig)
    assert SECRET in mine.stdout
    by_name = cluster.kubectl(
        "get", "secrets", "-A", f"--field-selector=metadata.name={SECRET}",
        kubeconfig=kubeconfig,
    )  # fmt: skip
    assert SECRET in by_name.stdout
    assert "unrelated" not in by_name.stdout


def test_the_service_account_cannot_overwrite_an_unrelated_configmap(
    cluster: Cluster, release: Release
) -> None:
    """exportTo may write the ConfigMap its Service owns; the API server refuses the
    operator's identity any change to one that no Service owns."""
    kubeconfig = cluster.service_account_kubeconfig(OPERATOR_NS, release.service_account)
    cluster.ensure_namespace(TENANT_NS)
    foreign = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app-settings", "namespace": TENANT_NS},
        "data": {"accessAddress": "http://the-real-one"},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(foreign))
    patch = json.dumps({"data": {"accessAddress": "http://attacker"}})
    for args in (
        ["patch", "configmap", "app-settings", "-n", TENANT_NS, "--type=merge", "-p", patch],
        ["delete", "configmap", "app-settings", "-n", TENANT_NS],
        ["get", "configmaps", "-A"],
    ):
        result = cluster.kubectl(*args, kubeconfig=kubeconfig, check=False)
        assert result.returncode != 0, f"the operator's identity may {args[0]}: {result.stdout}"
        assert "forbidden" in result.stderr.lower() or "denied" in result.stderr.lower()
    left = cluster.get("configmap", "app-settings", TENANT_NS) or {}
    assert left["data"] == {"accessAddress": "http://the-real-one"}

    # A ConfigMap a ModelArts Service controls is the operator's to patch.
    owned = {
        **foreign,
        "metadata": {
            "name": "svc-endpoint",
            "namespace": TENANT_NS,
            "ownerReferences": [
                {
                    "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
                    "kind": "Service",
                    "name": "svc",
                    "uid": "00000000-0000-0000-0000-000000000001",
                    "controller": True,
                }
            ],
        },
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(owned))
    cluster.kubectl(
        "patch", "configmap", "svc-endpoint", "-n", TENANT_NS, "--type=merge", "-p", patch,
        kubeconfig=kubeconfig,
    )  # fmt: skip


def test_an_unrelated_secret_causes_no_reconcile_and_the_right_one_does(
    cluster: Cluster, operator_as_service_account: OperatorUnderTest
) -> None:
    """The Secret watch is by name: a Secret the operator does not use changes nothing,
    while the credentials Secret a waiting object needs gets it going at once (not after
    the five-minute retry of a credentials error)."""
    op = operator_as_service_account
    ns = "e2e-late-secret"
    cluster.ensure_namespace(ns)
    cluster.kubectl(
        "annotate", "namespace", ns, "--overwrite",
        f"modelarts.huaweicloud.com/credentials-secret={SECRET}",
    )  # fmt: skip
    ws = {
        "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "late", "namespace": ns},
        "spec": {"description": "waits for its Secret"},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(ws))
    waiting = cluster.wait_for(
        "workspace", "late", ns,
        lambda o: condition(o, "Synced").get("reason") == "CredentialsError",
        timeout=60, context=op.tail,
    )  # fmt: skip
    assert waiting is not None
    version = waiting["metadata"]["resourceVersion"]
    cluster.kubectl("apply", "-f", "-", input=secret_manifest(ns, "unrelated", {"x": "1"}))
    time.sleep(5)
    after = cluster.get("workspace", "late", ns) or {}
    assert after["metadata"]["resourceVersion"] == version, "an unrelated Secret caused a reconcile"

    started = time.monotonic()
    cluster.kubectl(
        "apply", "-f", "-",
        input=secret_manifest(ns, SECRET, {"ak": DEFAULT_AK, "sk": DEFAULT_SK}),
    )  # fmt: skip
    cluster.wait_for("workspace", "late", ns, is_ready, timeout=60, context=op.tail)
    assert time.monotonic() - started < 60
    cluster.kubectl("delete", "workspace", "late", "-n", ns, "--wait=false")
    cluster.wait_for("workspace", "late", ns, lambda o: o is None, timeout=60, context=op.tail)
    assert _forbidden_lines(op.log()) == [], op.tail()
