"""The operator's integration rig: real kube-apiserver + CRDs, the emulator, the operator.

The operator runs as a subprocess (``modelarts-operator run``), exactly as in a pod, so tests
can restart or SIGKILL it. The emulator runs in a thread of the test process, so tests can
drive its clock and faults directly.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_testbed.controlplane import ControlPlane, free_port
from modelarts_testbed.emulator import EmulatorConfig, Timings

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_NS = "modelarts-system"
SECRET = "modelarts-credentials"
SECOND_PROJECT = "fedcba9876543210fedcba9876543210"


# Kinds whose spec.name is required and names the remote object in the whole project.
PROJECT_NAMED = ("Network", "ResourcePool")


def examples_in(namespace: str, out: Path) -> Path:
    """examples/ for one namespace of the shared emulator: the Network and ResourcePool get
    names of their own (ModelArts names them project-wide, as a second team applying the
    examples would), the rest is as shipped."""
    out.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "examples").glob("*.yaml"):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        for doc in docs:
            if doc["kind"] in PROJECT_NAMED:
                doc["spec"]["name"] = f"{doc['spec']['name']}-{namespace}"
        (out / path.name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return out


@pytest.fixture(scope="session")
def crds(control_plane: ControlPlane) -> ControlPlane:
    control_plane.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    return control_plane


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    from modelarts_testbed.emulator import run_emulator_in_thread

    timings = Timings(job_running=8.0, model_publishing=2.0, service_deploying=3.0, jitter=0.0)
    # A second project of the same account, for a namespace moved to another project.
    config = EmulatorConfig(seed=7, timings=timings, extra_projects={SECOND_PROJECT: "second"})
    with run_emulator_in_thread(config) as handle:
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
    kubeconfig: Path | None = None  # default: the control plane's admin

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
                str(self.kubeconfig or self.cp.kubeconfig),
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
        MODELARTS_RESYNC_MINIMUM_SECONDS="1",  # the drift tests resync every 2 s
        MODELARTS_METRICS_PORT=str(free_port()),
        MODELARTS_HEALTH_PORT=str(free_port()),
    )
    op = OperatorProcess(crds, emulator.url, tmp_path_factory.mktemp("operator") / "log", env)
    op.start()
    yield op
    op.stop()


@pytest.fixture
def operator_stopped(operator: OperatorProcess) -> Iterator[ControlPlane]:
    """The control plane with the shared operator stopped, for tests that drive the
    reconcile machinery themselves; they delete their objects before it starts again."""
    operator.stop()
    try:
        yield operator.cp
    finally:
        operator.start()


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
        if obj is not None and _holds(predicate, obj):
            return obj
        time.sleep(0.5)
    tail = op.log()[-4000:] if op else ""
    status = json.dumps((obj or {}).get("status"), indent=1)
    raise AssertionError(f"{kind}/{name} did not get there in {timeout}s; status={status}\n{tail}")


def _holds(predicate: Callable[[dict[str, Any]], bool], obj: dict[str, Any]) -> bool:
    """A predicate over a field the operator has not written yet is "not yet", not an error.

    Right after `kubectl apply` an object has no `status` at all; a predicate such as
    `o["status"]["phase"] == "Running"` must then keep waiting (the timeout's message shows the
    status that was there), not fail the test on the first poll.
    """
    try:
        return bool(predicate(obj))
    except (KeyError, TypeError, IndexError):
        return False


def ready(obj: dict[str, Any]) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def apply(cp: ControlPlane, manifest: dict[str, Any] | str, namespace: str) -> None:
    text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
    cp.kubectl("apply", "-n", namespace, "-f", "-", input=text)


# -- helpers for the behaviour tests (lifecycle, errors, deletion, drift, policies) ------------

NAME_FIELDS = {
    "workspace": "name",
    "training_job": "job_name",
    "model": "model_name",
    "service": "service_name",
}


def remote_objects(emulator: Any, kind: str) -> list[dict[str, Any]]:
    """The emulator's raw records of one kind (what exists remotely, whatever the operator
    believes)."""
    import httpx

    resp = httpx.get(f"{emulator.url}/_emulator/objects/{kind}", timeout=10)
    resp.raise_for_status()
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def remote_named(emulator: Any, kind: str, name: str) -> list[dict[str, Any]]:
    """Live remote objects of ``kind`` called ``name`` (a deleted workspace is not live)."""
    field = NAME_FIELDS[kind]
    return [
        r
        for r in remote_objects(emulator, kind)
        if r.get(field) == name and not (kind == "workspace" and r.get("status") == "DELETING")
    ]


def remote_by_id(emulator: Any, kind: str, ident: Any) -> dict[str, Any] | None:
    key = {"workspace": "id", "training_job": "job_id", "model": "model_id"}.get(kind, "service_id")
    for rec in remote_objects(emulator, kind):
        if str(rec.get(key)) == str(ident):
            if kind == "workspace" and rec.get("status") == "DELETING":
                return None
            return rec
    return None


def namespace(cp: ControlPlane, name: str, annotations: dict[str, str] | None = None) -> str:
    """A fresh namespace for one test (each test owns its namespace)."""
    cp.kubectl("create", "namespace", name, check=False)
    if annotations:
        pairs = [f"{k}={v}" for k, v in annotations.items()]
        cp.kubectl("annotate", "namespace", name, "--overwrite", *pairs)
    return name


def events_for(cp: ControlPlane, namespace: str, name: str) -> list[dict[str, Any]]:
    """Kubernetes events whose involved object is ``name`` (what `kubectl describe` shows)."""
    out = cp.kubectl(
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        f"involvedObject.name={name}",
        "-o",
        "json",
    ).stdout
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def delete_obj(cp: ControlPlane, kind: str, name: str, ns: str, timeout: float = 60.0) -> None:
    """Delete an object and wait until it is gone from the API server (finalizer done)."""
    cp.kubectl("delete", kind, name, "-n", ns, "--wait=false", check=False)
    wait_until(lambda: get_obj(cp, kind, name, ns) is None, timeout, f"{kind}/{name} to go")


def merge_patch(cp: ControlPlane, kind: str, name: str, ns: str, patch: dict[str, Any]) -> None:
    cp.kubectl("patch", kind, name, "-n", ns, "--type=merge", "-p", json.dumps(patch))


def synced(obj: dict[str, Any]) -> bool:
    cond = condition(obj, "Synced")
    gen = obj["metadata"].get("generation")
    return cond.get("status") == "True" and cond.get("observedGeneration") == gen


# -- isolated stacks (reliability suites): own emulator + own operator ------------------------
#
# A chaos test kills operators, injects faults into and restarts the emulator. It does that to
# its own emulator and its own operator (watching only its namespace), with the shared session
# operator stopped for the duration, so the rest of the session sees none of it.

ALL_KINDS = ("workspaces", "trainingjobs", "models", "services", "notebooks")
PLURAL_PATH = "/apis/modelarts.huaweicloud.com/v1alpha1/namespaces/{ns}/{plural}"


def kube_http(cp: ControlPlane) -> Any:
    """A synchronous admin client for the API server (bulk reads and patches in tests)."""
    import httpx

    from modelarts_testbed.controlplane import ADMIN

    return httpx.Client(
        base_url=cp.server,
        verify=ssl.create_default_context(cafile=str(cp.ca_file)),
        headers={"Authorization": f"Bearer {cp.token_for(ADMIN)}"},
        timeout=30.0,
    )


def list_kind(http: Any, namespace: str, plural: str) -> list[dict[str, Any]]:
    resp = http.get(PLURAL_PATH.format(ns=namespace, plural=plural))
    resp.raise_for_status()
    items: list[dict[str, Any]] = resp.json().get("items", [])
    return items


def strip_finalizers(http: Any, namespace: str) -> int:
    """Remove every finalizer of this operator's objects in ``namespace`` (test teardown only:
    a stack's objects must never reach another operator and its emulator)."""
    stripped = 0
    for plural in ALL_KINDS:
        for obj in list_kind(http, namespace, plural):
            if obj["metadata"].get("finalizers"):
                path = PLURAL_PATH.format(ns=namespace, plural=plural)
                http.patch(
                    f"{path}/{obj['metadata']['name']}",
                    content=json.dumps({"metadata": {"finalizers": None}}),
                    headers={"Content-Type": "application/merge-patch+json"},
                )
                stripped += 1
    return stripped


@dataclass
class Stack:
    """An emulator (in a thread of this process) and an operator watching one namespace."""

    cp: ControlPlane
    namespace: str
    emulator_config: EmulatorConfig
    workdir: Path
    credentials: str = "aksk"  # or "password"
    port: int = 0
    handle: Any = None
    op: OperatorProcess | None = None
    _emulator_cm: Any = None
    tokens_seen: set[str] | None = None

    @property
    def admin(self) -> Any:
        return self.handle.admin

    def start_emulator(self) -> None:
        from modelarts_testbed.emulator import run_emulator_in_thread

        self._emulator_cm = run_emulator_in_thread(self.emulator_config, port=self.port)
        self.handle = self._emulator_cm.__enter__()
        self.port = int(self.handle.url.rsplit(":", 1)[1])

    def stop_emulator(self) -> None:
        if self._emulator_cm is not None:
            self._collect_tokens()
            self._emulator_cm.__exit__(None, None, None)
            self._emulator_cm = None

    def _collect_tokens(self) -> None:
        """Remember every IAM token this emulator issued, for the leak scan."""
        if self.handle is None:
            return
        if self.tokens_seen is None:
            self.tokens_seen = set()
        self.tokens_seen.update(self.handle.emulator.core.tokens._tokens)

    def secret_values(self) -> list[str]:
        cfg = self.emulator_config
        values = [cfg.sk] if self.credentials == "aksk" else [cfg.iam_password]
        self._collect_tokens()
        return values + sorted(self.tokens_seen or ())

    def start(self) -> None:
        self.start_emulator()
        cfg = self.emulator_config
        data = (
            {"ak": cfg.ak, "sk": cfg.sk}
            if self.credentials == "aksk"
            else {"username": cfg.iam_user, "password": cfg.iam_password, "domain": cfg.iam_domain}
        )
        write_secret(self.cp, self.namespace, "modelarts-credentials", data)
        env = dict(os.environ)
        env.pop("MODELARTS_CREDENTIALS_SECRET", None)
        env.update(
            MODELARTS_ENDPOINT=self.handle.url,
            MODELARTS_IAM_ENDPOINT=self.handle.url,
            MODELARTS_PROJECT_ID=cfg.project_id,
            MODELARTS_REGION=cfg.region,
            MODELARTS_CREDENTIALS_SECRET=f"{self.namespace}/modelarts-credentials",
            MODELARTS_NAMESPACES=self.namespace,
            MODELARTS_POLL_ACTIVE_SECONDS="1",
            MODELARTS_POLL_SETTLED_SECONDS="5",
            MODELARTS_RESYNC_MINIMUM_SECONDS="1",
            MODELARTS_METRICS_PORT=str(free_port()),
            MODELARTS_HEALTH_PORT=str(free_port()),
        )
        self.op = OperatorProcess(self.cp, self.handle.url, self.workdir / "operator.log", env)
        self.op.start()

    def snapshot(self) -> Path:
        """Events and objects of the namespace, kept for the secret scan (the namespace and
        its events go away at teardown)."""
        path = self.workdir / "snapshot.json"
        events = self.cp.kubectl("get", "events", "-n", self.namespace, "-o", "json", check=False)
        objects = self.cp.kubectl(
            "get", "modelarts", "-n", self.namespace, "-o", "json", check=False
        )
        path.write_text(json.dumps({"events": events.stdout, "objects": objects.stdout}))
        return path

    def close(self) -> None:
        if self.op is not None:
            self.op.stop(signal.SIGKILL)
        STACK_SNAPSHOTS.append(self.snapshot())
        with kube_http(self.cp) as http:
            strip_finalizers(http, self.namespace)
        self.cp.kubectl("delete", "namespace", self.namespace, "--wait=false", check=False)
        self.stop_emulator()


STACK_LOGS: list[Path] = []  # every isolated operator's log, for the secret scan
STACK_SECRETS: list[str] = []  # every secret value an isolated stack used
STACK_SNAPSHOTS: list[Path] = []  # events and objects of every isolated namespace


@contextlib.contextmanager
def isolated_stack(
    shared: OperatorProcess,
    namespace: str,
    workdir: Path,
    emulator_config: EmulatorConfig,
    credentials: str = "aksk",
) -> Iterator[Stack]:
    """Stop the shared operator, run an own emulator + operator for ``namespace``, and undo it
    all afterwards (objects left behind lose their finalizers; the shared operator restarts)."""
    shared.stop()
    stack = Stack(shared.cp, namespace, emulator_config, workdir, credentials)
    try:
        stack.start()
        yield stack
    finally:
        try:
            stack.close()
        finally:
            if stack.op is not None:
                STACK_LOGS.append(stack.op.log_path)
            STACK_SECRETS.extend(stack.secret_values())
            shared.start()


def wait_all(
    http: Any,
    namespace: str,
    plurals: tuple[str, ...],
    predicate: Callable[[dict[str, Any]], bool],
    expected: int,
    timeout: float,
    op: OperatorProcess | None = None,
) -> list[dict[str, Any]]:
    """Wait until ``expected`` objects of ``plurals`` exist and all satisfy ``predicate``."""
    deadline = time.monotonic() + timeout
    objs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        objs = [o for p in plurals for o in list_kind(http, namespace, p)]
        if len(objs) == expected and all(predicate(o) for o in objs):
            return objs
        time.sleep(1.0)
    bad = [o for o in objs if not predicate(o)][:3]
    tail = op.log()[-3000:] if op else ""
    summary = json.dumps([{o["metadata"]["name"]: o.get("status")} for o in bad], indent=1)
    raise AssertionError(
        f"{len(objs)}/{expected} objects, {len(bad)}+ not there after {timeout}s:\n"
        f"{summary[:4000]}\n{tail}"
    )


def modelarts(emulator: Any, call: Callable[[Any], Any]) -> Any:
    """Run ``await call(client)`` with a ModelArts client of the emulator's default account
    (what a person would see with the SDK)."""
    import asyncio

    from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient

    cfg = emulator.config

    async def main() -> Any:
        config = ClientConfig(
            project_id=cfg.project_id,
            region=cfg.region,
            endpoint=emulator.url,
            iam_endpoint=emulator.url,
            max_retries=1,
        )
        async with ModelArtsClient(config, AkSkCredentials(ak=cfg.ak, sk=cfg.sk)) as client:
            return await call(client)

    return asyncio.run(main())


def remote_service_status(emulator: Any, service_id: str) -> str | None:
    """The service's status as the API reports it, or None when it does not exist."""
    from modelarts_operator.api import errors

    async def get(client: Any) -> str | None:
        try:
            svc = await client.services.get(service_id)
        except errors.NotFound:
            return None
        return str(svc.status)

    result: str | None = modelarts(emulator, get)
    return result


RECONCILE_REQUEST = "modelarts.huaweicloud.com/reconcile-request"


def _handled_as_is(obj: dict[str, Any]) -> bool:
    """kopf recorded this very configuration (spec, labels, annotations) as handled: its
    diff base, a digest of the essence (reconcile/bookkeeping.py), is the current one's."""
    import kopf

    from modelarts_operator.reconcile.bookkeeping import DiffBase

    storage = DiffBase()  # what handlers.configure gives kopf
    body = kopf.Body(obj)
    return storage.fetch(body=body) == storage.build(body=body)


def handler_idle(obj: dict[str, Any]) -> bool:
    """kopf has handled the object's current spec and annotations and has no retry scheduled:
    the last-handled configuration matches, and no progress annotation of a handler is left
    (kopf keeps one while a handler waits to be retried)."""
    annotations = obj["metadata"].get("annotations") or {}
    progress = [k for k in annotations if k.startswith("kopf.modelarts.huaweicloud.com/reconcile")]
    return _handled_as_is(obj) and not progress


def reconciled_again(cp: ControlPlane, kind: str, name: str, ns: str, op: Any = None) -> None:
    """Make the operator reconcile the object once more, and wait until it has: a barrier
    after which anything the operator was going to do for the object's state is done."""
    stamp = f"test-{time.monotonic_ns()}"
    cp.kubectl("annotate", kind, name, "-n", ns, "--overwrite", f"{RECONCILE_REQUEST}={stamp}")

    def handled(obj: dict[str, Any]) -> bool:
        annotations = obj["metadata"].get("annotations") or {}
        return annotations.get(RECONCILE_REQUEST) == stamp and handler_idle(obj)

    wait_for(cp, kind, name, ns, handled, op=op)
