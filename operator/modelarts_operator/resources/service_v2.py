"""The v2 form of the Service kind (``spec.v2``, ``/v2/{project_id}/services``).

The Service adapter hands a v2 Service to these functions. What differs from v1:

* the configuration is versioned: a new ``spec.v2.version`` (admission refuses a changed
  configuration with the same one) is a rolling upgrade (PUT with the new version); a version
  the service has run before is switched back to (``versions/switch``). The version running
  and the one before the last change are in status (``version``, ``previousVersion``);
* status is upper case; CONCERNING is Ready=False reason Degraded, FAILED and ERROR are Failed;
* delete is the batch call ``POST /services/delete``, confirmed by a 404;
* a models mount may name a Model (``modelRef``): its source location is mounted.
"""

from __future__ import annotations

from typing import Any

from ..api.client import ModelArtsClient
from ..api.services_v2 import (
    ServiceV2,
    ServiceV2CreateRequest,
    ServiceV2UpdateRequest,
)
from ..crd.service_v2 import ServiceV2Form
from ..reconcile.adapter import Context, Observation, confirmed_gone
from ..reconcile.naming import owner_tag
from ..reconcile.references import from_millis, ready_dependency, to_wire, workspace_id_of
from ..reconcile.registry import Entry, Registry

BUSY = frozenset({"INIT", "DEPLOYING", "UPGRADING", "STOPPING", "DELETING"})
STARTED = frozenset({"RUNNING", "CONCERNING", "DEPLOYING", "UPGRADING"})


def is_v2(spec: Any) -> bool:
    """True for a Service in the v2 form (a spec model or a raw spec dict)."""
    return bool(spec.get("v2") if isinstance(spec, dict) else getattr(spec, "v2", None))


def _obs_address(location: str) -> str:
    """A Model's source location (``/bucket/dir/``) as a mount address (``obs://...``)."""
    return f"obs:/{location}" if location.startswith("/") else location


def wire_config(ctx: Context) -> dict[str, Any]:
    """spec.v2 as the API's body: model mounts by reference resolved to their Model's source
    location (raises Waiting until the Model is ready), the rolling-update limits nested."""
    form: ServiceV2Form = ctx.spec.v2
    wire = to_wire(form)
    for g, group in enumerate(form.group_configs):
        for u, unit in enumerate(group.unit_configs):
            mounts = wire["group_configs"][g]["unit_configs"][u].get("models") or []
            for mount, spec_mount in zip(mounts, unit.models or [], strict=True):
                ref = mount.pop("model_ref", None)
                if ref is not None and spec_mount.model_ref is not None:
                    status = ready_dependency(ctx, "models", "Model", spec_mount.model_ref.name)
                    location = (status.get("source") or {}).get("location") or ""
                    mount["address"] = _obs_address(str(location))
    upgrade = wire.get("upgrade_config")
    if upgrade is not None:
        rolling = {k: upgrade.pop(k) for k in ("max_surge", "max_unavailable") if k in upgrade}
        if rolling:
            upgrade["rolling_update"] = rolling
    return wire


def create_request(ctx: Context, wire: dict[str, Any]) -> ServiceV2CreateRequest:
    body = dict(wire)
    body.update(name=ctx.remote_name, workspace_id=ctx.refs.workspace_id)
    if ctx.spec.description is not None:
        body["description"] = ctx.spec.description
    if ctx.marker:  # ownership is a tag here (the description stays the user's)
        body["tags"] = [owner_tag(ctx.marker)]
    return ServiceV2CreateRequest.model_validate(body)


async def find(ctx: Context) -> tuple[str, Any] | None:
    item = await ctx.client.services_v2.find_by_name(
        ctx.remote_name, workspace_id=ctx.refs.workspace_id
    )
    return (str(item.id), item) if item is not None else None


async def update(ctx: Context, remote_id: str, remote: ServiceV2, wire: dict[str, Any]) -> Any:
    """Start/stop as spec.stopped says; roll out (or switch back to) spec.v2.version."""
    services = ctx.client.services_v2
    state = (remote.status or "").upper()
    want = ctx.spec.v2.version
    have = remote.version.version if remote.version else None
    changed = False
    if want != have:
        if state in BUSY:
            ctx.effects.requeue_after = 5.0  # 409 ModelArts.3519 while it is busy
        else:
            await _change_version(ctx, remote_id, remote, wire)
            changed = True
    if not changed and ctx.spec.stopped and state in STARTED - BUSY:
        await services.stop(remote_id)
        ctx.effects.event("Normal", "Stopped", "service stopped")
        changed = True
    elif not changed and not ctx.spec.stopped and state == "STOPPED":
        await services.start(remote_id)
        ctx.effects.event("Normal", "Started", "service started")
        changed = True
    elif ctx.spec.stopped and state in BUSY:
        ctx.effects.requeue_after = 5.0  # stop once it is settled
    return await services.get(remote_id) if changed else remote


async def _change_version(
    ctx: Context, remote_id: str, remote: ServiceV2, wire: dict[str, Any]
) -> None:
    services = ctx.client.services_v2
    want = ctx.spec.v2.version
    current = remote.version
    recorded = await services.versions(remote_id, limit=50)
    earlier = next((v for v in recorded.data if v.version == want), None)
    if earlier is not None and earlier.id:
        await services.switch_version(remote_id, str(earlier.id))
        ctx.effects.event("Normal", "Switched", f"switched back to version {want}")
    else:
        body = {
            k: wire[k]
            for k in ("version", "group_configs", "runtime_config", "upgrade_config", "log_configs")
            if wire.get(k) is not None
        }
        if ctx.spec.description is not None:
            body["description"] = ctx.spec.description
        await services.update(remote_id, ServiceV2UpdateRequest.model_validate(body))
        ctx.updated(["version"])
    if current is not None:
        ctx.status["previousVersion"] = current.version
        ctx.status["previousVersionId"] = current.id


def observation(state: str, stopped_wanted: bool, failure: str | None) -> Observation:
    state = (state or "DEPLOYING").upper()
    facts: dict[str, Any] = {"remoteStatus": state}
    if state == "RUNNING":
        return Observation("Running", True, facts=facts, in_flight=False)
    if state == "CONCERNING":
        return Observation(
            "Concerning", False, reason="Degraded",
            message=failure or "some instances are abnormal", facts=facts,
        )  # fmt: skip
    if state in ("FAILED", "ERROR"):
        return Observation.failure(failure or f"deployment {state.lower()}", facts)
    if state == "STOPPED":
        message = "stopped (spec.stopped)" if stopped_wanted else "stopped"
        return Observation(
            "Stopped", False, reason="Stopped", message=message, facts=facts,
            in_flight=not stopped_wanted,
        )  # fmt: skip
    phase = state.capitalize()
    return Observation(phase, False, reason=phase, message=phase.lower(), facts=facts)


def observe(ctx: Context, remote: ServiceV2) -> Observation:
    obs = observation(remote.status or "", ctx.spec.stopped, remote.failure_reason)
    version = remote.version
    facts = {
        "accessAddress": remote.url,
        "version": version.version if version else None,
        "versionId": version.id if version else None,
        "errorMessage": remote.failure_reason,
        "createTime": from_millis(remote.create_at),
        "updateTime": from_millis(remote.update_at),
    }
    obs.facts.update({k: v for k, v in facts.items() if v is not None})
    return obs


def observe_summary(entry: Entry, summary: Any) -> Observation:
    obs = observation(summary.status or "", bool(entry.spec.get("stopped")), None)
    if summary.version:
        obs.facts["version"] = summary.version
    return obs


async def delete(ctx: Context, remote_id: str) -> bool:
    await ctx.client.services_v2.delete(remote_id)
    return await confirmed_gone(ctx.client.services_v2.get(remote_id))


async def poll(client: ModelArtsClient, entries: list[Entry], registry: Registry) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ws in {workspace_id_of(e, registry) for e in entries}:
        async for item in client.services_v2.iter_all(workspace_id=ws):
            found[str(item.id)] = item
    return found
