"""The e2e rig: one cluster for the whole package, the chart installed into it.

The cluster is whatever ``E2E_KUBECONFIG`` names (kind, a real cluster: the same suite runs
there, see ``make e2e-kind``), or else a fresh local control plane (etcd + kube-apiserver)
started for this package only, so no operator from another test tier acts on its objects.

``E2E_IMAGE`` (``repository:tag``) says the operator image is loaded into the cluster: the
chart then runs it (``pullPolicy: Never``) and the chart test waits for the rollout. Without it
(the local control plane has no kubelet) the chart's Deployment is only created, and the
operator under test runs on this machine with the ServiceAccount's identity.

``node`` is the single-node cluster (kubelet + containerd, :mod:`modelarts_testbed.node`)
with the images ``make image`` built: the tests marked ``node`` run the chart's pod on it,
keyless (``keyless_release``: OIDC federation with the pod's projected token, against
``keyless_emulator``, whose IAM trusts the node's issuer).

The package runs in the order :func:`pytest_collection_modifyitems` gives it: the node's tests
first, the token's rotation (``test_rotation.py``) last, everything else between them, so that
the minutes the kubelet takes to renew a projected token are spent testing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from modelarts_testbed.controlplane import (
    REPO_ROOT,
    ControlPlane,
    Identity,
    free_port,
    tool_path,
)
from modelarts_testbed.emulator import (
    DEFAULT_AK,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    EmulatorConfig,
    Timings,
)
from modelarts_testbed.emulator.server import EmulatorHandle, run_emulator_in_thread
from modelarts_testbed.node import Node

CHART = REPO_ROOT / "helm" / "modelarts-operator"
EXAMPLES = REPO_ROOT / "examples"
OPERATOR_NS = "modelarts-system"
RELEASE = "modelarts-operator"  # release, ServiceAccount and ClusterRole name
SECRET = "modelarts-credentials"
SERVICE_ACCOUNT = f"system:serviceaccount:{OPERATOR_NS}:{RELEASE}"
KUBE_VERSION = "v1.34.4"  # what `helm template` renders for (the pinned kube-apiserver)
IMAGES = REPO_ROOT / ".cluster" / "images"  # what `make image` writes
NODE_ARCHIVES = (IMAGES / "pause.tar", IMAGES / "modelarts-operator-dev.tar")
GROUP = "modelarts.huaweicloud.com"  # kinds in full: `service` alone is the core Service
# In the pod, keyless: the emulator's IAM trusts the node's service-account issuer for the
# operator releases in OPERATOR_NS; a release elsewhere is another, unmapped service account.
IDP = "cluster-oidc"
AUDIENCE = "modelarts-iam"
MAPPED = f"system:serviceaccount:{OPERATOR_NS}:*"
CREDENTIAL_TTL = 60.0  # short-lived credentials: refreshes happen while the tests run
TOKEN_SECONDS = 600  # the API server's minimum; the kubelet renews the token at 80 %
DEMO_NS, BURST_NS, HA_NS = "demo", "burst", "ha"  # what the keyless release watches
ROTATION, ROTATION_NS = "rotation", "rotation"
ROTATION_MODULE = "test_rotation.py"


def _binary(name: str) -> str:
    """E2E_KUBECTL / E2E_HELM, else the pinned one (`make tools`), never one found on PATH:
    a distribution's kubectl may be versions away from the server (Debian's is 1.20)."""
    return os.environ.get(f"E2E_{name.upper()}") or str(tool_path(name))


@dataclass
class Cluster:
    """kubectl and helm against the cluster under test, as admin or as another kubeconfig."""

    kubeconfig: Path
    workdir: Path
    plane: ControlPlane | None

    def __post_init__(self) -> None:
        self.kubectl_bin = _binary("kubectl")
        self.helm_bin = _binary("helm")

    @property
    def local(self) -> bool:
        return self.plane is not None

    def _env(self, kubeconfig: Path | None) -> dict[str, str]:
        env = dict(os.environ)
        env["KUBECONFIG"] = str(kubeconfig or self.kubeconfig)
        home = self.workdir / "helm-home"
        env.update(
            HELM_CACHE_HOME=str(home / "cache"),
            HELM_CONFIG_HOME=str(home / "config"),
            HELM_DATA_HOME=str(home / "data"),
        )
        return env

    def _run(
        self,
        argv: list[str],
        kubeconfig: Path | None,
        input: str | None,
        check: bool,
        timeout: float,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv,
            env=self._env(kubeconfig),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv[:4])} ... failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    def kubectl(
        self,
        *args: str,
        kubeconfig: Path | None = None,
        input: str | None = None,
        check: bool = True,
        timeout: float = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        return self._run([self.kubectl_bin, *args], kubeconfig, input, check, timeout)

    def helm(
        self, *args: str, check: bool = True, timeout: float = 180.0
    ) -> subprocess.CompletedProcess[str]:
        return self._run([self.helm_bin, *args], None, None, check, timeout)

    def ensure_namespace(self, name: str) -> None:
        manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        self.kubectl("apply", "-f", "-", input=json.dumps(manifest))

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        result = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if result.returncode != 0:
            return None
        obj: dict[str, Any] = json.loads(result.stdout)
        return obj

    def wait_established(self, *names: str, timeout: float = 60.0) -> None:
        """Wait until the CRDs ``crd/<name>`` (all of them, without names) are Established.
        Not ``kubectl wait``: a CRD created a moment ago has no ``status.conditions`` yet, and
        kubectl 1.34 fails at once on that ("conditions accessor error: <nil>") instead of
        waiting (seen in test_chart under load)."""
        wanted = {n.removeprefix("crd/") for n in names}
        deadline = time.monotonic() + timeout
        pending: set[str] = set()
        while time.monotonic() < deadline:
            found = json.loads(self.kubectl("get", "crd", "-o", "json").stdout)["items"]
            pending = {
                c["metadata"]["name"]
                for c in found
                if (not wanted or c["metadata"]["name"] in wanted)
                and not any(
                    x["type"] == "Established" and x["status"] == "True"
                    for x in (c.get("status") or {}).get("conditions") or []
                )
            }
            pending |= wanted - {c["metadata"]["name"] for c in found}
            if not pending:
                return
            time.sleep(0.5)
        raise AssertionError(f"CRDs not Established in {timeout:.0f}s: {sorted(pending)}")

    def wait_for(
        self,
        kind: str,
        name: str,
        namespace: str,
        predicate: Callable[[dict[str, Any] | None], bool],
        timeout: float = 60.0,
        context: Callable[[], str] = lambda: "",
    ) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        obj = None
        while time.monotonic() < deadline:
            obj = self.get(kind, name, namespace)
            if predicate(obj):
                return obj
            time.sleep(0.5)
        status = json.dumps((obj or {}).get("status"), indent=1)
        raise AssertionError(
            f"{kind}/{name} did not get there in {timeout:.0f}s; status={status}\n{context()}"
        )

    def service_account_kubeconfig(self, namespace: str, name: str) -> Path:
        """A kubeconfig that authenticates as the ServiceAccount, as its pod would."""
        if self.plane is not None:
            return self.plane.kubeconfig_for(f"system:serviceaccount:{namespace}:{name}")
        token = self.kubectl(
            "create", "token", name, "-n", namespace, "--duration=1h"
        ).stdout.strip()
        config = json.loads(
            self.kubectl("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout
        )
        user = f"{namespace}-{name}"
        config["users"] = [{"name": user, "user": {"token": token}}]
        for context in config["contexts"]:
            context["context"]["user"] = user
        path = self.workdir / f"sa-{namespace}-{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def user_kubeconfig(self, user: str, namespace: str) -> tuple[Path, dict[str, str]]:
        """A kubeconfig for a person (a tenant), and the RBAC subject it authenticates as: a
        user with a client certificate from the local control plane's CA; on another cluster
        a ServiceAccount of that name in ``namespace`` (a token the cluster issues)."""
        if self.plane is None or self.plane.ca is None:
            self.kubectl("create", "serviceaccount", user, "-n", namespace, check=False)
            path = self.service_account_kubeconfig(namespace, user)
            return path, {"kind": "ServiceAccount", "name": user, "namespace": namespace}
        cert, key = self.plane.ca.issue(f"user-{user}", user, groups=["tenants"])
        config = json.loads(
            self.kubectl("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout
        )
        config["users"] = [
            {"name": user, "user": {"client-certificate": str(cert), "client-key": str(key)}}
        ]
        for context in config["contexts"]:
            context["context"]["user"] = user
        path = self.workdir / f"user-{user}.yaml"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path, {"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any]:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return {}


def is_ready(obj: dict[str, Any] | None) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def secret_manifest(namespace: str, name: str, data: dict[str, str]) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )


def image_values() -> list[str]:
    """Helm --set flags for the image loaded into the cluster (E2E_IMAGE), if any."""
    image = os.environ.get("E2E_IMAGE", "")
    if not image:
        return []
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        raise pytest.UsageError(f"E2E_IMAGE must be repository:tag, got {image!r}")
    return [
        "--set",
        f"image.repository={repository}",
        "--set",
        f"image.tag={tag}",
        "--set",
        "image.pullPolicy=Never",
    ]


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("e2e")
    external = os.environ.get("E2E_KUBECONFIG")
    if external:
        yield Cluster(Path(external).resolve(), workdir, None)
        return
    plane = ControlPlane.start(
        workdir / "control-plane", [Identity.service_account(OPERATOR_NS, RELEASE)]
    )
    try:
        yield Cluster(plane.kubeconfig, workdir, plane)
    finally:
        plane.stop()


@dataclass
class Release:
    name: str
    namespace: str
    service_account: str
    install: subprocess.CompletedProcess[str]


@pytest.fixture(scope="package")
def release(cluster: Cluster) -> Iterator[Release]:
    """The chart installed as the operator runs in production: Cluster scope, its own
    ServiceAccount (named so that it is the identity the local control plane knows), the
    default credentials Secret (emulator keys) read by name."""
    cluster.ensure_namespace(OPERATOR_NS)
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=secret_manifest(OPERATOR_NS, SECRET, {"ak": DEFAULT_AK, "sk": DEFAULT_SK}),
    )
    install = cluster.helm(
        "install",
        RELEASE,
        str(CHART),
        "--namespace",
        OPERATOR_NS,
        "--set",
        "scope=Cluster",
        "--set",
        f"serviceAccount.name={RELEASE}",
        "--set",
        f"credentials.existingSecret={SECRET}",
        *image_values(),
    )
    try:
        yield Release(RELEASE, OPERATOR_NS, RELEASE, install)
    finally:
        cluster.helm("uninstall", RELEASE, "--namespace", OPERATOR_NS, check=False)


@pytest.fixture(scope="session")
def node_lifetime() -> Iterator[contextlib.ExitStack]:
    """The node and what runs on it (its emulator, its releases), torn down in reverse order:
    by the token's rotation, the node's last user, as soon as it has run (see
    :func:`pytest_collection_modifyitems`), or at the session's end if it did not run."""
    with contextlib.ExitStack() as lifetime:
        yield lifetime


def _stop_node(node: Node) -> None:
    node.stop()
    assert node.leftovers() == [], f"the node left behind: {node.leftovers()}"


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory, node_lifetime: contextlib.ExitStack) -> Node:
    """A single-node cluster running the images ``make image`` built, one for every in-pod
    test. Session scope so that the token's rotation can run after a few of the integration
    tier's modules (the kubelet's minutes spent testing); the rotation stops it, so it is gone
    before the integration tier's timing-sensitive tests. Its teardown must leave nothing on
    the host (processes, mounts, network namespaces, the bridge, iptables chains)."""
    missing = [str(a) for a in NODE_ARCHIVES if not a.is_file()]
    if missing:
        pytest.fail(f"image archives missing ({', '.join(missing)}): run `make image`")
    started = time.monotonic()
    node = Node.start(tmp_path_factory.mktemp("node"), images=NODE_ARCHIVES)
    node_lifetime.callback(_stop_node, node)
    print(f"node ready in {time.monotonic() - started:.1f}s")
    return node


# -- In the pod, keyless --------------------------------------------------------------------


@pytest.fixture(scope="session")
def pods(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    """kubectl and helm against the node's cluster."""
    return Cluster(node.kubeconfig, tmp_path_factory.mktemp("in-pod"), node.plane)


@pytest.fixture(scope="session")
def keyless_emulator(
    node: Node, tmp_path_factory: pytest.TempPathFactory, node_lifetime: contextlib.ExitStack
) -> EmulatorHandle:
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
    return node_lifetime.enter_context(run_emulator_in_thread(config, host=node.address))


def exchanges(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    """Every ID token the emulator's IAM was asked to exchange: pod, iat, outcome."""
    found: list[dict[str, Any]] = httpx.get(
        f"{emulator.url}/_emulator/iam/exchanges", timeout=10
    ).json()["exchanges"]
    return found


def operator_pods(
    pods: Cluster, release: str = RELEASE, namespace: str = OPERATOR_NS
) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/name=modelarts-operator,app.kubernetes.io/instance={release}"
    listed = pods.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


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


@pytest.fixture(scope="session")
def keyless_release(
    pods: Cluster, keyless_emulator: EmulatorHandle, node_lifetime: contextlib.ExitStack
) -> list[str]:
    """The chart installed with the local image and no key (OIDC federation); yields the --set
    flags it was installed with (upgrades keep them). A second release, ``rotation``, is
    installed right after it (its CRDs are the first release's): its pod keeps one projected
    token until the kubelet renews it, which ``test_rotation.py``, the package's last module,
    sees. Session scope (torn down with the node), so that pod lives through every other
    test meanwhile."""
    for namespace in (OPERATOR_NS, DEMO_NS, BURST_NS, HA_NS, ROTATION_NS):
        pods.ensure_namespace(namespace)
    flags = as_flags(keyless_values(keyless_emulator, DEMO_NS, BURST_NS, HA_NS))
    started = time.monotonic()
    pods.helm("install", RELEASE, str(CHART), "-n", OPERATOR_NS, *flags)
    node_lifetime.callback(
        pods.helm, "uninstall", RELEASE, "-n", OPERATOR_NS, "--wait", check=False
    )
    rotation = {
        **keyless_values(keyless_emulator, ROTATION_NS),
        "crds.install": "false",  # the first release owns them
        "modelarts.pollSettledSeconds": "10",  # a call every 10 s: refreshes as they fall due
    }
    pods.wait_established()  # the node's cluster has no CRD but the release's
    pods.helm("install", ROTATION, str(CHART), "-n", OPERATOR_NS, *as_flags(rotation))
    node_lifetime.callback(
        pods.helm, "uninstall", ROTATION, "-n", OPERATOR_NS, "--wait", check=False
    )
    pods.kubectl("apply", "-f", "-", input=workspace("probe", ROTATION_NS))
    rollout(pods)
    print(f"helm install to rolled out: {time.monotonic() - started:.1f}s")
    return flags


# Integration modules that run while the kubelet's clock runs on (before the token's rotation,
# with the node up): ones whose outcome does not hang on timing, for the node's load is theirs.
WHILE_THE_TOKEN_AGES = (
    "test_admission.py",
    "test_admission_corpus.py",
    "test_admission_llm.py",
    "test_admission_training_v2.py",
    "test_notebook_admission.py",
    "test_service_v2_admission.py",
    "test_control_plane.py",
    "test_status_cli.py",
    "test_argocd_fixtures.py",
    "test_argocd_e2e.py",
    "test_pipeline.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """This package's tests in the order that lets the kubelet's clock run while they do: the
    modules using the keyless releases first (the first test starts the node and the releases,
    the ``rotation`` release's pod among them), then everything else (the chart, the CRD
    upgrade, the demo, the node's own tests, RBAC), then — when the integration tier runs in
    the same session — its modules in :data:`WHILE_THE_TOKEN_AGES`, and the token's rotation
    last: the kubelet renews a projected token at 80 % of its lifetime, about 8 minutes after
    the pod started, minutes spent testing instead of waiting. The rotation then stops the
    node, before the rest of the integration tier. Modules stay whole (their fixtures are set
    up once); the other modules keep their order."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if item.path.parent == here]
    keyless = {
        items[i].path for i in slots if "keyless_release" in getattr(items[i], "fixturenames", ())
    }

    def rank(item: pytest.Item) -> int:
        if item.path.name == ROTATION_MODULE:
            return 2
        return 0 if item.path in keyless else 1

    for slot, item in zip(slots, sorted((items[i] for i in slots), key=rank), strict=True):
        items[slot] = item
    rotation = [item for item in items if item.path.parent == here and rank(item) == 2]
    if not rotation:
        return
    integration = here.parent / "integration"
    ageing = [
        item
        for item in items
        if item.path.parent == integration and item.path.name in WHILE_THE_TOKEN_AGES
    ]
    rest = [item for item in items if item not in rotation and item not in ageing]
    last_e2e = max((i for i, item in enumerate(rest) if item.path.parent == here), default=-1)
    items[:] = rest[: last_e2e + 1] + ageing + rotation + rest[last_e2e + 1 :]


@dataclass
class OperatorUnderTest:
    """`modelarts-operator run` on this machine with the ServiceAccount's kubeconfig: the
    same process and the same identity as the chart's pod."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self) -> str:
        return "operator log tail:\n" + self.log()[-4000:]


@contextlib.contextmanager
def run_as_service_account(
    cluster: Cluster,
    release: Release,
    emulator: Any,
    tmp_path_factory: pytest.TempPathFactory,
    **settings: str,
) -> Iterator[OperatorUnderTest]:
    """`modelarts-operator run` on this machine with the chart's ServiceAccount's identity and
    the environment the chart sets in Cluster scope (``settings``: more MODELARTS_* values),
    against ``emulator``; stopped on exit."""
    if os.environ.get("E2E_IMAGE"):
        # On a cluster with nodes the chart's own pod runs too: only one operator may act.
        cluster.kubectl("scale", f"deployment/{release.name}", "-n", OPERATOR_NS, "--replicas=0")
        cluster.kubectl(
            "wait", "--for=delete", "pod", "-l", f"app.kubernetes.io/instance={release.name}",
            "-n", OPERATOR_NS, "--timeout=60s", timeout=90, check=False,
        )  # fmt: skip
    kubeconfig = cluster.service_account_kubeconfig(OPERATOR_NS, release.service_account)
    cfg = emulator.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELARTS_")}
    env.update(
        MODELARTS_ENDPOINT=emulator.url,
        MODELARTS_IAM_ENDPOINT=emulator.url,
        MODELARTS_PROJECT_ID=cfg.project_id,
        MODELARTS_REGION=cfg.region,
        # What the chart sets in Cluster scope (no MODELARTS_NAMESPACES: cluster-wide).
        MODELARTS_CREDENTIALS_SECRET=f"{OPERATOR_NS}/{SECRET}",
        MODELARTS_POLL_ACTIVE_SECONDS="1",
        MODELARTS_POLL_SETTLED_SECONDS="5",
        MODELARTS_METRICS_PORT=str(free_port()),
        MODELARTS_HEALTH_PORT=str(free_port()),
        **settings,
    )
    log_path = tmp_path_factory.mktemp("operator-sa") / "operator.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelarts_operator",
                "run",
                "-v",
                "--kubeconfig",
                str(kubeconfig),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    op = OperatorUnderTest(proc, log_path)
    try:
        yield op
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
