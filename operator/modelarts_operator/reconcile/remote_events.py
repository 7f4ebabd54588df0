"""A remote object's own event log, mirrored as Kubernetes Events on the object that manages it.

ModelArts keeps an event log per service ("start to deploy service", "pull image success",
"deploy service failed: ..."); ``kubectl describe`` and ``kubectl events`` should show it. A
form opts in by naming the phases worth a look (``RemoteAdapter.event_phases``) and reading its
events (``RemoteAdapter.remote_events``); the poller calls :meth:`EventMirror.look` for the
objects :func:`worth_a_look` picks. Three rules:

- **Bounded.** Only an object in one of those phases (deploying, upgrading, stopping...) or
  whose phase changed since the status last showed it (it failed, or came to run, since the
  last look) is looked at; a steady object costs no call. A look reads at most
  ``EVENTS_PER_LOOK`` events, the newest. A poll cycle makes at most ``LOOKS_PER_CYCLE``
  looks (a mass deploy of thousands of services would otherwise cost one call per service
  per cycle, beside the few list pages that poll them all): a change of phase first (a
  failure is the news), then the longest unlooked; the rest wait for the next cycles.
- **Exactly once.** The Event's name is derived from the object's UID and the remote event's
  identity, so a second create of the same remote event (the next look, another reconcile, the
  operator after a restart, a new leader) is a 409 AlreadyExists, taken as done. What this
  process posted is also remembered, so the looks of one process do not repeat the create
  (after a restart each remote event costs at most one refused create). A cursor in status
  would cost a status write per new event and still need the names for a crash between the
  create and that write.
- **Nothing secret.** Remote text goes through ``api.redact`` before it is posted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from .. import reasons
from ..api import errors
from ..api.redact import redact
from .adapter import Observation, RemoteEvent
from .kube import KubeClient, KubeError
from .registry import Entry

log = logging.getLogger(__name__)

EVENTS_PER_LOOK = 10
"""At most this many remote events per look, the newest; older ones of a burst are left out."""

LOOKS_PER_CYCLE = 20
"""At most this many looks (event-log calls) per kind per poll cycle: 2 a second at the
default 10 s active period, a tenth of the client's default 20 QPS; as many as the list pages
of 1,000 v2 services (pages of 50)."""


def worth_a_look(last_phase: str | None, obs: Observation, phases: Collection[str]) -> bool:
    """True when the object's events should be read now: its remote phase is one of
    ``phases`` (work in progress), or differs from ``last_phase``, the phase at the last look
    (else the one its status shows): it failed, came to run or stopped since. A steady
    object is never looked at."""
    return bool(phases) and (obs.phase in phases or obs.phase != last_phase)


def event_name(object_name: str, uid: str, identity: str) -> str:
    """The Kubernetes Event's name for one remote event of one object: the same for every
    look, process and leader, and another for a new object of the same name (its UID).
    Kubernetes names it ``<object>.<suffix>`` too; the name stays a DNS subdomain (≤ 253)."""
    digest = hashlib.sha256(f"{uid}\0{identity}".encode()).hexdigest()[:20]
    # A cut that ends in "." or "-" would make ".." or "-." (not a DNS subdomain).
    return f"{object_name[:220].rstrip('.-')}.remote-{digest}"


def _timestamp(at_ms: int | None) -> str | None:
    if at_ms is None:
        return None
    return dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Look:
    """One object a poll cycle found worth a look, and what the look needs."""

    entry: Entry
    adapter: Any
    client: Any
    phase: str
    changed: bool  # its phase changed since the last look (not merely in progress)


class EventMirror:
    """Posts the remote events of the objects one poller looks at, each once."""

    def __init__(self, kube: KubeClient, looks_per_cycle: int = LOOKS_PER_CYCLE) -> None:
        self.kube = kube
        self.looks_per_cycle = looks_per_cycle
        # The Event names this process knows exist, per object (namespace, name, uid), while
        # it is in progress: a settled object's set is dropped (a later look at it costs at
        # most one refused create per event it shows again).
        self._posted: dict[tuple[str, str, str], set[str]] = {}
        # The remote phase at this process's last good look at an object: a change the
        # reconcile wrote into status before a poll saw it still gets its look.
        self._looked: dict[tuple[str, str, str], str] = {}
        # When each object was last looked at (a count of looks): the longest unlooked go
        # first when a cycle has more objects in progress than looks.
        self._turn: dict[tuple[str, str, str], int] = {}
        self._looks = 0

    def due(self, entry: Entry, obs: Observation, phases: Collection[str]) -> bool:
        """``worth_a_look`` for ``entry`` as observed now (``obs``)."""
        if not phases:
            return False  # a form without an event log: nothing to read, nothing to compute
        last = self._looked.get(_key(entry), entry.status.get("phase"))
        return worth_a_look(last, obs, phases)

    def candidate(self, entry: Entry, adapter: Any, client: Any, obs: Observation) -> Look | None:
        """A look at ``entry`` if it is due (see :meth:`choose`), else None."""
        if not self.due(entry, obs, adapter.event_phases):
            return None
        last = self._looked.get(_key(entry), entry.status.get("phase"))
        return Look(entry, adapter, client, obs.phase, changed=obs.phase != last)

    def choose(self, wanted: Iterable[Look]) -> list[Look]:
        """The looks this cycle makes, at most ``looks_per_cycle``: changes of phase first,
        then the longest unlooked (never looked: first of all). The others stay due and
        come in later cycles."""
        ranked = sorted(wanted, key=lambda w: (not w.changed, self._turn.get(_key(w.entry), -1)))
        return ranked[: self.looks_per_cycle]

    async def look(self, entry: Entry, adapter: Any, client: Any, phase: str) -> int:
        """Read the newest events of ``entry``'s remote object (now in ``phase``) and post
        those not yet posted, oldest first (as they happened); the number posted. A failed
        read is left for the next look: it must not disturb polling."""
        remote_id = str(entry.status[adapter.id_field])
        try:
            found: list[RemoteEvent] = await adapter.remote_events(
                client, remote_id, EVENTS_PER_LOOK
            )
        except errors.ModelArtsError as err:
            log.debug("reading the events of %s/%s failed: %s", entry.namespace, entry.name, err)
            return 0
        key = _key(entry)
        uid = key[2]
        known = self._posted.setdefault(key, set())
        posted, complete = 0, True
        newest = found[:EVENTS_PER_LOOK]
        for event in sorted(newest, key=lambda e: e.at_ms or 0):
            name = event_name(entry.name, uid, event.identity)
            if name in known:
                continue
            try:
                await self.kube.post_event(
                    entry.body,
                    event.type,
                    reasons.REMOTE_EVENT,
                    redact(event.message),
                    name=name,
                    at=_timestamp(event.at_ms),
                )
                posted += 1
            except KubeError as err:
                if err.status != 409:  # 409: posted before (another look, process, leader)
                    log.warning("could not mirror a remote event of %s/%s: %s",
                                entry.namespace, entry.name, err)  # fmt: skip
                    complete = False
                    continue
            known.add(name)
        # A post that failed (not a 409) is tried again at the next poll, whatever the phase
        # then ("" is no phase). A failed read is not: a steady object whose events cannot
        # be read is not read again each poll.
        self._looked[key] = phase if complete else ""
        self._looks += 1
        self._turn[key] = self._looks
        if complete and phase not in adapter.event_phases:
            # Settled (until its phase changes): what it posted need not stay in memory.
            self._posted.pop(key, None)
            self._turn.pop(key, None)
        return posted

    @property
    def remembered(self) -> int:
        """How many objects' posted Event names this process holds (those in progress)."""
        return len(self._posted)

    def keep_only(self, live: Iterable[Entry]) -> None:
        """Forget the objects no longer watched (deleted, or replaced under a new UID)."""
        if not self._looked:
            return
        keep = {_key(e) for e in live}
        for key in [k for k in self._looked if k not in keep]:
            self._posted.pop(key, None)
            self._looked.pop(key, None)
            self._turn.pop(key, None)


def _key(entry: Entry) -> tuple[str, str, str]:
    return entry.namespace, entry.name, str(entry.body.get("metadata", {}).get("uid") or "")
