"""kopf wiring shared by every kind: one set of handlers per kind, written once.

``register(registry, runtime)`` gives each kind of the runtime its create/update/resume handler
(the level-based reconcile), its delete handler (deletion policy behind our finalizer), and a
watch-event tracker that feeds the registry and re-triggers dependents the moment a dependency
becomes ready. The handlers go into the kopf registry the runner hands to ``kopf.operator``,
not kopf's default one: importing a kind registers nothing. ``configure()`` puts kopf's
bookkeeping under this project's domain.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import kopf

from .. import GROUP, VERSION, sizes
from ..api import errors
from ..metrics import METRICS
from . import requeue, resume
from .adapter import Context, DeleteBlocked, Event, InvalidSpec, RetryLater
from .bookkeeping import FINALIZER, KOPF_PREFIX, finalizers_with_ours, holds_remote
from .controller import Effects, Reconciler
from .credentials import CredentialsError
from .failures import Failure, classify
from .policies import CREATE_PENDING, intent_fulfilled
from .registry import Entry
from .requeue import Requeue
from .runtime import Runtime
from .status import Report, Verdict, status_patch

log = logging.getLogger(__name__)
# How long a kopf worker waits for its object's next event before it ends (kopf's default:
# 5 s). Under a worker limit the slot is held that long after the object's last event: a
# restart's 10,000 resumes, each one event, were held for 35.3 s with 1 s and a limit of 300,
# 18.2 s with 0.1 s (as without a limit: bench/results, services-v2 at 10,000). A worker that
# waits for its own patch to come back (kopf's consistency wait) stays for that anyway.
WORKER_IDLE_SECONDS = 0.1
# Objects per page of kopf's initial listing (the API server's own default page for kubectl).
LIST_CHUNK = 500


def _quiet_tracking(record: logging.LogRecord) -> bool:
    """Drop kopf's per-event chatter about the registry tracker (every watch event of every
    object would log twice at INFO)."""
    return "'track'" not in record.getMessage()


def configure(settings: kopf.OperatorSettings, rt: Runtime) -> None:
    """kopf's bookkeeping under our own domain (the runtime's record of the last-handled
    configurations, which creates also write: ``bookkeeping``); events from INFO up."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    settings.persistence.diffbase_storage = rt.diffbase
    # Our own events (kopf.event) are posted whatever this level; kopf's log-to-event bridge
    # would otherwise post "Handler ... succeeded" as an Event for every handler run.
    settings.posting.level = logging.WARNING
    logging.getLogger("kopf.objects").addFilter(_quiet_tracking)
    settings.watching.server_timeout = 300
    # The initial listing (every start, every re-list) in pages: one response of 10,000
    # objects is a spike of its own, in the operator and in the API server.
    settings.watching.chunk_size = LIST_CHUNK
    settings.queueing.error_delays = [1, 2, 5, 10, 30, 60]
    # A worker slot is held while its object's events keep coming, then for the idle timeout:
    # with a worker limit that wait bounds throughput to the limit over the timeout; an
    # object's next event after that starts a new worker, which is cheap.
    settings.queueing.worker_limit = rt.settings.worker_limit or None
    settings.queueing.idle_timeout = WORKER_IDLE_SECONDS


def register(registry: kopf.OperatorRegistry, rt: Runtime) -> None:
    """Register every kind's kopf handlers, and the Namespace watch, into ``registry``."""
    for reconciler in rt.reconcilers.values():
        _register_kind(registry, rt, reconciler)

    @kopf.on.event("v1", "namespaces", id="namespaces", registry=registry)
    async def namespace_gone(event: kopf.RawEvent, **_: Any) -> None:
        """A deleted Namespace's client is closed. (Credentials Secrets are watched by name,
        by the client factory, not through a watch of every Secret.)"""
        if event.get("type") == "DELETED":
            name = ((event.get("object") or {}).get("metadata") or {}).get("name", "")
            rt.clients.evict_namespace(name)


def _register_kind(registry: kopf.OperatorRegistry, rt: Runtime, r: Reconciler) -> None:
    plural = r.kind.plural

    @kopf.on.resume(GROUP, VERSION, plural, id="reconcile", registry=registry)
    @kopf.on.create(GROUP, VERSION, plural, id="reconcile", registry=registry)
    @kopf.on.update(GROUP, VERSION, plural, id="reconcile", registry=registry)
    async def reconcile(
        body: kopf.Body, patch: kopf.Patch, reason: str, new: Any, **_: Any
    ) -> None:
        await on_reconcile(rt, r, body, patch, reason, new)

    # The finalizer only on an object that may stand for a remote one: a new object goes
    # straight to its handler, whose intent write adds it before any remote create.
    @kopf.on.delete(GROUP, VERSION, plural, id="finalize", registry=registry, when=holds_remote)
    async def finalize(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        await on_delete(rt, r, body, patch)

    @kopf.on.event(GROUP, VERSION, plural, id="track", registry=registry)
    async def track(event: kopf.RawEvent, **_: Any) -> None:
        await on_event(rt, r, event)


def _write_status(patch: kopf.Patch, old: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in status_patch(old, new).items():
        patch.status[key] = value


def _post(body: Any, events: list[Event]) -> None:
    for type_, reason, message in events:
        kopf.event(body, type=type_, reason=reason, message=message)


async def on_reconcile(
    rt: Runtime,
    r: Reconciler,
    body: kopf.Body,
    patch: kopf.Patch,
    reason: str = "",
    new: Any = None,
) -> None:
    """create/update/resume: the level-based reconcile, its status write and follow-ups; on
    resume, an object whose status shows nothing left to do is taken on trust instead.

    ``new`` is what kopf records as handled when this ends (its last-handled configuration):
    a create writes it with its intent (``bookkeeping``)."""
    plural = r.kind.plural
    if reason == kopf.Reason.RESUME and resumed_on_trust(rt, r, body):
        return
    rt.cancel_poke((plural, *_key(body)))  # this reconcile supersedes a scheduled one
    r.resumed.settle(_key(body))  # ... and a confirmation still pending
    old = dict(body.get("status") or {})
    try:
        if (too_large := sizes.oversized(body)) is not None:
            raise InvalidSpec(too_large)
        ctx = await r.context(body)
    except (errors.ModelArtsError, InvalidSpec, CredentialsError) as err:
        _report_failure(rt, r, body, patch, old, classify(err))
        return
    handled = rt.diffbase.annotations(body, new) if new is not None else {}
    ctx.intent_metadata = _with_intent(body, handled)
    try:
        await _reconcile(rt, r, ctx, body, patch, reason, old)
    except BaseException:
        if ctx.intent_written:  # kopf retries an object it sees unhandled: take that back
            for key in handled:
                patch.metadata.annotations[key] = None
        raise
    if ctx.intent_written:
        rt.diffbase.written_with_intent(ctx.uid, handled)


def _with_intent(body: kopf.Body, handled: dict[str, str]) -> dict[str, Any]:
    """What a create intent's write carries besides the intent: kopf's last-handled
    configuration and the finalizer (the object stands for a remote one from then on)."""
    metadata: dict[str, Any] = {"annotations": dict(handled)}
    if (finalizers := finalizers_with_ours(body)) is not None:
        metadata["finalizers"] = finalizers
    return metadata


async def _reconcile(
    rt: Runtime,
    r: Reconciler,
    ctx: Context[Any, Any],
    body: kopf.Body,
    patch: kopf.Patch,
    reason: str,
    old: dict[str, Any],
) -> None:
    plural = r.kind.plural
    try:
        outcome = await r.reconcile(ctx)
    except RetryLater as later:
        raise kopf.TemporaryError(str(later), delay=later.requeue.after) from None
    except (errors.ModelArtsError, InvalidSpec, CredentialsError) as err:
        _report_failure(rt, r, body, patch, old, classify(err))
        return
    effects = outcome.effects
    # A fulfilled intent stays until kopf writes the object's metadata anyway (an update's
    # last-handled configuration): its removal alone would be a write of its own.
    fulfilled = intent_fulfilled(ctx.annotations, old, r.kind.id_field)
    if effects.clear_create_pending and (reason == kopf.Reason.UPDATE or not fulfilled):
        patch.metadata.annotations[CREATE_PENDING] = None
    # Bound without a create of ours (adopted, observed): the finalizer with this patch, where
    # kopf would otherwise add it with a write of its own.
    finalizers = finalizers_with_ours(body)
    if outcome.status.get(r.kind.id_field) and not ctx.intent_written and finalizers:
        patch.metadata["finalizers"] = finalizers
    _write_status(patch, old, outcome.status)
    _post(body, effects.events)
    METRICS.inc("modelarts_reconciles_total", kind=plural, result="ok")
    if outcome.in_flight:
        r.in_flight.set()
    if effects.delete_object:
        kopf.event(body, type="Normal", reason="TTLExpired", message="deleting finished object")
        await rt.kube.delete(r.kind.resource.path(*_key(body)))
    elif (again := next_look(r, ctx, effects)) is not None:
        rt.poke_later(plural, *_key(body), again.after, again.why)


def resumed_on_trust(rt: Runtime, r: Reconciler, body: kopf.Body) -> bool:
    """After a restart, leave an object whose status shows its generation applied and nothing
    left to do to the poller's next cycle (which confirms it from its list page, or hands it
    back to this reconcile), instead of one ModelArts GET each; True when so.

    The resync a drifting form had armed in the previous process is armed again, at a random
    point of its period: a restart neither cancels the configuration check nor brings every
    object's at once."""
    key = _key(body)
    entry = rt.registry.get(r.kind.plural, *key) or Entry(r.kind.plural, *key, dict(body))
    trust = resume.trusted(r.kind, entry)
    if trust is None:
        return False
    r.resumed.add(key)
    r.in_flight.set()  # the poller's next cycle comes at the active period
    if trust.form.adapter.resyncs and trust.policies.may_write:
        after = random.uniform(0.0, trust.policies.resync_period)
        rt.poke_later(r.kind.plural, *key, after, "resync")
    METRICS.inc("modelarts_resumes_total", kind=r.kind.plural, outcome="trusted")
    return True


def next_look(r: Reconciler, ctx: Context[Any, Any], effects: Effects) -> Requeue | None:
    """When to reconcile a finished reconcile's object again: when it asked, else after the
    resync period for a form whose configuration can drift (the reconcile then compares the
    remote object with the spec and updates only what differs)."""
    if effects.requeue is not None:
        return effects.requeue
    if r.adapter_for(ctx.spec).resyncs and ctx.policies.may_write:
        return Requeue(ctx.policies.resync_period, "resync")
    return None


def _report_failure(
    rt: Runtime,
    r: Reconciler,
    body: kopf.Body,
    patch: kopf.Patch,
    old: dict[str, Any],
    failure: Failure,
) -> None:
    """Synced=False and a Warning event; a transient failure is retried by kopf soon, the
    others are done for now (so the next edit is handled at once) and retried slowly."""
    plural = r.kind.plural
    namespace, name = _key(body)
    if failure.auth:
        rt.clients.forget(namespace)  # re-read a fixed Secret next time
    report = failure.report(bool(old.get(r.kind.id_field)))
    _write_status(patch, old, r.writer.render(old, report, _generation(body)))
    kopf.event(body, type="Warning", reason=failure.event_reason, message=failure.message)
    METRICS.inc("modelarts_reconciles_total", kind=plural, result=failure.synced.reason)
    again = failure.requeue
    if failure.transient:
        raise kopf.TemporaryError(failure.message, delay=again.after)
    rt.poke_later(plural, namespace, name, again.after, again.why)


async def on_delete(rt: Runtime, r: Reconciler, body: kopf.Body, patch: kopf.Patch) -> None:
    """The deletion policy behind the finalizer; a refused delete keeps it and says why."""
    policy = (body.get("spec") or {}).get("deletionPolicy", "Delete")
    status = dict(body.get("status") or {})
    pending = CREATE_PENDING in (body.get("metadata", {}).get("annotations") or {})
    if policy == "Retain" or not (status.get(r.kind.id_field) or pending):
        kopf.event(body, type="Normal", reason="Released", message="nothing to delete remotely")
        return
    try:
        ctx = await r.context(body)
        events = await r.delete(ctx)
    except DeleteBlocked as blocked:
        _report_delete_failure(r, body, patch, status, str(blocked))
        raise kopf.TemporaryError(str(blocked), delay=blocked.requeue.after) from None
    except RetryLater as later:
        raise kopf.TemporaryError(str(later), delay=later.requeue.after) from None
    except (errors.ModelArtsError, CredentialsError, InvalidSpec) as err:
        failure = classify(err)
        message = failure.message
        if not message.startswith(failure.event_reason):
            message = f"{failure.event_reason}: {message}"
        _report_delete_failure(r, body, patch, status, message)
        raise kopf.TemporaryError(message, delay=requeue.DELETE_RETRY) from None
    _post(body, events)


def _report_delete_failure(
    r: Reconciler, body: kopf.Body, patch: kopf.Patch, old: dict[str, Any], message: str
) -> None:
    report = Report(phase="Deleting", synced=Verdict(False, "DeleteFailed", message))
    _write_status(patch, old, r.writer.render(old, report, _generation(body)))
    kopf.event(body, type="Warning", reason="DeleteFailed", message=message)


async def on_event(rt: Runtime, r: Reconciler, event: kopf.RawEvent) -> None:
    """Every watch event: feed the registry, and re-trigger the objects that reference one
    that just became Ready (or just recorded the ID a reference needs)."""
    plural = r.kind.plural
    body = event.get("object") or {}
    shed_managed_fields(body)
    r.observed(event.get("type"), body)
    if event.get("type") == "DELETED":
        r.resumed.settle(_key(body))
        rt.diffbase.forget(str(body.get("metadata", {}).get("uid", "")))
    previous = rt.registry.update(plural, event.get("type"), body)
    current = rt.registry.get(plural, *_key(body))
    if current is None:
        return
    await rt.dependency_recorded(plural, previous, current)
    if not current.ready or (previous and previous.ready):
        return
    await rt.dependency_ready(plural, previous, current)


def shed_managed_fields(body: Any) -> None:
    """Drop ``metadata.managedFields`` from the watch event's object kopf is processing.

    kopf wraps each event's parsed object in a ``Body`` and a ``Patch`` whose views point back
    at them: reference cycles, so the object lives until the cyclic collector runs, long after
    its handlers ended (bench/memory.py counted 2.8 parsed objects alive per v2 Service at
    rest). managedFields (the API server's field ownership, one entry per field manager) is
    most of each such object, and neither kopf nor this operator reads it: kopf's diff and
    patches use the spec, annotations and finalizers, and nothing here sends the object back
    whole. The watch handlers run before the change handlers on each event, so this is the
    first place the operator sees it; dropped here, it is freed at once, by reference count."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    if isinstance(meta, dict):
        meta.pop("managedFields", None)


def _generation(body: Any) -> int:
    return int(body.get("metadata", {}).get("generation", 1))


def _key(body: Any) -> tuple[str, str]:
    meta = body.get("metadata", {})
    return meta.get("namespace", ""), meta.get("name", "")
