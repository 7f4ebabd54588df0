"""The emulator's shared machinery: clock, state, tokens, faults, counters and helpers that
every resource family's handlers use (one place, never copied)."""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .auth import TemporaryKeyStore, TokenStore
from .clock import Clock
from .config import EmulatorConfig
from .errors import ApiError
from .oidc import IdentityProvider
from .state import DEFAULT_WORKSPACE_ID, Rec, State, read_json


@dataclass
class FaultRule:
    """One injected fault. ``endpoint`` is "METHOD /route/template", a path prefix, or "*"."""

    endpoint: str = "*"
    kind: str = "error"  # error | latency | throttle | drop
    rate: float = 1.0
    status: int = 500
    error_code: str = "ModelArts.0010"
    error_msg: str = "Injected fault."
    latency: float = 0.0
    retry_after: int = 1
    times: int | None = None  # how many more times it may fire (None: forever)
    fired: int = 0

    def matches(self, method: str, template: str, path: str) -> bool:
        if self.endpoint == "*":
            return True
        if " " in self.endpoint:
            meth, _, route = self.endpoint.partition(" ")
            return meth.upper() in (method, "*") and route == template
        return path.startswith(self.endpoint)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RateWindow:
    limit: int
    window_s: float
    started: float = field(default_factory=time.monotonic)
    used: int = 0

    def hit(self) -> tuple[int, float]:
        """Count one request; return (remaining, seconds until the window resets)."""
        now = time.monotonic()
        if now - self.started >= self.window_s:
            self.started, self.used = now, 0
        self.used += 1
        return self.limit - self.used, self.window_s - (now - self.started)


WINDOWS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}


CURRENT_PROJECT: ContextVar[str | None] = ContextVar("emulator_project", default=None)


class Core:
    """Shared machinery; ``state`` is the state of the project the current request is for
    (the configured project outside requests, and for DataArts paths, which carry none)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = Clock(config.speed)
        self.tokens = TokenStore()
        # IAM's side of keyless identity (see .iam): providers, temporary keys, metadata
        # session tokens (value -> emulated expiry) and a log of every exchange asked for.
        self.idps = {idp.id: idp for idp in map(IdentityProvider.parse, config.idps)}
        for idp in self.idps.values():
            if not idp.is_url:
                idp.load()  # a bad file fails at start, a URL when first needed
        for agency, association in config.pod_identities.items():
            if association.partition(",")[0] not in self.idps:
                raise ValueError(f"--pod-identity {agency}: no --idp {association}")
        self.temporary = TemporaryKeyStore()
        self.metadata_tokens: dict[str, float] = {}
        self.exchanges: list[dict[str, Any]] = []
        self.projects: dict[str, str] = {config.project_id: config.region}
        self.projects.update(config.extra_projects)
        self.keys: dict[str, str] = {config.ak: config.sk, **config.extra_keys}
        self.states: dict[str, State] = {}
        self.fault_rng = random.Random(config.seed)
        self.request_rng = random.Random(None if config.seed is None else config.seed + 1)
        self.faults: list[FaultRule] = []
        self.calls: Counter[str] = Counter()
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.rate = RateWindow(config.rate_limit, WINDOWS.get(config.rate_window, 60.0))
        self.dirty = False
        self.base_url = ""
        self.reset_state()
        if config.state_file:
            data = read_json(config.state_file)
            if data is not None:
                for pid, saved in data.get("projects", {}).items():
                    if pid in self.states:
                        self.states[pid].load_json(saved)
                self.clock.set(max(time.time(), data.get("clock_now_ms", 0) / 1000))

    @property
    def project_id(self) -> str:
        return CURRENT_PROJECT.get() or self.config.project_id

    @property
    def state(self) -> State:
        return self.states[self.project_id]

    # ---- lifecycle ----
    def reset_state(self) -> None:
        self.fault_rng = random.Random(self.config.seed)
        self.states = {}
        for i, pid in enumerate(self.projects):
            seed = None if self.config.seed is None else self.config.seed + 1000 * i
            self.states[pid] = self._fresh_state(seed)
        self.dirty = True

    def _fresh_state(self, seed: int | None) -> State:
        state = State(seed)
        now = self.clock.now_ms()
        state.workspaces.add(
            DEFAULT_WORKSPACE_ID,
            {
                "id": DEFAULT_WORKSPACE_ID,
                "name": "default",
                "description": "",
                "owner": self.config.iam_user,
                "create_time": now,
                "update_time": now,
                "enterprise_project_id": "0",
                "enterprise_project_name": "default",
                "auth_type": "PUBLIC",
                "grants": [],
                "status": "NORMAL",
                "quotas": {},
            },
        )
        return state

    def reset(self) -> None:
        self.reset_state()
        self.faults.clear()
        self.calls.clear()
        self.statuses.clear()
        self.tokens.clear()
        self.temporary.clear()
        self.metadata_tokens.clear()
        self.exchanges.clear()

    def changed(self) -> None:
        self.dirty = True

    def snapshot(self) -> dict[str, Any]:
        return {
            "format": 2,
            "clock_now_ms": self.clock.now_ms(),
            "projects": {pid: st.to_json() for pid, st in self.states.items()},
        }

    # ---- time ----
    def now_ms(self) -> int:
        return self.clock.now_ms()

    def phase(self, seconds: float) -> int:
        return self.state.jitter(seconds, self.config.timings.jitter)

    # ---- request ids ----
    def request_hex(self) -> str:
        return f"{self.request_rng.getrandbits(128):032x}"

    # ---- workspaces, as other families see them ----
    def workspace_status(self, ws_id: str) -> str | None:
        """NORMAL / DELETING / ... or None when it does not exist (sweeps finished deletes)."""
        rec = self.state.workspaces.get(ws_id)
        if rec is None:
            return None
        deleting_until = rec.get("deleting_until")
        if deleting_until is not None:
            if self.now_ms() >= deleting_until:
                self.purge_workspace(ws_id)
                return None
            return "DELETING"
        return str(rec["status"])

    def usable_workspace(self, ws_id: str) -> None:
        """Creating something in a workspace: it must exist (7005) and be NORMAL (7004)."""
        status = self.workspace_status(ws_id)
        if status is None:
            raise ApiError(404, "ModelArts.7005", f"The workspace {ws_id} does not exist.")
        if status != "NORMAL":
            raise ApiError(
                409,
                "ModelArts.7004",
                f"Not allowed to create resources in the abnormal workspace {ws_id} ({status}).",
            )

    def purge_workspace(self, ws_id: str) -> None:
        """A workspace's deletion finished: it and everything in it are gone."""
        st = self.state
        st.deleting.discard(ws_id)
        st.workspaces.remove(ws_id)
        for sid in [k for k, r in st.services.items.items() if r["workspace_id"] == ws_id]:
            rec = st.services.remove(sid)
            if rec is not None:
                st.service_names.pop(rec["service_name"], None)
        for coll in (st.services_v2, st.notebooks, st.algorithms):
            for key in [k for k, r in coll.items.items() if r["workspace_id"] == ws_id]:
                coll.remove(key)
        for mid in [k for k, r in st.models.items.items() if r["workspace_id"] == ws_id]:
            st.models.remove(mid)
        for v2id in [k for k, r in st.jobs_v2.items.items() if r["workspace_id"] == ws_id]:
            st.jobs_v2.remove(v2id)
        for jid in [k for k, r in st.jobs.items.items() if r["workspace_id"] == ws_id]:
            job = st.jobs.remove(jid)
            if job is not None:
                for vid in job["versions"]:
                    st.versions.remove(vid)
        st.reindex()
        self.changed()

    def sweep(self) -> None:
        """Finish workspace deletions whose time has come (cheap: only DELETING ones)."""
        deleting = self.state.deleting
        if not deleting:
            return
        now = self.now_ms()
        for ws_id in list(deleting):
            rec = self.state.workspaces.get(ws_id)
            until = rec.get("deleting_until") if rec is not None else None
            if until is None:
                deleting.discard(ws_id)
            elif now >= until:
                self.purge_workspace(ws_id)

    # ---- forced outcomes registered before the object existed ----
    def take_pending_force(self, kind: str, name: str) -> Rec | None:
        for i, rule in enumerate(self.state.pending_forces):
            if rule["kind"] == kind and rule.get("name") == name:
                return self.state.pending_forces.pop(i)
        return None


CORE_KEY = web.AppKey("core", Core)


def core_of(request: web.Request) -> Core:
    return request.app[CORE_KEY]


async def json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "ModelArts.0107", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "ModelArts.0107", "The request body must be a JSON object.")
    return data


def reply(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(),
        content_type="application/json",
        charset="UTF-8",
    )


def offset_start(core: Core, offset: int, limit: int) -> int:
    """The first item index for an offset/limit query (see EmulatorConfig.offset_mode)."""
    return offset * limit if core.config.offset_mode == "page" else offset
