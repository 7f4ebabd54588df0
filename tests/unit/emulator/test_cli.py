"""``modelarts-operator emulator`` as a person runs it: prints where and how to connect, serves,
and writes its state file when stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from modelarts_testbed.emulator import DEFAULT_PROJECT_ID

from .conftest import job_body, token_body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_cli_serves_prints_defaults_and_persists_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    state = tmp_path / "emu.json"
    exe = Path(sys.executable).parent / "modelarts-operator"
    env = dict(os.environ, EMULATOR_PROJECT_ID=DEFAULT_PROJECT_ID)
    proc = subprocess.Popen(
        [str(exe), "emulator", "--port", str(port), "--seed", "1", "--state-file", str(state)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(4)]
        assert f"http://127.0.0.1:{port}" in banner[0]
        assert any(DEFAULT_PROJECT_ID in line for line in banner)
        assert any("EMULATORAK0000000001" in line for line in banner)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            tok = c.post("/v3/auth/tokens", json=token_body()).headers["X-Subject-Token"]
            resp = c.post(
                f"/v1/{DEFAULT_PROJECT_ID}/training-jobs",
                json=job_body("from-cli"),
                headers={"X-Auth-Token": tok},
            )
            assert resp.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0
    data = json.loads(state.read_text())
    assert [j["job_name"] for j in data["projects"][DEFAULT_PROJECT_ID]["jobs"]] == ["from-cli"]
