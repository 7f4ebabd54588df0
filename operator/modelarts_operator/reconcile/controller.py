"""The reconcile loop every kind shares; a kind supplies only a :class:`RemoteAdapter`.

One level-based ``reconcile()`` serves kopf's create, update and resume causes: it makes sure
the remote object exists exactly once, pushes spec changes, and mirrors the remote state into
status. ``delete()`` applies the deletion policy behind the finalizer. Kinds differ only in
how they talk to ModelArts, which is what the adapter describes.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ..api import errors
from ..api.client import ModelArtsClient
from . import conditions as cond
from .credentials import location_of
from .kube import Kind, KubeClient
from .naming import choose_remote_name, marker_of, owner_marker, remote_name
from .policies import (
    CREATE_PENDING,
    Adoption,
    Allowance,
    Found,
    LocationVerdict,
    Policies,
    PolicyError,
    Refusal,
    bind_refusal,
    location_verdict,
    project_changed,
)
from .registry import Entry
from .status import SYNCED_OK, Report, StatusWriter, Verdict

SpecT = TypeVar("SpecT", bound=BaseModel)
log = logging.getLogger(__name__)


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
    # Ready=False's reason (the phase if empty); what each one means is in reasons.READY
    # (Failed, DeadlineExceeded and DeletedRemotely: the remote object failed).
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


def waiting_report(wait: Waiting) -> Report:
    """A reference is not ready: this generation is not applied yet, and not ready."""
    verdict = Verdict(False, wait.reason, str(wait))
    return Report(phase="Waiting", synced=verdict, ready=verdict)


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
    async def poll(self, client: ModelArtsClient, entries: list[Entry]) -> dict[str, Any]:
        """Remote summaries of ``entries`` by remote ID, from the list API (all pages)."""

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


async def load_context(
    adapter: RemoteAdapter[Any],
    body: Mapping[str, Any],
    clients: Any,
) -> Context:
    """Parse the object and resolve its ModelArts client (per-namespace credentials)."""
    meta = body.get("metadata", {})
    try:
        spec = adapter.spec_model.model_validate(body.get("spec", {}))
    except ValidationError as err:
        raise InvalidSpec(str(err)) from None
    try:
        policies = Policies.from_annotations(meta.get("annotations"))
    except PolicyError as err:
        raise InvalidSpec(str(err)) from None
    try:
        client = await clients.for_namespace(meta["namespace"])
    except PolicyError as err:  # the Namespace's allow-adoption annotation
        raise InvalidSpec(str(err)) from None
    installation = clients.settings.installation_id
    status = body.get("status") or {}
    name = choose_remote_name(
        getattr(spec, adapter.name_field, None),
        status.get("remoteName") if status.get(adapter.id_field) else None,
        (meta.get("annotations") or {}).get(CREATE_PENDING),
        remote_name(meta["namespace"], meta["name"], installation_id=installation),
    )
    if len(name) < adapter.name_min_length:
        name = f"{name}-{adapter.kind.plural}"[: max(adapter.name_min_length, len(name))]
    return Context(
        remote_name=name,
        uid=meta.get("uid", ""),
        resource_version=meta.get("resourceVersion", ""),
        namespace=meta["namespace"],
        name=meta["name"],
        generation=int(meta.get("generation", 1)),
        spec=spec,
        status=dict(body.get("status") or {}),
        annotations=meta.get("annotations") or {},
        policies=policies,
        client=client,
        marker=owner_marker(installation, adapter.kind.kind, meta["namespace"], meta["name"]),
        allowance=clients.allowance(meta["namespace"]),
        location=location_of(client),
    )


class InvalidSpec(Exception):
    """The object cannot be reconciled as written (admission should have caught it)."""


class ProjectChanged(InvalidSpec):
    """The namespace now points to another project than the one the object was bound in."""


@dataclass
class Outcome:
    """The status to write and what else the runtime should do after a reconcile."""

    status: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    retry_after: float | None = None
    delete_object: bool = False  # the run policy says the Kubernetes object should go
    in_flight: bool = False  # the remote object is still changing: poll it at the fast rate
    clear_create_pending: bool = False  # the create intent is fulfilled: drop its annotation


class _Settled(Exception):
    """A reconcile path that ends before the remote object is synced, with its report."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.phase)
        self.report = report


class Reconciler:
    """Runs the shared flow for one adapter; kopf handlers call into it."""

    def __init__(self, adapter: RemoteAdapter[Any], kube: KubeClient) -> None:
        self.adapter = adapter
        self.kube = kube
        self.writer = StatusWriter(adapter.status_model)
        # The creates this process made, by object UID, until a body shows their ID. Under
        # load kopf may hand a reconcile an event from before its own final patch (it waits
        # 5 s for that patch to come back, then goes on); see _known_create.
        self._created: dict[str, _Created] = {}
        # Who owns a remote object carrying a given marker, among the objects the operator
        # watches (the runtime sets it from its registry): named in NameTaken conditions.
        self.owner_of: Callable[[str], str | None] = lambda marker: None

    async def reconcile(self, ctx: Context) -> Outcome:
        """Make the remote object exist once, push the spec, and report what it shows."""
        ctx.kube = self.kube
        if self._known_create(ctx):
            return Outcome(dict(ctx.status))  # a stale event: nothing to do, nothing to write
        in_flight = False
        as_read = dict(ctx.status)  # adapters add IDs to ctx.status as they go
        try:
            await self.adapter.resolve(ctx)
            self._check_location(ctx, as_read)
            remote_id, remote = await self._bind(ctx, as_read)
            report, in_flight = await self._sync(ctx, remote_id, remote)
        except Waiting as wait:
            report = waiting_report(wait)
        except _Settled as settled:
            report = settled.report
        effects = ctx.effects
        return Outcome(
            self.writer.render(ctx.status, report, ctx.generation),
            effects.events,
            effects.requeue_after,
            effects.delete_object,
            in_flight,
            effects.clear_create_pending,
        )

    async def _bind(self, ctx: Context, as_read: dict[str, Any]) -> tuple[str, Any]:
        """The remote object this Kubernetes object stands for: recorded, bound by
        external-id, found by name, or created (once). Raises _Settled when there is none to
        have (paused, adopt-only, a training job deleted remotely) or it may not be bound (not
        ours, adoption not allowed)."""
        adapter, status, effects = self.adapter, ctx.status, ctx.effects
        remote_id = status.get(adapter.id_field) or ctx.policies.external_id
        remote: Any = None
        bound_by: Found | None = None  # set when binding to an object not recorded before
        if remote_id:
            try:
                remote = await adapter.get(ctx, str(remote_id))
            except errors.NotFound:
                self._created.pop(ctx.uid, None)
                self._on_drift(ctx, str(remote_id))
                remote_id = None
        if not remote_id:
            if ctx.policies.paused:
                raise _Settled(self._note(ctx, "Paused", "paused: no remote object is created"))
            # A first create skips the lookup: names are unique per project, so a taken name
            # comes back as AlreadyExists and is looked up then (one list call saved per
            # object). After an interrupted create, or to adopt/observe, look first.
            first_create = (
                CREATE_PENDING not in ctx.annotations
                and ctx.policies.adoption is Adoption.ADOPT_OR_CREATE
                and not ctx.policies.observe_only
            )
            found = None if first_create else await adapter.find(ctx)
            if found is not None:
                remote_id, bound_by = found[0], Found.BY_NAME
                # A lookup by name yields the list summary; observe() needs the detail.
                remote = await adapter.get(ctx, str(remote_id))
                if ctx.annotations.get(CREATE_PENDING) == ctx.remote_name:
                    recovered = f"recovered interrupted create as {remote_id}"
                    effects.event("Normal", "Created", recovered)
                else:
                    effects.event("Normal", "Adopted", f"bound to existing {remote_id}")
            elif ctx.policies.observe_only or ctx.policies.adoption is Adoption.ADOPT:
                raise _Settled(
                    self._note(
                        ctx,
                        "NotFound",
                        f"no remote object named {ctx.remote_name!r} to adopt or observe",
                    )
                )
            else:
                remote_id = await self._create_once(ctx)
                remote = await adapter.get(ctx, remote_id)
                bound_by = ctx.found_taken
        elif not status.get(adapter.id_field):
            bound_by = Found.EXTERNAL_ID
            effects.event("Normal", "Adopted", f"bound to {remote_id} (external-id)")
        if bound_by is not None and (
            refusal := self._bind_refusal(ctx, bound_by, remote_id, remote)
        ):
            self._refuse(ctx, as_read, refusal)
        return str(remote_id), remote

    async def _sync(self, ctx: Context, remote_id: str, remote: Any) -> tuple[Report, bool]:
        """Record the ID, push the spec (when allowed) and report the remote state."""
        adapter = self.adapter
        # Record the ID however it was found (an external-id binding included): polling,
        # deletion and dependents all go by it.
        ctx.status[adapter.id_field] = adapter.status_id(remote_id)
        if ctx.location and not ctx.status.get("location"):
            ctx.status["location"] = ctx.location
        if CREATE_PENDING in ctx.annotations:
            # The intent is fulfilled: the ID goes to status and the intent goes, both with the
            # handler's final patch. (kopf patches the annotations first; a crash between the
            # two leaves neither, and the next create finds the name taken and binds to it.)
            ctx.effects.clear_create_pending = True
        if ctx.policies.may_write and remote is not None:
            remote = await adapter.update(ctx, remote_id, remote)
        observation = adapter.observe(ctx, remote)
        if ctx.policies.paused:  # mirrored, but this generation was not applied
            synced = Verdict(False, "Paused", "paused: spec changes are not applied")
        elif ctx.policies.observe_only:
            synced = Verdict(True, "Synced", "observed (management-policy observe)")
        elif (refusal := ctx.refusal) is not None:  # the adapter's own (a foreign ConfigMap)
            synced = Verdict(False, refusal.reason, refusal.message)
            ctx.effects.event("Warning", refusal.reason, refusal.message)
        else:
            synced = SYNCED_OK
        report = observation.report()
        report.facts["remoteName"] = ctx.remote_name
        report.synced = synced
        return report, observation.in_flight

    def observed(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        """A watch event: forget a remembered create once a body shows its ID or the object
        is gone (most objects are not reconciled again after their create, so the reconcile
        alone would keep every entry)."""
        uid = body.get("metadata", {}).get("uid", "")
        if uid in self._created and (
            event_type == "DELETED" or (body.get("status") or {}).get(self.adapter.id_field)
        ):
            del self._created[uid]

    @property
    def remembered_creates(self) -> int:
        return len(self._created)

    def _known_create(self, ctx: Context) -> bool:
        """Use what this process knows of its own create of the object; True when the body is
        the stale echo of the create-intent write, which a reconcile can skip.

        That echo comes after the create and before the handler's final patch lands: it shows
        the intent and no ID. Run in full it would look the name up (a list call) and write
        status again; skipped once, it costs nothing. A later body without the ID (the final
        patch failed, or this is a relist) gets the remembered IDs instead of a lookup."""
        known = self._created.get(ctx.uid)
        if known is None:
            return False
        if ctx.status.get(self.adapter.id_field):
            del self._created[ctx.uid]  # the body caught up
            return False
        if known.intent_version and ctx.resource_version == known.intent_version:
            known.intent_version = ""
            return True
        ctx.status.update(known.ids)
        return False

    def _note(self, ctx: Context, reason: str, message: str) -> Report:
        """No remote object, on purpose or for want of one to adopt: not synced, not ready."""
        verdict = Verdict(False, reason, message)
        phase = None if ctx.status.get("phase") else reason
        return Report(phase=phase, synced=verdict, ready=verdict)

    def _bind_refusal(
        self, ctx: Context, found: Found, remote_id: Any, remote: Any
    ) -> Refusal | None:
        marker = self.adapter.marker(ctx, remote)
        return bind_refusal(
            found=found,
            ours=marker == ctx.marker,
            policies=ctx.policies,
            allowance=ctx.allowance,
            namespace=ctx.namespace,
            remote=f"{ctx.remote_name!r} (ID {remote_id})",
            owner=self.owner_of(marker) if marker else None,
        )

    REFUSED_RETRY_SECONDS = 300.0

    def _refuse(self, ctx: Context, as_read: dict[str, Any], refusal: Refusal) -> None:
        """Synced=False with the refusal; no ID is recorded (status stays as read), and a
        create intent goes (a later delete must not look the name up and delete someone
        else's object). Tried again slowly: what it waits for (a freed name, an allowance on
        the Namespace, the namespace's old project) changes outside this object."""
        ctx.status.clear()
        ctx.status.update(as_read)
        effects = ctx.effects
        effects.requeue_after = self.REFUSED_RETRY_SECONDS
        effects.event("Warning", refusal.reason, refusal.message)
        effects.clear_create_pending = effects.clear_create_pending or (
            CREATE_PENDING in ctx.annotations
        )
        self._created.pop(ctx.uid, None)
        raise _Settled(self._note(ctx, refusal.reason, refusal.message))

    def _check_location(self, ctx: Context, as_read: dict[str, Any]) -> None:
        """An object bound in one project whose namespace now points to another is left
        alone (no recreate, no delete) until the user accepts the move."""
        recorded = ctx.status.get("location") or {}
        verdict = location_verdict(recorded, ctx.location, ctx.policies.accept_location)
        if verdict is LocationVerdict.CHANGED:
            self._refuse(ctx, as_read, project_changed(recorded, ctx.location))
        if verdict is LocationVerdict.ACCEPTED:
            left = ctx.status.get(self.adapter.id_field)
            for key in (self.adapter.id_field, *self.adapter.recorded_fields, "location"):
                ctx.status.pop(key, None)
            ctx.effects.event(
                "Normal", "Moved", f"left {left} in project {recorded.get('projectId')}"
            )

    def _on_drift(self, ctx: Context, remote_id: str) -> None:
        """The remote object vanished: recreate desired state, or report (training jobs)."""
        if not self.adapter.recreate_on_drift or not ctx.policies.may_write:
            ctx.effects.event("Warning", "DeletedRemotely", f"{remote_id} no longer exists")
            gone = Verdict(
                False,
                "DeletedRemotely",
                f"remote object {remote_id} was deleted outside the operator",
            )
            raise _Settled(Report(phase="Failed", synced=gone, ready=gone))
        # Forget the old ID, or the create would record it next to the new one.
        ctx.status.pop(self.adapter.id_field, None)
        ctx.effects.event("Warning", "DeletedRemotely", f"{remote_id} vanished; recreating")

    async def _create_once(self, ctx: Context) -> str:
        """Create with the intent recorded first, so a crash before the ID reaches status is
        resolved by a lookup of the (unique) remote name and never yields a second object.

        The ID and the intent's removal go with the handler's final patch: a separate status
        write here cost every create one more write and watch event (and a stale event kopf
        may re-handle under load), and the intent already covers the window."""
        kind, adapter = self.adapter.kind, self.adapter
        written = await self.kube.patch_annotations(
            kind, ctx.namespace, ctx.name, {CREATE_PENDING: ctx.remote_name}
        )
        intent_version = written.get("metadata", {}).get("resourceVersion", "")
        try:
            remote_id = await adapter.create(ctx)
        except errors.AlreadyExists:
            found = await adapter.find(ctx)
            if found is None:
                raise
            remote_id = found[0]
            ctx.found_taken = Found.BY_NAME  # bound only if the marker allows
            ctx.effects.event("Normal", "Adopted", f"name taken; bound to existing {remote_id}")
        except errors.Ambiguous:
            found = await adapter.find(ctx)
            if found is None:
                raise RetryLater("create outcome unknown and not found by name yet", 5) from None
            remote_id = found[0]
            ctx.found_taken = Found.BY_NAME  # a create of ours, unless unmarked
        else:
            ctx.effects.event("Normal", "Created", f"created {ctx.remote_name} as {remote_id}")
        ctx.effects.clear_create_pending = True
        ids = {k: ctx.status[k] for k in adapter.recorded_fields if k in ctx.status}
        ids[adapter.id_field] = adapter.status_id(str(remote_id))
        self._created[ctx.uid] = _Created(ids, intent_version)
        return str(remote_id)

    async def delete(self, ctx: Context) -> list[Event]:
        """Delete the remote object (deletionPolicy Delete; the runtime releases Retain without
        a call); raises RetryLater until ModelArts confirms."""
        remote_id = ctx.status.get(self.adapter.id_field)
        if known := self._created.pop(ctx.uid, None):
            remote_id = remote_id or known.ids[self.adapter.id_field]
        if not ctx.policies.may_write:
            return [("Normal", "Released", "finalizer removed; remote object left in place")]
        recorded = ctx.status.get("location") or {}
        if location_verdict(recorded, ctx.location, None) is LocationVerdict.CHANGED:
            raise ProjectChanged(project_changed(recorded, ctx.location).message)
        if not remote_id:
            remote_id = await self._pending_create(ctx)
        if not remote_id:
            return [("Normal", "Released", "nothing was created remotely")]
        try:
            gone = await self.adapter.delete(ctx, str(remote_id))
        except errors.NotFound:
            gone = True
        if not gone:
            raise RetryLater(f"waiting for ModelArts to delete {remote_id}", 3)
        return [("Normal", "Deleted", f"deleted remote {remote_id}")]

    async def _pending_create(self, ctx: Context) -> str | None:
        """The ID of a create whose outcome a crash kept out of status (the intent annotation
        is still there): looked up by name, so deleting the object cannot orphan it. When the
        lookup cannot be made (the workspace to look in is unknown) the finalizer stays."""
        if not ctx.annotations.get(CREATE_PENDING):
            return None
        ctx.kube = self.kube
        try:
            await self.adapter.resolve_for_lookup(ctx)
        except Waiting as wait:
            raise DeleteBlocked(
                f"a create may have happened and cannot be looked up by name yet ({wait}); "
                f"the remote object is deleted once it can be (if {ctx.remote_name!r} surely "
                "does not exist remotely, remove the finalizer by hand)",
                10,
            ) from None
        found = await self.adapter.find(ctx)
        if found is None:
            return None
        # Only a remote object carrying our marker is the create that was interrupted; one
        # that is not is someone else's, which deleting this object must not delete.
        remote = await self.adapter.get(ctx, found[0])
        return found[0] if self.adapter.marker(ctx, remote) == ctx.marker else None


@dataclass
class _Created:
    """A create this process made: the IDs to record, and the resourceVersion its intent
    annotation write produced (the stale event to skip once)."""

    ids: dict[str, Any]
    intent_version: str
