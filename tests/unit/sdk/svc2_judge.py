"""The official SDK as judge: run one SDK call against the emulator and check that the answer
parses into the SDK's own response model without a conversion warning, and that every field
the SDK knows arrives with the JSON type the SDK declares (the SDK itself converts ``"12"`` to
12 silently, so a parse alone would not notice an int sent as a string)."""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import huaweicloudsdkmodelarts.v1.model as sdk_models
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.warning.warning import SdkWarning
from huaweicloudsdkmodelarts.v1 import ModelArtsClient

from modelarts_testbed.emulator import (
    DEFAULT_AK,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    EmulatorConfig,
    run_emulator_in_thread,
)
from modelarts_testbed.emulator.server import EmulatorHandle

R = TypeVar("R")
SDK_LOGGER = "HuaweiCloud-SDK-ModelArtsClient"

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
}


# Keys the emulator sends that the SDK's models lack: Terraform's notebook resource reads a
# notebook's ``create_at``/``update_at`` (ms) and an SSH endpoint's ``allowed_access_ips``.
# Any other unknown key is reported: it would be a misspelt field the SDK silently drops.
KNOWN_EXTRAS = frozenset({"create_at", "update_at", "allowed_access_ips"})


def shape_problems(data: Any, declared: str, where: str = "$") -> list[str]:
    """Where ``data`` disagrees with the SDK type ``declared`` (``str``, ``list[X]``,
    ``dict(str, X)`` or a model class name), including keys the SDK does not know."""
    if data is None or declared == "object":
        return []
    if declared.startswith("list["):
        if not isinstance(data, list):
            return [f"{where}: expected a list, got {type(data).__name__}"]
        inner = declared[5:-1]
        return [
            p for i, item in enumerate(data) for p in shape_problems(item, inner, f"{where}[{i}]")
        ]
    if declared.startswith("dict("):
        if not isinstance(data, dict):
            return [f"{where}: expected an object, got {type(data).__name__}"]
        inner = re.match(r"dict\(([^,]*), (.*)\)", declared).group(2)  # type: ignore[union-attr]
        return [p for k, item in data.items() for p in shape_problems(item, inner, f"{where}.{k}")]
    if declared in _JSON_TYPES:
        allowed = _JSON_TYPES[declared]
        if isinstance(data, bool) and bool not in allowed:
            return [f"{where}: expected {declared}, got a boolean"]
        if not isinstance(data, allowed):
            return [f"{where}: expected {declared}, got {type(data).__name__} {data!r:.40}"]
        return []
    klass = getattr(sdk_models, declared)
    if not isinstance(data, dict):
        return [f"{where}: expected a {declared} object, got {type(data).__name__}"]
    by_wire = {wire: klass.openapi_types[attr] for attr, wire in klass.attribute_map.items()}
    unknown = [
        f"{where}.{key}: not a field of the SDK's {declared}"
        for key in data
        if key not in by_wire and key not in KNOWN_EXTRAS
    ]
    return unknown + [
        p for key, item in data.items() if key in by_wire
        for p in shape_problems(item, by_wire[key], f"{where}.{key}")
    ]  # fmt: skip


class Judge:
    """An SDK client pointed at one emulator, with the checks every call goes through."""

    def __init__(self, handle: EmulatorHandle) -> None:
        self.handle = handle
        credentials = BasicCredentials(DEFAULT_AK, DEFAULT_SK, DEFAULT_PROJECT_ID)
        self.sdk = (
            ModelArtsClient.new_builder()
            .with_credentials(credentials)
            .with_endpoints([handle.url])
            .build()
        )

    def advance(self, seconds: float) -> None:
        self.handle.emulator.advance(seconds)

    def call(self, method: Callable[[Any], R], request: Any) -> R:
        """The SDK call; fails on a conversion warning, a warning the SDK logs, or a field of
        the wrong JSON type."""
        records: list[logging.LogRecord] = []
        handler = logging.Handler(logging.WARNING)
        handler.emit = records.append  # type: ignore[method-assign]
        sdk_log = logging.getLogger(SDK_LOGGER)  # the SDK's own logger (it does not propagate)
        sdk_log.addHandler(handler)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                response = method(request)
        finally:
            sdk_log.removeHandler(handler)
        assert not records, [r.getMessage() for r in records]
        # The SDK's own conversion warnings, and ImportWarning for a missing dateutil; other
        # libraries' deprecation notices say nothing about the emulator's shapes.
        relevant = [w for w in caught if issubclass(w.category, SdkWarning | ImportWarning)]
        assert not relevant, [str(w.message) for w in relevant]
        raw = json.loads(response.raw_content or b"{}")  # type: ignore[attr-defined]
        problems = shape_problems(raw, type(response).__name__)
        assert not problems, problems
        return response

    def refused(self, status: int, code: str, method: Callable[[Any], Any], request: Any) -> str:
        """The call must fail with this HTTP status and error code, parsed by the SDK into its
        exception with a message and the request id; returns the message."""
        with pytest.raises(ClientRequestException) as info:
            method(request)
        exc = info.value
        assert (exc.status_code, exc.error_code) == (status, code), exc.error_msg
        assert exc.error_msg, "the error body has no error_msg"
        assert exc.request_id, "the answer has no X-request-id"
        return str(exc.error_msg)


@contextmanager
def judge() -> Iterator[Judge]:
    """A fresh emulator (seeded, clock frozen) in a thread, and a judge for it."""
    with run_emulator_in_thread(EmulatorConfig(seed=11)) as handle:
        handle.emulator.freeze()
        yield Judge(handle)
