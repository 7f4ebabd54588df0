"""The operator's integration rig: real kube-apiserver + CRDs, the emulator, the operator.

The operator runs as a subprocess (``modelarts-operator run``), exactly as in a pod, so tests
can restart or SIGKILL it. The emulator runs in a thread of the test process, so tests can
drive its clock and faults directly.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.controlplane import ControlPlane
from modelarts_operator.emulator import EmulatorConfig, Timings

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_NS = "modelarts-system"
SECRET = "modelarts-credentials"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def crds(control_plane: ControlPlane) -> ControlPlane:
    control_plane.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    return control_plane


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    from modelarts_operator.emulator import run_emulator_in_thread

    timings = Timings(job_running=8.0, model_publishing=2.0, service_deploying=3.0, jitter=0.0)
    with run_emulator_in_thread(EmulatorConfig(seed=7, timings=timings)) as handle:
        yield handle


def write_secret(cp: ControlPlane, namespace: str, name: str, data: dict[str, str]) -> None:
    cp.kubectl("create", "namespace", namespace, check=False)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }
    cp.kubectl("apply", "-f", "-", input=json.dumps(secret))


@dataclass
class OperatorProcess:
    """A running `modelarts-operator run` and how to reach its log and metrics."""

    cp: ControlPlane
    emulator_url: str
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelarts_operator",
                "run",
                "--verbose",
                "--kubeconfig",
                str(self.cp.kubeconfig),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def operator(
    crds: ControlPlane, emulator: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    cfg = emulator.config
    write_secret(crds, OPERATOR_NS, SECRET, {"ak": cfg.ak, "sk": cfg.sk})
    env = dict(os.environ)
    env.update(
        MODELARTS_ENDPOINT=emulator.url,
        MODELARTS_IAM_ENDPOINT=emulator.url,
        MODELARTS_PROJECT_ID=cfg.project_id,
        MODELARTS_REGION=cfg.region,
        MODELARTS_CREDENTIALS_SECRET=f"{OPERATOR_NS}/{SECRET}",
        MODELARTS_POLL_ACTIVE_SECONDS="1",
        MODELARTS_POLL_SETTLED_SECONDS="5",
        MODELARTS_METRICS_PORT=str(_free_port()),
        MODELARTS_HEALTH_PORT=str(_free_port()),
    )
    op = OperatorProcess(crds, emulator.url, tmp_path_factory.mktemp("operator") / "log", env)
    op.start()
    yield op
    op.stop()


Waiter = Callable[..., dict[str, Any]]


def get_obj(cp: ControlPlane, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    result = cp.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    if result.returncode != 0:
        return None
    obj: dict[str, Any] = json.loads(result.stdout)
    return obj


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any]:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return {}


def wait_for(
    cp: ControlPlane,
    kind: str,
    name: str,
    namespace: str,
    predicate: Callable[[dict[str, Any]], bool],
    timeout: float = 60.0,
    op: OperatorProcess | None = None,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    obj: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        obj = get_obj(cp, kind, name, namespace)
        if obj is not None and predicate(obj):
            return obj
        time.sleep(0.5)
    tail = op.log()[-4000:] if op else ""
    status = json.dumps((obj or {}).get("status"), indent=1)
    raise AssertionError(f"{kind}/{name} did not get there in {timeout}s; status={status}\n{tail}")


def ready(obj: dict[str, Any]) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def apply(cp: ControlPlane, manifest: dict[str, Any] | str, namespace: str) -> None:
    text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
    cp.kubectl("apply", "-n", namespace, "-f", "-", input=text)
