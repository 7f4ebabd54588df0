"""The operator as users run it: the image ``make image`` built, installed by the chart, as a
pod on a real node (kubelet + containerd), reconciling against the emulator over the pod
network. What only a pod can show: the service-account login, the read-only root filesystem,
the probes, the chart's env wiring, resource limits and RBAC as mounted, and the keyless
install: the pod authenticates to the emulator's IAM with OIDC federation, its projected
service-account token checked against the node's own issuer keys (``/openid/v1/jwks``); no
AK/SK is anywhere in the cluster.

The tests run in file order and share one release (``keyless_release``, installed with the
``rotation`` release beside it): install, examples, a second release IAM does not map,
upgrade, pod kill during a burst, two replicas, uninstall. The token's rotation is
``test_rotation.py``, the package's last module: the kubelet renews a token about 8 minutes
after the pod started.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from modelarts_testbed.emulator import DEFAULT_SK
from modelarts_testbed.emulator.server import EmulatorHandle
from tests.examples import standalone_training_job

from .conftest import (
    AUDIENCE,
    BURST_NS,
    CHART,
    DEMO_NS,
    EXAMPLES,
    GROUP,
    HA_NS,
    IDP,
    OPERATOR_NS,
    RELEASE,
    ROTATION_NS,
    TOKEN_SECONDS,
    Cluster,
    as_flags,
    condition,
    exchanges,
    is_ready,
    keyless_values,
    logs,
    operator_pods,
    rollout,
    workspace,
)

pytestmark = [pytest.mark.node, pytest.mark.slow]

BURST = 100
DENIED, DENIED_NS, DENIED_RELEASE_NS = "denied", "denied", "other-system"
MEMORY_LIMIT = 768 * 1024 * 1024  # the chart's default limits.memory (768Mi)
# One create call per example object, each answered 200.
EXAMPLE_CREATES = {
    "POST /v1/{project_id}/networks": 1,
    "POST /v2/{project_id}/pools": 1,  # on that network
    "POST /v1/{project_id}/workspaces": 2,  # demo, and the rotation release's probe
    "POST /v2/{project_id}/algorithms": 1,  # the job starts from it
    "POST /v2/{project_id}/training-jobs": 1,  # the example is the v2 form
    "POST /v1/{project_id}/models": 1,
    "POST /v2/{project_id}/services": 1,  # and so is the Service
}
EXAMPLE_OBJECTS = [
    (f"network.{GROUP}", "demo-net"),
    (f"resourcepool.{GROUP}", "demo-pool"),
    (f"workspace.{GROUP}", "demo"),
    (f"algorithm.{GROUP}", "mnist"),
    (f"trainingjob.{GROUP}", "mnist"),
    (f"model.{GROUP}", "mnist-v1"),
    (f"service.{GROUP}", "mnist"),
]


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


def the_pod(pods: Cluster) -> dict[str, Any]:
    found = operator_pods(pods)
    assert len(found) == 1, [p["metadata"]["name"] for p in found]
    return found[0]


def wait_ready(pods: Cluster, kind: str, name: str, namespace: str, timeout: float) -> None:
    pods.wait_for(
        kind,
        name,
        namespace,
        is_ready,
        timeout=timeout,
        context=lambda: logs(pods, the_pod(pods)["metadata"]["name"])[-3000:],
    )


def test_the_pod_runs_hardened_as_the_chart_says(pods: Cluster, keyless_release: list[str]) -> None:
    pod = the_pod(pods)
    name = pod["metadata"]["name"]
    spec, status = pod["spec"], pod["status"]
    container = spec["containers"][0]
    assert spec["securityContext"]["runAsUser"] == 65532
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]["memory"] == "768Mi"
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
    pods: Cluster, keyless_release: list[str], keyless_emulator: EmulatorHandle
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
    assert creates(keyless_emulator) == EXAMPLE_CREATES
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
    mine = [e for e in exchanges(keyless_emulator) if e["pod_uid"] == pod_uid]
    assert mine, "the pod never exchanged its token"
    assert {e["outcome"] for e in mine} == {"ok"}


def test_a_release_iam_does_not_map_gets_auth_failed(
    pods: Cluster, keyless_release: list[str], keyless_emulator: EmulatorHandle
) -> None:
    """Another release, in another namespace: its service account is not the identity
    provider's to map, so its objects say AuthFailed, naming OIDC federation and why."""
    for namespace in (DENIED_RELEASE_NS, DENIED_NS):
        pods.ensure_namespace(namespace)
    values = {**keyless_values(keyless_emulator, DENIED_NS), "crds.install": "false"}
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
        assert not [e for e in remote(keyless_emulator, "workspace") if e["name"] == "refused"]
    finally:
        # Nothing was created remotely; the object stays with the node, which goes after the
        # module: only the release goes now (its pod stops meanwhile).
        pods.helm("uninstall", DENIED, "-n", DENIED_RELEASE_NS, check=False)


def test_helm_upgrade_rolls_the_pod_and_creates_nothing_again(
    pods: Cluster, keyless_release: list[str], keyless_emulator: EmulatorHandle
) -> None:
    before = the_pod(pods)["metadata"]["name"]
    created = creates(keyless_emulator)
    assert created == EXAMPLE_CREATES
    pods.helm(
        "upgrade", RELEASE, str(CHART), "-n", OPERATOR_NS, *keyless_release,
        "--set", "logFormat=text",
    )  # fmt: skip
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
    assert creates(keyless_emulator) == created


def burst_job(index: int) -> dict[str, Any]:
    example = standalone_training_job()  # no Algorithm or pool in the burst's namespace
    example["metadata"] = {"name": f"burst-{index:03d}", "namespace": BURST_NS}
    spec = example["spec"]
    del spec["workspaceRef"]  # the default workspace: no dependency to wait for
    spec["algorithm"].pop("summary", None)  # TensorBoard logs: one directory per job, if any
    spec["jobName"] = f"burst-{index:03d}"
    # Each job writes to its own output and log path, as real jobs would.
    (output,) = spec["algorithm"]["outputs"]
    output["remote"]["obs"]["obsUrl"] = f"obs://demo-bucket/burst/{index:03d}/output/"
    spec["logExportPath"]["obsUrl"] = f"obs://demo-bucket/burst/{index:03d}/logs/"
    return dict(example)


def burst_remote(emulator: EmulatorHandle) -> list[str]:
    """Remote job names of the burst, one entry per remote job (duplicates would show)."""
    return [
        j["name"] for j in remote(emulator, "training_job_v2") if j["name"].startswith("burst-")
    ]


def test_killing_the_pod_mid_burst_yields_exactly_one_remote_job_each(
    pods: Cluster, keyless_release: list[str], keyless_emulator: EmulatorHandle
) -> None:
    pods.ensure_namespace(BURST_NS)
    victim = the_pod(pods)["metadata"]["name"]
    manifest = yaml.safe_dump_all([burst_job(i) for i in range(BURST)])
    pods.kubectl("apply", "-f", "-", input=manifest, timeout=120)
    # Kill it once the burst is under way: some jobs created remotely, most not yet.
    deadline = time.monotonic() + 120
    while len(burst_remote(keyless_emulator)) < 10:
        assert time.monotonic() < deadline, "the operator did not start on the burst"
        time.sleep(0.2)
    created_at_kill = len(burst_remote(keyless_emulator))
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
    baseline = len(burst_remote(keyless_emulator))
    while len(burst_remote(keyless_emulator)) == baseline and baseline < BURST:
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
    names = burst_remote(keyless_emulator)
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
    pods: Cluster, keyless_release: list[str], keyless_emulator: EmulatorHandle
) -> None:
    """With two replicas one holds the Lease and acts; the other stands by (its log says so,
    and it answers its probes: Ready). Deleting the holder releases the Lease; the standby,
    reconciles a new object (or the replacement pod does, if it asks first)."""
    pods.helm(
        "upgrade", RELEASE, str(CHART), "-n", OPERATOR_NS, *keyless_release,
        "--set", "replicaCount=2",
    )  # fmt: skip
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


def test_helm_uninstall_removes_what_it_installed(
    pods: Cluster, keyless_release: list[str], tmp_path: Path
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
