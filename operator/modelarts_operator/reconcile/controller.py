"""The reconcile loop every kind shares; a kind supplies only a :class:`RemoteAdapter`.

One level-based ``reconcile()`` serves kopf's create, update and resume causes: it makes sure
the remote object exists exactly once, pushes spec changes, and mirrors the remote state into
status. ``delete()`` applies the deletion policy behind the finalizer. Kinds differ only in
how they talk to ModelArts, which is what the adapter describes.
"""

from __future__ import annotations

import abc
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
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


@dataclass
class Observation:
    """What the remote object's state means to a person and to the conditions."""

    phase: str
    ready: bool
    failed: bool = False
    reason: str = ""
    message: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # kind-specific status fields
    in_flight: bool = True  # poll it at the fast rate

    @classmethod
    def failure(cls, message: str, facts: dict[str, Any]) -> Observation:
        """The remote object ended in a failed state: Failed, not ready, not in flight."""
        return cls(
            "Failed", False, failed=True, reason="Failed", message=message, facts=facts,
            in_flight=False,
        )  # fmt: skip


async def confirmed_gone(lookup: Awaitable[Any]) -> bool:
    """True when ``lookup`` (a GET of the remote object after its delete) finds nothing."""
    try:
        await lookup
    except errors.NotFound:
        return True
    return False


@dataclass
class Context:
    """Everything a reconcile knows about the object it handles."""

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
    resolved: dict[str, Any] = field(default_factory=dict)  # references, filled by the adapter
    marker: str = ""  # the ownership marker remote objects of this object carry
    allowance: Allowance = Allowance.NONE  # what its namespace allows it to adopt
    location: dict[str, str] = field(default_factory=dict)  # project, region, endpoint


class RemoteAdapter(abc.ABC, Generic[SpecT]):
    """How one kind maps onto ModelArts. Implementations live in ``resources/<kind>.py``."""

    kind: Kind
    spec_model: type[SpecT]
    id_field: str  # status key holding the remote ID, e.g. "jobId"
    name_field: str  # spec field (snake_case) holding an explicit remote name
    name_min_length: int = 1
    recreate_on_drift: bool = True  # desired-state objects come back; training jobs do not
    # The poller may fill a transition's detail itself (one GET) instead of poking the
    # reconcile; False where the reconcile has work to do on transitions (Service exportTo).
    detail_in_poller: bool = True

    async def resolve(self, ctx: Context) -> None:
        """Resolve references into ``ctx.resolved``; raise :class:`Waiting` if not ready."""

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

    @abc.abstractmethod
    async def poll(self, client: ModelArtsClient, entries: list[Entry]) -> dict[str, Any]:
        """Remote summaries of ``entries`` by remote ID, from the list API (all pages)."""

    @abc.abstractmethod
    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        """Interpret a list summary (the cheap view the poller has)."""

    def needs_detail(self, old_status: dict[str, Any], obs: Observation) -> bool:
        """True when this transition needs the full reconcile (a detail GET) to fill status."""
        return False

    def status_id(self, remote_id: str) -> Any:
        """The remote ID as the status schema types it."""
        return remote_id


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
    """The status to write and the events to post after a reconcile."""

    status: dict[str, Any]
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)
    retry_after: float | None = None
    delete_object: bool = False  # the run policy says the Kubernetes object should go
    in_flight: bool = False  # the remote object is still changing: poll it at the fast rate
    clear_create_pending: bool = False  # the create intent is fulfilled: drop its annotation


class Reconciler:
    """Runs the shared flow for one adapter; kopf handlers call into it."""

    def __init__(self, adapter: RemoteAdapter[Any], kube: KubeClient) -> None:
        self.adapter = adapter
        self.kube = kube
        # The creates this process made, by object UID, until a body shows their ID. Under
        # load kopf may hand a reconcile an event from before its own final patch (it waits
        # 5 s for that patch to come back, then goes on); see _known_create.
        self._created: dict[str, _Created] = {}
        # Who owns a remote object carrying a given marker, among the objects the operator
        # watches (the runtime sets it from its registry): named in NameTaken conditions.
        self.owner_of: Callable[[str], str | None] = lambda marker: None

    async def reconcile(self, ctx: Context) -> Outcome:
        ctx.kube = self.kube
        adapter, status = self.adapter, dict(ctx.status)
        body_status = dict(ctx.status)  # adapters add IDs to ctx.status as they go
        events: list[tuple[str, str, str]] = []
        if self._known_create(ctx, status):
            return Outcome(dict(ctx.status))  # a stale event: nothing to do, nothing to write
        try:
            await adapter.resolve(ctx)
        except Waiting as wait:
            status["phase"] = "Waiting"
            status["conditions"] = cond.set_condition(
                status.get("conditions"), cond.READY, False, wait.reason, str(wait), ctx.generation
            )
            return Outcome(status)

        if (moved := self._check_location(ctx, status, events)) is not None:
            return moved
        remote_id = status.get(adapter.id_field) or ctx.policies.external_id
        remote: Any = None
        bound_by: Found | None = None  # set when binding to an object not recorded before
        if remote_id:
            try:
                remote = await adapter.get(ctx, str(remote_id))
            except errors.NotFound:
                self._created.pop(ctx.uid, None)
                drift = self._on_drift(ctx, status, str(remote_id), events)
                if drift is not None:
                    return drift
                remote_id = None
        if not remote_id:
            if ctx.policies.paused:
                return self._note(ctx, status, "Paused", "paused: no remote object is created")
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
                    events.append(
                        ("Normal", "Created", f"recovered interrupted create as {remote_id}")
                    )
                else:
                    events.append(("Normal", "Adopted", f"bound to existing {remote_id}"))
            elif ctx.policies.observe_only or ctx.policies.adoption is Adoption.ADOPT:
                return self._note(
                    ctx,
                    status,
                    "NotFound",
                    f"no remote object named {ctx.remote_name!r} to adopt or observe",
                )
            else:
                remote_id = await self._create_once(ctx, status, events)
                remote = await adapter.get(ctx, remote_id)
                bound_by = ctx.resolved.pop("found_taken", None)
        elif not status.get(adapter.id_field):
            bound_by = Found.EXTERNAL_ID
            events.append(("Normal", "Adopted", f"bound to {remote_id} (external-id)"))
        if bound_by is not None and (
            refusal := self._bind_refusal(ctx, bound_by, remote_id, remote)
        ):
            return self._refuse(ctx, dict(body_status), refusal)
        # Record the ID however it was found (an external-id binding included): polling,
        # deletion and dependents all go by it.
        status[adapter.id_field] = adapter.status_id(str(remote_id))
        status["location"] = status.get("location") or ctx.location
        if CREATE_PENDING in ctx.annotations:
            # The intent is fulfilled: the ID goes to status and the intent goes, both with the
            # handler's final patch. (kopf patches the annotations first; a crash between the
            # two leaves neither, and the next create finds the name taken and binds to it.)
            ctx.resolved["clear_create_pending"] = True

        if ctx.policies.may_write and remote is not None:
            remote = await adapter.update(ctx, str(remote_id), remote)
            status.update(_ids(ctx.status))
        observation = adapter.observe(ctx, remote)
        apply_observation(status, observation, ctx.generation)
        status["remoteName"] = ctx.remote_name
        if ctx.policies.paused:  # mirrored, but this generation was not applied
            synced, reason, message = False, "Paused", "paused: spec changes are not applied"
        elif ctx.policies.observe_only:
            synced, reason, message = True, "Synced", "observed (management-policy observe)"
        elif (refusal := ctx.resolved.get("refusal")) is not None:  # e.g. a foreign ConfigMap
            synced, reason, message = False, refusal.reason, refusal.message
            events.append(("Warning", reason, message))
        else:
            synced, reason, message = True, "Synced", ""
        status["conditions"] = cond.set_condition(
            status.get("conditions"), cond.SYNCED, synced, reason, message, ctx.generation
        )
        status["observedGeneration"] = ctx.generation
        events.extend(ctx.resolved.get("events", []))
        return Outcome(
            status,
            events,
            ctx.resolved.get("requeue_after"),
            bool(ctx.resolved.get("delete_object")),
            observation.in_flight,
            bool(ctx.resolved.get("clear_create_pending")),
        )

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

    def _known_create(self, ctx: Context, status: dict[str, Any]) -> bool:
        """Use what this process knows of its own create of the object; True when the body is
        the stale echo of the create-intent write, which a reconcile can skip.

        That echo comes after the create and before the handler's final patch lands: it shows
        the intent and no ID. Run in full it would look the name up (a list call) and write
        status again; skipped once, it costs nothing. A later body without the ID (the final
        patch failed, or this is a relist) gets the remembered IDs instead of a lookup."""
        known = self._created.get(ctx.uid)
        if known is None:
            return False
        if status.get(self.adapter.id_field):
            del self._created[ctx.uid]  # the body caught up
            return False
        if known.intent_version and ctx.resource_version == known.intent_version:
            known.intent_version = ""
            return True
        ctx.status.update(known.ids)
        status.update(known.ids)
        return False

    def _bind_refusal(
        self, ctx: Context, found: Found, remote_id: Any, remote: Any
    ) -> Refusal | None:
        marker = marker_of(remote)
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

    def _refuse(self, ctx: Context, status: dict[str, Any], refusal: Refusal) -> Outcome:
        """Synced=False with the refusal; no ID is recorded, and a create intent goes (a
        later delete must not look the name up and delete someone else's object). Tried
        again slowly: what it waits for (a freed name, an allowance on the Namespace, the
        namespace's old project) changes outside this object."""
        outcome = self._note(ctx, status, refusal.reason, refusal.message)
        outcome.retry_after = self.REFUSED_RETRY_SECONDS
        outcome.events.append(("Warning", refusal.reason, refusal.message))
        outcome.clear_create_pending = CREATE_PENDING in ctx.annotations or bool(
            ctx.resolved.get("clear_create_pending")  # this reconcile wrote the intent
        )
        self._created.pop(ctx.uid, None)
        return outcome

    def _check_location(
        self, ctx: Context, status: dict[str, Any], events: list[Any]
    ) -> Outcome | None:
        """An object bound in one project whose namespace now points to another is left
        alone (no recreate, no delete) until the user accepts the move."""
        recorded = status.get("location") or {}
        verdict = location_verdict(recorded, ctx.location, ctx.policies.accept_location)
        if verdict is LocationVerdict.CHANGED:
            return self._refuse(ctx, status, project_changed(recorded, ctx.location))
        if verdict is LocationVerdict.ACCEPTED:
            left = status.get(self.adapter.id_field)
            for key in (self.adapter.id_field, *_ids(status), "location"):
                status.pop(key, None)
                ctx.status.pop(key, None)
            events.append(
                ("Normal", "Moved", f"left {left} in project {recorded.get('projectId')}")
            )
        return None

    def _note(self, ctx: Context, status: dict[str, Any], reason: str, msg: str) -> Outcome:
        status["conditions"] = cond.set_condition(
            status.get("conditions"), cond.SYNCED, False, reason, msg, ctx.generation
        )
        status.setdefault("phase", reason)
        return Outcome(status)

    def _on_drift(
        self, ctx: Context, status: dict[str, Any], remote_id: str, events: list[Any]
    ) -> Outcome | None:
        """The remote object vanished: recreate desired state, or report (training jobs)."""
        if not self.adapter.recreate_on_drift or not ctx.policies.may_write:
            status["phase"] = "Failed"
            status["conditions"] = cond.set_condition(
                status.get("conditions"),
                cond.READY,
                False,
                "DeletedRemotely",
                f"remote object {remote_id} was deleted outside the operator",
                ctx.generation,
            )
            events.append(("Warning", "DeletedRemotely", f"{remote_id} no longer exists"))
            return Outcome(status, events)
        # Forget the old ID everywhere, or the create would record it next to the new one.
        status.pop(self.adapter.id_field, None)
        ctx.status.pop(self.adapter.id_field, None)
        events.append(("Warning", "DeletedRemotely", f"{remote_id} vanished; recreating"))
        return None

    async def _create_once(self, ctx: Context, status: dict[str, Any], events: list[Any]) -> str:
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
            ctx.resolved["found_taken"] = Found.BY_NAME  # bound only if the marker allows
            events.append(("Normal", "Adopted", f"name taken; bound to existing {remote_id}"))
        except errors.Ambiguous:
            found = await adapter.find(ctx)
            if found is None:
                raise RetryLater("create outcome unknown and not found by name yet", 5) from None
            remote_id = found[0]
            ctx.resolved["found_taken"] = Found.BY_NAME  # a create of ours, unless unmarked
        else:
            events.append(("Normal", "Created", f"created {ctx.remote_name} as {remote_id}"))
        ctx.resolved["clear_create_pending"] = True
        status.update(_ids(ctx.status))
        ids = {**_ids(ctx.status), adapter.id_field: adapter.status_id(str(remote_id))}
        self._created[ctx.uid] = _Created(ids, intent_version)
        return str(remote_id)

    async def delete(self, ctx: Context, deletion_policy: str) -> list[tuple[str, str, str]]:
        """Apply the deletion policy; raises RetryLater until ModelArts confirms."""
        remote_id = ctx.status.get(self.adapter.id_field)
        if known := self._created.pop(ctx.uid, None):
            remote_id = remote_id or known.ids[self.adapter.id_field]
        if deletion_policy == "Retain" or not ctx.policies.may_write:
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
        is still there): looked up by name, so deleting the object cannot orphan it."""
        if not ctx.annotations.get(CREATE_PENDING):
            return None
        ctx.kube = self.kube
        # A dependency may be gone; the lookup needs only what is resolved first (workspace).
        with contextlib.suppress(Waiting):
            await self.adapter.resolve(ctx)
        try:
            found = await self.adapter.find(ctx)
        except KeyError:  # not even the workspace resolved: nothing to look in
            return None
        if found is None:
            return None
        # Only a remote object carrying our marker is the create that was interrupted; one
        # that is not is someone else's, which deleting this object must not delete.
        remote = await self.adapter.get(ctx, found[0])
        return found[0] if marker_of(remote) == ctx.marker else None


@dataclass
class _Created:
    """A create this process made: the IDs to record, and the resourceVersion its intent
    annotation write produced (the stale event to skip once)."""

    ids: dict[str, Any]
    intent_version: str


def _ids(status: Mapping[str, Any]) -> dict[str, Any]:
    """Secondary IDs and bookkeeping an adapter put into the context's status."""
    keys = (
        "versionId",
        "versionName",
        "workspaceId",
        "modelId",
        "serviceId",
        "jobId",
        "configGeneration",
        "resourceId",
    )
    return {k: status[k] for k in keys if k in status}


def apply_observation(status: dict[str, Any], obs: Observation, generation: int) -> None:
    """Fold an observation into status: phase, facts and the Ready condition."""
    status["phase"] = obs.phase
    status.update(obs.facts)
    if obs.ready:
        reason, message = "Ready", obs.message
    else:
        reason, message = (obs.reason or obs.phase), obs.message
    status["conditions"] = cond.set_condition(
        status.get("conditions"), cond.READY, obs.ready, reason, message, generation
    )


def error_outcome(
    ctx_status: dict[str, Any], err: errors.ModelArtsError, generation: int
) -> dict[str, Any]:
    """Synced=False carrying the API's error code and message (never a secret).

    Errors that are retried soon carry their class name as reason (Throttled, ServerError,
    Ambiguous...), which health checks read as transient; the others carry the ModelArts
    error_code, which they read as terminal until the spec changes."""
    status = dict(ctx_status)
    transient = isinstance(err, errors.Throttled | errors.ServerError | errors.Ambiguous)
    reason = type(err).__name__ if transient else (err.error_code or type(err).__name__)
    message = err.error_msg or str(err)
    if transient and err.error_code:
        message = f"{err.error_code}: {message}"
    status["conditions"] = cond.set_condition(
        status.get("conditions"), cond.SYNCED, False, reason, message, generation
    )
    return status
