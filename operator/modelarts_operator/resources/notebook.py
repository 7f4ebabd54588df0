"""Notebook controller: a ModelArts notebook (``/v1/{project_id}/notebooks``).

Names repeat remotely, so the shared "intent, create, look up by name" is not enough for
exactly-once: right after the create the notebook is tagged with this object's UID
(``OWNER_TAG``), and ``find`` looks up by name and that tag. The create itself already marks
the notebook as this object's: its description ends with the ownership marker, as the other
kinds' do. A crash (or a lost answer) between create and tagging leaves an untagged notebook;
``find`` then answers the one of that name created since this object was and carrying its
marker, and the reconcile's update tags it. ``find`` writes nothing: an untagged notebook
without this object's marker (one made in the console) is someone else's, which only an
adoption the Namespace allows may take (the reconcile decides, before any tag is written).

Updates follow what the API allows: name, description and EVS size at any settled state; the
image, flavor, custom spec and SSH endpoints only while STOPPED. Asked for on a running
notebook those give Synced=False, reason StopRequired, naming the fields, until
``spec.stopped`` is true; they are applied once the notebook is STOPPED.

A lease that ends stops the notebook remotely. The operator does not start it again on a
resync: it starts a stopped notebook only for a generation it has not applied yet (a spec
change, e.g. ``restartToken``), so the person who owns it decides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..api import errors
from ..api.client import ModelArtsClient
from ..api.notebooks import (
    EndpointRequest,
    LeaseRequest,
    Notebook,
    NotebookCreateRequest,
    NotebookUpdateRequest,
    VolumeMount,
)
from ..crd import notebook as crd
from ..crd.notebook import NotebookSpec, NotebookStatus
from ..reconcile import requeue
from ..reconcile.adapter import (
    Context,
    Created,
    InvalidSpec,
    Observation,
    Refs,
    RemoteAdapter,
    RetryLater,
    Updated,
    confirmed_gone,
    keyed,
)
from ..reconcile.kinds import Form, HealthRules, KindDeclaration, Reference
from ..reconcile.kube import Kind
from ..reconcile.naming import desired_tags, marked_description, marker_of, tag_changes, uid_marker
from ..reconcile.references import (
    from_millis,
    ready_dependency,
    recorded_workspace_id,
    to_wire,
    workspace_id,
)
from ..reconcile.registry import Entry
from ..reconcile.requeue import Requeue

OWNER_TAG = "modelarts.huaweicloud.com/owner-uid"
# The remote clock may lag the API server's: an untagged notebook counts as ours when
# created no earlier than this before the Kubernetes object.
CLOCK_SKEW_MS = 60_000
BUSY = frozenset({"INIT", "CREATING", "STARTING", "STOPPING", "DELETING", "SNAPSHOTTING"})
FAILED = frozenset({"CREATE_FAILED", "START_FAILED", "DELETE_FAILED", "ERROR"})
VOLUME_SETTLING = frozenset({"INITIALIZING", "RESIZING", "DELETING"})
MINUTE_MS = 60_000
DESCRIPTION_LENGTH = 512  # the API's limit (SDK NotebookCreateRequest.description)


class StopRequired(errors.StateConflict):
    """A change the API takes only while the notebook is stopped (Synced=False until then)."""


class ImageNotFound(errors.NotFound):
    """The image the spec names by name (and tag) is not in the images list."""


@dataclass
class NotebookRefs(Refs):
    """The workspace and the image ID (resolved from name and tag when the spec names it)."""

    image_id: str | None = None
    pool_id: str | None = None  # the ResourcePool ``poolRef`` names


NotebookContext = Context[NotebookSpec, NotebookRefs]


def _observation(remote: Notebook, stopped_wanted: bool) -> Observation:
    state = (remote.status or "INIT").upper()
    facts: dict[str, Any] = {"remoteStatus": state}
    volume_state = (remote.volume.status if remote.volume else None) or ""
    if state == "RUNNING" and volume_state.upper() in VOLUME_SETTLING:
        return Observation(
            "Resizing", False, reason="VolumeSettling",
            message=f"running; volume {volume_state}", facts=facts,
        )  # fmt: skip
    if state == "RUNNING":
        return Observation("Running", True, facts=facts, in_flight=False)
    if state == "STOPPED":
        if stopped_wanted:
            message, reason = "stopped (spec.stopped)", "Stopped"
        elif remote.lease is not None and remote.lease.ends_at is not None:
            ends = from_millis(remote.lease.ends_at)
            reason = "LeaseExpired"
            message = (
                f"its lease ended at {ends} and stopped it; the operator leaves it stopped: "
                "change the spec (e.g. spec.restartToken) to start it"
            )
        else:
            reason = "StoppedRemotely"
            message = (
                "stopped outside the operator, which leaves it stopped: change the spec "
                "(e.g. spec.restartToken) to start it"
            )
        return Observation(
            "Stopped", False, reason=reason, message=message, facts=facts, in_flight=False
        )
    if state in FAILED:
        return Observation.failure(remote.fail_reason or state, facts)
    if state == "FROZEN":
        return Observation(
            "Frozen", False, reason="Frozen", message="the account is frozen", facts=facts,
            in_flight=False,
        )  # fmt: skip
    return Observation(state.capitalize(), False, reason=state.capitalize(), facts=facts)


def _facts(remote: Notebook) -> dict[str, Any]:
    lease = remote.lease
    facts = {
        "url": remote.url,
        "sshUri": remote.ssh_uri,
        "imageId": remote.image.id if remote.image else None,
        "imageName": remote.image.name if remote.image else None,
        "imageTag": remote.image.tag if remote.image else None,
        "flavor": remote.flavor,
        "leaseType": lease.type if lease else None,
        "leaseEndsAt": from_millis(lease.ends_at) if lease else None,
        "volumeCapacity": remote.volume.capacity if remote.volume else None,
        "volumeStatus": remote.volume.status if remote.volume else None,
        "errorMessage": remote.fail_reason,
        "createTime": from_millis(remote.create_at),
        "updateTime": from_millis(remote.update_at),
    }
    return {k: v for k, v in facts.items() if v is not None}


def _image_matches(spec: NotebookSpec, remote: Notebook) -> bool:
    image, have = spec.image, remote.image
    if have is None:
        return False
    if image.id is not None:
        return have.id == image.id
    return have.name == image.name and (image.tag is None or have.tag == image.tag)


def _endpoints(spec: NotebookSpec) -> list[EndpointRequest] | None:
    if spec.ssh is None:
        return None
    return [
        EndpointRequest(
            service="SSH",
            key_pair_names=list(spec.ssh.key_pair_names),
            allowed_access_ips=spec.ssh.allowed_access_ips,
        )
    ]


def _ssh_matches(spec: NotebookSpec, remote: Notebook) -> bool:
    have = sorted(
        k
        for e in remote.endpoints
        if (e.service or e.dev_service) == "SSH"
        for k in e.key_pair_names or []
    )
    want = sorted(spec.ssh.key_pair_names) if spec.ssh is not None else []
    return have == want


def _custom_spec_matches(spec: NotebookSpec, remote: Notebook) -> bool:
    if spec.custom_spec is None:
        return True
    have = remote.custom_spec or {}
    want = to_wire(spec.custom_spec)
    return all(str(have.get(k)) == str(val) for k, val in want.items())


def _lease(spec: NotebookSpec) -> LeaseRequest | None:
    if spec.lease is None:
        return None
    return LeaseRequest(duration=spec.lease.duration_minutes * MINUTE_MS, type=spec.lease.type)


def create_request(
    spec: NotebookSpec,
    name: str,
    image_id: str,
    workspace_id: str,
    description: str,
    pool_id: str | None = None,
) -> NotebookCreateRequest:
    """The create body the spec describes: its sub-models as they are; the image resolved to
    its ID, the lease in the API's milliseconds, ssh as the API's SSH endpoint; the remote
    description (the spec's and the ownership marker)."""
    return NotebookCreateRequest(
        name=name,
        image_id=image_id,
        volume=VolumeMount.model_validate(to_wire(spec.volume)),
        flavor=spec.flavor,
        custom_spec=spec.custom_spec,
        pool_id=pool_id or spec.pool_id,
        description=description,
        workspace_id=workspace_id,
        lease=_lease(spec),
        endpoints=_endpoints(spec),
        feature=spec.feature,
        hooks=spec.hooks,
        affinity=spec.affinity,
        run_user=spec.run_user,
        data_volumes=spec.data_volumes,
        user_vpc=spec.user_vpc,
        public_network_config=spec.public_network_config,
    )


class NotebookAdapter(RemoteAdapter[NotebookSpec, NotebookRefs]):
    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = NotebookSpec
    status_model = NotebookStatus
    refs_type = NotebookRefs
    id_field = "notebookId"
    name_field = "name"
    resyncs = True

    async def resolve(self, ctx: NotebookContext) -> NotebookRefs:
        refs = NotebookRefs(workspace_id(ctx))
        if (ref := ctx.spec.pool_ref) is not None:
            pool = ready_dependency(ctx, "resourcepools", "ResourcePool", ref.name)
            refs.pool_id = str(pool["poolId"])
        return refs

    async def resolve_for_lookup(self, ctx: NotebookContext) -> NotebookRefs:
        return NotebookRefs(recorded_workspace_id(ctx))

    async def _image_id(self, ctx: NotebookContext) -> str:
        """The spec's image as an ID, asking the images API for one named by name and tag."""
        refs, image = ctx.refs, ctx.spec.image
        if image.id is not None:
            return str(image.id)
        if image.name is None:  # the CRD's rule: exactly one of image.id and image.name
            raise InvalidSpec("spec.image: give exactly one of image.id and image.name")
        if refs.image_id is None:
            found = await ctx.client.notebooks.find_image(image.name, image.tag)
            if found is None or not found.id:
                named = f"{image.name}:{image.tag}" if image.tag else image.name
                raise ImageNotFound(
                    error_code="ImageNotFound",
                    error_msg=f"spec.image: no image {named!r} in the images list",
                )
            refs.image_id = str(found.id)
        return refs.image_id

    # -- lookup: by name and tag, by name and marker, then what may be adopted ----------------

    async def find(self, ctx: NotebookContext) -> tuple[str, Any] | None:
        """This object's notebook: tagged with its UID; else an untagged one carrying its
        marker and created since the object was (a create whose tagging was interrupted).
        Asked to adopt or observe, the one untagged notebook of that name (refused by the
        reconcile unless the Namespace allows the adoption). A read: nothing is tagged here."""
        notebooks, ws = ctx.client.notebooks, ctx.refs.workspace_id
        marked = await notebooks.find_marked(ctx.remote_name, {OWNER_TAG: ctx.uid}, workspace_id=ws)
        if marked:
            ours = min(marked, key=lambda nb: nb.create_at or 0)
            return str(ours.id), ours
        named = await notebooks.find_named(ctx.remote_name, workspace_id=ws)
        untagged = [nb for nb in named if _owner_tag(nb) is None]
        interrupted = [nb for nb in untagged if marker_of(nb) == ctx.marker]
        if interrupted:
            since = await self._created_ms(ctx) - CLOCK_SKEW_MS
            interrupted = [nb for nb in interrupted if (nb.create_at or 0) >= since]
        if interrupted:
            ours = min(interrupted, key=lambda nb: nb.create_at or 0)
            return str(ours.id), ours
        if not (ctx.policies.adoption_requested or ctx.policies.observe_only):
            return None  # names repeat: a stranger's notebook of this name takes nothing
        if len(untagged) > 1:
            raise errors.StateConflict(
                error_code="AmbiguousNotebook",
                error_msg=(
                    f"{len(untagged)} untagged notebooks are named {ctx.remote_name!r}; "
                    "name the one to adopt with the external-id annotation or delete the others"
                ),
            )
        return (str(untagged[0].id), untagged[0]) if untagged else None

    def marker(self, ctx: NotebookContext, remote: Any) -> str | None:
        """Notebook names repeat remotely, so ownership is the owner tag: a notebook tagged
        with this object's UID carries this object's marker, one tagged with another UID that
        object's (``uid_marker``). An untagged one is judged by its description's marker (set
        by the create, before the tag)."""
        tag = _owner_tag(remote)
        if tag == ctx.uid:
            return ctx.marker
        if tag is not None:
            return uid_marker(tag)
        return super().marker(ctx, remote)

    async def _created_ms(self, ctx: NotebookContext) -> int:
        """When this Kubernetes object was created (epoch ms): no notebook before that is
        ours."""
        assert ctx.kube is not None
        body = await ctx.kube.get(self.kind.path(ctx.namespace, ctx.name))
        stamp = body.get("metadata", {}).get("creationTimestamp", "")
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)

    async def get(self, ctx: NotebookContext, remote_id: str) -> Notebook:
        return await ctx.client.notebooks.get(remote_id)

    async def create(self, ctx: NotebookContext) -> Created:
        spec = ctx.spec
        request = create_request(
            spec,
            ctx.remote_name,
            await self._image_id(ctx),
            ctx.refs.workspace_id,
            marked_description(spec.description, ctx.marker, DESCRIPTION_LENGTH),
            ctx.refs.pool_id,
        )
        created = await ctx.client.notebooks.create(request)
        await ctx.client.notebooks.add_tags(str(created.id), _tags(ctx))
        stop_later = Requeue(requeue.BUSY, "spec.stopped") if spec.stopped else None
        return Created(str(created.id), self.observe(ctx, created), requeue=stop_later)

    # -- updates ------------------------------------------------------------------------------

    async def update(self, ctx: NotebookContext, remote_id: str, remote: Any) -> Updated:
        spec, notebooks = ctx.spec, ctx.client.notebooks
        updated = Updated(remote)
        # The owner tag (an adopted notebook: the binding was allowed), the spec's and the
        # operator-wide tags; the notebook's answer shows them, so drift is corrected too.
        have = {str(t.key): str(t.value or "") for t in remote.tags or [] if t.key}
        add, remove = tag_changes(have, [{"key": k, "value": v} for k, v in _tags(ctx).items()])
        if add:
            await notebooks.add_tags(remote_id, add)
        if remove:
            await notebooks.remove_tags(remote_id, remove)
        if (add or remove) and _owner_tag(remote) is not None:
            updated.change("tags")
        state = (remote.status or "").upper()
        if state in FAILED or state in ("DELETING", "FROZEN"):
            return updated
        stopped_only = await self._stopped_only_changes(ctx, remote)
        start_wanted = not spec.stopped and state == "STOPPED" and not ctx.applied
        if state == "STOPPING" and (stopped_only or start_wanted):
            raise RetryLater(Requeue(requeue.BUSY, "waiting for the notebook to stop"))
        if stopped_only and state != "STOPPED":
            if spec.stopped and state in BUSY:
                updated.again(requeue.BUSY, "changes applied once it is stopped")
            elif not spec.stopped:
                names = ", ".join(sorted(stopped_only))
                raise StopRequired(
                    error_code="StopRequired",
                    error_msg=(
                        f"spec {names}: ModelArts changes these only while the notebook is "
                        "stopped; set spec.stopped: true to apply them (then false to start it)"
                    ),
                )
        changes = self._any_time_changes(ctx, remote)
        if state == "STOPPED":
            changes.update(stopped_only)
        changed = False
        if changes and state not in BUSY:
            await notebooks.update(remote_id, NotebookUpdateRequest.model_validate(changes))
            updated.change(*changes)
            changed = True
        elif changes:
            updated.again(requeue.BUSY, "the notebook is busy")
        if spec.stopped and state == "RUNNING":
            await notebooks.stop(remote_id)
            updated.event("Normal", "Stopped", "notebook stopped (spec.stopped)")
            if stopped_only:  # applied once it is STOPPED
                updated.again(requeue.BUSY, "changes applied once it is stopped")
            changed = True
        elif spec.stopped and state in BUSY:
            updated.again(requeue.BUSY, "spec.stopped: stopped once it is running")
        elif start_wanted:
            lease = _lease(spec)
            await notebooks.start(
                remote_id,
                duration_ms=lease.duration if lease else None,
                lease_type=lease.type if lease else None,
            )
            updated.event("Normal", "Started", "notebook started")
            changed = True
        elif state == "RUNNING" and self._lease_changed(spec, remote):
            lease = _lease(spec)
            assert lease is not None
            assert lease.duration is not None
            await notebooks.renew_lease(
                remote_id, duration_ms=lease.duration, lease_type=lease.type
            )
            updated.change("lease")
            changed = True
        if changed:
            updated.remote = await notebooks.get(remote_id)
        return updated

    async def _stopped_only_changes(self, ctx: NotebookContext, remote: Notebook) -> dict[str, Any]:
        spec = ctx.spec
        changes: dict[str, Any] = {}
        if not _image_matches(spec, remote):
            changes["image_id"] = await self._image_id(ctx)
        if spec.flavor is not None and remote.flavor != spec.flavor:
            changes["flavor"] = spec.flavor
        if not _custom_spec_matches(spec, remote):
            changes["custom_spec"] = to_wire(spec.custom_spec)
        if not _ssh_matches(spec, remote):
            endpoints = _endpoints(spec) or []
            changes["endpoints"] = [e.to_wire() for e in endpoints]
        return changes

    def _any_time_changes(self, ctx: NotebookContext, remote: Notebook) -> dict[str, Any]:
        spec = ctx.spec
        changes: dict[str, Any] = {}
        if remote.name != ctx.remote_name:
            changes["name"] = ctx.remote_name
        if spec.description is not None:
            description = marked_description(spec.description, ctx.marker, DESCRIPTION_LENGTH)
            if description != (remote.description or ""):
                changes["description"] = description
        have = remote.volume.capacity if remote.volume else None
        want = spec.volume.capacity
        if spec.volume.category == "EVS" and want is not None and have is not None and want > have:
            changes["storage_new_size"] = want
        return changes

    @staticmethod
    def _lease_changed(spec: NotebookSpec, remote: Notebook) -> bool:
        lease = _lease(spec)
        if lease is None or remote.lease is None:
            return False
        return remote.lease.duration != lease.duration or (remote.lease.type or "") != lease.type

    # -- status, delete, polling ----------------------------------------------------------------

    def observe(self, ctx: NotebookContext, remote: Any) -> Observation:
        obs = _observation(remote, ctx.spec.stopped)
        obs.facts.update(_facts(remote))
        return obs

    async def delete(self, ctx: NotebookContext, remote_id: str) -> bool:
        notebooks = ctx.client.notebooks
        try:
            nb = await notebooks.get(remote_id)
        except errors.NotFound:  # ModelArts.6309 / 6404
            return True
        if (nb.status or "").upper() != "DELETING":
            await notebooks.delete(remote_id)  # 6357 (already deleting) counts as under way
        return await confirmed_gone(notebooks.get(remote_id))

    def resume_work(self, entry: Entry, phase: str, facts: Mapping[str, Any]) -> str | None:
        """A stop ``spec.stopped`` asks for and the notebook has not had yet (asked at
        create time, it waits for the notebook to run). One stopped outside the operator stays
        stopped until the spec changes, so that asks nothing."""
        if entry.spec.get("stopped") and phase not in ("Stopped", "Failed", "Frozen"):
            return "spec.stopped: to be stopped"
        return None

    def list_remote(self, client: ModelArtsClient, scope: str) -> AsyncIterator[tuple[str, Any]]:
        return keyed(client.notebooks.iter_all(workspace_id=scope), "id")

    def observe_summary(self, entry: Entry, summary: Any) -> Observation:
        obs = _observation(summary, bool(entry.spec.get("stopped")))
        obs.facts.update(_facts(summary))
        return obs


DECLARATION = KindDeclaration(
    crd=crd.CRD,
    forms=(Form("notebook", NotebookAdapter()),),
    references=(
        Reference("workspaceRef", "workspaces", ("workspaceId",)),
        Reference("poolRef", "resourcepools", ("poolId",)),
    ),
    health=HealthRules(suspended_when="stopped", suspended_phase="Stopped"),
)


def _tags(ctx: NotebookContext) -> dict[str, str]:
    """The notebook's tags: the operator-wide defaults, the spec's, and the owner tag."""
    tags = {t["key"]: t["value"] for t in desired_tags(ctx.spec.tags, ctx.default_tags)}
    tags[OWNER_TAG] = ctx.uid
    return tags


def _owner_tag(remote: Any) -> str | None:
    """The UID the notebook's owner tag names, if it has one."""
    for tag in getattr(remote, "tags", None) or []:
        if tag.key == OWNER_TAG:
            return str(tag.value)
    return None
