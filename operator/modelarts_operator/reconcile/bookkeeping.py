"""kopf's bookkeeping on this operator's objects (its finalizer and its record of the last
handled configuration, under this project's domain), and the part of it a create writes
together with its intent.

Creating an object cost four API-server writes, and the API server (which validates every
write of the whole object against the CRD's rules) was what bounded a burst of creates: kopf's
finalizer (a write, then a round trip of its watch event before the handler ran), the create
intent (before the ModelArts call), and the handler's final patch, which kopf sends as two
writes: the object's annotations (its last-handled configuration, the intent's removal) and
the status subresource (the remote ID). Now:

- the **finalizer** is added by the intent write itself: kopf's delete handler asks for it
  only on an object that may stand for a remote one (it carries the finalizer already, or an
  ID, or an intent: ``holds_remote``), so a new object goes straight to its handler, and no
  remote object exists before the write that adds it;
- the **last-handled configuration** goes with the intent too: it is what kopf would store when
  the handler ends (the ``new`` essence it hands the handler), so kopf's own store finds it
  there and writes nothing (:class:`DiffBase`). If the reconcile fails after the intent, the
  failure's patch (kopf writes its retry state then anyway) takes it out again, so kopf's retry
  still sees an unhandled object;
- the **intent** stays once the ID is recorded: it names the remote object the status records
  (``policies.intent_fulfilled``), which every reader of it takes as done. It goes with the
  next write of the object's metadata (an update's), as Crossplane's create-pending annotation
  stays beside the external name.

What is left is one write before the create and the status write after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

import kopf

from .. import GROUP
from .policies import CREATE_PENDING

FINALIZER = f"{GROUP}/finalizer"
# kopf treats every annotation under its storage prefix as its own and leaves it out of the
# diff, so its prefix must not be the one of the user-facing policy annotations (a change of
# `modelarts.huaweicloud.com/paused` has to trigger a reconcile).
KOPF_PREFIX = f"kopf.{GROUP}"


def holds_remote(body: kopf.Body, **_: Any) -> bool:
    """True when the object may stand for a remote object, so its deletion must wait for the
    delete handler: it carries the finalizer already, a remote ID (bound without a create:
    adopted, observed), or a create intent. (kopf's filter for the delete handler: an object
    without it is not given the finalizer, and one with it keeps it.)"""
    meta = body.get("metadata") or {}
    if FINALIZER in (meta.get("finalizers") or ()):
        return True
    if CREATE_PENDING in (meta.get("annotations") or {}):
        return True
    status = body.get("status") or {}
    return bool(status.get("remoteName"))


def finalizers_with_ours(body: Mapping[str, Any]) -> list[str] | None:
    """The object's finalizers with this operator's added, or None when it has it already."""
    finalizers = list((body.get("metadata") or {}).get("finalizers") or ())
    return None if FINALIZER in finalizers else [*finalizers, FINALIZER]


class DigestDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's "last handled configuration" as a digest of the object's essence (spec, labels,
    annotations), not a copy of it.

    kopf compares the stored essence with the current one to tell an update from a replay,
    and hands the difference to handlers that ask for it; ours never do (the reconcile is
    level-based: it reads the whole object), so a digest is all the comparison needs. A copy
    doubled every object in etcd and held the whole spec in one annotation, where all of an
    object's annotations share 256 KiB: a spec the API server accepts could be one kopf cannot
    record, and the operator would never finish it (issue 24). The digest is 80 bytes whatever
    the spec. An object recorded by an older release (a JSON copy) differs from any digest
    once: it is reconciled once more, then recorded as a digest."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        essence: dict[str, Any] = dict(super().build(body=body, extra_fields=extra_fields))
        # kopf's own annotations (progress, this one) are cleared from the essence after it is
        # built; a digest cannot be cleared afterwards, so they go before it is taken.
        annotations = essence.get("metadata", {}).get("annotations", {})
        for key in [k for k in annotations if k.startswith(f"{KOPF_PREFIX}/")]:
            del annotations[key]
        self.remove_empty_stanzas(cast(kopf.BodyEssence, essence))
        canonical = json.dumps(essence, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        return cast(kopf.BodyEssence, {"sha256": digest})


class DiffBase(DigestDiffBaseStorage):
    """kopf's last-handled configuration in an annotation (a digest, as above), which a create
    also writes with its intent; kopf's store after the handler then writes nothing."""

    def __init__(self) -> None:
        super().__init__(
            prefix=KOPF_PREFIX,
            key="last-handled-configuration",
            ignored_fields=[("metadata", "annotations", CREATE_PENDING)],
        )
        # What a create intent wrote, by object UID, until kopf stores the same.
        self._with_intent: dict[str, dict[str, str]] = {}

    def annotations(self, body: kopf.Body, essence: Any) -> dict[str, str]:
        """The annotations kopf's store would write for ``essence`` (its own encoding)."""
        scratch = kopf.Patch()
        super().store(body=body, patch=scratch, essence=essence)
        return dict(scratch.get("metadata", {}).get("annotations", {}))

    def written_with_intent(self, uid: str, annotations: dict[str, str]) -> None:
        """The intent write of the object ``uid`` carried ``annotations``."""
        self._with_intent[uid] = annotations

    def forget(self, uid: str) -> None:
        self._with_intent.pop(uid, None)

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: Any) -> None:
        """kopf's store, unless the object has what it would write already: written with the
        create intent (kopf's view of the object predates that write), or on the body."""
        wanted = self.annotations(body, essence)
        written = self._with_intent.pop(str(body.get("metadata", {}).get("uid", "")), None)
        current = body.get("metadata", {}).get("annotations") or {}
        if wanted == written or all(current.get(k) == v for k, v in wanted.items()):
            return
        super().store(body=body, patch=patch, essence=essence)
