"""kopf wiring shared by every kind: one set of handlers per adapter, written once.

``register(adapter)`` gives a kind its create/update/resume handler (the level-based
reconcile), its delete handler (deletion policy behind our finalizer), and a watch-event
tracker that feeds the registry and re-triggers dependents the moment a dependency becomes
ready. ``configure()`` puts kopf's bookkeeping under this project's domain.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import kopf

from .. import GROUP, VERSION
from ..api import errors
from ..metrics import METRICS
from ..settings import OperatorSettings
from . import conditions as cond
from .controller import (
    DeleteBlocked,
    Event,
    InvalidSpec,
    Reconciler,
    RemoteAdapter,
    RetryLater,
    load_context,
)
from .credentials import ClientFactory, CredentialsError
from .failures import Failure, classify
from .kinds import KindDeclaration, references_to
from .kube import KubeClient, KubeError
from .naming import owner_among
from .policies import CREATE_PENDING, RECONCILE_REQUEST
from .registry import Entry, Registry
from .status import Report, Verdict, status_patch

log = logging.getLogger(__name__)
FINALIZER = f"{GROUP}/finalizer"


@dataclass
class KindHandlers:
    adapter: RemoteAdapter[Any]
    reconciler: Reconciler
    # Set when a reconcile leaves an object in flight, so a poller resting at the settled
    # period switches to the active one instead of missing a new object's progress.
    in_flight: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Runtime:
    """Process-wide state of a running operator (one per process)."""

    settings: OperatorSettings
    kube: KubeClient
    clients: ClientFactory
    registry: Registry = field(default_factory=Registry)
    kinds: dict[str, KindHandlers] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    timers: dict[tuple[str, str, str], asyncio.TimerHandle] = field(default_factory=dict)
    background: set[asyncio.Task[None]] = field(default_factory=set)

    def poke_later(self, plural: str, namespace: str, name: str, delay: float, why: str) -> None:
        """Re-trigger a reconcile after ``delay`` seconds. Used instead of kopf's retry delay
        for slow retries: a kopf handler waiting out a delay ignores spec changes until the
        delay ends, while this leaves the handler done, so an edit is handled at once."""
        key = (plural, namespace, name)
        self.cancel_poke(key)
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self.timers.pop(key, None)
            task = loop.create_task(self._poke_quietly(Entry(plural, namespace, name, {}), why))
            self.background.add(task)
            task.add_done_callback(self.background.discard)

        self.timers[key] = loop.call_later(max(0.0, delay), fire)

    def cancel_poke(self, key: tuple[str, str, str]) -> None:
        if (timer := self.timers.pop(key, None)) is not None:
            timer.cancel()

    async def _poke_quietly(self, entry: Entry, why: str) -> None:
        try:
            await self.poke(entry, why)
        except Exception:  # a lost retry is re-done on the next resume or change
            log.exception("retry of %s/%s/%s failed", entry.plural, entry.namespace, entry.name)

    def start_background(self, adapters: Iterable[RemoteAdapter[Any]]) -> None:
        """Start the work that runs apart from kopf's handlers: one batched poller per kind.
        (Retry timers are armed by the handlers as they run.)"""
        from .poller import Poller

        for adapter in adapters:
            self.tasks.append(asyncio.create_task(Poller(self, self.handlers_for(adapter)).run()))

    def handlers_for(self, adapter: RemoteAdapter[Any]) -> KindHandlers:
        """The one set of handlers (reconciler, in-flight signal) of a kind."""
        plural = adapter.kind.plural
        if plural not in self.kinds:
            self.kinds[plural] = KindHandlers(adapter, Reconciler(adapter, self.kube))
            self.kinds[plural].reconciler.owner_of = lambda marker: owner_among(
                marker,
                self.registry.entries(plural),
                self.settings.installation_id,
                adapter.kind.kind,
            )
        return self.kinds[plural]

    async def poke(self, entry: Entry, why: str) -> None:
        """Re-trigger an object's reconcile now (an annotation change is a kopf update)."""
        handlers = self.kinds.get(entry.plural)
        if handlers is None:
            return
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        log.debug("poking %s/%s/%s: %s", entry.plural, entry.namespace, entry.name, why)
        try:
            await self.kube.patch_annotations(
                handlers.adapter.kind, entry.namespace, entry.name, {RECONCILE_REQUEST: stamp}
            )
        except KubeError as err:
            if err.status != 404:
                raise

    async def post_event(self, entry: Entry, type_: str, reason: str, message: str) -> None:
        """An Event from outside kopf's handlers (the poller); never fails the caller."""
        try:
            await self.kube.post_event(entry.body, type_, reason, message)
        except KubeError as err:
            log.warning(
                "could not post event %s for %s/%s: %s", reason, entry.namespace, entry.name, err
            )


RUNTIME: Runtime | None = None


def runtime() -> Runtime:
    if RUNTIME is None:
        raise RuntimeError("the operator runtime is not started")
    return RUNTIME


# kopf treats every annotation under its storage prefix as its own and leaves it out of the
# diff, so its prefix must not be the one of the user-facing policy annotations (a change of
# `modelarts.huaweicloud.com/paused` has to trigger a reconcile).
KOPF_PREFIX = f"kopf.{GROUP}"


def _quiet_tracking(record: logging.LogRecord) -> bool:
    """Drop kopf's per-event chatter about the registry tracker (every watch event of every
    object would log twice at INFO)."""
    return "'track'" not in record.getMessage()


def configure(settings: kopf.OperatorSettings) -> None:
    """kopf's bookkeeping under our own domain; events from INFO up."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_PREFIX,
        key="last-handled-configuration",
        ignored_fields=[("metadata", "annotations", CREATE_PENDING)],
    )
    # Our own events (kopf.event) are posted whatever this level; kopf's log-to-event bridge
    # would otherwise post "Handler ... succeeded" as an Event for every handler run.
    settings.posting.level = logging.WARNING
    logging.getLogger("kopf.objects").addFilter(_quiet_tracking)
    settings.watching.server_timeout = 300
    settings.batching.error_delays = [1, 2, 5, 10, 30, 60]


def _write_status(patch: kopf.Patch, old: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in status_patch(old, new).items():
        patch.status[key] = value


def _post(body: Any, events: list[Event]) -> None:
    for type_, reason, message in events:
        kopf.event(body, type=type_, reason=reason, message=message)


DECLARED: dict[str, KindDeclaration] = {}
"""The registered kinds by plural (what dependency tracking reads references from)."""


def register(declaration: KindDeclaration) -> None:
    """Register the kopf handlers of one kind: each delegates to a module-level handler."""
    adapter = declaration.adapter
    plural = declaration.plural
    DECLARED[plural] = declaration

    @kopf.on.resume(GROUP, VERSION, plural, id="reconcile")
    @kopf.on.create(GROUP, VERSION, plural, id="reconcile")
    @kopf.on.update(GROUP, VERSION, plural, id="reconcile")
    async def reconcile(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        await on_reconcile(runtime().handlers_for(adapter), body, patch)

    @kopf.on.delete(GROUP, VERSION, plural, id="finalize")
    async def finalize(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        await on_delete(runtime().handlers_for(adapter), body, patch)

    @kopf.on.event(GROUP, VERSION, plural, id="track")
    async def track(event: kopf.RawEvent, **_: Any) -> None:
        await on_event(runtime().handlers_for(adapter), event)


async def on_reconcile(h: KindHandlers, body: kopf.Body, patch: kopf.Patch) -> None:
    """create/update/resume: the level-based reconcile, its status write and follow-ups."""
    rt, plural = runtime(), h.adapter.kind.plural
    rt.cancel_poke((plural, *_key(body)))  # this reconcile supersedes a scheduled one
    old = dict(body.get("status") or {})
    try:
        ctx = await load_context(h.adapter, body, rt.clients)
        outcome = await h.reconciler.reconcile(ctx)
    except RetryLater as later:
        raise kopf.TemporaryError(str(later), delay=later.delay) from None
    except (errors.ModelArtsError, InvalidSpec, CredentialsError) as err:
        _report_failure(h, body, patch, old, classify(err))
        return
    if outcome.clear_create_pending:
        patch.metadata.annotations[CREATE_PENDING] = None
    _write_status(patch, old, outcome.status)
    _post(body, outcome.events)
    METRICS.inc("modelarts_reconciles_total", kind=plural, result="ok")
    if outcome.in_flight:
        h.in_flight.set()
    if outcome.delete_object:
        kopf.event(body, type="Normal", reason="TTLExpired", message="deleting finished object")
        await rt.kube.delete(h.adapter.kind.path(*_key(body)))
    elif outcome.retry_after is not None:
        rt.poke_later(plural, *_key(body), outcome.retry_after, "requeue")
    elif h.adapter.resyncs and ctx.policies.may_write:
        # Drift in configuration is looked for on a slow period: the reconcile compares the
        # remote object with the spec and updates only what differs.
        rt.poke_later(plural, *_key(body), ctx.policies.resync_period, "resync")


def _report_failure(
    h: KindHandlers, body: kopf.Body, patch: kopf.Patch, old: dict[str, Any], failure: Failure
) -> None:
    """Synced=False and a Warning event; a transient failure is retried by kopf soon, the
    others are done for now (so the next edit is handled at once) and retried slowly."""
    rt, plural = runtime(), h.adapter.kind.plural
    namespace, name = _key(body)
    if failure.auth:
        rt.clients.forget(namespace)  # re-read a fixed Secret next time
    report = failure.report(bool(old.get(h.adapter.id_field)))
    _write_status(patch, old, h.reconciler.writer.render(old, report, _generation(body)))
    kopf.event(body, type="Warning", reason=failure.event_reason, message=failure.message)
    METRICS.inc("modelarts_reconciles_total", kind=plural, result=failure.synced.reason)
    if failure.transient:
        raise kopf.TemporaryError(failure.message, delay=failure.delay)
    rt.poke_later(plural, namespace, name, failure.delay, failure.event_reason)


async def on_delete(h: KindHandlers, body: kopf.Body, patch: kopf.Patch) -> None:
    """The deletion policy behind the finalizer; a refused delete keeps it and says why."""
    adapter = h.adapter
    policy = (body.get("spec") or {}).get("deletionPolicy", "Delete")
    status = dict(body.get("status") or {})
    pending = CREATE_PENDING in (body.get("metadata", {}).get("annotations") or {})
    if policy == "Retain" or not (status.get(adapter.id_field) or pending):
        kopf.event(body, type="Normal", reason="Released", message="nothing to delete remotely")
        return
    try:
        ctx = await load_context(adapter, body, runtime().clients)
        events = await h.reconciler.delete(ctx)
    except DeleteBlocked as blocked:
        _report_delete_failure(h, body, patch, status, str(blocked))
        raise kopf.TemporaryError(str(blocked), delay=blocked.delay) from None
    except RetryLater as later:
        raise kopf.TemporaryError(str(later), delay=later.delay) from None
    except (errors.ModelArtsError, CredentialsError, InvalidSpec) as err:
        failure = classify(err)
        message = failure.message
        if not message.startswith(failure.event_reason):
            message = f"{failure.event_reason}: {message}"
        _report_delete_failure(h, body, patch, status, message)
        raise kopf.TemporaryError(message, delay=10) from None
    _post(body, events)


def _report_delete_failure(
    h: KindHandlers, body: kopf.Body, patch: kopf.Patch, old: dict[str, Any], message: str
) -> None:
    report = Report(phase="Deleting", synced=Verdict(False, "DeleteFailed", message))
    _write_status(patch, old, h.reconciler.writer.render(old, report, _generation(body)))
    kopf.event(body, type="Warning", reason="DeleteFailed", message=message)


async def on_event(h: KindHandlers, event: kopf.RawEvent) -> None:
    """Every watch event: feed the registry, and re-trigger the objects that reference one
    that just became Ready."""
    rt, plural = runtime(), h.adapter.kind.plural
    body = event.get("object") or {}
    h.reconciler.observed(event.get("type"), body)
    previous = rt.registry.update(plural, event.get("type"), body)
    current = rt.registry.get(plural, *_key(body))
    if current is None or not current.ready or (previous and previous.ready):
        return
    # Waiting dependents go on. Ready ones are poked too when this is a live transition
    # (not the initial listing): the dependency may now have another remote ID (it was
    # recreated after a drift), and a Service must follow its Model to the new one.
    references = references_to(DECLARED.values(), plural)
    for dependent in rt.registry.referencing(references, *_key(body)):
        if previous is not None or not dependent.ready:
            await rt.poke(dependent, f"{plural}/{current.name} is ready")


def _generation(body: Any) -> int:
    return int(body.get("metadata", {}).get("generation", 1))


def _key(body: Any) -> tuple[str, str]:
    meta = body.get("metadata", {})
    return meta.get("namespace", ""), meta.get("name", "")


def register_credentials_watch() -> None:
    """Re-reconcile objects that are not Synced when a credentials Secret changes: a fixed
    key takes effect at once instead of after the slow retry of an authentication error.
    The Secrets are watched by name (:class:`SecretWatcher`), not through a watch of every
    Secret. A deleted Namespace's client is closed."""

    @kopf.on.event("v1", "namespaces", id="namespaces")
    async def namespace_gone(event: kopf.RawEvent, **_: Any) -> None:
        if RUNTIME is not None and event.get("type") == "DELETED":
            name = ((event.get("object") or {}).get("metadata") or {}).get("name", "")
            RUNTIME.clients.evict_namespace(name)


async def credentials_changed(secret_namespace: str, secret_name: str) -> None:
    """Poke the objects that may use the Secret and are not Synced."""
    rt = RUNTIME
    if rt is None:
        return
    affected = rt.clients.namespaces_using(secret_namespace, secret_name)
    for entry in list(rt.registry):
        if cond.is_true(entry.status.get("conditions"), cond.SYNCED) or entry.deleting:
            continue
        if affected is None or entry.namespace in affected:
            rt.clients.forget(entry.namespace)
            await rt.poke(entry, f"credentials Secret {secret_namespace}/{secret_name} changed")
