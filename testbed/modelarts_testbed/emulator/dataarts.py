"""DataArts Fabric models for their whole life, in the official SDK's shapes
(``huaweicloudsdkdataartsfabric`` ``ModelInfo``, ``ModelVersionInfo``, ``BaseModel``):

    POST   /v1/workspaces/{ws}/models                              create -> {id, version_id}
    GET    /v1/workspaces/{ws}/models?offset&limit&name&id&...     {total, models: [ModelInfo]}
    PUT    /v1/workspaces/{ws}/models/{model_id}                   update -> ModelInfo
    DELETE /v1/workspaces/{ws}/models/{model_id}                   cleanup (empty answer)
    GET    /v1/workspaces/{ws}/models/{model_id}/versions          {total, versions: [...]}
    DELETE /v1/workspaces/{ws}/models/{model_id}/versions/{vid}    (empty answer)
    GET    /v1/base-models?offset&limit                            {total, models: [BaseModel]}

There is no "show" call: one model is read by listing with ``id``. Times are ISO-8601 UTC
strings (the SDK parses them as date-times; epoch numbers crash its parser). ``offset`` is an
item offset. A version is built asynchronously (CREATING, then ACTIVE, or FAILED when its
``model_path`` is not an OBS path or a failure was forced): a PUT with ``version`` adds one,
and it becomes the model's ``current_version`` only once ACTIVE; a failed version never
does. The SDK's shapes carry no status, so a version's build state is visible only through
which version is current (and through the admin API).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .state import Rec, cut_timeline, entered_at, status_at
from .validation import DATAARTS_NAME, DATAARTS_WORKSPACE, V, is_obs_path, query_enum, query_int

BAD = "common.01000001"
v = V(BAD, BAD)
CREATING, ACTIVE, FAILED = "CREATING", "ACTIVE", "FAILED"
VISIBILITIES = {"PRIVATE", "PUBLIC"}
SORT_FIELDS = {"CREATE_TIME": "create_time", "UPDATE_TIME": "update_time", "NAME": "name"}

BASE_MODELS: list[dict[str, Any]] = [
    {"base_model_type": "llama3", "max_tokens": 8192, "num_of_mu": 2},
    {"base_model_type": "llama3-70b", "max_tokens": 8192, "num_of_mu": 8},
    {"base_model_type": "qwen2-7b", "max_tokens": 32768, "num_of_mu": 2},
    {"base_model_type": "qwen2-72b", "max_tokens": 32768, "num_of_mu": 8},
    {"base_model_type": "deepseek-v3", "max_tokens": 65536, "num_of_mu": 16},
]


def iso(ms: int) -> str:
    """``2026-12-02T06:30:00.123Z``: the ISO-8601 UTC form the SDK's parser reads."""
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _user(core: Core) -> dict[str, str]:
    cfg = core.config
    return {
        "domain_name": cfg.iam_domain,
        "domain_id": cfg.domain_id,
        "user_name": cfg.iam_user,
        "user_id": hashlib.md5(cfg.iam_user.encode(), usedforsecurity=False).hexdigest(),
    }


def _ws(request: web.Request) -> str:
    ws = request.match_info["workspace_id"]
    if not DATAARTS_WORKSPACE.match(ws):
        raise ApiError(400, BAD, f"invalid workspace_id {ws!r}")
    return ws


# ---------------------------------------------------------------- versions
def _validate_version(version: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(version, dict):
        raise v.bad(f"{prefix[:-1]} must be an object")
    v.string(version, "name", required=True, pattern=DATAARTS_NAME, prefix=prefix)
    v.string(version, "description", max_len=1024, prefix=prefix)
    config = v.need(version, "config", prefix)
    llm = config.get("llm_model_config") if isinstance(config, dict) else None
    p = prefix + "config.llm_model_config."
    if not isinstance(llm, dict):
        raise v.bad(f"Mandatory parameter is missing: {p[:-1]}")
    v.string(llm, "base_model_type", required=True, max_len=64, prefix=p)
    v.string(llm, "model_path", required=True, max_len=1024, prefix=p)
    return version


def _new_version(core: Core, version: dict[str, Any]) -> Rec:
    now = core.now_ms()
    llm = version["config"]["llm_model_config"]
    path_ok = is_obs_path(str(llm["model_path"]))
    done = now + core.phase(core.config.timings.dataarts_creating)
    rec: Rec = {
        "id": core.state.uuid(),
        "name": version["name"],
        "description": version.get("description", ""),
        "config": {
            "llm_model_config": {
                "base_model_type": llm["base_model_type"],
                "model_path": llm["model_path"],
            }
        },
        "cap_white_list": [],
        "create_time": now,
        "create_user": _user(core),
        "timeline": [[now, CREATING], [done, ACTIVE if path_ok else FAILED]],
    }
    if not path_ok:
        rec["error_msg"] = "model_path must be a valid OBS path"
    return rec


def version_status(ver: Rec, now: int) -> str:
    return str(status_at(ver["timeline"], now))


def _current_version(rec: Rec, now: int) -> Rec | None:
    """The ACTIVE version made current last: each becomes current when it turns ACTIVE, or
    when a PUT named it in ``current_version_id``."""
    best: tuple[int, Rec] | None = None
    for ver in rec["versions"]:
        if version_status(ver, now) != ACTIVE:
            continue
        since = entered_at(ver["timeline"], ACTIVE, now) or 0
        if rec.get("pinned") and rec["pinned"][0] == ver["id"]:
            since = max(since, int(rec["pinned"][1]))
        if best is None or since >= best[0]:
            best = (since, ver)
    return best[1] if best else None


def version_view(ver: Rec) -> dict[str, Any]:
    return {
        "id": ver["id"],
        "name": ver["name"],
        "cap_white_list": list(ver["cap_white_list"]),
        "description": ver["description"],
        "config": ver["config"],
        "create_time": iso(ver["create_time"]),
        "create_user": ver["create_user"],
    }


def model_status(rec: Rec, now: int) -> str:
    """The build state of the newest version (admin API and tests only)."""
    return version_status(rec["versions"][-1], now)


def force_dataarts(core: Core, rec: Rec, status: str, error_msg: str | None) -> None:
    """Force the newest version's build outcome (admin API)."""
    ver = rec["versions"][-1]
    now = core.now_ms()
    ver["timeline"] = [*cut_timeline(ver["timeline"], now), [now, status]]
    if error_msg:
        ver["error_msg"] = error_msg
    core.changed()


# ---------------------------------------------------------------- models
def model_view(rec: Rec, now: int) -> dict[str, Any]:
    current = _current_version(rec, now)
    out: dict[str, Any] = {
        "visibility": rec["visibility"],
        "id": rec["id"],
        "name": rec["name"],
        "description": rec["description"],
        "type": rec["type"],
        "create_time": iso(rec["create_time"]),
        "update_time": iso(rec["update_time"]),
        "create_user": rec["create_user"],
        "update_user": rec["update_user"],
    }
    if current is not None:
        out["current_version"] = version_view(current)
    return out


def _name_taken(core: Core, ws: str, name: str, but: str | None = None) -> bool:
    return any(
        r["workspace_id"] == ws and r["name"] == name and r["id"] != but
        for r in core.state.dataarts.items.values()
    )


async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    ws = _ws(request)
    body = await json_body(request)
    name = v.string(body, "name", required=True, pattern=DATAARTS_NAME)
    v.string(body, "description", max_len=1024)
    v.enum(body, "type", {"LLM_MODEL"}, required=True)
    version = _validate_version(v.obj(body, "version", required=True), "version.")
    if _name_taken(core, ws, str(name)):
        raise ApiError(400, BAD, f"model name {name!r} already exists")
    now = core.now_ms()
    ver = _new_version(core, version)
    forced = core.take_pending_force("dataarts_model", str(name))
    if forced is not None:
        ver["timeline"][-1][1] = forced.get("status") or FAILED
        ver["error_msg"] = forced.get("error_msg") or "Forced failure."
    rec: Rec = {
        "id": core.state.uuid(),
        "workspace_id": ws,
        "name": name,
        "description": body.get("description", ""),
        "type": "LLM_MODEL",
        "visibility": "PRIVATE",
        "create_time": now,
        "update_time": now,
        "create_user": _user(core),
        "update_user": _user(core),
        "versions": [ver],
    }
    core.state.dataarts.add(rec["id"], rec)
    core.changed()
    return reply({"id": rec["id"], "version_id": ver["id"]})


def _model(core: Core, request: web.Request) -> Rec:
    ws = _ws(request)
    rec = core.state.dataarts.get(request.match_info["model_id"])
    if rec is None or rec["workspace_id"] != ws:
        raise ApiError(404, BAD, f"model {request.match_info['model_id']} does not exist")
    return rec


def _version(rec: Rec, version_id: str) -> Rec:
    found: list[Rec] = [ver for ver in rec["versions"] if ver["id"] == version_id]
    if found:
        return found[0]
    raise ApiError(404, BAD, f"version {version_id} of model {rec['id']} does not exist")


async def list_models(request: web.Request) -> web.Response:
    core = core_of(request)
    ws = _ws(request)
    q = request.query
    offset = query_int(q, "offset", 0, 0, None, BAD)
    limit = query_int(q, "limit", 10, 1, 100, BAD)
    visibility = query_enum(q, "visibility", VISIBILITIES | {"ALL"}, "", BAD)
    sort_by = query_enum(q, "sort_by", set(SORT_FIELDS), "CREATE_TIME", BAD)
    order_by = query_enum(q, "order_by", {"ASC", "DESC"}, "DESC", BAD)
    name, model_id, kind = q.get("name"), q.get("id"), q.get("type")
    found = [
        r
        for r in core.state.dataarts.items.values()
        if r["workspace_id"] == ws
        and (not name or name.lower() in r["name"].lower())
        and (not model_id or r["id"] == model_id)
        and (not kind or r["type"] == kind)
        and (visibility in ("", "ALL") or r["visibility"] == visibility)
    ]
    key = SORT_FIELDS[sort_by]
    found.sort(key=lambda r: (r[key], r["create_time"]), reverse=order_by == "DESC")
    now = core.now_ms()
    page = found[offset : offset + limit]
    return reply({"total": len(found), "models": [model_view(r, now) for r in page]})


async def update_model(request: web.Request) -> web.Response:
    """Name, description, the current version, and (``version``) a new version."""
    core = core_of(request)
    rec = _model(core, request)
    body = await json_body(request)
    name = v.string(body, "name", pattern=DATAARTS_NAME)
    description = v.string(body, "description", max_len=1024)
    current_id = v.string(body, "current_version_id", max_len=36)
    version = body.get("version")
    if version is not None:
        version = _validate_version(version, "version.")
        if any(ver["name"] == version["name"] for ver in rec["versions"]):
            raise ApiError(400, BAD, f"version name {version['name']!r} already exists")
    now = core.now_ms()
    if current_id is not None:
        ver = _version(rec, current_id)
        if version_status(ver, now) != ACTIVE:
            raise ApiError(
                400, BAD, f"version {current_id} is {version_status(ver, now)}, not ACTIVE"
            )
    if name is not None and _name_taken(core, rec["workspace_id"], name, rec["id"]):
        raise ApiError(400, BAD, f"model name {name!r} already exists")
    if name is not None:
        rec["name"] = name
    if description is not None:
        rec["description"] = description
    if current_id is not None:
        rec["pinned"] = [current_id, now]
    if version is not None:
        rec["versions"].append(_new_version(core, version))
    rec["update_time"] = now
    rec["update_user"] = _user(core)
    core.changed()
    return reply(model_view(rec, now))


async def cleanup_model(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _model(core, request)
    core.state.dataarts.remove(rec["id"])
    core.changed()
    return web.Response(status=200)


async def list_versions(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _model(core, request)
    q = request.query
    offset = query_int(q, "offset", 0, 0, 1_000_000_000, BAD)
    limit = query_int(q, "limit", 10, 1, 100, BAD)
    version_id, name = q.get("version_id"), q.get("name")
    found = [
        ver
        for ver in reversed(rec["versions"])
        if (not version_id or ver["id"] == version_id)
        and (not name or name.lower() in ver["name"].lower())
    ]
    page = found[offset : offset + limit]
    return reply({"total": len(found), "versions": [version_view(ver) for ver in page]})


async def delete_version(request: web.Request) -> web.Response:
    """Any version but the current one and the only one (a model keeps a version)."""
    core = core_of(request)
    rec = _model(core, request)
    ver = _version(rec, request.match_info["version_id"])
    if len(rec["versions"]) == 1:
        raise ApiError(
            400, BAD, f"version {ver['id']} is the only version: clean up model {rec['id']}"
        )
    current = _current_version(rec, core.now_ms())
    if current is not None and current["id"] == ver["id"]:
        raise ApiError(400, BAD, f"version {ver['id']} is the current version of model {rec['id']}")
    rec["versions"].remove(ver)
    if rec.get("pinned") and rec["pinned"][0] == ver["id"]:
        rec.pop("pinned")
    core.changed()
    return web.Response(status=200)


async def base_models(request: web.Request) -> web.Response:
    q = request.query
    offset = query_int(q, "offset", 0, 0, None, BAD)
    limit = query_int(q, "limit", 10, 1, 100, BAD)
    return reply({"total": len(BASE_MODELS), "models": BASE_MODELS[offset : offset + limit]})


def routes() -> list[tuple[str, str, Any]]:
    base = "/v1/workspaces/{workspace_id}/models"
    one = base + "/{model_id}"
    return [
        ("POST", base, create),
        ("GET", base, list_models),
        ("PUT", one, update_model),
        ("DELETE", one, cleanup_model),
        ("GET", one + "/versions", list_versions),
        ("DELETE", one + "/versions/{version_id}", delete_version),
        ("GET", "/v1/base-models", base_models),
    ]
