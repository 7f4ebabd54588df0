"""Fixtures: an in-process emulator on a free port with a frozen clock, and an httpx client
that already holds an IAM token (tests advance the clock instead of sleeping)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from modelarts_testbed.emulator import (
    DEFAULT_IAM_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_PROJECT_ID,
    Emulator,
    EmulatorConfig,
)

P = f"/v1/{DEFAULT_PROJECT_ID}"


def token_body(
    user: str = DEFAULT_IAM_USER,
    password: str = DEFAULT_IAM_PASSWORD,
    domain: str = DEFAULT_IAM_DOMAIN,
    project: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "password": password, "domain": {"name": domain}}
                },
            },
            "scope": {"project": project or {"name": "cn-north-4"}},
        }
    }


@dataclass
class Env:
    emulator: Emulator
    url: str
    http: httpx.AsyncClient  # authenticated with a token
    raw: httpx.AsyncClient  # no credentials

    def advance(self, seconds: float) -> None:
        self.emulator.advance(seconds)


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(seed=7)


@contextlib.asynccontextmanager
async def open_env(config: EmulatorConfig) -> AsyncIterator[Env]:
    """An emulator with a frozen clock on a free port, and clients for it."""
    emulator = Emulator(config)
    emulator.freeze()
    async with (
        emulator.serve(port=0) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as raw,
    ):
        resp = await raw.post("/v3/auth/tokens", json=token_body())
        assert resp.status_code == 201
        headers = {"X-Auth-Token": resp.headers["X-Subject-Token"]}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as http:
            yield Env(emulator, url, http, raw)


@pytest.fixture
async def env(config: EmulatorConfig) -> AsyncIterator[Env]:
    async with open_env(config) as opened:
        yield opened


TRAIN_CONFIG: dict[str, Any] = {
    "worker_server_num": 1,
    "app_url": "/bucket/app/",
    "boot_file_url": "/bucket/app/boot.py",
    "data_url": "/bucket/data/",
    "spec_id": 1,
    "engine_id": 1,
    "train_url": "/bucket/out/",
    "parameter": [{"label": "learning_rate", "value": "0.01"}],
}


def job_body(name: str, **config: Any) -> dict[str, Any]:
    cfg = dict(TRAIN_CONFIG, train_url=f"/bucket/out/{name}/")
    cfg.update(config)
    return {
        "job_name": name,
        "job_desc": "a job",
        "config": {k: v for k, v in cfg.items() if v is not None},
    }


def model_body(name: str = "mnist", version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model_name": name,
        "model_version": version,
        "source_location": "obs://models/mnist/",
        "model_type": "TensorFlow",
        "runtime": "python3.6",
        "input_params": [
            {
                "url": "/",
                "method": "post",
                "protocol": "http",
                "param_name": "images",
                "param_type": "file",
            }
        ],
    }
    body.update(extra)
    return body


async def published_model(
    env: Env, name: str = "mnist", version: str = "1.0.0", **extra: Any
) -> str:
    resp = await env.http.post(P + "/models", json=model_body(name, version, **extra))
    assert resp.status_code == 200, resp.text
    env.advance(60)
    return str(resp.json()["model_id"])


def realtime_body(name: str, *model_ids: str, **extra: Any) -> dict[str, Any]:
    weights = [100 // len(model_ids)] * len(model_ids)
    weights[0] += 100 - sum(weights)
    body: dict[str, Any] = {
        "service_name": name,
        "infer_type": "real-time",
        "config": [
            {
                "model_id": m,
                "weight": str(w),
                "specification": "modelarts.vm.cpu.2u",
                "instance_count": 1,
            }
            for m, w in zip(model_ids, weights, strict=True)
        ],
    }
    body.update(extra)
    return body
