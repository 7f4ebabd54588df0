"""`modelarts-operator demo`: the whole product on one laptop, no cloud account, no Docker.

It starts the local control plane (etcd + kube-apiserver), installs the CRDs, runs the
ModelArts emulator in a thread with short phase timings, writes the credentials Secret, starts
the operator as a subprocess (exactly as it runs in a pod), applies ``examples/`` into a
namespace and shows the objects converge live. Every process it starts dies with it: Ctrl-C
(SIGINT) or SIGTERM tears everything down, and the children carry PR_SET_PDEATHSIG so even a
SIGKILLed demo leaves nothing running.

``--exit-when-ready`` is the headless form for CI and tests: exit 0 with the Service URL once
the pipeline is Ready, non-zero naming the object and condition that is not.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from .controlplane import alive, free_port

if TYPE_CHECKING:
    from .controlplane import ControlPlane

GROUP_PATH = "/apis/modelarts.huaweicloud.com/v1alpha1"
# The example pipeline, in dependency order: (kind, plural).
PIPELINE: tuple[tuple[str, str], ...] = (
    ("Network", "networks"),
    ("ResourcePool", "resourcepools"),
    ("Workspace", "workspaces"),
    ("Algorithm", "algorithms"),
    ("TrainingJob", "trainingjobs"),
    ("Model", "models"),
    ("Service", "services"),
)
OPERATOR_NS = "modelarts-system"
SECRET = "modelarts-credentials"  # noqa: S105 - a Secret's name, not a secret
MARKER = ".modelarts-demo"  # only a directory holding this marker is ever wiped


class DemoError(RuntimeError):
    """The demo could not start or the pipeline failed; the message says what and where."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: tear down and exit."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="local control plane + emulator + operator + the example pipeline, live",
        description=(
            "Run the example pipeline (Network -> ResourcePool, Workspace -> Algorithm -> "
            "TrainingJob on the pool -> Model -> Service on the pool) against "
            "the ModelArts emulator on a local control plane and watch it converge. Ctrl-C "
            "tears everything down."
        ),
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".cluster/demo"),
        help="control plane state, kubeconfigs and logs (wiped at start; default .cluster/demo)",
    )
    parser.add_argument("--namespace", default="demo", help="namespace for the examples")
    parser.add_argument(
        "--examples", type=Path, default=None, help="manifests to apply (default: examples/)"
    )
    parser.add_argument(
        "--exit-when-ready",
        action="store_true",
        help="headless: exit 0 once the pipeline is Ready, non-zero on failure or timeout",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="with --exit-when-ready: seconds the pipeline may take to become Ready (default 300)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="emulator clock speed factor (default 1)"
    )
    parser.set_defaults(func=run)


# -- the view ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """What a person looks at for one object: phase and the two conditions."""

    kind: str
    name: str
    phase: str
    ready: tuple[str, str, str]  # status, reason, message
    synced: tuple[str, str, str]
    url: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def is_ready(self) -> bool:
        return self.ready[0] == "True"

    @property
    def failed(self) -> bool:
        """Terminal failure: the operator will not get this object to Ready by itself."""
        return self.phase == "Failed" or (self.ready[0] == "False" and self.ready[1] == "Failed")

    def describe(self) -> str:
        """One line naming the conditions, for failure reports."""
        parts = [f"{self.ref} phase={self.phase or '-'}"]
        for label, (status, reason, message) in (("Ready", self.ready), ("Synced", self.synced)):
            text = f"{label}={status or '?'}"
            if reason:
                text += f" reason={reason}"
            if message:
                text += f" message={message!r}"
            parts.append(text)
        return " ".join(parts)

    def cells(self) -> list[str]:
        def cond(c: tuple[str, str, str]) -> str:
            status, reason, message = c
            if status in ("", "True"):
                return status or "-"
            text = f"{status} {reason}".strip()
            return f"{text}: {message}" if message else text

        return [self.ref, self.phase or "-", cond(self.ready), cond(self.synced)]


def _condition(obj: dict[str, Any], type_: str) -> tuple[str, str, str]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return (
                str(cond.get("status") or ""),
                str(cond.get("reason") or ""),
                str(cond.get("message") or ""),
            )
    return ("", "", "")


def rows_from(objects: dict[str, list[dict[str, Any]]]) -> list[Row]:
    """Rows in pipeline order (kind, then name) from {plural: [objects]}."""
    rows: list[Row] = []
    for kind, plural in PIPELINE:
        for obj in sorted(objects.get(plural, []), key=lambda o: o["metadata"]["name"]):
            status = obj.get("status") or {}
            rows.append(
                Row(
                    kind=kind,
                    name=obj["metadata"]["name"],
                    phase=str(status.get("phase") or ""),
                    ready=_condition(obj, "Ready"),
                    synced=_condition(obj, "Synced"),
                    url=str(status.get("accessAddress") or ""),
                )
            )
    return rows


@dataclass
class Verdict:
    state: str  # "ready" | "failed" | "progressing"
    detail: str = ""
    url: str = ""


def judge(rows: Sequence[Row], expected: int) -> Verdict:
    """Ready when every applied object is Ready and a Service has a URL; failed on the first
    terminal failure; otherwise progressing, naming the first object still on its way."""
    for row in rows:
        if row.failed:
            return Verdict("failed", row.describe())
    services = [r for r in rows if r.kind == "Service"]
    if len(rows) >= expected and all(r.is_ready for r in rows) and services:
        urls = [r.url for r in services if r.url]
        if urls:
            return Verdict("ready", url=urls[0])
    waiting = next((r for r in rows if not r.is_ready), None)
    if waiting is not None:
        return Verdict("progressing", waiting.describe())
    if len(rows) < expected:
        return Verdict("progressing", f"only {len(rows)} of {expected} objects exist")
    return Verdict("progressing", "the Service has no access address yet")


class LiveView:
    """A table redrawn in place on a terminal; on a pipe, one line per object that changed."""

    HEADER = ("OBJECT", "PHASE", "READY", "SYNCED")

    def __init__(self, stream: IO[str], tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self._drawn = 0
        self._last: dict[str, list[str]] = {}

    def update(self, rows: Sequence[Row], elapsed: float, footer: str = "") -> None:
        if self.tty:
            self._redraw(rows, elapsed, footer)
        else:
            self._changes(rows, elapsed)

    def _redraw(self, rows: Sequence[Row], elapsed: float, footer: str) -> None:
        width = max(40, shutil.get_terminal_size((120, 24)).columns - 1)
        table = [list(self.HEADER), *(r.cells() for r in rows)]
        widths = [max(len(line[i]) for line in table) for i in range(3)]
        lines = []
        for cells in table:
            head = "  ".join(c.ljust(w) for c, w in zip(cells[:3], widths, strict=False))
            lines.append(f"  {head}  {cells[3]}"[:width])
        lines.append(f"  [{elapsed:5.1f}s] {footer}"[:width])
        out = []
        if self._drawn:
            out.append(f"\x1b[{self._drawn}F\x1b[J")  # back to the table's first line, clear
        out.append("\n".join(lines) + "\n")
        self.stream.write("".join(out))
        self.stream.flush()
        self._drawn = len(lines)

    def _changes(self, rows: Sequence[Row], elapsed: float) -> None:
        for row in rows:
            cells = row.cells()
            if self._last.get(row.ref) != cells:
                self._last[row.ref] = cells
                self.stream.write(
                    f"[{elapsed:6.1f}s] {cells[0]:<22} {cells[1]:<12} "
                    f"Ready={cells[2]}  Synced={cells[3]}\n"
                )
        self.stream.flush()

    def release(self) -> None:
        """Stop redrawing: what follows is printed below the last table."""
        self._drawn = 0


# -- the processes -----------------------------------------------------------------------------


def prepare_state_dir(state_dir: Path) -> None:
    """Start from a clean directory, but never wipe one this demo did not create, nor the
    directory of a demo that is still running."""
    if state_dir.exists() and any(state_dir.iterdir()):
        if not (state_dir / MARKER).exists():
            raise DemoError(f"{state_dir} exists and was not created by the demo; choose another")
        for pidfile in state_dir.glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                if alive(int(pidfile.read_text())) and pidfile.name == "demo.pid":
                    raise DemoError(f"a demo is already running in {state_dir}")
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / MARKER).write_text("state of `modelarts-operator demo`; wiped at its next start\n")
    (state_dir / "demo.pid").write_text(str(os.getpid()))


def demo_timings() -> Any:
    """Phases short enough to watch, long enough to see each one."""
    from .emulator import Timings

    return Timings(
        job_init=2.0,
        job_waiting=3.0,
        job_running=12.0,
        model_publishing=4.0,
        service_deploying=6.0,
        network_creating=2.0,
        pool_creating=4.0,
        jitter=0.1,
    )


def operator_env(emulator_url: str, config: Any) -> dict[str, str]:
    """The environment the chart would give the operator, pointed at the emulator. Inherited
    MODELARTS_* settings are dropped so the shell the demo runs in cannot redirect it."""
    from modelarts_operator.settings import ENV_PREFIX, OperatorSettings

    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    for name in OperatorSettings.model_fields:
        env.pop(ENV_PREFIX + name.upper(), None)
    env.update(
        MODELARTS_ENDPOINT=emulator_url,
        MODELARTS_IAM_ENDPOINT=emulator_url,
        MODELARTS_PROJECT_ID=config.project_id,
        MODELARTS_REGION=config.region,
        MODELARTS_CREDENTIALS_SECRET=f"{OPERATOR_NS}/{SECRET}",
        MODELARTS_POLL_ACTIVE_SECONDS="1",
        MODELARTS_POLL_SETTLED_SECONDS="5",
        MODELARTS_METRICS_PORT=str(free_port()),
        MODELARTS_HEALTH_PORT=str(free_port()),
    )
    return env


def secret_manifest(ak: str, sk: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET, "namespace": OPERATOR_NS},
            "type": "Opaque",
            "data": {
                "ak": base64.b64encode(ak.encode()).decode(),
                "sk": base64.b64encode(sk.encode()).decode(),
            },
        }
    )


@dataclass
class Demo:
    """The running pieces, torn down in reverse order by :meth:`close`."""

    state_dir: Path
    namespace: str
    examples: Path
    speed: float
    out: IO[str]
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    cp: ControlPlane | None = None
    emulator_url: str = ""
    operator: subprocess.Popen[bytes] | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def operator_log(self) -> Path:
        return self.state_dir / "operator.log"

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        start = time.monotonic()
        self.out.write(f"• {what} ... ")
        self.out.flush()
        try:
            yield
        except BaseException:
            self.out.write("failed\n")
            raise
        finally:
            self.out.flush()
        self.out.write(f"done ({time.monotonic() - start:.1f}s)\n")
        self.out.flush()

    def start(self) -> None:
        from .controlplane import REPO_ROOT, ControlPlane
        from .emulator import EmulatorConfig, run_emulator_in_thread

        crds = sorted((REPO_ROOT / "crds").glob("*.yaml"))
        manifests = sorted(self.examples.glob("*.yaml"))
        if not crds or not manifests:
            raise DemoError(
                f"no CRDs in {REPO_ROOT / 'crds'} or no manifests in {self.examples}: "
                "run the demo from a source checkout"
            )
        with self.step(f"starting etcd + kube-apiserver (state in {self.state_dir})"):
            self.cp = ControlPlane.start(self.state_dir)
            self.stack.callback(self._stop_control_plane)
        with self.step(f"installing {len(crds)} CRDs"):
            self.cp.install_crds(crds)
        with self.step("starting the ModelArts emulator"):
            config = EmulatorConfig(seed=1, speed=self.speed, timings=demo_timings())
            handle = self.stack.enter_context(run_emulator_in_thread(config))
            self.emulator_url = handle.url
        with self.step(f"writing the credentials Secret {OPERATOR_NS}/{SECRET}"):
            self.cp.kubectl("create", "namespace", OPERATOR_NS)
            self.cp.kubectl("apply", "-f", "-", input=secret_manifest(config.ak, config.sk))
        with self.step(f"starting the operator (log: {self.operator_log})"):
            self._start_operator(operator_env(handle.url, config))
        with self.step(f"applying {self.examples} into namespace {self.namespace}"):
            self.cp.kubectl("create", "namespace", self.namespace)
            self.cp.kubectl("apply", "-n", self.namespace, "-f", str(self.examples))
        pids = {
            "etcd": self.cp.pids[0],
            "kube-apiserver": self.cp.pids[1],
            "operator": self.operator.pid if self.operator else 0,
        }
        self.say("  pids: " + ", ".join(f"{k}={v}" for k, v in pids.items()))
        self.say(f"  emulator: {self.emulator_url}")

    def _start_operator(self, env: dict[str, str]) -> None:
        from .controlplane import _die_with_parent

        assert self.cp is not None
        health = env["MODELARTS_HEALTH_PORT"]
        log = self.stack.enter_context(self.operator_log.open("ab"))
        self.operator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelarts_operator",
                "run",
                "--kubeconfig",
                str(self.cp.kubeconfig),
                "--liveness",
                f"http://127.0.0.1:{health}/healthz",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            # Its own process group: a terminal's Ctrl-C reaches only the demo, which then
            # stops the operator first, in order.
            start_new_session=True,
            preexec_fn=_die_with_parent,  # deliberate: no orphan even if the demo is killed
        )
        (self.state_dir / "operator.pid").write_text(str(self.operator.pid))
        self.stack.callback(self._stop_operator)
        self._wait_healthy(int(health))

    def _wait_healthy(self, port: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.checkalive()
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            time.sleep(0.3)
        raise DemoError(f"the operator did not become healthy in {timeout:.0f}s; see its log")

    def checkalive(self) -> None:
        """Raise if a process the demo depends on has exited."""
        if self.operator is not None and self.operator.poll() is not None:
            tail = self.operator_log.read_text(errors="replace")[-2000:]
            raise DemoError(
                f"the operator exited ({self.operator.returncode}); last log lines:\n{tail}"
            )
        if self.cp is not None and (gone := self.cp.exited()):
            raise DemoError(f"{', '.join(gone)} exited; see {self.state_dir}")

    def snapshot(self) -> list[Row]:
        assert self.cp is not None
        objects: dict[str, list[dict[str, Any]]] = {}
        for _, plural in PIPELINE:
            status, body = self.cp.request(f"{GROUP_PATH}/namespaces/{self.namespace}/{plural}")
            if status == 200 and isinstance(body, dict):
                objects[plural] = list(body.get("items") or [])
        return rows_from(objects)

    def _stop_operator(self) -> None:
        proc = self.operator
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _stop_control_plane(self) -> None:
        if self.cp is not None:
            self.cp.stop()
            # Logs and kubeconfigs stay for a look afterwards; the database does not.
            shutil.rmtree(self.state_dir / "etcd", ignore_errors=True)

    def close(self) -> None:
        self.stack.close()
        with contextlib.suppress(OSError):
            (self.state_dir / "demo.pid").unlink()


# -- the command ---------------------------------------------------------------------------------


def _expected_objects(examples: Path) -> int:
    import yaml

    count = 0
    for path in sorted(examples.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(
                "modelarts.huaweicloud.com/"
            ):
                count += 1
    return count


def watch(
    demo: Demo,
    view: LiveView,
    expected: int,
    timeout: float | None,
    stop_on_failure: bool,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Verdict, list[Row]]:
    """Poll the objects until the pipeline is ready (or failed, or the timeout passed)."""
    start = clock()
    rows: list[Row] = []
    while True:
        demo.checkalive()
        rows = demo.snapshot()
        verdict = judge(rows, expected)
        elapsed = clock() - start
        footer = {
            "ready": "pipeline ready",
            "failed": "FAILED: " + verdict.detail,
            "progressing": "waiting: " + verdict.detail,
        }[verdict.state]
        view.update(rows, elapsed, footer)
        if verdict.state == "ready" or (verdict.state == "failed" and stop_on_failure):
            return verdict, rows
        if timeout is not None and elapsed > timeout:
            return Verdict("timeout", verdict.detail), rows
        time.sleep(0.5)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    state_dir: Path = args.state_dir.resolve()
    from .controlplane import REPO_ROOT, ControlPlaneError, tool_path

    examples: Path = (args.examples or REPO_ROOT / "examples").resolve()
    headless: bool = args.exit_when_ready
    previous = {
        sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    demo: Demo | None = None
    try:
        prepare_state_dir(state_dir)
        demo = Demo(state_dir, args.namespace, examples, args.speed, out)
        demo.start()
        view = LiveView(out, tty=out.isatty())
        verdict, _ = watch(
            demo,
            view,
            _expected_objects(examples),
            timeout=args.timeout if headless else None,
            stop_on_failure=headless,
        )
        view.release()
        elapsed = time.monotonic() - demo.started
        if verdict.state != "ready":
            what = "failed" if verdict.state == "failed" else f"not ready after {args.timeout:.0f}s"
            print(f"\nPipeline {what}: {verdict.detail}", file=sys.stderr)
            print(f"Operator log: {demo.operator_log}", file=sys.stderr)
            return 1
        demo.say(f"\nPipeline ready in {elapsed:.1f}s.")
        demo.say(f"Service URL: {verdict.url}")
        if headless:
            return 0
        assert demo.cp is not None
        kubectl = "kubectl" if shutil.which("kubectl") else str(tool_path("kubectl"))
        demo.say(
            "\nUse the cluster while the demo runs:\n"
            f"  export KUBECONFIG={demo.cp.kubeconfig}\n"
            f"  {kubectl} get modelarts -n {args.namespace}\n"
            f"  {kubectl} get configmap mnist-endpoint -n {args.namespace} -o yaml\n"
            f"Operator log: {demo.operator_log}\n"
            "Press Ctrl-C to stop; everything the demo started is torn down."
        )
        while True:
            demo.checkalive()
            time.sleep(0.5)
    except Interrupted as stop:
        print(f"\n{stop} received", file=sys.stderr)
        return 130 if stop.signum == signal.SIGINT else 143
    except (DemoError, ControlPlaneError) as err:
        print(f"\ndemo failed: {err}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the teardown short (it is bounded by its own timeouts).
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        if demo is not None:
            out.write("• tearing down (operator, emulator, kube-apiserver, etcd) ... ")
            out.flush()
            demo.close()
            out.write("done\n")
            out.flush()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
