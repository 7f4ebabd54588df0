"""The admin API under ``/_emulator/`` (no authentication; loopback only).

    GET    /_emulator/health                 liveness + clock
    POST   /_emulator/reset                  forget everything (objects, tokens, faults, counters)
    GET    /_emulator/clock                  {"now_ms", "speed", "frozen"}
    POST   /_emulator/clock                  {"speed"?, "freeze"?: bool, "advance"?: seconds,
                                              "set"?: epoch seconds}
    POST   /_emulator/speed                  {"speed": x}
    POST   /_emulator/clock/freeze | /unfreeze
    POST   /_emulator/clock/advance          {"seconds": n}
    POST   /_emulator/force                  {"kind", "id" | "name", "status"?, "error_code"?,
                                              "error_msg"?, "when"?: "now" | "end"}
    GET    /_emulator/faults                 the rules, with how often each fired
    POST   /_emulator/faults                 one rule, or {"rules": [...]} (see core.FaultRule)
    DELETE /_emulator/faults                 remove all rules
    GET    /_emulator/counters               {"calls": {"GET /v1/{project_id}/...": n}, "statuses"}
    DELETE /_emulator/counters               zero them
    GET    /_emulator/objects/{kind}         raw records, each with ``_status`` (its status now)
    DELETE /_emulator/objects/{kind}/{id}    delete behind the operator's back (no checks)
    POST   /_emulator/tokens/expire          every issued token expires now
    POST   /_emulator/config                 {"token_ttl"?, "rate_limit"?, "timings"?: {...}}
    POST   /_emulator/save                   write the state file now

Object endpoints (force, objects) act on the configured project, or on ``?project_id=``.

Kinds: workspace, training_job, training_job_v2, model, service, dataarts_model. Force outcomes:
a training job ends with a JOBSTAT ``status`` (default 11 FAILED); a v2 training job with a
phase (default Failed; ``exit_code`` and ``error_msg`` for its task, Abnormal for a failed
creation, ``when: "end"`` at its planned end); a model ``failed``; a service ``failed``,
``concerning``, ``running`` or ``stopped``; a DataArts model ``FAILED``; a workspace any status.
With ``name`` and no such object yet, the outcome applies when one with that name is created
(``when: "end"``, the default, lets a job run first and fail when it would have completed).

Kinds of the current APIs: service_v2 (force ``FAILED`` (default), ``ERROR``, ``CONCERNING``,
``RUNNING`` or ``STOPPED``) and notebook (``ERROR`` (default), ``CREATE_FAILED``,
``START_FAILED``, ``RUNNING`` or ``STOPPED``); registered by name, the outcome ends the next
deploy or start. Resource management: algorithm (no states), pool (force ``Error`` (default),
``Abnormal`` or ``Running``; by name, before it exists, the outcome ends its creation: give
the pool's ``os.modelarts/name``, its ID otherwise) and network.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from aiohttp import web

from . import dataarts, models, notebooks, pools, services, services_v2, training, training_v2
from .core import Core, FaultRule, core_of, json_body, reply
from .errors import ApiError
from .state import Rec, status_at, write_json_atomic
from .validation import to_int

KINDS = (
    "workspace",
    "training_job",
    "training_job_v2",
    "model",
    "service",
    "dataarts_model",
    "service_v2",
    "notebook",
    "algorithm",
    "pool",
    "network",
)


def _bad(msg: str) -> ApiError:
    return ApiError(400, "Emulator.400", msg)


def _clock_view(core: Core) -> dict[str, Any]:
    return {"now_ms": core.now_ms(), "speed": core.clock.speed, "frozen": core.clock.frozen}


async def health(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(
        {
            "ok": True,
            "project_id": core.config.project_id,
            "projects": core.projects,
            **_clock_view(core),
        }
    )


async def reset(request: web.Request) -> web.Response:
    core_of(request).reset()
    return reply({"reset": True})


async def get_clock(request: web.Request) -> web.Response:
    return reply(_clock_view(core_of(request)))


async def set_clock(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    try:
        if body.get("speed") is not None:
            core.clock.set_speed(float(body["speed"]))
        if body.get("freeze") is True:
            core.clock.freeze()
        elif body.get("freeze") is False:
            core.clock.unfreeze()
        if body.get("set") is not None:
            core.clock.set(float(body["set"]))
        if body.get("advance") is not None:
            core.clock.advance(float(body["advance"]))
    except (TypeError, ValueError) as exc:
        raise _bad(str(exc)) from None
    return reply(_clock_view(core))


async def set_speed(request: web.Request) -> web.Response:
    body = await json_body(request)
    if body.get("speed") is None:
        raise _bad("speed is required")
    return await _apply_clock(request, {"speed": body["speed"]})


async def freeze(request: web.Request) -> web.Response:
    return await _apply_clock(request, {"freeze": True})


async def unfreeze(request: web.Request) -> web.Response:
    return await _apply_clock(request, {"freeze": False})


async def advance(request: web.Request) -> web.Response:
    body = await json_body(request)
    return await _apply_clock(request, {"advance": body.get("seconds", 0)})


async def _apply_clock(request: web.Request, body: dict[str, Any]) -> web.Response:
    core = core_of(request)
    try:
        if "speed" in body:
            core.clock.set_speed(float(body["speed"]))
        if body.get("freeze") is True:
            core.clock.freeze()
        if body.get("freeze") is False:
            core.clock.unfreeze()
        if "advance" in body:
            core.clock.advance(float(body["advance"]))
    except (TypeError, ValueError) as exc:
        raise _bad(str(exc)) from None
    return reply(_clock_view(core))


def _find(core: Core, kind: str, ident: Any, name: Any) -> Rec | None:
    st = core.state
    if kind == "training_job":
        if ident is not None:
            return st.jobs.get(to_int(ident))
        jid = st.job_names.get(str(name))
        return st.jobs.get(jid) if jid is not None else None
    coll, name_field = {
        "service_v2": (st.services_v2, "name"),
        "notebook": (st.notebooks, "name"),
        "workspace": (st.workspaces, "name"),
        "model": (st.models, "model_name"),
        "service": (st.services, "service_name"),
        "dataarts_model": (st.dataarts, "name"),
        "training_job_v2": (st.jobs_v2, "name"),
        "algorithm": (st.algorithms, "name"),
        "pool": (st.pools, "name"),
        "network": (st.networks, "name"),
    }[kind]
    if ident is not None:
        return coll.get(str(ident))
    matches = [r for r in coll.items.values() if r[name_field] == name]
    return matches[-1] if matches else None


def force_outcome(core: Core, spec: dict[str, Any]) -> dict[str, Any]:
    """Apply (or register for later) a forced outcome; shared by the HTTP API and Python."""
    kind = spec.get("kind")
    if kind not in KINDS:
        raise _bad(f"kind must be one of {KINDS}")
    ident, name = spec.get("id"), spec.get("name")
    if ident is None and name is None:
        raise _bad("id or name is required")
    rec = _find(core, kind, ident, name)
    if rec is None:
        if ident is not None:
            raise ApiError(404, "Emulator.404", f"no {kind} with id {ident}")
        core.state.pending_forces.append(dict(spec))
        core.changed()
        return {"applied": False, "pending": True}
    status = spec.get("status")
    msg = spec.get("error_msg")
    if kind == "training_job":
        if not rec["versions"]:
            raise _bad(f"training job {rec['job_id']} has no version")
        vid = to_int(spec.get("version_id")) or rec["versions"][-1]
        ver = core.state.versions.get(vid)
        if ver is None:
            raise ApiError(404, "Emulator.404", f"no version {vid}")
        training.force_version(core, ver, int(status or training.FAILED), spec.get("error_code"))
    elif kind == "model":
        models.force_model(core, rec, status or "failed", msg)
    elif kind == "service":
        if (status or "failed") not in services.STATUSES:
            raise _bad(f"service status must be one of {sorted(services.STATUSES)}")
        services.force_service(core, rec, status or "failed", msg)
    elif kind == "training_job_v2":
        training_v2.force_job(core, rec, spec)
    elif kind == "dataarts_model":
        dataarts.force_dataarts(core, rec, status or "FAILED", msg)
    elif kind == "service_v2":
        if (status or "FAILED") not in services_v2.FORCIBLE:
            raise _bad(f"service_v2 status must be one of {sorted(services_v2.FORCIBLE)}")
        services_v2.force_service_v2(core, rec, status or "FAILED", msg)
    elif kind == "pool":
        if (status or pools.ERROR) not in pools.FORCIBLE:
            raise _bad(f"pool status must be one of {sorted(pools.FORCIBLE)}")
        pools.force_pool(core, rec, status or pools.ERROR, msg)
    elif kind == "notebook":
        if (status or "ERROR") not in notebooks.FORCIBLE:
            raise _bad(f"notebook status must be one of {sorted(notebooks.FORCIBLE)}")
        notebooks.force_notebook(core, rec, status or "ERROR", msg)
    else:
        rec["status"] = status or "CREATE_FAILED"
        rec.pop("deleting_until", None)
        core.changed()
    return {"applied": True, "pending": False}


async def force(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(force_outcome(core, await json_body(request)))


_RULE_FIELDS = {f.name for f in fields(FaultRule)} - {"fired"}


def add_fault_rules(core: Core, body: dict[str, Any]) -> list[FaultRule]:
    raw = body.get("rules") if "rules" in body else [body]
    if not isinstance(raw, list):
        raise _bad("rules must be a list")
    added = []
    for item in raw:
        unknown = set(item) - _RULE_FIELDS
        if unknown:
            raise _bad(f"unknown fault fields: {sorted(unknown)}")
        rule = FaultRule(**item)
        if rule.kind not in ("error", "latency", "throttle", "drop"):
            raise _bad("kind must be error, latency, throttle or drop")
        added.append(rule)
    core.faults.extend(added)
    return added


async def get_faults(request: web.Request) -> web.Response:
    return reply({"rules": [r.as_dict() for r in core_of(request).faults]})


async def post_faults(request: web.Request) -> web.Response:
    core = core_of(request)
    added = add_fault_rules(core, await json_body(request))
    return reply({"added": [r.as_dict() for r in added], "total": len(core.faults)})


async def clear_faults(request: web.Request) -> web.Response:
    core_of(request).faults.clear()
    return reply({"rules": []})


async def counters(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply(
        {
            "calls": dict(core.calls),
            "statuses": {k: {str(s): n for s, n in c.items()} for k, c in core.statuses.items()},
            "total": sum(core.calls.values()),
        }
    )


async def clear_counters(request: web.Request) -> web.Response:
    core = core_of(request)
    core.calls.clear()
    core.statuses.clear()
    return reply({"calls": {}})


def _collection(core: Core, kind: str) -> Any:
    st = core.state
    try:
        return {
            "service_v2": st.services_v2,
            "notebook": st.notebooks,
            "workspace": st.workspaces,
            "training_job": st.jobs,
            "model": st.models,
            "service": st.services,
            "dataarts_model": st.dataarts,
            "training_job_v2": st.jobs_v2,
            "algorithm": st.algorithms,
            "pool": st.pools,
            "network": st.networks,
        }[kind]
    except KeyError:
        raise _bad(f"kind must be one of {KINDS}") from None


def current_status(core: Core, kind: str, rec: Rec) -> Any:
    """The status the API would report for a raw record right now."""
    now = core.now_ms()
    if kind == "service_v2":
        return services_v2.service_status(rec, now)
    if kind == "notebook":
        return notebooks.notebook_status(rec, now)
    if kind == "training_job":
        latest = core.state.versions.get(rec["versions"][-1]) if rec["versions"] else None
        return training.version_status(latest, now) if latest else 0
    if kind == "model":
        return models.model_status(rec, now)
    if kind == "service":
        return services.service_status(rec, now)
    if kind == "workspace":
        return core.workspace_status(rec["id"])
    if kind == "training_job_v2":
        return training_v2.phase_of(rec, now)
    if kind == "dataarts_model":
        return dataarts.model_status(rec, now)
    if kind == "algorithm":
        return "Ready"
    return status_at(rec["timeline"], now)


async def list_objects(request: web.Request) -> web.Response:
    """Raw records plus ``_status``, what the API would say about each now."""
    core = core_of(request)
    kind = request.match_info["kind"]
    coll = _collection(core, kind)
    core.sweep()
    training_v2.sweep(core)
    items = [dict(r, _status=current_status(core, kind, r)) for r in list(coll.items.values())]
    return reply({"items": items})


def delete_object(core: Core, kind: str, ident: str) -> bool:
    """Remove an object as if someone deleted it in the console (no state checks)."""
    coll = _collection(core, kind)
    key: Any = to_int(ident) if kind == "training_job" else ident
    rec = coll.get(key)
    if rec is None:
        return False
    if kind == "training_job":
        training.remove_job(core, rec)
    elif kind == "training_job_v2":
        training_v2.remove_job(core, rec)
    elif kind == "model":
        models.remove_model(core, rec)
    elif kind == "service":
        services.remove_service(core, rec)
    elif kind == "workspace":
        core.purge_workspace(ident)
    elif kind == "service_v2":
        services_v2.remove_service_v2(core, rec)
    else:
        coll.remove(key)
        core.changed()
    return True


async def delete_object_handler(request: web.Request) -> web.Response:
    core = core_of(request)
    kind, ident = request.match_info["kind"], request.match_info["id"]
    if not delete_object(core, kind, ident):
        raise ApiError(404, "Emulator.404", f"no {kind} with id {ident}")
    return reply({"deleted": True})


async def expire_tokens(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply({"expired": core.tokens.expire_all(core.clock.now())})


async def set_config(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await json_body(request)
    cfg = core.config
    if body.get("token_ttl") is not None:
        cfg.token_ttl = float(body["token_ttl"])
    if body.get("rate_limit") is not None:
        cfg.rate_limit = int(body["rate_limit"])
        core.rate.limit = cfg.rate_limit
    for key, value in (body.get("timings") or {}).items():
        if not hasattr(cfg.timings, key):
            raise _bad(f"unknown timing {key!r}")
        setattr(cfg.timings, key, float(value))
    return reply(
        {
            "token_ttl": cfg.token_ttl,
            "rate_limit": cfg.rate_limit,
            "timings": dict(cfg.timings.__dict__),
        }
    )


async def save(request: web.Request) -> web.Response:
    core = core_of(request)
    if not core.config.state_file:
        raise _bad("no state file configured")
    write_json_atomic(core.config.state_file, core.snapshot())
    core.dirty = False
    return reply({"saved": core.config.state_file})


def routes() -> list[tuple[str, str, Any]]:
    a = "/_emulator"
    return [
        ("GET", a + "/health", health),
        ("POST", a + "/reset", reset),
        ("GET", a + "/clock", get_clock),
        ("POST", a + "/clock", set_clock),
        ("POST", a + "/speed", set_speed),
        ("POST", a + "/clock/freeze", freeze),
        ("POST", a + "/clock/unfreeze", unfreeze),
        ("POST", a + "/clock/advance", advance),
        ("POST", a + "/force", force),
        ("GET", a + "/faults", get_faults),
        ("POST", a + "/faults", post_faults),
        ("DELETE", a + "/faults", clear_faults),
        ("GET", a + "/counters", counters),
        ("DELETE", a + "/counters", clear_counters),
        ("GET", a + "/objects/{kind}", list_objects),
        ("DELETE", a + "/objects/{kind}/{id}", delete_object_handler),
        ("POST", a + "/tokens/expire", expire_tokens),
        ("POST", a + "/config", set_config),
        ("POST", a + "/save", save),
    ]
