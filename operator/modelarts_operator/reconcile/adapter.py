"""The contract between the shared reconcile and a kind's API form: what an adapter implements,
what it is handed, and what it answers.

A kind (``resources/<kind>.py``) supplies one :class:`RemoteAdapter` per API form (a 2020 v1
training job and a v2 one are two forms of TrainingJob). The reconcile (``controller``) and
the poller pick the form's adapter per object and call it with a :class:`Context`; in the
manner of crossplane-runtime's ExternalClient and ACK's resource manager, each call answers
with a value and leaves the decisions to the caller:

- ``find``/``get``/``observe`` only read: they change neither status nor the context;
- ``create`` answers :class:`Created`, what the create call returned (its ID, the state its
  answer shows and the bookkeeping to record): no GET after a create;
- ``update`` answers :class:`Updated`: the remote as it now is, the spec fields it pushed (the
  reconcile names them in an Updated or DriftCorrected event), other actions, bookkeeping and
  when to look again (a :class:`~.requeue.Requeue`).

Only the reconcile writes status. This module knows nothing of kopf, the reconcile's flow or
the runtime.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ..api import errors
from ..api.client import ModelArtsClient
from . import conditions as cond
from .kube import Kind, KubeClient
from .naming import marker_of
from .policies import Allowance, Policies, Refusal
from .references import workspace_id_of
from .registry import Entry, Registry
from .requeue import Requeue
from .status import Report, Verdict

SpecT = TypeVar("SpecT", bound=BaseModel)

Event = tuple[str, str, str]  # (type, reason, message) of a Kubernetes Event


class RetryLater(Exception):
    """The reconcile cannot finish now; kopf retries it after ``requeue.after`` seconds."""

    def __init__(self, requeue: Requeue) -> None:
        super().__init__(requeue.why)
        self.requeue = requeue


class DeleteBlocked(RetryLater):
    """The finalizer must stay, for a reason the user should see (not a plain wait)."""


class InvalidSpec(Exception):
    """The object cannot be reconciled as written (admission should have caught it)."""


class ProjectChanged(InvalidSpec):
    """The namespace now points to another project than the one the object was bound in."""


@dataclass
class Observation:
    """What the remote object's state means to a person and to the conditions, and what it
    asks of the operator (a run policy's timers: look again at a deadline, delete the object
    after its TTL)."""

    phase: str
    ready: bool
    # Ready=False's reason (the phase if empty); Failed, DeadlineExceeded and DeletedRemotely
    # mean the remote object failed (status.FAILURE_REASONS).
    reason: str = ""
    message: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # kind-specific status fields
    in_flight: bool = True  # poll it at the fast rate
    requeue: Requeue | None = None  # reconcile again then, whatever the remote does
    delete_object: bool = False  # the run policy says the Kubernetes object should go

    @classmethod
    def failure(cls, message: str, facts: dict[str, Any]) -> Observation:
        """The remote object ended in a failed state: Failed, not ready, not in flight."""
        return cls(
            "Failed", False, reason="Failed", message=message, facts=facts,
            in_flight=False,
        )  # fmt: skip

    @property
    def asks(self) -> bool:
        """True when the reconcile has work to do (a timer to arm, the object to delete):
        what the poller cannot carry out itself."""
        return self.requeue is not None or self.delete_object

    def report(self) -> Report:
        """This observation for the status writer: phase, facts and the Ready verdict
        (Synced is the reconcile's to say)."""
        if self.ready:
            ready = Verdict(True, "Ready", self.message)
        else:
            ready = Verdict(False, self.reason or self.phase, self.message)
        return Report(facts=dict(self.facts), phase=self.phase, ready=ready)


@dataclass(frozen=True)
class RemoteEvent:
    """One event of a remote object's log, as a Kubernetes Event shows it."""

    identity: str  # stable across reads: the remote event's ID, or its time, type and text
    at_ms: int | None  # when it happened (epoch ms)
    warning: bool  # a remote failure or warning: type Warning
    message: str

    @property
    def type(self) -> str:
        return "Warning" if self.warning else "Normal"


@dataclass
class Created:
    """What a create call returned: the remote ID, the new object's state as the answer shows
    it (the state a new object starts in when the answer carries only the ID), and status
    bookkeeping to record beside the ID (a version ID, a digest of what was sent)."""

    remote_id: str
    observation: Observation
    recorded: dict[str, Any] = field(default_factory=dict)
    requeue: Requeue | None = None  # a follow-up the create could not do (stop once deployed)


@dataclass
class Updated:
    """What an update did: the remote as it now is, and what the reconcile should report."""

    remote: Any
    changed: list[str] = field(default_factory=list)  # spec fields pushed to the remote
    events: list[Event] = field(default_factory=list)  # other actions (Stopped, Rerun, ...)
    recorded: dict[str, Any] = field(default_factory=dict)  # status bookkeeping it set
    requeue: Requeue | None = None
    remote_id: str | None = None  # the object now stands for another remote object (a rerun)
    refusal: Refusal | None = None  # this generation is refused (a ConfigMap it does not own)

    def change(self, *fields: str) -> None:
        self.changed.extend(fields)

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def again(self, after: float, why: str) -> None:
        """Look again after ``after`` seconds (the soonest of what is asked wins)."""
        self.requeue = Requeue.soonest(self.requeue, Requeue(after, why))


async def confirmed_gone(lookup: Awaitable[Any]) -> bool:
    """True when ``lookup`` (a GET of the remote object after its delete) finds nothing."""
    try:
        await lookup
    except errors.NotFound:
        return True
    return False


@dataclass
class Refs:
    """What an object's references resolved to; a form with more references extends it."""

    workspace_id: str = "0"


RefsT = TypeVar("RefsT", bound=Refs)


@dataclass
class Context(Generic[SpecT, RefsT]):
    """Everything a reconcile knows about the object it handles. Adapters read it; the
    reconcile alone writes status (from what the adapter answers)."""

    namespace: str
    name: str
    generation: int
    spec: SpecT
    status: Mapping[str, Any]  # the object's status as read
    annotations: Mapping[str, str]
    policies: Policies
    client: ModelArtsClient
    remote_name: str
    refs: RefsT  # what ``resolve`` found (its form's Refs, default-valued before)
    uid: str = ""
    resource_version: str = ""
    kube: KubeClient | None = None
    registry: Registry = field(default_factory=Registry)  # the watched objects (references)
    marker: str = ""  # the ownership marker remote objects of this object carry
    allowance: Allowance = Allowance.NONE  # what its namespace allows it to adopt
    location: dict[str, str] = field(default_factory=dict)  # project, region, endpoint
    # Tags every remote object that has tags carries (settings.default_tags), under the spec's.
    default_tags: Mapping[str, str] = field(default_factory=dict)
    # Metadata written together with the create intent (kopf's finalizer and last-handled
    # configuration: ``bookkeeping``), and whether this reconcile wrote it.
    intent_metadata: Mapping[str, Any] = field(default_factory=dict)
    intent_written: bool = False

    @property
    def applied(self) -> bool:
        """True when this generation was applied already (a resync, not a spec change): a
        difference found now was made outside the operator."""
        synced = cond.get_condition(self.status.get("conditions"), cond.SYNCED) or {}
        return (
            self.status.get("observedGeneration") == self.generation
            and synced.get("status") == "True"
            and synced.get("observedGeneration") == self.generation
        )


class RemoteAdapter(abc.ABC, Generic[SpecT, RefsT]):
    """How one API form of a kind maps onto ModelArts. Implementations live in
    ``resources/``; the forms of a kind share its identity (kind, models, ID field)."""

    kind: Kind
    spec_model: type[SpecT]
    status_model: type[BaseModel]  # the kind's status schema: what a reconcile may write
    refs_type: type[RefsT]
    id_field: str  # status key holding the remote ID, e.g. "jobId"
    # Further status keys a create or lookup records besides id_field (secondary IDs and
    # bookkeeping), kept across a stale event by the create memory.
    recorded_fields: tuple[str, ...] = ()
    name_field: str  # spec field (snake_case) holding an explicit remote name
    name_min_length: int = 1
    recreate_on_drift: bool = True  # desired-state objects come back; training jobs do not
    # Compare the remote configuration with the spec every resync period (the kinds whose
    # configuration the API lets us update in place).
    resyncs: bool = False

    def explicit_name(self, spec: SpecT) -> str | None:
        """The remote name the spec gives, if it gives one."""
        name: str | None = getattr(spec, self.name_field, None)
        return name

    async def resolve(self, ctx: Context[SpecT, RefsT]) -> RefsT:
        """Resolve references; raise ``references.Waiting`` if one is not ready."""
        return ctx.refs

    async def resolve_for_lookup(self, ctx: Context[SpecT, RefsT]) -> RefsT:
        """Resolve what a lookup by name needs (the workspace) without waiting for anything
        to be ready; raise Waiting when even that is unknown. Used by deletion."""
        return await self.resolve(ctx)

    @abc.abstractmethod
    async def find(self, ctx: Context[SpecT, RefsT]) -> tuple[str, Any] | None:
        """Look the object up by its remote name: (id, remote object) or None."""

    @abc.abstractmethod
    async def get(self, ctx: Context[SpecT, RefsT], remote_id: str) -> Any:
        """The remote object's detail; raises errors.NotFound when it is gone."""

    @abc.abstractmethod
    async def create(self, ctx: Context[SpecT, RefsT]) -> Created:
        """Create the remote object; answer what the API returned."""

    async def update(self, ctx: Context[SpecT, RefsT], remote_id: str, remote: Any) -> Updated:
        """Push what the spec asks and the remote object lacks; answer what was done."""
        return Updated(remote)

    @abc.abstractmethod
    def observe(self, ctx: Context[SpecT, RefsT], remote: Any) -> Observation:
        """Interpret the remote object's state."""

    @abc.abstractmethod
    async def delete(self, ctx: Context[SpecT, RefsT], remote_id: str) -> bool:
        """Ask ModelArts to delete; True once it is gone (NotFound counts as gone)."""

    # -- batched polling ---------------------------------------------------------------------

    def polled(self, entry: Entry) -> bool:
        """True when the poller should look for ``entry`` in the list API (it has an ID)."""
        return bool(entry.status.get(self.id_field))

    def poll_scope(self, entry: Entry, registry: Registry) -> str:
        """Which list holds the object: its workspace (the one a referenced Workspace stands
        for, looked up in ``registry``)."""
        return workspace_id_of(entry, registry)

    @abc.abstractmethod
    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        """Every remote object in ``scope`` as (ID, list summary), page by page."""

    @abc.abstractmethod
    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        """Interpret a list summary (the cheap view the poller has: the registry's entry,
        whose spec is the raw camelCase object)."""

    def resume_work(self, entry: Entry, phase: str, facts: Mapping[str, Any]) -> str | None:
        """After a restart, what the reconcile of an object whose current generation was
        applied would still have to do, judged from the ``phase`` and ``facts`` shown (its
        status when kopf resumes it, then the poller's list summary): a timer to arm, a stop
        or a rollout the remote object has not had yet. None (the default) when nothing: the
        object is taken on trust and confirmed by the poller's list (``reconcile.resume``);
        otherwise its reconcile runs, as on every resume before."""
        return None

    # -- the remote object's own event log (``remote_events``) ---------------------------------

    # The phases (as observed) in which the remote object's events are read each poll, besides
    # any change of phase: the work in progress whose steps the log tells. Empty: the form
    # has no event log, and nothing is read.
    event_phases: frozenset[str] = frozenset()

    async def remote_events(
        self, client: ModelArtsClient, remote_id: str, limit: int
    ) -> list[RemoteEvent]:
        """The newest ``limit`` events of the remote object (forms with ``event_phases``)."""
        return []

    def needs_detail(self, old_status: Mapping[str, Any], phase: str) -> bool:
        """True when this transition needs the full reconcile (a detail GET) to fill status."""
        return False

    def polls_detail(self, entry: Entry) -> bool:
        """True when the poller may fill such a transition's detail itself (one GET and its
        status write), instead of poking the reconcile (an annotation write, a kopf update,
        the GET and the status write); False where the reconcile has work to do on it."""
        return True

    def status_id(self, remote_id: str) -> Any:
        """The remote ID as the status schema types it."""
        return remote_id

    def marker(self, ctx: Context[SpecT, RefsT], remote: Any) -> str | None:
        """The ownership marker ``remote`` carries (``ctx.marker`` when it is this
        object's): the one its description ends with. Forms that mark their remote objects
        otherwise (a Notebook's owner tag) say so here."""
        return marker_of(remote)


async def keyed(items: AsyncIterator[Any], id_attr: str) -> AsyncIterator[tuple[str, Any]]:
    """A list API's items as ``list_remote`` yields them: (ID, item), each by ``id_attr``
    (an item without one is skipped)."""
    async for item in items:
        if ident := getattr(item, id_attr):
            yield str(ident), item
