"""The official SDK as the judge of the emulator's answers.

``Judge.call`` runs one SDK call and fails the test when the SDK warns while converting the
answer (``TypeConversionWarning``: a field of the wrong type, an enum value it does not know;
``ImportWarning``: dateutil missing, which real installs have) or logs a warning. ``strict``
then walks the raw JSON against the SDK's own ``openapi_types`` and reports what the SDK
would silently accept but a typed client would trip on: a number where it types a string,
an epoch where it types a date-time, a field it does not define at all.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from dateutil.parser import parse as parse_datetime
from huaweicloudsdkcore.warning.warning import SdkWarning, TypeConversionWarning

R = TypeVar("R")

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def _problems(value: Any, typ: str, package: ModuleType, path: str) -> list[str]:
    if value is None:
        return []
    if typ.startswith("list["):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        inner = typ[5:-1]
        return [
            p
            for i, item in enumerate(value)
            for p in _problems(item, inner, package, f"{path}[{i}]")
        ]
    if typ.startswith("dict("):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        inner = re.match(r"dict\(([^,]*), (.*)\)", typ).group(2)  # type: ignore[union-attr]
        return [
            p for k, item in value.items() for p in _problems(item, inner, package, f"{path}.{k}")
        ]
    if typ in _JSON_TYPES:
        allowed = _JSON_TYPES[typ]
        if isinstance(value, bool) and bool not in allowed:
            return [f"{path}: expected {typ}, got a boolean"]
        if not isinstance(value, allowed):
            return [f"{path}: expected {typ}, got {type(value).__name__} {value!r}"]
        return []
    if typ == "datetime":
        if not isinstance(value, str):
            return [f"{path}: expected an ISO-8601 date-time string, got {value!r}"]
        try:
            parse_datetime(value)
        except ValueError:
            return [f"{path}: not a date-time: {value!r}"]
        return []
    if typ == "object":
        return []
    klass = getattr(package, typ)
    if not klass.openapi_types:  # an enum class: the wire value is a string
        return [] if isinstance(value, str) else [f"{path}: expected an enum string, got {value!r}"]
    return model_problems(value, klass, package, path)


def model_problems(data: Any, klass: type, package: ModuleType, path: str = "$") -> list[str]:
    """Every place where ``data`` differs from what ``klass`` declares (header fields aside)."""
    if not isinstance(data, dict):
        return [f"{path}: expected an object for {klass.__name__}, got {type(data).__name__}"]
    wire_to_attr = {wire: attr for attr, wire in klass.attribute_map.items()}
    out = []
    for key, value in data.items():
        attr = wire_to_attr.get(key)
        if attr is None:
            out.append(f"{path}.{key}: not a field of {klass.__name__}")
            continue
        out += _problems(value, klass.openapi_types[attr], package, f"{path}.{key}")
    return out


class Judge:
    """Calls SDK methods and holds the emulator's answers to their SDK types."""

    def __init__(self, package: ModuleType, logger_names: list[str]) -> None:
        self.package = package
        self.records: list[logging.LogRecord] = []
        self._handler = logging.Handler(logging.WARNING)
        self._handler.emit = self.records.append  # type: ignore[method-assign]
        self._loggers = [logging.getLogger(name) for name in logger_names]
        for logger in self._loggers:
            logger.addHandler(self._handler)

    def close(self) -> None:
        for logger in self._loggers:
            logger.removeHandler(self._handler)

    def call(self, method: Callable[[Any], R], request: Any) -> R:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            response = method(request)
        bad = [
            str(w.message)
            for w in caught
            if issubclass(w.category, TypeConversionWarning | SdkWarning | ImportWarning)
        ]
        assert not bad, f"the SDK warned while parsing {type(response).__name__}: {bad}"
        assert not self.records, [r.getMessage() for r in self.records]
        return response

    def strict(self, response: Any) -> dict[str, Any]:
        """The raw answer, after checking it field by field against the response class."""
        raw = response.raw_content
        data = json.loads(raw) if raw else {}
        problems = model_problems(data, type(response), self.package)
        assert not problems, "\n".join(problems)
        return data

    def judged(self, method: Callable[[Any], R], request: Any) -> R:
        """``call`` then ``strict``: the usual way to make a call."""
        response = self.call(method, request)
        self.strict(response)
        return response
