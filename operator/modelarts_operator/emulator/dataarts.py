"""DataArts Fabric models (reference §2.6): ``POST /v1/workspaces/{workspace_id}/models`` and,
to read them back, list / get / delete on the same collection.

The create response is ``{"id": ...}`` (the documented sample; ``version_id`` is also returned,
as the table lists it). Creation is asynchronous: ``CREATING`` then ``ACTIVE``, or ``FAILED``
when ``model_path`` is not an OBS path. Names are unique per workspace.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .state import Rec, cut_timeline, status_at
from .validation import DATAARTS_NAME, DATAARTS_WORKSPACE, V, is_obs_path, query_int

BAD = "common.01000001"
v = V(BAD, BAD)


def _ws(request: web.Request) -> str:
    ws = request.match_info["workspace_id"]
    if not DATAARTS_WORKSPACE.match(ws):
        raise ApiError(400, BAD, f"invalid workspace_id {ws!r}")
    return ws


def _view(core: Core, rec: Rec) -> dict[str, Any]:
    now = core.now_ms()
    out = {k: rec[k] for k in ("id", "name", "description", "type", "workspace_id", "create_time")}
    out["status"] = status_at(rec["timeline"], now)
    out["version"] = dict(rec["version"], status=out["status"])
    if out["status"] == "FAILED":
        out["error_msg"] = rec.get("error_msg", "")
    return out


async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    ws = _ws(request)
    body = await json_body(request)
    name = v.string(body, "name", required=True, pattern=DATAARTS_NAME)
    v.string(body, "description", max_len=1024)
    v.enum(body, "type", {"LLM_MODEL"}, required=True)
    version = v.obj(body, "version", required=True)
    v.string(version, "name", required=True, pattern=DATAARTS_NAME, prefix="version.")
    v.string(version, "description", max_len=1024, prefix="version.")
    config = version.get("config")
    path_ok = True
    if config is not None:
        if not isinstance(config, dict):
            raise v.bad("version.config must be an object")
        llm = config.get("llm_model_config")
        if llm is not None:
            if not isinstance(llm, dict):
                raise v.bad("version.config.llm_model_config must be an object")
            v.string(
                llm, "base_model_type", required=True, prefix="version.config.llm_model_config."
            )
            path = v.string(llm, "model_path", prefix="version.config.llm_model_config.")
            v.string(llm, "local_model_path", prefix="version.config.llm_model_config.")
            path_ok = path is None or is_obs_path(path)
    st = core.state
    if any(r["workspace_id"] == ws and r["name"] == name for r in st.dataarts.items.values()):
        raise ApiError(
            400,
            BAD,
            f"model name {name!r} already exists",
        )
    now = core.now_ms()
    mid, vid = st.uuid(), st.uuid()
    done = now + core.phase(core.config.timings.dataarts_creating)
    rec: Rec = {
        "id": mid,
        "name": name,
        "description": body.get("description", ""),
        "type": "LLM_MODEL",
        "workspace_id": ws,
        "create_time": now,
        "version": {
            "id": vid,
            "name": version["name"],
            "description": version.get("description", ""),
            "config": config or {},
        },
        "timeline": [[now, "CREATING"], [done, "ACTIVE" if path_ok else "FAILED"]],
    }
    if not path_ok:
        rec["error_msg"] = "model_path must be a valid OBS path"
    forced = core.take_pending_force("dataarts_model", str(name))
    if forced is not None:
        rec["timeline"][-1][1] = "FAILED"
        rec["error_msg"] = forced.get("error_msg") or "Forced failure."
    st.dataarts.add(mid, rec)
    core.changed()
    return reply({"id": mid, "version_id": vid})


def force_dataarts(core: Core, rec: Rec, status: str, error_msg: str | None) -> None:
    now = core.now_ms()
    rec["timeline"] = [*cut_timeline(rec["timeline"], now), [now, status]]
    if error_msg:
        rec["error_msg"] = error_msg
    core.changed()


def _model(core: Core, ws: str, mid: str) -> Rec:
    rec = core.state.dataarts.get(mid)
    if rec is None or rec["workspace_id"] != ws:
        raise ApiError(404, BAD, "response status exception, code: 404")
    return rec


async def list_models(request: web.Request) -> web.Response:
    core = core_of(request)
    ws = _ws(request)
    q = request.query
    offset = query_int(q, "offset", 0, 0, None, BAD)
    limit = query_int(q, "limit", 100, 1, 1000, BAD)
    name = q.get("name")
    recs = [
        r
        for r in core.state.dataarts.items.values()
        if r["workspace_id"] == ws and (not name or name in r["name"])
    ]
    page = recs[offset : offset + limit]
    return reply({"total": len(recs), "models": [_view(core, r) for r in page]})


async def get_model(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(_view(core, _model(core, _ws(request), request.match_info["model_id"])))


async def delete_model(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _model(core, _ws(request), request.match_info["model_id"])
    core.state.dataarts.remove(rec["id"])
    core.changed()
    return reply({})


def routes() -> list[tuple[str, str, Any]]:
    base = "/v1/workspaces/{workspace_id}/models"
    return [
        ("POST", base, create),
        ("GET", base, list_models),
        ("GET", base + "/{model_id}", get_model),
        ("DELETE", base + "/{model_id}", delete_model),
    ]
