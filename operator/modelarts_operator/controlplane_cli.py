"""`modelarts-operator cluster up|down|status`: the local control plane for people and scripts.

``up`` starts a detached supervisor (``cluster serve``) that owns etcd and kube-apiserver and
returns once the API is ready, leaving the admin kubeconfig at ``<state-dir>/kubeconfig``.
``down`` stops the supervisor (its children die with it) and removes the state.
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


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cluster", help="run a local etcd + kube-apiserver (no Docker needed)"
    )
    parser.add_argument("action", choices=["up", "down", "status", "serve"])
    parser.add_argument("--state-dir", type=Path, default=Path(".cluster"))
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.set_defaults(func=run)


def _supervisor_pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / PIDFILE).read_text())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def run(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir.resolve()
    action: str = args.action
    if action == "serve":
        return _serve(state_dir)
    if action == "up":
        return _up(state_dir, args.timeout)
    if action == "down":
        return _down(state_dir)
    pid = _supervisor_pid(state_dir)
    if pid is None:
        print("local control plane: not running")
        return 1
    print(f"local control plane: running (supervisor pid {pid}), kubeconfig {state_dir}/kubeconfig")
    return 0


def _up(state_dir: Path, timeout: float) -> int:
    if pid := _supervisor_pid(state_dir):
        print(f"already running (supervisor pid {pid}); KUBECONFIG={state_dir}/kubeconfig")
        return 0
    _clear(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    log = (state_dir / "supervisor.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelarts_operator", "cluster", "serve", "--state-dir", state_dir],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while not (state_dir / "kubeconfig").exists():
        if proc.poll() is not None:
            print((state_dir / "supervisor.log").read_text()[-4000:], file=sys.stderr)
            print(f"control plane failed to start (exit {proc.returncode})", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            proc.terminate()
            print(f"control plane not ready after {timeout:.0f}s", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"local control plane ready; export KUBECONFIG={state_dir}/kubeconfig")
    return 0


def _serve(state_dir: Path) -> int:
    from .controlplane import ControlPlane

    stop = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    (state_dir / PIDFILE).write_text(str(os.getpid()))
    plane = ControlPlane.start(state_dir / "data")
    try:
        shutil.copy(plane.kubeconfig, state_dir / "kubeconfig.tmp")
        (state_dir / "kubeconfig.tmp").rename(state_dir / "kubeconfig")
        print(f"serving {plane.server}; pids {plane.pids}", flush=True)
        while not stop:
            if exited := plane.exited():
                print(f"{', '.join(exited)} exited; stopping", flush=True)
                stop = True
            time.sleep(0.5)
    finally:
        plane.stop()
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


def _down(state_dir: Path) -> int:
    pid = _supervisor_pid(state_dir)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    _clear(state_dir)
    print("local control plane stopped" if pid else "local control plane was not running")
    return 0
