"""The reconcile loop every kind shares; a kind supplies an adapter per API form.

One level-based ``reconcile()`` serves kopf's create, update and resume causes: it makes sure
the remote object exists exactly once, pushes spec changes, and mirrors the remote state into
status. ``delete()`` applies the deletion policy behind the finalizer. Kinds differ only in
how they talk to ModelArts, which is what their adapters describe (``adapter``); everything
the reconcile decides from their answers (events, status, requeues) is decided here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .. import GROUP, VERSION
from ..api import errors
from . import requeue
from .adapter import (
    Context,
    Created,
    DeleteBlocked,
    Event,
    InvalidSpec,
    ProjectChanged,
    RemoteAdapter,
    RetryLater,
    Updated,
)
from .credentials import location_of
from .kinds import KindDeclaration
from .kube import KubeClient
from .naming import (
    choose_remote_name,
    name_of,
    names_derived_for,
    owner_among,
    owner_marker,
    remote_name,
)
from .policies import (
    CREATE_PENDING,
    Adoption,
    Found,
    LocationVerdict,
    Policies,
    PolicyError,
    Refusal,
    bind_refusal,
    location_verdict,
    project_changed,
)
from .references import Waiting
from .registry import Entry, Registry
from .requeue import Requeue
from .resume import Resumed
from .status import SYNCED_OK, Report, StatusWriter, Verdict

log = logging.getLogger(__name__)
Adapter = RemoteAdapter[Any, Any]
LISTING_TTL = 30.0  # seconds a list of the kind's objects answers "is that owner live?"


@dataclass
class Effects:
    """What a reconcile asks of the runtime besides its status write."""

    events: list[Event] = field(default_factory=list)
    requeue: Requeue | None = None  # reconcile again then (the soonest asked for)
    delete_object: bool = False  # the run policy says the Kubernetes object should go
    clear_create_pending: bool = False  # the create intent is fulfilled: drop its annotation

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def again(self, asked: Requeue | None) -> None:
        self.requeue = Requeue.soonest(self.requeue, asked)


@dataclass
class Outcome:
    """The status to write and what else the runtime should do after a reconcile."""

    status: dict[str, Any]
    effects: Effects = field(default_factory=Effects)
    in_flight: bool = False  # the remote object is still changing: poll it at the fast rate


def waiting_report(wait: Waiting) -> Report:
    """A reference is not ready: this generation is not applied yet, and not ready."""
    verdict = Verdict(False, wait.reason, str(wait))
    return Report(phase="Waiting", synced=verdict, ready=verdict)


class _Settled(Exception):
    """A reconcile path that ends before the remote object is synced, with its report."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.phase)
        self.report = report


@dataclass
class _Run:
    """One reconcile's working state: the status it will write (the context's: the object's
    as read, with what this run records, which the adapter sees and never writes), the status
    as read, and the effects."""

    ctx: Context[Any, Any]
    adapter: Adapter
    status: dict[str, Any]
    as_read: dict[str, Any]
    effects: Effects = field(default_factory=Effects)

    @classmethod
    def of(cls, ctx: Context[Any, Any], adapter: Adapter) -> _Run:
        status = ctx.status if isinstance(ctx.status, dict) else dict(ctx.status)
        ctx.status = status
        return cls(ctx, adapter, status, dict(status))


@dataclass
class _Bound:
    """The remote object a reconcile stands for: created now (with what the create returned)
    or read (its detail)."""

    remote_id: str
    remote: Any = None
    created: Created | None = None


@dataclass
class _Created:
    """A create this process made: the IDs to record, and the resourceVersion its intent
    annotation write produced (the stale event to skip once)."""

    ids: dict[str, Any]
    intent_version: str


class Reconciler:
    """Runs the shared flow for one kind; its kopf handlers and its poller call into it."""

    def __init__(
        self,
        kind: KindDeclaration,
        kube: KubeClient,
        clients: Any,  # ClientFactory: the ModelArts client of each namespace
        registry: Registry | None = None,
        installation_id: str = "",
    ) -> None:
        self.kind = kind
        self.kube = kube
        self.clients = clients
        self.registry = registry if registry is not None else Registry()
        self.installation_id = installation_id
        self.writer = StatusWriter(kind.crd.status)
        # Set when a reconcile leaves an object in flight, so a poller resting at the settled
        # period switches to the active one instead of missing a new object's progress.
        self.in_flight = asyncio.Event()
        # Objects kopf resumed on trust after a restart, until a poll cycle confirms them.
        self.resumed = Resumed()
        # The creates this process made, by object UID, until a body shows their ID. Under
        # load kopf may hand a reconcile an event from before its own final patch (it waits
        # 5 s for that patch to come back, then goes on); see _known_create.
        self._created: dict[str, _Created] = {}
        # The kind's objects as the API server last listed them, and when (see _listed).
        self._listing: tuple[float, list[Entry]] | None = None

    def adapter_for(self, spec: Any) -> Adapter:
        """The adapter of the API form an object with ``spec`` is in."""
        return self.kind.form_for(spec).adapter

    async def context(self, body: Mapping[str, Any]) -> Context[Any, Any]:
        """Parse the object and resolve its ModelArts client (per-namespace credentials)."""
        meta = body.get("metadata", {})
        try:
            spec = self.kind.crd.spec.model_validate(body.get("spec", {}))
        except ValidationError as err:
            raise InvalidSpec(str(err)) from None
        adapter = self.adapter_for(spec)
        try:
            policies = Policies.from_annotations(
                meta.get("annotations"), self.clients.settings.resync_minimum_seconds
            )
        except PolicyError as err:
            raise InvalidSpec(str(err)) from None
        try:
            client = await self.clients.for_namespace(meta["namespace"])
        except PolicyError as err:  # the Namespace's allow-adoption annotation
            raise InvalidSpec(str(err)) from None
        installation = self.clients.settings.installation_id
        status = body.get("status") or {}
        name = choose_remote_name(
            adapter.explicit_name(spec),
            status.get("remoteName") if status.get(adapter.id_field) else None,
            (meta.get("annotations") or {}).get(CREATE_PENDING),
            remote_name(meta["namespace"], meta["name"], installation_id=installation),
        )
        if len(name) < adapter.name_min_length:
            name = f"{name}-{self.kind.plural}"[: max(adapter.name_min_length, len(name))]
        return Context(
            remote_name=name,
            uid=meta.get("uid", ""),
            resource_version=meta.get("resourceVersion", ""),
            namespace=meta["namespace"],
            name=meta["name"],
            generation=int(meta.get("generation", 1)),
            spec=spec,
            status=dict(status),
            annotations=meta.get("annotations") or {},
            policies=policies,
            client=client,
            refs=adapter.refs_type(),
            marker=owner_marker(installation, self.kind.crd.kind, meta["namespace"], meta["name"]),
            allowance=self.clients.allowance(meta["namespace"]),
            location=location_of(client),
            default_tags=self.clients.settings.default_tags,
            registry=self.registry,
        )

    async def owned_elsewhere(self, ctx: Context[Any, Any], marker: str) -> bool:
        """True when ``marker`` is the marker of another live object of this kind: one the
        registry holds, or, not found there (a restart may not have listed it yet), one the
        API server lists. Asked only before an adoption would go ahead, so the list is rare."""
        kind = self.kind.crd.kind
        owner = owner_among(
            marker, self.registry.entries(self.kind.plural), self.installation_id, kind
        )
        if owner is None:
            owner = owner_among(marker, await self._listed(), self.installation_id, kind)
        return owner is not None and (owner.namespace, owner.name) != (ctx.namespace, ctx.name)

    async def _listed(self) -> list[Entry]:
        """Every object of this kind the operator watches, as the API server lists them. A
        listing serves LISTING_TTL seconds: a restart resumes every adopted object at once,
        and one list answers them all."""
        now = time.monotonic()
        if self._listing is not None and now - self._listing[0] < LISTING_TTL:
            return self._listing[1]
        plural = self.kind.plural
        watched = self.clients.settings.namespaces
        paths = [self.kind.resource.path(ns) for ns in watched] or [
            f"/apis/{GROUP}/{VERSION}/{plural}"
        ]
        listed = []
        for path in paths:
            for item in (await self.kube.get(path)).get("items") or []:
                meta = item.get("metadata") or {}
                listed.append(Entry(plural, meta.get("namespace", ""), meta.get("name", ""), item))
        self._listing = (now, listed)
        return listed

    # -- reconcile -----------------------------------------------------------------------------

    async def reconcile(self, ctx: Context[Any, Any]) -> Outcome:
        """Make the remote object exist once, push the spec, and report what it shows."""
        ctx.kube = self.kube
        run = _Run.of(ctx, self.adapter_for(ctx.spec))
        if self._known_create(run):
            return Outcome(dict(ctx.status))  # a stale event: nothing to do, nothing to write
        in_flight = False
        try:
            ctx.refs = await run.adapter.resolve(ctx)
            self._check_location(run)
            bound = await self._bind(run)
            report, in_flight = await self._sync(run, bound)
        except Waiting as wait:
            report = waiting_report(wait)
            if wait.retry is not None:
                run.effects.again(Requeue(wait.retry, wait.reason))
        except _Settled as settled:
            report = settled.report
        status = self.writer.render(run.status, report, ctx.generation)
        return Outcome(status, run.effects, in_flight)

    async def _bind(self, run: _Run) -> _Bound:
        """The remote object this Kubernetes object stands for: recorded, bound by
        external-id, found by name, or created (once). Raises _Settled when there is none to
        have (paused, adopt-only, a training job deleted remotely) or it may not be bound (not
        ours, adoption not allowed)."""
        ctx, adapter, effects = run.ctx, run.adapter, run.effects
        recorded = run.status.get(adapter.id_field)
        remote_id = recorded or ctx.policies.external_id
        if remote_id:
            try:
                remote = await adapter.get(ctx, str(remote_id))
            except errors.NotFound:
                self._created.pop(ctx.uid, None)
                self._on_drift(run, str(remote_id))
            else:
                # An ID in status is checked like any other: whoever may write status could
                # have put another team's ID there. The GET reads the marker anyway.
                await self._may_bind(run, _by_id(ctx, remote_id), str(remote_id), remote)
                if not recorded:
                    effects.event("Normal", "Adopted", f"bound to {remote_id} (external-id)")
                return _Bound(str(remote_id), remote)
        if ctx.policies.paused:
            raise _Settled(self._note(run, "Paused", "paused: no remote object is created"))
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
            # A lookup by name yields the list summary; observe() needs the detail.
            remote = await adapter.get(ctx, found[0])
            await self._may_bind(run, Found.BY_NAME, found[0], remote)
            if ctx.annotations.get(CREATE_PENDING) == ctx.remote_name:
                effects.event("Normal", "Created", f"recovered interrupted create as {found[0]}")
            else:
                effects.event("Normal", "Adopted", f"bound to existing {found[0]}")
            return _Bound(found[0], remote)
        if ctx.policies.observe_only or ctx.policies.adoption is Adoption.ADOPT:
            message = f"no remote object named {ctx.remote_name!r} to adopt or observe"
            raise _Settled(self._note(run, "NotFound", message))
        return await self._create_once(run)

    async def _create_once(self, run: _Run) -> _Bound:
        """Create with the intent recorded first, so a crash before the ID reaches status is
        resolved by a lookup of the (unique) remote name and never yields a second object.

        The intent's write also carries what the handler layer keeps on the object
        (``ctx.intent_metadata``: the finalizer, kopf's last-handled configuration), and is
        conditional on the version read (it sets the finalizers list whole). The ID goes with
        the handler's final patch, the status write, and the intent stays, fulfilled by it
        (``policies.intent_fulfilled``): a separate status write here, or the intent's
        removal, cost every create one more write, and the intent already covers the window."""
        ctx, adapter = run.ctx, run.adapter
        metadata = dict(ctx.intent_metadata)
        metadata["annotations"] = {
            **metadata.get("annotations", {}),
            CREATE_PENDING: ctx.remote_name,
        }
        written = await self.kube.patch_metadata(
            self.kind.resource, ctx.namespace, ctx.name, metadata, ctx.resource_version
        )
        ctx.intent_written = True
        intent_version = written.get("metadata", {}).get("resourceVersion", "")
        try:
            created = await adapter.create(ctx)
        except (errors.AlreadyExists, errors.Ambiguous) as err:
            found = await adapter.find(ctx)
            if found is None:
                if isinstance(err, errors.AlreadyExists):
                    raise
                unknown = "create outcome unknown and not found by name yet"
                raise RetryLater(Requeue(requeue.CREATE_UNKNOWN, unknown)) from None
            remote_id, remote = found[0], await adapter.get(ctx, found[0])
            # The intent written above goes either way: bound, or refused (a later delete must
            # not look the name up and delete someone else's object).
            run.effects.clear_create_pending = True
            # Bound only if the marker allows: ours (a create of ours whose answer was lost,
            # an interrupted one), or one the object may adopt.
            await self._may_bind(run, Found.BY_NAME, remote_id, remote)
            if isinstance(err, errors.AlreadyExists):
                taken = f"name taken; bound to existing {remote_id}"
                run.effects.event("Normal", "Adopted", taken)
            self._remember(run, remote_id, {}, intent_version)
            return _Bound(remote_id, remote)
        run.effects.event("Normal", "Created", f"created {ctx.remote_name} as {created.remote_id}")
        self._remember(run, created.remote_id, created.recorded, intent_version)
        return _Bound(created.remote_id, created=created)

    def _remember(
        self, run: _Run, remote_id: str, recorded: Mapping[str, Any], intent_version: str
    ) -> None:
        fields = run.adapter.recorded_fields
        ids = {k: v for k, v in {**run.status, **recorded}.items() if k in fields}
        ids[run.adapter.id_field] = run.adapter.status_id(remote_id)
        self._created[run.ctx.uid] = _Created(ids, intent_version)

    async def _sync(self, run: _Run, bound: _Bound) -> tuple[Report, bool]:
        """Record the ID, push the spec (when allowed) and report the remote state."""
        ctx, adapter, effects, status = run.ctx, run.adapter, run.effects, run.status
        if ctx.location and not status.get("location"):
            status["location"] = ctx.location
        if CREATE_PENDING in ctx.annotations:
            # The intent is fulfilled: the ID goes to status and the intent may go, both with
            # the handler's final patch (the handler keeps a fulfilled one until the object's
            # metadata is written anyway). kopf patches the annotations first; a crash between
            # the two leaves neither, and the next create finds the name taken and binds to it.
            effects.clear_create_pending = True
        remote_id = bound.remote_id
        refusal: Refusal | None = None
        if bound.created is not None:  # made from this very spec just now: nothing to push
            status.update(bound.created.recorded)
            effects.again(bound.created.requeue)
            observation = bound.created.observation
        else:
            remote = bound.remote
            if ctx.policies.may_write:
                updated = await adapter.update(ctx, remote_id, remote)
                remote_id = updated.remote_id or remote_id
                refusal = self._apply(run, updated)
                remote = updated.remote
            observation = adapter.observe(ctx, remote)
        # Recorded however it was found (an external-id binding included): polling, deletion
        # and dependents all go by it. The one place the ID is written.
        status[adapter.id_field] = adapter.status_id(remote_id)
        effects.again(observation.requeue)
        effects.delete_object = effects.delete_object or observation.delete_object
        if ctx.policies.paused:  # mirrored, but this generation was not applied
            synced = Verdict(False, "Paused", "paused: spec changes are not applied")
        elif ctx.policies.observe_only:
            synced = Verdict(True, "Synced", "observed (management-policy observe)")
        elif refusal is not None:  # the adapter's own (a foreign ConfigMap)
            synced = Verdict(False, refusal.reason, refusal.message)
            effects.event("Warning", refusal.reason, refusal.message)
        else:
            synced = SYNCED_OK
        report = observation.report()
        report.facts["remoteName"] = ctx.remote_name
        report.synced = synced
        return report, observation.in_flight

    def _apply(self, run: _Run, updated: Updated) -> Refusal | None:
        """What an update did, as events, status bookkeeping and a requeue: the fields it
        pushed are DriftCorrected when this generation had been applied already (changed
        outside the operator), else Updated."""
        if updated.changed:
            names = ", ".join(sorted(set(updated.changed)))
            if run.ctx.applied:
                message = f"corrected {names} (changed outside the operator)"
                run.effects.event("Normal", "DriftCorrected", message)
            else:
                run.effects.event("Normal", "Updated", f"updated {names}")
        for event in updated.events:
            run.effects.event(*event)
        run.status.update(updated.recorded)
        run.effects.again(updated.requeue)
        return updated.refusal

    # -- stale events and refusals -------------------------------------------------------------

    def observed(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        """A watch event: forget a remembered create once a body shows its ID or the object
        is gone (most objects are not reconciled again after their create, so the reconcile
        alone would keep every entry)."""
        uid = body.get("metadata", {}).get("uid", "")
        if uid in self._created and (
            event_type == "DELETED" or (body.get("status") or {}).get(self.kind.id_field)
        ):
            del self._created[uid]

    @property
    def remembered_creates(self) -> int:
        return len(self._created)

    def _known_create(self, run: _Run) -> bool:
        """Use what this process knows of its own create of the object; True when the body is
        the stale echo of the create-intent write, which a reconcile can skip.

        That echo comes after the create and before the handler's final patch lands: it shows
        the intent and no ID. Run in full it would look the name up (a list call) and write
        status again; skipped once, it costs nothing. A later body without the ID (the final
        patch failed, or this is a relist) gets the remembered IDs instead of a lookup."""
        ctx = run.ctx
        known = self._created.get(ctx.uid)
        if known is None:
            return False
        if run.status.get(run.adapter.id_field):
            del self._created[ctx.uid]  # the body caught up
            return False
        if known.intent_version and ctx.resource_version == known.intent_version:
            known.intent_version = ""
            return True
        run.status.update(known.ids)
        return False

    def _note(self, run: _Run, reason: str, message: str) -> Report:
        """No remote object, on purpose or for want of one to adopt: not synced, not ready."""
        verdict = Verdict(False, reason, message)
        phase = None if run.status.get("phase") else reason
        return Report(phase=phase, synced=verdict, ready=verdict)

    async def _may_bind(self, run: _Run, found: Found, remote_id: str, remote: Any) -> None:
        """Go on with a remote object only if it is ours or may be adopted; otherwise refuse
        (raises _Settled). Called before anything is written to it."""
        refusal = await self.refusal(run.ctx, run.adapter, found, remote_id, remote)
        if refusal is not None:
            self._refuse(run, refusal)

    async def refusal(
        self, ctx: Context[Any, Any], adapter: Adapter, found: Found, remote_id: str, remote: Any
    ) -> Refusal | None:
        """Why this object may not bind to, write or delete ``remote`` (None: it may).

        Ours is what carries this object's marker; and, for an ID recorded in status only, an
        object carrying no marker at all under a name the operator derived for this object
        (one recorded before markers existed, or an LLM model, which had none: the next update
        marks it). Anything else is adoption (``bind_refusal``)."""
        marker = adapter.marker(ctx, remote)
        ours = marker == ctx.marker or (
            found is Found.RECORDED
            and marker is None
            and name_of(remote) in names_derived_for(ctx.namespace, ctx.name, self.installation_id)
        )
        if found is Found.RECORDED:
            where = f"remote object {remote_id}"
        else:
            where = f"{ctx.remote_name!r} (ID {remote_id})"

        def decide(owned_elsewhere: bool) -> Refusal | None:
            return bind_refusal(
                found=found,
                ours=ours,
                policies=ctx.policies,
                allowance=ctx.allowance,
                namespace=ctx.namespace,
                remote=where,
                owned_elsewhere=owned_elsewhere,
            )

        refusal = decide(False)
        if refusal is None and not ours and marker and await self.owned_elsewhere(ctx, marker):
            refusal = decide(True)
        return refusal

    def _refuse(self, run: _Run, refusal: Refusal) -> None:
        """Synced=False with the refusal; no ID is recorded (status stays as read), and a
        create intent goes (a later delete must not look the name up and delete someone
        else's object). Tried again slowly: what it waits for (a freed name, an allowance on
        the Namespace, the namespace's old project) changes outside this object."""
        run.status.clear()
        run.status.update(run.as_read)
        effects = run.effects
        effects.again(Requeue(requeue.SLOW, refusal.reason))
        effects.event("Warning", refusal.reason, refusal.message)
        effects.clear_create_pending = effects.clear_create_pending or (
            CREATE_PENDING in run.ctx.annotations
        )
        self._created.pop(run.ctx.uid, None)
        raise _Settled(self._note(run, refusal.reason, refusal.message))

    def _check_location(self, run: _Run) -> None:
        """An object bound in one project whose namespace now points to another is left
        alone (no recreate, no delete) until the user accepts the move."""
        ctx, status = run.ctx, run.status
        recorded = status.get("location") or {}
        verdict = location_verdict(recorded, ctx.location, ctx.policies.accept_location)
        if verdict is LocationVerdict.CHANGED:
            self._refuse(run, project_changed(recorded, ctx.location))
        if verdict is LocationVerdict.ACCEPTED:
            left = status.get(run.adapter.id_field)
            for key in (run.adapter.id_field, *run.adapter.recorded_fields, "location"):
                status.pop(key, None)
            where = recorded.get("projectId")
            run.effects.event("Normal", "Moved", f"left {left} in project {where}")

    def _on_drift(self, run: _Run, remote_id: str) -> None:
        """The remote object vanished: recreate desired state, or report (training jobs)."""
        if not run.adapter.recreate_on_drift or not run.ctx.policies.may_write:
            run.effects.event("Warning", "DeletedRemotely", f"{remote_id} no longer exists")
            gone = Verdict(
                False,
                "DeletedRemotely",
                f"remote object {remote_id} was deleted outside the operator",
            )
            raise _Settled(Report(phase="Failed", synced=gone, ready=gone))
        # Forget the old ID, or the create would record it next to the new one.
        run.status.pop(run.adapter.id_field, None)
        run.effects.event("Warning", "DeletedRemotely", f"{remote_id} vanished; recreating")

    # -- delete --------------------------------------------------------------------------------

    async def delete(self, ctx: Context[Any, Any]) -> list[Event]:
        """Delete the remote object (deletionPolicy Delete; the runtime releases Retain without
        a call); raises RetryLater until ModelArts confirms. A recorded ID is deleted only
        once the remote object is shown to be this object's (or an allowed adoption): one that
        is not is left in place and the finalizer released."""
        adapter = self.adapter_for(ctx.spec)
        remote_id = ctx.status.get(adapter.id_field)
        known = self._created.pop(ctx.uid, None)
        made_here = known is not None and (
            not remote_id or str(remote_id) == str(known.ids[adapter.id_field])
        )
        if known is not None:
            remote_id = remote_id or known.ids[adapter.id_field]
        if not ctx.policies.may_write:
            return [("Normal", "Released", "finalizer removed; remote object left in place")]
        recorded = ctx.status.get("location") or {}
        if location_verdict(recorded, ctx.location, None) is LocationVerdict.CHANGED:
            raise ProjectChanged(project_changed(recorded, ctx.location).message)
        if not remote_id:
            remote_id = await self._pending_create(ctx, adapter)
        elif not made_here:
            try:
                remote = await adapter.get(ctx, str(remote_id))
            except errors.NotFound:
                return [("Normal", "Deleted", f"remote {remote_id} is gone")]
            refusal = await self.refusal(
                ctx, adapter, _by_id(ctx, remote_id), str(remote_id), remote
            )
            if refusal is not None:
                left = f"{refusal.message}. The finalizer is removed; {remote_id} is left in place"
                return [("Warning", refusal.reason, left)]
        if not remote_id:
            return [("Normal", "Released", "nothing was created remotely")]
        try:
            gone = await adapter.delete(ctx, str(remote_id))
        except errors.NotFound:
            gone = True
        if not gone:
            raise RetryLater(
                Requeue(requeue.DELETING, f"waiting for ModelArts to delete {remote_id}")
            )
        return [("Normal", "Deleted", f"deleted remote {remote_id}")]

    async def _pending_create(self, ctx: Context[Any, Any], adapter: Adapter) -> str | None:
        """The ID of a create whose outcome a crash kept out of status (the intent annotation
        is still there): looked up by name, so deleting the object cannot orphan it. When the
        lookup cannot be made (the workspace to look in is unknown) the finalizer stays."""
        if not ctx.annotations.get(CREATE_PENDING):
            return None
        ctx.kube = self.kube
        try:
            ctx.refs = await adapter.resolve_for_lookup(ctx)
        except Waiting as wait:
            blocked = (
                f"a create may have happened and cannot be looked up by name yet ({wait}); "
                f"the remote object is deleted once it can be (if {ctx.remote_name!r} surely "
                "does not exist remotely, remove the finalizer by hand)"
            )
            raise DeleteBlocked(Requeue(requeue.DELETE_RETRY, blocked)) from None
        found = await adapter.find(ctx)
        if found is None:
            return None
        # Only a remote object carrying our marker is the create that was interrupted; one
        # that is not is someone else's, which deleting this object must not delete.
        remote = await adapter.get(ctx, found[0])
        return found[0] if adapter.marker(ctx, remote) == ctx.marker else None


def _by_id(ctx: Context[Any, Any], remote_id: Any) -> Found:
    """How an object came to the remote ID it acts on: its external-id annotation, or its
    status alone."""
    return Found.EXTERNAL_ID if str(remote_id) == ctx.policies.external_id else Found.RECORDED
