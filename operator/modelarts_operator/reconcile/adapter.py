"""The contract between the shared reconcile and a kind: what an adapter implements and what
it is handed.

A kind (``resources/<kind>.py``) supplies a :class:`RemoteAdapter` per API form; the reconcile
(``controller.Reconciler``) and the poller call it with a :class:`Context`. This module knows
nothing of kopf, the reconcile's flow or the runtime.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ..api import errors
from ..api.client import ModelArtsClient
from . import conditions as cond
from .kube import Kind, KubeClient
from .naming import marker_of
from .policies import Allowance, Found, Policies, Refusal
from .registry import Entry, Registry
from .status import Report, Verdict

SpecT = TypeVar("SpecT", bound=BaseModel)


class Waiting(Exception):
    """A dependency is not ready yet; the message says which one."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RetryLater(Exception):
    """Try again after ``delay`` seconds (kopf's TemporaryError carries it)."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class DeleteBlocked(RetryLater):
    """The finalizer must stay, for a reason the user should see (not a plain wait)."""


@dataclass
class Observation:
    """What the remote object's state means to a person and to the conditions."""

    phase: str
    ready: bool
    # Ready=False's reason (the phase if empty); Failed, DeadlineExceeded and DeletedRemotely
    # mean the remote object failed (status.FAILURE_REASONS).
    reason: str = ""
    message: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # kind-specific status fields
    in_flight: bool = True  # poll it at the fast rate

    @classmethod
    def failure(cls, message: str, facts: dict[str, Any]) -> Observation:
        """The remote object ended in a failed state: Failed, not ready, not in flight."""
        return cls(
            "Failed", False, reason="Failed", message=message, facts=facts,
            in_flight=False,
        )  # fmt: skip

    def report(self) -> Report:
        """This observation for the status writer: phase, facts and the Ready verdict
        (Synced is the reconcile's to say)."""
        if self.ready:
            ready = Verdict(True, "Ready", self.message)
        else:
            ready = Verdict(False, self.reason or self.phase, self.message)
        return Report(facts=dict(self.facts), phase=self.phase, ready=ready)


async def confirmed_gone(lookup: Awaitable[Any]) -> bool:
    """True when ``lookup`` (a GET of the remote object after its delete) finds nothing."""
    try:
        await lookup
    except errors.NotFound:
        return True
    return False


Event = tuple[str, str, str]  # (type, reason, message) of a Kubernetes Event


@dataclass
class Refs:
    """What an object's references resolved to; a kind with more references extends it."""

    workspace_id: str = "0"


@dataclass
class Effects:
    """What a reconcile asks of the runtime besides its status write."""

    events: list[Event] = field(default_factory=list)
    requeue_after: float | None = None  # reconcile again after this many seconds
    delete_object: bool = False  # the run policy says the Kubernetes object should go
    clear_create_pending: bool = False  # the create intent is fulfilled: drop its annotation

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    @property
    def need_handler(self) -> bool:
        """True when only the kopf handler can carry these out (the poller cannot)."""
        return bool(self.events) or self.requeue_after is not None or self.delete_object


@dataclass
class Context:
    """Everything a reconcile knows about the object it handles.

    ``status`` starts as the object's status; adapters record remote IDs and bookkeeping in it
    (validated by the kind's status model when written). ``refs`` is what ``resolve`` found;
    ``effects`` what the reconcile asks of the runtime."""

    namespace: str
    name: str
    generation: int
    spec: Any  # the kind's Spec model
    status: dict[str, Any]
    annotations: Mapping[str, str]
    policies: Policies
    client: ModelArtsClient
    remote_name: str
    uid: str = ""
    resource_version: str = ""
    kube: KubeClient | None = None
    registry: Registry = field(default_factory=Registry)  # the watched objects (references)
    refs: Refs = field(default_factory=Refs)
    effects: Effects = field(default_factory=Effects)
    marker: str = ""  # the ownership marker remote objects of this object carry
    allowance: Allowance = Allowance.NONE  # what its namespace allows it to adopt
    location: dict[str, str] = field(default_factory=dict)  # project, region, endpoint
    # Set by the create when the name was taken (or the outcome unknown) and the object found
    # by name: it is bound only if its marker says it is ours.
    found_taken: Found | None = None
    # An adapter's own refusal of this generation (e.g. a ConfigMap it does not own).
    refusal: Refusal | None = None

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

    def updated(self, fields: Iterable[str]) -> None:
        """Record an update of the remote object: DriftCorrected naming the fields when the
        generation had been applied already, else Updated."""
        names = ", ".join(sorted(fields))
        if self.applied:
            self.effects.event(
                "Normal", "DriftCorrected", f"corrected {names} (changed outside the operator)"
            )
        else:
            self.effects.event("Normal", "Updated", f"updated {names}")


class RemoteAdapter(abc.ABC, Generic[SpecT]):
    """How one kind maps onto ModelArts. Implementations live in ``resources/<kind>.py``."""

    kind: Kind
    spec_model: type[SpecT]
    status_model: type[BaseModel]  # the kind's status schema: what a reconcile may write
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
    # The poller may fill a transition's detail itself (one GET) instead of poking the
    # reconcile; False where the reconcile has work to do on transitions (Service exportTo).
    detail_in_poller: bool = True

    async def resolve(self, ctx: Context) -> None:
        """Resolve references into ``ctx.refs``; raise :class:`Waiting` if not ready."""

    async def resolve_for_lookup(self, ctx: Context) -> None:
        """Resolve what a lookup by name needs (the workspace) without waiting for anything
        to be ready; raise :class:`Waiting` when even that is unknown. Used by deletion."""
        await self.resolve(ctx)

    @abc.abstractmethod
    async def find(self, ctx: Context) -> tuple[str, Any] | None:
        """Look the object up by its remote name: (id, remote object) or None."""

    @abc.abstractmethod
    async def get(self, ctx: Context, remote_id: str) -> Any:
        """The remote object's detail; raises errors.NotFound when it is gone."""

    @abc.abstractmethod
    async def create(self, ctx: Context) -> str:
        """Create the remote object; return its ID (and put IDs in ``ctx.status``)."""

    async def update(self, ctx: Context, remote_id: str, remote: Any) -> Any:
        """Push spec changes the remote object lacks; return the (possibly new) remote."""
        return remote

    @abc.abstractmethod
    def observe(self, ctx: Context, remote: Any) -> Observation:
        """Interpret the remote object's state."""

    @abc.abstractmethod
    async def delete(self, ctx: Context, remote_id: str) -> bool:
        """Ask ModelArts to delete; True once it is gone (NotFound counts as gone)."""

    # -- batched polling ---------------------------------------------------------------------

    def polled(self, entry: Entry) -> bool:
        """True when the poller should look for ``entry`` in the list API (it has an ID)."""
        return bool(entry.status.get(self.id_field))

    @abc.abstractmethod
    async def poll(
        self, client: ModelArtsClient, entries: list[Entry], registry: Registry
    ) -> dict[str, Any]:
        """Remote summaries of ``entries`` by remote ID, from the list API (all pages);
        ``registry`` tells which workspace a referenced Workspace stands for."""

    @abc.abstractmethod
    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        """Interpret a list summary (the cheap view the poller has)."""

    def needs_detail(self, old_status: dict[str, Any], phase: str) -> bool:
        """True when this transition needs the full reconcile (a detail GET) to fill status."""
        return False

    def status_id(self, remote_id: str) -> Any:
        """The remote ID as the status schema types it."""
        return remote_id

    def marker(self, ctx: Context, remote: Any) -> str | None:
        """The ownership marker ``remote`` carries (``ctx.marker`` when it is this
        object's): the one its description ends with. Kinds that mark their remote objects
        otherwise (a Notebook's owner tag) say so here."""
        return marker_of(remote)


class InvalidSpec(Exception):
    """The object cannot be reconciled as written (admission should have caught it)."""


class ProjectChanged(InvalidSpec):
    """The namespace now points to another project than the one the object was bound in."""
