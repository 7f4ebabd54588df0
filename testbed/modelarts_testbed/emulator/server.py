"""The aiohttp application: routing, the request pipeline (request id, counters, faults,
flow control, authentication, error rendering) and the ways to run it (in-process async, in a
thread for sync callers)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
from aiohttp import web

from . import (
    admin,
    algorithms,
    dataarts,
    iam,
    models,
    notebooks,
    pools,
    services,
    services_v2,
    training,
    training_v2,
    workspaces,
)
from .auth import Principal
from .config import EmulatorConfig
from .core import CORE_KEY, CURRENT_PROJECT, Core, reply
from .errors import ApiError, Family, dataarts_code, error_body, family_for_path
from .state import write_json_atomic

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_template(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    if resource is None:
        return None
    canonical = resource.canonical
    return canonical[:-1] if len(canonical) > 1 and canonical.endswith("/") else canonical


async def authenticate(core: Core, request: web.Request) -> Principal:
    principal = await iam.identify(core, request)
    project = request.match_info.get("project_id")
    allowed = core.projects if principal.project_id is None else {principal.project_id}
    if project is not None and project not in allowed:
        raise ApiError(
            403,
            "ModelArts.0210",
            "Inconsistent project information: the project ID in the token differs from the "
            "project_id in the URI.",
        )
    return principal


async def apply_faults(core: Core, request: web.Request, method: str, template: str) -> None:
    for rule in core.faults:
        if rule.times is not None and rule.times <= 0:
            continue
        if not rule.matches(method, template, request.path):
            continue
        if rule.rate < 1.0 and core.fault_rng.random() >= rule.rate:
            continue
        rule.fired += 1
        if rule.times is not None:
            rule.times -= 1
        if rule.kind == "latency":
            await asyncio.sleep(rule.latency)
        elif rule.kind == "error":
            raise ApiError(rule.status, rule.error_code, rule.error_msg)
        elif rule.kind == "throttle":
            raise ApiError(
                429,
                "ModelArts.0114",
                "Requests are sent too frequently. Try again later.",
                headers={"Retry-After": str(rule.retry_after)},
            )
        elif rule.kind == "drop":
            raise DropConnection


class DropConnection(Exception):
    """Close the TCP connection without an answer (an injected network failure)."""


@web.middleware
async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    core = request.app[CORE_KEY]
    cfg = core.config
    request_hex = core.request_hex()
    request_id = f"{request_hex}-{core.now_ms()}-{cfg.hostname}"
    family = family_for_path(request.path)
    template = route_template(request)
    key = f"{request.method} {template or '(unmatched)'}"
    remaining, reset_in = cfg.rate_limit, 60.0
    resp: web.StreamResponse
    project = request.match_info.get("project_id") or request.query.get("project_id")
    scope = CURRENT_PROJECT.set(project if project in core.states else None)
    try:
        if family is Family.ADMIN:
            resp = await handler(request)
        else:
            core.calls[key] += 1
            if template is not None:
                await apply_faults(core, request, request.method, template)
            remaining, reset_in = core.rate.hit()
            if remaining < 0:
                raise ApiError(
                    429,
                    "ModelArts.0114",
                    "Requests are sent too frequently. Try again later.",
                    headers={"Retry-After": str(max(1, math.ceil(reset_in)))},
                )
            if template is not None and (request.method, template) not in iam.UNAUTHENTICATED:
                await authenticate(core, request)
            core.sweep()
            resp = await handler(request)
    except DropConnection:
        if request.transport is not None:
            request.transport.abort()
        resp = web.Response(status=500)
        resp.force_close()
        return resp
    except ApiError as err:
        resp = _render(family, err, request_hex)
    except web.HTTPException as exc:
        http_err = ApiError(
            exc.status,
            "ModelArts.0102" if exc.status == 404 else "ModelArts.0107",
            f"{exc.reason}: {request.method} {request.path}",
        )
        resp = _render(family, http_err, request_hex)
    finally:
        CURRENT_PROJECT.reset(scope)
    resp.headers["X-request-id"] = request_id
    resp.headers["X-ratelimit"] = str(cfg.rate_limit)
    resp.headers["X-ratelimit-used"] = str(max(0, remaining))
    resp.headers["X-ratelimit-window"] = cfg.rate_window
    if family is not Family.ADMIN:
        core.statuses[key][resp.status] += 1
    return resp


def _render(family: Family, err: ApiError, request_hex: str) -> web.Response:
    if family is Family.DATAARTS:
        err = dataarts_code(err)
    resp = reply(error_body(family, err, request_hex), status=err.status)
    for name, value in err.headers.items():
        resp.headers[name] = value
    return resp


def build_app(core: Core) -> web.Application:
    app = web.Application(middlewares=[pipeline], client_max_size=64 * 1024 * 1024)
    app[CORE_KEY] = core
    table = (
        dataarts.routes()
        + iam.routes()
        + training.routes()
        + training_v2.routes()
        + models.routes()
        + services.routes()
        + services_v2.routes()
        + notebooks.routes()
        + workspaces.routes()
        + algorithms.routes()
        + pools.routes()
        + admin.routes()
    )
    for method, path, handler in table:
        app.router.add_route(method, path, handler)
        app.router.add_route(
            method, path + "/", handler
        )  # the API reference's own sample URLs carry them
    return app


class Emulator:
    """One emulator instance. ``async with Emulator(cfg).serve(port=0) as url: ...``"""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.core = Core(self.config)
        self.app = build_app(self.core)
        self.url = ""

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server: Any = site._server
        sockets = server.sockets if server is not None else []
        bound = sockets[0].getsockname()[1] if sockets else port
        self.url = f"http://{host}:{bound}"
        self.core.base_url = self.url
        persister = asyncio.create_task(self._persist_loop())
        try:
            yield self.url
        finally:
            persister.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await persister
            self.save()
            await runner.cleanup()

    async def _persist_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.persist_interval)
            if self.core.dirty and self.config.state_file:
                self.save()

    def save(self) -> None:
        if self.config.state_file:
            write_json_atomic(self.config.state_file, self.core.snapshot())
            self.core.dirty = False

    # ---- in-process conveniences (same effects as the admin API) ----
    def advance(self, seconds: float) -> None:
        self.core.clock.advance(seconds)

    def freeze(self) -> None:
        self.core.clock.freeze()

    def force(self, **spec: Any) -> dict[str, Any]:
        return admin.force_outcome(self.core, spec)

    def add_fault(self, **rule: Any) -> None:
        admin.add_fault_rules(self.core, rule)

    def calls(self, endpoint: str) -> int:
        return self.core.calls[endpoint]

    def delete_object(self, kind: str, ident: str) -> bool:
        return admin.delete_object(self.core, kind, ident)


class AdminClient:
    """A small synchronous client for ``/_emulator/`` (tests, benchmarks, demos)."""

    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/") + "/_emulator", timeout=30.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        resp = self._http.request(method, path, json=body)
        resp.raise_for_status()
        return resp.json()

    def reset(self) -> None:
        self._call("POST", "/reset")

    def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/clock")
        return result

    def set_speed(self, speed: float) -> None:
        self._call("POST", "/speed", {"speed": speed})

    def freeze(self) -> None:
        self._call("POST", "/clock/freeze")

    def unfreeze(self) -> None:
        self._call("POST", "/clock/unfreeze")

    def advance(self, seconds: float) -> None:
        self._call("POST", "/clock/advance", {"seconds": seconds})

    def force(self, **spec: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/force", spec)
        return result

    def add_fault(self, **rule: Any) -> None:
        self._call("POST", "/faults", rule)

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")["rules"]
        return result

    def counters(self) -> dict[str, int]:
        result: dict[str, int] = self._call("GET", "/counters")["calls"]
        return result

    def clear_counters(self) -> None:
        self._call("DELETE", "/counters")

    def delete_object(self, kind: str, ident: str) -> None:
        self._call("DELETE", f"/objects/{kind}/{ident}")

    def expire_tokens(self) -> None:
        self._call("POST", "/tokens/expire")

    def configure(self, **settings: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/config", settings)
        return result


class EmulatorHandle:
    def __init__(self, emulator: Emulator, url: str) -> None:
        self.emulator = emulator
        self.url = url
        self.admin = AdminClient(url)
        self.config = emulator.config


@contextlib.contextmanager
def run_emulator_in_thread(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[EmulatorHandle]:
    """Run an emulator on its own event loop in a daemon thread (for synchronous callers)."""
    emulator = Emulator(config)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"] = stop
        try:
            async with emulator.serve(host, port) as url:
                box["url"] = url
                ready.set()
                await stop.wait()
        except BaseException as exc:
            box["error"] = exc
            ready.set()
            raise

    def run() -> None:
        asyncio.set_event_loop(loop)
        with contextlib.suppress(BaseException):
            loop.run_until_complete(main())
        loop.close()

    thread = threading.Thread(target=run, name="modelarts-emulator", daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in box or "url" not in box:
        raise RuntimeError(f"emulator failed to start: {box.get('error')!r}")
    handle = EmulatorHandle(emulator, box["url"])
    try:
        yield handle
    finally:
        handle.admin.close()
        loop.call_soon_threadsafe(box["stop"].set)
        thread.join(30)
