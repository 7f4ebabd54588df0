"""A real single-node Kubernetes cluster as local processes: pods run, the chart runs.

On top of :class:`~modelarts_testbed.controlplane.ControlPlane` (etcd + kube-apiserver, here
serving pods) it starts containerd with runc and the bridge CNI plugin (Debian packages, see
``hack/node-deps.sh``), kube-controller-manager, kube-scheduler, a kubelet with a node
identity (``system:node:<name>`` in ``system:nodes``, limited by the Node authorizer) and
kube-proxy in iptables mode for ClusterIPs. Every component has its own configuration and
directories under the state directory and is a child process stopped by PID.

A container runtime leaves more behind than its processes: shims and containers (outside our
process tree), mounts (rootfs, shm, volumes, network namespaces), the pod bridge and iptables
chains. :meth:`Node.stop` removes each of them and :meth:`Node.leftovers` reports whatever is
still there, so a test can hold teardown to "nothing left".

Needs root (namespaces, mounts, iptables), like any kubelet.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .controlplane import (
    SERVICE_CIDR,
    ControlPlane,
    ControlPlaneError,
    Identity,
    free_port,
    pinned_versions,
    tool_path,
)

NODE_NAME = "modelarts-node"
POD_CIDR = "10.244.0.0/24"
BRIDGE = "modelarts0"  # the pod network's bridge (15 characters at most)
CNI_NETWORK = "modelarts-pods"
CNI_BIN_DIR = Path("/usr/lib/cni")
CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBEPODS = "kubepods"  # the cgroup the kubelet puts pods under (cgroupfs driver)
# Held (flock) by the process running a node for as long as it runs: one node per host (the
# bridge, the iptables chains and the cgroup tree are host-wide). A lock rather than "does the
# bridge exist", because a node whose process was killed leaves its bridge behind and the next
# start must tell that from a node still running. The file names the running node's state
# directory, so that the next start can remove what a killed node left (containers, mounts).
HOST_LOCK = Path("/run/modelarts-node.lock")
# Components that are known to sit on a first SIGTERM: they get a short grace before SIGKILL.
_STOP_GRACE = 5.0


class NodeError(ControlPlaneError):
    """The node could not be started, or teardown left something behind."""


def machine_address() -> str:
    """The address of the interface the default route leaves by: reachable from pods (their
    traffic to it is routed through the bridge) and what kube-apiserver advertises."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("198.51.100.1", 9))  # no packet is sent for a UDP connect
        except OSError as err:
            raise NodeError(f"no default route, so no address for the node: {err}") from err
        address: str = sock.getsockname()[0]
    if ipaddress.ip_address(address).is_loopback:
        raise NodeError("the default route leaves by loopback: no address pods can reach")
    return address


def _run(*argv: str, check: bool = True, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    if check and result.returncode != 0:
        raise NodeError(f"{' '.join(argv[:4])} failed ({result.returncode}): {result.stderr}")
    return result


def _ctr(socket_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """containerd's own client, in the namespace the CRI plugin (so the kubelet) uses."""
    argv = ["ctr", "--address", str(socket_path), "--namespace", "k8s.io", *args]
    return _run(*argv, check=check, timeout=300)


# -- the host state a node changes (for teardown and for the test that teardown is complete) --


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or below ``root`` (from /proc/self/mountinfo), deepest first."""
    prefix = str(root.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def _iptables_chains() -> set[tuple[str, str, str]]:
    """(command, table, chain) of every chain, IPv4 and IPv6."""
    chains = set()
    for command in ("iptables-save", "ip6tables-save"):
        if not shutil.which(command):
            continue
        table = ""
        for line in _run(command, check=False).stdout.splitlines():
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith(":"):
                chains.add((command.removesuffix("-save"), table, line[1:].split()[0]))
    return chains


def _delete_chains(chains: Iterable[tuple[str, str, str]]) -> None:
    """Remove chains and every rule that jumps to them (what kube-proxy --cleanup missed)."""
    chains = list(chains)
    by_table: dict[tuple[str, str], set[str]] = {}
    for command, table, chain in chains:
        by_table.setdefault((command, table), set()).add(chain)
    for (command, table), names in by_table.items():
        for rule in _run(command, "-t", table, "-S", check=False).stdout.splitlines():
            parts = rule.split()
            if parts[:1] == ["-A"] and any(
                parts[i + 1] in names for i, p in enumerate(parts[:-1]) if p in ("-j", "-g")
            ):
                _run(command, "-t", table, "-D", *parts[1:], check=False)
        for name in names:
            _run(command, "-t", table, "-F", name, check=False)
        for name in names:
            _run(command, "-t", table, "-X", name, check=False)


def claim_host(lock: Path = HOST_LOCK) -> int:
    """Take the host's node lock (an open file descriptor, released by closing it), or raise
    :class:`NodeError` naming it when another node holds it."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise NodeError(f"another node is running on this host (it holds {lock})") from None
    return fd


def _record(lock: int, state_dir: str) -> None:
    """Write the running node's state directory into the lock file (empty: none)."""
    os.ftruncate(lock, 0)
    os.pwrite(lock, state_dir.encode(), 0)


def _remove_containers(state_dir: Path) -> None:
    """runc's containers of the node at ``state_dir`` (pods outlive a stopped kubelet and
    containerd), then the shims, which containerd started detached and which name our socket."""
    runc_root = state_dir / "containerd" / "runc" / "k8s.io"
    socket_path = str(state_dir / "containerd" / "containerd.sock")
    if runc_root.is_dir():
        listed = _run("runc", "--root", str(runc_root), "list", "--quiet", check=False)
        for container in listed.stdout.split():
            _run("runc", "--root", str(runc_root), "delete", "--force", container, check=False)
    for pid in _processes_mentioning(socket_path):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _processes_mentioning(socket_path) and time.monotonic() < deadline:
        time.sleep(0.1)


def _remove_remains_of_a_killed_node(state_dir: Path | None) -> None:
    """A node was killed before its teardown (the caller holds the host lock, so none runs):
    remove what it left on the host, its containers, processes and mounts by the state
    directory it recorded in the lock, before the new node takes its baseline (chains left in
    place would count as the host's own and never be removed)."""
    if state_dir is not None:
        _remove_containers(state_dir)
        for pid in _processes_mentioning(f"{state_dir}/"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for point in _mounts_under(state_dir):
            _run("umount", "--lazy", point, check=False)
    if _link_exists(BRIDGE):
        _run("ip", "link", "delete", BRIDGE, check=False)
    with contextlib.suppress(ControlPlaneError):
        _run(str(tool_path("kube-proxy")), "--cleanup", check=False)
    _delete_chains(c for c in _iptables_chains() if c[2].startswith(("KUBE-", "CNI-")))
    for top in _cgroup_dirs(KUBEPODS):
        _remove_cgroup_tree(top)


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (the shims of our containerd name its
    socket; they are not our children, so this is how we find them)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


def _cgroup_dirs(name: str) -> list[Path]:
    """``<controller>/<name>`` cgroup directories on every hierarchy (cgroup v1 and v2)."""
    found = []
    for hierarchy in sorted(CGROUP_ROOT.iterdir()) if CGROUP_ROOT.is_dir() else []:
        if (hierarchy / name).is_dir():
            found.append(hierarchy / name)
        elif hierarchy.name == name and (CGROUP_ROOT / "cgroup.controllers").exists():
            found.append(hierarchy)  # pure cgroup v2: /sys/fs/cgroup/kubepods
    return found


def _remove_cgroup_tree(top: Path) -> None:
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: w[0].count("/"), reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def _named_netns() -> set[str]:
    """Network namespaces ``ip netns`` knows (containerd would put its own here unless told
    to keep them under its state directory)."""
    netns_dir = Path("/run/netns")
    return {p.name for p in netns_dir.iterdir()} if netns_dir.is_dir() else set()


@dataclass
class HostBaseline:
    """What existed before the node started: teardown removes only what came after."""

    chains: set[tuple[str, str, str]]
    netns: set[str]

    @classmethod
    def take(cls) -> HostBaseline:
        return cls(_iptables_chains(), _named_netns())


# -- the node --------------------------------------------------------------------------------


class Node:
    """A running single-node cluster; :meth:`start` it, :meth:`stop` it (or ``with``)."""

    def __init__(
        self, state_dir: Path, plane: ControlPlane, baseline: HostBaseline, lock: int
    ) -> None:
        self.state_dir = state_dir
        self.plane = plane
        self.baseline = baseline
        self._lock: int | None = lock
        self.name = NODE_NAME

    @property
    def address(self) -> str:
        return self.plane.address

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (group system:masters)."""
        return self.plane.kubeconfig

    @property
    def containerd_socket(self) -> Path:
        return self.state_dir / "containerd" / "containerd.sock"

    @property
    def runc_root(self) -> Path:
        return self.state_dir / "containerd" / "runc"

    @classmethod
    def start(
        cls,
        state_dir: Path | None = None,
        identities: Iterable[Identity] = (),
        images: Iterable[Path] = (),
        timeout: float = 300.0,
    ) -> Node:
        """Start every component, load ``images`` (archives, the pause image among them) into
        containerd and wait until the node is Ready and schedulable."""
        if os.geteuid() != 0:
            raise NodeError("a node needs root (network namespaces, mounts, iptables)")
        lock = claim_host()
        previous = os.read(lock, 4096).decode(errors="replace").strip()
        if previous or _link_exists(BRIDGE):
            _remove_remains_of_a_killed_node(Path(previous) if previous else None)
        if state_dir is None:
            state_dir = Path(tempfile.mkdtemp(prefix="modelarts-node-"))
        state_dir.mkdir(parents=True, exist_ok=True)
        _record(lock, str(state_dir.resolve()))
        baseline = HostBaseline.take()
        deadline = time.monotonic() + timeout
        try:
            plane = ControlPlane.start(
                state_dir / "control-plane",
                identities,
                address=machine_address(),
                serve_pods=True,
            )
        except BaseException:
            os.close(lock)
            raise
        node = cls(state_dir, plane, baseline, lock)
        try:
            node._start(list(images), deadline)
        except BaseException:
            node.stop()
            raise
        return node

    def _start(self, images: list[Path], deadline: float) -> None:
        self._start_containerd(deadline)
        for image in images:
            self.load_image(image)
        ca = self.plane.ca
        assert ca is not None
        components = self.state_dir / "components"
        components.mkdir(exist_ok=True)

        def kubeconfig(stem: str, user: str, groups: tuple[str, ...] = ()) -> Path:
            cert, key = ca.issue(stem, user, groups=groups)
            return self._write_kubeconfig(components / f"{stem}.kubeconfig", cert, key)

        kcm_kubeconfig = kubeconfig("controller-manager", "system:kube-controller-manager")
        self.plane.spawn(
            "kube-controller-manager",
            [
                str(tool_path("kube-controller-manager")),
                f"--kubeconfig={kcm_kubeconfig}",
                "--leader-elect=false",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={self.plane.state_dir / 'pki' / 'sa.key'}",
                f"--root-ca-file={ca.cert_file}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--secure-port=0",
                "--v=1",
            ],
        )
        self.plane.spawn(
            "kube-scheduler",
            [
                str(tool_path("kube-scheduler")),
                f"--kubeconfig={kubeconfig('scheduler', 'system:kube-scheduler')}",
                "--leader-elect=false",
                "--secure-port=0",
                "--v=1",
            ],
        )
        self._start_kubelet(
            kubeconfig("kubelet-client", f"system:node:{self.name}", ("system:nodes",))
        )
        self._start_kube_proxy(kubeconfig("kube-proxy", "system:kube-proxy"))
        self._wait_schedulable(deadline)

    def _write_kubeconfig(self, path: Path, cert: Path, key: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {
                        "server": self.plane.server,
                        "certificate-authority-data": base64.b64encode(
                            self.plane.ca_file.read_bytes()
                        ).decode(),
                    },
                }
            ],
            "users": [
                {
                    "name": "component",
                    "user": {"client-certificate": str(cert), "client-key": str(key)},
                }
            ],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "component"}}],
            "current-context": "local",
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    # -- containerd ---------------------------------------------------------------------------

    def _start_containerd(self, deadline: float) -> None:
        base = self.state_dir / "containerd"
        cni_conf = self.state_dir / "cni" / "net.d"
        cni_conf.mkdir(parents=True, exist_ok=True)
        (cni_conf / "10-modelarts.conflist").write_text(json.dumps(self._cni_config(), indent=1))
        pause = pinned_versions()["NODE_PAUSE_IMAGE"]
        config = f"""\
version = 2
root = "{base / "root"}"
state = "{base / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{self.containerd_socket}"
[ttrpc]
  address = "{base / "containerd.ttrpc.sock"}"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base / "opt"}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  # This machine does not let even root lower oom_score_adj: without this every sandbox fails
  # with "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  disable_hugetlb_controller = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{cni_conf}"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{self.runc_root}"
"""
        base.mkdir(parents=True, exist_ok=True)
        (base / "config.toml").write_text(config)
        self.plane.spawn("containerd", ["containerd", "--config", str(base / "config.toml")])
        while self._ctr("version", check=False).returncode != 0:
            if "containerd" in self.plane.exited():
                raise NodeError(f"containerd exited:\n{self.log_tail('containerd')}")
            if time.monotonic() > deadline:
                raise NodeError(f"containerd not ready:\n{self.log_tail('containerd')}")
            time.sleep(0.2)

    def _cni_config(self) -> dict[str, Any]:
        """A bridge with host-local addresses. No masquerading: pods reach this machine's
        address (the API server behind the ClusterIP, the emulator) through the bridge's
        gateway, and nothing else."""
        return {
            "cniVersion": "1.0.0",
            "name": CNI_NETWORK,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(self.state_dir / "cni" / "ipam"),
                    },
                }
            ],
        }

    def _ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _ctr(self.containerd_socket, *args, check=check)

    def load_image(self, archive: Path) -> None:
        """Import an image archive into the node's containerd (see :meth:`load_into`)."""
        self.load_into(self.state_dir, archive)

    @staticmethod
    def load_into(state_dir: Path, archive: Path) -> None:
        """Import an image archive (docker-archive or OCI) into the containerd of the node
        whose state is ``state_dir``: the kubelet finds it by the name it was archived under
        (``imagePullPolicy: Never`` needs nothing else)."""
        if not archive.is_file():
            raise NodeError(f"image archive {archive} is missing: run `make image`")
        _ctr(state_dir / "containerd" / "containerd.sock", "images", "import", str(archive))

    def images(self) -> list[str]:
        """The image names containerd knows (digests left out)."""
        listed = self._ctr("images", "list", "--quiet").stdout.split()
        return [name for name in listed if not name.startswith("sha256:")]

    # -- kubelet and kube-proxy ---------------------------------------------------------------

    def _start_kubelet(self, kubeconfig: Path) -> None:
        ca = self.plane.ca
        assert ca is not None
        kubelet_dir = self.state_dir / "kubelet"
        kubelet_dir.mkdir(exist_ok=True)
        serving_cert, serving_key = ca.issue(
            "kubelet-serving", self.name, ips=[self.address], dns=[self.name]
        )
        self.kubelet_port = free_port(self.address)
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # kubelet 1.34 refuses cgroup v1 unless told otherwise; this machine is hybrid.
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",
            "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "address": self.address,
            "port": self.kubelet_port,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": free_port(),
            "tlsCertFile": str(serving_cert),
            "tlsPrivateKeyFile": str(serving_key),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(ca.cert_file)},
            },
            "authorization": {"mode": "Webhook"},
            "clusterDomain": "cluster.local",
            "podLogsDir": str(self.state_dir / "pod-logs"),
            "staticPodPath": "",
            "registerNode": True,
            # A test node on a shared disk: never evict, never collect our imported images.
            "evictionHard": {
                "memory.available": "1Mi",
                "nodefs.available": "0%",
                "imagefs.available": "0%",
                "nodefs.inodesFree": "0%",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
            # How often each pod is synced (default 1m, each time 1-1.5 times this): a sync is
            # when the kubelet rewrites projected volumes, so a service-account token due for
            # renewal (at 80 % of its lifetime) is renewed within 15 s instead of 90 s, and a
            # ConfigMap or Secret volume follows its object as soon. A handful of pods: cheap.
            "syncFrequency": "10s",
        }
        (kubelet_dir / "config.yaml").write_text(yaml.safe_dump(config))
        self.plane.spawn(
            "kubelet",
            [
                str(tool_path("kubelet")),
                f"--config={kubelet_dir / 'config.yaml'}",
                f"--kubeconfig={kubeconfig}",
                f"--root-dir={kubelet_dir / 'root'}",
                f"--hostname-override={self.name}",
                f"--node-ip={self.address}",
                "--v=1",
            ],
        )

    def _start_kube_proxy(self, kubeconfig: Path) -> None:
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": str(kubeconfig)},
            "mode": "iptables",
            "clusterCIDR": POD_CIDR,
            "hostnameOverride": self.name,
            "bindAddress": self.address,
            "healthzBindAddress": f"127.0.0.1:{free_port()}",
            "metricsBindAddress": f"127.0.0.1:{free_port()}",
            # Leave the host's conntrack table size and route_localnet alone.
            "conntrack": {"maxPerCore": 0},
            "iptables": {"localhostNodePorts": False},
        }
        path = self.state_dir / "components" / "kube-proxy.yaml"
        path.write_text(yaml.safe_dump(config))
        self.plane.spawn("kube-proxy", [str(tool_path("kube-proxy")), f"--config={path}", "--v=1"])

    def _wait_schedulable(self, deadline: float) -> None:
        """Ready, without the not-ready taint (kube-controller-manager lifts it), with the
        root CA ConfigMap every projected service-account volume needs."""
        last = "no node yet"
        while time.monotonic() < deadline:
            if exited := self.plane.exited():
                raise NodeError(
                    f"{', '.join(exited)} exited:\n"
                    + "\n".join(self.log_tail(name) for name in exited)
                )
            status, node = self.plane.request(f"/api/v1/nodes/{self.name}")
            if status == 200:
                ready = any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in node.get("status", {}).get("conditions", [])
                )
                taints = [t["key"] for t in node.get("spec", {}).get("taints") or []]
                status, _ = self.plane.request(
                    "/api/v1/namespaces/default/configmaps/kube-root-ca.crt"
                )
                if ready and not taints and status == 200:
                    return
                last = f"ready={ready} taints={taints} root-ca={status}"
            time.sleep(1)
        raise NodeError(
            f"node {self.name} not schedulable in time ({last}):\n{self.log_tail('kubelet')}"
        )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.plane.state_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} ---\n{text[-chars:]}"

    # -- teardown -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every process by PID, then remove what the runtime left on the host:
        containers and their shims, mounts, the bridge, iptables chains, pod cgroups."""
        self.plane.stop(grace=_STOP_GRACE)
        _remove_containers(self.state_dir)
        for point in _mounts_under(self.state_dir):
            _run("umount", "--lazy", point, check=False)
        if _link_exists(BRIDGE):
            _run("ip", "link", "delete", BRIDGE, check=False)
        with contextlib.suppress(ControlPlaneError):
            _run(str(tool_path("kube-proxy")), "--cleanup", check=False)
        _delete_chains(self._new_chains())
        for top in _cgroup_dirs(KUBEPODS):
            _remove_cgroup_tree(top)
        if self._lock is not None:
            _record(self._lock, "")  # stopped cleanly: nothing for the next node to remove
            os.close(self._lock)  # the host is free for the next node
            self._lock = None

    def _new_chains(self) -> set[tuple[str, str, str]]:
        return {
            c
            for c in _iptables_chains() - self.baseline.chains
            if c[2].startswith(("KUBE-", "CNI-"))
        }

    def leftovers(self) -> list[str]:
        """What of the node is still on the host after :meth:`stop` (empty when clean)."""
        found = [f"process {pid}" for pid in _processes_mentioning(f"{self.state_dir}/")]
        found += [f"mount {point}" for point in _mounts_under(self.state_dir)]
        if _link_exists(BRIDGE):
            found.append(f"bridge {BRIDGE}")
        found += [f"iptables {cmd} -t {table} {chain}" for cmd, table, chain in self._new_chains()]
        found += [f"cgroup {top}" for top in _cgroup_dirs(KUBEPODS)]
        found += [f"netns {name}" for name in sorted(_named_netns() - self.baseline.netns)]
        return found

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
