"""Notebooks, the current development environments (``/v1/{project_id}/notebooks``), with the
image and flavor catalogues they are created from.

Shapes follow the official SDK's models (NotebookCreateRequest, NotebookResp, NotebookFlavor,
ImageResponse, Lease). Status lives on a timeline:

* create: INIT -> CREATING -> STARTING -> RUNNING (a forced outcome ends in CREATE_FAILED);
* stop: STOPPING -> STOPPED; start (with a lease): STARTING -> RUNNING (or START_FAILED);
* a lease of type TIMING stops a RUNNING notebook by itself when it ends (STOPPING ->
  STOPPED, no call needed). IDLE counts from the last start or renewal too: the emulator sees
  no user activity, so an idle notebook is one nobody touched;
* delete: DELETING, then gone;
* growing the EVS volume (``storage_new_size``) shows ``volume.status`` RESIZING for a moment
  (Terraform waits for it to end).

Errors (HTTP 400 throughout, as the API answers): ModelArts.6309 "instance does not exist" for
show/update/start/stop/lease/tags of an unknown id; ModelArts.6404 for a DELETE of an unknown
id; ModelArts.6357 when the instance is already in the target state or busy (stop of a stopped
notebook, start of a running one, delete of a deleting one, an update of a field that needs a
stopped notebook); ModelArts.6400 for invalid parameters. Names may repeat. The create body has
no tags (the SDK's NotebookCreateRequest has none): tags are added by
``POST /notebooks/{id}/tags/create``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from aiohttp import web

from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .pools import running_pool
from .services_v2 import combined_tags, has_tags, merge_tags, tag_filter, validate_tags
from .state import DEFAULT_WORKSPACE_ID, GONE, Rec, cut_timeline, entered_at, status_at
from .validation import V, query_int

v = V("ModelArts.6400", "ModelArts.6400")

NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fa5]{1,128}$")
WORKSPACE = re.compile(r"^(0|[a-z0-9]{32})$")
LEASE_MIN_MS, LEASE_MAX_MS, LEASE_DEFAULT_MS = 3_600_000, 259_200_000, 3_600_000
PAGE_SIZES = (10, 20, 50)
STATUSES = {
    "INIT", "CREATING", "STARTING", "STOPPING", "DELETING", "RUNNING", "STOPPED",
    "SNAPSHOTTING", "CREATE_FAILED", "START_FAILED", "DELETE_FAILED", "ERROR", "DELETED",
    "FROZEN",
}  # fmt: skip
FORCIBLE = {"CREATE_FAILED", "START_FAILED", "ERROR", "RUNNING", "STOPPED"}
BUSY = {"INIT", "CREATING", "STARTING", "STOPPING", "DELETING", "SNAPSHOTTING"}
WORK_DIR = "/home/ma-user/work"

IMAGES: list[dict[str, Any]] = [
    {"id": "e1a07296-22a8-4f05-8bc8-e936c8e54090", "name": "notebook2.0-mul-kernel-cpu-cp36",
     "tag": "3.3.2-release-v1", "arch": "X86_64", "resource_categories": ["CPU"],
     "description": "multi-kernel CPU image"},
    {"id": "278e88d1-5b71-4766-8502-b3ba72e824d9", "name": "pytorch1.8-cuda10.2-cudnn7-ubuntu18.04",
     "tag": "2.0.0", "arch": "X86_64", "resource_categories": ["CPU", "GPU"],
     "description": "PyTorch 1.8 with CUDA 10.2"},
    {"id": "5c1a1c83-9b1e-4c1a-8a3f-6d5f0c1d9a77", "name": "mindspore1.7.0-py3.7-ubuntu18.04",
     "tag": "1.7.0", "arch": "AARCH64", "resource_categories": ["ASCEND"],
     "description": "MindSpore 1.7 for Ascend"},
]  # fmt: skip
IMAGES_BY_ID = {img["id"]: img for img in IMAGES}

FLAVORS: list[dict[str, Any]] = [
    {"id": "modelarts.vm.cpu.2u", "name": "modelarts.vm.cpu.2u", "arch": "x86", "category": "CPU",
     "vcpus": 2, "memory": 8192, "free": False},
    {"id": "modelarts.vm.cpu.8u", "name": "modelarts.vm.cpu.8u", "arch": "x86", "category": "CPU",
     "vcpus": 8, "memory": 32768, "free": False},
    {"id": "modelarts.vm.gpu.t4u8", "name": "modelarts.vm.gpu.t4u8", "arch": "x86",
     "category": "GPU", "vcpus": 8, "memory": 32768, "free": False,
     "gpu": {"gpu": 1, "gpu_memory": "16GB", "type": "T4"}},
    {"id": "modelarts.vm.cpu.free", "name": "modelarts.vm.cpu.free", "arch": "x86",
     "category": "CPU", "vcpus": 1, "memory": 4096, "free": True},
]  # fmt: skip
FLAVORS_BY_ID = {f["id"]: f for f in FLAVORS}


def not_found(nid: str, code: str = "ModelArts.6309") -> ApiError:
    return ApiError(400, code, f"Notebook instance {nid} does not exist.")


def in_state(msg: str) -> ApiError:
    return ApiError(400, "ModelArts.6357", msg)


# ---------------------------------------------------------------- catalogues
def image_view(img: dict[str, Any]) -> dict[str, Any]:
    return {
        **img,
        "swr_path": f"swr.cn-north-4.myhuaweicloud.com/atelier/{img['name']}:{img['tag']}",
        "type": "BUILD_IN",
        "status": "ACTIVE",
        "service_type": "DEV",
        "dev_services": ["NOTEBOOK", "SSH"],
        "visibility": "PUBLIC",
        "namespace": "atelier",
        "origin": "CUSTOMIZE",
        "workspace_id": DEFAULT_WORKSPACE_ID,
        "size": 4_500_000,
        "create_at": 1_640_995_200_000,
        "update_at": 1_640_995_200_000,
        "show_name": img["name"],
        "show_tag": img["tag"],
        "tags": [],
    }


def flavor_view(flavor: dict[str, Any]) -> dict[str, Any]:
    return {
        **flavor,
        "description": f"{flavor['category']} {flavor['vcpus']} vCPUs, {flavor['memory']} MB",
        "feature": "NOTEBOOK",
        "sold_out": False,
        "storages": ["EVS", "EFS", "OBS"],
        "evs_max_size": "4096",
        "billing": {"code": flavor["id"], "unit_num": 1},
    }


def _paged(items: list[Any], q: Any, default_limit: int, max_limit: int) -> dict[str, Any]:
    code = "ModelArts.6400"
    limit = query_int(q, "limit", default_limit, 1, max_limit, code)
    offset = query_int(q, "offset", 0, 0, None, code)
    page = items[offset : offset + limit]
    return {
        "data": page,
        "current": offset // limit,
        "size": limit,
        "pages": math.ceil(len(items) / limit),
        "total": len(items),
    }


async def list_images(request: web.Request) -> web.Response:
    """Find by ``name`` (exact, or a substring with ``name_fuzzy_match=true``), ``show_tag``,
    ``type``, ``service_type``."""
    q = request.query
    name = q.get("name")
    fuzzy = (q.get("name_fuzzy_match") or "").lower() == "true"
    items = []
    for img in (image_view(i) for i in IMAGES):
        if name and not (name in img["name"] if fuzzy else name == img["name"]):
            continue
        if q.get("show_name") and q["show_name"] != img["show_name"]:
            continue
        if q.get("show_tag") and q["show_tag"] != img["show_tag"]:
            continue
        if q.get("type") and q["type"] != img["type"]:
            continue
        if q.get("service_type") and q["service_type"] not in (img["service_type"], "COMMON"):
            continue
        items.append(img)
    return reply(_paged(items, q, 100, 1000))


async def list_flavors(request: web.Request) -> web.Response:
    q = request.query
    items = [
        flavor_view(f) for f in FLAVORS if not q.get("category") or q["category"] == f["category"]
    ]
    out = _paged(items, q, 100, 1000)
    out["flavors"] = out["data"]
    return reply(out)


# ---------------------------------------------------------------- validation
def _lease(body: dict[str, Any], now: int) -> dict[str, Any]:
    """``duration`` (legacy, forces TIMING; -1 turns auto-stop off) wins over ``lease``."""
    legacy = body.get("duration")
    if legacy is not None:
        ms = v.integer(body, "duration")
        if ms == -1:
            return {"type": "TIMING", "duration": LEASE_DEFAULT_MS, "enable": False,
                    "create_at": now, "update_at": now}  # fmt: skip
        return _lease_from({"duration": ms, "type": "TIMING"}, "duration", now)
    lease = body.get("lease")
    if lease is not None and not isinstance(lease, dict):
        raise v.bad("lease must be an object")
    return _lease_from(lease or {}, "lease.duration", now)


def _lease_from(lease: dict[str, Any], field: str, now: int) -> dict[str, Any]:
    duration = v.integer(lease, "duration", default=LEASE_DEFAULT_MS)
    assert duration is not None
    if not LEASE_MIN_MS <= duration <= LEASE_MAX_MS:
        raise v.bad(f"{field} must be in [{LEASE_MIN_MS}, {LEASE_MAX_MS}] ms: {duration}")
    kind = v.enum(lease, "type", {"TIMING", "IDLE"}, prefix="lease.") or "TIMING"
    return {"type": kind, "duration": duration, "enable": True, "create_at": now,
            "update_at": now}  # fmt: skip


def _volume(value: Any) -> dict[str, Any]:
    """What the SDK's VolumeMountRequest states: category and ownership (any case: the cloud's
    examples write them in lower case), uri for a DEDICATED EFS/OBS/OBSFS volume, id for a
    DEDICATED EFS one, dew_secret_name for OBS, an EVS size of at most 4096 GB."""
    if not isinstance(value, dict):
        raise ApiError(400, "ModelArts.6400", "Mandatory parameter is missing: volume")
    vol = dict(value)
    at = "volume."
    category = str(
        v.enum(
            vol,
            "category",
            {"EVS", "OBS", "OBSFS", "EFS"},
            required=True,
            case_insensitive=True,
            prefix=at,
        )
    ).upper()
    ownership = str(
        v.enum(
            vol,
            "ownership",
            {"MANAGED", "DEDICATED"},
            required=True,
            case_insensitive=True,
            prefix=at,
        )
    ).upper()
    vol.update(category=category, ownership=ownership)
    v.string(vol, "uri", max_len=1024, prefix=at)
    if category == "EVS":
        vol["capacity"] = v.integer(vol, "capacity", hi=4096, default=5, prefix=at)
    if ownership == "DEDICATED" and category in ("EFS", "OBS", "OBSFS"):
        v.need(vol, "uri", at)
        if category == "EFS":
            v.need(vol, "id", at)
    if category == "OBS":
        v.string(vol, "dew_secret_name", required=True, min_len=1, max_len=64, prefix=at)
    mount = v.string(vol, "mount_path", max_len=256, prefix=at)
    vol["mount_path"] = mount or f"{WORK_DIR}/"
    return vol


def _data_volumes(value: Any) -> list[dict[str, Any]]:
    """Extra storage, each validated like ``volume`` and shown as the answer's VolumeResponse."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise v.bad("data_volumes must be an array of objects")
    out = []
    for i, item in enumerate(value):
        try:
            vol = _volume(item)
        except ApiError as err:
            raise ApiError(err.status, err.code, f"data_volumes[{i}]: {err.msg}") from None
        out.append(
            {
                "category": vol["category"],
                "mount_path": vol["mount_path"],
                "url": vol.get("uri") or "",
                "status": "MOUNTED",
                "mount_type": "STATIC",
            }
        )
    return out


def _endpoints(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise v.bad("endpoints must be an array of objects")
    out = []
    for i, raw in enumerate(value):
        item = dict(raw)
        at = f"endpoints[{i}]."
        service = v.enum(item, "service", {"NOTEBOOK", "SSH"}, required=True, prefix=at)
        keys = item.get("key_pair_names")
        if service == "SSH" and (not isinstance(keys, list) or not keys):
            raise v.bad(f"{at}key_pair_names is required for SSH")
        ips = item.get("allowed_access_ips") or []
        if not isinstance(ips, list) or len(ips) > 5:
            raise v.bad(f"{at}allowed_access_ips accepts at most 5 addresses")
        out.append(item)
    return out


def _compute(body: dict[str, Any], *, required: bool) -> tuple[str | None, dict[str, Any] | None]:
    flavor = v.string(body, "flavor")
    spec = body.get("custom_spec")
    if required and flavor is None and spec is None:  # the reference: flavor is mandatory
        raise v.bad("flavor or custom_spec is required")
    if flavor is not None and flavor not in FLAVORS_BY_ID:
        raise v.bad(f"flavor {flavor!r} is not offered; see GET /notebooks/flavors")
    if spec is not None:
        if not isinstance(spec, dict):
            raise v.bad("custom_spec must be an object")
        cpu = spec.get("cpu")
        if not isinstance(cpu, int | float) or cpu < 0.4:
            raise v.bad(f"custom_spec.cpu must be a number >= 0.4: {cpu!r}")
        memory = spec.get("memory")
        if not isinstance(memory, int | float) or memory < 513 or memory != int(memory):
            raise v.bad(f"custom_spec.memory must be an integer >= 513: {memory!r}")
        v.enum(spec, "arch", {"X86_64", "AARCH64"}, prefix="custom_spec.")
        v.enum(spec, "category", {"CPU", "GPU"}, prefix="custom_spec.")
    return flavor, spec


def _image(body: dict[str, Any]) -> str:
    image_id = v.string(body, "image_id", required=True)
    assert image_id is not None
    if image_id not in IMAGES_BY_ID:
        raise v.bad(f"image_id {image_id} does not exist; see GET /v1/{{project_id}}/images")
    return image_id


def _description(body: dict[str, Any]) -> str | None:
    desc = v.string(body, "description", max_len=512)
    if desc is not None and set("<>") & set(desc):
        raise v.bad("description must not contain < or >")
    return desc


# ---------------------------------------------------------------- planning
def notebook_status(nb: Rec, now: int) -> str:
    return str(status_at(nb["timeline"], now))


def _plan_start(core: Core, nb: Rec, now: int, *, first: bool) -> None:
    """Cut the future and plan the way to RUNNING, then the lease's stop."""
    t = core.config.timings
    tl = [] if first else cut_timeline(nb["timeline"], now)
    at = now
    if first:
        creating = core.phase(t.notebook_creating)
        tl += [[now, "INIT"], [now + max(1, creating // 10), "CREATING"]]
        at = now + creating
    tl.append([at, "STARTING"])
    running = at + core.phase(t.notebook_starting)
    forced = core.take_pending_force("notebook", nb["name"])
    if forced is not None:
        end = str(forced.get("status") or ("CREATE_FAILED" if first else "START_FAILED"))
        nb["fail_reason"] = forced.get("error_msg") or "Forced failure."
        tl.append([running, end])
    else:
        nb.pop("fail_reason", None)
        tl.append([running, "RUNNING"])
        lease = nb["lease"]
        lease["create_at"] = lease["update_at"] = running  # counted from RUNNING
        _plan_lease_end(core, nb, tl, running)
    nb["timeline"] = tl


def _plan_lease_end(core: Core, nb: Rec, tl: list[list[Any]], running_at: int) -> None:
    lease = nb["lease"]
    if lease["enable"]:
        ends = running_at + int(lease["duration"])
        stopped = ends + core.phase(core.config.timings.notebook_stopping)
        tl += [[ends, "STOPPING"], [stopped, "STOPPED"]]


def force_notebook(core: Core, nb: Rec, status: str, error_msg: str | None) -> None:
    now = core.now_ms()
    nb["timeline"] = [*cut_timeline(nb["timeline"], now), [now, status]]
    if error_msg:
        nb["fail_reason"] = error_msg
    core.changed()


# ---------------------------------------------------------------- views
_STEPS = ("storage", "compute", "network", "init")
_STEP_OF = {"INIT": 1, "CREATING": 2, "STARTING": 4}


def _progress(status: str) -> list[dict[str, Any]]:
    current = _STEP_OF.get(status)
    failed = status in ("CREATE_FAILED", "START_FAILED")
    out = []
    for i, name in enumerate(_STEPS, start=1):
        if failed:
            state = "FAILED" if i == len(_STEPS) else "COMPLETED"
        elif current is None:
            state = "COMPLETED"
        else:
            state = "COMPLETED" if i < current else "PROCESSING" if i == current else "WAITING"
        out.append({"step": i, "status": state, "description": f"{name} {state.lower()}"})
    return out


def lab_url(core: Core, nb: Rec) -> str:
    return f"{core.base_url}/lab/{nb['id']}"


def notebook_view(core: Core, nb: Rec) -> dict[str, Any]:
    """NotebookResp (create, list items, show, update, start, stop, delete)."""
    now = core.now_ms()
    status = notebook_status(nb, now)
    started = entered_at(nb["timeline"], "RUNNING", now) is not None
    image = image_view(IMAGES_BY_ID[nb["image_id"]])
    endpoints = []
    for e in nb["endpoints"]:
        item = dict(e)
        if e["service"] == "SSH":
            item["uri"] = f"ssh://ma-user@127.0.0.1:{22000 + int(nb['id'][:4], 16) % 1000}"
        else:
            item["uri"] = lab_url(core, nb)
        item["dev_service"] = "SSH" if e["service"] == "SSH" else "NOTEBOOK"
        endpoints.append(item)
    hidden = ("dew_secret_name", "resized_at")
    volume = {k: nb["volume"][k] for k in nb["volume"] if k not in hidden}
    resizing = now < int(nb["volume"].get("resized_at") or 0)
    volume["status"] = (
        "UNMOUNTING" if status == "DELETING" else "RESIZING" if resizing else "MOUNTED"
    )
    volume.setdefault("mount_type", "STATIC")
    volume.setdefault("read_only", False)
    out: dict[str, Any] = {
        "id": nb["id"],
        "name": nb["name"],
        "description": nb["description"],
        "status": status,
        "action_progress": _progress(status),
        "image": {k: image[k] for k in ("id", "name", "swr_path", "tag", "type", "arch")},
        "lease": dict(nb["lease"]),
        "pool": {"id": nb.get("pool_id") or "", "name": nb.get("pool_id") or "public"},
        "volume": volume,
        "endpoints": endpoints,
        "workspace_id": nb["workspace_id"],
        "feature": nb["feature"],
        "billing_items": ["STORAGE", "COMPUTE"],
        "user": {"id": core.config.domain_id, "name": core.config.iam_user,
                 "domain": {"id": core.config.domain_id, "name": core.config.iam_domain}},
        "user_id": core.config.domain_id,
        "tags": nb["tags"],
        "data_volumes": nb.get("data_volumes") or [],
        "is_need_credentials": False,
        "jupyter_version": "3.4.8",
        "create_at": nb["create_at"],
        "update_at": nb["update_at"],
    }  # fmt: skip
    if nb.get("flavor"):
        out["flavor"] = nb["flavor"]
    if nb.get("custom_spec"):
        spec = nb["custom_spec"]
        out["custom_spec"] = {"arch": "X86_64", "category": "CPU", **spec}
    if started and status == "RUNNING":
        out["url"] = lab_url(core, nb)
    if status in ("CREATE_FAILED", "START_FAILED", "ERROR"):
        out["fail_reason"] = nb.get("fail_reason") or f"The notebook is {status}."
    return out


# ---------------------------------------------------------------- lookups
def live_notebook(core: Core, nid: str) -> Rec | None:
    nb = core.state.notebooks.get(nid)
    if nb is None:
        return None
    if notebook_status(nb, core.now_ms()) == GONE:
        remove_notebook(core, nb)
        return None
    return nb


def _notebook(core: Core, nid: str) -> Rec:
    nb = live_notebook(core, nid)
    if nb is None:
        raise not_found(nid)
    return nb


def remove_notebook(core: Core, nb: Rec) -> None:
    core.state.notebooks.remove(nb["id"])
    core.changed()


# ---------------------------------------------------------------- handlers
async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    name = v.string(body, "name", required=True, pattern=NAME)
    desc = _description(body) or ""
    image_id = _image(body)
    flavor, spec = _compute(body, required=True)
    volume = _volume(body.get("volume"))
    endpoints = _endpoints(body.get("endpoints"))
    feature = v.enum(body, "feature", {"NOTEBOOK", "DEFAULT"}) or "NOTEBOOK"
    ws = v.string(body, "workspace_id", pattern=WORKSPACE) or DEFAULT_WORKSPACE_ID
    pool = v.string(body, "pool_id", max_len=64)
    now = core.now_ms()
    lease = _lease(body, now)
    core.usable_workspace(ws)
    if pool:
        running_pool(core, pool, "Notebook")
    st = core.state
    nid = st.uuid()
    nb: Rec = {
        "id": nid,
        "name": name,
        "description": desc,
        "image_id": image_id,
        "flavor": flavor,
        "custom_spec": spec,
        "volume": volume,
        "endpoints": endpoints,
        "feature": feature,
        "workspace_id": ws,
        "pool_id": pool,
        "lease": lease,
        "tags": [],
        "data_volumes": _data_volumes(body.get("data_volumes")),
        "create_at": now,
        "update_at": now,
        "timeline": [],
    }
    _plan_start(core, nb, now, first=True)
    st.notebooks.add(nid, nb)
    core.changed()
    return reply(notebook_view(core, nb))


async def list_notebooks(request: web.Request) -> web.Response:
    """Item offset; ``limit`` 10, 20 or 50; ``name`` is a substring match; newest first."""
    core = core_of(request)
    q = request.query
    code = "ModelArts.6400"
    limit = query_int(q, "limit", 10, 1, None, code)
    if limit not in PAGE_SIZES:
        raise ApiError(400, code, f"limit must be one of {list(PAGE_SIZES)}: {limit}")
    offset = query_int(q, "offset", 0, 0, None, code)
    sort_dir = q.get("sort_dir") or "DESC"
    if sort_dir not in ("ASC", "DESC"):
        raise ApiError(400, code, f"sort_dir must be ASC or DESC: {sort_dir!r}")
    status = q.get("status")
    if status and status not in STATUSES:
        raise ApiError(400, code, f"status must be one of {sorted(STATUSES)}: {status!r}")
    wanted_tags = tag_filter(q.get("tags"))
    ws = q.get("workspace_id") or q.get("workspaceId")
    now = core.now_ms()
    matches = []
    for nb in list(core.state.notebooks.items.values()):
        if notebook_status(nb, now) == GONE:
            remove_notebook(core, nb)
            continue
        if q.get("name") and q["name"] not in nb["name"]:
            continue
        if q.get("id") and q["id"] != nb["id"]:
            continue
        if status and notebook_status(nb, now) != status:
            continue
        if ws and nb["workspace_id"] != ws:
            continue
        if q.get("feature") and q["feature"] != nb["feature"]:
            continue
        if q.get("image_id") and q["image_id"] != nb["image_id"]:
            continue
        if q.get("flavor") and q["flavor"] != nb.get("flavor"):
            continue
        if q.get("pool_id") and q["pool_id"] != nb.get("pool_id"):
            continue
        if not has_tags(nb["tags"], wanted_tags):
            continue
        matches.append(nb)
    if sort_dir == "DESC":
        matches.reverse()
    page = matches[offset : offset + limit]
    return reply(
        {
            "data": [notebook_view(core, nb) for nb in page],
            "current": offset // limit,
            "size": limit,
            "pages": math.ceil(len(matches) / limit),
            "total": len(matches),
        }
    )


async def show(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(notebook_view(core, _notebook(core, request.match_info["id"])))


STOPPED_ONLY = ("flavor", "custom_spec", "image_id", "endpoints")


async def update(request: web.Request) -> web.Response:
    """name, description and storage size at any settled state; flavor, custom_spec, image
    and endpoints only while STOPPED (6357 otherwise)."""
    core = core_of(request)
    nb = _notebook(core, request.match_info["id"])
    body = await json_body(request)
    now = core.now_ms()
    status = notebook_status(nb, now)
    if status == "DELETING":
        raise in_state(f"Notebook {nb['id']} is being deleted.")
    name = v.string(body, "name", pattern=NAME)
    desc = _description(body)
    needs_stop = [f for f in STOPPED_ONLY if body.get(f) is not None]
    if needs_stop and status != "STOPPED":
        raise in_state(
            f"{', '.join(needs_stop)} can be changed only while the notebook is STOPPED "
            f"(it is {status}); stop it first."
        )
    changes: dict[str, Any] = {}
    if body.get("flavor") is not None or body.get("custom_spec") is not None:
        flavor, spec = _compute(body, required=False)
        changes.update(flavor=flavor, custom_spec=spec)
    if body.get("image_id") is not None:
        changes["image_id"] = _image(body)
    if body.get("endpoints") is not None:
        changes["endpoints"] = _endpoints(body["endpoints"])
    size = v.integer(body, "storage_new_size", hi=4096)
    if size is not None:
        if nb["volume"]["category"] != "EVS":
            raise v.bad("storage_new_size applies to EVS volumes only")
        if size <= int(nb["volume"]["capacity"]):
            raise v.bad(
                f"storage_new_size must be larger than the current {nb['volume']['capacity']} GB"
            )
        if status in BUSY:
            raise in_state(f"The volume cannot be resized while the notebook is {status}.")
    if name is not None:
        nb["name"] = name
    if desc is not None:
        nb["description"] = desc
    nb.update(changes)
    if size is not None:
        nb["volume"]["capacity"] = size
        nb["volume"]["resized_at"] = now + core.phase(core.config.timings.notebook_stopping)
    nb["update_at"] = now
    core.changed()
    return reply(notebook_view(core, nb))


async def start(request: web.Request) -> web.Response:
    core = core_of(request)
    nb = _notebook(core, request.match_info["id"])
    q = request.query
    now = core.now_ms()
    status = notebook_status(nb, now)
    if status not in ("STOPPED", "START_FAILED", "ERROR"):
        raise in_state(f"Notebook {nb['id']} cannot be started: it is {status}.")
    lease_q: dict[str, Any] = {"type": q.get("type") or nb["lease"]["type"]}
    if q.get("duration"):
        lease_q["duration"] = q["duration"]
    if q.get("duration") == "-1":
        nb["lease"] = {**nb["lease"], "enable": False}
    else:
        lease_q.setdefault("duration", nb["lease"]["duration"])
        nb["lease"] = _lease_from(lease_q, "duration", now)
    _plan_start(core, nb, now, first=False)
    nb["update_at"] = now
    core.changed()
    return reply(notebook_view(core, nb))


async def stop(request: web.Request) -> web.Response:
    core = core_of(request)
    nb = _notebook(core, request.match_info["id"])
    now = core.now_ms()
    status = notebook_status(nb, now)
    if status in ("STOPPED", "STOPPING", "DELETING", "CREATE_FAILED"):
        raise in_state(f"Notebook {nb['id']} is already {status}.")
    stopped = now + core.phase(core.config.timings.notebook_stopping)
    nb["timeline"] = [*cut_timeline(nb["timeline"], now), [now, "STOPPING"], [stopped, "STOPPED"]]
    nb["update_at"] = now
    core.changed()
    return reply(notebook_view(core, nb))


async def delete(request: web.Request) -> web.Response:
    core = core_of(request)
    nid = request.match_info["id"]
    nb = live_notebook(core, nid)
    if nb is None:
        raise not_found(nid, "ModelArts.6404")
    now = core.now_ms()
    if notebook_status(nb, now) == "DELETING":
        raise in_state(f"Notebook {nid} is already being deleted.")
    gone = now + core.phase(core.config.timings.notebook_deleting)
    nb["timeline"] = [*cut_timeline(nb["timeline"], now), [now, "DELETING"], [gone, GONE]]
    core.changed()
    return reply(notebook_view(core, nb))


async def show_lease(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(dict(_notebook(core, request.match_info["id"])["lease"]))


async def renew_lease(request: web.Request) -> web.Response:
    """A new lease counted from now; a RUNNING notebook's planned stop moves with it."""
    core = core_of(request)
    nb = _notebook(core, request.match_info["id"])
    body = await json_body(request)
    if request.query.get("duration"):
        body.setdefault("duration", request.query["duration"])
    now = core.now_ms()
    body.setdefault("type", nb["lease"]["type"])
    nb["lease"] = _lease_from(body, "duration", now)
    if notebook_status(nb, now) == "RUNNING":
        tl = cut_timeline(nb["timeline"], now)
        _plan_lease_end(core, nb, tl, now)
        nb["timeline"] = tl
    core.changed()
    return reply(dict(nb["lease"]))


async def create_tags(request: web.Request) -> web.Response:
    core = core_of(request)
    nb = _notebook(core, request.match_info["id"])
    body = await json_body(request)
    tags = validate_tags(body.get("tags"))
    if not tags:
        raise ApiError(400, "ModelArts.6400", "Mandatory parameter is missing: tags")
    nb["tags"] = merge_tags(nb["tags"], tags)
    core.changed()
    return reply({})


async def project_tags(request: web.Request) -> web.Response:
    """``GET /v1/{project_id}/notebooks/tags`` (the SDK's show_notebook_tags): every tag key of
    the project's notebooks with the values it has."""
    core = core_of(request)
    ws = request.query.get("workspace_id")
    recs = core.state.notebooks.items.values()
    return reply(
        {"tags": combined_tags(nb["tags"] for nb in recs if not ws or nb["workspace_id"] == ws)}
    )


async def delete_tags(request: web.Request) -> web.Response:
    core = core_of(request)
    nb = _notebook(core, request.match_info["id"])
    body = await json_body(request)
    keys = {t["key"] for t in validate_tags(body.get("tags"))}
    nb["tags"] = [t for t in nb["tags"] if t["key"] not in keys]
    core.changed()
    return reply({})


async def lab(request: web.Request) -> web.Response:
    """The notebook's URL: answers while it runs, like JupyterLab behind the console."""
    core = core_of(request)
    nb = live_notebook(core, request.match_info["id"])
    if nb is None:
        raise not_found(request.match_info["id"])
    status = notebook_status(nb, core.now_ms())
    if status != "RUNNING":
        raise ApiError(503, "ModelArts.6357", f"Notebook {nb['id']} is {status}.")
    return reply({"id": nb["id"], "status": status})


def routes() -> list[tuple[str, str, Any]]:
    base = "/v1/{project_id}/notebooks"
    one = base + "/{id}"
    return [
        ("POST", base, create),
        ("GET", base, list_notebooks),
        ("GET", base + "/flavors", list_flavors),
        ("GET", base + "/tags", project_tags),  # before /{id}: "tags" is not a notebook id
        ("GET", one, show),
        ("PUT", one, update),
        ("DELETE", one, delete),
        ("POST", one + "/start", start),
        ("POST", one + "/stop", stop),
        ("GET", one + "/lease", show_lease),
        ("PATCH", one + "/lease", renew_lease),
        ("POST", one + "/tags/create", create_tags),
        ("DELETE", one + "/tags/delete", delete_tags),
        ("GET", "/v1/{project_id}/images", list_images),
        ("GET", "/lab/{id}", lab),
    ]
