"""Errors raised by handlers, rendered in the body shape of the API family that raised them.

Shapes (ModelArts API Reference, Issue 04 2020-12-14, §3.3 and each API's error table; the
DataArts Fabric "Creating a Model" page for DataArts): the v1 training family adds
``is_success: false``; workspaces add a 32-hex ``request_id``; models and services use the
bare ``{error_msg, error_code}``; DataArts uses ``common.*``/``APIG.*`` codes; IAM uses
Keystone's ``{"error": {...}}`` plus the generic pair.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Family(StrEnum):
    TRAINING = "training"
    WORKSPACE = "workspace"
    GENERIC = "generic"  # models, services
    DATAARTS = "dataarts"
    IAM = "iam"
    ADMIN = "admin"


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """An API failure with the HTTP status, the documented error code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        msg: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}
        self.extra = extra or {}


def invalid(msg: str, code: str = "ModelArts.0107") -> ApiError:
    return ApiError(400, code, msg)


def missing(field: str, code: str = "ModelArts.0115") -> ApiError:
    return ApiError(400, code, f"Mandatory parameter is missing: {field}")


def not_found(code: str, msg: str) -> ApiError:
    return ApiError(404, code, msg)


def conflict(code: str, msg: str) -> ApiError:
    return ApiError(409, code, msg)


def family_for_path(path: str) -> Family:
    """Which API family a path belongs to (decides the error body shape)."""
    if path.startswith("/_emulator"):
        return Family.ADMIN
    if path.startswith(("/v3/", "/v3.0/")):
        return Family.IAM
    parts = path.split("/")
    # /v1/workspaces/{ws}/models and /v1/base-models are DataArts; /v1/{project}/workspaces
    # is ModelArts.
    if len(parts) > 2 and parts[1] == "v1" and parts[2] in ("workspaces", "base-models"):
        return Family.DATAARTS
    if len(parts) > 3 and parts[1] == "v1":
        head = parts[3]
        if head in ("training-jobs", "training-job-configs", "built-in-algorithms", "job"):
            return Family.TRAINING
        if head == "workspaces":
            return Family.WORKSPACE
    return Family.GENERIC


def error_body(family: Family, err: ApiError, request_hex: str) -> dict[str, Any]:
    body: dict[str, Any]
    if family is Family.TRAINING:
        body = {"is_success": False, "error_msg": err.msg, "error_code": err.code}
    elif family is Family.WORKSPACE:
        body = {"error_msg": err.msg, "error_code": err.code, "request_id": request_hex}
    elif family is Family.DATAARTS:
        if err.status == 403:
            title = _TITLES[403]
            body = {
                "error": {"code": "403", "message": err.msg, "title": title},
                "error_code": 403,
                "error_msg": err.msg,
                "title": title,
            }
        else:
            body = {"error_code": err.code, "error_msg": err.msg}
    elif family is Family.IAM:
        body = {
            "error": {
                "code": err.status,
                "message": err.msg,
                "title": _TITLES.get(err.status, "Error"),
            },
            "error_code": err.code,
            "error_msg": err.msg,
        }
    else:
        body = {"error_msg": err.msg, "error_code": err.code}
    body.update(err.extra)
    return body


def dataarts_code(err: ApiError) -> ApiError:
    """Translate a ModelArts-style error into the DataArts codes (DataArts Fabric "Creating a
    Model": ``common.*`` with the HTTP status, ``APIG.*`` from the API gateway)."""
    prefix = "failed to read http request, please check your input"
    if err.code.startswith("common.") and err.status == 400 and not err.msg.startswith(prefix):
        return ApiError(400, err.code, f"{prefix}, code: 400, reason: {err.msg}")
    if err.code.startswith(("common.", "APIG.")) or err.status == 403:
        return err
    if err.status == 401:
        return ApiError(401, "APIG.1002", "Incorrect token or token resolution failed")
    if err.status == 404:
        return ApiError(404, "common.01000001", f"response status exception, code: 404. {err.msg}")
    if err.status == 400 or err.status == 409:
        return ApiError(
            err.status,
            "common.01000001",
            f"{prefix}, code: {err.status}, reason: {err.msg}",
        )
    if err.status == 408:
        return ApiError(408, "common.00000408", "timeout exception occurred")
    if err.status >= 500:
        return ApiError(err.status, "common.00000500", "internal error")
    return err
