"""`modelarts-operator cluster|node up|down|status`: the local clusters for people and scripts.

``cluster`` is the control plane (etcd + kube-apiserver); ``node`` the single-node cluster
that runs pods (:mod:`modelarts_testbed.node`). ``up`` starts a detached supervisor
(``<kind> serve``) that owns the processes and returns once the cluster is ready, leaving the
admin kubeconfig at ``<state-dir>/kubeconfig``. ``down`` stops the supervisor (it stops its
children; they die with it in any case) and removes the state. ``node load <archive>`` imports
an image into a running node's containerd.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .controlplane import alive

PIDFILE = "supervisor.pid"


IMAGES = Path(".cluster/images")  # where hack/build-image.sh leaves its archives


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cluster", help="run a local etcd + kube-apiserver (no Docker needed)"
    )
    parser.add_argument("action", choices=["up", "down", "status", "serve"])
    parser.add_argument("--state-dir", type=Path, default=Path(".cluster"))
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.set_defaults(func=run, kind="cluster")

    node = subparsers.add_parser(
        "node", help="run a single-node cluster that runs pods (kubelet + containerd; root)"
    )
    node.add_argument("action", choices=["up", "down", "status", "serve", "load"])
    node.add_argument("archives", nargs="*", type=Path, help="image archives (load)")
    node.add_argument("--state-dir", type=Path, default=Path(".cluster/node"))
    node.add_argument("--images", type=Path, default=IMAGES, help="archives loaded at start")
    node.add_argument("--timeout", type=float, default=300.0)
    node.set_defaults(func=run, kind="node")


def _supervisor_pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / PIDFILE).read_text())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def run(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir.resolve()
    action: str = args.action
    kind: str = args.kind
    what = "local control plane" if kind == "cluster" else "local node"
    if action == "serve":
        return _serve(state_dir) if kind == "cluster" else _serve_node(state_dir, args.images)
    if action == "up":
        extra = ["--images", str(args.images.resolve())] if kind == "node" else []
        return _up(kind, state_dir, args.timeout, extra)
    if action == "down":
        return _down(state_dir, what)
    pid = _supervisor_pid(state_dir)
    if action == "load":
        return _load(state_dir, pid, args.archives)
    if pid is None:
        print(f"{what}: not running")
        return 1
    print(f"{what}: running (supervisor pid {pid}), kubeconfig {state_dir}/kubeconfig")
    return 0


def _up(kind: str, state_dir: Path, timeout: float, extra: list[str]) -> int:
    if pid := _supervisor_pid(state_dir):
        print(f"already running (supervisor pid {pid}); KUBECONFIG={state_dir}/kubeconfig")
        return 0
    _clear(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    log = (state_dir / "supervisor.log").open("ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelarts_operator",
            kind,
            "serve",
            "--state-dir",
            state_dir,
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while not (state_dir / "kubeconfig").exists():
        if proc.poll() is not None:
            print((state_dir / "supervisor.log").read_text()[-4000:], file=sys.stderr)
            print(f"{kind} failed to start (exit {proc.returncode})", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            proc.terminate()
            print(f"{kind} not ready after {timeout:.0f}s", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"local {kind} ready; export KUBECONFIG={state_dir}/kubeconfig")
    return 0


def _serve(state_dir: Path) -> int:
    from .controlplane import ControlPlane

    stopping = _stop_on_signal()
    (state_dir / PIDFILE).write_text(str(os.getpid()))
    plane = ControlPlane.start(state_dir / "data")
    try:
        _publish(plane.kubeconfig, state_dir)
        print(f"serving {plane.server}; pids {plane.pids}", flush=True)
        _supervise(plane, stopping)
    finally:
        plane.stop()
    return 0


def _serve_node(state_dir: Path, images: Path) -> int:
    from .node import Node

    stopping = _stop_on_signal()
    (state_dir / PIDFILE).write_text(str(os.getpid()))
    archives = sorted(images.glob("*.tar")) if images.is_dir() else []
    node = Node.start(state_dir / "data", images=archives)
    try:
        _publish(node.kubeconfig, state_dir)
        print(f"node {node.name} ready at {node.plane.server}; images {node.images()}", flush=True)
        _supervise(node.plane, stopping)
    finally:
        node.stop()
        if left := node.leftovers():
            print(f"left behind: {left}", flush=True)
    return 0


def _stop_on_signal() -> list[bool]:
    """SIGTERM/SIGINT set the flag (element 0) the supervision loop watches."""
    stopping = [False]

    def _on_signal(signum: int, frame: object) -> None:
        stopping[0] = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    return stopping


def _publish(kubeconfig: Path, state_dir: Path) -> None:
    """The kubeconfig appears atomically: `up` waits for it as the sign of readiness."""
    shutil.copy(kubeconfig, state_dir / "kubeconfig.tmp")
    (state_dir / "kubeconfig.tmp").rename(state_dir / "kubeconfig")


def _supervise(plane: Any, stopping: list[bool]) -> None:
    while not stopping[0]:
        if exited := plane.exited():
            print(f"{', '.join(exited)} exited; stopping", flush=True)
            return
        time.sleep(0.5)


def _load(state_dir: Path, pid: int | None, archives: list[Path]) -> int:
    from .node import Node

    if pid is None:
        print(f"no node running in {state_dir}: `make node` first", file=sys.stderr)
        return 1
    for archive in archives:
        Node.load_into(state_dir / "data", archive.resolve())
        print(f"loaded {archive}")
    return 0


OWNED = ("data", PIDFILE, "kubeconfig", "kubeconfig.tmp", "supervisor.log")


def _clear(state_dir: Path) -> None:
    """Remove only what `cluster up` created: .cluster/ also holds the demo's state."""
    for name in OWNED:
        path = state_dir / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if state_dir.is_dir() and not any(state_dir.iterdir()):
        state_dir.rmdir()


def _down(state_dir: Path, what: str) -> int:
    pid = _supervisor_pid(state_dir)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 90
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    _clear(state_dir)
    print(f"{what} stopped" if pid else f"{what} was not running")
    return 0
