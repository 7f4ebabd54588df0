"""Models (ModelArts API Reference 2020, §6.1): import, list, detail, delete.

Import starts ``publishing`` and becomes ``published`` after a while, or ``failed`` when the
source location is not an OBS path (``obs://bucket/...``, ``/bucket/...`` or an
``https://bucket.obs.region...`` URL; an SWR image for ``model_type`` Image).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from .core import Core, core_of, json_body, offset_start, reply
from .errors import ApiError
from .state import DEFAULT_WORKSPACE_ID, Rec, cut_timeline, model_key, page_slice, status_at
from .validation import MODEL_NAME, MODEL_VERSION, V, is_obs_path, is_swr_image, query_int

v = V("ModelArts.3037")

MODEL_TYPES = {
    "TensorFlow",
    "MXNet",
    "Caffe",
    "Spark_MLlib",
    "Scikit_Learn",
    "XGBoost",
    "Image",
    "PyTorch",
    "MindSpore",
    "Template",
}
INSTALL_TYPES = ("real-time", "edge", "batch")
MODEL_STATUSES = {"publishing", "published", "failed", "building", "building_failed"}
ALGORITHM = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,35}$")
DOC_NAME = re.compile(r"^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9_\-\u4e00-\u9fa5]{0,47}$")


def _validate_params(items: Any, field: str) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise v.bad(f"{field} must be an array")
    for i, p in enumerate(items):
        pre = f"{field}[{i}]."
        if not isinstance(p, dict):
            raise v.bad(f"{field}[{i}] must be an object")
        v.enum(p, "method", {"post", "get"}, case_insensitive=True, prefix=pre)
        v.string(p, "param_name", max_len=64, prefix=pre)
        v.string(p, "param_desc", max_len=100, prefix=pre)


def _validate_dependencies(deps: Any) -> None:
    if deps is None:
        return
    if not isinstance(deps, list):
        raise v.bad("dependencies must be an array")
    for i, dep in enumerate(deps):
        pre = f"dependencies[{i}]."
        if not isinstance(dep, dict):
            raise v.bad(f"dependencies[{i}] must be an object")
        v.enum(dep, "installer", {"pip"}, required=True, prefix=pre)
        pkgs = v.need(dep, "packages", pre)
        if not isinstance(pkgs, list):
            raise v.bad(f"{pre}packages must be an array")
        for j, pkg in enumerate(pkgs):
            pp = f"{pre}packages[{j}]."
            if not isinstance(pkg, dict):
                raise v.bad(f"{pre}packages[{j}] must be an object")
            v.string(pkg, "package_name", required=True, no_special=True, prefix=pp)
            version = v.string(pkg, "package_version", no_special=True, prefix=pp)
            restraint = pkg.get("restraint")
            if version and restraint not in ("EXACT", "ATLEAST", "ATMOST"):
                raise ApiError(
                    400,
                    "ModelArts.3041",
                    f"Invalid version constraint {pp}restraint:"
                    f" {restraint!r} (EXACT, ATLEAST or ATMOST with package_version)",
                )
            if restraint and not version:
                raise ApiError(
                    400, "ModelArts.3041", f"{pp}restraint is only allowed with package_version"
                )


def validate_import(body: dict[str, Any]) -> None:
    v.string(body, "model_name", required=True, pattern=MODEL_NAME)
    version = v.string(body, "model_version", required=True)
    if version is not None and not MODEL_VERSION.match(version):
        raise v.bad(
            f"model_version must be Digit.Digit.Digit, each part 1-99 without a leading zero: "
            f"{version!r}"
        )
    v.string(body, "source_location", required=True, max_len=2048)
    model_type = v.enum(body, "model_type", MODEL_TYPES, required=True, case_insensitive=True)
    if model_type and model_type.lower() == "template":
        tmpl = v.obj(body, "template", required=True)
        v.string(tmpl, "template_id", required=True, prefix="template.")
        inputs = v.need(tmpl, "template_inputs", "template.")
        if not isinstance(inputs, list):
            raise v.bad("template.template_inputs must be an array")
        for i, item in enumerate(inputs):
            v.need(item, "input", f"template.template_inputs[{i}].")
            v.need(item, "input_id", f"template.template_inputs[{i}].")
    v.enum(body, "source_type", {"auto", ""})
    v.string(body, "runtime", max_len=64)
    v.string(body, "description", max_len=100, no_special=True)
    v.string(body, "model_algorithm", pattern=ALGORITHM, no_special=True)
    v.string(body, "execution_code", max_len=2048)
    v.string(body, "source_job_id", max_len=64)
    v.string(body, "source_job_version", max_len=64)
    v.string(body, "model_metrics")
    v.string(body, "initial_config")
    v.string(body, "workspace_id")
    _validate_params(body.get("input_params"), "input_params")
    _validate_params(body.get("output_params"), "output_params")
    _validate_dependencies(body.get("dependencies"))
    docs = v.array(body, "model_docs")
    if docs is not None:
        if len(docs) > 3:
            raise v.bad("model_docs holds at most 3 documents")
        for i, doc in enumerate(docs):
            pre = f"model_docs[{i}]."
            v.string(doc, "doc_name", required=True, pattern=DOC_NAME, prefix=pre)
            url = v.string(doc, "doc_url", required=True, prefix=pre)
            if url and not re.match(r"^https?://", url):
                raise v.bad(f"{pre}doc_url must be an HTTP(S) link")
    install = v.array(body, "install_type")
    if install is not None:
        for item in install:
            if item not in INSTALL_TYPES:
                raise v.bad(f"install_type values must be among {list(INSTALL_TYPES)}: {item!r}")
    apis = body.get("apis")
    if apis is not None and not isinstance(apis, (list, str)):
        raise v.bad("apis must be an array or a JSON string")


def _source_ok(body: dict[str, Any]) -> bool:
    loc = str(body["source_location"])
    if str(body["model_type"]).lower() == "image":
        return is_swr_image(loc) or is_obs_path(loc)
    return is_obs_path(loc)


def model_status(rec: Rec, now: int) -> str:
    return str(status_at(rec["timeline"], now))


def model_view(core: Core, rec: Rec, *, detail: bool) -> dict[str, Any]:
    now = core.now_ms()
    status = model_status(rec, now)
    published = status == "published"
    cfg = core.config
    out: dict[str, Any] = {
        "model_id": rec["model_id"],
        "model_name": rec["model_name"],
        "model_version": rec["model_version"],
        "model_type": rec["model_type"],
        "model_size": rec["model_size"] if published else 0,
        "model_status": status,
        "tenant": cfg.domain_id,
        "project": core.project_id,
        "owner": cfg.domain_id,
        "create_at": rec["create_at"],
        "description": rec.get("description", ""),
        "source_type": rec.get("source_type", ""),
        "workspace_id": rec["workspace_id"],
        "model_source": "algos" if rec.get("source_job_id") else "custom",
        "tunable": False,
        "market_flag": False,
        "publishable_flag": True,
        "install_type": rec["install_type"],
        "specification": {},
    }
    if not detail:
        return out
    body = rec["request"]
    apis = body.get("apis")
    out.update(
        {
            "source_location": body["source_location"],
            "source_job_id": body.get("source_job_id", ""),
            "source_job_version": body.get("source_job_version", ""),
            "runtime": body.get("runtime", "python2.7"),
            "execution_code": body.get("execution_code", ""),
            "schema_doc": "",
            "image_address": (
                f"swr.{cfg.region}.myhuaweicloud.com/modelarts-models/"
                f"{rec['model_id']}:{rec['model_version']}"
                if published
                else ""
            ),
            "input_params": body.get("input_params") or [],
            "output_params": body.get("output_params") or [],
            "dependencies": body.get("dependencies") or [],
            "model_metrics": body.get("model_metrics", ""),
            "apis": apis if isinstance(apis, str) else json.dumps(apis or []),
            "model_docs": body.get("model_docs") or [],
            "health": {},
            "model_algorithm": body.get("model_algorithm", ""),
            "model_labels": [],
            "labels_map": {"labels": []},
            "config": body.get("initial_config") or "{}",
        }
    )
    if status == "failed" and rec.get("error_msg"):
        out["error_msg"] = rec["error_msg"]
    return out


def models_using(core: Core, model_id: str) -> list[str]:
    """IDs of services whose configuration references the model."""
    return [
        sid
        for sid, svc in core.state.services.items.items()
        if any(c.get("model_id") == model_id for c in svc["config"])
    ]


async def import_model(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    validate_import(body)
    ws = body.get("workspace_id") or DEFAULT_WORKSPACE_ID
    core.usable_workspace(ws)
    st = core.state
    key = model_key(body["model_name"], body["model_version"])
    if key in st.model_keys:
        raise ApiError(
            409,
            "ModelArts.3002",
            f"The model {body['model_name']} {body['model_version']} already exists. "
            "Use another model name or version.",
        )
    now = core.now_ms()
    mid = st.uuid()
    done = now + core.phase(core.config.timings.model_publishing)
    ok = _source_ok(body)
    rec: Rec = {
        "model_id": mid,
        "model_name": body["model_name"],
        "model_version": body["model_version"],
        "model_type": body["model_type"],
        "workspace_id": ws,
        "create_at": now,
        "description": body.get("description", ""),
        "source_type": body.get("source_type", ""),
        "source_job_id": body.get("source_job_id", ""),
        "install_type": body.get("install_type") or list(INSTALL_TYPES),
        "model_size": st.rng.randint(1_000_000, 900_000_000),
        "timeline": [[now, "publishing"], [done, "published" if ok else "failed"]],
        "request": body,
    }
    if not ok:
        rec["error_msg"] = (
            f"ModelArts.3017: Import failed: model source path {body['source_location']!r} is "
            "invalid; it must be an OBS path (obs://bucket/dir/ or /bucket/dir/, bucket names "
            "being 3-63 lowercase letters, digits, '-' or '.')."
        )
    forced = core.take_pending_force("model", body["model_name"])
    if forced is not None:
        rec["timeline"][-1][1] = "failed"
        rec["error_msg"] = forced.get("error_msg") or "Forced failure."
    st.models.add(mid, rec)
    st.model_keys[key] = mid
    core.changed()
    return reply({"model_id": mid})


def force_model(core: Core, rec: Rec, status: str, error_msg: str | None) -> None:
    now = core.now_ms()
    rec["timeline"] = [*cut_timeline(rec["timeline"], now), [now, status]]
    if error_msg:
        rec["error_msg"] = error_msg
    core.changed()


SORTS = {"create_at", "model_version", "model_size"}


async def list_models(request: web.Request) -> web.Response:
    core = core_of(request)
    q = request.query
    code = "ModelArts.3037"
    offset = query_int(q, "offset", 0, 0, None, code)
    limit = query_int(q, "limit", 1000, 1, 1000, code)
    sort_by = q.get("sort_by") or "create_at"
    if sort_by not in SORTS:
        raise ApiError(400, code, f"sort_by must be one of {sorted(SORTS)}: {sort_by!r}")
    order = q.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise ApiError(400, code, f"order must be asc or desc: {order!r}")
    status = q.get("model_status")
    if status and status not in MODEL_STATUSES:
        raise ApiError(400, code, f"model_status must be one of {sorted(MODEL_STATUSES)}")
    if q.get("model_type") and q.get("not_model_type"):
        raise ApiError(400, code, "model_type and not_model_type cannot be used together")
    ws = q.get("workspace_id") or DEFAULT_WORKSPACE_ID
    name, version = q.get("model_name"), q.get("model_version")
    mtype, not_mtype = q.get("model_type"), q.get("not_model_type")
    desc = q.get("description")
    st = core.state
    now = core.now_ms()

    def in_ws(r: Rec) -> bool:
        return bool(r["workspace_id"] == ws)

    if sort_by == "create_at":
        ids = st.models.view(("models", ws), in_ws, None)
    elif sort_by == "model_version":
        ids = st.models.view(
            ("models", ws, sort_by),
            in_ws,
            lambda r: tuple(int(p) for p in r["model_version"].split(".")),
        )
    else:
        ids = st.models.view(("models", ws, sort_by), in_ws, lambda r: r["model_size"])
    start = offset_start(core, offset, limit)
    filtered = any([name, version, mtype, not_mtype, desc, status])
    if not filtered:
        page = page_slice(ids, start, limit, order == "desc")
        total = len(ids)
    else:
        seq = reversed(ids) if order == "desc" else iter(ids)
        page, total = [], 0
        for mid in seq:
            r = st.models.items[mid]
            if name and name not in r["model_name"]:
                continue
            if version and version != r["model_version"]:
                continue
            if mtype and mtype.lower() != r["model_type"].lower():
                continue
            if not_mtype and not_mtype.lower() == r["model_type"].lower():
                continue
            if desc and desc not in r.get("description", ""):
                continue
            if status and status != model_status(r, now):
                continue
            if start <= total < start + limit:
                page.append(mid)
            total += 1
    models = [model_view(core, st.models.items[m], detail=False) for m in page]
    return reply({"total_count": total, "count": len(models), "models": models})


async def get_model(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _model(core, request.match_info["model_id"])
    return reply(model_view(core, rec, detail=True))


def _model(core: Core, mid: str) -> Rec:
    rec = core.state.models.get(mid)
    if rec is None:
        raise ApiError(404, "ModelArts.3001", f"The model {mid} does not exist.")
    return rec


def remove_model(core: Core, rec: Rec) -> None:
    core.state.models.remove(rec["model_id"])
    core.state.model_keys.pop(model_key(rec["model_name"], rec["model_version"]), None)
    core.changed()


async def delete_model(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _model(core, request.match_info["model_id"])
    cascade = (request.query.get("cascade") or "false").lower() == "true"
    targets = [rec]
    if cascade:
        targets += [
            r
            for r in core.state.models.items.values()
            if r["model_name"] == rec["model_name"] and r["model_id"] != rec["model_id"]
        ]
        targets = targets[:20]
    ok: list[str] = []
    failed: list[dict[str, str]] = []
    for r in targets:
        users = models_using(core, r["model_id"])
        if users:
            failed.append(
                {
                    "model_id": r["model_id"],
                    "error_code": "ModelArts.3009",
                    "error_msg": f"Failed to delete model, model ({r['model_id']}) already "
                    f"deploy service ({', '.join(users)}).",
                }
            )
            continue
        remove_model(core, r)
        ok.append(r["model_id"])
    body: dict[str, Any] = {"delete_success_list": ok, "delete_failed_list": failed}
    if not ok and failed:
        # Nothing was deleted: say so with a failing status too, so a client that only looks
        # at the status (the documented per-item body is still there) cannot miss it.
        first = failed[0]
        body.update(error_code=first["error_code"], error_msg=first["error_msg"])
        return reply(body, status=409)
    return reply(body)


def routes() -> list[tuple[str, str, Any]]:
    base = "/v1/{project_id}/models"
    return [
        ("POST", base, import_model),
        ("GET", base, list_models),
        ("GET", base + "/{model_id}", get_model),
        ("DELETE", base + "/{model_id}", delete_model),
    ]
