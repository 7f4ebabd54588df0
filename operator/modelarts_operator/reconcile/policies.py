"""Management policies read from annotations, in the vocabulary users know from ACK, ASO,
Config Connector and Crossplane, and the decisions taken when an object binds to a remote one.

Who may decide what: a tenant sets the annotations on their own objects (external-id,
adoption-policy, management-policy, paused, poll-interval, accept-location); only a cluster
admin sets the Namespace annotation ``allow-adoption`` (tenants cannot edit Namespaces under
the chart's RBAC), which is what lets a tenant's annotations take over remote objects the
operator did not create.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import GROUP

EXTERNAL_ID = f"{GROUP}/external-id"
ADOPTION_POLICY = f"{GROUP}/adoption-policy"
MANAGEMENT_POLICY = f"{GROUP}/management-policy"
PAUSED = f"{GROUP}/paused"
POLL_INTERVAL = f"{GROUP}/poll-interval"
RESYNC_PERIOD = f"{GROUP}/resync-period"
RECONCILE_REQUEST = f"{GROUP}/reconcile-request"
# The create intent: the remote name a create is (or was) made under, written before the
# ModelArts call. Fulfilled once the status records the object it names (intent_fulfilled).
CREATE_PENDING = f"{GROUP}/create-pending"
# On the object: the project ID it is allowed to move to (its old remote objects are left).
ACCEPT_LOCATION = f"{GROUP}/accept-location"
# On the Namespace, set by a cluster admin: how far its objects may adopt remote objects the
# operator did not create ("observe": observe-only adoption; "manage": managed adoption too).
ALLOW_ADOPTION = f"{GROUP}/allow-adoption"


# How often the configuration of a settled object is compared with its spec (ACK's order of
# magnitude: drift is rare and a comparison costs a detail GET per object).
DEFAULT_RESYNC_SECONDS = 10 * 3600.0


class PolicyError(ValueError):
    """An annotation holds a value the operator does not understand."""


class Adoption(enum.StrEnum):
    ADOPT = "adopt"  # the name must already exist remotely; never create
    ADOPT_OR_CREATE = "adopt-or-create"  # take over an existing name, else create


@dataclass(frozen=True)
class Policies:
    external_id: str | None = None
    adoption: Adoption = Adoption.ADOPT_OR_CREATE
    observe_only: bool = False
    paused: bool = False
    poll_interval: float | None = None
    resync_period: float = DEFAULT_RESYNC_SECONDS
    adoption_requested: bool = False  # the object asks, by annotation, to take over a name
    accept_location: str | None = None

    @property
    def may_write(self) -> bool:
        """Remote writes (create, update, delete) are allowed."""
        return not (self.observe_only or self.paused)

    @classmethod
    def from_annotations(
        cls, annotations: Mapping[str, str] | None, min_resync: float = 1.0
    ) -> Policies:
        """The policies an object's annotations ask for; ``min_resync`` is the shortest
        resync-period allowed (the operator's ``resync_minimum_seconds``)."""
        ann = annotations or {}
        adoption_raw = ann.get(ADOPTION_POLICY, Adoption.ADOPT_OR_CREATE.value)
        try:
            adoption = Adoption(adoption_raw)
        except ValueError:
            raise PolicyError(
                f"annotation {ADOPTION_POLICY}: {adoption_raw!r} is not one of "
                f"{', '.join(a.value for a in Adoption)}"
            ) from None
        management = ann.get(MANAGEMENT_POLICY, "")
        if management not in ("", "observe", "default"):
            raise PolicyError(
                f"annotation {MANAGEMENT_POLICY}: {management!r} is not 'observe' or 'default'"
            )
        paused_raw = ann.get(PAUSED, "false").lower()
        if paused_raw not in ("true", "false"):
            raise PolicyError(f'annotation {PAUSED}: {paused_raw!r} is not "true" or "false"')
        interval: float | None = None
        if raw := ann.get(POLL_INTERVAL):
            interval = _parse_duration(POLL_INTERVAL, raw)
        resync = DEFAULT_RESYNC_SECONDS
        if raw := ann.get(RESYNC_PERIOD):
            resync = _parse_duration(RESYNC_PERIOD, raw)
            if resync < min_resync:
                raise PolicyError(
                    f"annotation {RESYNC_PERIOD}: {raw!r} is shorter than the {min_resync:g}s "
                    "the platform allows (each resync is a call against the rate limit all "
                    "namespaces share; status is polled anyway)"
                )
        return cls(
            external_id=ann.get(EXTERNAL_ID) or None,
            adoption=adoption,
            observe_only=management == "observe",
            paused=paused_raw == "true",
            poll_interval=interval,
            resync_period=resync,
            adoption_requested=ADOPTION_POLICY in ann,
            accept_location=ann.get(ACCEPT_LOCATION) or None,
        )


def _parse_duration(annotation: str, raw: str) -> float:
    """``30``, ``30s``, ``5m``, ``1h`` → seconds (at least 1)."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    text = raw.strip().lower()
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except (ValueError, KeyError):
        raise PolicyError(f"annotation {annotation}: {raw!r} is not a duration") from None
    if value < 1:
        raise PolicyError(f"annotation {annotation}: {raw!r} is shorter than 1s")
    return value


class Allowance(enum.IntEnum):
    """What a cluster admin allows a namespace's objects to adopt (ordered: more allows less)."""

    NONE = 0
    OBSERVE = 1
    MANAGE = 2


def allowance_of(namespace: str, annotations: Mapping[str, str] | None) -> Allowance:
    """The Namespace's ``allow-adoption`` annotation; a value it does not know is an error
    (a typo must not silently mean "no" or "yes")."""
    raw = (annotations or {}).get(ALLOW_ADOPTION, "")
    values = {"": Allowance.NONE, "observe": Allowance.OBSERVE, "manage": Allowance.MANAGE}
    if raw not in values:
        raise PolicyError(
            f"namespace {namespace} annotation {ALLOW_ADOPTION}: {raw!r} is not 'observe' or "
            "'manage'"
        )
    return values[raw]


class Found(enum.Enum):
    """How a reconcile came to a remote object."""

    EXTERNAL_ID = "external-id"  # the object's external-id annotation names it
    BY_NAME = "by-name"  # a lookup of the remote name found it (or a create found it taken)
    RECORDED = "recorded"  # the object's status records its ID (whoever wrote that status)


@dataclass(frozen=True)
class Refusal:
    """Why a bind is not made: the Synced=False reason and message."""

    reason: str
    message: str


def bind_refusal(
    *,
    found: Found,
    ours: bool,
    policies: Policies,
    allowance: Allowance,
    namespace: str,
    remote: str,
    owned_elsewhere: bool,
) -> Refusal | None:
    """Whether a reconcile may bind to (or act on) a remote object; None when it may.

    A remote object carrying this object's marker is ours (an interrupted create, a
    re-applied object). Any other is adopted only when the object asks for it (external-id,
    adoption-policy, observe-only) and its namespace allows that much, and never when it
    carries the marker of another live object of this operator (``owned_elsewhere``): an
    allowance to import objects made outside the operator is not one to take another team's.
    A name that merely turned out taken is never bound silently, and an ID in status
    (anyone allowed to write status could have put it there) is trusted no more than an
    external-id. Messages name no other object: the owner may be another tenant's."""
    if ours:
        return None
    requested = found is Found.EXTERNAL_ID or policies.adoption_requested or policies.observe_only
    if found is Found.RECORDED and not requested:
        return Refusal(
            "NotOwned",
            f"the remote ID recorded in status names {remote}, which does not carry this "
            "object's ownership marker; nothing is changed remotely. If the ID was not written "
            "by the operator, remove it from status (or bind it with the external-id "
            "annotation where a cluster admin allows adoption)",
        )
    if not requested:
        return Refusal(
            "NameTaken",
            f"remote name {remote} is taken by another object; choose another name in the "
            "spec (or ask for adoption where a cluster admin allows it)",
        )
    if owned_elsewhere:
        return Refusal(
            "NotOwned",
            f"{remote} belongs to another object managed by this operator; it is never "
            "adopted, whatever the namespace allows",
        )
    needed = Allowance.OBSERVE if policies.observe_only else Allowance.MANAGE
    if allowance >= needed:
        return None
    what = "observe-only" if needed is Allowance.OBSERVE else "managed"
    return Refusal(
        "AdoptionNotAllowed",
        f"{what} adoption of {remote} is not allowed in namespace {namespace}: a cluster "
        f"admin allows it with the Namespace annotation {ALLOW_ADOPTION}={needed.name.lower()}",
    )


class LocationVerdict(enum.Enum):
    SAME = "same"  # the object is where it was bound (or was never bound)
    ACCEPTED = "accepted"  # moved, and the user accepted it: forget the old remote IDs
    CHANGED = "changed"  # moved: touch nothing remotely until the user resolves it


def location_verdict(
    recorded: Mapping[str, str] | None, current: Mapping[str, str], accept: str | None
) -> LocationVerdict:
    """Compare where an object was bound (project, region, endpoint, recorded at first bind)
    with where its namespace's credentials now point."""
    if not recorded or dict(recorded) == dict(current):
        return LocationVerdict.SAME
    if accept and accept == current.get("projectId"):
        return LocationVerdict.ACCEPTED
    return LocationVerdict.CHANGED


def foreign_config_map(config_map: Mapping[str, Any], owner_uid: str) -> Refusal | None:
    """A ConfigMap ``exportTo`` may write only if this Service controls it (its owner
    reference); any other is someone's data, refused instead of overwritten."""
    meta = config_map.get("metadata") or {}
    refs = meta.get("ownerReferences") or []
    if any(r.get("uid") == owner_uid and r.get("controller") for r in refs):
        return None
    return Refusal(
        "ConfigMapNotOwned",
        f"ConfigMap {meta.get('name')} exists and is not owned by this Service; exportTo does "
        "not overwrite it: delete it, or name another one in spec.exportTo.configMapName",
    )


def moved(status: Mapping[str, object], current: Mapping[str, str]) -> bool:
    """True when an object's recorded location is not where its namespace now points."""
    recorded = status.get("location")
    if not isinstance(recorded, Mapping):
        return False
    return location_verdict(recorded, current, None) is LocationVerdict.CHANGED


def project_changed(recorded: Mapping[str, str], current: Mapping[str, str]) -> Refusal:
    """The condition of an object whose namespace now points elsewhere."""

    def where(loc: Mapping[str, str]) -> str:
        return f"project {loc.get('projectId')} in {loc.get('region')} ({loc.get('endpoint')})"

    return Refusal(
        "ProjectChanged",
        f"bound in {where(recorded)}, but the namespace now points to {where(current)}; "
        "nothing is changed remotely. To move, annotate the object "
        f"{ACCEPT_LOCATION}={current.get('projectId')} (the old remote object is left as "
        "is); to let go, set spec.deletionPolicy Retain and delete the object; or restore "
        "the namespace's project",
    )


def intent_fulfilled(
    annotations: Mapping[str, str], status: Mapping[str, Any], id_field: str
) -> bool:
    """True when the object's create intent names the remote object its status records: the
    create happened and its ID is recorded, so the intent asks nothing more (it stays until
    the object's metadata is written anyway: one write fewer per create)."""
    intent = annotations.get(CREATE_PENDING)
    return intent is not None and bool(status.get(id_field)) and intent == status.get("remoteName")
