"""The running operator's state, apart from kopf: one reconciler and one batched poller per
kind, the registry of watched objects, and the pokes that re-trigger a reconcile.

One :class:`Runtime` is built per ``operate()`` from the kinds' declarations and handed to
the kopf handlers (``handlers.register``) and the pollers; nothing about it is module state, so
two operators in one process (tests) do not share anything.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..settings import OperatorSettings
from . import conditions as cond
from .bookkeeping import DiffBase
from .controller import Reconciler
from .credentials import ClientFactory
from .kinds import KindDeclaration, references_recorded, references_to
from .kube import KubeClient, KubeError
from .policies import RECONCILE_REQUEST
from .poller import Poller
from .registry import Entry, Registry

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Process-wide state of a running operator (one per ``operate()``)."""

    settings: OperatorSettings
    kube: KubeClient
    clients: ClientFactory
    kinds: Sequence[KindDeclaration] = ()
    registry: Registry = field(default_factory=Registry)
    reconcilers: dict[str, Reconciler] = field(default_factory=dict)  # by plural
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    timers: dict[tuple[str, str, str], asyncio.TimerHandle] = field(default_factory=dict)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # kopf's record of the last-handled configurations (creates write it with their intent)
    diffbase: DiffBase = field(default_factory=DiffBase)

    def __post_init__(self) -> None:
        for kind in self.kinds:
            self.reconcilers[kind.plural] = Reconciler(
                kind, self.kube, self.clients, self.registry, self.settings.installation_id
            )

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

    def start_pollers(self) -> None:
        """One batched poller per kind, apart from kopf's handlers. (Retry timers are armed
        by the handlers as they run.)"""
        for reconciler in self.reconcilers.values():
            self.tasks.append(asyncio.create_task(Poller(self, reconciler).run()))

    async def poke(self, entry: Entry, why: str) -> None:
        """Re-trigger an object's reconcile now (an annotation change is a kopf update)."""
        reconciler = self.reconcilers.get(entry.plural)
        if reconciler is None:
            return
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        log.debug("poking %s/%s/%s: %s", entry.plural, entry.namespace, entry.name, why)
        try:
            await self.kube.patch_annotations(
                reconciler.kind.resource, entry.namespace, entry.name, {RECONCILE_REQUEST: stamp}
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

    async def dependency_ready(self, plural: str, previous: Entry | None, current: Entry) -> None:
        """``current`` just became Ready: re-trigger the objects whose references name it.

        Waiting dependents go on. Ready ones are poked too when this is a live transition (not
        the initial listing): the dependency may now have another remote ID (it was recreated
        after a drift), and a Service must follow its Model to the new one."""
        references = references_to(self.kinds, plural)
        for dependent in self.registry.referencing(references, current.namespace, current.name):
            if previous is not None or not dependent.ready:
                await self.poke(dependent, f"{plural}/{current.name} is ready")

    async def dependency_recorded(
        self, plural: str, previous: Entry | None, current: Entry
    ) -> None:
        """``current`` just recorded its ID: re-trigger the objects waiting on it through a
        reference that needs no more (``Reference.needs_ready`` False).

        Live transitions only: at a (re)start every listed training job has its ID, and a
        scan of the registry for each would be quadratic; a dependent resumed before its
        target was listed looks again by itself (``references.recorded_dependency``)."""
        if previous is None:
            return
        references = references_recorded(self.kinds, plural, previous.status, current.status)
        if not references:
            return
        for dependent in self.registry.referencing(references, current.namespace, current.name):
            if not dependent.ready:
                await self.poke(dependent, f"{plural}/{current.name} has its ID")

    async def credentials_changed(self, secret_namespace: str, secret_name: str) -> None:
        """A credentials Secret changed: poke the objects that may use it and are not Synced,
        so a fixed key takes effect at once instead of after the slow retry."""
        affected = self.clients.namespaces_using(secret_namespace, secret_name)
        for entry in list(self.registry):
            if cond.is_true(entry.status.get("conditions"), cond.SYNCED) or entry.deleting:
                continue
            if affected is None or entry.namespace in affected:
                self.clients.forget(entry.namespace)
                await self.poke(
                    entry, f"credentials Secret {secret_namespace}/{secret_name} changed"
                )

    async def aclose(self) -> None:
        """Stop the pollers and timers and close the clients."""
        for timer in self.timers.values():
            timer.cancel()
        self.timers.clear()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        await self.clients.aclose()
        await self.kube.aclose()
