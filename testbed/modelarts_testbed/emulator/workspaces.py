"""Workspaces (ModelArts API Reference 2020, §8): create (NORMAL at once), list, get, update,
delete (DELETING for a while, then gone with everything inside), quotas get/update. Errors
carry ``request_id``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .catalog import QUOTAS_BY_RESOURCE, WORKSPACE_QUOTAS
from .core import Core, core_of, json_body, offset_start, reply
from .errors import ApiError
from .state import DEFAULT_WORKSPACE_ID, Rec, page_slice
from .validation import WORKSPACE_NAME, V, query_int

v = V("ModelArts.0107")
AUTH_TYPES = {"PUBLIC", "PRIVATE", "INTERNAL"}
SORTS = {"name", "update_time", "status"}


def _validate_grants(body: dict[str, Any]) -> list[dict[str, str]] | None:
    grants = v.array(body, "grants")
    if grants is None:
        return None
    for i, g in enumerate(grants):
        if not isinstance(g, dict) or not (g.get("user_id") or g.get("user_name")):
            raise v.bad(f"grants[{i}] needs user_id or user_name")
    return list(grants)


def _validate_name(core: Core, name: str | None, exclude: str | None) -> None:
    if name is None:
        return
    if name == "default":
        raise ApiError(409, "ModelArts.0103", "Duplicate names: the name default is reserved.")
    for ws_id, rec in core.state.workspaces.items.items():
        if rec["name"] == name and ws_id != exclude and core.workspace_status(ws_id) is not None:
            raise ApiError(409, "ModelArts.0103", f"Duplicate names: workspace {name} exists.")


def _view(core: Core, rec: Rec, *, grants: bool) -> dict[str, Any]:
    out = {
        k: rec[k]
        for k in (
            "id",
            "name",
            "description",
            "owner",
            "create_time",
            "update_time",
            "enterprise_project_id",
            "enterprise_project_name",
            "auth_type",
        )
    }
    out["status"] = core.workspace_status(rec["id"]) or "DELETING"
    if grants:
        out["grants"] = rec.get("grants") or []
    return out


def _workspace(core: Core, ws_id: str) -> Rec:
    rec = core.state.workspaces.get(ws_id)
    if rec is None or core.workspace_status(ws_id) is None:
        raise ApiError(404, "ModelArts.0104", f"workspace: {ws_id} not exist.")
    return rec


async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    name = v.string(body, "name", required=True, pattern=WORKSPACE_NAME)
    v.string(body, "description", max_len=256)
    auth = v.enum(body, "auth_type", AUTH_TYPES, case_insensitive=True) or "PUBLIC"
    grants = _validate_grants(body)
    eps = v.string(body, "enterprise_project_id", max_len=64) or "0"
    _validate_name(core, name, None)
    live = [w for w in core.state.workspaces.items if core.workspace_status(w) is not None]
    if len(live) > core.config.workspace_quota:
        raise ApiError(400, "ModelArts.0113", "The maximum workspace quota has been exceeded.")
    now = core.now_ms()
    ws_id = core.state.hex32()
    rec: Rec = {
        "id": ws_id,
        "name": name,
        "description": body.get("description", ""),
        "owner": core.config.iam_user,
        "create_time": now,
        "update_time": now,
        "enterprise_project_id": eps,
        "enterprise_project_name": "default" if eps == "0" else f"eps-{eps[:8]}",
        "auth_type": auth,
        "grants": grants or [],
        "status": "NORMAL",
        "quotas": {},
    }
    core.state.workspaces.add(ws_id, rec)
    core.changed()
    return reply(_view(core, rec, grants=False))


async def list_workspaces(request: web.Request) -> web.Response:
    core = core_of(request)
    q = request.query
    code = "ModelArts.0107"
    offset = query_int(q, "offset", 0, 0, None, code)
    limit = query_int(q, "limit", 1000, 1, 1000, code)
    sort_by = q.get("sort_by") or "name"
    if sort_by not in SORTS:
        raise ApiError(400, code, f"sort_by must be one of {sorted(SORTS)}: {sort_by!r}")
    order = q.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise ApiError(400, code, f"order must be asc or desc: {order!r}")
    name, eps = q.get("name"), q.get("enterprise_project_id")
    core.sweep()
    st = core.state
    ids = st.workspaces.view(("ws", sort_by), lambda r: True, lambda r: (r[sort_by], r["id"]))
    start = offset_start(core, offset, limit)
    if sort_by == "status" or name or eps:
        seq = list(reversed(ids) if order == "desc" else ids)
        if sort_by == "status":
            seq.sort(key=lambda k: core.workspace_status(k) or "", reverse=order == "desc")
        matched = [
            k
            for k in seq
            if (not name or name in st.workspaces.items[k]["name"])
            and (not eps or st.workspaces.items[k]["enterprise_project_id"] == eps)
        ]
        total, page = len(matched), matched[start : start + limit]
    else:
        total, page = len(ids), page_slice(ids, start, limit, order == "desc")
    items = [_view(core, st.workspaces.items[k], grants=False) for k in page]
    return reply({"total_count": total, "count": len(items), "workspaces": items})


async def get(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _workspace(core, request.match_info["workspace_id"])
    return reply(_view(core, rec, grants=True))


async def update(request: web.Request) -> web.Response:
    core = core_of(request)
    ws_id = request.match_info["workspace_id"]
    rec = _workspace(core, ws_id)
    body = await json_body(request)
    name = v.string(body, "name", pattern=WORKSPACE_NAME)
    v.string(body, "description", max_len=256)
    auth = v.enum(body, "auth_type", AUTH_TYPES, case_insensitive=True)
    grants = _validate_grants(body)
    if core.workspace_status(ws_id) != "NORMAL":
        raise ApiError(409, "ModelArts.7004", f"The workspace {ws_id} is being deleted.")
    if name is not None and name != rec["name"]:
        if ws_id == DEFAULT_WORKSPACE_ID:
            raise ApiError(
                400, "ModelArts.0107", "The name of the default workspace cannot be modified."
            )
        _validate_name(core, name, ws_id)
        rec["name"] = name
        core.state.workspaces.touch()
    if body.get("description") is not None:
        rec["description"] = body["description"]
    if auth is not None:
        rec["auth_type"] = auth
    if grants is not None:
        rec["grants"] = grants
    rec["update_time"] = core.now_ms()
    core.state.workspaces.touch()
    core.changed()
    return reply({"workspace_id": ws_id})


async def delete(request: web.Request) -> web.Response:
    core = core_of(request)
    ws_id = request.match_info["workspace_id"]
    rec = _workspace(core, ws_id)
    if ws_id == DEFAULT_WORKSPACE_ID:
        raise ApiError(
            400,
            "ModelArts.0105",
            "The operation is not allowed: the default workspace cannot be deleted.",
        )
    if rec.get("deleting_until") is None:
        rec["deleting_until"] = core.now_ms() + core.phase(core.config.timings.workspace_deleting)
        rec["status"] = "DELETING"
        core.state.deleting.add(ws_id)
        core.changed()
    return reply({"workspace_id": ws_id})


def _quota_items(core: Core, rec: Rec, *, used: bool) -> list[dict[str, Any]]:
    out = []
    for base in WORKSPACE_QUOTAS:
        item = dict(base)
        override = rec["quotas"].get(item["resource"])
        item["quota"] = override["quota"] if override else item["quota"]
        item["update_time"] = override["update_time"] if override else rec["create_time"]
        if used:
            item["used_quota"] = None if item["quota"] == -1 else 0
        out.append(item)
    return out


async def get_quotas(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _workspace(core, request.match_info["workspace_id"])
    return reply({"quotas": _quota_items(core, rec, used=True)})


async def update_quotas(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _workspace(core, request.match_info["workspace_id"])
    body = await json_body(request)
    items = v.array(body, "quotas", required=True)
    now = core.now_ms()
    changed: list[str] = []
    for i, item in enumerate(items):
        pre = f"quotas[{i}]."
        if not isinstance(item, dict):
            raise v.bad(f"quotas[{i}] must be an object")
        res = v.string(item, "resource", required=True, prefix=pre)
        quota = v.integer(item, "quota", required=True, prefix=pre)
        base = QUOTAS_BY_RESOURCE.get(res or "")
        if base is None:
            raise v.bad(f"{pre}resource {res!r} is not a quota resource")
        assert quota is not None
        if quota != -1 and (quota < 1 or quota < base["min_quota"] or quota > base["max_quota"]):
            raise v.bad(
                f"{pre}quota must be -1 or a positive integer in "
                f"[{base['min_quota']}, {base['max_quota']}]: {quota}"
            )
        rec["quotas"][res] = {"quota": quota, "update_time": now}
        changed.append(str(res))
    core.changed()
    out = [q for q in _quota_items(core, rec, used=False) if q["resource"] in changed]
    return reply({"quotas": out})


def routes() -> list[tuple[str, str, Any]]:
    base = "/v1/{project_id}/workspaces"
    one = base + "/{workspace_id}"
    return [
        ("POST", base, create),
        ("GET", base, list_workspaces),
        ("GET", one, get),
        ("PUT", one, update),
        ("DELETE", one, delete),
        ("GET", one + "/quotas", get_quotas),
        ("PUT", one + "/quotas", update_quotas),
    ]
