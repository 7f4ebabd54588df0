"""The reconcile loop every kind shares; a kind supplies only a :class:`RemoteAdapter`.

One level-based ``reconcile()`` serves kopf's create, update and resume causes: it makes sure
the remote object exists exactly once, pushes spec changes, and mirrors the remote state into
status. ``delete()`` applies the deletion policy behind the finalizer. Kinds differ only in
how they talk to ModelArts, which is what the adapter describes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..api import errors
from .adapter import (
    Context,
    DeleteBlocked,
    Event,
    InvalidSpec,
    ProjectChanged,
    RemoteAdapter,
    RetryLater,
    Waiting,
)
from .credentials import location_of
from .kinds import KindDeclaration
from .kube import KubeClient
from .naming import choose_remote_name, owner_among, owner_marker, remote_name
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
from .registry import Registry
from .status import SYNCED_OK, Report, StatusWriter, Verdict

log = logging.getLogger(__name__)


def waiting_report(wait: Waiting) -> Report:
    """A reference is not ready: this generation is not applied yet, and not ready."""
    verdict = Verdict(False, wait.reason, str(wait))
    return Report(phase="Waiting", synced=verdict, ready=verdict)


async def load_context(
    adapter: RemoteAdapter[Any],
    body: Mapping[str, Any],
    clients: Any,
    registry: Registry | None = None,
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
        registry=registry if registry is not None else Registry(),
    )


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
        self.adapter = kind.adapter
        self.kube = kube
        self.clients = clients
        self.registry = registry if registry is not None else Registry()
        self.installation_id = installation_id
        self.writer = StatusWriter(kind.crd.status)
        # Set when a reconcile leaves an object in flight, so a poller resting at the settled
        # period switches to the active one instead of missing a new object's progress.
        self.in_flight = asyncio.Event()
        # The creates this process made, by object UID, until a body shows their ID. Under
        # load kopf may hand a reconcile an event from before its own final patch (it waits
        # 5 s for that patch to come back, then goes on); see _known_create.
        self._created: dict[str, _Created] = {}

    async def context(self, body: Mapping[str, Any]) -> Context:
        """The context of a reconcile (or deletion, or detail look) of ``body``."""
        return await load_context(self.adapter, body, self.clients, self.registry)

    def owner_of(self, marker: str) -> str | None:
        """Who owns a remote object carrying ``marker``, among the watched objects of this
        kind: named in NameTaken conditions."""
        return owner_among(
            marker,
            self.registry.entries(self.kind.plural),
            self.installation_id,
            self.kind.crd.kind,
        )

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
