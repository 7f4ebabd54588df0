"""Algorithms (``/v2/{project_id}/algorithms``): create (201), show, change (PUT, 201 with the
whole new configuration), delete (202), list (``offset`` an item index, ``limit`` 1-50,
``searches=name:<text>`` a fuzzy name match).

Shapes follow the official SDK's ``AlgorithmResponse`` and the API reference's examples
(opentelekomcloud-docs/modelarts api-ref training_management: creating_an_algorithm,
modifying_an_algorithm, deleting_an_algorithm, querying_algorithm_details,
querying_the_algorithm_list). A missing algorithm is HTTP 400 ``ModelArts.2755``; a taken
name (per workspace) 400 ``ModelArts.2821``; the name cannot change (Terraform:
``metadata.name`` is non-updatable). What the SDK states is checked: the name's charset and
length, a description of at most 256, code_dir and boot_file together with the boot file
inside the directory (2758), a known engine (2780), unique parameter names (2767). Deleting
an algorithm that jobs were started from is not refused: no source says the cloud refuses it,
and a job keeps the configuration it was created with.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .state import DEFAULT_WORKSPACE_ID, Rec
from .training_v2 import BAD, _inside, _validate_engine, _validate_parameters
from .training_v2_catalog import ENGINES_V2_BY_ID, ENGINES_V2_BY_NAME
from .validation import JOB_NAME, V, query_enum, query_int

v = V(BAD, BAD)
NOT_FOUND = "ModelArts.2755"
MAX_LIMIT = 50


def _not_found(algorithm_id: str) -> ApiError:
    return ApiError(400, NOT_FOUND, f"algorithm {algorithm_id} not found.")


def _validate(body: dict[str, Any]) -> dict[str, Any]:
    meta = v.obj(body, "metadata", required=True)
    name = v.string(meta, "name", required=True, pattern=JOB_NAME, prefix="metadata.")
    v.string(meta, "description", max_len=256, prefix="metadata.")
    config = v.obj(body, "job_config") or {}
    p = "job_config."
    code_dir = v.string(config, "code_dir", max_len=1024, prefix=p)
    boot = v.string(config, "boot_file", max_len=1024, prefix=p)
    # SDK AlgorithmJobConfig.code_dir / boot_file: "应与boot_file一同出现" (they go together)
    if bool(code_dir) != bool(boot):
        raise v.bad("job_config.code_dir and job_config.boot_file go together")
    if code_dir and boot and not _inside(boot, code_dir):
        raise ApiError(400, "ModelArts.2758", "job_config.boot_file must be inside code_dir")
    v.string(config, "command", prefix=p)
    _validate_engine(config)
    _validate_parameters(config)
    for kind in ("inputs", "outputs"):
        for i, item in enumerate(v.array(config, kind) or []):
            if not isinstance(item, dict):
                raise ApiError(400, "ModelArts.2753", f"{p}{kind}[{i}] must be an object")
            v.string(item, "name", required=True, prefix=f"{p}{kind}[{i}].")
    for i, item in enumerate(v.array(body, "resource_requirements") or []):
        if not isinstance(item, dict):
            raise v.bad(f"resource_requirements[{i}] must be an object")
        v.enum(item, "operator", {"in"}, prefix=f"resource_requirements[{i}].")
    v.obj(body, "advanced_config")
    return {
        "name": name,
        "description": meta.get("description") or "",
        "workspace_id": meta.get("workspace_id") or DEFAULT_WORKSPACE_ID,
        "job_config": dict(config),
        "resource_requirements": list(body.get("resource_requirements") or []),
        "advanced_config": dict(body.get("advanced_config") or {}),
    }


def _code_tree(config: dict[str, Any]) -> dict[str, Any] | None:
    code_dir, boot = config.get("code_dir"), config.get("boot_file")
    if not code_dir or not boot:
        return None
    folder = code_dir.rstrip("/").rsplit("/", 1)[-1] + "/"
    return {"name": folder, "children": [{"name": boot.rsplit("/", 1)[-1]}]}


def _engine_view(config: dict[str, Any]) -> dict[str, Any]:
    engine = dict(config.get("engine") or {})
    found = ENGINES_V2_BY_ID.get(engine.get("engine_id", "")) or ENGINES_V2_BY_NAME.get(
        (engine.get("engine_name", ""), engine.get("engine_version", ""))
    )
    if found is not None:
        engine.update(
            engine_id=found["engine_id"],
            engine_name=found["engine_name"],
            engine_version=found["engine_version"],
        )
    return engine


def _parameter_view(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item.get(k, "") for k in ("name", "description", "value")}
    for key in ("constraint", "i18n_description"):
        if item.get(key):
            out[key] = item[key]
    return out


def view(rec: Rec) -> dict[str, Any]:
    """AlgorithmResponse (create, show, change, list items)."""
    config = rec["job_config"]
    job_config: dict[str, Any] = {
        "code_dir": config.get("code_dir", ""),
        "boot_file": config.get("boot_file", ""),
        "command": config.get("command", ""),
        "parameters": [_parameter_view(p) for p in config.get("parameters") or []],
        "parameters_customization": bool(config.get("parameters_customization", False)),
        "inputs": [
            {k: c[k] for k in ("name", "description", "remote_constraints") if k in c}
            for c in config.get("inputs") or []
        ],
        "outputs": [
            {k: c[k] for k in ("name", "description") if k in c}
            for c in config.get("outputs") or []
        ],
        "engine": _engine_view(config),
    }
    tree = _code_tree(config)
    if tree is not None:
        job_config["code_tree"] = tree
    return {
        "metadata": {
            "id": rec["id"],
            "name": rec["name"],
            "description": rec["description"],
            "workspace_id": rec["workspace_id"],
            "ai_project": "default-ai-project",
            "user_name": rec["user_name"],
            "domain_id": rec["domain_id"],
            "source": "custom",
            "api_version": "",
            "is_valid": True,
            "state": "",
            "size": 0,
            "version_num": 0,
            "create_time": rec["create_time"],
            "update_time": rec["update_time"],
        },
        "job_config": job_config,
        # The response names the request's ``values`` ``value`` (SDK
        # AlgorithmResponseResourceRequirements).
        "resource_requirements": [
            {
                "key": r.get("key", ""),
                "value": list(r.get("values") or []),
                "operator": r.get("operator", "in"),
            }
            for r in rec["resource_requirements"]
        ],
        "advanced_config": rec["advanced_config"],
    }


def _algorithm(core: Core, request: web.Request) -> Rec:
    algorithm_id = request.match_info["algorithm_id"]
    rec = core.state.algorithms.get(algorithm_id)
    if rec is None:
        raise _not_found(algorithm_id)
    return rec


def _taken(core: Core, workspace_id: str, name: str, exclude: str | None = None) -> bool:
    return any(
        r["name"] == name and r["workspace_id"] == workspace_id and k != exclude
        for k, r in core.state.algorithms.items.items()
    )


async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    fields = _validate(await json_body(request))
    core.usable_workspace(fields["workspace_id"])
    if _taken(core, fields["workspace_id"], fields["name"]):
        raise ApiError(400, "ModelArts.2821", f"Duplicate algorithm (name {fields['name']}).")
    now = core.now_ms()
    st = core.state
    rec: Rec = {
        **fields,
        "id": st.uuid(),
        "user_name": core.config.iam_user,
        "domain_id": core.config.domain_id,
        "create_time": now,
        "update_time": now,
    }
    st.algorithms.add(rec["id"], rec)
    core.changed()
    return reply(view(rec), status=201)


async def show(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(view(_algorithm(core, request)))


async def change(request: web.Request) -> web.Response:
    """The whole configuration again; the name stays (Terraform: non-updatable)."""
    core = core_of(request)
    rec = _algorithm(core, request)
    fields = _validate(await json_body(request))
    if fields["name"] != rec["name"]:
        raise v.bad(f"metadata.name cannot be changed (it is {rec['name']})")
    fields["workspace_id"] = rec["workspace_id"]
    rec.update(fields, update_time=core.now_ms())
    core.state.algorithms.touch()
    core.changed()
    return reply(view(rec), status=201)


async def delete(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _algorithm(core, request)
    core.state.algorithms.remove(rec["id"])
    core.changed()
    return web.Response(status=202)


async def list_algorithms(request: web.Request) -> web.Response:
    core = core_of(request)
    q = request.query
    offset = query_int(q, "offset", 0, 0, None, BAD)
    limit = query_int(q, "limit", 10, 1, MAX_LIMIT, BAD)
    sort_by = query_enum(q, "sort_by", {"create_time", "name"}, "create_time", BAD)
    order = query_enum(q, "order", {"asc", "desc"}, "desc", BAD)
    workspace = q.get("workspace_id")
    searches = q.get("searches") or ""
    text = searches.partition("name:")[2] if searches.startswith("name:") else ""
    st = core.state
    ids = st.algorithms.view(("algo", sort_by), lambda r: True, lambda r: r[sort_by])
    seq = list(reversed(ids)) if order == "desc" else list(ids)
    matched = [
        st.algorithms.items[k]
        for k in seq
        if (not workspace or st.algorithms.items[k]["workspace_id"] == workspace)
        and text in st.algorithms.items[k]["name"]
    ]
    page = matched[offset : offset + limit]
    return reply(
        {
            "total": len(matched),
            "count": len(page),
            "limit": limit,
            "offset": offset,
            "sort_by": sort_by,
            "order": order,
            "group_by": "",
            "items": [view(r) for r in page],
        }
    )


def routes() -> list[tuple[str, str, Any]]:
    base = "/v2/{project_id}/algorithms"
    one = base + "/{algorithm_id}"
    return [
        ("POST", base, create),
        ("GET", base, list_algorithms),
        ("GET", one, show),
        ("PUT", one, change),
        ("DELETE", one, delete),
    ]
