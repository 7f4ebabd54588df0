"""When an object is reconciled again: one vocabulary for every path that asks.

A path that wants another look says so with a :class:`Requeue` (how long, and why); when
several ask during one reconcile the soonest wins. How the runtime carries it out depends on
whether the reconcile finished: a finished one is re-triggered by a timer (``poke_later``, so
a spec change in between is handled at once), an unfinished one (``RetryLater``, a transient
failure) by kopf's own retry. The delays are named here, not written where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass

# The remote object is changing state (deploying, starting, stopping): an action it refuses
# meanwhile (ModelArts.3519 on a deploying service, a notebook update while STOPPING) is
# tried again shortly.
BUSY = 5.0
# A create whose answer was lost (a timeout, a dropped connection) and that a lookup by name
# does not show yet.
CREATE_UNKNOWN = 5.0
# A job with activeDeadlineSeconds that has not started running: its clock has not started.
DEADLINE_RECHECK = 5.0
# ModelArts is deleting the remote object (or stopping it first): the finalizer waits.
DELETING = 3.0
# A delete that failed, or a finalizer held for a lookup that cannot be made yet.
DELETE_RETRY = 10.0
# Throttled, a server error, an ambiguous answer: waiting fixes it.
TRANSIENT = 15.0
# What a person must fix (a refused request, credentials, a refused bind): tried again slowly
# in case the cause was outside (a freed name, a Namespace annotation, a fixed quota).
SLOW = 300.0


@dataclass(frozen=True)
class Requeue:
    """Reconcile again after ``after`` seconds, because ``why``."""

    after: float
    why: str

    @staticmethod
    def soonest(*requeues: Requeue | None) -> Requeue | None:
        """The earliest of the requeues asked for (None when none is)."""
        asked = [r for r in requeues if r is not None]
        return min(asked, key=lambda r: r.after) if asked else None
