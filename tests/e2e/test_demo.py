"""`modelarts-operator demo` as a user runs it: it gets the pipeline to Ready and prints the
URL, reports a failed object by name, and leaves no process behind however it ends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.cluster

CHILDREN = ("etcd", "kube-apiserver", "operator")
URL = re.compile(r"^Service URL: (http://\S+)$", re.MULTILINE)


def _demo(state_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELARTS_")}
    for tool_override in ("MODELARTS_TOOLS_DIR", "MODELARTS_ETCD", "MODELARTS_KUBE_APISERVER"):
        if tool_override in os.environ:
            env[tool_override] = os.environ[tool_override]
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "modelarts_operator", "demo"),
            *("--state-dir", str(state_dir), "--speed", "3", *args),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _child_pids(state_dir: Path) -> dict[str, int]:
    return {name: int((state_dir / f"{name}.pid").read_text()) for name in CHILDREN}


def _running(pid: int, name: str) -> bool:
    """Whether ``pid`` is still that process (not a reused pid, not a reaped zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    expected = b"modelarts_operator" if name == "operator" else name.encode()
    return state != "Z" and expected in cmdline


def _assert_nothing_left(state_dir: Path) -> None:
    pids = _child_pids(state_dir)
    deadline = time.monotonic() + 5  # the kernel may take a moment to reap
    while time.monotonic() < deadline and any(_running(p, n) for n, p in pids.items()):
        time.sleep(0.2)
    left = {n: p for n, p in pids.items() if _running(p, n)}
    assert left == {}, f"still running after the demo exited: {left}"


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """stdout lines up to and including the first containing ``marker``."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    proc.kill()
    raise AssertionError(f"no {marker!r} in the demo's output:\n{''.join(seen)}")


def test_headless_demo_reaches_ready_prints_the_url_and_tears_down(tmp_path: Path) -> None:
    state_dir = tmp_path / "demo"
    started = time.monotonic()
    proc = _demo(state_dir, "--exit-when-ready", "--timeout", "120")
    out, err = proc.communicate(timeout=170)
    wall = time.monotonic() - started
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{err}"
    match = URL.search(out)
    assert match, out
    assert "/v2/infers/" in match.group(1)  # the example Service is the v2 form
    # The view showed every object reaching its steady phase.
    for ref, phase in [
        ("Network/demo-net", "Ready"),
        ("ResourcePool/demo-pool", "Ready"),
        ("Workspace/demo", "Ready"),
        ("Algorithm/mnist", "Ready"),
        ("TrainingJob/mnist", "Succeeded"),
        ("Model/mnist-v1", "Published"),
        ("Service/mnist", "Running"),
    ]:
        assert re.search(rf"{re.escape(ref)}\s+{phase}\s+Ready=True", out), (ref, out)
    assert "tearing down" in out
    _assert_nothing_left(state_dir)
    print(f"headless demo wall time: {wall:.1f}s")


def test_headless_demo_names_the_object_that_failed(tmp_path: Path) -> None:
    state_dir = tmp_path / "demo"
    proc = _demo(state_dir, "--exit-when-ready", "--timeout", "120")
    head = _read_until(proc, "emulator: ", timeout=90)
    emulator = head.rsplit("emulator: ", 1)[1].strip()

    # Make the training job fail when it would have completed (the emulator's admin API).
    job_id = None
    deadline = time.monotonic() + 30
    while job_id is None and time.monotonic() < deadline:
        items = httpx.get(f"{emulator}/_emulator/objects/training_job_v2").json()["items"]
        if items:
            job_id = items[0]["id"]
        else:
            time.sleep(0.3)
    assert job_id is not None, "the operator created no training job"
    forced = httpx.post(
        f"{emulator}/_emulator/force", json={"kind": "training_job_v2", "id": job_id}
    )
    assert forced.status_code == 200, forced.text

    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, f"exit {proc.returncode}\n{out}\n{err}"
    assert "Pipeline failed: TrainingJob/mnist" in err, err
    assert "Ready=False reason=Failed" in err, err
    assert "Service URL" not in out
    _assert_nothing_left(state_dir)


def test_sigterm_tears_everything_down_mid_pipeline(tmp_path: Path) -> None:
    state_dir = tmp_path / "demo"
    proc = _demo(state_dir)  # interactive form: it would run until interrupted
    _read_until(proc, "pids: ", timeout=90)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, f"{out}\n{err}"
    assert "SIGTERM received" in err
    assert "tearing down (operator, emulator, kube-apiserver, etcd) ... done" in out
    _assert_nothing_left(state_dir)
