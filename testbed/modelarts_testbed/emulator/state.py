"""In-memory state: records per resource family, ordered indexes, seeded IDs, JSON persistence.

Records are plain JSON-able dicts. Asynchronous progress is stored as a *timeline*
(``[[t_ms, status], ...]``) fixed when an action happens; the current status is the last entry
whose time has passed. Reading state is therefore a pure function of the clock: thousands of
idle objects cost nothing, and advancing the clock needs no background work.
"""

from __future__ import annotations

import bisect
import json
import os
import random
import tempfile
import uuid
from collections.abc import Callable, Iterable
from typing import Any

Rec = dict[str, Any]
Timeline = list[list[Any]]

DEFAULT_WORKSPACE_ID = "0"
GONE = "_GONE"
"""The last timeline entry of an object whose asynchronous deletion has finished."""


def status_at(timeline: Timeline, now_ms: int) -> Any:
    """The status in force at ``now_ms`` (the first entry's status before it starts)."""
    current = timeline[0][1]
    for t, status in timeline:
        if t <= now_ms:
            current = status
        else:
            break
    return current


def entered_at(timeline: Timeline, status: Any, now_ms: int) -> int | None:
    """When ``status`` was (last) entered, if that has happened by ``now_ms``."""
    found = None
    for t, s in timeline:
        if t > now_ms:
            break
        if s == status:
            found = t
    return found


def run_window(timeline: Timeline, running: Any, now_ms: int) -> tuple[int | None, int]:
    """(when ``running`` was entered or None, how long it lasted in ms) at ``now_ms``."""
    start = entered_at(timeline, running, now_ms)
    if start is None:
        return None, 0
    end = None
    for t, s in timeline:
        if t > now_ms:
            break
        if t > start and s != running:
            end = t
            break
    return start, (end if end is not None else now_ms) - start


def cut_timeline(timeline: Timeline, now_ms: int) -> Timeline:
    """Drop the planned future: what happens next is being decided anew now."""
    kept = [entry for entry in timeline if entry[0] <= now_ms]
    return kept or timeline[:1]


class _View:
    """IDs of the selected records in (sort key, creation order) order, kept up to date."""

    def __init__(
        self, select: Callable[[Rec], bool], sort_key: Callable[[Rec], Any] | None
    ) -> None:
        self.select = select
        self.sort_key = sort_key
        self.keys: list[tuple[Any, int]] = []
        self.ids: list[Any] = []


class Collection:
    """Records of one kind keyed by ID, in creation order, with maintained sorted views.

    A view is built once (one sort) and then kept in order on every create and delete with a
    binary search, so paging through a large listing costs a slice per page and creating
    objects between pages costs no re-sort. ``touch`` (a sort key changed) drops the views.
    """

    def __init__(self) -> None:
        self.items: dict[Any, Rec] = {}
        self._seq: dict[Any, int] = {}
        self._counter = 0
        self._views: dict[tuple[Any, ...], _View] = {}

    def _full_key(self, view: _View, key: Any, rec: Rec) -> tuple[Any, int]:
        return (view.sort_key(rec) if view.sort_key else 0, self._seq[key])

    def add(self, key: Any, rec: Rec) -> None:
        if key in self.items:
            self.remove(key)
        self.items[key] = rec
        self._counter += 1
        self._seq[key] = self._counter
        for view in self._views.values():
            if view.select(rec):
                full = self._full_key(view, key, rec)
                i = bisect.bisect_right(view.keys, full)
                view.keys.insert(i, full)
                view.ids.insert(i, key)

    def remove(self, key: Any) -> Rec | None:
        rec = self.items.get(key)
        if rec is None:
            return None
        for view in self._views.values():
            if view.select(rec):
                full = self._full_key(view, key, rec)
                i = bisect.bisect_left(view.keys, full)
                if i < len(view.keys) and view.keys[i] == full:
                    del view.keys[i]
                    del view.ids[i]
        del self.items[key]
        del self._seq[key]
        return rec

    def touch(self) -> None:
        self._views.clear()

    def get(self, key: Any) -> Rec | None:
        return self.items.get(key)

    def __len__(self) -> int:
        return len(self.items)

    def view(
        self,
        name: tuple[Any, ...],
        select: Callable[[Rec], bool],
        sort_key: Callable[[Rec], Any] | None,
    ) -> list[Any]:
        """IDs of the selected records in ascending ``sort_key`` (then creation) order."""
        view = self._views.get(name)
        if view is None:
            if len(self._views) > 64:
                self._views.clear()
            view = _View(select, sort_key)
            pairs = sorted(
                (self._full_key(view, k, r), k) for k, r in self.items.items() if select(r)
            )
            view.keys = [p[0] for p in pairs]
            view.ids = [p[1] for p in pairs]
            self._views[name] = view
        return view.ids

    key_field: str = "id"

    def clear(self) -> None:
        self.items.clear()
        self._seq.clear()
        self._views.clear()


def keyed(field: str) -> Collection:
    c = Collection()
    c.key_field = field
    return c


def page_slice(ids: list[Any], start: int, count: int, descending: bool) -> list[Any]:
    """Items [start, start+count) of ``ids`` read in the requested direction; O(count)."""
    n = len(ids)
    if start >= n or count <= 0:
        return []
    if not descending:
        return ids[start : start + count]
    hi = n - start
    lo = max(0, hi - count)
    return ids[lo:hi][::-1]


class State:
    """Everything the emulator knows; serialisable to and from JSON."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.workspaces = keyed("id")
        self.jobs = keyed("job_id")
        self.versions = keyed("version_id")
        self.job_names: dict[str, int] = {}
        self.train_urls: dict[str, list[int]] = {}  # train_url -> version ids using it
        self.services_v2 = keyed("id")
        self.service_v2_names: dict[str, str] = {}
        self.notebooks = keyed("id")
        self.models = keyed("model_id")
        self.model_keys: dict[str, str] = {}  # "name\x00version" -> model_id
        self.services = keyed("service_id")
        self.service_names: dict[str, str] = {}
        self.dataarts = keyed("id")
        self.jobs_v2 = keyed("id")
        self.job_v2_names: dict[str, str] = {}  # job_v2_key(workspace, name) -> id
        self.jobs_v2_deleting: set[str] = set()  # v2 jobs whose asynchronous delete runs
        self.algorithms = keyed("id")
        self.pools = keyed("id")
        self.networks = keyed("id")
        self.pending_forces: list[Rec] = []
        self.deleting: set[str] = set()  # workspaces in DELETING, swept on every request
        self.next_job_id = 1
        self.next_version_id = 1

    # ---- identifiers (seeded, so a seeded run produces the same IDs) ----
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex32(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def jitter(self, seconds: float, fraction: float) -> int:
        """A phase length in ms, jittered by the seeded RNG."""
        factor = 1.0 + self.rng.uniform(-fraction, fraction) if fraction else 1.0
        return max(1, int(seconds * factor * 1000))

    def alloc_job_id(self) -> int:
        self.next_job_id += 1
        return self.next_job_id - 1

    def alloc_version_id(self) -> int:
        self.next_version_id += 1
        return self.next_version_id - 1

    # ---- persistence ----
    _COLLECTIONS = (
        "workspaces",
        "jobs",
        "versions",
        "models",
        "services",
        "dataarts",
        "jobs_v2",
        "services_v2",
        "notebooks",
        "algorithms",
        "pools",
        "networks",
    )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "next_job_id": self.next_job_id,
            "next_version_id": self.next_version_id,
            "rng": _rng_state(self.rng),
            "pending_forces": self.pending_forces,
        }
        for name in self._COLLECTIONS:
            out[name] = list(getattr(self, name).items.values())
        return out

    def load_json(self, data: dict[str, Any]) -> None:
        self.next_job_id = int(data["next_job_id"])
        self.next_version_id = int(data["next_version_id"])
        self.pending_forces = list(data.get("pending_forces", []))
        if data.get("rng"):
            self.rng.setstate(_rng_restore(data["rng"]))
        for name in self._COLLECTIONS:
            coll: Collection = getattr(self, name)
            coll.clear()
            for rec in data.get(name, []):
                coll.add(rec[coll.key_field], rec)
        self.reindex()

    def reindex(self) -> None:
        self.service_v2_names = {r["name"]: k for k, r in self.services_v2.items.items()}
        self.deleting = {k for k, r in self.workspaces.items.items() if r.get("deleting_until")}
        self.train_urls = {}
        for vid, ver in self.versions.items.items():
            self.train_urls.setdefault(ver["config"].get("train_url", ""), []).append(vid)
        self.job_names = {r["job_name"]: k for k, r in self.jobs.items.items()}
        self.model_keys = {
            model_key(r["model_name"], r["model_version"]): k for k, r in self.models.items.items()
        }
        self.service_names = {r["service_name"]: k for k, r in self.services.items.items()}
        self.job_v2_names = {
            job_v2_key(r["workspace_id"], r["name"]): k for k, r in self.jobs_v2.items.items()
        }
        self.jobs_v2_deleting = {
            k for k, r in self.jobs_v2.items.items() if r.get("deleted_at") is not None
        }


def model_key(name: str, version: str) -> str:
    return f"{name}\x00{version}"


def job_v2_key(workspace_id: str, name: str) -> str:
    """v2 training job names are unique per workspace."""
    return f"{workspace_id}\x00{name}"


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_restore(data: list[Any]) -> tuple[Any, ...]:
    return (data[0], tuple(data[1]), data[2])


def write_json_atomic(path: str, data: dict[str, Any]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".emulator-", dir=directory)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path: str) -> dict[str, Any] | None:
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def ints(values: Iterable[Any]) -> list[int]:
    return [int(v) for v in values]
