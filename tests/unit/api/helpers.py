"""Test helpers: fake time (sleeps recorded, never waited) and a scripted transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient

PROJECT = "0123456789abcdef0123456789abcdef"
ENDPOINT = "https://modelarts.cn-north-4.myhuaweicloud.com"


@dataclass
class FakeTime:
    """Monotonic clock, wall clock and sleep in one: sleeping advances both clocks."""

    mono: float = 1000.0
    wall: datetime = field(default_factory=lambda: datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)


Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport answering from a queue of handlers (the last one repeats)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._handlers: list[Handler] = []

    def then(self, handler: Handler | httpx.Response | Exception) -> Script:
        if isinstance(handler, httpx.Response):
            response = handler
            self._handlers.append(lambda _req: _copy(response))
        elif isinstance(handler, Exception):
            exc = handler

            def _raise(_req: httpx.Request) -> httpx.Response:
                raise exc

            self._handlers.append(_raise)
        else:
            self._handlers.append(handler)
        return self

    def json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Script:
        return self.then(httpx.Response(status, json=body, headers=headers))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self._handlers)) - 1
        return self._handlers[index](request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def body(self, i: int = -1) -> Any:
        content = self.requests[i].content
        return json.loads(content) if content else None


def _copy(response: httpx.Response) -> httpx.Response:
    return httpx.Response(response.status_code, headers=response.headers, content=response.content)


def make_client(
    script: Script,
    fake_time: FakeTime,
    *,
    credentials: Any = None,
    **config: Any,
) -> ModelArtsClient:
    params: dict[str, Any] = {
        "endpoint": ENDPOINT,
        "project_id": PROJECT,
        "region": "cn-north-4",
        "qps": 0,
        "burst": 1,
    }
    params.update(config)
    return ModelArtsClient(
        ClientConfig(**params),
        credentials or AkSkCredentials(ak="AKTESTACCESSKEY", sk="sk-very-secret-value"),
        transport=script.transport,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        now=fake_time.now,
        rand=lambda: 0.5,
    )
