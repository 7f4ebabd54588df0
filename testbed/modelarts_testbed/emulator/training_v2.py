"""Training jobs v2 (``/v2/{project_id}/training-jobs``): today's training API.

UUID ids, no versions, a ``kind/metadata/algorithm/spec`` body. A job's life is a timeline
fixed at creation, Creating -> Pending -> Running -> Completed (a ``visualization_job`` runs
until it is stopped: it serves TensorBoard over other jobs' logs, and the visualization jobs
of the 2020 API, seed §5.3, ran until stopped or auto-stopped); terminate cuts it and appends
Terminating -> Terminated; a forced outcome replaces its end (Failed with a task exit code,
Abnormal for a failed creation). Status, duration, tasks, logs, metrics and events are all
derived from it when read, as for v1.

The traps of the real API are kept: a missing job is HTTP **400** ModelArts.2775; a duplicate
name in a workspace is 400 ModelArts.2751 (create is not idempotent); terminate and delete
answer 202 and finish later (GET keeps returning a job being deleted, then 2775; its name is
free once the deletion finished); ``offset`` of the search is a page index and ``limit`` is at
most 50; the response's ``algorithm.environments`` is an array of one-pair maps while the
request's is a map. Response shapes follow the official SDK's ``JobResponse``: every field it
types, nothing it does not.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, get_args

from aiohttp import web

from modelarts_operator.vocab.training import JobKind

from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .joblog import Line, aom_page, log_lines, text_of
from .pools import running_pool
from .services_v2 import combined_tags
from .state import DEFAULT_WORKSPACE_ID, Rec, cut_timeline, job_v2_key, run_window, status_at
from .training_v2_catalog import (
    ENGINES_V2,
    ENGINES_V2_BY_ID,
    ENGINES_V2_BY_NAME,
    FLAVORS_V2,
    accelerated,
    flavor_catalogue_item,
    flavor_detail,
)
from .validation import JOB_NAME, V, is_obs_path, query_enum, query_int

BAD = "ModelArts.2788"  # invalid parameter
v = V(BAD, BAD)
NOT_FOUND = "ModelArts.2775"

CREATING, PENDING, RUNNING, COMPLETED = "Creating", "Pending", "Running", "Completed"
FAILED, ABNORMAL, TERMINATING, TERMINATED = "Failed", "Abnormal", "Terminating", "Terminated"
TERMINAL = {COMPLETED, FAILED, ABNORMAL, TERMINATED}
STOPPABLE = {CREATING, PENDING, RUNNING}
FORCEABLE = {COMPLETED, FAILED, ABNORMAL, TERMINATED, RUNNING}
SECONDARY = {
    CREATING: "Creating",
    PENDING: "Queuing",
    RUNNING: "Running",
    COMPLETED: "Completed",
    FAILED: "Failed",
    TERMINATING: "Terminating",
    TERMINATED: "Terminated",
    ABNORMAL: "CreateFailed",
}
KINDS = frozenset(get_args(JobKind))  # the SDK's job kinds
VISUALIZATION = "visualization_job"
LOG_TYPES = {"tensorboard", "mindstudio-insight"}  # SDK Summary.log_type
# The tools a job serves while it runs, by the annotation that switches each on (SDK
# JobMetadata.annotations) and its key in the response's endpoints (SDK JobEndpointsResp).
TOOLS = (
    ("jupyter-lab/enable", "jupyter_lab"),
    ("tensorboard/enable", "tensorboard"),
    ("mindstudio-insight/enable", "mindstudio_insight"),
)
# SDK Summary.data_sources: required when "tensorboard/enable" or "mindstudio-insight/enable"
# is "true".
NEEDS_DATA_SOURCES = ("tensorboard/enable", "mindstudio-insight/enable")
AFFINITY_TYPES = {"cabinet", "hyperinstance", "networkTopology"}
NOTIFY_EVENTS = {
    "JobStarted",
    "JobCompleted",
    "JobFailed",
    "JobTerminated",
    "JobRestarted",
    "JobHanged",
    "JobPreempted",
}
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SIGKILL_EXIT, SIGTERM_EXIT = 137, 143
PREVIEW_CAP = 5 * 1024 * 1024
METRICS = ("cpuUsage", "memUsage", "gpuUtil", "gpuMemUsage", "npuUtil", "npuMemUsage")


def not_found(job_id: str) -> ApiError:
    return ApiError(400, NOT_FOUND, f"Training job {job_id} not found.")


# ---------------------------------------------------------------- validation
def _string_map(body: dict[str, Any], field: str, prefix: str) -> dict[str, str]:
    value = body.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(x, str) for k, x in value.items()
    ):
        raise v.bad(f"{prefix}{field} must be a map of strings to strings")
    return dict(value)


def _obs(body: dict[str, Any], field: str, prefix: str, *, required: bool = True) -> str | None:
    path = v.string(body, field, required=required, max_len=1024, prefix=prefix)
    if path is not None and not is_obs_path(path):
        raise ApiError(400, "ModelArts.2791", f"{prefix}{field} is not a valid OBS path: {path!r}")
    return path


def _validate_engine(algo: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The engine object and whether it names a custom image. An engine named by id, or by
    name and version, must exist (2780); a published job gives engine_id together with
    engine_name and engine_version, so that is not refused."""
    engine = v.obj(algo, "engine") or {}
    p = "algorithm.engine."
    engine_id = v.string(engine, "engine_id", prefix=p)
    name = v.string(engine, "engine_name", prefix=p)
    version = v.string(engine, "engine_version", prefix=p)
    image = v.string(engine, "image_url", prefix=p)
    if engine_id and engine_id not in ENGINES_V2_BY_ID:
        raise ApiError(400, "ModelArts.2780", f"Engine {engine_id} not found.")
    if not engine_id and name and version and (name, version) not in ENGINES_V2_BY_NAME:
        raise ApiError(400, "ModelArts.2780", f"Engine {name} {version} not found.")
    # SDK JobEngine.install_sys_packages: only with engine_name, engine_version and image_url.
    if engine.get("install_sys_packages") is not None and not (name and version and image):
        raise v.bad(f"{p}install_sys_packages needs engine_name, engine_version and image_url")
    return engine, bool(image)


def _channel_remote(item: dict[str, Any], p: str) -> None:
    remote = item.get("remote")
    if not isinstance(remote, dict):
        raise ApiError(400, "ModelArts.2753", f"Mandatory parameter is missing: {p}remote")
    if isinstance(remote.get("obs"), dict):
        _obs(remote["obs"], "obs_url", p + "remote.obs.")
    if isinstance(remote.get("dataset"), dict):
        v.string(remote["dataset"], "id", required=True, prefix=p + "remote.dataset.")


def _validate_channels(algo: dict[str, Any]) -> None:
    """The SDK's required fields (name, remote; an output's remote.obs.obs_url) and access
    methods (parameter | env)."""
    for kind in ("inputs", "outputs"):
        for i, item in enumerate(v.array(algo, kind) or []):
            p = f"algorithm.{kind}[{i}]."
            if not isinstance(item, dict):
                raise ApiError(400, "ModelArts.2753", f"{p[:-1]} must be an object")
            v.string(item, "name", required=True, prefix=p)
            v.enum(item, "access_method", {"parameter", "env"}, prefix=p)
            _channel_remote(item, p)
            if kind == "outputs" and not isinstance((item.get("remote") or {}).get("obs"), dict):
                raise ApiError(400, "ModelArts.2753", f"{p}remote.obs is required")


def _validate_parameters(algo: dict[str, Any]) -> None:
    """Duplicate parameter names are refused (ModelArts.2767)."""
    seen: set[str] = set()
    for i, item in enumerate(v.array(algo, "parameters") or []):
        p = f"algorithm.parameters[{i}]."
        if not isinstance(item, dict):
            raise v.bad(f"{p[:-1]} must be an object")
        name = v.string(item, "name", prefix=p)
        if name is None:
            continue
        if name in seen:
            raise ApiError(400, "ModelArts.2767", f"Duplicate parameter name {name}.")
        seen.add(name)


def _inside(boot: str, code_dir: str) -> bool:
    """boot_file is a file below code_dir, whichever OBS spelling each uses."""

    def plain(path: str) -> str:
        return path.removeprefix("obs:/")

    return plain(boot).startswith(plain(code_dir).rstrip("/") + "/")


def validate_algorithm(algo: Any) -> dict[str, Any]:
    """What the SDK and the reference say the API refuses: subscription_id without
    item_version_id (SDK: they go together), a boot_file outside code_dir (2758), a custom
    image without command (2806), an unknown engine (2780), duplicate parameter names (2767),
    channels without their required fields (2753), environments beyond the SDK's limits.
    Published jobs combine an algorithm id with code_dir and boot_file, code_dir with command
    and no boot_file, and local_code_dir under /home/ma-user/modelarts: all accepted."""
    if not isinstance(algo, dict):
        raise v.bad("Mandatory parameter is missing: algorithm")
    p = "algorithm."
    if bool(algo.get("subscription_id")) != bool(algo.get("item_version_id")):
        raise v.bad("algorithm.subscription_id and algorithm.item_version_id go together")
    _engine, custom_image = _validate_engine(algo)
    command = v.string(algo, "command", prefix=p)
    if custom_image and not command:
        raise ApiError(
            400, "ModelArts.2806", "Custom image jobs command and engine.url cannot be empty."
        )
    code_dir = algo.get("code_dir")
    boot = algo.get("boot_file")
    if code_dir is not None and not str(code_dir).startswith("file://"):
        _obs(algo, "code_dir", p)
    if boot is not None:
        _obs(algo, "boot_file", p)
    if code_dir and boot and not _inside(str(boot), str(code_dir)):
        raise ApiError(400, "ModelArts.2758", "algorithm.boot_file must be a file inside code_dir")
    v.string(algo, "local_code_dir", prefix=p)
    v.string(algo, "working_dir", prefix=p)
    _validate_parameters(algo)
    _validate_channels(algo)
    env = _string_map(algo, "environments", p)
    if len(env) > 100:
        raise v.bad("algorithm.environments holds at most 100 pairs")
    for key, value in env.items():
        if not ENV_KEY.match(key) or len(key) > 8192 or len(value) > 4096:
            raise v.bad(f"algorithm.environments key {key!r} or its value is invalid")
    return dict(algo)


def validate_summary(algo: dict[str, Any], annotations: dict[str, str]) -> None:
    """``algorithm.summary`` as the SDK types it: log_type one of its two values, each
    location's path (PFSSummary.pfs_path, JobSummary.job_id, NFSSummary.nfs_path are
    required), and data_sources present when the TensorBoard or MindStudio Insight annotation
    is on (SDK Summary.data_sources)."""
    p = "algorithm.summary."
    summary = v.obj(algo, "summary") or {}
    v.enum(summary, "log_type", LOG_TYPES, prefix=p)
    log_dir = v.obj(summary, "log_dir")
    if log_dir:
        v.need(log_dir, "pfs", p + "log_dir.")
        v.string(v.obj(log_dir, "pfs"), "pfs_path", required=True, prefix=p + "log_dir.pfs.")
    sources = v.array(summary, "data_sources") or []
    for i, source in enumerate(sources):
        q = f"{p}data_sources[{i}]."
        if not isinstance(source, dict):
            raise v.bad(f"{q[:-1]} must be an object")
        v.need(source, "job", q)
        v.string(v.obj(source, "job"), "job_id", required=True, prefix=q + "job.")
        nfs = v.obj(source, "nfs")
        if nfs:
            v.string(nfs, "nfs_path", required=True, prefix=q + "nfs.")
    if not sources and any(annotations.get(a) == "true" for a in NEEDS_DATA_SOURCES):
        v.need(summary, "data_sources", p)


def validate_spec(spec: Any) -> dict[str, Any]:
    """Resources (Terraform: resource required; a public pool needs flavor_id, a dedicated one
    pool_id; the flavor must exist), and the SDK's enums and ranges."""
    if not isinstance(spec, dict):
        raise v.bad("Mandatory parameter is missing: spec")
    resource = v.obj(spec, "resource", required=True)
    p = "spec.resource."
    nodes = v.integer(resource, "node_count", required=True, prefix=p)
    flavor_id = v.string(resource, "flavor_id", prefix=p)
    pool_id = v.string(resource, "pool_id", prefix=p)
    if not flavor_id and not pool_id:
        raise v.bad("Mandatory parameter is missing: spec.resource.flavor_id (public pool)")
    if flavor_id and not pool_id:
        flavor = FLAVORS_V2.get(flavor_id)
        if flavor is None:
            raise ApiError(400, "ModelArts.2781", f"Flavor {flavor_id} not found.")
        if nodes is not None and nodes > flavor["max_num"]:
            raise ApiError(
                400,
                "ModelArts.2793",
                f"spec.resource.node_count {nodes} exceeds the flavor's maximum "
                f"{flavor['max_num']}",
            )
    log_path = v.obj(spec, "log_export_path")
    if log_path and log_path.get("obs_url") is not None:
        _obs(log_path, "obs_url", "spec.log_export_path.", required=False)
    policy = v.obj(spec, "schedule_policy")
    if policy:
        p = "spec.schedule_policy."
        v.integer(policy, "priority", lo=0, hi=3, prefix=p)
        affinity = policy.get("required_affinity")
        if affinity is not None:
            if not isinstance(affinity, dict):
                raise v.bad(f"{p}required_affinity must be an object")
            p += "required_affinity."
            v.enum(affinity, "affinity_type", AFFINITY_TYPES, prefix=p)
            v.enum(affinity, "job_level", {"cluster", "hyperinstanceGroup"}, prefix=p)
            v.enum(
                affinity,
                "affinity_group_level",
                {"hyperinstance", "slice", "hyperinstanceGroup"},
                prefix=p,
            )
    notification = v.obj(spec, "notification")
    if notification:
        p = "spec.notification."
        for event in v.array(notification, "events") or []:
            if event not in NOTIFY_EVENTS:
                raise v.bad(f"{p}events: {event!r} is not one of {sorted(NOTIFY_EVENTS)}")
    auto_stop = v.obj(spec, "auto_stop")
    if auto_stop:
        v.enum(auto_stop, "time_unit", {"HOURS"}, required=True, prefix="spec.auto_stop.")
        v.integer(auto_stop, "duration", required=True, lo=1, prefix="spec.auto_stop.")
    return dict(spec)


def validate_job(body: dict[str, Any]) -> dict[str, Any]:
    kind = v.enum(body, "kind", KINDS, required=True)
    meta = v.obj(body, "metadata", required=True)
    p = "metadata."
    name = v.string(meta, "name", required=True, pattern=JOB_NAME, prefix=p)
    ws = v.string(meta, "workspace_id", prefix=p) or DEFAULT_WORKSPACE_ID
    description = v.string(meta, "description", max_len=256, prefix=p)
    annotations = _string_map(meta, "annotations", p)
    experiment = v.obj(meta, "training_experiment_reference")
    if experiment:
        v.string(experiment, "name", max_len=64, prefix=p + "training_experiment_reference.")
    if v.array(body, "tasks"):
        raise v.bad("tasks is not supported yet: describe the job with algorithm and spec")
    endpoints = v.obj(body, "endpoints") or {}
    algorithm = validate_algorithm(body.get("algorithm"))
    validate_summary(algorithm, annotations)
    return {
        "kind": kind,
        "name": name,
        "workspace_id": ws,
        "description": description or "",
        "annotations": annotations,
        "experiment": experiment,
        "algorithm": algorithm,
        "spec": validate_spec(body.get("spec")),
        "endpoints": endpoints,
    }


# ---------------------------------------------------------------- derived views
def phase_of(rec: Rec, now: int) -> str:
    return str(status_at(rec["timeline"], now))


def _node_count(rec: Rec) -> int:
    return int(rec["spec"]["resource"]["node_count"])


def task_names(rec: Rec) -> list[str]:
    return [f"worker-{i}" for i in range(_node_count(rec))]


def _ended_at(rec: Rec, now: int) -> int | None:
    for t, phase in rec["timeline"]:
        if t <= now and phase in TERMINAL:
            return int(t)
    return None


def _task_statuses(rec: Rec, phase: str) -> list[dict[str, Any]]:
    tasks = task_names(rec)
    failure = rec.get("failure") or {}
    if phase == COMPLETED:
        return [{"task": t, "exit_code": 0, "message": ""} for t in tasks]
    if phase == TERMINATED:
        return [{"task": t, "exit_code": SIGTERM_EXIT, "message": "terminated"} for t in tasks]
    if phase == FAILED:
        first = {
            "task": tasks[0],
            "exit_code": int(failure.get("exit_code", 1)),
            "message": failure.get("message") or "the training process exited with an error",
        }
        rest = [
            {"task": t, "exit_code": SIGKILL_EXIT, "message": f"killed after {tasks[0]} failed"}
            for t in tasks[1:]
        ]
        return [first, *rest]
    if phase == ABNORMAL:
        return [{"task": tasks[0], "exit_code": -1, "message": failure.get("message", "")}]
    return []


def _running_records(rec: Rec, phase: str, start: int | None, duration: int) -> list[Any]:
    if start is None:
        return []
    record: dict[str, Any] = {
        "start_at": start // 1000,
        "start_type": "init_or_rescheduled",
    }
    if accelerated(rec["spec"]["resource"].get("flavor_id")):
        record["xpu_start_at"] = start // 1000
    if phase in TERMINAL or phase == TERMINATING:
        record["end_at"] = (start + duration) // 1000
        failure = rec.get("failure") or {}
        record["end_reason"] = {
            COMPLETED: "job completed",
            FAILED: f"exit with {failure.get('exit_code', 1)}",
            TERMINATED: "job terminated",
            TERMINATING: "job terminating",
        }.get(phase, phase)
        if phase == FAILED:
            record["end_related_task"] = "worker-0"
    return [record]


def status_view(rec: Rec, now: int) -> dict[str, Any]:
    phase = phase_of(rec, now)
    start, duration = run_window(rec["timeline"], RUNNING, now)
    out: dict[str, Any] = {
        "phase": phase,
        "secondary_phase": (rec.get("failure") or {}).get("secondary") or SECONDARY[phase],
        "duration": duration,
        "start_time": start or 0,
        "tasks": task_names(rec),
        "task_statuses": _task_statuses(rec, phase),
        "running_records": _running_records(rec, phase, start, duration),
    }
    if start is not None:
        out["node_count_metrics"] = [[start, _node_count(rec)]]
    return out


def _engine_view(rec: Rec) -> dict[str, Any]:
    engine = rec["algorithm"].get("engine") or {}
    found = ENGINES_V2_BY_ID.get(engine.get("engine_id", "")) or ENGINES_V2_BY_NAME.get(
        (engine.get("engine_name", ""), engine.get("engine_version", ""))
    )
    out: dict[str, Any] = {}
    if found is not None:
        gpu = accelerated(rec["spec"]["resource"].get("flavor_id")) == "gpu"
        images = found["image_info"]
        out = {
            "engine_id": found["engine_id"],
            "engine_name": found["engine_name"],
            "engine_version": found["engine_version"],
            "image_url": images["gpu_image_url" if gpu else "cpu_image_url"],
        }
    if engine.get("image_url"):
        out["image_url"] = engine["image_url"]
    for key in ("install_sys_packages", "image_repo_id"):
        if engine.get(key) is not None:
            out[key] = engine[key]
    return out


_PARAMETER_CONSTRAINT = {
    "type": "String",
    "editable": True,
    "required": False,
    "sensitive": False,
    "valid_type": "None",
    "valid_range": [],
}


def _channel_view(item: dict[str, Any], direction: str, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": item["name"],
        "local_dir": item.get("local_dir")
        or f"/home/ma-user/modelarts/{direction}/{item['name']}_{index}",
        "access_method": item.get("access_method") or "parameter",
    }
    if item.get("description") is not None:
        out["description"] = item["description"]
    remote = item["remote"]
    if "dataset" in remote:
        ds = remote["dataset"]
        out["remote"] = {
            "dataset": {
                "id": ds["id"],
                "version_id": ds.get("version_id", ""),
                "obs_url": f"/modelarts-datasets/{ds['id']}/{ds.get('version_id', 'latest')}/",
                **{k: ds[k] for k in ("service_type", "name") if ds.get(k) is not None},
            }
        }
    else:
        out["remote"] = {"obs": {"obs_url": remote["obs"]["obs_url"]}}
    if direction == "inputs" and item.get("remote_constraint"):
        out["remote_constraint"] = item["remote_constraint"]
    return out


def algorithm_view(rec: Rec) -> dict[str, Any]:
    algo = rec["algorithm"]
    out: dict[str, Any] = {
        k: algo[k]
        for k in (
            "id",
            "subscription_id",
            "item_version_id",
            "code_dir",
            "boot_file",
            "command",
            "local_code_dir",
            "working_dir",
            "autosearch_config_path",
            "autosearch_framework_path",
        )
        if algo.get(k) is not None
    }
    out["name"] = algo.get("name") or rec["name"]
    out["engine"] = _engine_view(rec)
    out["parameters"] = [
        {
            "name": p["name"],
            "value": p.get("value", ""),
            "description": p.get("description", ""),
            "constraint": {**_PARAMETER_CONSTRAINT, **(p.get("constraint") or {})},
        }
        for p in algo.get("parameters") or []
    ]
    out["inputs"] = [_channel_view(c, "inputs", i) for i, c in enumerate(algo.get("inputs") or [])]
    out["outputs"] = [
        _channel_view(c, "outputs", i) for i, c in enumerate(algo.get("outputs") or [])
    ]
    out["environments"] = [{k: val} for k, val in (algo.get("environments") or {}).items()]
    if algo.get("policies"):
        out["policies"] = algo["policies"]
    if algo.get("summary"):
        out["summary"] = algo["summary"]
    return out


def spec_view(rec: Rec) -> dict[str, Any]:
    spec = rec["spec"]
    res = spec["resource"]
    flavor_id = res.get("flavor_id")
    resource: dict[str, Any] = {"policy": "regular", "node_count": int(res["node_count"])}
    if flavor_id:
        resource["flavor_id"] = flavor_id
        resource["flavor_name"] = FLAVORS_V2.get(flavor_id, {}).get("name", flavor_id)
    if res.get("pool_id"):
        resource["pool_id"] = resource["pool_name"] = res["pool_id"]
    elif flavor_id in FLAVORS_V2:
        resource["flavor_detail"] = flavor_detail(flavor_id)
    if res.get("main_container_customized_flavor"):
        resource["main_container_customized_flavor"] = res["main_container_customized_flavor"]
    out: dict[str, Any] = {
        "resource": resource,
        "log_export_path": {
            k: val for k, val in (spec.get("log_export_path") or {}).items() if val
        },
    }
    nfs = [{"nfs": vol["nfs"]} for vol in spec.get("volumes") or [] if "nfs" in vol]
    if nfs:
        out["volumes"] = nfs
    policy = spec.get("schedule_policy")
    if policy:
        out["schedule_policy"] = {
            "priority": int(policy.get("priority") or 1),
            "preemptible": bool(policy.get("preemptible", False)),
        }
        affinity = policy.get("required_affinity")
        if affinity:  # the response schema keeps these four, not node_affinity
            out["schedule_policy"]["required_affinity"] = {
                k: affinity[k]
                for k in (
                    "affinity_type",
                    "job_level",
                    "affinity_group_size",
                    "affinity_group_level",
                )
                if affinity.get(k) is not None
            }
    if spec.get("custom_metrics"):
        out["custom_metrics"] = spec["custom_metrics"]
    if spec.get("output_model"):
        out["output_model"] = spec["output_model"]
    return out


def endpoints_view(rec: Rec, phase: str) -> dict[str, Any]:
    """SSH, JupyterLab, TensorBoard and MindStudio Insight addresses, with a token for each
    tool, once the tasks run (stand-in host names: the emulator runs no notebooks)."""
    if phase != RUNNING:
        return {}
    out: dict[str, Any] = {}
    ssh = (rec["endpoints"] or {}).get("ssh")
    if isinstance(ssh, dict) and ssh.get("key_pair_names"):
        out["ssh"] = {
            "key_pair_names": list(ssh["key_pair_names"]),
            "task_urls": [
                {"task": t, "url": f"ssh://ma-user@{rec['id'][:8]}-{t}.modelarts.emulator:22"}
                for t in task_names(rec)
            ],
        }
    notes = rec["annotations"]
    for annotation, key in TOOLS:
        if notes.get(annotation) == "true":
            out[key] = {
                "url": f"https://{rec['id']}-{key.replace('_', '')}.modelarts.emulator/",
                "token": f"{rec['seed']:08x}",
            }
    return out


def job_view(core: Core, rec: Rec, now: int) -> dict[str, Any]:
    phase = phase_of(rec, now)
    metadata: dict[str, Any] = {
        "id": rec["id"],
        "name": rec["name"],
        "workspace_id": rec["workspace_id"],
        "description": rec["description"],
        "create_time": rec["create_time"],
        "user_name": rec["user_name"],
        "annotations": rec["annotations"],
    }
    if rec.get("experiment"):
        metadata["training_experiment_reference"] = rec["experiment"]
    return {
        "kind": rec["kind"],
        "metadata": metadata,
        "status": status_view(rec, now),
        "algorithm": algorithm_view(rec),
        "spec": spec_view(rec),
        "endpoints": endpoints_view(rec, phase),
    }


# ---------------------------------------------------------------- lifecycle
def sweep(core: Core) -> None:
    """Finish the asynchronous deletes whose time has come (only those in flight)."""
    st = core.state
    if not st.jobs_v2_deleting:
        return
    now = core.now_ms()
    for job_id in list(st.jobs_v2_deleting):
        rec = st.jobs_v2.get(job_id)
        if rec is None or now >= rec["deleted_at"]:
            st.jobs_v2_deleting.discard(job_id)
            if rec is not None:
                remove_job(core, rec)


def remove_job(core: Core, rec: Rec) -> None:
    st = core.state
    st.jobs_v2.remove(rec["id"])
    st.jobs_v2_deleting.discard(rec["id"])
    key = job_v2_key(rec["workspace_id"], rec["name"])
    if st.job_v2_names.get(key) == rec["id"]:
        del st.job_v2_names[key]
    core.changed()


def _stop(core: Core, rec: Rec, now: int) -> None:
    done = now + core.phase(core.config.timings.job_killing)
    rec["timeline"] = [*cut_timeline(rec["timeline"], now), [now, TERMINATING], [done, TERMINATED]]
    core.changed()


def force_job(core: Core, rec: Rec, spec: dict[str, Any]) -> None:
    """An outcome forced through the admin API: ``status`` (Failed by default) now, or at the
    planned end of the run with ``when: "end"``; ``exit_code`` and ``error_msg`` for tasks."""
    phase = spec.get("status") or FAILED
    if phase not in FORCEABLE:
        raise ApiError(400, "Emulator.400", f"status must be one of {sorted(FORCEABLE)}")
    now = core.now_ms()
    _record_failure(rec, phase, spec)
    timeline = rec["timeline"]
    if spec.get("when") == "end" and timeline[-1][0] > now and phase in TERMINAL:
        timeline[-1] = [timeline[-1][0], phase]
    else:
        rec["timeline"] = [*cut_timeline(timeline, now), [now, phase]]
    core.changed()


def _record_failure(rec: Rec, phase: str, spec: dict[str, Any]) -> None:
    if phase == FAILED:
        rec["failure"] = {
            "exit_code": int(spec.get("exit_code") or 1),
            "message": spec.get("error_msg")
            or f"the training process exited with code {int(spec.get('exit_code') or 1)}",
        }
    elif phase == ABNORMAL:
        rec["failure"] = {
            "message": spec.get("error_msg") or "creating the job's resources failed",
            "secondary": "CreateFailed",
        }


def _new_timeline(core: Core, rec: Rec, now: int) -> None:
    t = core.config.timings
    t1 = now + core.phase(t.job_init)
    t2 = t1 + core.phase(t.job_waiting)
    run = core.phase(t.job_running)
    rec["timeline"] = [[now, CREATING], [t1, PENDING], [t2, RUNNING], [t2 + run, COMPLETED]]
    if rec["kind"] == VISUALIZATION:  # runs until stopped
        rec["timeline"].pop()
    rec["planned_run_ms"] = run
    forced = core.take_pending_force("training_job_v2", rec["name"])
    if forced is None:
        return
    phase = forced.get("status") or FAILED
    _record_failure(rec, phase, forced)
    if phase == ABNORMAL or forced.get("when") == "now":
        rec["timeline"] = [[now, CREATING], [t1, phase]]
    elif rec["kind"] == VISUALIZATION:
        rec["timeline"].append([t2 + run, phase])
    else:
        rec["timeline"][-1] = [t2 + run, phase]


# ---------------------------------------------------------------- handlers
def _job(core: Core, request: web.Request) -> Rec:
    sweep(core)
    job_id = request.match_info["training_job_id"]
    rec = core.state.jobs_v2.get(job_id)
    if rec is None:
        raise not_found(job_id)
    return rec


async def create_job(request: web.Request) -> web.Response:
    core = core_of(request)
    sweep(core)
    job = validate_job(await json_body(request))
    core.usable_workspace(job["workspace_id"])
    if pool := job["spec"]["resource"].get("pool_id"):
        running_pool(core, pool, "Train")
    st = core.state
    key = job_v2_key(job["workspace_id"], job["name"])
    if key in st.job_v2_names:
        raise ApiError(400, "ModelArts.2751", f"Duplicate training job (name {job['name']}).")
    if len(st.jobs_v2) >= core.config.training_job_quota:
        raise ApiError(400, "ModelArts.2815", "The training job quota is exceeded.")
    now = core.now_ms()
    rec: Rec = {
        **job,
        "id": st.uuid(),
        "create_time": now,
        "user_name": core.config.iam_user,
        "seed": st.rng.getrandbits(32),
        "tags": [],
        "deleted_at": None,
    }
    _new_timeline(core, rec, now)
    st.jobs_v2.add(rec["id"], rec)
    st.job_v2_names[key] = rec["id"]
    core.changed()
    return reply(job_view(core, rec, now), status=201)


async def show_job(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _job(core, request)
    return reply(job_view(core, rec, core.now_ms()))


async def update_job(request: web.Request) -> web.Response:
    """Description, annotations (the JupyterLab switch), priority, preemption and
    notification (the SDK's JobUpdateRequestBody); 200 with an empty body."""
    core = core_of(request)
    rec = _job(core, request)
    body = await json_body(request)
    description = v.string(body, "description", max_len=256)
    meta = v.obj(body, "metadata") or {}
    annotations = _string_map(meta, "annotation", "metadata.")
    spec = v.obj(body, "spec") or {}
    policy = v.obj(spec, "schedule_policy") or {}
    priority = v.integer(policy, "priority", lo=1, hi=3, prefix="spec.schedule_policy.")
    preemptible = (
        v.boolean(policy, "preemptible", False) if policy.get("preemptible") is not None else None
    )
    notification = v.obj(spec, "notification")
    for event in (notification or {}).get("events") or []:
        if event not in NOTIFY_EVENTS:
            raise v.bad(
                f"spec.notification.events: {event!r} is not one of {sorted(NOTIFY_EVENTS)}"
            )
    if description is not None:
        rec["description"] = description
    rec["annotations"] = {**rec["annotations"], **annotations}
    if priority is not None:
        current = rec["spec"].setdefault("schedule_policy", {})
        current["priority"] = priority
    if preemptible is not None:
        rec["spec"].setdefault("schedule_policy", {})["preemptible"] = preemptible
    if notification is not None:
        rec["spec"]["notification"] = notification
    core.changed()
    return web.Response(status=200)


async def job_action(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _job(core, request)
    body = await json_body(request)
    action = v.string(body, "action_type", required=True)
    if action != "terminate":
        raise ApiError(400, "ModelArts.2812", f"Unsupported action type {action}.")
    now = core.now_ms()
    phase = phase_of(rec, now)
    if phase not in STOPPABLE:
        raise ApiError(
            409,
            "ModelArts.2796",
            f"Training job {rec['id']} cannot be terminated in phase {phase}.",
        )
    _stop(core, rec, now)
    return reply(job_view(core, rec, now), status=202)


def _begin_delete(core: Core, rec: Rec) -> None:
    if rec.get("deleted_at") is not None:
        return
    now = core.now_ms()
    if phase_of(rec, now) in STOPPABLE:
        _stop(core, rec, now)
    rec["deleted_at"] = now + core.phase(core.config.timings.job_deleting)
    core.state.jobs_v2_deleting.add(rec["id"])
    core.changed()


async def delete_job(request: web.Request) -> web.Response:
    core = core_of(request)
    _begin_delete(core, _job(core, request))
    return web.Response(status=202)


async def batch_delete(request: web.Request) -> web.Response:
    core = core_of(request)
    sweep(core)
    body = await json_body(request)
    jobs = v.array(body, "jobs", required=True)
    if len(jobs) > 100:
        raise v.bad("jobs holds at most 100 items")
    recs = []
    for i, item in enumerate(jobs):
        meta = item.get("metadata") if isinstance(item, dict) else None
        job_id = v.string(meta or {}, "id", required=True, prefix=f"jobs[{i}].metadata.")
        rec = core.state.jobs_v2.get(job_id)
        if rec is None:
            raise not_found(str(job_id))
        recs.append(rec)
    if len({r["workspace_id"] for r in recs}) > 1:
        raise v.bad("jobs of one batch delete must belong to one workspace")
    for rec in recs:
        _begin_delete(core, rec)
    return web.Response(status=202)


async def check_name(request: web.Request) -> web.Response:
    core = core_of(request)
    sweep(core)
    q = request.query
    name = q.get("job_name")
    if not name:
        raise v.bad("Mandatory parameter is missing: job_name")
    ws = q.get("workspace_id") or DEFAULT_WORKSPACE_ID
    return reply({"is_duplicate": job_v2_key(ws, name) in core.state.job_v2_names})


# ---------------------------------------------------------------- search
FILTER_KEYS = {
    "id",
    "name",
    "kind",
    "phase",
    "algorithm_id",
    "algorithm_name",
    "create_time",
    "user_id",
    "pool_id",
    "training_experiment_id",
    "runtime_type",
    "priority",
}
OPERATORS = {"between", "like", "in", "not"}
SORT_KEYS = {"create_time", "name", "phase", "duration"}


def _field_value(rec: Rec, key: str, now: int) -> str:
    if key == "phase":
        return phase_of(rec, now)
    if key == "algorithm_id":
        return str(rec["algorithm"].get("id") or "")
    if key == "algorithm_name":
        return str(rec["algorithm"].get("name") or rec["name"])
    if key == "pool_id":
        return str(rec["spec"]["resource"].get("pool_id") or "")
    if key == "training_experiment_id":
        return str((rec.get("experiment") or {}).get("id") or "")
    if key == "priority":
        return str((rec["spec"].get("schedule_policy") or {}).get("priority") or 1)
    if key == "user_id":
        return str(rec["user_name"])
    if key == "runtime_type":
        return str(rec["spec"].get("runtime_type") or "")
    return str(rec.get(key, ""))


def _epoch_ms(text: str, index: int) -> int | None:
    if text == "":
        return None
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, "ModelArts.2809", f"filters[{index}].value {text!r} is not a time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _predicate(raw: Any, index: int) -> Callable[[Rec, int], bool]:
    if not isinstance(raw, dict):
        raise ApiError(400, "ModelArts.2789", f"filters[{index}] must be an object")
    key, op, values = raw.get("key"), raw.get("operator"), raw.get("value")
    if key not in FILTER_KEYS:
        raise ApiError(400, "ModelArts.2807", f"filters[{index}].key {key!r} is not supported")
    if op not in OPERATORS:
        raise ApiError(400, "ModelArts.2808", f"filters[{index}].operator {op!r} is not supported")
    if (
        not isinstance(values, list)
        or len(values) > 10
        or not all(isinstance(x, str) for x in values)
    ):
        raise ApiError(400, "ModelArts.2809", f"filters[{index}].value must be <= 10 strings")
    wanted = list(values)
    if op == "between":
        if key != "create_time" or len(wanted) != 2:
            raise ApiError(
                400, "ModelArts.2809", f"filters[{index}]: between takes create_time and 2 values"
            )
        lo, hi = _epoch_ms(wanted[0], index), _epoch_ms(wanted[1], index)
        return lambda r, now: (
            (lo is None or r["create_time"] >= lo) and (hi is None or r["create_time"] <= hi)
        )
    if op == "like":
        return lambda r, now: any(w in _field_value(r, key, now) for w in wanted)
    if op == "in":
        return lambda r, now: _field_value(r, key, now) in wanted
    return lambda r, now: _field_value(r, key, now) not in wanted


def _tag_predicate(raw: Any) -> Callable[[Rec, int], bool]:
    if not isinstance(raw, list) or len(raw) > 10:
        raise v.bad("tags must be a list of at most 10 {key, values}")
    wanted: dict[str, list[str]] = {}
    for i, item in enumerate(raw):
        key = v.string(
            item if isinstance(item, dict) else {}, "key", required=True, prefix=f"tags[{i}]."
        )
        if key in wanted:
            raise v.bad(f"tags[{i}].key {key!r} is repeated")
        wanted[str(key)] = list(item.get("values") or [])

    def match(rec: Rec, now: int) -> bool:
        have: dict[str, set[str]] = {}
        for tag in rec["tags"]:
            have.setdefault(tag["key"], set()).add(tag.get("value", ""))
        return all(k in have and (not vals or have[k] & set(vals)) for k, vals in wanted.items())

    return match


async def search_jobs(request: web.Request) -> web.Response:
    core = core_of(request)
    sweep(core)
    body = await json_body(request)
    offset = v.integer(body, "offset", lo=0) or 0
    limit = v.integer(body, "limit", lo=1, hi=50) or 10
    sort_by = body.get("sort_by") or "create_time"
    if sort_by not in SORT_KEYS:
        raise ApiError(400, "ModelArts.2790", f"sort_by {sort_by!r} is not supported")
    order = v.enum(body, "order", {"asc", "desc"}) or "desc"
    ws = v.string(body, "workspace_id") or DEFAULT_WORKSPACE_ID
    filters = v.array(body, "filters") or []
    if len(filters) > 20:
        raise ApiError(400, "ModelArts.2789", "at most 20 filters are allowed")
    tests = [_predicate(f, i) for i, f in enumerate(filters)]
    if body.get("tags"):
        tests.append(_tag_predicate(body["tags"]))
    st = core.state
    now = core.now_ms()

    def in_ws(r: Rec) -> bool:
        return bool(r["workspace_id"] == ws)

    if sort_by == "create_time":
        ids = st.jobs_v2.view(("v2", ws, "create_time"), in_ws, None)
    elif sort_by == "name":
        ids = st.jobs_v2.view(("v2", ws, "name"), in_ws, lambda r: r["name"])
    else:
        recs = [r for r in st.jobs_v2.items.values() if in_ws(r)]
        recs.sort(key=lambda r: (_sort_value(r, sort_by, now), r["create_time"]))
        ids = [r["id"] for r in recs]
    ordered = ids[::-1] if order == "desc" else ids
    if tests:
        ordered = [k for k in ordered if all(t(st.jobs_v2.items[k], now) for t in tests)]
    page = ordered[offset * limit : offset * limit + limit]
    return reply(
        {
            "total": len(ids),
            "count": len(ordered),
            "limit": limit,
            "offset": offset,
            "sort_by": sort_by,
            "order": order,
            "group_by": body.get("group_by") or "",
            "workspace_id": ws,
            "ai_project": "default-ai-project",
            "train_type": body.get("train_type") or "job",
            "items": [job_view(core, st.jobs_v2.items[k], now) for k in page],
        }
    )


def _sort_value(rec: Rec, key: str, now: int) -> Any:
    if key == "duration":
        return run_window(rec["timeline"], RUNNING, now)[1]
    return phase_of(rec, now)


# ---------------------------------------------------------------- logs, metrics, events
def _task(rec: Rec, request: web.Request) -> str:
    task = request.match_info["task_id"]
    if task not in task_names(rec):
        raise v.bad(f"task_id {task!r} is not a task of training job {rec['id']}")
    return task


def _task_lines(rec: Rec, task: str, now: int) -> list[Line]:
    """A task's log, or 2818 while nothing has run yet."""
    phase = phase_of(rec, now)
    start, duration = run_window(rec["timeline"], RUNNING, now)
    if start is None:
        when = "the job ended before its tasks ran" if phase in TERMINAL else "not yet"
        raise ApiError(
            400,
            "ModelArts.2818",
            f"The log of task {task} has not been generated ({when}; phase {phase}).",
        )
    failure = rec.get("failure") or {}
    ending = {
        COMPLETED: "[INFO] training finished successfully",
        FAILED: f"[ERROR] process exited with code {failure.get('exit_code', 1)}: "
        f"{failure.get('message', '')}",
        TERMINATED: "[WARNING] training terminated",
    }.get(phase)
    return log_lines(
        submitted_ms=rec["create_time"],
        start_ms=start,
        duration_ms=duration,
        seed=rec["seed"] + task_names(rec).index(task),
        ending=ending,
    )


async def logs_preview(request: web.Request) -> web.Response:
    """The whole task log up to 5 MB (else its newest 5 MB). Once a job has ended, its log is
    read from the log export path: a job without one answers 2822."""
    core = core_of(request)
    rec = _job(core, request)
    task = _task(rec, request)
    now = core.now_ms()
    lines = _task_lines(rec, task, now)
    if phase_of(rec, now) in TERMINAL and not (rec["spec"].get("log_export_path") or {}).get(
        "obs_url"
    ):
        raise ApiError(
            400,
            "ModelArts.2822",
            f"Training job {rec['id']} has no log export path (spec.log_export_path); the "
            "logs of a finished job are kept only there.",
        )
    data = text_of(lines).encode()
    shown = data[-PREVIEW_CAP:]
    return reply(
        {
            "content": shown.decode(errors="replace"),
            "current_size": len(shown),
            "full_size": len(data),
        }
    )


async def logs_from_aom(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _job(core, request)
    task = _task(rec, request)
    q = request.query
    want = query_int(q, "lines", 50, 1, 500, BAD)
    order = query_enum(q, "order", {"asc", "desc"}, "desc", BAD)
    base = (q.get("base_line") or "").strip()
    chosen = aom_page(_task_lines(rec, task, core.now_ms()), want, order, base, BAD)
    return reply(
        {
            "start_line": chosen[0][0] if chosen else base,
            "end_line": chosen[-1][0] if chosen else base,
            "lines": len(chosen),
            "content": text_of(chosen),
        }
    )


async def metrics(request: web.Request) -> web.Response:
    """One-minute averages while running (``-1``: the flavor has no such device); before the
    run, 204 without a body (the documented NotReadyToFetchMetric)."""
    core = core_of(request)
    rec = _job(core, request)
    task = _task(rec, request)
    start, duration = run_window(rec["timeline"], RUNNING, core.now_ms())
    if start is None:
        return web.Response(status=204)
    minutes = min(60, max(1, duration // 60_000))
    rnd = random.Random(rec["seed"] * 31 + task_names(rec).index(task))
    device = accelerated(rec["spec"]["resource"].get("flavor_id"))
    out = []
    for name in METRICS:
        wanted = {"gpu": "gpu", "npu": "npu"}.get(name[:3])
        if wanted is not None and wanted != device:
            values = [-1.0] * minutes
        else:
            values = [round(rnd.uniform(10, 95), 2) for _ in range(minutes)]
        out.append({"metric": name, "value": values})
    return reply({"metrics": out})


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _phase_events(rec: Rec, phase: str) -> list[tuple[str, str, str]]:
    """(source, level, message) of the events entering ``phase`` writes."""
    failure = rec.get("failure") or {}
    if phase == RUNNING:
        scheduled = [("K8S", "Info", f"Task {task} is scheduled.") for task in task_names(rec)]
        return [*scheduled, ("Job", "Info", "The training job is running.")]
    if phase == FAILED:
        code, message = failure.get("exit_code", 1), failure.get("message", "")
        return [
            ("Task", "Error", f"Task worker-0 exited with code {code}: {message}"),
            ("Job", "Error", "The training job failed."),
        ]
    if phase == ABNORMAL:
        return [("Job", "Error", f"The training job is abnormal: {failure.get('message', '')}")]
    return {
        CREATING: [("Job", "Info", "The training job is created.")],
        PENDING: [("Job", "Info", "The training job is waiting for resources.")],
        COMPLETED: [("Job", "Info", "The training job completed.")],
        TERMINATING: [("Job", "Warning", "The training job is being terminated.")],
        TERMINATED: [("Job", "Info", "The training job was terminated.")],
    }[phase]


def _events(rec: Rec, now: int) -> list[tuple[int, dict[str, Any]]]:
    """(time ms, event) in time order, up to ``now``."""
    out = []
    for t, phase in rec["timeline"]:
        if t > now:
            break
        for source, level, message in _phase_events(rec, phase):
            out.append(
                (
                    int(t),
                    {"message": message, "level": level, "time": _iso(int(t)), "source": source},
                )
            )
    return out


async def events(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _job(core, request)
    q = request.query
    offset = query_int(q, "offset", 0, 0, None, BAD)
    limit = query_int(q, "limit", 50, 1, 100, BAD)
    order = query_enum(q, "order", {"asc", "desc"}, "desc", BAD)
    level = q.get("level")
    if level and level not in ("Info", "Error", "Warning"):
        raise v.bad(f"level must be Info, Error or Warning: {level!r}")
    pattern = q.get("pattern") or ""
    if len(pattern) > 256:
        raise v.bad("pattern holds at most 256 characters")
    start, end = q.get("start_time"), q.get("end_time")
    if bool(start) != bool(end):
        raise v.bad("start_time and end_time must be given together")
    lo = query_int(q, "start_time", 0, 0, None, BAD)
    hi = query_int(q, "end_time", 2**62, 0, None, BAD)
    found = [
        e
        for t, e in _events(rec, core.now_ms())
        if (not level or e["level"] == level) and pattern in e["message"] and lo <= t <= hi
    ]
    if order == "desc":
        found.reverse()
    return reply(
        {
            "total": len(found),
            "limit": limit,
            "offset": offset,
            "order": order,
            "start_time": _iso(lo) if start else "",
            "end_time": _iso(hi) if end else "",
            "events": found[offset * limit : offset * limit + limit],
        }
    )


async def task_history(request: web.Request) -> web.Response:
    """Where each task ran (a bare JSON array); empty until the tasks are scheduled."""
    core = core_of(request)
    rec = _job(core, request)
    start, _ = run_window(rec["timeline"], RUNNING, core.now_ms())
    wanted = query_int(request.query, "schedule_count", 0, 0, None, BAD)
    if start is None or wanted > 1:
        return reply([])
    return reply(
        [
            {
                "task": task,
                "ip": f"172.16.{i}.{rec['seed'] % 250 + 2}",
                "host_ip": f"192.168.0.{(rec['seed'] + i) % 250 + 2}",
                "schedule_count": 1,
            }
            for i, task in enumerate(task_names(rec))
        ]
    )


async def stages(request: web.Request) -> web.Response:
    """The run's stages: scheduling (queued until the tasks start), running, end."""
    core = core_of(request)
    rec = _job(core, request)
    now = core.now_ms()
    entered: dict[str, int] = {}
    for t, phase in rec["timeline"]:
        if t <= now:
            entered.setdefault("end" if phase in TERMINAL else phase, int(t))
    found: list[dict[str, Any]] = []
    for order, name, begin, finish in (
        (1, "scheduling", entered.get(PENDING), entered.get(RUNNING) or entered.get("end")),
        (3, "running", entered.get(RUNNING), entered.get(TERMINATING) or entered.get("end")),
        (4, "end", entered.get("end"), entered.get("end")),
    ):
        if begin is None:
            continue
        stage: dict[str, Any] = {
            "job_id": rec["id"],
            "name": name,
            "stage_order": order,
            "start_time": _iso(begin),
            "en_message": f"The job entered the {name} stage.",
            "sub_stages": [],
        }
        if finish is not None:
            stage["end_time"] = _iso(finish)
        found.append(stage)
    records = [{"record_order": 1, "stages": found}] if found else []
    return reply({"total_count": len(records), "running_records": records})


# ---------------------------------------------------------------- tags
def _tags_body(body: dict[str, Any]) -> list[dict[str, str]]:
    tags = v.array(body, "tags", required=True)
    out = []
    for i, tag in enumerate(tags):
        key = v.string(
            tag if isinstance(tag, dict) else {},
            "key",
            required=True,
            max_len=128,
            prefix=f"tags[{i}].",
        )
        value = v.string(tag, "value", max_len=255, prefix=f"tags[{i}].") or ""
        out.append({"key": str(key), "value": value})
    return out


async def show_tags(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply({"tags": list(_job(core, request)["tags"])})


async def project_tags(request: web.Request) -> web.Response:
    """``GET /v2/{project_id}/modelarts-training-job/tags`` (the SDK's list_training_job_tags):
    every tag key of the project's jobs with its values."""
    core = core_of(request)
    return reply({"tags": combined_tags(r["tags"] for r in core.state.jobs_v2.items.values())})


async def create_tags(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _job(core, request)
    new = _tags_body(await json_body(request))
    keys = {t["key"] for t in new}
    rec["tags"] = [t for t in rec["tags"] if t["key"] not in keys] + new
    if len(rec["tags"]) > 20:
        raise v.bad("a training job holds at most 20 tags")
    core.changed()
    return web.Response(status=204)


async def delete_tags(request: web.Request) -> web.Response:
    core = core_of(request)
    rec = _job(core, request)
    gone = {t["key"] for t in _tags_body(await json_body(request))}
    rec["tags"] = [t for t in rec["tags"] if t["key"] not in gone]
    core.changed()
    return web.Response(status=204)


# ---------------------------------------------------------------- catalogues
async def flavors(request: web.Request) -> web.Response:
    wanted = request.query.get("flavor_type")
    if wanted and wanted not in ("CPU", "GPU", "Ascend"):
        raise v.bad(f"flavor_type must be CPU, GPU or Ascend: {wanted!r}")
    items = [
        flavor_catalogue_item(fid)
        for fid, f in FLAVORS_V2.items()
        if not wanted or f["type"] == wanted
    ]
    return reply({"total_count": len(items), "flavors": items})


async def engines(request: web.Request) -> web.Response:
    return reply({"total": len(ENGINES_V2), "items": ENGINES_V2})


def routes() -> list[tuple[str, str, Any]]:
    base = "/v2/{project_id}"
    tj = base + "/training-jobs"
    one = tj + "/{training_job_id}"
    tags = base + "/modelarts-training-job/{training_job_id}/tags"
    return [
        ("POST", tj, create_job),
        ("POST", tj + "/batch-delete", batch_delete),
        ("POST", base + "/training-job-searches", search_jobs),
        ("GET", base + "/training-job-names", check_name),
        ("GET", base + "/training-job-flavors", flavors),
        ("GET", base + "/training-job-engines", engines),
        ("GET", one, show_job),
        ("PUT", one, update_job),
        ("DELETE", one, delete_job),
        ("POST", one + "/actions", job_action),
        ("GET", one + "/tasks/{task_id}/logs/preview", logs_preview),
        ("GET", one + "/logs/{task_id}", logs_from_aom),
        ("GET", one + "/metrics/{task_id}", metrics),
        ("GET", one + "/events", events),
        ("GET", one + "/tasks", task_history),
        ("GET", one + "/stages", stages),
        ("GET", base + "/modelarts-training-job/tags", project_tags),
        ("GET", tags, show_tags),
        ("POST", tags + "/create", create_tags),
        ("DELETE", tags + "/delete", delete_tags),
    ]
