"""The one mapping from an error to what the user sees (Synced=False, an event) and to when
the operator tries again.

Errors that waiting can fix (throttling, 5xx, an ambiguous create, an object that changed
under the call) carry their class as reason, which the reason vocabulary (``reasons.py``)
calls transient, and are retried soon. The others need a person (a refused parameter, quota,
credentials, permissions): they carry the ModelArts error_code and wait for a change of the
spec or Secret, with a slow retry in case the cause was outside.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import reasons
from ..api import errors
from . import requeue
from .adapter import InvalidSpec, ProjectChanged
from .credentials import CredentialsError
from .requeue import Requeue
from .status import Report, Verdict

TRANSIENT_RETRY_SECONDS = requeue.TRANSIENT
SLOW_RETRY_SECONDS = requeue.SLOW


@dataclass(frozen=True)
class Failure:
    """An error as the user sees it and as the retry policy treats it."""

    synced: Verdict  # Synced=False with the cause
    event_reason: str  # the Warning event's reason (the ModelArts error_code where there is one)
    transient: bool
    delay: float  # seconds until the next attempt
    auth: bool = False  # the credentials were refused: re-read the Secret next time

    @property
    def message(self) -> str:
        return self.synced.message

    @property
    def requeue(self) -> Requeue:
        """When to try again, and why (the event's reason)."""
        return Requeue(self.delay, self.event_reason)

    def report(self, has_remote: bool) -> Report:
        """Synced=False; an object with no remote object yet is not ready for the same cause
        (it is not still waiting for whatever it waited for before)."""
        if has_remote:
            return Report(synced=self.synced)
        phase = "Pending" if self.transient else "Error"
        return Report(phase=phase, synced=self.synced, ready=self.synced)


def classify(err: Exception, *, by_category: bool = False) -> Failure:
    """The Failure for ``err``: a ModelArts error, an unusable spec or unusable credentials.

    ``by_category`` names the cause by its category (AuthFailed, Forbidden, Throttled...) with
    the code in the message: what a failed list call says about every object it covers."""
    if isinstance(err, InvalidSpec | CredentialsError):
        reason = (
            "ProjectChanged"  # says what to do about it, where InvalidSpec would not
            if isinstance(err, ProjectChanged)
            else "InvalidSpec"
            if isinstance(err, InvalidSpec)
            else "CredentialsError"
        )
        return Failure(Verdict(False, reason, str(err)), reason, False, SLOW_RETRY_SECONDS)
    if not isinstance(err, errors.ModelArtsError):
        raise TypeError(f"not a reconcile failure: {err!r}")
    transient = reasons.is_transient(err.reason)
    message = err.error_msg or str(err)
    if transient or by_category or not err.error_code:
        reason = err.reason if err.reason != "Error" else type(err).__name__
        if err.error_code:
            message = f"{err.error_code}: {message}"
    else:
        reason = err.error_code
    default = TRANSIENT_RETRY_SECONDS if transient else SLOW_RETRY_SECONDS
    return Failure(
        Verdict(False, reason, message),
        err.error_code or type(err).__name__,
        transient,
        err.retry_after or default,
        auth=isinstance(err, errors.AuthFailed),
    )
