"""Dedicated resource pools (``/v2/{project_id}/pools``) and the networks they are in
(``/v1/{project_id}/networks``), Kubernetes-shaped as the API is: ``apiVersion``, ``kind``,
``metadata`` (the ID is ``metadata.name``, ``<name>-<project id>`` as in the reference's
examples; the user's name is the ``os.modelarts/name`` label), ``spec`` and ``status``.

Sources: the official SDK's models (CreatePoolRequestBody, PoolUpdateRequest, PoolResponse,
NetworkCreationRequest, NetworkUpdateRequest, NetworkResponse) and the API reference
(opentelekomcloud-docs/modelarts api-ref resource_management: creating_resource_pools,
updating_a_resource_pool, deleting_a_resource_pool, obtaining_a_resource_pool,
obtaining_resource_pools and the network pages), whose examples give the codes: 400
``ModelArts.50004000`` (bad request), 404 ``ModelArts.50015001`` (pool not found) and
``ModelArts.50025001`` (network), 409 ``ModelArts.50015000`` (pool exists).

Life, on the clock:

* a pool is Creating (its nodes ``creating``, its job types ``Enabling``), then Running (nodes
  ``available``, job types ``Enabled``); a PATCH of a flavor's count scales it (the difference
  ``creating`` or ``deleting`` for a while); a DELETE makes it Deleting, then gone;
* a network is Creating, then Active; its peering connections are Connecting, then Active;
  a DELETE answers the network and it goes after a while.

``status.resources`` lists flavor counts per state, as the reference's examples answer (the
SDK's model types each state as one object; the SDK parses the list without a warning and
keeps nothing of it). Choices where the sources are silent: a taken network name is 409
``ModelArts.50025000`` (the pool family's 50015000, for networks); the network a pool names
must exist; a physical pool's ``maxCount`` must equal ``count`` (SDK PoolResourceFlavor.maxCount:
"物理池中该值和count必须一致").
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .state import GONE, Rec, cut_timeline, status_at
from .validation import V

BAD = "ModelArts.50004000"
v = V(BAD, BAD)
POOL_NOT_FOUND = "ModelArts.50015001"
NETWORK_NOT_FOUND = "ModelArts.50025001"
# Terraform huaweicloud_modelarts_resource_pool: 4-32 lowercase letters, digits and hyphens,
# a letter first, no hyphen last; SDK NetworkMetadataLabels: the same for networks.
NAME = re.compile(r"^[a-z]([a-z0-9-]{2,30}[a-z0-9])$")
NAME_LABEL = "os.modelarts/name"
WORKSPACE_LABEL = "os.modelarts/workspace.id"
DESCRIPTION = "os.modelarts/description"
NO_SPECIAL = set("!<>=&\"'")  # SDK: descriptions may not contain these
SCOPES = {"Train", "Infer", "Notebook"}
POOL_TYPES = {"Dedicate", "Logical"}
CREATING, RUNNING, ABNORMAL, DELETING, ERROR = (
    "Creating",
    "Running",
    "Abnormal",
    "Deleting",
    "Error",
)
FORCIBLE = {RUNNING, ABNORMAL, ERROR}
ACTIVE = "Active"


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(body: dict[str, Any], api_version: str, kind: str) -> None:
    if body.get("apiVersion") != api_version or body.get("kind") != kind:
        raise v.bad(f"apiVersion must be {api_version} and kind {kind}")


def _labels(body: dict[str, Any]) -> dict[str, Any]:
    meta = v.obj(body, "metadata", required=True)
    labels = v.obj(meta, "labels", required=True)
    v.string(labels, NAME_LABEL, required=True, pattern=NAME, prefix="metadata.labels.")
    return dict(labels)


def _description(meta: dict[str, Any] | None) -> str | None:
    annotations = v.obj(meta or {}, "annotations") or {}
    text = v.string(annotations, DESCRIPTION, prefix="metadata.annotations.")
    if text is not None and NO_SPECIAL & set(text):
        raise v.bad(f"metadata.annotations.{DESCRIPTION} may not contain any of !<>=&\"'")
    return text


def _selected(labels: dict[str, Any], selector: str | None) -> bool:
    """``key=value[,key=value]`` label selectors (equality only)."""
    for term in filter(None, (selector or "").split(",")):
        key, _, value = term.partition("=")
        if str(labels.get(key.strip(), "")) != value.strip():
            return False
    return True


# ---------------------------------------------------------------- networks
def network_phase(rec: Rec, now: int) -> str:
    return str(status_at(rec["timeline"], now))


def _network_view(core: Core, rec: Rec) -> dict[str, Any]:
    now = core.now_ms()
    phase = network_phase(rec, now)
    peers = rec["peers"]
    meta: dict[str, Any] = {
        "name": rec["id"],
        "creationTimestamp": _stamp(rec["create_time"]),
        "labels": rec["labels"],
        "annotations": {DESCRIPTION: rec["description"]} if rec["description"] else {},
    }
    connecting = now < rec["peers_until"]
    return {
        "apiVersion": "v1",
        "kind": "Network",
        "metadata": meta,
        "spec": {"cidr": rec["cidr"], "connection": {"peerConnectionList": peers} if peers else {}},
        "status": {
            "phase": phase if phase != GONE else ACTIVE,
            "connectionStatus": (
                {
                    "peerConnectionStatus": [
                        {**p, "phase": "Connecting" if connecting else ACTIVE} for p in peers
                    ]
                }
                if peers
                else {}
            ),
        },
    }


def _peers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    connection = v.obj(spec, "connection") or {}
    peers = v.array(connection, "peerConnectionList") or []
    for i, peer in enumerate(peers):
        p = f"spec.connection.peerConnectionList[{i}]."
        if not isinstance(peer, dict):
            raise v.bad(f"{p[:-1]} must be an object")
        v.string(peer, "peerVpcId", required=True, prefix=p)
        v.string(peer, "peerSubnetId", required=True, prefix=p)
    return [dict(p) for p in peers]


def live_network(core: Core, network_id: str) -> Rec | None:
    rec = core.state.networks.get(network_id)
    if rec is None:
        return None
    if network_phase(rec, core.now_ms()) == GONE:
        core.state.networks.remove(network_id)
        core.changed()
        return None
    return rec


def _network(core: Core, request: web.Request) -> Rec:
    network_id = request.match_info["network_name"]
    rec = live_network(core, network_id)
    if rec is None:
        raise ApiError(404, NETWORK_NOT_FOUND, "Network not exist.")
    return rec


async def create_network(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    _envelope(body, "v1", "Network")
    labels = _labels(body)
    spec = v.obj(body, "spec", required=True)
    cidr = v.string(spec, "cidr", required=True, prefix="spec.")
    try:
        ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        raise v.bad(f"spec.cidr is not a CIDR block: {cidr!r}") from None
    peers = _peers(spec)
    workspace = str(labels.get(WORKSPACE_LABEL) or "0")
    core.usable_workspace(workspace)
    network_id = f"{labels[NAME_LABEL]}-{core.project_id}"
    if live_network(core, network_id) is not None:
        raise ApiError(409, "ModelArts.50025000", f"Network {labels[NAME_LABEL]} already exists.")
    now = core.now_ms()
    ready = now + core.phase(core.config.timings.network_creating)
    rec: Rec = {
        "id": network_id,
        "name": labels[NAME_LABEL],
        "labels": {**labels, WORKSPACE_LABEL: workspace},
        "description": "",
        "cidr": cidr,
        "peers": peers,
        "peers_until": ready,
        "create_time": now,
        "deleted_at": None,
        "timeline": [[now, CREATING], [ready, ACTIVE]],
    }
    core.state.networks.add(network_id, rec)
    core.changed()
    return reply(_network_view(core, rec))


async def show_network(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(_network_view(core, _network(core, request)))


async def patch_network(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _network(core, request)
    body = await json_body(request)
    description = _description(v.obj(body, "metadata"))
    spec = v.obj(body, "spec") or {}
    if description is not None:
        rec["description"] = description
    if isinstance(spec.get("connection"), dict):
        rec["peers"] = _peers(spec)
        rec["peers_until"] = core.now_ms() + core.phase(core.config.timings.network_creating)
    core.changed()
    return reply(_network_view(core, rec))


async def delete_network(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _network(core, request)
    now = core.now_ms()
    if rec["deleted_at"] is None:
        rec["deleted_at"] = now
        gone = now + core.phase(core.config.timings.network_deleting)
        rec["timeline"] = [*cut_timeline(rec["timeline"], now), [gone, GONE]]
        core.changed()
    return reply(_network_view(core, rec))


async def list_networks(request: web.Request) -> web.Response:
    """``limit`` and ``continue`` (the ID to carry on after) page the answer."""
    core = core_of(request)
    q = request.query
    try:
        limit = max(1, min(int(q.get("limit") or 500), 500))
    except ValueError:
        raise v.bad("limit must be an integer") from None
    after = q.get("continue") or ""
    networks = [
        rec
        for key in sorted(core.state.networks.items)
        if key > after
        and (rec := live_network(core, key)) is not None
        and _selected(rec["labels"], q.get("labelSelector"))
    ]
    page = networks[:limit]
    more = len(networks) > limit
    return reply(
        {
            "apiVersion": "v1",
            "kind": "NetworkList",
            "metadata": {"continue": page[-1]["id"]} if more else {},
            "items": [_network_view(core, r) for r in page],
        }
    )


# ---------------------------------------------------------------- pools
def pool_phase(rec: Rec, now: int) -> str:
    return str(status_at(rec["timeline"], now))


def _counts(resources: list[dict[str, Any]]) -> dict[str, int]:
    return {r["flavor"]: int(r.get("count") or 0) for r in resources}


def _flavor_counts(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"flavor": f, "count": n} for f, n in counts.items() if n > 0]


def _pool_resources(rec: Rec, phase: str, now: int) -> dict[str, Any]:
    """Nodes per flavor by state: all ``creating`` while the pool is created; while a scale
    runs the difference is ``creating`` (up) or ``deleting`` (down); else ``available``."""
    want = _counts(rec["resources"])
    if phase in (CREATING, GONE):
        return {"creating": _flavor_counts(want)} if phase == CREATING else {}
    if phase == DELETING:
        return {"deleting": _flavor_counts(want)}
    if phase in (ABNORMAL, ERROR):
        return {"abnormal": _flavor_counts(want)}
    had = rec["scaled_from"] if now < rec["scaling_until"] else want
    flavors = list(dict.fromkeys([*had, *want]))
    available = {f: min(had.get(f, 0), want.get(f, 0)) for f in flavors}
    out: dict[str, Any] = {"available": _flavor_counts(available)}
    up = {f: want.get(f, 0) - had.get(f, 0) for f in flavors}
    if any(n > 0 for n in up.values()):
        out["creating"] = _flavor_counts(up)
    down = {f: -n for f, n in up.items()}
    if any(n > 0 for n in down.values()):
        out["deleting"] = _flavor_counts(down)
    return out


def _pool_view(core: Core, rec: Rec) -> dict[str, Any]:
    now = core.now_ms()
    phase = pool_phase(rec, now)
    annotations = {k: val for k, val in rec["annotations"].items() if val is not None}
    spec: dict[str, Any] = {
        "type": rec["type"],
        "scope": rec["scope"],
        "resources": [{**r, "maxCount": r.get("maxCount", r["count"])} for r in rec["resources"]],
    }
    for key in ("network", "jobFlavors", "driver"):
        if rec.get(key):
            spec[key] = rec[key]
    status: dict[str, Any] = {
        "phase": phase if phase != GONE else DELETING,
        "root": rec["id"],
        "resources": _pool_resources(rec, phase, now),
        "scope": [
            {"scopeType": s, "state": "Enabled" if phase == RUNNING else "Enabling"}
            for s in rec["scope"]
        ],
    }
    if rec.get("message") and phase in (ABNORMAL, ERROR):
        status["message"] = rec["message"]
    meta: dict[str, Any] = {
        "name": rec["id"],
        "creationTimestamp": _stamp(rec["create_time"]),
        "labels": rec["labels"],
        "annotations": annotations,
    }
    return {"apiVersion": "v2", "kind": "Pool", "metadata": meta, "spec": spec, "status": status}


def _resources(spec: dict[str, Any], pool_type: str, *, required: bool) -> list[dict[str, Any]]:
    items = v.array(spec, "resources", required=required) or []
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        p = f"spec.resources[{i}]."
        if not isinstance(item, dict):
            raise v.bad(f"{p[:-1]} must be an object")
        flavor = v.string(item, "flavor", required=True, prefix=p)
        count = v.integer(item, "count", required=True, lo=0, prefix=p)
        most = v.integer(item, "maxCount", lo=0, prefix=p)
        if pool_type == "Dedicate" and most is not None and most != count:
            raise v.bad(f"{p}maxCount must equal count in a physical (Dedicate) pool")
        if flavor in seen:
            raise v.bad(f"{p}flavor {flavor} is listed twice")
        seen.add(str(flavor))
        out.append(dict(item))
    return out


def _scopes(spec: dict[str, Any], *, required: bool) -> list[str] | None:
    scopes = v.array(spec, "scope", required=required)
    if scopes is None:
        return None
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise v.bad(f"spec.scope: {unknown} are not among {sorted(SCOPES)}")
    return list(scopes)


def live_pool(core: Core, pool_id: str) -> Rec | None:
    rec = core.state.pools.get(pool_id)
    if rec is None:
        return None
    if pool_phase(rec, core.now_ms()) == GONE:
        core.state.pools.remove(pool_id)
        core.changed()
        return None
    return rec


def _pool(core: Core, request: web.Request) -> Rec:
    rec = live_pool(core, request.match_info["pool_name"])
    if rec is None:
        raise ApiError(404, POOL_NOT_FOUND, "pool not found")
    return rec


async def create_pool(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    _envelope(body, "v2", "Pool")
    labels = _labels(body)
    meta = body["metadata"]
    description = _description(meta)
    annotations = dict(v.obj(meta, "annotations") or {})
    spec = v.obj(body, "spec", required=True)
    pool_type = v.enum(spec, "type", POOL_TYPES, required=True, prefix="spec.")
    scope = _scopes(spec, required=True)
    resources = _resources(spec, str(pool_type), required=True)
    network = v.obj(spec, "network")
    if network is not None:
        name = v.string(network, "name", required=True, prefix="spec.network.")
        if live_network(core, str(name)) is None:
            raise v.bad(f"spec.network.name: network {name} does not exist")
    workspace = str(labels.get(WORKSPACE_LABEL) or "0")
    core.usable_workspace(workspace)
    pool_id = f"{labels[NAME_LABEL]}-{core.project_id}"
    if live_pool(core, pool_id) is not None:
        raise ApiError(409, "ModelArts.50015000", "Pool already exists.")
    now = core.now_ms()
    ready = now + core.phase(core.config.timings.pool_creating)
    forced = core.take_pending_force("pool", str(labels[NAME_LABEL]))
    end = str(forced.get("status") or ERROR) if forced is not None else RUNNING
    rec: Rec = {
        "id": pool_id,
        "name": labels[NAME_LABEL],
        "labels": {**labels, WORKSPACE_LABEL: workspace, "os.modelarts/node.prefix":
                   labels.get("os.modelarts/node.prefix", "")},
        "annotations": {**annotations, DESCRIPTION: description or "",
                        "os.modelarts/billing.mode": annotations.get("os.modelarts/billing.mode",
                                                                     "0")},
        "type": pool_type,
        "scope": scope,
        "resources": resources,
        "network": network,
        "jobFlavors": spec.get("jobFlavors"),
        "driver": spec.get("driver"),
        "scaled_from": {},
        "scaling_until": 0,
        "create_time": now,
        "deleted_at": None,
        "message": (forced or {}).get("error_msg") or "",
        "timeline": [[now, CREATING], [ready, end]],
    }  # fmt: skip
    core.state.pools.add(pool_id, rec)
    core.changed()
    return reply(_pool_view(core, rec))


async def show_pool(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(_pool_view(core, _pool(core, request)))


async def patch_pool(request: web.Request) -> web.Response:
    """Description and order, job types, flavor counts (a scale), job flavors, drivers."""
    core = core_of(request)
    rec = _pool(core, request)
    now = core.now_ms()
    if pool_phase(rec, now) == DELETING:
        raise v.bad(f"pool {rec['id']} is being deleted")
    body = await json_body(request)
    meta = v.obj(body, "metadata")
    description = _description(meta)
    spec = v.obj(body, "spec") or {}
    scope = _scopes(spec, required=False)
    resources = _resources(spec, rec["type"], required=False) if "resources" in spec else None
    if description is not None:
        rec["annotations"][DESCRIPTION] = description
    order = ((meta or {}).get("annotations") or {}).get("os.modelarts/order.id")
    if order is not None:
        rec["annotations"]["os.modelarts/order.id"] = order
    if scope is not None:
        rec["scope"] = scope
    if resources is not None and _counts(resources) != _counts(rec["resources"]):
        if pool_phase(rec, now) != CREATING:
            current = rec["scaled_from"] if now < rec["scaling_until"] else {}
            rec["scaled_from"] = current or _counts(rec["resources"])
            rec["scaling_until"] = now + core.phase(core.config.timings.pool_scaling)
        rec["resources"] = resources
    for key in ("jobFlavors", "driver"):
        if spec.get(key) is not None:
            rec[key] = spec[key]
    core.changed()
    return reply(_pool_view(core, rec))


async def delete_pool(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _pool(core, request)
    now = core.now_ms()
    if rec["deleted_at"] is None:
        rec["deleted_at"] = now
        gone = now + core.phase(core.config.timings.pool_deleting)
        rec["timeline"] = [*cut_timeline(rec["timeline"], now), [now, DELETING], [gone, GONE]]
        core.changed()
    return reply(_pool_view(core, rec))


async def list_pools(request: web.Request) -> web.Response:
    """Every pool of the workspace in one answer (the API does not page pools); ``status``:
    created, creating or failed."""
    core = core_of(request)
    q = request.query
    workspace = q.get("workspaceId")
    wanted = q.get("status")
    if wanted and wanted not in ("created", "creating", "failed"):
        raise v.bad(f"status must be created, creating or failed: {wanted!r}")
    now = core.now_ms()
    items = []
    for key in list(core.state.pools.items):
        rec = live_pool(core, key)
        if rec is None or (workspace and rec["labels"][WORKSPACE_LABEL] != workspace):
            continue
        if not _selected(rec["labels"], q.get("labelSelector")):
            continue
        phase = pool_phase(rec, now)
        state = {CREATING: "creating", ERROR: "failed"}.get(phase, "created")
        if wanted and state != wanted:
            continue
        items.append(_pool_view(core, rec))
    return reply({"apiVersion": "v2", "kind": "PoolList", "items": items})


def force_pool(core: Core, rec: Rec, status: str, error_msg: str | None) -> None:
    """A pool's outcome forced through the admin API: Running, Abnormal or Error now."""
    now = core.now_ms()
    rec["timeline"] = [*cut_timeline(rec["timeline"], now), [now, status]]
    rec["message"] = error_msg or f"The pool is {status}."
    core.changed()


def running_pool(core: Core, pool_id: str, scope: str) -> None:
    """A job or service names a pool the emulator holds: it must be Running (ModelArts.2887)
    and serve ``scope`` (2886). A pool the emulator does not hold passes: pools made outside
    it (the published bodies' ``pool-dedicated-1``) are taken as they are."""
    rec = live_pool(core, pool_id)
    if rec is None:
        return
    if pool_phase(rec, core.now_ms()) != RUNNING:
        raise ApiError(400, "ModelArts.2887", f"Pool ({pool_id}) is not running")
    if scope not in rec["scope"]:
        raise ApiError(400, "ModelArts.2886", f"Pool ({pool_id}) is not a {scope} pool")


def routes() -> list[tuple[str, str, Any]]:
    pools = "/v2/{project_id}/pools"
    networks = "/v1/{project_id}/networks"
    return [
        ("POST", pools, create_pool),
        ("GET", pools, list_pools),
        ("GET", pools + "/{pool_name}", show_pool),
        ("PATCH", pools + "/{pool_name}", patch_pool),
        ("DELETE", pools + "/{pool_name}", delete_pool),
        ("POST", networks, create_network),
        ("GET", networks, list_networks),
        ("GET", networks + "/{network_name}", show_network),
        ("PATCH", networks + "/{network_name}", patch_network),
        ("DELETE", networks + "/{network_name}", delete_network),
    ]
