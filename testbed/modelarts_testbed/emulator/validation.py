"""Small validators that raise the API's own error codes, naming the offending field."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from .errors import ApiError

CJK = "\u4e00-\u9fa5"
JOB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MODEL_NAME = re.compile(rf"^[A-Za-z0-9_\-{CJK}]{{1,64}}$")
SERVICE_NAME = MODEL_NAME
WORKSPACE_NAME = re.compile(rf"^[A-Za-z0-9_\-{CJK}]{{4,64}}$")
# The API reference (2020, §6.1) asks for parts 1-99 without a leading zero; its own samples
# use "1.0.0" and "0.0.1": each part 0 or 1-99 without a leading zero.
MODEL_VERSION = re.compile(r"^(0|[1-9]\d?)\.(0|[1-9]\d?)\.(0|[1-9]\d?)$")
DATAARTS_NAME = re.compile(r"^[A-Za-z0-9_. -]{1,64}$")
DATAARTS_WORKSPACE = re.compile(r"^[A-Za-z0-9-]{1,36}$")
FORBIDDEN_CHARS = set("&!'\"<>=")


class V:
    """Validator bound to one family's codes: ``invalid`` for bad values, ``missing``."""

    def __init__(self, invalid_code: str, missing_code: str = "ModelArts.0115") -> None:
        self.invalid_code = invalid_code
        self.missing_code = missing_code

    def bad(self, msg: str) -> ApiError:
        return ApiError(400, self.invalid_code, msg)

    def need(self, body: Mapping[str, Any], field: str, prefix: str = "") -> Any:
        value = body.get(field)
        if value is None or value == "" or value == []:
            raise ApiError(
                400, self.missing_code, f"Mandatory parameter is missing: {prefix}{field}"
            )
        return value

    def string(
        self,
        body: Mapping[str, Any],
        field: str,
        *,
        required: bool = False,
        min_len: int = 0,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
        no_special: bool = False,
        prefix: str = "",
    ) -> str | None:
        name = prefix + field
        if required:
            self.need(body, field, prefix)
        value = body.get(field)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.bad(f"{name} must be a string")
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            raise self.bad(f"{name} length must be in [{min_len}, {max_len}]: {value!r}")
        if pattern is not None and not pattern.match(value):
            raise self.bad(f"{name} is invalid: {value!r}")
        if no_special and FORBIDDEN_CHARS & set(value):
            raise self.bad(f"{name} must not contain any of &!'\"<>=")
        return value

    def enum(
        self,
        body: Mapping[str, Any],
        field: str,
        allowed: Collection[str],
        *,
        required: bool = False,
        case_insensitive: bool = False,
        prefix: str = "",
    ) -> str | None:
        value = self.string(body, field, required=required, prefix=prefix)
        if value is None:
            return None
        if case_insensitive:
            lowered = {a.lower(): a for a in allowed}
            if value.lower() not in lowered:
                raise self.bad(f"{prefix}{field} must be one of {sorted(allowed)}: {value!r}")
            return value
        if value not in allowed:
            raise self.bad(f"{prefix}{field} must be one of {sorted(allowed)}: {value!r}")
        return value

    def integer(
        self,
        body: Mapping[str, Any],
        field: str,
        *,
        required: bool = False,
        lo: int | None = None,
        hi: int | None = None,
        default: int | None = None,
        prefix: str = "",
    ) -> int | None:
        """Ints or numeric strings (the API reference 2020 types them Long, its create-job sample
        sends strings)."""
        name = prefix + field
        if required:
            self.need(body, field, prefix)
        value = body.get(field)
        if value is None or value == "":
            return default
        number = to_int(value)
        if number is None:
            raise self.bad(f"{name} must be an integer: {value!r}")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise self.bad(f"{name} must be in [{lo}, {hi}]: {number}")
        return number

    def boolean(self, body: Mapping[str, Any], field: str, default: bool) -> bool:
        value = body.get(field)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.bad(f"{field} must be a boolean")

    def obj(self, body: Mapping[str, Any], field: str, *, required: bool = False) -> Any:
        if required:
            self.need(body, field)
        value = body.get(field)
        if value is not None and not isinstance(value, dict):
            raise self.bad(f"{field} must be an object")
        return value

    def array(self, body: Mapping[str, Any], field: str, *, required: bool = False) -> Any:
        if required:
            self.need(body, field)
        value = body.get(field)
        if value is not None and not isinstance(value, list):
            raise self.bad(f"{field} must be an array")
        return value


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def query_int(
    query: Mapping[str, str],
    name: str,
    default: int,
    lo: int | None,
    hi: int | None,
    code: str,
) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    value = to_int(raw)
    if value is None or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ApiError(400, code, f"{name} must be an integer in [{lo}, {hi}]: {raw!r}")
    return value


def query_enum(
    query: Mapping[str, str], name: str, allowed: Collection[str], default: str, code: str
) -> str:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise ApiError(400, code, f"{name} must be one of {sorted(allowed)}: {raw!r}")
    return raw


def is_obs_path(path: str) -> bool:
    """OBS locations as the docs write them: obs://bucket/..., /bucket/..., https://b.obs.x/..."""
    if re.fullmatch(r"obs://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S*", path):
        return True
    if re.fullmatch(r"/[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S*", path):
        return True
    return bool(re.fullmatch(r"https?://[a-z0-9][a-z0-9.\-]*\.obs\.[A-Za-z0-9.\-]+(/\S*)?", path))


def is_swr_image(path: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9.\-]+(:\d+)?/[\w.\-/]+(:[\w.\-]+)?", path))
