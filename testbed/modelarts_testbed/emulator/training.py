"""Training jobs v1 (ModelArts API Reference 2020, §5.1): jobs, versions, stop, logs, catalogues.

A version's life is a timeline fixed at creation: 1 INIT -> 7 WAITING -> 8 RUNNING ->
10 COMPLETED; a stop cuts it and appends 9 KILLING -> 12 KILLED; a forced failure appends the
given JOBSTAT code. Status, duration, metrics and logs are all derived from it when read.
"""

from __future__ import annotations

import json
import random
from typing import Any

from aiohttp import web

from .catalog import (
    ALGORITHMS_BY_ID,
    BUILT_IN_ALGORITHMS,
    ENGINES,
    ENGINES_BY_ID,
    SPECS_BY_ID,
    TRAIN_SPECS,
)
from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .joblog import Line, aom_page, log_lines, text_of
from .state import DEFAULT_WORKSPACE_ID, Rec, cut_timeline, run_window, status_at
from .validation import JOB_NAME, V, query_enum, query_int, to_int

v = V("ModelArts.0107")

INIT, WAITING, RUNNING, KILLING, COMPLETED, FAILED, KILLED = 1, 7, 8, 9, 10, 11, 12
ACTIVE = {1, 2, 4, 7, 8, 15}
STOPPABLE = ACTIVE
JOBSTAT_NAMES = {
    0: "JOBSTAT_UNKNOWN",
    1: "JOBSTAT_INIT",
    2: "JOBSTAT_IMAGE_CREATING",
    3: "JOBSTAT_IMAGE_FAILED",
    4: "JOBSTAT_SUBMIT_TRYING",
    5: "JOBSTAT_SUBMIT_FAILED",
    6: "JOBSTAT_DELETE_FAILED",
    7: "JOBSTAT_WAITING",
    8: "JOBSTAT_RUNNING",
    9: "JOBSTAT_KILLING",
    10: "JOBSTAT_COMPLETED",
    11: "JOBSTAT_FAILED",
    12: "JOBSTAT_KILLED",
    13: "JOBSTAT_CANCELED",
    14: "JOBSTAT_LOST",
    15: "JOBSTAT_SCALING",
    16: "JOBSTAT_SUBMIT_MODEL_FAILED",
    17: "JOBSTAT_DEPLOY_SERVICE_FAILED",
    18: "JOBSTAT_CHECK_INIT",
    19: "JOBSTAT_CHECK_RUNNING",
    20: "JOBSTAT_CHECK_RUNNING_COMPLETED",
    21: "JOBSTAT_CHECK_FAILED",
}


# ---------------------------------------------------------------- validation
def validate_config(cfg: Any, *, for_version: bool) -> dict[str, Any]:
    if not isinstance(cfg, dict):
        raise ApiError(400, "ModelArts.0115", "Mandatory parameter is missing: config")
    p = "config."
    spec_id = v.integer(cfg, "spec_id", required=True, prefix=p)
    spec = SPECS_BY_ID.get(spec_id)
    if spec is None:
        raise v.bad(f"config.spec_id {spec_id} is not a valid resource specification")
    v.integer(cfg, "worker_server_num", required=True, lo=1, hi=spec["max_num"], prefix=p)
    v.string(cfg, "train_url", required=True, max_len=1024, prefix=p)
    v.string(cfg, "log_url", max_len=1024, prefix=p)
    if for_version:
        v.integer(cfg, "pre_version_id", required=True, lo=1, prefix=p)

    # Data group: exactly one of data_url | dataset_id+dataset_version_id | data_source.
    has_url = bool(cfg.get("data_url"))
    has_ds = bool(cfg.get("dataset_id")) or bool(cfg.get("dataset_version_id"))
    has_src = bool(cfg.get("data_source"))
    chosen = sum([has_url, has_ds, has_src])
    if chosen == 0:
        raise ApiError(
            400,
            "ModelArts.0115",
            "Mandatory parameter is missing: one of config.data_url, config.dataset_id with "
            "config.dataset_version_id, or config.data_source",
        )
    if chosen > 1:
        raise v.bad(
            "config.data_url, config.dataset_id/dataset_version_id and config.data_source "
            "cannot be used together"
        )
    v.string(cfg, "data_url", max_len=1024, prefix=p)
    if has_ds and not (cfg.get("dataset_id") and cfg.get("dataset_version_id")):
        raise v.bad("config.dataset_id and config.dataset_version_id must be used together")
    if has_src:
        sources = v.array(cfg, "data_source")
        for i, item in enumerate(sources or []):
            if not isinstance(item, dict):
                raise v.bad(f"config.data_source[{i}] must be an object")
            kind = v.enum(
                item, "type", {"obs", "dataset"}, required=True, prefix=f"config.data_source[{i}]."
            )
            if kind == "obs":
                v.need(item, "data_url", f"config.data_source[{i}].")
                if item.get("dataset_id") or item.get("dataset_version"):
                    raise v.bad(f"config.data_source[{i}]: type obs takes data_url only")
            else:
                v.need(item, "dataset_id", f"config.data_source[{i}].")
                v.need(item, "dataset_version", f"config.data_source[{i}].")
                if item.get("data_url"):
                    raise v.bad(f"config.data_source[{i}]: type dataset takes no data_url")

    # Code group: app_url+boot_file_url(+engine_id) | model_id | custom image.
    model_id = v.integer(cfg, "model_id", prefix=p)
    has_app = bool(cfg.get("app_url")) or bool(cfg.get("boot_file_url"))
    image = v.string(cfg, "user_image_url", max_len=1024, prefix=p)
    if model_id is not None:
        if model_id not in ALGORITHMS_BY_ID:
            raise v.bad(f"config.model_id {model_id} is not a built-in algorithm")
        if cfg.get("boot_file_url") or image:
            raise v.bad("config.model_id cannot be used with config.boot_file_url or an image")
    elif image:
        v.string(cfg, "user_command", required=True, max_len=4096, prefix=p)
    else:
        if not has_app:
            raise ApiError(
                400,
                "ModelArts.0115",
                "Mandatory parameter is missing: config.app_url and config.boot_file_url "
                "(or config.model_id, or config.user_image_url)",
            )
        if not (cfg.get("app_url") and cfg.get("boot_file_url")):
            raise v.bad("config.app_url and config.boot_file_url must be used together")
    engine_id = v.integer(cfg, "engine_id", prefix=p)
    if engine_id is not None and engine_id not in ENGINES_BY_ID:
        raise v.bad(f"config.engine_id {engine_id} is not a valid engine")

    params = v.array(cfg, "parameter")
    for i, item in enumerate(params or []):
        if not isinstance(item, dict) or not (item.get("label") or item.get("key")):
            raise v.bad(f"config.parameter[{i}] must be an object with label and value")
    vols = [] if for_version else (v.array(cfg, "volumes") or [])
    for i, vol in enumerate(vols):
        if (
            not isinstance(vol, dict)
            or len(vol) != 1
            or next(iter(vol)) not in ("nfs", "host_path")
        ):
            raise v.bad(f"config.volumes[{i}] must hold exactly one of nfs or host_path")
        kind, body = next(iter(vol.items()))
        pre = f"config.volumes[{i}].{kind}."
        if not isinstance(body, dict):
            raise v.bad(f"config.volumes[{i}].{kind} must be an object")
        if kind == "nfs":
            v.need(body, "id", pre)
        v.need(body, "src_path", pre)
        v.need(body, "dest_path", pre)
    out = dict(cfg)
    if model_id is None and not image and engine_id is None:
        out["engine_id"] = 1  # documented default
    return out


# ---------------------------------------------------------------- derived views
def _now(core: Core) -> int:
    return core.now_ms()


def version_status(ver: Rec, now: int) -> int:
    return int(status_at(ver["timeline"], now))


def _times(ver: Rec, now: int) -> tuple[int | None, int]:
    """(start_time, duration ms) of a version at ``now``."""
    return run_window(ver["timeline"], RUNNING, now)


def _progress(ver: Rec, now: int) -> float:
    """0..1 through the planned run, for metrics and logs."""
    start, duration = _times(ver, now)
    if start is None:
        return 0.0
    planned = max(1, int(ver["planned_run_ms"]))
    return min(1.0, duration / planned)


def _metrics(ver: Rec, now: int) -> tuple[str, dict[str, Any]]:
    rnd = random.Random(ver["seed"])
    frac = _progress(ver, now)
    acc = round(0.5 + 0.45 * frac * rnd.uniform(0.8, 1.0), 4)
    prec = round(min(0.999, acc + rnd.uniform(-0.03, 0.03)), 4)
    rec = round(min(0.999, acc + rnd.uniform(-0.03, 0.03)), 4)
    f1 = round(2 * prec * rec / (prec + rec), 4)
    model_metric = {
        "metric": [
            {
                "metric_values": {"recall": rec, "precision": prec, "accuracy": acc},
                "reserved_data": {},
                "metric_meta": {"class_name": "all", "class_id": 0},
            }
        ],
        "total_metric": {
            "total_metric_meta": {},
            "total_reserved_data": {},
            "total_metric_values": {
                "f1_score": f1,
                "recall": rec,
                "precision": prec,
                "accuracy": acc,
            },
        },
    }
    start, duration = _times(ver, now)
    samples = min(60, duration // 1000) if start is not None else 0
    sysm: dict[str, Any] = {"interval": 1}
    for key, lo, hi in (
        ("cpuUsage", 20, 95),
        ("memUsage", 10, 80),
        ("gpuUtil", 0, 100),
        ("gpuMemUsage", 0, 90),
        ("diskReadRate", 0, 500),
        ("diskWriteRate", 0, 500),
        ("recvBytesRate", 0, 2000),
        ("sendBytesRate", 0, 2000),
    ):
        sysm[key] = [f"{rnd.uniform(lo, hi):.2f}" for _ in range(samples)]
    return json.dumps(model_metric), sysm


def version_view(core: Core, job: Rec, ver: Rec, *, in_list: bool) -> dict[str, Any]:
    now = _now(core)
    cfg = ver["config"]
    spec = SPECS_BY_ID[int(cfg["spec_id"])]
    engine = ENGINES_BY_ID.get(to_int(cfg.get("engine_id")) or 0)
    if engine is None and cfg.get("model_id") is not None:
        algo = ALGORITHMS_BY_ID[int(cfg["model_id"])]
        engine = ENGINES_BY_ID.get(algo["engine_id"])
    start, duration = _times(ver, now)
    model_metric, sysm = _metrics(ver, now)
    params = [
        {"label": p.get("label") or p.get("key"), "value": p.get("value"), "required": False}
        for p in cfg.get("parameter") or []
    ]
    out: dict[str, Any] = {
        "job_id": job["job_id"],
        "job_name": job["job_name"],
        "job_desc": ver.get("job_desc", job["job_desc"]),
        "version_id": ver["version_id"],
        "version_name": ver["version_name"],
        "pre_version_id": ver.get("pre_version_id"),
        "engine_type": engine["engine_type"] if engine else None,
        "engine_name": engine["engine_name"] if engine else None,
        "engine_id": engine["engine_id"] if engine else None,
        "engine_version": engine["engine_version"] if engine else None,
        "status": version_status(ver, now),
        "app_url": cfg.get("app_url", ""),
        "boot_file_url": cfg.get("boot_file_url", ""),
        "create_time": ver["create_time"],
        "parameter": params,
        "duration": duration,
        "spec_id": spec["spec_id"],
        "core": spec["core"],
        "cpu": spec["cpu"],
        "gpu_num": spec["gpu_num"],
        "gpu_type": spec["gpu_type"],
        "worker_server_num": to_int(cfg["worker_server_num"]),
        "data_url": cfg.get("data_url", ""),
        "train_url": cfg.get("train_url", ""),
        "log_url": cfg.get("log_url", ""),
        "dataset_version_id": cfg.get("dataset_version_id", ""),
        "dataset_id": cfg.get("dataset_id", ""),
        "data_source": cfg.get("data_source") or [],
        "model_id": cfg.get("model_id"),
        "model_metric_list": model_metric,
        "system_metric_list": json.dumps(sysm) if in_list else sysm,
        "user_image_url": cfg.get("user_image_url", ""),
        "user_command": cfg.get("user_command", ""),
        "resource_id": ver["resource_id"],
        "dataset_name": "",
        "dataset_version_name": "",
        "volumes": cfg.get("volumes") or [],
        "pool_id": "",
        "pool_name": "",
        "nas_mount_path": "",
        "nas_share_addr": "",
        "nas_type": "nfs",
    }
    if start is not None:
        out["start_time"] = start
    if in_list:
        out["model_id"] = None if cfg.get("model_id") is None else str(cfg["model_id"])
    else:
        out["spec_code"] = spec["spec_code"]
    return out


def job_list_item(core: Core, job: Rec, now: int) -> dict[str, Any]:
    latest = core.state.versions.get(job["versions"][-1]) if job["versions"] else None
    status = version_status(latest, now) if latest else 0
    duration = _times(latest, now)[1] if latest else 0
    return {
        "job_id": job["job_id"],
        "job_name": job["job_name"],
        "version_id": latest["version_id"] if latest else None,
        "status": status,
        "create_time": job["create_time"],
        "duration": duration,
        "job_desc": job["job_desc"],
        "version_count": len(job["versions"]),
    }


# ---------------------------------------------------------------- mutations
def _new_version(core: Core, job: Rec, cfg: dict[str, Any], pre: int | None) -> Rec:
    st = core.state
    t = core.config.timings
    now = core.now_ms()
    t1 = now + core.phase(t.job_init)
    t2 = t1 + core.phase(t.job_waiting)
    run = core.phase(t.job_running)
    t3 = t2 + run
    vid = st.alloc_version_id()
    number = job.get("version_seq", 0) + 1
    job["version_seq"] = number
    ver: Rec = {
        "version_id": vid,
        "job_id": job["job_id"],
        "version_name": f"V{number:04d}",
        "pre_version_id": pre,
        "config": cfg,
        "create_time": now,
        "timeline": [[now, INIT], [t1, WAITING], [t2, RUNNING], [t3, COMPLETED]],
        "planned_run_ms": run,
        "seed": st.rng.getrandbits(32),
        "resource_id": "job" + st.hex32()[:8],
    }
    forced = core.take_pending_force("training_job", job["job_name"])
    if forced is not None:
        status = int(forced.get("status") or FAILED)
        ver["timeline"][-1] = [t3 if forced.get("when") != "now" else now, status]
        if forced.get("when") == "now":
            ver["timeline"] = [[now, status]]
        ver["error"] = forced.get("error_code")
    st.versions.add(vid, ver)
    job["versions"].append(vid)
    users = st.train_urls.setdefault(cfg.get("train_url", ""), [])
    users[:] = [u for u in users if u in st.versions.items]
    users.append(vid)
    return ver


def _check_output_path(core: Core, cfg: dict[str, Any], job_id: int | None = None) -> None:
    """2604: another running job (not a version of this one) writes to this output path."""
    url = str(cfg.get("train_url", ""))
    now = core.now_ms()
    for vid in core.state.train_urls.get(url, ()):
        other = core.state.versions.get(vid)
        if other is None or other["job_id"] == job_id:
            continue
        if version_status(other, now) in ACTIVE:
            raise ApiError(
                409,
                "ModelArts.2604",
                f"Other running jobs are using this training output path: {url}",
            )


def force_version(core: Core, ver: Rec, status: int, error_code: str | None) -> None:
    now = core.now_ms()
    ver["timeline"] = [*cut_timeline(ver["timeline"], now), [now, status]]
    ver["error"] = error_code
    core.changed()


# ---------------------------------------------------------------- handlers
def _job(core: Core, request: web.Request) -> Rec:
    jid = to_int(request.match_info["job_id"])
    job = core.state.jobs.get(jid) if jid is not None else None
    if job is None:
        raise ApiError(
            404,
            "ModelArts.0102",
            f"The training job {request.match_info['job_id']} does not exist.",
        )
    return job


def _version(core: Core, request: web.Request, job: Rec) -> Rec:
    vid = to_int(request.match_info["version_id"])
    if vid is None or vid not in job["versions"]:
        raise ApiError(
            404,
            "ModelArts.0102",
            f"The version {request.match_info['version_id']} of training job {job['job_id']} "
            "does not exist.",
        )
    ver = core.state.versions.get(vid)
    assert ver is not None
    return ver


async def create_job(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    name = v.string(body, "job_name", required=True, pattern=JOB_NAME)
    assert name is not None
    v.string(body, "job_desc", max_len=256)
    ws = v.string(body, "workspace_id") or DEFAULT_WORKSPACE_ID
    cfg = validate_config(body.get("config"), for_version=False)
    create_version = v.boolean(cfg, "create_version", True)
    core.usable_workspace(ws)
    st = core.state
    if name in st.job_names:
        raise ApiError(409, "ModelArts.0103", f"Job name:{name} is existed")
    if len(st.jobs) >= core.config.training_job_quota:
        raise ApiError(400, "ModelArts.0106", "The maximum number of training jobs is reached.")
    _check_output_path(core, cfg)
    jid = st.alloc_job_id()
    job: Rec = {
        "job_id": jid,
        "job_name": name,
        "job_desc": body.get("job_desc") or "",
        "workspace_id": ws,
        "create_time": core.now_ms(),
        "versions": [],
    }
    st.jobs.add(jid, job)
    st.job_names[name] = jid
    out: dict[str, Any] = {
        "is_success": True,
        "job_id": jid,
        "job_name": name,
        "status": 0,
        "create_time": job["create_time"],
    }
    if create_version:
        ver = _new_version(core, job, cfg, None)
        out.update(
            status=version_status(ver, core.now_ms()),
            version_id=ver["version_id"],
            version_name=ver["version_name"],
            resource_id=ver["resource_id"],
        )
    core.changed()
    return reply(out)


SORT_FIELDS = {"job_name", "job_desc", "status", "duration", "version_count", "create_time"}


async def list_jobs(request: web.Request) -> web.Response:
    core = core_of(request)
    q = request.query
    code = "ModelArts.0107"
    per_page = query_int(q, "per_page", 10, 1, 1000, code)
    page = query_int(q, "page", 1, 1, 65535, code)
    sort_by = query_enum(q, "sortBy", SORT_FIELDS, "job_name", code)
    order = query_enum(q, "order", {"asc", "desc"}, "asc", code)
    search = q.get("search_content", "")
    if len(search) > 64:
        raise ApiError(400, code, "The length of search content should be in [0,64]")
    ws = q.get("workspace_id") or DEFAULT_WORKSPACE_ID
    statuses: set[int] | None = None
    if q.get("status"):
        parsed = [to_int(s) for s in q["status"].split(",")]
        if any(s is None for s in parsed):
            raise ApiError(400, code, f"status must be a JOBSTAT code: {q['status']!r}")
        statuses = {s for s in parsed if s is not None}
    st = core.state
    now = core.now_ms()

    def in_ws(r: Rec) -> bool:
        return bool(r["workspace_id"] == ws)

    if sort_by in ("job_name", "create_time"):
        name_key = (lambda r: r["job_name"]) if sort_by == "job_name" else None
        ids = st.jobs.view(("jobs", ws, sort_by), in_ws, name_key)
    elif sort_by in ("job_desc", "version_count"):

        def static_key(r: Rec) -> Any:
            value = r["job_desc"] if sort_by == "job_desc" else len(r["versions"])
            return (value, r["job_name"])

        ids = [
            r["job_id"]
            for r in sorted((r for r in st.jobs.items.values() if in_ws(r)), key=static_key)
        ]
    else:  # status and duration change with time: computed per request
        items = [(k, job_list_item(core, r, now)) for k, r in st.jobs.items.items() if in_ws(r)]
        items.sort(key=lambda kv: (kv[1][sort_by], kv[1]["job_name"]))
        ids = [k for k, _ in items]
    descending = order == "desc"
    start = (page - 1) * per_page
    if statuses is None and not search:
        total = len(ids)
        page_ids = (
            ids[start : start + per_page] if not descending else _rev_slice(ids, start, per_page)
        )
        jobs = [job_list_item(core, st.jobs.items[k], now) for k in page_ids]
    else:
        seq = reversed(ids) if descending else iter(ids)
        matched: list[dict[str, Any]] = []
        total = 0
        for k in seq:
            r = st.jobs.items[k]
            if search and search not in r["job_name"]:
                continue
            item = job_list_item(core, r, now)
            if statuses is not None and item["status"] not in statuses:
                continue
            if start <= total < start + per_page:
                matched.append(item)
            total += 1
        jobs = matched
    return reply(
        {
            "is_success": True,
            "quotas": core.config.training_job_quota,
            "job_total_count": total,
            "job_count_limit": max(0, core.config.training_job_quota - len(st.jobs)),
            "jobs": jobs,
        }
    )


def _rev_slice(ids: list[Any], start: int, count: int) -> list[Any]:
    n = len(ids)
    hi = n - start
    if hi <= 0:
        return []
    return ids[max(0, hi - count) : hi][::-1]


async def update_job(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    body = await json_body(request)
    desc = v.string(body, "job_desc", max_len=256)
    job["job_desc"] = desc or ""
    for vid in job["versions"]:
        core.state.versions.items[vid].pop("job_desc", None)
    core.changed()
    return reply({"is_success": True})


async def delete_job(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    now = core.now_ms()
    for vid in job["versions"]:
        status = version_status(core.state.versions.items[vid], now)
        if status == KILLING:
            raise ApiError(409, "ModelArts.0105", f"This job can't be delete. job status: {status}")
    remove_job(core, job)
    return reply({"is_success": True})


def remove_job(core: Core, job: Rec) -> None:
    st = core.state
    for vid in job["versions"]:
        st.versions.remove(vid)
    st.jobs.remove(job["job_id"])
    st.job_names.pop(job["job_name"], None)
    core.changed()


async def list_versions(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    q = request.query
    per_page = query_int(q, "per_page", 10, 1, 1000, "ModelArts.0107")
    page = query_int(q, "page", 0, 0, 65535, "ModelArts.0107")
    vids = list(reversed(job["versions"]))
    if page > 0:
        vids = vids[(page - 1) * per_page : page * per_page]
    versions = [
        version_view(core, job, core.state.versions.items[vid], in_list=True) for vid in vids
    ]
    return reply(
        {
            "is_success": True,
            "job_id": job["job_id"],
            "job_name": job["job_name"],
            "job_desc": job["job_desc"],
            "version_count": len(job["versions"]),
            "versions": versions,
        }
    )


async def get_version(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    ver = _version(core, request, job)
    return reply({"is_success": True, **version_view(core, job, ver, in_list=False)})


async def create_version(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    body = await json_body(request)
    v.string(body, "job_desc", max_len=256)
    cfg = validate_config(body.get("config"), for_version=True)
    pre = int(cfg["pre_version_id"])
    if pre not in job["versions"]:
        raise v.bad(f"config.pre_version_id {pre} is not a version of job {job['job_id']}")
    core.usable_workspace(job["workspace_id"])
    _check_output_path(core, cfg, job["job_id"])
    if body.get("job_desc") is not None:
        job["job_desc"] = body["job_desc"]
    ver = _new_version(core, job, cfg, pre)
    core.changed()
    return reply(
        {
            "is_success": True,
            "job_id": job["job_id"],
            "job_name": job["job_name"],
            "status": version_status(ver, core.now_ms()),
            "create_time": ver["create_time"],
            "version_id": ver["version_id"],
        }
    )


async def delete_version(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    ver = _version(core, request, job)
    status = version_status(ver, core.now_ms())
    if status == KILLING:
        raise ApiError(409, "ModelArts.0105", f"This job can't be delete. job status: {status}")
    if len(job["versions"]) == 1:
        raise ApiError(
            409,
            "ModelArts.0105",
            "The operation is not allowed: the only version of a job cannot be deleted; "
            "delete the job instead.",
        )
    job["versions"].remove(ver["version_id"])
    core.state.versions.remove(ver["version_id"])
    core.changed()
    return reply({"is_success": True})


async def stop_version(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    ver = _version(core, request, job)
    now = core.now_ms()
    status = version_status(ver, now)
    if status not in STOPPABLE:
        raise ApiError(409, "ModelArts.0105", f"This job can't be stop. job status: {status}")
    killed_at = now + core.phase(core.config.timings.job_killing)
    ver["timeline"] = [*cut_timeline(ver["timeline"], now), [now, KILLING], [killed_at, KILLED]]
    core.changed()
    return reply({"is_success": True})


# ---------------------------------------------------------------- logs
def log_files(job: Rec, ver: Rec) -> list[str]:
    n = to_int(ver["config"].get("worker_server_num")) or 1
    return [f"{job['job_name']}.{i}" for i in range(n)]


def _log_lines(ver: Rec, now: int) -> list[Line]:
    start, duration = _times(ver, now)
    status = version_status(ver, now)
    ending = None
    if status == COMPLETED:
        ending = "[INFO] training finished successfully"
    elif status not in ACTIVE:
        ending = f"[ERROR] training ended with {JOBSTAT_NAMES.get(status, status)}"
    return log_lines(
        submitted_ms=ver["create_time"],
        start_ms=start,
        duration_ms=duration,
        seed=ver["seed"],
        ending=ending,
    )


def _log_file_of(request: web.Request, job: Rec, ver: Rec) -> str:
    name = request.query.get("log_file")
    if not name:
        raise ApiError(400, "ModelArts.0115", "Mandatory parameter is missing: log_file")
    if name not in log_files(job, ver):
        raise ApiError(404, "ModelArts.0102", f"The log file {name} does not exist.")
    return name


async def log_file_names(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    ver = _version(core, request, job)
    return reply({"is_success": True, "log_file_list": log_files(job, ver)})


async def get_log(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    ver = _version(core, request, job)
    _log_file_of(request, job, ver)
    q = request.query
    start = query_int(q, "start_byte", 0, -1, None, "ModelArts.0107")
    length = query_int(q, "offset", 2048, -2048, 2048, "ModelArts.0107")
    text = text_of(_log_lines(ver, core.now_ms())).encode()
    if start == -1:
        start = len(text)
    if length >= 0:
        lo, hi = start, min(len(text), start + length)
    else:
        lo, hi = max(0, start + length), min(start, len(text))
    chunk = text[lo:hi] if lo < hi else b""
    return reply(
        {
            "is_success": True,
            "log": chunk.decode(errors="replace"),
            "log_byte_count": len(chunk),
            "end_byte": lo + len(chunk),
        }
    )


async def get_aom_log(request: web.Request) -> web.Response:
    core = core_of(request)
    job = _job(core, request)
    ver = _version(core, request, job)
    _log_file_of(request, job, ver)
    q = request.query
    want = query_int(q, "lines", 50, 0, 500, "ModelArts.0107")
    order = query_enum(q, "order", {"asc", "desc"}, "desc", "ModelArts.0107")
    base = (q.get("base_line") or "").strip()
    chosen = aom_page(_log_lines(ver, core.now_ms()), want, order, base, "ModelArts.0107")
    return reply(
        {
            "is_success": True,
            "content": "".join(t + "\n" for _, t in chosen),
            "lines": len(chosen),
            "start_line": chosen[0][0] if chosen else base,
            "end_line": chosen[-1][0] if chosen else base,
        }
    )


# ---------------------------------------------------------------- catalogues
async def resource_specs(request: web.Request) -> web.Response:
    return reply({"is_success": True, "spec_total_count": len(TRAIN_SPECS), "specs": TRAIN_SPECS})


async def ai_engines(request: web.Request) -> web.Response:
    return reply({"is_success": True, "engines": ENGINES})


async def built_in_algorithms(request: web.Request) -> web.Response:
    q = request.query
    per_page = query_int(q, "per_page", 10, 1, 100, "ModelArts.0107")
    page = query_int(q, "page", 1, 1, None, "ModelArts.0107")
    algos = BUILT_IN_ALGORITHMS[(page - 1) * per_page : page * per_page]
    return reply(
        {"is_success": True, "model_total_count": len(BUILT_IN_ALGORITHMS), "models": algos}
    )


def routes() -> list[tuple[str, str, Any]]:
    base = "/v1/{project_id}"
    tj = base + "/training-jobs"
    ver = tj + "/{job_id}/versions/{version_id}"
    return [
        ("POST", tj, create_job),
        ("GET", tj, list_jobs),
        ("PUT", tj + "/{job_id}", update_job),
        ("DELETE", tj + "/{job_id}", delete_job),
        ("GET", tj + "/{job_id}/versions", list_versions),
        ("POST", tj + "/{job_id}/versions", create_version),
        ("GET", ver, get_version),
        ("DELETE", ver, delete_version),
        ("POST", ver + "/stop", stop_version),
        ("GET", ver + "/log/file-names", log_file_names),
        ("GET", ver + "/log", get_log),
        ("GET", ver + "/aom-log", get_aom_log),
        ("GET", base + "/job/resource-specs", resource_specs),
        ("GET", base + "/job/ai-engines", ai_engines),
        ("GET", base + "/built-in-algorithms", built_in_algorithms),
    ]
