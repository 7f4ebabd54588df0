"""Batched status polling: one list walk per kind and credentials, not one GET per object.

Every cycle lists the remote objects page by page, compares each watched object's remote
state with its status, and patches only the objects whose state changed. API calls per cycle
grow with pages, not with objects. The period is short while anything is in flight and long
when everything has settled. An object missing from the list, or one that reached a state
needing more detail (e.g. a finished training job's metrics), is handed to its reconcile
handler by a poke.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..api import errors
from ..metrics import METRICS
from ..settings import OperatorSettings
from . import conditions as cond
from .adapter import Observation, RemoteAdapter
from .controller import Reconciler
from .credentials import location_of
from .failures import classify
from .kube import KubeClient, KubeError
from .policies import moved
from .registry import Entry, Registry
from .remote_events import EventMirror, Look
from .resume import work_shown
from .status import Report, Verdict, status_patch

log = logging.getLogger(__name__)
ReportOf = Callable[[Entry], Report]  # what to show, from a given view of the object
Adapter = RemoteAdapter[Any, Any]


@dataclass(frozen=True)
class Blinding:
    """This poller marked an object Synced=False because its list call failed; ``before`` is
    the Synced condition it had then (None: it had none, or it showed a blinding already)."""

    before: cond.Condition | None


HandOver = Literal["hand-over"]
HAND_OVER: HandOver = "hand-over"  # a blinded object with nothing to give back: its reconcile
# decides


class Surroundings(Protocol):
    """What a poller uses of the running operator (``runtime.Runtime``)."""

    settings: OperatorSettings
    kube: KubeClient
    registry: Registry

    @property
    def clients(self) -> Any: ...  # ClientFactory: the ModelArts client of each namespace

    async def poke(self, entry: Entry, why: str) -> None: ...

    async def post_event(self, entry: Entry, type_: str, reason: str, message: str) -> None: ...


class Poller:
    CONCURRENCY = 16

    def __init__(self, runtime: Surroundings, reconciler: Reconciler) -> None:
        self.rt = runtime
        self.reconciler = reconciler
        self.plural = reconciler.kind.plural
        self.cycles = 0
        self.patches = 0
        self._next_due: dict[tuple[str, str], float] = {}
        # Objects this poller marked Synced=False because their list call failed. A record
        # goes only once the object's status no longer shows the blinding.
        self._blinded: dict[tuple[str, str], Blinding] = {}
        # When a blinded object with nothing to give back was handed to its reconcile.
        self._handed_over: dict[tuple[str, str], float] = {}
        # The remote event logs of the objects in progress, as Kubernetes Events.
        self.events = EventMirror(runtime.kube)

    async def run(self) -> None:
        while True:
            in_flight = False
            started = time.monotonic()
            # Cleared as the cycle starts, not after it: an object put in flight while the
            # cycle runs (a create the cycle's list did not show yet) still cuts the rest
            # after it short. Cleared after the cycle, that signal was lost and the object's
            # next state waited for the settled period (1,000 networks: shown Active 65 s
            # after their creates instead of the next active poll).
            self.reconciler.in_flight.clear()
            try:
                in_flight = await self.cycle()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed cycle must not end polling
                log.exception("poll cycle for %s failed", self.plural)
            spent = time.monotonic() - started
            METRICS.observe("modelarts_poll_cycle_seconds", spent, kind=self.plural)
            await self._rest(in_flight, spent)

    async def _rest(self, in_flight: bool, spent: float = 0.0) -> None:
        """Active period while anything is in flight or awaits confirmation after a restart
        (counted from the cycle's start, so a long cycle does not stretch the period and the
        lag); otherwise the settled period, cut short (to the active one) when a reconcile
        has put an object in flight, or kopf resumed one on trust, since the cycle began.
        While a restart's resumes still arrive the next cycle waits for them (one walk of the
        list confirms them all)."""
        s, wake, resumed = self.rt.settings, self.reconciler.in_flight, self.reconciler.resumed
        if in_flight or resumed:
            await asyncio.sleep(max(0.0, s.poll_active_seconds - spent))
        else:
            try:
                await asyncio.wait_for(wake.wait(), s.poll_settled_seconds)
            except TimeoutError:
                return
            await asyncio.sleep(s.poll_active_seconds)
        await resumed.quiet()

    async def cycle(self) -> bool:
        """One poll of every watched object of this kind; True if any is in flight.

        Objects are grouped by credentials (client), API form and scope (the list they are
        in, usually their workspace): one list walk per group."""
        kind = self.reconciler.kind
        entries = [e for e in self.rt.registry.entries(self.plural) if not e.deleting]
        self._forget_gone_resumes()
        self.events.keep_only(entries)
        groups: dict[tuple[Any, str, str], list[Entry]] = defaultdict(list)
        adapters: dict[str, Adapter] = {}
        namespaces: dict[str, Any] = {}  # one lookup per namespace, not per object
        for entry in entries:
            form = kind.form_of(entry)  # None: not valid, its reconcile says so
            if form is None or not form.adapter.polled(entry) or not self._due(entry):
                continue
            client = await self._client(entry.namespace, namespaces)
            if client is None:
                continue
            if moved(entry.status, location_of(client)):
                # Bound in another project: its ID means nothing in this one. The reconcile
                # says so (once), and polling leaves it alone.
                synced = cond.get_condition(entry.status.get("conditions"), cond.SYNCED) or {}
                self._settle_resume(entry, "handed-over")
                if synced.get("reason") != "ProjectChanged":
                    await self.rt.poke(entry, "the namespace points to another project")
                continue
            if _refused_as_not_owned(entry):
                continue  # its recorded ID is not its own: nothing of that object is mirrored
            adapters[form.name] = form.adapter
            scope = form.adapter.poll_scope(entry, self.rt.registry)
            groups[(client, form.name, scope)].append(entry)
        await self._hand_over_unlooked_resumes(entries, groups.values())
        if not groups:
            return False
        self.cycles += 1
        METRICS.inc("modelarts_poll_cycles_total", kind=self.plural)
        in_flight = False
        looks: list[Look] = []  # the remote event logs worth a look: read after the lists
        for (client, form_name, scope), group in groups.items():
            adapter = adapters[form_name]
            try:
                remote = {ident: item async for ident, item in adapter.list_remote(client, scope)}
            except errors.ModelArtsError as err:
                log.warning("listing %s (%s) failed: %s", self.plural, form_name, err)
                blind = [self._blind_after_failed_list(entry, err) for entry in group]
                await self._run_bounded(blind)
                continue
            updates: list[Awaitable[object]] = []
            for entry in group:
                blinding = self._unblinding(entry)
                if blinding == HAND_OVER:
                    self._settle_resume(entry, "handed-over")
                    if self._hand_over_due(entry):
                        updates.append(self.rt.poke(entry, "listing works again"))
                    continue
                summary = remote.get(str(entry.status[adapter.id_field]))
                if summary is None:
                    self._settle_resume(entry, "handed-over")
                    updates.append(self.rt.poke(entry, "not found in the remote list"))
                    continue
                obs = adapter.observe_summary(entry, summary)
                in_flight = in_flight or obs.in_flight
                if (look := self.events.candidate(entry, adapter, client, obs)) is not None:
                    looks.append(look)
                if (work := self._confirm_resume(adapter, entry, obs)) is not None:
                    updates.append(self.rt.poke(entry, f"resumed, and {work}"))
                report_of = self._from_summary(adapter, entry, obs, summary, blinding)
                # Most objects, most cycles, have nothing to patch: no task for them.
                if self._patch_for(entry, report_of(entry)):
                    updates.append(self._apply(entry, report_of))
            await self._run_bounded(updates)
        chosen = self.events.choose(looks)
        await self._run_bounded(
            [self.events.look(w.entry, w.adapter, w.client, w.phase) for w in chosen]
        )
        return in_flight

    # -- after a restart: the objects kopf resumed on trust ------------------------------------

    def _settle_resume(self, entry: Entry, outcome: str) -> bool:
        """``entry`` is no longer pending confirmation (``outcome``: how it was settled);
        True when it was pending."""
        if not self.reconciler.resumed.settle((entry.namespace, entry.name)):
            return False
        METRICS.inc("modelarts_resumes_total", kind=self.plural, outcome=outcome)
        return True

    def _confirm_resume(self, adapter: Adapter, entry: Entry, obs: Observation) -> str | None:
        """A resumed object found in the list: confirmed, or (what its reconcile must still
        do) handed over. None when it was not pending or is confirmed."""
        if (entry.namespace, entry.name) not in self.reconciler.resumed:
            return None
        work = work_shown(adapter, entry, obs)
        self._settle_resume(entry, "confirmed" if work is None else "handed-over")
        return work

    async def _hand_over_unlooked_resumes(
        self, entries: list[Entry], groups: Iterable[list[Entry]]
    ) -> None:
        """Resumed objects this cycle cannot look for (no credentials, another project, a
        spec its form does not parse): their reconcile runs, as on every resume before. (One
        whose list call fails stays pending: it is blinded, and the next good list confirms
        it.)"""
        resumed = self.reconciler.resumed
        if not resumed:
            return
        looked = {(e.namespace, e.name) for group in groups for e in group}
        for entry in entries:
            key = (entry.namespace, entry.name)
            if key in resumed and key not in looked and self._settle_resume(entry, "handed-over"):
                await self.rt.poke(entry, "resumed, and not in a list this poller walks")

    def _forget_gone_resumes(self) -> None:
        """Resumed objects deleted (or being deleted) before a cycle confirmed them."""
        resumed, registry = self.reconciler.resumed, self.rt.registry
        for key in list(resumed.keys):
            entry = registry.get(self.plural, *key)
            if entry is None or entry.deleting:
                resumed.settle(key)

    async def _client(self, namespace: str, known: dict[str, Any]) -> Any:
        """The namespace's ModelArts client (None while its credentials cannot be had: the
        next reconcile reports that)."""
        if namespace not in known:
            try:
                known[namespace] = await self.rt.clients.for_namespace(namespace)
            except Exception as err:
                log.debug("no client for %s: %s", namespace, err)
                known[namespace] = None
        return known[namespace]

    def _adapter_of(self, entry: Entry) -> Adapter | None:
        form = self.reconciler.kind.form_of(entry)
        return None if form is None else form.adapter

    def _unblinding(self, entry: Entry) -> Blinding | HandOver | None:
        """After a good list, how to treat ``entry`` if this poller blinded it: its record
        (the Synced condition to give back), HAND_OVER to its reconcile when its status shows
        the blinding and there is nothing to give back (none was had, or this process did
        not do the blinding: it restarted since), or None (not blinded).

        The decision follows what the object's status shows, not only the record, and the
        record goes only when a view no longer shows the blinding: one dropped before its
        restore landed (a patch that conflicted twice) once left objects Synced=False
        "listing trainingjobs failed" for good after the endpoint came back, and one dropped
        when the restore landed would hand a lagging view (still blinded) to its reconcile."""
        key = (entry.namespace, entry.name)
        record = self._blinded.get(key)
        if _shows_blinding(entry):
            return record if record is not None and record.before is not None else HAND_OVER
        current = cond.get_condition(entry.status.get("conditions"), cond.SYNCED)
        if record is not None and current == record.before:
            return record  # a view from before the blinding (the watch lags): keep the record
        self._blinded.pop(key, None)  # given back, or a reconcile has written Synced since
        self._handed_over.pop(key, None)
        return None

    def _hand_over_due(self, entry: Entry) -> bool:
        """Poke a blinded object's reconcile once per settled period, not every cycle: the
        reconcile rewrites Synced, but may be queued behind many others after an outage."""
        key = (entry.namespace, entry.name)
        now = time.monotonic()
        if now - self._handed_over.get(key, -float("inf")) < self.rt.settings.poll_settled_seconds:
            return False
        self._handed_over[key] = now
        return True

    def _from_summary(
        self,
        adapter: Adapter,
        seen: Entry,
        obs: Observation,
        summary: Any,
        blinding: Blinding | None,
    ) -> ReportOf:
        """The report for an object seen as ``summary`` in the list, computed from whichever
        view of the object it is applied to: what an object shows can depend on its status
        (a job stopped for its deadline stays DeadlineExceeded; a blinded object gets its
        Synced verdict back only while it still shows the blinding), so a retry after a
        conflict must observe the re-read object, not re-send the stale view's report.
        ``obs`` is what the cycle already observed for the view ``seen`` (not observed twice)."""

        def report_of(entry: Entry) -> Report:
            fresh = obs if entry is seen else adapter.observe_summary(entry, summary)
            report = fresh.report()
            if blinding is not None:
                report.synced = _restore(entry, blinding)
            return report

        return report_of

    async def _blind_after_failed_list(self, entry: Entry, err: errors.ModelArtsError) -> None:
        """The list call covering ``entry`` failed: its status can no longer be trusted, so it
        says Synced=False with the cause. The first good list gives back the Synced verdict it
        had (or, not knowing it, re-reconciles it)."""
        failure = classify(err, by_category=True)
        verdict = Verdict(False, failure.synced.reason, f"{_listing(entry)}: {failure.message}")
        key = (entry.namespace, entry.name)
        recorded = key not in self._blinded
        if recorded:
            before = cond.get_condition(entry.status.get("conditions"), cond.SYNCED)
            self._blinded[key] = Blinding(None if _shows_blinding(entry) else before)
        if not await self._apply(entry, lambda _: Report(synced=verdict)) and recorded:
            self._blinded.pop(key, None)  # not blinded after all: nothing to give back

    async def _run_bounded(self, updates: list[Any]) -> None:
        """Apply the cycle's updates concurrently (many jobs finish in one cycle, each with a
        detail GET and a status patch), at most CONCURRENCY at a time; one object's trouble
        does not stop the others."""
        gate = asyncio.Semaphore(self.CONCURRENCY)

        async def one(update: Any) -> None:
            async with gate:
                try:
                    await update
                except Exception:
                    log.exception(
                        "updating an object from the %s poll failed",
                        self.plural,
                    )

        await asyncio.gather(*(one(u) for u in updates))

    def _due(self, entry: Entry) -> bool:
        """Honour a per-object poll-interval annotation."""
        from .policies import POLL_INTERVAL, Policies, PolicyError

        if POLL_INTERVAL not in entry.annotations:  # the common case, without parsing
            return True
        try:
            interval = Policies.from_annotations(entry.annotations).poll_interval
        except PolicyError:
            return True
        if interval is None:
            return True
        key = (entry.namespace, entry.name)
        now = time.monotonic()
        if now < self._next_due.get(key, 0.0):
            return False
        self._next_due[key] = now + interval
        return True

    async def _detail(self, entry: Entry) -> Observation | None:
        """What the reconcile would observe, from one detail GET and without the kopf round
        trip of a poke; None when the transition needs the reconcile itself (an error to
        report, a run-policy action, events to post)."""
        try:
            ctx = await self.reconciler.context(entry.body)
            ctx.kube = self.rt.kube
            adapter = self.reconciler.adapter_for(ctx.spec)
            remote = await adapter.get(ctx, str(entry.status[adapter.id_field]))
        except Exception:  # the reconcile reports it properly
            return None
        obs = adapter.observe(ctx, remote)
        return None if obs.asks else obs  # a timer to arm, the object to delete

    def _patch_for(self, entry: Entry, report: Report) -> dict[str, Any]:
        """The status patch that makes this view show ``report`` (from the poller, which never
        claims an observed generation); empty when there is nothing to patch.

        Rendering is a pure function of the view's status and the report, so "nothing to
        patch" is remembered on the entry (a new view is a new entry): rendering every
        object's status (a pydantic validate and dump) each cycle to find an empty patch was
        most of a cycle's CPU at 10,000 objects. The cycle asks this before it makes a task
        for the object."""
        report.observed = False
        if entry.shown == report:
            return {}
        generation = int(entry.body.get("metadata", {}).get("generation", 1))
        new = self.reconciler.writer.render(entry.status, report, generation)
        patch = status_patch(entry.status, new)
        if not patch:
            entry.shown = report
        return patch

    async def _apply(self, entry: Entry, report_of: ReportOf, fresh: bool = False) -> bool:
        """Patch the status of ``entry`` to show ``report_of(entry)``, conditionally on the
        version the registry holds: the registry can lag behind a reconcile's write, and an
        unconditional patch from that older view would undo it (its Synced condition, say). On
        a conflict the object is read again and the report recomputed from it once (a report
        from the stale view would undo the write just as well); after that the next cycle.
        True when the status shows the report (patched, or nothing to patch).

        The poller's view of the spec may be older than the API server's, so it never claims
        to have observed a generation (observedGeneration is the reconcile's)."""
        writer = self.reconciler.writer
        old = entry.status
        generation = int(entry.body.get("metadata", {}).get("generation", 1))
        report = report_of(entry)
        patch = self._patch_for(entry, report)
        if not patch:
            return True
        ready_before = cond.is_true(old.get("conditions"), cond.READY)
        phase = report.phase or ""
        adapter = self._adapter_of(entry)
        if report.ready is not None and adapter is not None and adapter.needs_detail(old, phase):
            detailed = await self._detail(entry) if adapter.polls_detail(entry) else None
            if detailed is None:
                await self.rt.poke(entry, f"remote state {phase}")
                return False
            # The detail says what the remote object is; the Synced verdict a blinded
            # object gets back rides along (a report from the detail alone would write the
            # finished job's Ready and leave Synced=False "listing … failed" for good).
            synced, report = report.synced, detailed.report()
            report.synced, report.observed = synced, False
            new = writer.render(old, report, generation)
            patch = status_patch(old, new)
            if not patch:
                return True  # the detail shows what the status already says: no write
        kind = self.reconciler.kind.resource
        version = entry.body.get("metadata", {}).get("resourceVersion")
        try:
            await self.rt.kube.patch_status(kind, entry.namespace, entry.name, patch, version)
        except KubeError as err:
            if err.status == 404:
                return False  # deleted meanwhile
            if err.status != 409:
                raise
            METRICS.inc("modelarts_status_conflicts_total", kind=kind.plural)
            if fresh:  # still being written (a reconcile in progress): the next cycle
                log.debug("status of %s/%s changed twice; next cycle", entry.namespace, entry.name)
                return False
            body = await self.rt.kube.get(kind.path(entry.namespace, entry.name))
            current = Entry(entry.plural, entry.namespace, entry.name, body)
            return await self._apply(current, report_of, fresh=True)
        self.patches += 1
        METRICS.inc("modelarts_status_patches_total", kind=kind.plural)
        if report.ready is not None and report.ready.status != ready_before:
            phase = report.phase or ""
            await self.rt.post_event(
                entry, "Normal", phase, report.ready.message or f"remote state is {phase}"
            )
        return True


def _listing(entry: Entry) -> str:
    return f"listing {entry.plural} failed"


def _restore(entry: Entry, blinding: Blinding) -> Verdict | None:
    """After a failed list, for the view ``entry`` of a blinded object: the Synced verdict it
    had before (given back with the first good list's patch, no reconcile needed); None when
    there is none to give back, when this view is from before the blinding (the watch lags
    behind the poller's own write: a patch from it could not undo the blinding, so the
    reconcile decides), or when a reconcile has written Synced since."""
    before = blinding.before
    if not _shows_blinding(entry) or before is None:
        return None
    return Verdict(
        before.get("status") == "True",
        str(before.get("reason") or "Synced"),
        str(before.get("message") or ""),
    )


def _shows_blinding(entry: Entry) -> bool:
    """True when the object's Synced=False is the poller's (its list call failed)."""
    synced = cond.get_condition(entry.status.get("conditions"), cond.SYNCED) or {}
    return synced.get("status") == "False" and str(synced.get("message") or "").startswith(
        _listing(entry)
    )


def _refused_as_not_owned(entry: Entry) -> bool:
    """True when the reconcile refused the remote ID the object's status records (it names a
    remote object that is not this one's): polling must not mirror that object's state."""
    synced = cond.get_condition(entry.status.get("conditions"), cond.SYNCED) or {}
    return synced.get("status") == "False" and synced.get("reason") == "NotOwned"
