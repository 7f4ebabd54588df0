"""The operator's log lines say which object they are about, in both formats."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from modelarts_operator.runner import configure_logging

OBJECT = {"namespace": "team-a", "name": "mnist", "uid": "u-1", "kind": "TrainingJob"}


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root, aio = logging.getLogger(), logging.getLogger("asyncio")
    saved = (root.handlers[:], root.level, aio.handlers[:], aio.propagate)
    stream = io.StringIO()
    yield stream
    root.handlers[:], aio.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    aio.propagate = saved[3]


def _emit(stream: io.StringIO) -> str:
    handler = logging.getLogger().handlers[-1]
    handler.setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger("kopf.objects").info(
        "Handler 'reconcile' succeeded.", extra={"k8s_ref": OBJECT, "k8s_skip": False}
    )
    return stream.getvalue().strip()


def test_text_lines_carry_namespace_and_name(captured: io.StringIO) -> None:
    configure_logging("text")
    line = _emit(captured)
    assert "[team-a/mnist] Handler 'reconcile' succeeded." in line
    assert "INFO" in line


def test_json_lines_carry_the_object(captured: io.StringIO) -> None:
    configure_logging("json")
    record = json.loads(_emit(captured))
    assert record["message"] == "Handler 'reconcile' succeeded."
    assert record["object"]["name"] == "mnist"
    assert record["object"]["namespace"] == "team-a"
    assert record["severity"] == "info"
