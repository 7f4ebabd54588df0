"""Remote identity: derived remote names that never collide, and the ownership marker.

The name is what makes "exactly once" possible: ModelArts refuses a duplicate name in a
project, so a create retried after a crash either finds the object by name or gets a
duplicate-name error and looks it up. That is only safe when two different Kubernetes
objects can never derive the same name, and when a name found taken is bound only if the
remote object provably belongs to this Kubernetes object.

Derived names (``[<installation-id>_]<namespace>_<name>``): ``_`` never occurs in a Kubernetes
namespace or object name, so ``team-a/web`` (``team-a_web``) and ``team/a-web``
(``team_a-web``) differ. A name the API's charset cannot hold as is (a ``.``) or one too long
gets ``_`` and a hash of the exact ``namespace/name`` appended (``ml/v1.0`` is
``ml_v1-0_<hash>``, ``ml/v1-0`` stays ``ml_v1-0``), so the readable part may be shared but the
whole name is not.

Ownership marker: ModelArts v1 objects have no tags, so the operator appends
``[k8s-owner:<16 hex>]`` to the remote description, a hash of (installation ID, kind, namespace,
name). A remote object whose description ends in this object's marker is ours; any other
is someone else's (or nobody's), and taking it over is adoption.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

_INVALID = re.compile(r"[^A-Za-z0-9-]+")
HASH_LENGTH = 12  # hex digits of the disambiguating suffix (48 bits)
MARKER = re.compile(r"\s*\[k8s-owner:([0-9a-f]{16})\]\s*$")


def remote_name(namespace: str, name: str, max_length: int = 64, installation_id: str = "") -> str:
    """The derived remote name of ``namespace/name`` (see the module docstring): injective,
    within ``[A-Za-z0-9_-]{1,max_length}``, and the same on every run."""
    readable = _INVALID.sub("-", name).strip("-") or "obj"
    parts = [installation_id, namespace, readable] if installation_id else [namespace, readable]
    base = "_".join(parts)
    if readable == name and len(base) <= max_length:
        return base
    digest = hashlib.sha256(f"{installation_id}/{namespace}/{name}".encode()).hexdigest()
    suffix = f"_{digest[:HASH_LENGTH]}"
    return f"{base[: max_length - len(suffix)].rstrip('-_')}{suffix}"


def choose_remote_name(
    explicit: str | None,
    recorded: str | None,
    pending: str | None,
    derived: str,
) -> str:
    """The name to use: the spec's own name; else the one a create in progress or an earlier
    bind recorded (objects created under an older naming scheme keep their name); else the
    derived one."""
    return explicit or pending or recorded or derived


def owner_marker(installation_id: str, kind: str, namespace: str, name: str) -> str:
    """The marker that says a remote object belongs to this Kubernetes object."""
    digest = hashlib.sha256(f"{installation_id}/{kind}/{namespace}/{name}".encode()).hexdigest()
    return f"[k8s-owner:{digest[:16]}]"


OWNER_TAG_KEY = "k8s-owner"
"""The tag key that carries the ownership marker where the API has tags (the value is the
marker's digest: tag values do not allow the brackets of the description form)."""


def owner_tag(marker: str) -> dict[str, str]:
    """The ``{key, value}`` tag that marks a remote object as this object's."""
    match = MARKER.search(marker)
    return {"key": OWNER_TAG_KEY, "value": match.group(1) if match else marker}


def desired_tags(
    spec_tags: Iterable[Any] | None, defaults: Mapping[str, str] | None = None, marker: str = ""
) -> list[dict[str, str]]:
    """The tags a remote object should carry: the operator-wide defaults, the spec's (a key in
    both: the spec's value), and the ownership tag (``marker``; the CRD reserves its key)."""
    tags = dict(defaults or {})
    for tag in spec_tags or []:
        key = tag.get("key") if isinstance(tag, dict) else getattr(tag, "key", None)
        value = tag.get("value") if isinstance(tag, dict) else getattr(tag, "value", None)
        if key:
            tags[str(key)] = str(value or "")
    if marker:
        owner = owner_tag(marker)
        tags[owner["key"]] = owner["value"]
    return [{"key": key, "value": value} for key, value in sorted(tags.items())]


def tag_changes(
    have: Mapping[str, str], want: Iterable[Mapping[str, str]]
) -> tuple[dict[str, str], list[str]]:
    """What turns the remote tags ``have`` into ``want`` (``{key, value}`` items): the tags to
    add or overwrite, and the keys to remove (the cloud's own ``_sys_`` tags stay)."""
    wanted = {str(t["key"]): str(t.get("value") or "") for t in want}
    add = {k: val for k, val in wanted.items() if have.get(k) != val}
    remove = sorted(k for k in have if k not in wanted and not k.startswith("_sys_"))
    return add, remove


def marker_from_tags(tags: Iterable[Any] | None) -> str | None:
    """The ownership marker an object's tags carry (``{key, value}`` maps or objects)."""
    for tag in tags or []:
        key = tag.get("key") if isinstance(tag, dict) else getattr(tag, "key", None)
        value = tag.get("value") if isinstance(tag, dict) else getattr(tag, "value", None)
        if key == OWNER_TAG_KEY and value:
            return f"[k8s-owner:{value}]"
    return None


def marked_description(description: str | None, marker: str, max_length: int) -> str:
    """The remote description: the user's text (without any marker it carries, shortened so
    both fit) followed by this object's marker."""
    text = unmarked(description)
    if not marker:
        return text
    room = max_length - len(marker) - 1
    text = text[: max(room, 0)].rstrip()
    return f"{text} {marker}" if text else marker


def unmarked(description: str | None) -> str:
    """The user's part of a remote description."""
    return MARKER.sub("", description or "")


def marker_of(remote: Any) -> str | None:
    """The ownership marker a remote object's description ends with, if any."""
    description = getattr(remote, "description", None)
    if description is None:
        description = getattr(remote, "job_desc", None)
    match = MARKER.search(str(description or ""))
    return f"[k8s-owner:{match.group(1)}]" if match else None


def owner_among(marker: str, known: Iterable[Any], installation_id: str, kind: str) -> str | None:
    """``namespace/name`` of the object among ``known`` (objects of one kind with
    ``namespace`` and ``name`` attributes) whose marker is ``marker``; None if none is."""
    for obj in known:
        if owner_marker(installation_id, kind, obj.namespace, obj.name) == marker:
            return f"{obj.namespace}/{obj.name}"
    return None
