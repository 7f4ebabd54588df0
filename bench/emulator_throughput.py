"""Emulator throughput: how fast 10,000 training jobs list page by page, and how many requests
per second one emulator process (one core) serves.

    .venv/bin/python bench/emulator_throughput.py [--jobs 10000] [--seconds 5] [--concurrency 32]

The emulator runs in its own process (``modelarts-operator emulator``), so the numbers are
the server's, not shared with the load generator. Listing is measured with per_page 1000
and 100; throughput with token-authenticated GETs (list one page, get one version) and with
AK/SK-signed GETs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

PROJECT = "0123456789abcdef0123456789abcdef"
AK, SK = "EMULATORAK0000000001", "emulator-secret-key-do-not-use-in-production-0001"
TOKEN_BODY = {
    "auth": {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {
                    "name": "emulator-user",
                    "password": "emulator-password",
                    "domain": {"name": "emulator-domain"},
                }
            },
        },
        "scope": {"project": {"name": "cn-north-4"}},
    }
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sign(method: str, host: str, path: str, query: str) -> dict[str, str]:
    """SDK-HMAC-SHA256 (the same algorithm huaweicloudsdkcore uses), for the AK/SK load."""
    date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    canonical = "\n".join(
        [
            method,
            "/".join(quote(p, safe="~") for p in path.split("/")) + "/",
            query,
            f"host:{host}\nx-sdk-date:{date}\n",
            "host;x-sdk-date",
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    sts = f"SDK-HMAC-SHA256\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    sig = hmac.new(SK.encode(), sts.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Sdk-Date": date,
        "Authorization": f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, "
        f"Signature={sig}",
    }


async def create_jobs(s: aiohttp.ClientSession, base: str, h: dict[str, str], n: int) -> float:
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        body = {
            "job_name": f"bench-{i:05d}",
            "config": {
                "worker_server_num": 1,
                "app_url": "/b/app/",
                "boot_file_url": "/b/app/boot.py",
                "data_url": "/b/data/",
                "spec_id": 2,
                "train_url": f"/b/out/{i}/",
            },
        }
        async with sem, s.post(f"{base}/v1/{PROJECT}/training-jobs", json=body, headers=h) as r:
            assert r.status == 200, await r.text()

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started


async def list_all(
    s: aiohttp.ClientSession, base: str, h: dict[str, str], per_page: int, extra: str = ""
) -> tuple[float, int, list[float]]:
    started = time.perf_counter()
    page, seen, times = 1, 0, []
    while True:
        t0 = time.perf_counter()
        url = f"{base}/v1/{PROJECT}/training-jobs?per_page={per_page}&page={page}{extra}"
        async with s.get(url, headers=h) as r:
            body = await r.json()
        times.append(time.perf_counter() - t0)
        seen += len(body["jobs"])
        if len(body["jobs"]) < per_page:
            break
        page += 1
    return time.perf_counter() - started, seen, times


async def hammer(
    s: aiohttp.ClientSession, base: str, host: str, h: dict[str, str], seconds: float,
    concurrency: int, aksk: bool,
) -> tuple[int, float]:  # fmt: skip
    deadline = time.perf_counter() + seconds
    done = 0

    async def worker(w: int) -> None:
        nonlocal done
        i = w
        while time.perf_counter() < deadline:
            if i % 2:
                path, query = f"/v1/{PROJECT}/training-jobs", "page=1&per_page=10"
            else:
                jid = 1 + i % 1000
                path, query = f"/v1/{PROJECT}/training-jobs/{jid}/versions/{jid}", ""
            headers = sign("GET", host, path, query) if aksk else h
            url = base + path + (f"?{query}" if query else "")
            async with s.get(url, headers=headers) as r:
                await r.read()
                assert r.status == 200, r.status
            done += 1
            i += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return done, time.perf_counter() - started


def start_emulator(port: int, jobs: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, EMULATOR_TRAINING_JOB_QUOTA=str(jobs * 2))
    exe = os.path.join(os.path.dirname(sys.executable), "modelarts-operator")
    return subprocess.Popen(
        [exe, "emulator", "--port", str(port), "--seed", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
    )


async def run(args: argparse.Namespace, port: int, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    host = f"127.0.0.1:{port}"
    base = f"http://{host}"
    results: dict[str, Any] = {"jobs": args.jobs}
    try:
        conn = aiohttp.TCPConnector(limit=args.concurrency + 4)
        async with aiohttp.ClientSession(connector=conn) as s:
            for _ in range(100):
                try:
                    async with s.get(base + "/_emulator/health") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            async with s.post(base + "/v3/auth/tokens", json=TOKEN_BODY) as r:
                h = {"X-Auth-Token": r.headers["X-Subject-Token"]}
            t = await create_jobs(s, base, h, args.jobs)
            results["create_seconds"] = round(t, 2)
            results["create_per_second"] = round(args.jobs / t)
            for per_page in (1000, 100):
                await list_all(s, base, h, per_page)  # warm the sorted view
                total, seen, times = await list_all(s, base, h, per_page)
                assert seen == args.jobs, seen
                results[f"list_all_per_page_{per_page}_seconds"] = round(total, 3)
                results[f"list_per_page_{per_page}_first_last_page_ms"] = [
                    round(times[0] * 1000, 1),
                    round(times[-1] * 1000, 1),
                ]
            # creates between pages must not force a re-sort of the whole listing
            t0 = time.perf_counter()
            for i in range(200):
                body = {
                    "job_name": f"mixed-{i:03d}",
                    "config": {
                        "worker_server_num": 1,
                        "app_url": "/b/app/",
                        "boot_file_url": "/b/a.py",
                        "data_url": "/b/data/",
                        "spec_id": 2,
                        "train_url": f"/b/mixed/{i}/",
                    },
                }
                async with s.post(f"{base}/v1/{PROJECT}/training-jobs", json=body, headers=h):
                    pass
                url = f"{base}/v1/{PROJECT}/training-jobs?per_page=100&page={1 + i % 100}"
                async with s.get(url, headers=h) as r:
                    await r.read()
            results["create_then_list_page_pair_ms"] = round(
                (time.perf_counter() - t0) / 200 * 1000, 2
            )
            total, seen, _ = await list_all(s, base, h, 1000, "&status=1,7,8")
            results["list_filtered_by_status_per_page_1000_seconds"] = round(total, 3)
            for aksk in (False, True):
                n, secs = await hammer(s, base, host, h, args.seconds, args.concurrency, aksk)
                results["rps_aksk" if aksk else "rps_token"] = round(n / secs)
    finally:
        proc.terminate()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    port = free_port()
    proc = start_emulator(port, args.jobs)
    try:
        print(json.dumps(asyncio.run(run(args, port, proc)), indent=2))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
