"""The operator as users run it: the image ``make image`` built, installed by the chart, as a
pod on a real node (kubelet + containerd), reconciling against the emulator over the pod
network. What only a pod can show: the service-account login, the read-only root filesystem,
the probes, the chart's env wiring, resource limits and RBAC as mounted, and the keyless
install: the pod authenticates to the emulator's IAM with OIDC federation, its projected
service-account token checked against the node's own issuer keys (``/openid/v1/jwks``); no
AK/SK is anywhere in the cluster.

The tests run in file order and share one release: install, examples, a second release IAM
does not map, upgrade, pod kill during a burst, two replicas, the token's rotation (a third
release, installed at the start, whose pod lives through the module), uninstall.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from modelarts_operator.emulator import (
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    EmulatorConfig,
    Timings,
)
from modelarts_operator.emulator.server import EmulatorHandle, run_emulator_in_thread
from modelarts_operator.node import Node

from .conftest import (
    CHART,
    EXAMPLES,
    OPERATOR_NS,
    RELEASE,
    Cluster,
    condition,
    is_ready,
)

pytestmark = [pytest.mark.node, pytest.mark.slow]

DEMO_NS = "demo"
BURST_NS = "burst"
HA_NS = "ha"
BURST = 100
# Keyless: the emulator's IAM trusts the node's service-account issuer for the operator
# releases in OPERATOR_NS; a release elsewhere is another, unmapped service account.
IDP = "cluster-oidc"
AUDIENCE = "modelarts-iam"
MAPPED = f"system:serviceaccount:{OPERATOR_NS}:*"
CREDENTIAL_TTL = 60.0  # short-lived credentials: refreshes happen while the module runs
TOKEN_SECONDS = 600  # the API server's minimum; the kubelet renews the token at 80 %
ROTATION, ROTATION_NS = "rotation", "rotation"
DENIED, DENIED_NS, DENIED_RELEASE_NS = "denied", "denied", "other-system"
MEMORY_LIMIT = 512 * 1024 * 1024  # the chart's default limits.memory (512Mi)
GROUP = "modelarts.huaweicloud.com"  # kinds in full: `service` alone is the core Service
EXAMPLE_OBJECTS = [
    (f"workspace.{GROUP}", "demo"),
    (f"trainingjob.{GROUP}", "mnist"),
    (f"model.{GROUP}", "mnist-v1"),
    (f"service.{GROUP}", "mnist"),
]


@pytest.fixture(scope="module")
def pods(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    return Cluster(node.kubeconfig, tmp_path_factory.mktemp("in-pod"), node.plane)


@pytest.fixture(scope="module")
def emulator(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """On the machine's address, which the pod reaches through the bridge's gateway. Its IAM
    trusts the node's API server as an OIDC issuer: the keys it publishes at
    ``/openid/v1/jwks`` and the issuer of its discovery document."""
    jwks = tmp_path_factory.mktemp("idp") / "jwks.json"
    jwks.write_text(node.plane.kubectl("get", "--raw", "/openid/v1/jwks").stdout)
    discovery = node.plane.kubectl("get", "--raw", "/.well-known/openid-configuration").stdout
    issuer = json.loads(discovery)["issuer"]
    timings = Timings(job_running=4.0, model_publishing=2.0, service_deploying=3.0, jitter=0.0)
    config = EmulatorConfig(
        seed=11,
        timings=timings,
        idps=[f"{IDP}={jwks},audience={AUDIENCE},subject={MAPPED},issuer={issuer}"],
        credential_ttl=CREDENTIAL_TTL,
    )
    with run_emulator_in_thread(config, host=node.address) as handle:
        yield handle


def exchanges(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    """Every ID token the emulator's IAM was asked to exchange: pod, iat, outcome."""
    found: list[dict[str, Any]] = httpx.get(
        f"{emulator.url}/_emulator/iam/exchanges", timeout=10
    ).json()["exchanges"]
    return found


def creates(emulator: EmulatorHandle) -> dict[str, int]:
    """The emulator's count of create calls per endpoint (what a re-create would raise); the
    v2 training list is a POST too (training-job-searches) and is not a create, nor are IAM's
    exchanges (/v3.0/...)."""
    calls = httpx.get(f"{emulator.url}/_emulator/counters", timeout=10).json()["calls"]
    return {
        k: v
        for k, v in calls.items()
        if k.startswith("POST /v") and not k.startswith("POST /v3")
        and k.count("/") == 3 and not k.endswith("-searches")
    }  # fmt: skip


def remote(emulator: EmulatorHandle, kind: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{emulator.url}/_emulator/objects/{kind}", timeout=30)
    resp.raise_for_status()
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def operator_pods(
    pods: Cluster, release: str = RELEASE, namespace: str = OPERATOR_NS
) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/name=modelarts-operator,app.kubernetes.io/instance={release}"
    listed = pods.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def the_pod(pods: Cluster) -> dict[str, Any]:
    found = operator_pods(pods)
    assert len(found) == 1, [p["metadata"]["name"] for p in found]
    return found[0]


def rollout(pods: Cluster, deployment: str = RELEASE, namespace: str = OPERATOR_NS) -> None:
    """Wait for the Deployment's rollout; on a timeout say why (pod states, the last log)."""
    result = pods.kubectl(
        "rollout", "status", f"deployment/{deployment}", "-n", namespace, "--timeout=240s",
        timeout=260, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        listed = pods.kubectl("get", "pods", "-n", namespace, "-o", "wide", check=False)
        last = pods.kubectl(
            "logs", f"deployment/{deployment}", "-n", namespace, "--previous", "--tail=20",
            check=False,
        )  # fmt: skip
        raise AssertionError(
            f"rollout failed: {result.stderr}\n{listed.stdout}\n{last.stdout[-3000:]}"
        )


def logs(pods: Cluster, pod: str, namespace: str = OPERATOR_NS) -> str:
    """The pod's log. A container that already acts may still read "waiting to start" for a
    few seconds on a busy node (the kubelet's status lags): ask again meanwhile."""
    deadline = time.monotonic() + 30
    while True:
        said = pods.kubectl("logs", pod, "-n", namespace, timeout=60, check=False)
        if said.returncode == 0 or "waiting to start" not in said.stderr:
            break
        assert time.monotonic() < deadline, said.stderr
        time.sleep(1)
    assert said.returncode == 0, said.stderr
    return said.stdout


def wait_ready(pods: Cluster, kind: str, name: str, namespace: str, timeout: float) -> None:
    pods.wait_for(
        kind,
        name,
        namespace,
        is_ready,
        timeout=timeout,
        context=lambda: logs(pods, the_pod(pods)["metadata"]["name"])[-3000:],
    )


def keyless_values(emulator: EmulatorHandle, *watched: str) -> dict[str, str]:
    """A release with no key: OIDC federation with its projected token, Namespaced scope."""
    return {
        "image.tag": "dev",
        "image.pullPolicy": "Never",
        "credentials.oidc.enabled": "true",
        "credentials.oidc.idpId": IDP,
        "credentials.oidc.audience": AUDIENCE,
        "credentials.oidc.expirationSeconds": str(TOKEN_SECONDS),
        "modelarts.endpoint": emulator.url,
        "modelarts.iamEndpoint": emulator.url,
        "modelarts.projectId": DEFAULT_PROJECT_ID,
        "modelarts.pollActiveSeconds": "2",
        "scope": "Namespaced",
        "watchNamespaces": "{" + ",".join(watched) + "}",
    }


def as_flags(values: dict[str, str]) -> list[str]:
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


def workspace(name: str, namespace: str) -> str:
    return json.dumps(
        {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"authType": "PUBLIC"},
        }
    )


@pytest.fixture(scope="module")
def release(pods: Cluster, emulator: EmulatorHandle) -> Iterator[list[str]]:
    """The chart installed with the local image and no key (OIDC federation); yields the --set
    flags it was installed with (upgrades keep them). A second release, ``rotation``, is
    installed right after: its pod keeps one projected token until the kubelet renews it,
    which only the last tests can see (a token lives at least 10 minutes)."""
    for namespace in (OPERATOR_NS, DEMO_NS, BURST_NS, HA_NS, ROTATION_NS):
        pods.ensure_namespace(namespace)
    flags = as_flags(keyless_values(emulator, DEMO_NS, BURST_NS, HA_NS))
    started = time.monotonic()
    pods.helm("install", RELEASE, str(CHART), "-n", OPERATOR_NS, *flags)
    rollout(pods)
    print(f"helm install to rolled out: {time.monotonic() - started:.1f}s")
    rotation = {
        **keyless_values(emulator, ROTATION_NS),
        "crds.install": "false",  # the first release owns them
        "modelarts.pollSettledSeconds": "10",  # a call every 10 s: refreshes as they fall due
    }
    pods.helm("install", ROTATION, str(CHART), "-n", OPERATOR_NS, *as_flags(rotation))
    pods.kubectl("apply", "-f", "-", input=workspace("probe", ROTATION_NS))
    try:
        yield flags
    finally:
        pods.helm("uninstall", ROTATION, "-n", OPERATOR_NS, "--wait", check=False)
        pods.helm("uninstall", RELEASE, "-n", OPERATOR_NS, "--wait", check=False)


def test_the_pod_runs_hardened_as_the_chart_says(pods: Cluster, release: list[str]) -> None:
    pod = the_pod(pods)
    name = pod["metadata"]["name"]
    spec, status = pod["spec"], pod["status"]
    container = spec["containers"][0]
    assert spec["securityContext"]["runAsUser"] == 65532
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert container["image"].endswith("modelarts-operator:dev")
    state = status["containerStatuses"][0]
    assert state["ready"] is True, state
    assert state["restartCount"] == 0, state
    assert [c["status"] for c in status["conditions"] if c["type"] == "Ready"] == ["True"]

    def inside(code: str, check: bool = True) -> Any:
        """Run Python in the pod: the image has no shell (nor coreutils) to run anything else."""
        return pods.kubectl(
            "exec", name, "-n", OPERATOR_NS, "--", "python3", "-c", code, check=check
        )

    def said(code: str) -> str:
        return str(inside(code).stdout.strip())

    assert said("import os; print(os.getuid()); print(os.getgid())") == "65532\n65532"
    refused = inside("open('/usr/x', 'w')", check=False)
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr
    # The chart's emptyDir is writable.
    inside("import os; open('/tmp/x', 'w').write('x'); os.remove('/tmp/x')")
    # The limit as the kernel enforces it (cgroup v1 or v2).
    v1, v2 = "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"
    limit = said(f"import os; print(open({v1!r} if os.path.exists({v1!r}) else {v2!r}).read())")
    assert int(limit) == MEMORY_LIMIT
    # The CA bundle trusted during the build stayed out of the image (what /run/secrets holds
    # are the two projected service-account tokens).
    listed = said(
        "import os; d = '/run/secrets'; print(sorted(os.listdir(d)) if os.path.isdir(d) else [])"
    )
    assert listed in ("[]", "['huaweicloud', 'kubernetes.io']"), listed
    assert said("import os; print([k for k in os.environ if 'CERT' in k])") == "[]"
    # The token it logged in with is the projected, rotating one; IAM gets another one, of
    # its own audience, never the API server's.
    assert "token" in said(
        "import os; print(os.listdir('/var/run/secrets/kubernetes.io/serviceaccount'))"
    )
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HUAWEICLOUD_SDK_ID_TOKEN_FILE"] == "/var/run/secrets/huaweicloud/oidc/token"
    assert "MODELARTS_CREDENTIALS_SECRET" not in env
    payload = said("print(open('/var/run/secrets/huaweicloud/oidc/token').read())").split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == [AUDIENCE], claims
    assert claims["exp"] - claims["iat"] == TOKEN_SECONDS
    assert claims.get("sub") == f"system:serviceaccount:{OPERATOR_NS}:{RELEASE}"
    # A production image: no shell, no package manager, no perl, no pip.
    shell = pods.kubectl("exec", name, "-n", OPERATOR_NS, "--", "sh", "-c", "true", check=False)
    assert shell.returncode != 0
    tools = "('sh', 'bash', 'apt-get', 'dpkg', 'perl', 'pip', 'pip3')"
    assert said(f"import shutil; print([c for c in {tools} if shutil.which(c)])") == "[]"


def test_the_examples_reconcile_to_ready_from_the_pod(
    pods: Cluster, release: list[str], emulator: EmulatorHandle
) -> None:
    pods.ensure_namespace(DEMO_NS)
    started = time.monotonic()
    pods.kubectl("apply", "-n", DEMO_NS, "-f", str(EXAMPLES))
    for kind, name in EXAMPLE_OBJECTS:
        wait_ready(pods, kind, name, DEMO_NS, timeout=180)
    # The rotation release's Workspace, created meanwhile by its own pod.
    pods.wait_for(f"workspace.{GROUP}", "probe", ROTATION_NS, is_ready, timeout=120)
    print(f"examples Ready from the pod in {time.monotonic() - started:.1f}s")
    service = pods.get(f"service.{GROUP}", "mnist", DEMO_NS)
    assert service is not None
    assert service["status"]["phase"] == "Running"
    # One create call per object, each answered 200.
    assert creates(emulator) == {
        "POST /v1/{project_id}/workspaces": 2,  # demo, and the rotation release's probe
        "POST /v2/{project_id}/training-jobs": 1,  # the example is the v2 form
        "POST /v1/{project_id}/models": 1,
        "POST /v2/{project_id}/services": 1,  # and so is the Service
    }
    # kopf's JSON lines (the chart's default format) name their object.
    lines = [
        json.loads(x)
        for x in logs(pods, the_pod(pods)["metadata"]["name"]).splitlines()
        if x.startswith("{")
    ]
    named = {(x["object"]["namespace"], x["object"]["name"]) for x in lines if "object" in x}
    assert {(DEMO_NS, "demo"), (DEMO_NS, "mnist"), (DEMO_NS, "mnist-v1")} <= named
    # With no key anywhere in the cluster: no Secret holds an AK/SK, a password or the
    # emulator's SK; the pod got its credentials by exchanging its token.
    listed = json.loads(pods.kubectl("get", "secrets", "-A", "-o", "json").stdout)["items"]
    for item in listed:
        data = item.get("data") or {}
        where = f"{item['metadata']['namespace']}/{item['metadata']['name']}"
        assert not {"ak", "sk", "securityToken", "password"} & set(data), where
        decoded = [base64.b64decode(v).decode("utf-8", "replace") for v in data.values()]
        assert not any(DEFAULT_SK in v for v in decoded), where
    pod_uid = the_pod(pods)["metadata"]["uid"]
    mine = [e for e in exchanges(emulator) if e["pod_uid"] == pod_uid]
    assert mine, "the pod never exchanged its token"
    assert {e["outcome"] for e in mine} == {"ok"}


def test_a_release_iam_does_not_map_gets_auth_failed(
    pods: Cluster, release: list[str], emulator: EmulatorHandle
) -> None:
    """Another release, in another namespace: its service account is not the identity
    provider's to map, so its objects say AuthFailed, naming OIDC federation and why."""
    for namespace in (DENIED_RELEASE_NS, DENIED_NS):
        pods.ensure_namespace(namespace)
    values = {**keyless_values(emulator, DENIED_NS), "crds.install": "false"}
    pods.helm("install", DENIED, str(CHART), "-n", DENIED_RELEASE_NS, *as_flags(values))
    try:
        rollout(pods, f"{DENIED}-modelarts-operator", DENIED_RELEASE_NS)
        pods.kubectl("apply", "-f", "-", input=workspace("refused", DENIED_NS))
        refused = pods.wait_for(
            f"workspace.{GROUP}", "refused", DENIED_NS,
            lambda o: condition(o, "Synced").get("reason") == "AuthFailed", timeout=120,
        )  # fmt: skip
        message = condition(refused, "Synced")["message"]
        print(f"the unmapped release's Workspace: Synced=False AuthFailed: {message}")
        assert message.startswith(f"OIDC federation (identity provider {IDP}, token ")
        assert "IAM refused the ID token (HTTP 401 IAM.0007" in message
        assert f"{DENIED_RELEASE_NS}:{DENIED}-modelarts-operator' is not mapped" in message
        assert "eyJ" not in json.dumps(refused)  # no token (a JWT) in the status
        assert not [e for e in remote(emulator, "workspace") if e["name"] == "refused"]
    finally:
        # Nothing was created remotely; the object stays with the node, which goes after the
        # module: only the release goes now (its pod stops meanwhile).
        pods.helm("uninstall", DENIED, "-n", DENIED_RELEASE_NS, check=False)


def test_helm_upgrade_rolls_the_pod_and_creates_nothing_again(
    pods: Cluster, release: list[str], emulator: EmulatorHandle
) -> None:
    before = the_pod(pods)["metadata"]["name"]
    created = creates(emulator)
    assert sum(created.values()) == 5, created
    pods.helm(
        "upgrade", RELEASE, str(CHART), "-n", OPERATOR_NS, *release, "--set", "logFormat=text"
    )
    rollout(pods)
    after = the_pod(pods)["metadata"]["name"]
    assert after != before
    env = {e["name"]: e.get("value") for e in the_pod(pods)["spec"]["containers"][0]["env"]}
    assert env["MODELARTS_LOG_FORMAT"] == "text"
    # The new pod resumes every object (text lines carry [namespace/name]) ...
    deadline = time.monotonic() + 120
    while "[demo/mnist]" not in (text := logs(pods, after)) and time.monotonic() < deadline:
        time.sleep(2)
    assert "[demo/mnist]" in text, text[-3000:]
    assert "[demo/mnist-v1]" in text, text[-3000:]
    for kind, name in EXAMPLE_OBJECTS:
        wait_ready(pods, kind, name, DEMO_NS, timeout=60)
    # ... and creates nothing again remotely.
    assert creates(emulator) == created


def burst_job(index: int) -> dict[str, Any]:
    example = yaml.safe_load((EXAMPLES / "02-trainingjob.yaml").read_text())
    example["metadata"] = {"name": f"burst-{index:03d}", "namespace": BURST_NS}
    del example["spec"]["workspaceRef"]  # the default workspace: no dependency to wait for
    example["spec"]["jobName"] = f"burst-{index:03d}"
    # Each job writes to its own output and log path, as real jobs would.
    (output,) = example["spec"]["algorithm"]["outputs"]
    output["remote"]["obs"]["obsUrl"] = f"obs://demo-bucket/burst/{index:03d}/output/"
    example["spec"]["logExportPath"]["obsUrl"] = f"obs://demo-bucket/burst/{index:03d}/logs/"
    return dict(example)


def burst_remote(emulator: EmulatorHandle) -> list[str]:
    """Remote job names of the burst, one entry per remote job (duplicates would show)."""
    return [
        j["name"] for j in remote(emulator, "training_job_v2") if j["name"].startswith("burst-")
    ]


def test_killing_the_pod_mid_burst_yields_exactly_one_remote_job_each(
    pods: Cluster, release: list[str], emulator: EmulatorHandle
) -> None:
    pods.ensure_namespace(BURST_NS)
    victim = the_pod(pods)["metadata"]["name"]
    manifest = yaml.safe_dump_all([burst_job(i) for i in range(BURST)])
    pods.kubectl("apply", "-f", "-", input=manifest, timeout=120)
    # Kill it once the burst is under way: some jobs created remotely, most not yet.
    deadline = time.monotonic() + 120
    while len(burst_remote(emulator)) < 10:
        assert time.monotonic() < deadline, "the operator did not start on the burst"
        time.sleep(0.2)
    created_at_kill = len(burst_remote(emulator))
    killed = time.monotonic()
    pods.kubectl("delete", "pod", victim, "-n", OPERATOR_NS, "--wait=false")

    # Takeover: the replacement pod is Ready and creates the next remote job.
    replacement = None
    while replacement is None or not any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in replacement["status"].get("conditions", [])
    ):
        assert time.monotonic() - killed < 180, "no replacement pod became Ready"
        found = [p for p in operator_pods(pods) if p["metadata"]["name"] != victim]
        replacement = found[0] if found else None
        time.sleep(0.5)
    ready_after = time.monotonic() - killed
    baseline = len(burst_remote(emulator))
    while len(burst_remote(emulator)) == baseline and baseline < BURST:
        assert time.monotonic() - killed < 240, "the replacement created nothing"
        time.sleep(0.2)
    takeover = time.monotonic() - killed
    print(
        f"pod kill after {created_at_kill}/{BURST} creates: replacement Ready in "
        f"{ready_after:.1f}s, its first create {takeover:.1f}s after the kill"
    )

    def recorded() -> int:
        listed = json.loads(
            pods.kubectl("get", f"trainingjobs.{GROUP}", "-n", BURST_NS, "-o", "json").stdout
        )
        return sum(1 for j in listed["items"] if (j.get("status") or {}).get("jobId"))

    deadline = time.monotonic() + 300
    while recorded() < BURST:
        assert time.monotonic() < deadline, f"only {recorded()}/{BURST} jobs got a remote ID"
        time.sleep(2)
    names = burst_remote(emulator)
    assert len(names) == BURST, sorted(names)
    assert len(set(names)) == BURST, sorted(names)

    # Deleting them finishes: no finalizer is left stuck.
    pods.kubectl(
        "delete", f"trainingjobs.{GROUP}", "--all", "-n", BURST_NS, "--wait=false", timeout=120
    )
    deadline = time.monotonic() + 300
    while left := json.loads(
        pods.kubectl("get", f"trainingjobs.{GROUP}", "-n", BURST_NS, "-o", "json").stdout
    )["items"]:
        assert time.monotonic() < deadline, f"{len(left)} TrainingJobs stuck deleting"
        time.sleep(2)


def lease_holder(pods: Cluster) -> str:
    lease = json.loads(
        pods.kubectl("get", "lease", RELEASE, "-n", OPERATOR_NS, "-o", "json").stdout
    )
    return str(lease["spec"].get("holderIdentity") or "")


def standing_by(pods: Cluster, pod: str, timeout: float = 60) -> str:
    """The log of ``pod`` once it says it stands by (a replacement may still be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        said = pods.kubectl("logs", pod, "-n", OPERATOR_NS, timeout=60, check=False).stdout
        if "standing by" in said:
            return said
        assert time.monotonic() < deadline, f"{pod} never stood by:\n{said[-2000:]}"
        time.sleep(1)


def _handover_report(pods: Cluster, leader: str, standby: str) -> str:
    """What a failed hand-over looked like: the Lease, the pods and the standby's lease log."""
    lease = pods.kubectl("get", "lease", RELEASE, "-n", OPERATOR_NS, "-o", "yaml").stdout
    listed = pods.kubectl("get", "pods", "-n", OPERATOR_NS, "-o", "wide").stdout
    said = [line for line in logs(pods, standby).splitlines() if "healthz" not in line]
    return f"{standby} did not take the lease from {leader}:\n{lease}\n{listed}\n" + "\n".join(
        said[-30:]
    )


def test_two_replicas_one_acts_and_the_standby_takes_over(
    pods: Cluster, release: list[str], emulator: EmulatorHandle
) -> None:
    """With two replicas one holds the Lease and acts; the other stands by (its log says so,
    and it answers its probes: Ready). Deleting the holder releases the Lease; the standby,
    reconciles a new object (or the replacement pod does, if it asks first)."""
    pods.helm(
        "upgrade", RELEASE, str(CHART), "-n", OPERATOR_NS, *release, "--set", "replicaCount=2"
    )
    rollout(pods)
    deadline = time.monotonic() + 120
    while len(names := {p["metadata"]["name"] for p in operator_pods(pods)}) != 2 or (
        lease_holder(pods) not in names
    ):
        assert time.monotonic() < deadline, f"no holder among {names}"
        time.sleep(1)
    leader = lease_holder(pods)
    (standby,) = names - {leader}
    deadline = time.monotonic() + 60
    standing_by(pods, standby)
    killed = time.monotonic()
    pods.kubectl("delete", "pod", leader, "-n", OPERATOR_NS, "--wait=false")
    # The released Lease goes to whichever replica asks first: the standby (it asks every
    # 2-2.4 s) or the Deployment's replacement pod starting meanwhile; never to both.
    while lease_holder(pods) in ("", leader):
        if time.monotonic() - killed > 60:
            raise AssertionError(_handover_report(pods, leader, standby))
        time.sleep(0.2)
    handover = time.monotonic() - killed
    holder = lease_holder(pods)
    pods.kubectl("apply", "-f", "-", input=workspace("after-handover", HA_NS))
    pods.wait_for(
        f"workspace.{GROUP}", "after-handover", HA_NS, is_ready, timeout=120,
        context=lambda: logs(pods, holder)[-3000:],
    )  # fmt: skip
    serving = time.monotonic() - killed
    assert '"name": "after-handover"' in logs(pods, holder)  # the new holder reconciled it
    running = {p["metadata"]["name"] for p in operator_pods(pods)}
    assert holder in running
    for other in running - {holder}:  # every other replica stands by and did nothing
        said = standing_by(pods, other)
        assert '"name": "after-handover"' not in said
    who = "the standby" if holder == standby else "the replacement pod"
    print(
        f"leader pod deleted: {who} held the lease {handover:.1f}s later and had a new "
        f"Workspace Ready {serving:.1f}s after the delete"
    )
    assert handover < 30, handover  # a release on SIGTERM, not a 15 s expiry plus restart


@pytest.mark.timeout(TOKEN_SECONDS + 300)  # waits for the kubelet: 80 % of the token's 600 s
def test_the_token_rotates_and_the_operator_follows_it(
    pods: Cluster, release: list[str], emulator: EmulatorHandle
) -> None:
    """The ``rotation`` release's pod has run since the module started. The kubelet renews
    its projected token at 80 % of its 10 minutes; the operator reads the file at every
    exchange, so an exchange after that carries the new token, and its objects stay Synced.
    Its credentials (60 s here) were refreshed ahead of expiry all along: never refused."""
    (pod,) = operator_pods(pods, ROTATION)
    uid, name = pod["metadata"]["uid"], pod["metadata"]["name"]
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    deadline = time.monotonic() + TOKEN_SECONDS + 120
    mine = _exchanged_by(emulator, uid)
    while len({e["iat"] for e in mine}) < 2:
        assert time.monotonic() < deadline, f"no exchange of a renewed token: {mine[-3:]}"
        time.sleep(5)
        mine = _exchanged_by(emulator, uid)
    assert {e["outcome"] for e in mine} == {"ok"}
    first, renewed = mine[0]["iat"], next(e for e in mine if e["iat"] != mine[0]["iat"])
    print(
        f"the kubelet renewed the token {renewed['iat'] - first:.0f}s after the first; the "
        f"operator exchanged the new one {renewed['at'] - renewed['iat']:.0f}s after it was "
        f"issued ({len(mine)} exchanges in all)"
    )
    pods.wait_for(f"workspace.{GROUP}", "probe", ROTATION_NS, is_ready, timeout=60)
    pods.kubectl("apply", "-f", "-", input=workspace("after-rotation", ROTATION_NS))
    pods.wait_for(f"workspace.{GROUP}", "after-rotation", ROTATION_NS, is_ready, timeout=120)
    # Refreshed ahead of expiry, in the background: how much time the old credentials had
    # left each time (lifetime 60 s: a fifth of it, 12 s, is the margin), and never a 401.
    said = logs(pods, name)
    left = [float(x) for x in re.findall(r"the previous ones had (-?[0-9.]+)s left", said)]
    assert left, said[-2000:]
    print(f"credential refreshes: {len(left)}, time left on the old ones {min(left):.0f}s to "
          f"{max(left):.0f}s")  # fmt: skip
    assert min(left) > 0, left
    assert "credentials refused; fetching new ones" not in said
    pods.kubectl("delete", f"workspace.{GROUP}", "--all", "-n", ROTATION_NS, "--timeout=120s",
                 timeout=150)  # fmt: skip


def _exchanged_by(emulator: EmulatorHandle, pod_uid: str) -> list[dict[str, Any]]:
    return [e for e in exchanges(emulator) if e["pod_uid"] == pod_uid]


def test_helm_uninstall_removes_what_it_installed(
    pods: Cluster, release: list[str], tmp_path: Path
) -> None:
    manifest = pods.helm("get", "manifest", RELEASE, "-n", OPERATOR_NS).stdout
    installed = [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(manifest) if d]
    assert ("Deployment", RELEASE) in installed
    result = pods.helm("uninstall", RELEASE, "-n", OPERATOR_NS, "--wait")
    assert "uninstalled" in result.stdout
    for kind, name in installed:
        if kind == "CustomResourceDefinition":
            continue  # kept on purpose (helm.sh/resource-policy: keep): they hold users' objects
        args = [kind, name] if kind.startswith("Cluster") else [kind, name, "-n", OPERATOR_NS]
        gone = pods.kubectl("get", *args, "--ignore-not-found", "-o", "name", check=False)
        assert gone.stdout.strip() == "", f"{kind}/{name} is still there"
    deadline = time.monotonic() + 60
    while operator_pods(pods):
        assert time.monotonic() < deadline, "the operator pod outlived helm uninstall"
        time.sleep(1)
