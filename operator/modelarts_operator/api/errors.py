"""One exception hierarchy for every ModelArts, IAM and DataArts failure.

Reconcilers branch on the *class* (NotFound, AlreadyExists, Throttled...) and copy
``error_code``/``error_msg`` into conditions, so classification lives here, once, from the
documented error codes, with the HTTP status as the fallback when a code is unknown or absent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .redact import redact

__all__ = [
    "AlreadyExists",
    "Ambiguous",
    "AuthFailed",
    "Forbidden",
    "InvalidParameter",
    "ModelArtsError",
    "NotFound",
    "NotReady",
    "QuotaExceeded",
    "ServerError",
    "StateConflict",
    "Throttled",
    "Transient",
    "TransportError",
    "classify",
    "error_from_response",
    "parse_error_body",
]


class ModelArtsError(Exception):
    """A failed call. ``retryable`` tells the reconciler whether waiting can fix it."""

    retryable = False
    reason = "Error"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        error_code: str | None = None,
        error_msg: str | None = None,
        request_id: str | None = None,
        solution_msg: str | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.error_msg = redact(error_msg) if error_msg is not None else None
        self.request_id = request_id
        self.solution_msg = redact(solution_msg) if solution_msg is not None else None
        self.retry_after = retry_after
        self.method = method
        self.path = path
        self.message = redact(message) if message is not None else self._default_message()
        super().__init__(self.message)

    def _default_message(self) -> str:
        parts: list[str] = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.error_code:
            parts.append(self.error_code)
        text = ": ".join([" ".join(parts)] if parts else [])
        if self.error_msg:
            text = f"{text}: {self.error_msg}" if text else self.error_msg
        if self.request_id:
            text = f"{text} (request id {self.request_id})"
        return text or type(self).__name__

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, error_code={self.error_code!r}, "
            f"error_msg={self.error_msg!r}, request_id={self.request_id!r})"
        )


class NotFound(ModelArtsError):
    reason = "NotFound"


class AlreadyExists(ModelArtsError):
    reason = "AlreadyExists"


class QuotaExceeded(ModelArtsError):
    reason = "QuotaExceeded"


class InvalidParameter(ModelArtsError):
    reason = "InvalidParameter"


class Throttled(ModelArtsError):
    retryable = True
    reason = "Throttled"


class StateConflict(ModelArtsError):
    reason = "StateConflict"


class AuthFailed(ModelArtsError):
    reason = "AuthFailed"


class Forbidden(ModelArtsError):
    reason = "Forbidden"


class ServerError(ModelArtsError):
    retryable = True
    reason = "ServerError"


class TransportError(ServerError):
    """The request never got an HTTP answer (refused, reset, timed out) and may be retried."""

    reason = "TransportError"


class NotReady(ModelArtsError):
    """Asked too early: a training task's log or metrics do not exist yet (2776/2777/2818)."""

    reason = "NotReady"


class Transient(ModelArtsError):
    """The object changed under the call (training 2878): the same call may succeed now."""

    retryable = True
    reason = "Transient"


class Ambiguous(ModelArtsError):
    """A create may or may not have happened: never re-send it, look the name up instead."""

    reason = "Ambiguous"


_BY_CODE: dict[str, type[ModelArtsError]] = {}


def _register(cls: type[ModelArtsError], *codes: str) -> None:
    for code in codes:
        _BY_CODE[code if "." in code else f"ModelArts.{code}"] = cls


_register(AlreadyExists, "0103", "3002", "3503", "0412", "0414", "0424")
_register(NotFound, "0102", "3001", "3502", "3507", "3547", "7005", "0413", "1674", "1675")
_register(QuotaExceeded, "0106", "0113", "3520", "3522", "0409", "0419")
_register(
    InvalidParameter,
    "0107", "0110", "0115", "3037", "3041", "3013", "3014", "3015", "3016", "3017",
    "3514", "3516", "3534", "3589", "0404", "0406", "1602", "4353", "0104",
)  # fmt: skip
_register(Throttled, "0114")
# Training v2: a missing job is HTTP 400 2775, a taken name 400 2751; logs of a finished job
# without a log export path (2820/2822) or cleared (2819) are gone for good.
_register(AlreadyExists, "2751")
_register(NotFound, "2775", "2819", "2820", "2822", "2890")
_register(
    InvalidParameter,
    "2753", "2755", "2757", "2758", "2763", "2767", "2780", "2781", "2782", "2783", "2787",
    "2788", "2789", "2790", "2791", "2793", "2806", "2807", "2808", "2809", "2812", "2832",
    "2840", "2857", "2859",
)  # fmt: skip
_register(QuotaExceeded, "2815", "2833")
_register(StateConflict, "2796", "2886", "2887")
_register(Transient, "2878")
_register(Throttled, "2799")
_register(NotReady, "2776", "2777", "2818")
_register(AuthFailed, "2784", "2786")
_register(Forbidden, "2785")
_register(StateConflict, "0105", "3515", "3519", "3008", "3009", "7004", "2604", "0416")
_register(
    AuthFailed,
    "0201", "0202", "0203", "0204", "0205", "0208", "0209", "0210", "0211", "APIG.1002",
)  # fmt: skip
_register(Forbidden, "0108", "0109", "0111", "0112", "7002", "7003", "0407", "0415", "0428")
_register(
    ServerError,
    *(str(c) for c in range(2950, 2960)),
    "0010", "0012", "0013", "0101", "2506", "7001", "7100", "7101", "0401", "0402",
    "common.00000500", "common.00000408",
)  # fmt: skip

# Algorithms: a taken name is 2821 (2752 with a version); a missing algorithm is 2755, which
# the algorithm calls raise as NotFound (api/algorithms.py): in a training job it is a refused
# parameter. Pools and networks answer with eight-digit codes (the reference's examples): 404
# 50015001 (pool) and 50025001 (network) not found, 409 50015000 pool exists, 400 50004000.
_register(AlreadyExists, "2821", "2752", "50015000")
_register(NotFound, "50015001", "50025001")
_register(InvalidParameter, "50004000")
_register(ServerError, "50005000")

# Notebooks answer "not found" with HTTP 400 and 6309 or 6404; 6357 is "already in that state
# or busy" (a stop of a stopped notebook, a delete of a deleting one); 6400 a bad parameter.
_register(NotFound, "6309", "6404")
_register(StateConflict, "6357")
_register(InvalidParameter, "6400")

# Codes that mean "the token is no longer good": refresh it once and retry.
TOKEN_EXPIRED_CODES = frozenset(
    f"ModelArts.{c}" for c in ("0201", "0202", "0203", "0204", "0205")
) | {"APIG.1002"}

_BY_STATUS: dict[int, type[ModelArtsError]] = {
    400: InvalidParameter,
    401: AuthFailed,
    403: Forbidden,
    404: NotFound,
    405: InvalidParameter,
    408: ServerError,
    409: StateConflict,
    410: NotFound,
    413: InvalidParameter,
    414: InvalidParameter,
    415: InvalidParameter,
    422: InvalidParameter,
    429: Throttled,
}


def classify(
    status: int | None, error_code: str | None, error_msg: str | None = None, method: str = "GET"
) -> type[ModelArtsError]:
    """Pick the exception class: the documented error code first, then the HTTP status."""
    if error_code == "ModelArts.0104" and error_msg and "not exist" in error_msg.lower():
        # The workspace samples answer 0104 "workspace: ... not exist." for a missing one.
        return NotFound
    if error_code and error_code in _BY_CODE:
        return _BY_CODE[error_code]
    if status is None:
        return ModelArtsError
    if status == 409 and method.upper() == "POST":
        return AlreadyExists
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return ModelArtsError


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def parse_error_body(body: bytes | str | Mapping[str, Any] | None) -> dict[str, str | None]:
    """Extract code, message, request id and solution from any documented error shape.

    Shapes: ``{"error_code","error_msg"}``, ``{"is_success":false,...}``, the workspace form
    with ``request_id``, DataArts with ``solution_msg`` and its 403 form with an integer code
    and a nested ``error`` object; a non-JSON body becomes the message.
    """
    out: dict[str, str | None] = {
        "error_code": None,
        "error_msg": None,
        "request_id": None,
        "solution_msg": None,
    }
    data: Any
    if body is None:
        return out
    if isinstance(body, Mapping):
        data = body
    else:
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if not raw.strip():
            return out
        try:
            data = json.loads(raw)
        except ValueError:
            out["error_msg"] = raw.strip()[:512]
            return out
    if not isinstance(data, Mapping):
        return out
    nested = data.get("error")
    if isinstance(nested, Mapping):
        out["error_code"] = _text(nested.get("code"))
        out["error_msg"] = _text(nested.get("message"))
    code = data.get("error_code", data.get("code"))
    if code is not None:
        out["error_code"] = _text(code)
    msg = data.get("error_msg", data.get("message"))
    if msg is not None:
        out["error_msg"] = _text(msg)
    out["request_id"] = _text(data.get("request_id"))
    out["solution_msg"] = _text(data.get("solution_msg"))
    return out


def error_from_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
    method: str = "GET",
    path: str | None = None,
) -> ModelArtsError:
    """Build the classified exception for one failed HTTP answer."""
    fields = parse_error_body(body)
    cls = classify(status, fields["error_code"], fields["error_msg"], method)
    return cls(
        status=status,
        error_code=fields["error_code"],
        error_msg=fields["error_msg"],
        request_id=fields["request_id"] or request_id,
        solution_msg=fields["solution_msg"],
        retry_after=retry_after,
        method=method,
        path=path,
    )
