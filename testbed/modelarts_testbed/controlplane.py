"""A real Kubernetes control plane (etcd + kube-apiserver) as local processes.

This is what controller-runtime's envtest does, for machines without Docker: the binaries are
built from the Go module proxy by ``hack/build-tools.sh`` and started on free loopback ports
with generated certificates, RBAC authorization and token-file identities. Tests use it through
the ``control_plane`` pytest fixture, people through ``make cluster``, and ``make demo`` runs
the operator against it.

Every child process is started with ``PR_SET_PDEATHSIG`` so that it dies with the process that
started it, even when that process is SIGKILLed: an interrupted test run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = REPO_ROOT / "tools" / "versions.env"
ADMIN = "admin"
# The API server's user towards kubelets (logs, exec, port-forward).
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"
_NO_POD_FLAGS = ("--disable-admission-plugins=ServiceAccount", "--authorization-mode=RBAC")
_TOOL_DIRS = {
    "etcd": ("etcd", "ETCD_VERSION"),
    "kube-apiserver": ("kubernetes", "KUBE_VERSION"),
    "kubectl": ("kubernetes", "KUBE_VERSION"),
    "helm": ("helm", "HELM_VERSION"),
    "promtool": ("prometheus", "PROMETHEUS_VERSION"),
    "kubelet": ("kubernetes", "KUBE_VERSION"),
    "kube-controller-manager": ("kubernetes", "KUBE_VERSION"),
    "kube-scheduler": ("kubernetes", "KUBE_VERSION"),
    "kube-proxy": ("kubernetes", "KUBE_VERSION"),
}


class ControlPlaneError(RuntimeError):
    """The control plane could not be started or did not become ready."""


def pinned_versions() -> dict[str, str]:
    """The tool versions pinned in tools/versions.env (the single source for the build too)."""
    versions: dict[str, str] = {}
    for line in VERSIONS_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            versions[key.strip()] = value.strip()
    return versions


def tools_dir() -> Path:
    """Where hack/build-tools.sh keeps the binaries (outside git, keyed by version)."""
    if explicit := os.environ.get("MODELARTS_TOOLS_DIR"):
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "modelarts-operator" / "tools"


def tool_path(name: str) -> Path:
    """Path of a pinned tool binary; ``MODELARTS_<NAME>`` in the environment overrides it."""
    override = os.environ.get("MODELARTS_" + name.upper().replace("-", "_"))
    if override:
        return Path(override)
    prefix, version_key = _TOOL_DIRS[name]
    path = tools_dir() / f"{prefix}-{pinned_versions()[version_key]}" / name
    if not path.is_file():
        raise ControlPlaneError(f"{name} is not built at {path}: run `make tools`")
    return path


@dataclass(frozen=True)
class Identity:
    """A user the API server knows from its token file (RBAC decides what it may do)."""

    name: str
    groups: tuple[str, ...] = ()
    token: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)

    @classmethod
    def service_account(cls, namespace: str, name: str) -> Identity:
        """The identity a pod running as ServiceAccount ``namespace/name`` would have."""
        return cls(
            f"system:serviceaccount:{namespace}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
        )


def free_port(address: str = "127.0.0.1") -> int:
    """A free TCP port on ``address`` (for the servers the harness and tests start)."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        port: int = sock.getsockname()[1]
        return port


def alive(pid: int) -> bool:
    """True while a process with this pid exists (ours or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    """preexec_fn: have the kernel SIGKILL the child when its parent goes away (an orphaned
    test server has nothing worth a graceful shutdown; SIGTERM left etcd hanging)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


class CertificateAuthority:
    """The cluster's CA: issues the API server's serving certificate and the client
    certificates of the node's components (their user is the CN, their groups the O)."""

    def __init__(self, cert_dir: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.cert_dir = cert_dir
        now = dt.datetime.now(dt.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "modelarts-operator-test-ca")]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        cert_dir.mkdir(parents=True, exist_ok=True)
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    @property
    def cert_file(self) -> Path:
        return self.cert_dir / "ca.crt"

    def issue(
        self,
        stem: str,
        common_name: str,
        *,
        groups: Sequence[str] = (),
        ips: Sequence[str] = (),
        dns: Sequence[str] = (),
    ) -> tuple[Path, Path]:
        """Write ``<stem>.crt``/``<stem>.key`` (usable for serving and as a client); returns
        their paths."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
        subject.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        names.extend(x509.DNSName(name) for name in dns)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return self._write(stem, cert, key)

    def _write(self, stem: str, cert: Any, key: Any) -> tuple[Path, Path]:
        from cryptography.hazmat.primitives import serialization

        cert_file, key_file = self.cert_dir / f"{stem}.crt", self.cert_dir / f"{stem}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(_pem_key(key))
        key_file.chmod(0o600)
        return cert_file, key_file


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    data: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data


def _write_service_account_keys(cert_dir: Path) -> None:
    """The key pair the API server signs (and checks) service-account tokens with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (cert_dir / "sa.key").write_bytes(_pem_key(sa_key))
    (cert_dir / "sa.key").chmod(0o600)
    (cert_dir / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


# The in-cluster names of the API server (the `kubernetes` Service's first IP of
# 10.0.0.0/24 and its DNS names): a pod verifies the server's certificate against these.
SERVICE_CIDR = "10.0.0.0/24"
SERVICE_IP = "10.0.0.1"
IN_CLUSTER_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)


def _decode(body: bytes) -> Any:
    """JSON bodies decoded, plain-text ones (``/readyz`` says ``ok``) as text."""
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


class ControlPlane:
    """A running etcd + kube-apiserver pair; use :meth:`start` and :meth:`stop` (or ``with``).

    With ``serve_pods`` the API server is the one a node and its pods can use (see
    :mod:`modelarts_testbed.node`): bound to the machine's ``address``, its certificate valid
    for the in-cluster names, ServiceAccount admission mounting tokens, the Node authorizer
    for kubelets, and a client certificate of its own to reach them.
    """

    def __init__(
        self,
        state_dir: Path,
        identities: Sequence[Identity],
        address: str = "127.0.0.1",
        serve_pods: bool = False,
    ) -> None:
        self.state_dir = state_dir
        self.identities = {ident.name: ident for ident in identities}
        self.address = address
        self.serve_pods = serve_pods
        self.port = 0
        self.ca: CertificateAuthority | None = None
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._logs: list[IO[bytes]] = []

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        state_dir: Path | None = None,
        identities: Iterable[Identity] = (),
        timeout: float = 90.0,
        apiserver_args: Sequence[str] = (),
        *,
        address: str = "127.0.0.1",
        serve_pods: bool = False,
    ) -> ControlPlane:
        """Start etcd and kube-apiserver and wait until the API answers and is usable.
        ``apiserver_args`` are extra kube-apiserver flags (an audit log, say)."""
        if state_dir is None:
            state_dir = Path(tempfile.mkdtemp(prefix="modelarts-cp-"))
        state_dir.mkdir(parents=True, exist_ok=True)
        admin = Identity(ADMIN, ("system:masters",))
        plane = cls(state_dir, [admin, *identities], address, serve_pods)
        try:
            plane._start(timeout, apiserver_args)
        except BaseException:
            plane.stop()
            raise
        return plane

    def _start(self, timeout: float, apiserver_args: Sequence[str] = ()) -> None:
        etcd, apiserver = tool_path("etcd"), tool_path("kube-apiserver")
        cert_dir = self.state_dir / "pki"
        self.ca = CertificateAuthority(cert_dir)
        ips, dns = [self.address, "127.0.0.1"], ["localhost"]
        if self.serve_pods:
            ips.append(SERVICE_IP)
            dns.extend(IN_CLUSTER_NAMES)
        self.ca.issue("apiserver", "kube-apiserver", ips=sorted(set(ips)), dns=dns)
        _write_service_account_keys(cert_dir)
        token_file = self.state_dir / "tokens.csv"
        token_file.write_text(
            "".join(
                f'{ident.token},{ident.name},{ident.name},"{",".join(ident.groups)}"\n'
                for ident in self.identities.values()
            )
        )
        token_file.chmod(0o600)

        etcd_client, etcd_peer = free_port(), free_port()
        self.spawn(
            "etcd",
            [
                str(etcd),
                "--name=test",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_client}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_client}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-cluster=test=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        self.port = free_port(self.address)
        self.spawn(
            "kube-apiserver",
            [
                str(apiserver),
                f"--etcd-servers=http://127.0.0.1:{etcd_client}",
                f"--bind-address={self.address}",
                f"--advertise-address={self.address}",
                f"--secure-port={self.port}",
                f"--cert-dir={cert_dir}",
                f"--tls-cert-file={cert_dir / 'apiserver.crt'}",
                f"--tls-private-key-file={cert_dir / 'apiserver.key'}",
                f"--client-ca-file={cert_dir / 'ca.crt'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={cert_dir / 'sa.pub'}",
                f"--service-account-signing-key-file={cert_dir / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--allow-privileged=true",
                *(self._pod_serving_flags() if self.serve_pods else _NO_POD_FLAGS),
                f"--token-auth-file={token_file}",
                "--profiling=false",
                "--v=1",
                *apiserver_args,
            ],
        )
        self._write_kubeconfigs()
        self._wait_ready(timeout)

    def _pod_serving_flags(self) -> list[str]:
        """Admission that mounts service-account tokens, the Node authorizer (a kubelet may
        touch only its own node and pods), and the API server's way to its kubelets (logs,
        exec): by InternalIP, with a client certificate the kubelets trust."""
        assert self.ca is not None
        cert, key = self.ca.issue(
            "apiserver-kubelet-client", KUBELET_CLIENT_USER, groups=("system:masters",)
        )
        return [
            "--enable-admission-plugins=NodeRestriction",
            "--authorization-mode=Node,RBAC",
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-client-certificate={cert}",
            f"--kubelet-client-key={key}",
            f"--kubelet-certificate-authority={self.ca.cert_file}",
        ]

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a child that dies with this process; its output goes to ``<name>.log``."""
        log = (self.state_dir / f"{name}.log").open("ab")
        self._logs.append(log)
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # deliberate: die with our process
            cwd=self.state_dir,
        )
        self._processes.append((name, proc))
        (self.state_dir / f"{name}.pid").write_text(str(proc.pid))
        return proc

    def stop(self, grace: float = 10.0) -> None:
        """Stop the processes, last started first (apiserver before etcd); idempotent.

        Some (kubelet, kube-scheduler) sometimes ignore a first SIGTERM for a minute, so each
        gets ``grace`` seconds before SIGKILL."""
        for _, proc in reversed(self._processes):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        return [proc.pid for _, proc in self._processes]

    def exited(self) -> list[str]:
        """Names of the processes that are no longer running."""
        return [name for name, proc in self._processes if proc.poll() is not None]

    # -- access ------------------------------------------------------------------------------

    @property
    def server(self) -> str:
        return f"https://{self.address}:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.state_dir / "pki" / "ca.crt"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (group system:masters)."""
        return self.kubeconfig_for(ADMIN)

    def kubeconfig_for(self, user: str) -> Path:
        """The kubeconfig of a declared identity; raises KeyError for an unknown one."""
        ident = self.identities[user]
        safe = ident.name.replace(":", "_")
        return self.state_dir / "kubeconfigs" / f"{safe}.yaml"

    def token_for(self, user: str) -> str:
        return self.identities[user].token

    def _write_kubeconfigs(self) -> None:
        import base64

        ca_data = base64.b64encode(self.ca_file.read_bytes()).decode()
        (self.state_dir / "kubeconfigs").mkdir(exist_ok=True)
        for ident in self.identities.values():
            config = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "local",
                        "cluster": {"server": self.server, "certificate-authority-data": ca_data},
                    }
                ],
                "users": [{"name": ident.name, "user": {"token": ident.token}}],
                "contexts": [
                    {
                        "name": "local",
                        "context": {"cluster": "local", "user": ident.name, "namespace": "default"},
                    }
                ],
                "current-context": "local",
            }
            path = self.kubeconfig_for(ident.name)
            path.write_text(yaml.safe_dump(config))
            path.chmod(0o600)

    def request(self, path: str, user: str = ADMIN) -> tuple[int, Any]:
        """GET ``path`` on the API server as ``user``: (status, decoded JSON body)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        req = urllib.request.Request(  # noqa: S310 - https to our own loopback server
            self.server + path, headers={"Authorization": f"Bearer {self.token_for(user)}"}
        )
        try:
            with urllib.request.urlopen(req, context=context, timeout=10) as resp:  # noqa: S310
                return resp.status, _decode(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, _decode(err.read())

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: object = "no answer"
        while time.monotonic() < deadline:
            for name in self.exited():
                tail = (self.state_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise ControlPlaneError(f"{name} exited early:\n{tail}")
            try:
                status, _ = self.request("/readyz")
                if status == 200:
                    status, _ = self.request("/api/v1/namespaces/default")
                    if status == 200:
                        return
                last = status
            except (OSError, ssl.SSLError) as err:
                last = err
            time.sleep(0.25)
        raise ControlPlaneError(f"kube-apiserver not ready after {timeout:.0f}s (last: {last})")

    # -- tools -------------------------------------------------------------------------------

    def _tool_env(self, user: str) -> dict[str, str]:
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig_for(user))
        home = self.state_dir / "home"
        env.update(
            HELM_CACHE_HOME=str(home / "helm-cache"),
            HELM_CONFIG_HOME=str(home / "helm-config"),
            HELM_DATA_HOME=str(home / "helm-data"),
        )
        return env

    def kubectl(
        self,
        *args: str,
        user: str = ADMIN,
        input: str | None = None,  # mirrors subprocess.run
        check: bool = True,
        timeout: float = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl as ``user``; raises on failure when ``check``."""
        return self._run([str(tool_path("kubectl")), *args], user, input, check, timeout)

    def helm(
        self, *args: str, user: str = ADMIN, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned helm as ``user``."""
        return self._run([str(tool_path("helm")), *args], user, None, check, timeout)

    def _run(
        self, argv: list[str], user: str, input: str | None, check: bool, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv,
            env=self._tool_env(user),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise ControlPlaneError(
                f"{' '.join(argv[:3])}... failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result

    def install_crds(self, paths: Iterable[Path], timeout: float = 60.0) -> list[str]:
        """Apply CRD manifests and wait until each is Established and served by discovery."""
        names: list[tuple[str, str, str]] = []  # (crd name, group/version, plural)
        for path in paths:
            for doc in yaml.safe_load_all(Path(path).read_text()):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                served = [v["name"] for v in spec["versions"] if v.get("served", True)]
                names.extend(
                    (doc["metadata"]["name"], f"{spec['group']}/{v}", spec["names"]["plural"])
                    for v in served
                )
            self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
        deadline = time.monotonic() + timeout
        for crd, group_version, plural in names:
            while True:
                status, body = self.request(
                    f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}"
                )
                conditions = (body or {}).get("status", {}).get("conditions", [])
                established = any(
                    c["type"] == "Established" and c["status"] == "True" for c in conditions
                )
                status, discovery = self.request(f"/apis/{group_version}")
                served_plurals = {r["name"] for r in (discovery or {}).get("resources", [])}
                if established and status == 200 and plural in served_plurals:
                    break
                if time.monotonic() > deadline:
                    raise ControlPlaneError(f"CRD {crd} not established after {timeout:.0f}s")
                time.sleep(0.2)
        return sorted({crd for crd, _, _ in names})


@contextlib.contextmanager
def running(
    state_dir: Path | None = None,
    identities: Iterable[Identity] = (),
    apiserver_args: Sequence[str] = (),
) -> Iterator[ControlPlane]:
    """``with running() as cp:`` — a control plane for the duration of the block."""
    plane = ControlPlane.start(state_dir, identities, apiserver_args=apiserver_args)
    try:
        yield plane
    finally:
        plane.stop()
        if state_dir is None:
            shutil.rmtree(plane.state_dir, ignore_errors=True)
