"""`modelarts-operator run`: kopf with this operator's handlers, pollers and metrics.

Startup builds the process-wide runtime (Kubernetes client, per-namespace ModelArts clients,
the registry), starts one batched poller per kind and the Prometheus endpoint; cleanup closes
them. kopf serves the liveness endpoint the chart's probes use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import kopf
from aiohttp import web

from .metrics import CONTENT_TYPE, METRICS
from .settings import OperatorSettings, SettingsError, http_url

if TYPE_CHECKING:
    from .leader import LeaderElector, LeaseConfig

log = logging.getLogger("modelarts_operator")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the operator (kopf) against the cluster")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster or $KUBECONFIG)")
    parser.add_argument("--endpoint", help="ModelArts endpoint URL (MODELARTS_ENDPOINT)")
    parser.add_argument("--iam-endpoint", help="IAM endpoint URL (MODELARTS_IAM_ENDPOINT)")
    parser.add_argument("--project-id", help="default project ID (MODELARTS_PROJECT_ID)")
    parser.add_argument("--region", help="region (MODELARTS_REGION)")
    parser.add_argument(
        "--credentials-secret",
        help='default Secret "namespace/name" (MODELARTS_CREDENTIALS_SECRET)',
    )
    parser.add_argument(
        "--namespace", action="append", dest="namespaces", help="watch only this namespace"
    )
    parser.add_argument("--poll-active-seconds", type=float)
    parser.add_argument("--poll-settled-seconds", type=float)
    parser.add_argument("--liveness", default=None, help="liveness endpoint URL")
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = OperatorSettings.from_env(
            endpoint=args.endpoint,
            iam_endpoint=args.iam_endpoint,
            project_id=args.project_id,
            region=args.region,
            credentials_secret=args.credentials_secret,
            namespaces=args.namespaces,
            poll_active_seconds=args.poll_active_seconds,
            poll_settled_seconds=args.poll_settled_seconds,
        )
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
    configure_logging(settings.log_format, args.verbose)
    liveness = args.liveness or http_url(settings.health_address, settings.health_port, "/healthz")
    try:
        asyncio.run(serve(settings, liveness, args.kubeconfig))
    except (LeadershipLost, SettingsError) as err:
        log.error("%s", err)
        return 1
    return 0


class LeadershipLost(RuntimeError):
    """The lease could not be renewed: everything stopped; the pod restarts as a standby."""


def configure_logging(log_format: str, verbose: bool = False) -> None:
    """kopf's formatters: its per-object lines get a [namespace/name] prefix (text) or an
    "object" field (json); a plain basicConfig would drop which object a line is about."""
    kopf.configure(
        verbose=verbose,
        log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.FULL,
        log_prefix=log_format != "json",
    )
    for noisy in ("httpx", "httpcore", "kubernetes"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def serve(settings: OperatorSettings, liveness: str, kubeconfig: str | None = None) -> None:
    """Run the operator until cancelled or signalled (also used in-process by tests and the
    demo). With leader election, stand by until this process holds the lease, and stop
    everything the moment it is lost. /metrics is served all along, by a standby too: its
    ``modelarts_leader`` 0 tells a standby from a replica that is down."""
    METRICS.gauge("modelarts_leader", _leader_gauge)
    async with contextlib.AsyncExitStack() as stack:
        if settings.metrics_port:
            await stack.enter_async_context(
                _metrics_endpoint(settings.metrics_address, settings.metrics_port)
            )
        await _serve(settings, liveness, kubeconfig)


async def _serve(settings: OperatorSettings, liveness: str, kubeconfig: str | None) -> None:
    if not settings.leader_election:
        await operate(settings, liveness, kubeconfig)
        return
    from .leader import LeaderElector
    from .reconcile.kube import KubeClient

    elector = LeaderElector(KubeClient.from_environment(kubeconfig), lease_config(settings))
    try:
        if not await _stand_by(elector, liveness):
            return  # asked to stop before winning the lease
        operating = asyncio.create_task(operate(settings, liveness, kubeconfig))
        holding = asyncio.create_task(elector.hold())
        done, _ = await asyncio.wait({operating, holding}, return_when=asyncio.FIRST_COMPLETED)
        if holding in done:
            operating.cancel()
            await asyncio.gather(operating, return_exceptions=True)
            raise LeadershipLost(f"lost the leader lease {settings.leader_election_lease}")
        holding.cancel()
        await asyncio.gather(holding, return_exceptions=True)
        operating.result()
    finally:
        await elector.release()
        await elector.kube.aclose()


def lease_config(settings: OperatorSettings) -> LeaseConfig:
    """The Lease this replica competes for; the namespace defaults to the pod's own."""
    import socket
    import uuid

    from .leader import LeaseConfig
    from .reconcile.kube import SERVICE_ACCOUNT_NAMESPACE

    namespace = settings.leader_election_namespace
    if not namespace:
        try:
            with open(SERVICE_ACCOUNT_NAMESPACE, encoding="utf-8") as file:
                namespace = file.read().strip()
        except OSError:
            raise SettingsError(
                "MODELARTS_LEADER_ELECTION_NAMESPACE: needed outside a pod (leader election)"
            ) from None
    identity = settings.leader_election_identity or (
        f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
    )
    return LeaseConfig(
        namespace=namespace,
        name=settings.leader_election_lease,
        identity=identity,
        lease_seconds=settings.leader_election_lease_seconds,
    )


async def _stand_by(elector: LeaderElector, liveness: str) -> bool:
    """Wait for the lease while answering the liveness probe (kopf serves it once it runs);
    SIGTERM/SIGINT end the wait. True when the lease is ours."""
    import signal
    from urllib.parse import urlsplit

    async def standing_by(_: web.Request) -> web.Response:
        return web.json_response({"standby": True})

    url = urlsplit(liveness)
    app = web.Application()
    app.router.add_get(url.path or "/", standing_by)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, url.hostname, url.port).start()
    loop = asyncio.get_running_loop()
    waiting = asyncio.ensure_future(elector.acquire())
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, waiting.cancel)
    try:
        await waiting
        return True
    except asyncio.CancelledError:
        if not waiting.cancelled():
            raise
        return False
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await runner.cleanup()  # kopf binds the same port next


# Cyclic garbage collection, tuned for a heap of many long-lived objects (every watched
# object's body, kopf's per-object state): with CPython's defaults (700, 10, 10) a full
# collection ran every few poll cycles at 10,000 v2 TrainingJobs, because parsing the list
# pages makes tens of thousands of objects that live through the cycle, and each one walked
# the whole heap: half of a cycle's CPU (bench/poll_cycle.py v2 10000: 3.7 s -> 1.8 s per
# cycle with these). Young collections stay frequent (most garbage here is acyclic and goes
# by reference counting anyway); older ones run after far more allocations.
GC_THRESHOLDS = (10_000, 50, 100)


def _tune_gc() -> None:
    """Collect less often, and leave what exists at startup (modules, classes, kopf's
    registry) out of every later collection."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


async def release_free_memory_every(period: float) -> None:
    """Give the C allocator's free pages back to the system once a period.

    Creating 10,000 objects runs their handlers side by side; the peak's memory is freed
    afterwards but stays in the process: glibc returns a heap's free pages only from its top,
    and the holes between live blocks stay resident. At 10,000 Notebooks one malloc_trim(0)
    took RSS from 793 to 623 MB (bench/operator_scale.py, docs/benchmarks.md). It touches no
    Python object and is short: 30 ms after freeing 800 MB, 2.5 ms with nothing to give back.
    """
    trim = _malloc_trim()
    if trim is None:
        return
    while True:
        await asyncio.sleep(period)
        trim(0)


async def operate(settings: OperatorSettings, liveness: str, kubeconfig: str | None = None) -> None:
    """kopf with this operator's handlers, pollers and metrics, until kopf stops.

    The handlers go into a kopf registry of this call's own, bound to this call's runtime:
    nothing is module state, and importing the kinds registers nothing."""
    from .reconcile import handlers
    from .reconcile.credentials import ClientFactory
    from .reconcile.kube import KubeClient, connection_info
    from .reconcile.runtime import Runtime
    from .resources import KINDS

    _tune_gc()
    kube = KubeClient.from_environment(kubeconfig)
    clients = ClientFactory(settings, kube)
    clients.on_call = _record_call
    rt = Runtime(settings, kube, clients, KINDS)
    clients.on_secret_change = rt.credentials_changed
    registry = kopf.OperatorRegistry()
    handlers.register(registry, rt)

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        handlers.configure(settings, rt)
        # One replica acts at a time through the Lease (leader.py), not kopf peering.
        settings.peering.standalone = True
        rt.start_pollers()
        period = operator_settings.poll_settled_seconds
        rt.tasks.append(asyncio.create_task(release_free_memory_every(period)))
        METRICS.gauge("modelarts_objects", rt.registry.count_by_phase)
        METRICS.gauge("modelarts_objects_not_synced", rt.registry.count_not_synced)

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return connection_info(kubeconfig)

    operator_settings = settings
    _acting.set()
    try:
        await kopf.operator(
            registry=registry,
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            liveness_endpoint=liveness,
        )
    finally:
        _acting.clear()
        await rt.aclose()


# Set while this process runs kopf and the pollers (the Lease holder, or the only replica).
_acting = asyncio.Event()


def _leader_gauge() -> dict[tuple[tuple[str, str], ...], float]:
    return {(): 1.0 if _acting.is_set() else 0.0}


def _record_call(endpoint: str, method: str, status: int | None, seconds: float) -> None:
    outcome = "error" if status is None else str(status)
    METRICS.inc("modelarts_api_calls_total", endpoint=endpoint, method=method, code=outcome)
    METRICS.observe("modelarts_api_call_seconds", seconds, endpoint=endpoint)


@contextlib.asynccontextmanager
async def _metrics_endpoint(address: str, port: int) -> AsyncIterator[None]:
    """/metrics on ``address:port`` while the block runs (a port taken fails the start)."""

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=METRICS.render(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, address, port).start()
        yield
    finally:
        await runner.cleanup()
