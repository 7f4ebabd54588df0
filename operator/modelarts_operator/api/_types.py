"""Tolerant scalar types and the two model bases.

The API documents disagree with themselves: ids and statuses arrive as numbers or
numeric strings, some JSON fields arrive either as objects or as JSON-encoded strings, and
string fields sometimes carry bare numbers (a 19-digit log line marker). Responses accept all
of these and normalise; requests serialise exactly what the API documents.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = [
    "ApiModel",
    "ApiRequest",
    "FlexFloat",
    "FlexInt",
    "FlexNumber",
    "FlexStr",
    "JsonLoose",
    "StrList",
]


def _to_int(value: Any) -> Any:
    """Numbers and numeric strings become ints; an empty string means absent."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped == "":
            return None
        try:
            return int(stripped)
        except ValueError:
            try:
                as_float = float(stripped)
            except ValueError:
                return value
            return int(as_float) if as_float.is_integer() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_float(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if stripped == "":
            return None
        try:
            return float(stripped)
        except ValueError:
            return value
    return value


def _to_number(value: Any) -> Any:
    """Like ``_to_float`` but keeps integers integral (``"9"`` -> 9, ``"2.4"`` -> 2.4)."""
    if isinstance(value, str):
        converted = _to_int(value)
        return converted if not isinstance(converted, str) else _to_float(value)
    return value


def _to_str(value: Any) -> Any:
    """Bare numbers (ids, line markers beyond 2**53) become their exact decimal text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _json_loose(value: Any) -> Any:
    """A JSON-encoded string becomes the object it encodes; anything else passes through."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") or stripped in ("null", "true", "false"):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
    return value


def _str_list(value: Any) -> Any:
    """A list documented as String: accept one string, a JSON array string, or a list."""
    if isinstance(value, str):
        parsed = _json_loose(value)
        if isinstance(parsed, list):
            return [_to_str(v) for v in parsed]
        return [value] if value else []
    if isinstance(value, list):
        return [_to_str(v) for v in value]
    return value


# Each tolerant type is a union whose first members take a value already of the right type
# in pydantic-core (an exact match ends the union's search), and only the last member calls
# the Python normaliser. A before-validator alone ran for every field of every item: parsing
# the list pages of 10,000 v2 training jobs spent a quarter of a poll cycle in _to_str.
FlexInt = int | None | Annotated[int | None, BeforeValidator(_to_int)]
FlexFloat = float | None | Annotated[float | None, BeforeValidator(_to_float)]
FlexNumber = int | float | None | Annotated[int | float | None, BeforeValidator(_to_number)]
FlexStr = str | None | Annotated[str | None, BeforeValidator(_to_str)]
JsonLoose = Annotated[Any, BeforeValidator(_json_loose)]
StrList = Annotated[list[str] | None, BeforeValidator(_str_list)]


class ApiModel(BaseModel):
    """A response body: unknown fields are kept (``model_extra``), never an error."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ApiRequest(BaseModel):
    """A request body: typos are errors; ``to_wire`` drops every unset or None field."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
