"""In-memory state: records per resource family, ordered indexes, seeded IDs, JSON persistence.

Records are plain JSON-able dicts. Asynchronous progress is stored as a *timeline*
(``[[t_ms, status], ...]``) fixed when an action happens; the current status is the last entry
whose time has passed. Reading state is therefore a pure function of the clock: thousands of
idle objects cost nothing, and advancing the clock needs no background work.
"""

from __future__ import annotations

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


def cut_timeline(timeline: Timeline, now_ms: int) -> Timeline:
    """Drop the planned future: what happens next is being decided anew now."""
    kept = [entry for entry in timeline if entry[0] <= now_ms]
    return kept or timeline[:1]


class Collection:
    """Records of one kind keyed by ID, in creation order, with cached sorted views.

    Sorted views are rebuilt only after a create, delete or a change to a sort key (``touch``),
    so paging through a large listing costs a slice per page, not a sort per page.
    """

    def __init__(self) -> None:
        self.items: dict[Any, Rec] = {}
        self._gen = 0
        self._views: dict[tuple[Any, ...], tuple[int, list[Any]]] = {}

    def add(self, key: Any, rec: Rec) -> None:
        self.items[key] = rec
        self._gen += 1

    def remove(self, key: Any) -> Rec | None:
        rec = self.items.pop(key, None)
        if rec is not None:
            self._gen += 1
        return rec

    def touch(self) -> None:
        self._gen += 1

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
        """IDs of the selected records in ascending ``sort_key`` (or creation) order, cached."""
        cached = self._views.get(name)
        if cached is not None and cached[0] == self._gen:
            return cached[1]
        recs = [r for r in self.items.values() if select(r)]
        if sort_key is not None:
            recs.sort(key=sort_key)
        ids = [self._key_of(r) for r in recs]
        if len(self._views) > 64:
            self._views.clear()
        self._views[name] = (self._gen, ids)
        return ids

    key_field: str = "id"

    def _key_of(self, rec: Rec) -> Any:
        return rec[self.key_field]

    def clear(self) -> None:
        self.items.clear()
        self._gen += 1
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
        self.models = keyed("model_id")
        self.model_keys: dict[str, str] = {}  # "name\x00version" -> model_id
        self.services = keyed("service_id")
        self.service_names: dict[str, str] = {}
        self.dataarts = keyed("id")
        self.pending_forces: list[Rec] = []
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
    _COLLECTIONS = ("workspaces", "jobs", "versions", "models", "services", "dataarts")

    def to_json(self, clock_now_ms: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": 1,
            "clock_now_ms": clock_now_ms,
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
        self.train_urls = {}
        for vid, ver in self.versions.items.items():
            self.train_urls.setdefault(ver["config"].get("train_url", ""), []).append(vid)
        self.job_names = {r["job_name"]: k for k, r in self.jobs.items.items()}
        self.model_keys = {
            model_key(r["model_name"], r["model_version"]): k for k, r in self.models.items.items()
        }
        self.service_names = {r["service_name"]: k for k, r in self.services.items.items()}


def model_key(name: str, version: str) -> str:
    return f"{name}\x00{version}"


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
