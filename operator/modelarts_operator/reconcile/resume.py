"""Restarts by list pages: which objects a restarted operator takes on trust, and how the first
poll cycle confirms them.

kopf resumes every object it finds when the operator starts (every ``helm upgrade``, pod
reschedule and lease hand-over). The level-based reconcile confirmed each with one ModelArts
GET: 10,000 calls per restart at 10,000 objects, minutes of a tenant's rate limit. Yet an
object whose status says its current generation was applied needs nothing the poller's list
pages cannot show: its remote state (the next cycle writes it if it moved), its absence (the
cycle hands a missing object to its reconcile, which recreates it or reports it gone) and, for
the forms whose configuration can drift, the slow resync (armed here at a random point of its
period, so a restart neither forgets it nor lets every object's come at once).

So a resumed object is **trusted** when its status shows, without a call, that nothing is
left to do (:func:`trusted`): Synced for its current generation, its remote ID recorded, no
unfulfilled create intent, not being deleted, and nothing its adapter names as work still to
do (``RemoteAdapter.resume_work``: a deadline to watch, a stop to make). It is then **pending**
(:class:`Resumed`) until a poll cycle finds it in its list: confirmed, or handed to its
reconcile as before when the list lacks it, the cycle could not look for it (no credentials,
another project), or what the list shows asks for work. Everything else is reconciled on resume
as it always was.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import conditions as cond
from .adapter import Observation, RemoteAdapter
from .kinds import Form, KindDeclaration
from .policies import CREATE_PENDING, Policies, PolicyError, intent_fulfilled
from .registry import Entry, Key

# A restart's resumes arrive as kopf works through its first listing: the poller waits until
# none has come for this long, so that one cycle (one walk of the list pages) confirms them all.
RESUMES_QUIET_SECONDS = 2.0
# ... but no longer than this, whatever keeps arriving.
RESUMES_WAIT_LIMIT_SECONDS = 60.0


@dataclass(frozen=True)
class Trust:
    """A resumed object taken on trust: its form, and its policies (the resync period)."""

    form: Form
    policies: Policies


def trusted(kind: KindDeclaration, entry: Entry) -> Trust | None:
    """The object as kopf resumes it, if its status shows, without a call, that its current
    generation was applied and nothing is left to do; None when it must be reconciled."""
    meta = entry.body.get("metadata") or {}
    status = entry.status
    if entry.deleting or not status.get(kind.id_field):
        return None
    if CREATE_PENDING in entry.annotations and not intent_fulfilled(
        entry.annotations, status, kind.id_field
    ):
        return None  # an intent the recorded object does not fulfil: the reconcile looks
    generation = meta.get("generation", 1)
    synced = cond.get_condition(status.get("conditions"), cond.SYNCED) or {}
    if not (
        status.get("observedGeneration") == generation
        and synced.get("status") == "True"
        and synced.get("observedGeneration") == generation
    ):
        return None
    form = kind.form_of(entry)
    if form is None or not form.adapter.polled(entry):
        return None
    try:
        policies = Policies.from_annotations(entry.annotations)
    except PolicyError:
        return None  # the reconcile reports it
    phase = str(status.get("phase") or "")
    if form.adapter.resume_work(entry, phase, facts_of(status)) is not None:
        return None
    return Trust(form, policies)


def work_shown(adapter: RemoteAdapter[Any, Any], entry: Entry, obs: Observation) -> str | None:
    """What the reconcile of a trusted object must still do, judged from what its list
    summary shows (``obs``); None when the cycle confirms it."""
    if obs.asks:
        return "a run policy asks for its reconcile"
    return adapter.resume_work(entry, obs.phase, obs.facts)


def facts_of(status: Mapping[str, Any]) -> dict[str, Any]:
    """A status as the facts an observation carries (everything but the conditions)."""
    return {k: v for k, v in status.items() if k != "conditions"}


@dataclass
class Resumed:
    """The objects of one kind taken on trust on resume and not yet confirmed by a poll cycle
    (by namespace and name); when the latest was added."""

    keys: set[Key] = field(default_factory=set)
    latest: float = 0.0

    def add(self, key: Key) -> None:
        self.keys.add(key)
        self.latest = time.monotonic()

    def settle(self, key: Key) -> bool:
        """Forget ``key``; True when it was pending."""
        if key in self.keys:
            self.keys.discard(key)
            return True
        return False

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    async def quiet(
        self,
        quiet_s: float = RESUMES_QUIET_SECONDS,
        limit_s: float = RESUMES_WAIT_LIMIT_SECONDS,
    ) -> None:
        """Return once no object has been added for ``quiet_s`` (at once when none is
        pending), or after ``limit_s``."""
        deadline = time.monotonic() + limit_s
        while self.keys:
            now = time.monotonic()
            calm_at = self.latest + quiet_s
            if now >= calm_at or now >= deadline:
                return
            await asyncio.sleep(min(calm_at, deadline) - now)
