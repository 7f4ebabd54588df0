"""The reasons the operator writes into its conditions, and what each one means: the one list.

Everything that interprets a reason takes it from here: the status writer derives ``Failed``
(``reconcile/status.py``), the failure mapping decides what is retried soon
(``reconcile/failures.py``), ``crds --write`` renders the Argo CD health script's tables
(``argocd/health.lua``), the ``Condition.reason`` description of every CRD and the reason
table of ``docs/crd-reference.md``; the tests check every reason the code can write against it
(``tests/unit/operator/test_reasons.py``) and run the health script over each of them in
Argo CD's own code.

A ``Synced=False`` reason is **transient** (the operator gets past it by itself: it retries,
resumes or waits) or **terminal** (nothing changes until a person acts: ``Failed=True``, and
Degraded in Argo CD). Besides the names below, a refused request's reason is the remote
``error_code`` itself (``ModelArts.0107``, ``APIG.1002``...): any name not listed here is such
a code, hence terminal. ``WaitingFor<Kind>`` (a referenced object is not Ready yet) is
transient.

A ``Ready=False`` reason says why the object is not ready: a remote **failure**
(``Failed=True``), a **degraded** remote object (running, partly unhealthy: Degraded in Argo CD
but not Failed, it may recover), or **not ready** yet or on purpose: the phase (``Creating``,
``Running``, ``Deploying``...), one of the names below, ``WaitingFor<Kind>``, or the Synced
reason of an object that has no remote object yet.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "NOT_FAILED",
    "READY",
    "READY_TRUE",
    "REMOTE_EVENT",
    "SYNCED",
    "SYNCED_TRUE",
    "WAITING_FOR",
    "Meaning",
    "Reason",
    "is_known",
    "is_transient",
    "names",
    "ready_meaning",
]


class Meaning(enum.Enum):
    """What a condition's reason tells the user, the Failed condition and Argo CD."""

    TRANSIENT = "transient"  # Synced=False the operator gets past by itself: Progressing
    TERMINAL = "terminal"  # Synced=False only a person can resolve: Failed=True, Degraded
    FAILED = "failed"  # Ready=False, the remote object failed for good: Failed=True, Degraded
    DEGRADED = "degraded"  # Ready=False, running but partly unhealthy: Degraded, not Failed
    NOT_READY = "not ready"  # Ready=False, not there yet or stopped on purpose: Progressing


@dataclass(frozen=True)
class Reason:
    """One reason: its name, what it means and when the operator writes it."""

    name: str
    meaning: Meaning
    when: str


SYNCED_TRUE = "Synced"  # Synced=True: the current generation was applied
READY_TRUE = "Ready"  # Ready=True: the remote object is in its steady good state
NOT_FAILED = "NotFailed"  # Failed=False (Failed=True carries the cause's reason)
WAITING_FOR = "WaitingFor"  # WaitingFor<Kind>: a referenced object is not Ready yet

REMOTE_EVENT = "RemoteEvent"
"""The reason of a Kubernetes Event that mirrors one event of the remote object's own log (a
Service's deployment events, ``reconcile/remote_events.py``): not a condition; the Event's type
is Warning for a remote failure or warning, Normal otherwise, and its message is the remote
text."""

_T, _X = Meaning.TRANSIENT, Meaning.TERMINAL

SYNCED: tuple[Reason, ...] = (
    # Transient: retried soon, resumed, or waited out.
    Reason("Throttled", _T, "ModelArts throttled the call (HTTP 429 or its code): retried"),
    Reason("ServerError", _T, "ModelArts answered 5xx: retried"),
    Reason("TransportError", _T, "no HTTP answer (refused, reset, timed out): retried"),
    Reason("Transient", _T, "the remote object changed under the call (training 2878): retried"),
    Reason(
        "Ambiguous",
        _T,
        "a create may or may not have happened: the name is looked up before trying again",
    ),
    Reason(
        "DeleteFailed",
        _T,
        "the remote delete failed or is blocked: the finalizer stays and the delete is retried",
    ),
    Reason("Paused", _T, "the modelarts.huaweicloud.com/paused annotation stops applying the spec"),
    # Terminal: the operator's own judgement.
    Reason("InvalidSpec", _X, "the spec cannot be turned into a request (the message says why)"),
    Reason("CredentialsError", _X, "the namespace's credentials Secret is missing or unusable"),
    Reason(
        "ProjectChanged",
        _X,
        "the namespace now points to another project than the one the object was bound in",
    ),
    Reason("NameTaken", _X, "the remote name belongs to an object this one may not bind to"),
    Reason("AdoptionNotAllowed", _X, "adoption was asked for and the Namespace does not allow it"),
    Reason(
        "NotOwned",
        _X,
        "the remote object (an ID in status, or one to adopt) is not this object's: it carries "
        "no marker of its own, or another live object's",
    ),
    Reason("ConfigMapNotOwned", _X, "Service.spec.exportTo names a ConfigMap it does not own"),
    Reason(
        "NotFound",
        _X,
        "nothing to adopt or observe under the remote name; or a call found nothing",
    ),
    Reason(
        "DeletedRemotely",
        _X,
        "the remote object was deleted outside the operator and is not recreated",
    ),
    # Terminal: a notebook refusal the operator makes itself (carried as the error code).
    Reason("ImageNotFound", _X, "Notebook.spec.image names an image that is not listed"),
    Reason("AmbiguousNotebook", _X, "several untagged notebooks have the Notebook's name"),
    Reason("StopRequired", _X, "the Notebook change is taken only while it is stopped"),
    # Terminal: a failed call named by its category (a failed list covers many objects; a
    # refusal without an error code).
    Reason("AuthFailed", _X, "the credentials were refused (IAM, token, AK/SK signature)"),
    Reason("Forbidden", _X, "the credentials lack a permission"),
    Reason("QuotaExceeded", _X, "a quota is exhausted"),
    Reason("InvalidParameter", _X, "a parameter was refused"),
    Reason("AlreadyExists", _X, "the remote name is taken"),
    Reason("StateConflict", _X, "the remote object is in a state that does not allow the call"),
    Reason("NotReady", _X, "asked for what the remote object does not have yet"),
    Reason("ModelArtsError", _X, "a failed call of no known category"),
)
"""Synced=False reasons; any other is a remote error_code (terminal), or WaitingFor<Kind>."""

READY: tuple[Reason, ...] = (
    Reason("Failed", Meaning.FAILED, "the remote object ended in a failed state"),
    Reason(
        "DeadlineExceeded",
        Meaning.FAILED,
        "a training job ran past spec.activeDeadlineSeconds and was stopped",
    ),
    Reason(
        "DeletedRemotely",
        Meaning.FAILED,
        "the remote object was deleted outside the operator and is not recreated",
    ),
    Reason(
        "Degraded",
        Meaning.DEGRADED,
        "a Service is CONCERNING: some of its instances are abnormal",
    ),
    Reason("Deploying", Meaning.NOT_READY, "a v1 Service is deploying"),
    Reason("Stopped", Meaning.NOT_READY, "stopped on purpose (spec.stopped) or by ModelArts"),
    Reason("LeaseExpired", Meaning.NOT_READY, "a Notebook's lease ended and stopped it"),
    Reason("StoppedRemotely", Meaning.NOT_READY, "a Notebook was stopped outside the operator"),
    Reason("VolumeSettling", Meaning.NOT_READY, "a running Notebook's volume is being resized"),
    Reason("Frozen", Meaning.NOT_READY, "the account owning the Notebook is frozen"),
)
"""Named Ready=False reasons; the others are the phase, WaitingFor<Kind>, or a Synced reason
(an object with no remote object yet is not ready for the same cause)."""

_SYNCED = {r.name: r for r in SYNCED}
_TRUE = frozenset({SYNCED_TRUE, READY_TRUE, NOT_FAILED})
_READY = {r.name: r for r in READY}


def _waiting(reason: str) -> bool:
    """WaitingFor<Kind>: the prefix and a kind's name (a capital letter, then letters)."""
    kind = reason.removeprefix(WAITING_FOR)
    return kind != reason and kind[:1].isupper() and kind.isalnum()


def is_transient(reason: str) -> bool:
    """True for a Synced=False reason the operator gets past by itself."""
    known = _SYNCED.get(reason)
    return known.meaning is Meaning.TRANSIENT if known else _waiting(reason)


def ready_meaning(reason: str) -> Meaning:
    """What a Ready=False reason means: FAILED, DEGRADED or NOT_READY (the phase, a wait, a
    Synced reason copied while there is no remote object)."""
    known = _READY.get(reason)
    return known.meaning if known else Meaning.NOT_READY


def is_known(reason: str) -> bool:
    """True for a reason of this list (a name or WaitingFor<Kind>): what the operator's own
    code may write, beside phases and remote error codes."""
    return reason in _SYNCED or reason in _READY or reason in _TRUE or _waiting(reason)


def names(reasons: Iterable[Reason], *meanings: Meaning) -> tuple[str, ...]:
    """The names of ``reasons`` with one of ``meanings``, in the order listed."""
    return tuple(r.name for r in reasons if r.meaning in meanings)
