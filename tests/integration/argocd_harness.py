"""A real Argo CD against the local control plane, as host processes: redis, the repo server and
the application controller from the argocd binary hack/build-argocd.sh builds (the binary's
name, ARGOCD_BINARY_NAME, picks the component). ``ARGOCD_FAKE_IN_CLUSTER=true`` with KUBECONFIG
makes the destination ``https://kubernetes.default.svc`` the local API server, and a local git
repository serves as ``repoURL: file:///...``. Everything started is stopped by PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelarts_testbed.controlplane import (
    REPO_ROOT,
    ControlPlane,
    _die_with_parent,
    free_port,
    tool_path,
)
from tests.unit.argocd.cases import argocd_tool, chart_health_data

NAMESPACE = "argocd"
# The controller compares git with the cluster on this period (and at once on a refresh
# annotation, which tests set after each commit, as a git webhook would).
RECONCILIATION = "10s"
# argocd-cm before the health checks are merged in.
SETTINGS = {
    # The pipeline kustomization refers to ../../0*.yaml (examples/argocd/README.md).
    "kustomize.buildOptions": "--load-restrictor LoadRestrictionsNone",
    "timeout.reconciliation": RECONCILIATION,
}


@dataclass
class ArgoCD:
    """redis + repo server + application controller, and the git repository they read."""

    cp: ControlPlane
    workdir: Path
    helm: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[Any] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    startup_seconds: float = 0.0  # from the first process started to the controller listening

    @property
    def repo(self) -> Path:
        return self.workdir / "repo"

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- setup -------------------------------------------------------------------------
    def install(self) -> None:
        """Argo CD's CRDs, its namespace, settings and the default AppProject."""
        # Applied and waited for here, not with ControlPlane.install_crds or `kubectl wait`:
        # until the API server processed them their status.conditions is null, which both
        # take for an error.
        crd_dir = argocd_tool("argocd").parent / "crds"
        for path in sorted(crd_dir.glob("*.yaml")):
            self.cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
        for crd in ("applications", "appprojects", "applicationsets"):
            self._wait_established(f"{crd}.argoproj.io")
        self.cp.kubectl("create", "namespace", NAMESPACE, check=False)
        labels = {"app.kubernetes.io/part-of": "argocd"}
        objects: list[dict[str, Any]] = [
            _configmap("argocd-cm", labels, SETTINGS),
            _configmap("argocd-rbac-cm", labels, {}),
            _configmap("argocd-cmd-params-cm", labels, {}),
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "argocd-secret", "namespace": NAMESPACE, "labels": labels},
                "stringData": {"server.secretkey": os.urandom(16).hex()},
            },
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AppProject",
                "metadata": {"name": "default", "namespace": NAMESPACE},
                "spec": {
                    "sourceRepos": ["*"],
                    "destinations": [{"server": "*", "namespace": "*"}],
                    "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
                },
            },
        ]
        for obj in objects:
            self.cp.kubectl("apply", "-f", "-", input=json.dumps(obj))
        self.merge_health_checks_as_documented()

    def merge_health_checks_as_documented(self) -> None:
        """Run argocd/README.md's command that merges the chart's health checks into
        argocd-cm, as written (with the pinned helm and kubectl first on PATH)."""
        readme = (REPO_ROOT / "argocd" / "README.md").read_text()
        command = readme.split("```sh\n", 1)[1].split("```", 1)[0]
        assert "kubectl -n argocd patch configmap argocd-cm" in command, command
        env = {
            **os.environ,
            "PATH": f"{self.helm.parent}:{tool_path('kubectl').parent}:{os.environ['PATH']}",
            "KUBECONFIG": str(self.cp.kubeconfig),
        }
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, f"argocd/README.md's command failed: {proc.stderr}"
        cm = json.loads(
            self.cp.kubectl("get", "configmap", "argocd-cm", "-n", NAMESPACE, "-o", "json").stdout
        )
        assert cm["data"] == {**chart_health_data(self.helm), **SETTINGS}, cm["data"]

    def _wait_established(self, crd: str, timeout: float = 60.0) -> None:
        query = '{.status.conditions[?(@.type=="Established")].status}'
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.cp.kubectl("get", "crd", crd, "-o", f"jsonpath={query}", check=False)
            if out.stdout.strip() == "True":
                return
            time.sleep(0.5)
        raise RuntimeError(f"CRD {crd} not established in {timeout}s")

    def init_repo(self, files: dict[str, Path]) -> None:
        """A git repository holding ``files`` (path in the repo -> source), one commit."""
        self.repo.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        for rel, source in files.items():
            target = self.repo / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        self.commit("the example pipeline")

    def git(self, *args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
        }
        proc = subprocess.run(
            ["git", "-C", str(self.repo), *args],
            capture_output=True, text=True, check=True, env=env, timeout=60,
        )  # fmt: skip
        return proc.stdout

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    # ---- processes ---------------------------------------------------------------------
    def start(self) -> None:
        started = time.monotonic()
        self.ports = {
            "redis": free_port(),
            "repo-server": free_port(),
            "repo-server-metrics": free_port(),
            "controller-metrics": free_port(),
        }
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("redis-server is not installed: run `make tools`")
        self._spawn(
            "redis",
            [redis, "--port", str(self.ports["redis"]), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
        )  # fmt: skip
        self._wait_port("redis", self.ports["redis"])
        redis_addr = f"127.0.0.1:{self.ports['redis']}"
        self._spawn(
            "repo-server",
            [str(argocd_tool("argocd")), "--port", str(self.ports["repo-server"]),
             "--metrics-port", str(self.ports["repo-server-metrics"]),
             "--redis", redis_addr, "--disable-tls", "--loglevel", "info"],
            binary_name="argocd-repo-server",
        )  # fmt: skip
        self._wait_port("repo-server", self.ports["repo-server"])
        self._spawn(
            "application-controller",
            [str(argocd_tool("argocd")),
             "--repo-server", f"127.0.0.1:{self.ports['repo-server']}",
             "--repo-server-plaintext", "--redis", redis_addr,
             "--metrics-port", str(self.ports["controller-metrics"]),
             "--persist-resource-health", "--namespace", NAMESPACE, "--loglevel", "info"],
            binary_name="argocd-application-controller",
        )  # fmt: skip
        self._wait_port("application-controller", self.ports["controller-metrics"])
        self.startup_seconds = time.monotonic() - started

    def _spawn(self, name: str, argv: list[str], binary_name: str | None = None) -> None:
        tools = argocd_tool("kustomize").parent
        home = self.workdir / "home"
        tmp = self.workdir / "tmp"
        home.mkdir(exist_ok=True)
        tmp.mkdir(exist_ok=True)
        env = {
            "PATH": f"{tools}:{os.environ.get('PATH', '/usr/bin:/bin')}",  # kustomize, git
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "KUBECONFIG": str(self.cp.kubeconfig),
            "ARGOCD_FAKE_IN_CLUSTER": "true",
            "ARGOCD_GPG_ENABLED": "false",
            "ARGOCD_TLS_DATA_PATH": str(self.workdir / "tls"),
            "ARGOCD_SSH_DATA_PATH": str(self.workdir / "ssh"),
            "ARGOCD_GNUPGHOME": str(self.workdir / "gpg"),
            "HOSTNAME": f"{name}-0",
        }
        if binary_name:
            env["ARGOCD_BINARY_NAME"] = binary_name
        log = (self.workdir / f"{name}.log").open("ab")
        self.logs.append(log)
        self.procs[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=self.workdir, preexec_fn=_die_with_parent,  # a crashed test leaves no Argo CD
        )  # fmt: skip

    def _wait_port(self, name: str, port: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log(name)[-3000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        tail = self.log(name)[-3000:]
        raise RuntimeError(f"{name} did not listen on {port} in {timeout}s: {tail}")

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM each process (controller first), SIGKILL what outlives ``grace``."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()
        for log in self.logs:
            log.close()
        self.logs.clear()

    def rss_mb(self) -> dict[str, int]:
        """Resident memory of each running process, in MiB (for the figures)."""
        sizes = {}
        for name, proc in self.procs.items():
            status = Path(f"/proc/{proc.pid}/status").read_text()
            kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
            sizes[name] = int(kib) // 1024
        return sizes

    def ports_in_use(self) -> list[int]:
        """The ports this Argo CD listened on that something still listens on."""
        busy = []
        for port in self.ports.values():
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    busy.append(port)
        return busy

    # ---- applications ------------------------------------------------------------------
    def apply_application(self, app: dict[str, Any]) -> None:
        self.cp.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=json.dumps(app))

    def refresh(self, name: str) -> None:
        """What a git webhook does: ask the controller to compare with git now."""
        self.cp.kubectl(
            "annotate", "application", name, "-n", NAMESPACE, "--overwrite",
            "argocd.argoproj.io/refresh=normal",
        )  # fmt: skip

    def application(self, name: str) -> dict[str, Any]:
        out = self.cp.kubectl("get", "application", name, "-n", NAMESPACE, "-o", "json").stdout
        app: dict[str, Any] = json.loads(out)
        return app


def _configmap(name: str, labels: dict[str, str], data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "data": data,
    }


def resource_health(app: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(kind, name) -> health status of each resource the Application manages."""
    return {
        (r["kind"], r["name"]): (r.get("health") or {}).get("status", "")
        for r in (app.get("status") or {}).get("resources") or []
    }


def load_yaml(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc
