"""Services (ModelArts API Reference 2020, §7): deploy, list, detail, update/start/stop,
events, update logs, monitor, specifications, delete; plus the access address itself
(``/v1/infers/{id}``).

Deploy plans deploying (with ``progress``) -> running; batch: deploying -> running ->
finished. A config update plans deploying -> running again; ``status`` stopped/running stops
or restarts. Events and update logs are written with their (future) times when an action is
planned and shown once their time has come.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .catalog import BATCH_SPECS, EDGE_SPECS, REALTIME_SPECS, service_specifications
from .core import Core, core_of, json_body, offset_start, reply
from .errors import ApiError
from .models import model_status
from .state import DEFAULT_WORKSPACE_ID, Rec, cut_timeline, page_slice, status_at
from .validation import SERVICE_NAME, V, query_int, to_int

v = V("ModelArts.0107")

INFER_TYPES = {"real-time", "batch", "edge"}
STATUSES = {"running", "deploying", "concerning", "failed", "stopped", "finished"}
TIME_UNITS = {"DAYS": 86400, "HOURS": 3600, "MINUTES": 60}


# ---------------------------------------------------------------- validation
def validate_config(core: Core, infer_type: str, items: Any) -> list[dict[str, Any]]:
    """Check a deploy/update ``config`` and return it normalised (weights as ints)."""
    if not isinstance(items, list) or not items:
        raise ApiError(400, "ModelArts.0115", "Mandatory parameter is missing: config")
    if infer_type != "real-time":
        items = items[:1]  # batch and edge use the first model only (documented)
    out: list[dict[str, Any]] = []
    seen_versions: set[tuple[str, str]] = set()
    weights = 0
    for i, raw in enumerate(items):
        pre = f"config[{i}]."
        if not isinstance(raw, dict):
            raise v.bad(f"config[{i}] must be an object")
        item = dict(raw)
        mid = v.string(item, "model_id", required=True, prefix=pre)
        spec = v.string(item, "specification", required=True, prefix=pre)
        allowed = {"real-time": REALTIME_SPECS, "batch": BATCH_SPECS, "edge": EDGE_SPECS}
        if spec not in allowed[infer_type]:
            raise v.bad(f"{pre}specification {spec!r} is not supported for {infer_type}")
        if spec == "custom" and not isinstance(item.get("custom_spec"), dict):
            raise v.bad(f"{pre}custom_spec is required with specification custom")
        envs = item.get("envs")
        if envs is not None and (
            not isinstance(envs, dict) or not all(isinstance(x, str) for x in envs.values())
        ):
            raise v.bad(f"{pre}envs must be a map of strings")
        if infer_type == "real-time":
            item["weight"] = v.integer(item, "weight", required=True, lo=0, hi=100, prefix=pre)
            weights += item["weight"]
        if infer_type in ("real-time", "batch"):
            count = v.integer(item, "instance_count", required=True, lo=1, prefix=pre)
            if count is not None and count > 128:
                raise ApiError(
                    400,
                    "ModelArts.3522",
                    f"{pre}instance_count {count} exceeds the "
                    "maximum of 128 instances of a single service.",
                )
            item["instance_count"] = count
        if infer_type == "batch":
            for f in ("src_path", "dest_path", "req_uri"):
                v.string(item, f, required=True, prefix=pre)
            v.enum(item, "src_type", {"ManifestFile", ""}, prefix=pre)
            mapping = v.enum(item, "mapping_type", {"file", "csv"}, required=True, prefix=pre)
            if mapping == "csv" and not isinstance(item.get("mapping_rule"), dict):
                raise ApiError(
                    400, "ModelArts.0115", f"Mandatory parameter is missing: {pre}mapping_rule"
                )
        if infer_type == "edge":
            nodes = v.need(item, "nodes", pre)
            if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
                raise v.bad(f"{pre}nodes must be a list of node IDs")
        model = core.state.models.get(mid)
        if model is None:
            raise ApiError(404, "ModelArts.3507", f"The model {mid} does not exist.")
        if model_status(model, core.now_ms()) != "published":
            raise ApiError(
                409,
                "ModelArts.3515",
                f"Failed to deploy the service because the model {mid} has not been published. "
                "Try again later.",
            )
        installs = {t.replace("realtime", "real-time") for t in model["install_type"]}
        if infer_type not in installs:
            raise ApiError(
                400,
                "ModelArts.3589",
                f"Model {mid} cannot be used to deploy the {infer_type} service.",
            )
        if infer_type == "batch" and not model["request"].get("input_params"):
            raise ApiError(
                400,
                "ModelArts.3514",
                f"Failed to create the batch service: the model {mid} has no input parameters.",
            )
        key = (model["model_name"], model["model_version"])
        if key in seen_versions:
            raise ApiError(
                400,
                "ModelArts.3516",
                "Failed to deploy the real-time service: the "
                "model versions in the service are the same.",
            )
        seen_versions.add(key)
        item["model_name"], item["model_version"] = key
        out.append(item)
    if infer_type == "real-time" and weights != 100:
        raise v.bad(f"The sum of config[].weight must be 100, not {weights}")
    return out


def validate_schedule(items: Any) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    if not isinstance(items, list):
        raise v.bad("schedule must be an array")
    for i, item in enumerate(items):
        pre = f"schedule[{i}]."
        if not isinstance(item, dict):
            raise v.bad(f"schedule[{i}] must be an object")
        v.enum(item, "type", {"stop"}, required=True, prefix=pre)
        v.enum(item, "time_unit", set(TIME_UNITS), required=True, prefix=pre)
        item["duration"] = v.integer(item, "duration", required=True, lo=1, prefix=pre)
    return list(items)


# ---------------------------------------------------------------- planning
def _event(svc: Rec, t: int, info: str, kind: str = "normal") -> None:
    svc["events"].append([t, kind, info])


def _plan_deploy(core: Core, svc: Rec, now: int, seconds: float, *, first: bool) -> int:
    """Cut the future and plan deploying -> running (batch: -> finished). Returns ready time."""
    dur = core.phase(seconds)
    ready = now + dur
    tl = cut_timeline(svc["timeline"], now) if not first else []
    tl.append([now, "deploying"])
    forced = core.take_pending_force("service", svc["service_name"]) if first else None
    if forced is not None:
        tl.append([ready, forced.get("status") or "failed"])
        svc["error_msg"] = forced.get("error_msg") or "Forced failure."
    else:
        tl.append([ready, "running"])
    if svc["infer_type"] == "batch" and forced is None:
        tl.append([ready + core.phase(core.config.timings.batch_running), "finished"])
    due = _due(svc, ready)
    svc["due_time"] = due
    if due is not None and forced is None:
        tl.append([due, "stopped"])
    svc["timeline"] = tl
    _event(svc, now, "start to deploy service")
    for i, cfg in enumerate(svc["config"]):
        label = f"[{cfg['model_name']} {cfg['model_version']}]"
        step = dur // (len(svc["config"]) * 4 + 1)
        base = now + i * 4 * step
        _event(svc, base + 1, f"building image for model {label}")
        _event(svc, base + step, f"model {label} build image success")
        _event(svc, base + step + 1, "preparing environment")
        _event(svc, base + 2 * step, f"{label} prepare environment success")
        _event(svc, base + 2 * step + 1, f"{label} schedule resource success")
        _event(svc, base + 3 * step, f"{label} pulling model image")
        _event(svc, base + 3 * step + 1, f"{label} pull image success")
        _event(svc, base + 4 * step, f"{label} starting model")
    final = tl[1][1]
    if final == "running":
        _event(svc, ready, "service is running")
    elif final == "failed":
        _event(svc, ready, f"deploy service failed: {svc.get('error_msg', '')}", "abnormal")
    return ready


def _due(svc: Rec, running_at: int) -> int | None:
    for item in svc.get("schedule") or []:
        if item.get("type") == "stop":
            return running_at + int(item["duration"]) * TIME_UNITS[item["time_unit"]] * 1000
    return None


def _log(svc: Rec, now: int, done_at: int) -> None:
    svc["logs"].append({"update_time": now, "done_at": done_at, "config": svc["config"]})


def service_status(svc: Rec, now: int) -> str:
    return str(status_at(svc["timeline"], now))


def _progress(svc: Rec, now: int) -> int:
    tl = svc["timeline"]
    for i, (t, s) in enumerate(tl):
        nxt = tl[i + 1][0] if i + 1 < len(tl) else None
        if t <= now and (nxt is None or now < nxt):
            if s == "deploying" and nxt is not None:
                return min(99, int((now - t) * 100 / max(1, nxt - t)))
            return 100
    return 0


def force_service(core: Core, svc: Rec, status: str, error_msg: str | None) -> None:
    now = core.now_ms()
    svc["timeline"] = [*cut_timeline(svc["timeline"], now), [now, status]]
    if error_msg:
        svc["error_msg"] = error_msg
    kind = "abnormal" if status in ("failed", "concerning") else "normal"
    _event(svc, now, f"service status changed to {status}: {error_msg or ''}".strip(), kind)
    core.changed()


# ---------------------------------------------------------------- views
def _base(core: Core, svc: Rec) -> dict[str, Any]:
    now = core.now_ms()
    status = service_status(svc, now)
    transition = max((t for t, _ in svc["timeline"] if t <= now), default=svc["publish_at"])
    out: dict[str, Any] = {
        "service_id": svc["service_id"],
        "service_name": svc["service_name"],
        "description": svc.get("description", ""),
        "tenant": core.config.domain_id,
        "project": core.project_id,
        "owner": core.config.domain_id,
        "publish_at": svc["publish_at"],
        "infer_type": svc["infer_type"],
        "status": status,
        "progress": _progress(svc, now),
        "invocation_times": svc["invocation_times"],
        "failed_times": svc["failed_times"],
        "is_shared": False,
        "shared_count": 0,
        "workspace_id": svc["workspace_id"],
        "schedule": svc.get("schedule") or [],
        "operation_time": svc["operation_time"],
        "is_opened_sample_collection": False,
        "transition_at": transition,
        "is_free": False,
        "additional_properties": svc.get("additional_properties") or {},
    }
    if svc.get("due_time") is not None:
        out["due_time"] = svc["due_time"]
    if svc["infer_type"] == "batch":
        started = next((t for t, s in svc["timeline"] if s == "running" and t <= now), None)
        if started is not None:
            out["start_time"] = started
        if status == "finished":
            out["finished_time"] = next(t for t, s in svc["timeline"] if s == "finished")
    return out


def service_detail(core: Core, svc: Rec) -> dict[str, Any]:
    now = core.now_ms()
    out = _base(core, svc)
    status = out["status"]
    readiness = {"running": "ready", "concerning": "concerning"}.get(status, "notReady")
    config = []
    for item in svc["config"]:
        c = dict(item)
        if svc["infer_type"] == "real-time":
            c.setdefault("envs", {})
            c.update(
                status=readiness,
                scaling=False,
                support_debug=False,
                additional_properties={},
                source_type="",
            )
        elif svc["infer_type"] == "edge":
            stopped = svc.get("stopped_nodes") or []
            c["nodes"] = [
                _edge_node(n, status, "stopped" if n in stopped else None)
                for n in item.get("nodes", [])
            ]
        config.append(c)
    out["config"] = config
    out["update_time"] = svc["update_time"]
    if svc["infer_type"] == "real-time":
        # From the address it serves on now: a state file restored on another port keeps
        # the service reachable (the stored one named the old port).
        out["access_address"] = f"{core.base_url}/v1/infers/{svc['service_id']}"
    if status == "failed":
        out["error_msg"] = svc.get("error_msg") or "Deployment failed."
    for f in ("vpc_id", "subnet_network_id", "security_group_id", "cluster_id"):
        if svc.get(f):
            out[f] = svc[f]
    del now
    return out


def _edge_node(node_id: str, status: str, override: str | None = None) -> dict[str, Any]:
    inst = {"running": "running", "stopped": "stopped", "failed": "failed"}.get(status, "notReady")
    if override is not None and inst == "running":
        inst = override
    return {
        "id": node_id,
        "name": node_id,
        "instance_status": inst,
        "state": "RUNNING",
        "predict_url": f"https://{node_id}.edge:1032",
        "cpu": 4,
        "gpu_num": 0,
        "enable_gpu": "false",
        "host_ips": ["192.168.0.10"],
        "deployment_num": 1,
        "os_name": "EulerOS",
        "os_type": "Linux",
        "arch": "x86_64",
    }


# ---------------------------------------------------------------- handlers
def _service(core: Core, sid: str) -> Rec:
    svc = core.state.services.get(sid)
    if svc is None:
        raise ApiError(404, "ModelArts.3502", f"The service {sid} does not exist.")
    return svc


async def deploy(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    name = v.string(body, "service_name", required=True, pattern=SERVICE_NAME)
    assert name is not None
    v.string(body, "description", max_len=100)
    infer = v.enum(body, "infer_type", INFER_TYPES, required=True)
    assert infer is not None
    ws = v.string(body, "workspace_id") or DEFAULT_WORKSPACE_ID
    if body.get("vpc_id") and not (body.get("subnet_network_id") and body.get("security_group_id")):
        raise ApiError(
            400,
            "ModelArts.0115",
            "Mandatory parameter is missing: "
            "subnet_network_id and security_group_id are required with vpc_id",
        )
    if body.get("cluster_id"):
        raise ApiError(404, "ModelArts.3547", f"Cluster {body['cluster_id']} does not exist.")
    schedule = validate_schedule(body.get("schedule"))
    if schedule and infer != "real-time":
        raise v.bad("schedule is only supported for real-time services")
    props = v.obj(body, "additional_properties")
    core.usable_workspace(ws)
    config = validate_config(core, infer, body.get("config"))
    st = core.state
    if name in st.service_names:
        raise ApiError(409, "ModelArts.3503", f"The service {name} already exists.")
    if len(st.services) >= core.config.service_quota:
        raise ApiError(
            400,
            "ModelArts.3520",
            f"Max number of services exceeded; max {core.config.service_quota}.",
        )
    now = core.now_ms()
    sid = st.uuid()
    svc: Rec = {
        "service_id": sid,
        "service_name": name,
        "description": body.get("description", ""),
        "infer_type": infer,
        "workspace_id": ws,
        "config": config,
        "schedule": schedule,
        "additional_properties": props or {},
        "publish_at": now,
        "update_time": now,
        "operation_time": now,
        "timeline": [],
        "events": [],
        "logs": [],
        "invocation_times": 0,
        "failed_times": 0,
    }
    for f in ("vpc_id", "subnet_network_id", "security_group_id"):
        if body.get(f):
            svc[f] = body[f]
    ready = _plan_deploy(core, svc, now, core.config.timings.service_deploying, first=True)
    if infer != "batch":
        _log(svc, now, ready)
    st.services.add(sid, svc)
    st.service_names[name] = sid
    core.changed()
    return reply({"service_id": sid})


async def list_services(request: web.Request) -> web.Response:
    core = core_of(request)
    q = request.query
    code = "ModelArts.0107"
    offset = query_int(q, "offset", 0, 0, None, code)
    limit = query_int(q, "limit", 1000, 1, 1000, code)
    sort_by = q.get("sort_by") or "publish_at"
    if sort_by not in ("publish_at", "service_name"):
        raise ApiError(400, code, f"sort_by must be publish_at or service_name: {sort_by!r}")
    order = q.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise ApiError(400, code, f"order must be asc or desc: {order!r}")
    status = q.get("status")
    if status and status not in STATUSES:
        raise ApiError(400, code, f"status must be one of {sorted(STATUSES)}: {status!r}")
    infer = q.get("infer_type")
    if infer and infer not in INFER_TYPES:
        raise ApiError(400, code, f"infer_type must be one of {sorted(INFER_TYPES)}")
    ws = q.get("workspace_id") or DEFAULT_WORKSPACE_ID
    sid, name, mid = q.get("service_id"), q.get("service_name"), q.get("model_id")
    st = core.state
    now = core.now_ms()

    def in_ws(r: Rec) -> bool:
        return bool(r["workspace_id"] == ws)

    key = (lambda r: r["service_name"]) if sort_by == "service_name" else None
    ids = st.services.view(("services", ws, sort_by), in_ws, key)
    start = offset_start(core, offset, limit)
    if not any([sid, name, mid, infer, status]):
        page = page_slice(ids, start, limit, order == "desc")
        total = len(ids)
    else:
        seq = reversed(ids) if order == "desc" else iter(ids)
        page, total = [], 0
        for k in seq:
            r = st.services.items[k]
            if sid and r["service_id"] != sid:
                continue
            if name and name not in r["service_name"]:
                continue
            if mid and not any(c["model_id"] == mid for c in r["config"]):
                continue
            if infer and r["infer_type"] != infer:
                continue
            if status and service_status(r, now) != status:
                continue
            if start <= total < start + limit:
                page.append(k)
            total += 1
    services = [_base(core, st.services.items[k]) for k in page]
    return reply({"total_count": total, "count": len(services), "services": services})


async def get_service(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(service_detail(core, _service(core, request.match_info["service_id"])))


async def update_service(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    body = await json_body(request)
    desc = v.string(body, "description", max_len=100)
    new_status = v.enum(body, "status", {"running", "stopped"})
    schedule = validate_schedule(body.get("schedule"))
    if schedule and svc["infer_type"] != "real-time":
        raise v.bad("schedule is only supported for real-time services")
    props = v.obj(body, "additional_properties")
    now = core.now_ms()
    current = service_status(svc, now)
    t = core.config.timings
    if new_status is not None:
        if svc["infer_type"] == "batch":
            raise ApiError(
                409,
                "ModelArts.3519",
                "Update is not allowed for the service of the "
                f"current status: a batch service cannot be {new_status}.",
            )
        if new_status == "stopped" and current not in ("stopped",):
            svc["timeline"] = [*cut_timeline(svc["timeline"], now), [now, "stopped"]]
            svc["due_time"] = None
            _event(svc, now, "service stopped")
        elif new_status == "running" and current in ("stopped", "failed"):
            svc.pop("error_msg", None)
            ready = _plan_deploy(core, svc, now, t.service_deploying, first=False)
            _log(svc, now, ready)
        svc["operation_time"] = now
    elif body.get("config") is not None:
        if current == "deploying":
            raise ApiError(
                409,
                "ModelArts.3519",
                "Update is not allowed for the service of the "
                "current status. Wait until the service deployment is completed.",
            )
        if svc["infer_type"] == "edge":
            for item in body["config"]:
                for f in ("model_id", "specification", "envs"):
                    old = svc["config"][0].get(f)
                    if f in item and item[f] != old:
                        raise v.bad(f"config[].{f} of an edge service cannot be modified")
        svc["config"] = validate_config(core, svc["infer_type"], body["config"])
        svc["update_time"] = now
        if current == "stopped":
            _log(svc, now, now)
        else:
            svc.pop("error_msg", None)
            ready = _plan_deploy(core, svc, now, t.service_updating, first=False)
            _log(svc, now, ready)
    if desc is not None:
        svc["description"] = desc
    if schedule is not None:
        svc["schedule"] = schedule
    if props is not None:
        svc["additional_properties"] = props
    core.changed()
    return reply({})


async def delete_service(request: web.Request) -> web.Response:
    core = core_of(request)
    ids = [s for s in request.match_info["service_id"].split(",") if s]
    recs = [_service(core, sid) for sid in ids]
    for svc in recs:
        remove_service(core, svc)
    return reply({})


def remove_service(core: Core, svc: Rec) -> None:
    core.state.services.remove(svc["service_id"])
    core.state.service_names.pop(svc["service_name"], None)
    core.changed()


async def node_status(request: web.Request) -> web.Response:
    """Start or stop one edge node's instance: only running ones stop, stopped ones start."""
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    node = request.match_info["node_id"]
    body = await json_body(request)
    wanted = v.enum(body, "status", {"running", "stopped"}, required=True)
    nodes = svc["config"][0].get("nodes", []) if svc["infer_type"] == "edge" else []
    if node not in nodes:
        raise ApiError(404, "ModelArts.3509", f"The edge node {node} is not part of the service.")
    if service_status(svc, core.now_ms()) != "running":
        raise ApiError(
            409,
            "ModelArts.3513",
            "Failed to update the status of the edge node instance: the service is not running.",
        )
    stopped: list[str] = svc.setdefault("stopped_nodes", [])
    current = "stopped" if node in stopped else "running"
    if current == wanted:
        raise ApiError(
            409,
            "ModelArts.3513",
            f"Failed to update the status of the edge node instance: it is already {current}.",
        )
    if wanted == "stopped":
        stopped.append(node)
    else:
        stopped.remove(node)
    _event(svc, core.now_ms(), f"edge node {node} instance {wanted}")
    core.changed()
    return reply({})


async def events(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    q = request.query
    code = "ModelArts.0107"
    kind = q.get("event_type")
    if kind and kind not in ("normal", "abnormal"):
        raise ApiError(400, code, "event_type must be normal or abnormal")
    t0 = query_int(q, "start_time", 0, 0, None, code)
    now = core.now_ms()
    t1 = query_int(q, "end_time", now, 0, None, code)
    offset = query_int(q, "offset", 0, 0, None, code)
    limit = query_int(q, "limit", 1000, 1, 1000, code)
    order = q.get("order") or "desc"
    chosen = [
        e for e in svc["events"] if e[0] <= now and t0 <= e[0] <= t1 and (not kind or e[1] == kind)
    ]
    chosen.sort(key=lambda e: e[0], reverse=order == "desc")
    start = offset_start(core, offset, limit)
    page = chosen[start : start + limit]
    return reply(
        {
            "service_id": svc["service_id"],
            "service_name": svc["service_name"],
            "total_count": len(chosen),
            "count": len(page),
            "events": [{"occur_time": t, "event_type": k, "event_info": i} for t, k, i in page],
        }
    )


def _not_batch(svc: Rec, what: str) -> None:
    if svc["infer_type"] == "batch":
        raise ApiError(
            400, "ModelArts.0107", f"{what} is only available for real-time and edge services."
        )


async def update_logs(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    _not_batch(svc, "Update logs")
    now = core.now_ms()
    status = service_status(svc, now)
    logs = []
    for entry in reversed(svc["logs"]):
        if entry["update_time"] > now:
            continue
        if now < entry["done_at"]:
            result = "RUNNING"
        else:
            result = "FAIL" if status == "failed" and entry is svc["logs"][-1] else "SUCCESS"
        logs.append(
            {
                "update_time": entry["update_time"],
                "result": result,
                "config": [
                    {
                        k: c.get(k)
                        for k in (
                            "model_id",
                            "model_name",
                            "model_version",
                            "weight",
                            "specification",
                            "instance_count",
                            "envs",
                            "cluster_id",
                        )
                    }
                    for c in entry["config"]
                ],
                "extend_config": [],
            }
        )
    return reply(
        {"service_id": svc["service_id"], "service_name": svc["service_name"], "logs": logs}
    )


async def monitor(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    _not_batch(svc, "Monitoring")
    running = service_status(svc, core.now_ms()) in ("running", "concerning")
    monitors = []
    for i, c in enumerate(svc["config"]):
        count = to_int(c.get("instance_count")) or 1
        monitors.append(
            {
                "model_id": c["model_id"],
                "model_name": c["model_name"],
                "model_version": c["model_version"],
                "invocation_times": svc["invocation_times"],
                "failed_times": svc["failed_times"],
                "cpu_core_usage": round(0.4 + 0.1 * i, 2) * count if running else 0.0,
                "cpu_core_total": 2.0 * count,
                "cpu_memory_usage": 1024 * count if running else 0,
                "cpu_memory_total": 8192 * count,
                "gpu_usage": 0.0,
                "gpu_total": 0.0,
            }
        )
    return reply(
        {"service_id": svc["service_id"], "service_name": svc["service_name"], "monitors": monitors}
    )


async def specifications(request: web.Request) -> web.Response:
    infer = request.query.get("infer_type") or "real-time"
    if infer not in INFER_TYPES:
        raise ApiError(400, "ModelArts.0107", f"infer_type must be one of {sorted(INFER_TYPES)}")
    return reply({"specifications": service_specifications(infer)})


async def infer(request: web.Request) -> web.Response:
    """The access address: answers while the service runs, like the real inference gateway."""
    core = core_of(request)
    svc = core.state.services.get(request.match_info["service_id"])
    if svc is None or svc["infer_type"] != "real-time":
        raise ApiError(404, "ModelArts.4302", "The service does not exist.")
    await request.read()
    if service_status(svc, core.now_ms()) not in ("running", "concerning"):
        svc["failed_times"] += 1
        raise ApiError(503, "ModelArts.4302", "The service is not running.")
    svc["invocation_times"] += 1
    core.changed()
    return reply({"service_id": svc["service_id"], "predicted_label": "1", "scores": [[0.9, 0.1]]})


async def clusters(request: web.Request) -> web.Response:
    """Dedicated resource pools: the emulator has none (a ``cluster_id`` gets 3547)."""
    q = request.query
    query_int(q, "offset", 0, 0, None, "ModelArts.0107")
    query_int(q, "limit", 1000, 1, 1000, "ModelArts.0107")
    return reply({"total_count": 0, "count": 0, "clusters": []})


def routes() -> list[tuple[str, str, Any]]:
    base = "/v1/{project_id}/services"
    one = base + "/{service_id}"
    return [
        ("POST", base, deploy),
        ("GET", base, list_services),
        ("GET", base + "/specifications", specifications),
        ("GET", one, get_service),
        ("PUT", one, update_service),
        ("DELETE", one, delete_service),
        ("PUT", one + "/nodes/{node_id}/status", node_status),
        ("GET", one + "/events", events),
        ("GET", one + "/logs", update_logs),
        ("GET", one + "/monitor", monitor),
        ("POST", "/v1/infers/{service_id}", infer),
        ("GET", "/v1/{project_id}/clusters", clusters),
    ]
