"""The e2e rig: one cluster for the whole package, the chart installed into it.

The cluster is whatever ``E2E_KUBECONFIG`` names (kind, a real cluster: the same suite runs
there, see ``make e2e-kind``), or else a fresh local control plane (etcd + kube-apiserver)
started for this package only, so no operator from another test tier acts on its objects.

``E2E_IMAGE`` (``repository:tag``) says the operator image is loaded into the cluster: the
chart then runs it (``pullPolicy: Never``) and the chart test waits for the rollout. Without it
(the local control plane has no kubelet) the chart's Deployment is only created, and the
operator under test runs on this machine with the ServiceAccount's identity.

``node`` is the single-node cluster (kubelet + containerd, :mod:`modelarts_operator.node`)
with the images ``make image`` built: the tests marked ``node`` run the chart's pod on it.
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

import pytest
import yaml

from modelarts_operator.controlplane import REPO_ROOT, ControlPlane, Identity, free_port, tool_path
from modelarts_operator.emulator import DEFAULT_AK, DEFAULT_SK
from modelarts_operator.node import Node

CHART = REPO_ROOT / "helm" / "modelarts-operator"
EXAMPLES = REPO_ROOT / "examples"
OPERATOR_NS = "modelarts-system"
RELEASE = "modelarts-operator"  # release, ServiceAccount and ClusterRole name
SECRET = "modelarts-credentials"
SERVICE_ACCOUNT = f"system:serviceaccount:{OPERATOR_NS}:{RELEASE}"
KUBE_VERSION = "v1.34.4"  # what `helm template` renders for (the pinned kube-apiserver)
IMAGES = REPO_ROOT / ".cluster" / "images"  # what `make image` writes
NODE_ARCHIVES = (IMAGES / "pause.tar", IMAGES / "modelarts-operator-dev.tar")


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


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A single-node cluster running the images ``make image`` built, one for every in-pod
    test; package scope, so it is gone before the integration tier's timing-sensitive tests.
    Its teardown must leave nothing on the host (processes, mounts, network namespaces, the
    bridge, iptables chains)."""
    missing = [str(a) for a in NODE_ARCHIVES if not a.is_file()]
    if missing:
        pytest.fail(f"image archives missing ({', '.join(missing)}): run `make image`")
    started = time.monotonic()
    node = Node.start(tmp_path_factory.mktemp("node"), images=NODE_ARCHIVES)
    print(f"node ready in {time.monotonic() - started:.1f}s")
    try:
        yield node
    finally:
        node.stop()
        assert node.leftovers() == [], f"the node left behind: {node.leftovers()}"


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
