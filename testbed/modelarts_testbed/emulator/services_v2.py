"""Inference services v2 (``/v2/{project_id}/services``): a container image on a dedicated
pool, ``group_configs[]`` (deployments) of ``unit_configs[]`` (roles).

Shapes follow the official SDK's models (ServiceCreateRequest, ServiceResponse,
ServiceItemResponseData). Status is upper case and lives on a timeline:

* create: DEPLOYING -> RUNNING (a forced outcome may end in FAILED, ERROR or CONCERNING);
* stop: STOPPING -> STOPPED; start: DEPLOYING -> RUNNING;
* a PUT that changes the deployment is a rolling upgrade to a new ``version``
  (UPGRADING -> RUNNING; a stopped service records the version and stays STOPPED). Every version
  is kept, so the previous one can be read back (``GET .../versions``) and made current again
  (``POST .../versions/switch``, the call Terraform uses);
* ``POST /services/delete``: DELETING, then gone (404 ModelArts.3502);
* a ``schedule`` of type STOP stops a running service by itself when its time comes.

Choices where the sources are silent: a config change needs a new ``version`` (400 naming
``version`` otherwise); updates are refused (409 ModelArts.3519) while DEPLOYING, UPGRADING,
STOPPING or DELETING; at most one ``group_configs`` entry (the SDK's limit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .pools import running_pool
from .state import DEFAULT_WORKSPACE_ID, GONE, Rec, cut_timeline, entered_at, status_at
from .validation import V, query_int

v = V("ModelArts.0107")

NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fa5]{1,64}$")
VERSION = re.compile(r"^(?=.{1,8}$)\d{1,2}\.\d{1,2}\.\d{1,2}$")
ROLE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_KEY = re.compile(r"^[A-Za-z_.\-][A-Za-z0-9_.\-]{0,63}$")
WORKSPACE = re.compile(r"^(0|[a-z0-9]{32})$")

# SDK ServiceCreateRequest.type / deploy_type; Terraform modelartsv2_service adds BATCH and
# EDGE, and DIST.
TYPES = {"REAL_TIME", "ASYNC_REAL_TIME", "BATCH", "EDGE"}
DEPLOY_TYPES = {"SINGLE", "MULTI", "DIST"}
PROTOCOLS = {"HTTP", "HTTPS", "WS", "WSS"}
AUTH_TYPES = {"TOKEN", "API_KEY", "NONE"}
FILE_SOURCES = {"OBS", "OBSFS", "EFS", "LOCAL"}  # SDK: "如下参数不区分大小写" (any case)
CODE_SOURCES = {"OBS", "OBSFS", "EFS", "GIT"}  # SDK Code.source; Terraform adds GIT
IMAGE_SOURCES = {"SWR", "IMAGE"}
IMAGE_CATEGORIES = {"CPU", "GPU", "ASCEND"}
TIME_UNITS = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86400}
LOG_TYPES = {"STDOUT", "EVENT", "FILE"}
SCHEDULE_STRATEGIES = {"HIGH_AVAILABILITY", "HIGH_UTILIZATION", "HIGH_PERFORMANCE"}
ROUTING = {
    "ROUND_ROBIN",
    "ORIGIN_IP_HASH",
    "MIN_CONN",
    "MIN_FIRST_TOKEN_TIME",
    "COMPOSITE",
    "SLO_BASED",
}
STATUSES = {
    "INIT",
    "DEPLOYING",
    "RUNNING",
    "CONCERNING",
    "FAILED",
    "STOPPING",
    "STOPPED",
    "UPGRADING",
    "DELETING",
    "ERROR",
}
FORCIBLE = {"RUNNING", "CONCERNING", "FAILED", "ERROR", "STOPPED"}
BUSY = {"DEPLOYING", "UPGRADING", "STOPPING", "DELETING"}
MAX_LIMIT = 500
MASK = "******"


# ---------------------------------------------------------------- validation
def _objects(value: Any, field: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise v.bad(f"{field} must be an array of objects")
    return value


def _mounts(unit: dict[str, Any], field: str, sources: set[str], pre: str) -> None:
    """A mount: its source (models and files in any case, SDK), a mount path starting with /
    of at most 255 characters (SDK), an address for OBS and OBSFS (Terraform: required unless
    the source is EFS)."""
    insensitive = field in ("models", "files")
    for j, item in enumerate(_objects(unit.get(field), pre + field)):
        at = f"{pre}{field}[{j}]."
        source = v.enum(
            item, "source", sources, required=True, case_insensitive=insensitive, prefix=at
        )
        limit = None if field == "dumps" else 255
        path = v.string(item, "mount_path", required=True, max_len=limit, prefix=at)
        if path is not None and not path.startswith("/"):
            raise v.bad(f"{at}mount_path must be an absolute path: {path!r}")
        if field != "dumps" and str(source).upper() in ("OBS", "OBSFS"):
            v.string(item, "address", required=True, prefix=at)


def _health(unit: dict[str, Any], field: str, pre: str) -> None:
    probe = unit.get(field)
    if probe is None:
        return
    if not isinstance(probe, dict):
        raise v.bad(f"{pre}{field} must be an object")
    at = f"{pre}{field}."
    method = v.enum(probe, "check_method", {"HTTP", "EXEC"}, prefix=at) or "HTTP"
    if method == "HTTP":
        url = v.string(probe, "url", required=True, max_len=1024, prefix=at)
        if url is not None and not url.startswith("/"):
            raise v.bad(f"{at}url must start with '/': {url!r}")
        v.enum(probe, "protocol", PROTOCOLS, prefix=at)
    else:
        cmd = v.string(probe, "cmd", required=True, max_len=1024, prefix=at)
        if cmd is not None and set("#~^$|%&*<>()'\"[]{}") & set(cmd):
            raise v.bad(f"{at}cmd contains a forbidden character")
    defaults = {
        "initial_delay_seconds": 30,
        "timeout_seconds": 30,
        "period_seconds": 10,
        "failure_threshold": 3,
    }
    for key, default in defaults.items():
        probe[key] = v.integer(probe, key, lo=1, default=default, prefix=at)
    probe["check_method"] = method


def _unit(unit: dict[str, Any], pre: str) -> dict[str, Any]:
    """A unit: the SDK's required image (source, swr_path), its enums, ranges and patterns."""
    image = unit.get("image")
    if not isinstance(image, dict):
        raise ApiError(400, "ModelArts.0115", f"Mandatory parameter is missing: {pre}image")
    v.enum(image, "source", IMAGE_SOURCES, required=True, prefix=pre + "image.")
    v.string(image, "swr_path", required=True, prefix=pre + "image.")
    image["category"] = v.enum(image, "category", IMAGE_CATEGORIES, prefix=pre + "image.") or "CPU"
    v.string(unit, "name", max_len=16, pattern=ROLE_NAME, prefix=pre)
    spec = unit.get("custom_spec")
    if spec is not None:
        if not isinstance(spec, dict):
            raise v.bad(f"{pre}custom_spec must be an object")
        at = pre + "custom_spec."
        for key, low in (("cpu", 0.01), ("gpu", 0.0)):
            value = spec.get(key)
            if value is not None and (not isinstance(value, int | float) or value < low):
                raise v.bad(f"{at}{key} must be a number >= {low}: {value!r}")
        v.integer(spec, "memory", prefix=at)
        v.integer(spec, "ascend", prefix=at)
        if spec.get("gpu") and spec.get("ascend"):  # Terraform: "cannot be configured together"
            raise v.bad(f"{at}gpu and {at}ascend cannot be used together")
        v.enum(spec, "arch", {"x86", "arm64"}, prefix=at)
    unit["count"] = v.integer(unit, "count", default=1, prefix=pre)
    v.integer(unit, "port", lo=1, hi=65535, prefix=pre)
    v.integer(unit, "group_count", lo=1, hi=100, prefix=pre)
    v.enum(unit, "recovery", {"Instance", "Role", "Pod", "INSTANCE_GROUP", "INSTANCE"}, prefix=pre)
    envs = unit.get("envs")
    if envs is not None:
        if not isinstance(envs, dict):
            raise v.bad(f"{pre}envs must be a map of strings")
        for key, value in envs.items():
            if not ENV_KEY.match(key):
                raise v.bad(f"{pre}envs key {key!r} is invalid")
            if not isinstance(value, str) or re.search(r"<[^>]*>", value):
                raise v.bad(f"{pre}envs[{key}] must be a string without HTML tags")
    _mounts(unit, "files", FILE_SOURCES, pre)
    _mounts(unit, "models", FILE_SOURCES, pre)
    _mounts(unit, "codes", CODE_SOURCES, pre)
    _mounts(unit, "dumps", {"OBS", "OBSFS"}, pre)
    if len(unit.get("dumps") or []) > 20:
        raise v.bad(f"{pre}dumps accepts at most 20 elements")
    for probe in ("readiness_health", "startup_health", "liveness_health"):
        _health(unit, probe, pre)
    return unit


def validate_groups(core: Core, groups: Any, *, creating: bool) -> list[dict[str, Any]]:
    """``group_configs``: at most one deployment; ``[]`` only at create."""
    if groups is None:
        raise ApiError(400, "ModelArts.0115", "Mandatory parameter is missing: group_configs")
    items = _objects(groups, "group_configs")
    if len(items) > 1:
        raise v.bad("group_configs accepts at most 1 element; add deployments separately")
    if not items and not creating:
        raise v.bad("group_configs must not be empty")
    out = []
    for i, raw in enumerate(items):
        group = dict(raw)
        pre = f"group_configs[{i}]."
        v.string(group, "name", required=True, prefix=pre)
        group["weight"] = v.integer(group, "weight", required=True, lo=0, hi=100, prefix=pre)
        if group["weight"] != 100:  # Terraform: "The sum of all group weights must be 100"
            raise v.bad(f"The sum of group_configs[].weight must be 100, not {group['weight']}")
        v.string(group, "pool_id", prefix=pre)
        group["count"] = v.integer(group, "count", lo=1, hi=128, default=1, prefix=pre)
        group["framework"] = v.enum(group, "framework", {"COMMON", "VLLM", "MINDIE"},
                                    prefix=pre) or "COMMON"  # fmt: skip
        v.integer(group, "priority", lo=1, hi=3, prefix=pre)
        v.enum(group, "schedule_strategy", SCHEDULE_STRATEGIES, prefix=pre)
        units = _objects(group.get("unit_configs"), pre + "unit_configs")
        if not units:  # Terraform modelartsv2_service: unit_configs (Required)
            raise ApiError(
                400, "ModelArts.0115", f"Mandatory parameter is missing: {pre}unit_configs"
            )
        group["unit_configs"] = [
            _unit(dict(u), f"{pre}unit_configs[{j}].") for j, u in enumerate(units)
        ]
        for unit in group["unit_configs"]:
            unit["id"] = core.state.uuid()
        group["id"] = core.state.uuid()
        out.append(group)
    return out


def validate_runtime(body: dict[str, Any], *, required: bool) -> dict[str, Any] | None:
    runtime = body.get("runtime_config")
    if runtime is None:
        if required:
            raise ApiError(400, "ModelArts.0115", "Mandatory parameter is missing: runtime_config")
        return None
    if not isinstance(runtime, dict):
        raise v.bad("runtime_config must be an object")
    invoke = runtime.get("service_invoke")
    if not isinstance(invoke, dict):
        raise ApiError(
            400, "ModelArts.0115", "Mandatory parameter is missing: runtime_config.service_invoke"
        )
    at = "runtime_config.service_invoke."
    v.integer(invoke, "port", required=True, lo=1, hi=65535, prefix=at)
    protocol = v.enum(invoke, "protocol", PROTOCOLS, required=True, prefix=at)
    if body.get("type") == "ASYNC_REAL_TIME" and protocol not in ("HTTP", "HTTPS"):
        raise v.bad(f"{at}protocol of an ASYNC_REAL_TIME service must be HTTP or HTTPS")
    v.enum(invoke, "auth_type", AUTH_TYPES, required=True, prefix=at)
    v.integer(invoke, "request_retry_cnt_max", lo=1, hi=10, prefix=at)
    v.integer(invoke, "request_retry_interval_ms", lo=1, hi=10000, prefix=at)
    v.enum(invoke, "strategy", ROUTING, prefix=at)
    # SDK RuntimeConfigCreateRequest/UpdateRequest: service_limit is required.
    limit = runtime.get("service_limit")
    at = "runtime_config.service_limit."
    if limit is None:
        raise ApiError(400, "ModelArts.0115", f"Mandatory parameter is missing: {at[:-1]}")
    if not isinstance(limit, dict) or not isinstance(limit.get("rate_limit"), dict):
        raise ApiError(400, "ModelArts.0115", f"Mandatory parameter is missing: {at}rate_limit")
    rate = "rate_limit."
    v.integer(limit["rate_limit"], "num", required=True, lo=1, hi=10000, prefix=at + rate)
    v.enum(limit["rate_limit"], "unit", {"SECONDS", "MINUTES"}, required=True, prefix=at + rate)
    v.integer(limit, "request_size_limit", required=True, lo=1, hi=50, prefix=at)
    v.integer(limit, "request_timeout", required=True, lo=1, hi=7200, prefix=at)
    return runtime


def validate_schedule(items: Any) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    out = []
    schedules = _objects(items, "schedule")
    if len(schedules) > 1:
        raise v.bad("schedule accepts at most 1 element")
    for i, raw in enumerate(schedules):
        item = dict(raw)
        pre = f"schedule[{i}]."
        v.enum(item, "type", {"STOP"}, required=True, prefix=pre)
        unit = v.enum(item, "time_unit", set(TIME_UNITS), required=True, prefix=pre)
        item["duration"] = v.integer(item, "duration", required=True, lo=1, prefix=pre)
        seconds = item["duration"] * TIME_UNITS[str(unit)]
        if not 60 <= seconds <= 7 * 86400:
            raise v.bad(f"{pre}duration must total between 1 minute and 7 days")
        out.append(item)
    return out


def validate_upgrade(value: Any) -> dict[str, Any]:
    if value is None:
        return {"type": "ROLLING", "rolling_update": {"max_surge": "1%", "max_unavailable": "1%"}}
    if not isinstance(value, dict):
        raise v.bad("upgrade_config must be an object")
    v.enum(value, "type", {"ROLLING"}, prefix="upgrade_config.")
    rolling = value.get("rolling_update") or {}
    for key in ("max_surge", "max_unavailable"):
        pct = rolling.get(key, "1%")
        if not isinstance(pct, str) or not re.fullmatch(r"([1-9]\d?|100)%", pct):
            raise v.bad(f"upgrade_config.rolling_update.{key} must be 1%..100%: {pct!r}")
    return {"type": "ROLLING", "rolling_update": {
        "max_surge": rolling.get("max_surge", "1%"),
        "max_unavailable": rolling.get("max_unavailable", "1%"),
    }}  # fmt: skip


def validate_logs(value: Any) -> list[dict[str, Any]]:
    items = _objects(value, "log_configs")
    if len(items) > 3:
        raise v.bad("log_configs accepts at most 3 elements")
    seen: set[str] = set()
    for i, item in enumerate(items):
        pre = f"log_configs[{i}]."
        kind = v.enum(item, "type", LOG_TYPES, required=True, prefix=pre)
        if kind in seen:
            raise v.bad(f"{pre}type {kind} appears twice")
        seen.add(str(kind))
        item["status"] = v.enum(item, "status", {"ON", "OFF"}, prefix=pre) or "ON"
    return items


def validate_tags(value: Any) -> list[dict[str, str]]:
    items = _objects(value, "tags")
    if len(items) > 20:
        raise v.bad("tags accepts at most 20 elements")
    for i, item in enumerate(items):
        key = v.string(item, "key", required=True, min_len=1, max_len=128, prefix=f"tags[{i}].")
        if key is not None and key.startswith("_sys_"):
            raise v.bad(f"tags[{i}].key must not start with _sys_")
        v.string(item, "value", max_len=256, prefix=f"tags[{i}].")
    return [{"key": t["key"], "value": t.get("value", "")} for t in items]


# ---------------------------------------------------------------- planning
def service_status(svc: Rec, now: int) -> str:
    return str(status_at(svc["timeline"], now))


def _plan_run(core: Core, svc: Rec, now: int, through: str, seconds: float) -> None:
    """Cut the future; ``through`` (DEPLOYING/UPGRADING) now, then RUNNING (or a forced end),
    then the scheduled stop."""
    ready = now + core.phase(seconds)
    tl = cut_timeline(svc["timeline"], now) if svc["timeline"] else []
    tl.append([now, through])
    forced = core.take_pending_force("service_v2", svc["name"])
    end = str(forced.get("status") or "FAILED") if forced is not None else "RUNNING"
    if forced is not None:
        svc["failure_reason"] = forced.get("error_msg") or "Forced failure."
    else:
        svc.pop("failure_reason", None)
    tl.append([ready, end])
    svc["due_time"] = None
    for item in svc.get("schedule") or []:
        if end == "RUNNING":
            due = ready + int(item["duration"]) * TIME_UNITS[item["time_unit"]] * 1000
            svc["due_time"] = due
            tl.append([due, "STOPPED"])
    svc["timeline"] = tl


def _plan_stop(core: Core, svc: Rec, now: int) -> None:
    tl = cut_timeline(svc["timeline"], now)
    tl += [
        [now, "STOPPING"],
        [now + core.phase(core.config.timings.service_v2_stopping), "STOPPED"],
    ]
    svc["timeline"] = tl
    svc["due_time"] = None


def force_service_v2(core: Core, svc: Rec, status: str, error_msg: str | None) -> None:
    now = core.now_ms()
    svc["timeline"] = [*cut_timeline(svc["timeline"], now), [now, status]]
    if error_msg:
        svc["failure_reason"] = error_msg
    core.changed()


# ---------------------------------------------------------------- views
def _ms_text(ms: int) -> str:
    """Detail responses carry times as strings of epoch milliseconds (SDK type ``str``)."""
    return str(ms)


def _group_view(group: dict[str, Any], status: str, version: Rec, svc: Rec) -> dict[str, Any]:
    out = dict(group)
    running = status in ("RUNNING", "CONCERNING")
    out.update(
        status=status,
        running_count=group["count"] if running else 0,
        traffic_ratio=f"{group['weight']:.2f}%",
        version=version["version"],
        version_id=version["id"],
        version_count=len(svc["versions"]),
        create_at=_ms_text(version["create_at"]),
        update_at=version["create_at"],
        infer_name=f"{svc['name']}-{group['name']}",
    )
    out["unit_configs"] = [dict(u, flavor_display_name=u.get("flavor") or "custom")
                           for u in group["unit_configs"]]  # fmt: skip
    return out


def predict_url(core: Core, svc: Rec) -> str:
    return f"{core.base_url}/v2/infers/{svc['id']}"


def _masked(runtime: dict[str, Any]) -> dict[str, Any]:
    """Secret values are never echoed back."""
    secret = runtime.get("service_secret")
    if not isinstance(secret, dict) or not secret.get("secret_volumes"):
        return runtime
    volumes = [{**vol, "secret_value": MASK} for vol in secret["secret_volumes"]]
    return {**runtime, "service_secret": {**secret, "secret_volumes": volumes}}


def service_view(core: Core, svc: Rec) -> dict[str, Any]:
    """ServiceResponse (create, show, update, start, stop, delete items)."""
    now = core.now_ms()
    status = service_status(svc, now)
    current = svc["versions"][-1]
    deployed = entered_at(svc["timeline"], "RUNNING", now) is not None
    version = {
        "id": current["id"],
        "version": current["version"],
        "description": current.get("description", ""),
        "predict_url": predict_url(core, svc) if deployed else "",
        "runtime_config": _masked(current["runtime_config"]),
        "upgrade_config": current["upgrade_config"],
        "instance_groups": [_group_view(g, status, current, svc) for g in current["groups"]],
        "lts_strategy": svc["lts_strategy"],
        "log_configs": [
            {**c, "deployment_id": g["id"]}
            for c in current["log_configs"]
            for g in current["groups"][:1]
        ],
        "deploy_timeout_minutes": svc["deploy_timeout_minutes"],
    }
    out: dict[str, Any] = {
        "id": svc["id"],
        "name": svc["name"],
        "workspace_id": svc["workspace_id"],
        "type": svc["type"],
        "deploy_type": svc["deploy_type"],
        "status": status,
        "version": version,
        "predict_url": (
            [{"type": "INTERNAL", "urls": [predict_url(core, svc)]}] if deployed else []
        ),
        "tags": svc["tags"],
        "deploy_timeout_minutes": svc["deploy_timeout_minutes"],
        "schedule": _schedule_view(svc, now),
        "create_at": _ms_text(svc["create_at"]),
        "update_at": _ms_text(svc["update_at"]),
        "frozen_infos": [],
    }
    if status in ("FAILED", "ERROR", "CONCERNING"):
        out["failure_reason"] = svc.get("failure_reason") or f"The service is {status}."
    if svc.get("task_type"):
        out["task_type"] = svc["task_type"]
    if svc.get("provider"):
        out["provider"] = svc["provider"]
    return out


def _schedule_view(svc: Rec, now: int) -> list[dict[str, Any]]:
    due = svc.get("due_time")
    return [
        {
            **item,
            **({"due_time": due} if due is not None else {}),
            "processed": due is not None and now >= due,
        }
        for item in svc.get("schedule") or []
    ]


def item_view(core: Core, svc: Rec) -> dict[str, Any]:
    """ServiceItemResponseData (list items: times as integers)."""
    now = core.now_ms()
    current = svc["versions"][-1]
    return {
        "id": svc["id"],
        "name": svc["name"],
        "status": service_status(svc, now),
        "version": current["version"],
        "version_count": len(svc["versions"]),
        "description": current.get("description", ""),
        "type": svc["type"],
        "deploy_type": svc["deploy_type"],
        "user_name": core.config.iam_user,
        "workspace_id": svc["workspace_id"],
        "create_at": svc["create_at"],
        "update_at": svc["update_at"],
        "auth_type": current["runtime_config"]["service_invoke"]["auth_type"],
        "tags": svc["tags"],
        "schedule": _schedule_view(svc, now),
        "frozen_infos": [],
        **({"task_type": svc["task_type"]} if svc.get("task_type") else {}),
    }


# ---------------------------------------------------------------- lookups
def live_service(core: Core, sid: str) -> Rec | None:
    """The record, or None once its deletion has finished (then it is purged)."""
    svc = core.state.services_v2.get(sid)
    if svc is None:
        return None
    if service_status(svc, core.now_ms()) == GONE:
        remove_service_v2(core, svc)
        return None
    return svc


def _service(core: Core, sid: str) -> Rec:
    svc = live_service(core, sid)
    if svc is None:
        raise ApiError(404, "ModelArts.3502", f"Service {sid} does not exist.")
    return svc


def remove_service_v2(core: Core, svc: Rec) -> None:
    core.state.services_v2.remove(svc["id"])
    if core.state.service_v2_names.get(svc["name"]) == svc["id"]:
        del core.state.service_v2_names[svc["name"]]
    core.changed()


def _version(core: Core, body: dict[str, Any], groups: list[dict[str, Any]], runtime: Any,
             previous: Rec | None) -> Rec:  # fmt: skip
    return {
        "id": core.state.uuid(),
        "version": body.get("version") or (previous["version"] if previous else "1.0.0"),
        "description": body.get("description", previous.get("description", "") if previous else ""),
        "groups": groups,
        "runtime_config": runtime,
        "upgrade_config": validate_upgrade(body.get("upgrade_config"))
        if body.get("upgrade_config") is not None or previous is None
        else previous["upgrade_config"],
        "log_configs": validate_logs(body.get("log_configs"))
        if body.get("log_configs") is not None or previous is None
        else previous["log_configs"],
        "create_at": core.now_ms(),
    }


# ---------------------------------------------------------------- handlers
async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    name = v.string(body, "name", required=True, pattern=NAME)
    assert name is not None
    v.string(body, "version", pattern=VERSION)
    desc = v.string(body, "description", max_len=512)
    if desc is not None and set("<>") & set(desc):
        raise v.bad("description must not contain < or >")
    kind = v.enum(body, "type", TYPES, required=True)
    deploy_type = v.enum(body, "deploy_type", DEPLOY_TYPES) or "SINGLE"
    ws = v.string(body, "workspace_id", pattern=WORKSPACE) or DEFAULT_WORKSPACE_ID
    lts = v.enum(body, "lts_strategy", {"POOL", "AUTO_CREATE", "DEFAULT"}) or "AUTO_CREATE"
    timeout = v.integer(body, "deploy_timeout_minutes", lo=0, hi=300, default=30)
    v.enum(body, "workload_type", {"DEPLOYMENT", "LWS"})
    schedule = validate_schedule(body.get("schedule"))
    tags = validate_tags(body.get("tags"))
    runtime = validate_runtime(body, required=True)
    core.usable_workspace(ws)
    groups = validate_groups(core, body.get("group_configs"), creating=True)
    for group in groups:
        if group.get("pool_id"):
            running_pool(core, group["pool_id"], "Infer")
    st = core.state
    if name in st.service_v2_names and live_service(core, st.service_v2_names[name]):
        raise ApiError(409, "ModelArts.3503", f"Service {name} already exists.")
    if len(st.services_v2) >= core.config.service_quota:
        raise ApiError(
            400,
            "ModelArts.3520",
            f"Max number of services exceeded; max {core.config.service_quota}.",
        )
    now = core.now_ms()
    sid = st.uuid()
    svc: Rec = {
        "id": sid,
        "name": name,
        "type": kind,
        "deploy_type": deploy_type,
        "workspace_id": ws,
        "lts_strategy": lts,
        "deploy_timeout_minutes": timeout,
        "schedule": schedule,
        "tags": tags,
        "task_type": body.get("task_type"),
        "provider": request.headers.get("X-Auth-Token-Provider"),
        "versions": [],
        "create_at": now,
        "update_at": now,
        "timeline": [],
    }
    svc["versions"].append(_version(core, body, groups, runtime, None))
    _plan_run(core, svc, now, "DEPLOYING", core.config.timings.service_v2_deploying)
    st.services_v2.add(sid, svc)
    st.service_v2_names[name] = sid
    core.changed()
    return reply(service_view(core, svc))


async def list_services(request: web.Request) -> web.Response:
    core = core_of(request)
    q = request.query
    code = "ModelArts.0107"
    limit = query_int(q, "limit", 10, 1, MAX_LIMIT, code)
    offset = query_int(q, "offset", 0, 0, None, code)
    if offset % limit:
        raise ApiError(400, code, f"offset must be a multiple of limit ({limit}): {offset}")
    sort_dir = q.get("sort_dir") or "DESC"
    if sort_dir not in ("ASC", "DESC"):
        raise ApiError(400, code, f"sort_dir must be ASC or DESC: {sort_dir!r}")
    keys = [k.strip() for k in (q.get("sort_key") or "update_at").split(",") if k.strip()]
    if not keys or any(k not in ("create_at", "update_at") for k in keys):
        raise ApiError(400, code, f"sort_key must be create_at and/or update_at: {keys!r}")
    status = q.get("status")
    if status and status not in STATUSES:
        raise ApiError(400, code, f"status must be one of {sorted(STATUSES)}: {status!r}")
    kind = q.get("type")
    if kind and kind not in TYPES:
        raise ApiError(400, code, f"type must be one of {sorted(TYPES)}: {kind!r}")
    wanted_tags = tag_filter(q.get("tags"))
    now = core.now_ms()
    st = core.state
    matches = []
    for rec in list(st.services_v2.items.values()):
        if service_status(rec, now) == GONE:
            remove_service_v2(core, rec)
            continue
        if not _matches(rec, q, now, wanted_tags):
            continue
        matches.append(rec)
    matches.sort(key=lambda r: tuple(r[k] for k in keys), reverse=sort_dir == "DESC")
    page = matches[offset : offset + limit]
    total = len(matches)
    return reply(
        {
            "data": [item_view(core, r) for r in page],
            "current": offset // limit,
            "size": len(page),
            "pages": math.ceil(total / limit),
            "total": total,
        }
    )


def tag_filter(raw: str | None) -> list[tuple[str, str | None]]:
    """``k1|v1,k2|v2`` (a key alone matches any value)."""
    if not raw:
        return []
    out: list[tuple[str, str | None]] = []
    for part in raw.split(","):
        key, sep, value = part.partition("|")
        out.append((key, value if sep else None))
    return out


def has_tags(tags: list[dict[str, str]], wanted: list[tuple[str, str | None]]) -> bool:
    have = {t["key"]: t.get("value", "") for t in tags}
    return all(k in have and (val is None or have[k] == val) for k, val in wanted)


def _matches(rec: Rec, q: Any, now: int, wanted_tags: list[tuple[str, str | None]]) -> bool:
    current = rec["versions"][-1]
    pools = {g.get("pool_id") for g in current["groups"]}
    checks: list[tuple[str, Callable[[str], bool]]] = [
        ("id", lambda x: rec["id"] == x),
        ("name", lambda x: x in rec["name"]),
        ("status", lambda x: service_status(rec, now) == x),
        ("type", lambda x: rec["type"] == x),
        ("workspace_id", lambda x: rec["workspace_id"] == x),
        ("pool_id", lambda x: x in pools),
        ("description", lambda x: x in current.get("description", "")),
        ("auth_type", lambda x: current["runtime_config"]["service_invoke"]["auth_type"] == x),
    ]
    for key, test in checks:
        value = q.get(key)
        if value and not test(value):
            return False
    return has_tags(rec["tags"], wanted_tags)


async def show(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(service_view(core, _service(core, request.match_info["service_id"])))


# What entering each status writes to the service's event log (the SDK's event types).
_STATUS_EVENTS = {
    "DEPLOYING": ("NORMAL", "start to deploy service"),
    "RUNNING": ("NORMAL", "service is running"),
    "UPGRADING": ("NORMAL", "start to upgrade service"),
    "STOPPING": ("NORMAL", "start to stop service"),
    "STOPPED": ("NORMAL", "service stopped"),
    "DELETING": ("NORMAL", "start to delete service"),
    "CONCERNING": ("WARNING", "some instances of the service are abnormal"),
    "FAILED": ("ABNORMAL", "service failed"),
    "ERROR": ("ABNORMAL", "service error"),
}


def service_events(svc: Rec, now: int) -> list[dict[str, Any]]:
    """The service's events up to ``now`` (ServiceEventResponse), oldest first: one per
    status it entered, so reading them is a pure function of the clock."""
    out = []
    version = svc["versions"][-1]["id"]
    for i, (t, status) in enumerate(svc["timeline"]):
        if t > now or status not in _STATUS_EVENTS:
            continue
        kind, info = _STATUS_EVENTS[status]
        if kind == "ABNORMAL" and svc.get("failure_reason"):
            info = f"{info}: {svc['failure_reason']}"
        out.append(
            {
                "id": f"{svc['id'][:8]}-{i:04d}",
                "service_id": svc["id"],
                "service_version_id": version,
                "event_count": 1,
                "event_type": kind,
                "event_info": info,
                "create_at": int(t),
                "update_at": int(t),
            }
        )
    return out


async def events(request: web.Request) -> web.Response:
    """``GET /services/{id}/events`` (list_infer_service_events): ``offset`` a multiple of
    ``limit`` (1-500, default 10), newest first by default (``sort_key`` update_at)."""
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    q = request.query
    limit = query_int(q, "limit", 10, 1, MAX_LIMIT, v.invalid_code)
    offset = query_int(q, "offset", 0, 0, None, v.invalid_code)
    if offset % limit:
        raise v.bad(f"offset must be a multiple of limit: {offset}")
    kind = q.get("event_type")
    if kind and kind not in ("NORMAL", "ABNORMAL", "WARNING"):
        raise v.bad(f"event_type must be NORMAL, ABNORMAL or WARNING: {kind!r}")
    key = q.get("sort_key") or "update_at"
    if key not in ("create_at", "update_at"):
        raise v.bad(f"sort_key must be create_at or update_at: {key!r}")
    direction = (q.get("sort_dir") or "DESC").upper()
    if direction not in ("ASC", "DESC"):
        raise v.bad(f"sort_dir must be ASC or DESC: {direction!r}")
    lo = query_int(q, "start_time", 0, 0, None, v.invalid_code)
    hi = query_int(q, "end_time", 2**62, 0, None, v.invalid_code)
    text = q.get("event_info_key") or ""
    found = [
        e
        for e in service_events(svc, core.now_ms())
        if (not kind or e["event_type"] == kind) and lo <= e[key] <= hi and text in e["event_info"]
    ]
    found.sort(key=lambda e: (e[key], e["id"]), reverse=direction == "DESC")
    return reply(
        {
            "current": offset // limit,
            "pages": math.ceil(len(found) / limit),
            "size": limit,
            "total": len(found),
            "data": found[offset : offset + limit],
        }
    )


async def update(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    body = await json_body(request)
    if svc.get("provider") and request.headers.get("X-Auth-Token-Provider") != svc["provider"]:
        raise ApiError(403, "ModelArts.0108", "A provider service is updated by its provider only.")
    now = core.now_ms()
    status = service_status(svc, now)
    if _repeats_latest(body, svc["versions"][-1]):
        return reply(service_view(core, svc))  # a retried upgrade: already applied
    if status in BUSY:
        raise ApiError(
            409,
            "ModelArts.3519",
            f"Update is not allowed for the service in status {status}. Try again later.",
        )
    desc = v.string(body, "description", max_len=512)
    new_version = v.string(body, "version", pattern=VERSION)
    schedule = validate_schedule(body.get("schedule"))
    v.integer(body, "deploy_timeout_minutes", lo=0, hi=300)
    body.setdefault("type", svc["type"])
    runtime = validate_runtime(body, required=False)
    current = svc["versions"][-1]
    reconfigures = any(
        body.get(k) is not None
        for k in ("group_configs", "runtime_config", "upgrade_config", "log_configs")
    )
    if reconfigures:
        if new_version is None or any(x["version"] == new_version for x in svc["versions"]):
            raise v.bad(
                "version: a configuration change is a rolling upgrade and needs a new version "
                f"(current {current['version']}, got {new_version!r})"
            )
        groups = (
            validate_groups(core, body["group_configs"], creating=False)
            if body.get("group_configs") is not None
            else current["groups"]
        )
        svc["versions"].append(
            _version(core, body, groups, runtime or current["runtime_config"], current)
        )
        if status in ("RUNNING", "CONCERNING", "FAILED", "ERROR"):
            through = "UPGRADING" if status in ("RUNNING", "CONCERNING") else "DEPLOYING"
            _plan_run(core, svc, now, through, core.config.timings.service_v2_upgrading)
    elif new_version is not None and new_version != current["version"]:
        raise v.bad("version: a new version needs a configuration change (group_configs, ...)")
    elif desc is not None:
        current["description"] = desc
    if schedule is not None:
        svc["schedule"] = schedule
    if body.get("deploy_timeout_minutes") is not None:
        svc["deploy_timeout_minutes"] = int(body["deploy_timeout_minutes"])
    svc["update_at"] = now
    core.changed()
    return reply(service_view(core, svc))


def _without_ids(value: Any) -> Any:
    """A configuration as sent: the ids the emulator assigned are not part of it."""
    if isinstance(value, dict):
        return {k: _without_ids(x) for k, x in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(x) for x in value]
    return value


def _repeats_latest(body: dict[str, Any], latest: Rec) -> bool:
    """The body asks again for the latest version with the configuration it already has (a
    client re-sending an upgrade whose answer it lost); comparing after validation's defaults
    would need the defaults, so only fields present in the stored version count."""
    if body.get("version") != latest["version"] or body.get("group_configs") is None:
        return False
    stored = {
        "group_configs": _without_ids(latest["groups"]),
        "runtime_config": latest["runtime_config"],
        "upgrade_config": latest["upgrade_config"],
        "log_configs": latest["log_configs"],
    }
    for key, sent in body.items():
        if key in stored and not _covers(stored[key], _without_ids(sent)):
            return False
    return True


def _covers(stored: Any, sent: Any) -> bool:
    """Every field that was sent has the stored value (stored objects may hold defaults)."""
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(_covers(stored.get(k), x) for k, x in sent.items())
    if isinstance(sent, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(sent)
            and all(_covers(a, b) for a, b in zip(stored, sent, strict=True))
        )
    return bool(stored == sent)


async def start(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    now = core.now_ms()
    status = service_status(svc, now)
    if status not in ("STOPPED", "FAILED", "ERROR"):
        raise ApiError(409, "ModelArts.3519", f"A service in status {status} cannot be started.")
    _plan_run(core, svc, now, "DEPLOYING", core.config.timings.service_v2_deploying)
    svc["update_at"] = now
    core.changed()
    return reply(service_view(core, svc))


async def stop(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    now = core.now_ms()
    status = service_status(svc, now)
    if status in ("STOPPED", "STOPPING", "DELETING"):
        raise ApiError(409, "ModelArts.3519", f"A service in status {status} cannot be stopped.")
    _plan_stop(core, svc, now)
    svc["update_at"] = now
    core.changed()
    return reply(service_view(core, svc))


async def batch_delete(request: web.Request) -> web.Response:
    """All ids must exist (404 names the first one that does not); deletion is asynchronous and
    a repeated delete of a DELETING service is accepted."""
    core = core_of(request)
    body = await json_body(request)
    ids = body.get("service_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "ModelArts.0115", "Mandatory parameter is missing: service_ids")
    recs = [_service(core, sid) for sid in ids]
    now = core.now_ms()
    for svc in recs:
        if service_status(svc, now) != "DELETING":
            gone = now + core.phase(core.config.timings.service_v2_deleting)
            svc["timeline"] = [*cut_timeline(svc["timeline"], now), [now, "DELETING"], [gone, GONE]]
    core.changed()
    return reply({"service_responses": [service_view(core, s) for s in recs]})


async def versions(request: web.Request) -> web.Response:
    """Every version of the service, newest first (the previous one is the second)."""
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    q = request.query
    limit = query_int(q, "limit", 10, 1, MAX_LIMIT, "ModelArts.0107")
    offset = query_int(q, "offset", 0, 0, None, "ModelArts.0107")
    items = list(reversed(svc["versions"]))
    page = items[offset : offset + limit]
    now_status = service_status(svc, core.now_ms())  # the latest version's; older ones idle
    data = [
        {
            "id": ver["id"],
            "version": ver["version"],
            "description": ver.get("description", ""),
            "create_at": ver["create_at"],
            "instance_groups": [
                _group_view(g, now_status if ver is svc["versions"][-1] else "STOPPED", ver, svc)
                for g in ver["groups"]
            ],
        }
        for ver in page
    ]
    return reply({"data": data, "total": len(items), "current": offset // limit, "size": len(data)})


async def switch_version(request: web.Request) -> web.Response:
    """Make a recorded version current again (the way back after an upgrade): a running
    service rolls to it (UPGRADING -> RUNNING), a stopped one starts with it next time."""
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    body = await json_body(request)
    target_id = v.string(body, "target_version_id", required=True)
    target = next((ver for ver in svc["versions"] if ver["id"] == target_id), None)
    if target is None:
        raise v.bad(f"target_version_id {target_id} is not a version of service {svc['id']}")
    now = core.now_ms()
    status = service_status(svc, now)
    if target is not svc["versions"][-1]:
        if status in BUSY:
            raise ApiError(
                409, "ModelArts.3519", f"A service in status {status} cannot switch versions."
            )
        svc["versions"].remove(target)
        svc["versions"].append(target)
        if status in ("RUNNING", "CONCERNING", "FAILED", "ERROR"):
            through = "UPGRADING" if status in ("RUNNING", "CONCERNING") else "DEPLOYING"
            _plan_run(core, svc, now, through, core.config.timings.service_v2_upgrading)
        svc["update_at"] = now
        core.changed()
    return reply(service_view(core, svc))


async def show_tags(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply({"tags": _service(core, request.match_info["service_id"])["tags"]})


async def create_tags(request: web.Request) -> web.Response:
    """Add or overwrite tags (``{"tags": [{key, value}]}``, the body Terraform sends)."""
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    tags = validate_tags((await json_body(request)).get("tags"))
    if not tags:
        raise ApiError(400, "ModelArts.0115", "Mandatory parameter is missing: tags")
    svc["tags"] = merge_tags(svc["tags"], tags)
    core.changed()
    return reply({})


async def delete_tags(request: web.Request) -> web.Response:
    core = core_of(request)
    svc = _service(core, request.match_info["service_id"])
    items = _objects((await json_body(request)).get("tags"), "tags")
    keys = {str(t.get("key")) for t in items}
    svc["tags"] = [t for t in svc["tags"] if t["key"] not in keys]
    core.changed()
    return reply({})


def combined_tags(tag_lists: Any) -> list[dict[str, Any]]:
    """Every key of the given tag lists with the values it has: the project-wide tag lists
    (``GET .../tags`` of training jobs, services and notebooks) answer this."""
    values: dict[str, set[str]] = {}
    for tags in tag_lists:
        for tag in tags or []:
            values.setdefault(str(tag["key"]), set()).add(str(tag.get("value") or ""))
    return [{"key": key, "values": sorted(vals)} for key, vals in sorted(values.items())]


async def project_tags(request: web.Request) -> web.Response:
    """``GET /v2/{project_id}/modelarts-service-v2/tags`` (the SDK's list_infer_service_tags)."""
    core = core_of(request)
    ws = request.query.get("workspace_id")
    recs = core.state.services_v2.items.values()
    return reply(
        {"tags": combined_tags(r["tags"] for r in recs if not ws or r["workspace_id"] == ws)}
    )


def merge_tags(have: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """``new`` overwrites by key; at most 20 in all."""
    merged = {t["key"]: t for t in have}
    merged.update({t["key"]: t for t in new})
    if len(merged) > 20:
        raise v.bad("A resource has at most 20 tags")
    return list(merged.values())


async def infer(request: web.Request) -> web.Response:
    """The predict URL: answers while the service runs, 503 otherwise."""
    core = core_of(request)
    svc = live_service(core, request.match_info["service_id"])
    if svc is None:
        raise ApiError(404, "ModelArts.4302", "The service does not exist.")
    await request.read()
    if service_status(svc, core.now_ms()) not in ("RUNNING", "CONCERNING"):
        raise ApiError(503, "ModelArts.4302", "The service is not running.")
    return reply({"service_id": svc["id"], "version": svc["versions"][-1]["version"]})


def routes() -> list[tuple[str, str, Any]]:
    base = "/v2/{project_id}/services"
    one = base + "/{service_id}"
    return [
        ("POST", base, create),
        ("GET", base, list_services),
        ("POST", base + "/delete", batch_delete),
        ("GET", one, show),
        ("PUT", one, update),
        ("POST", one + "/start", start),
        ("POST", one + "/stop", stop),
        ("GET", one + "/versions", versions),
        ("GET", one + "/events", events),
        ("POST", one + "/versions/switch", switch_version),
        ("GET", "/v2/{project_id}/modelarts-service-v2/tags", project_tags),
        ("GET", "/v2/{project_id}/modelarts-service-v2/{service_id}/tags", show_tags),
        ("POST", "/v2/{project_id}/modelarts-service-v2/{service_id}/tags/create", create_tags),
        ("DELETE", "/v2/{project_id}/modelarts-service-v2/{service_id}/tags/delete", delete_tags),
        ("POST", "/v2/infers/{service_id}", infer),
        ("POST", "/v2/infers/{service_id}/{tail:.*}", infer),
    ]
