"""Tolerant parsing (numbers as strings and back, JSON in strings) and secret redaction."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel

from modelarts_operator.api._types import (
    FlexFloat,
    FlexInt,
    FlexNumber,
    FlexStr,
    JsonLoose,
    StrList,
)
from modelarts_operator.api.redact import RedactingFilter, redact, register_secret


class M(BaseModel):
    i: FlexInt = None
    f: FlexFloat = None
    n: FlexNumber = None
    s: FlexStr = None
    j: JsonLoose = None
    lst: StrList = None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("10", 10), (10, 10), (10.0, 10), (" 7 ", 7), ("", None), (None, None), ("1e3", 1000)],
)
def test_flex_int(raw: object, expected: int | None) -> None:
    assert M(i=raw).i == expected


def test_flex_int_rejects_garbage() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        M(i="ten")


def test_flex_numbers_and_strings() -> None:
    assert M(f="2.4").f == 2.4
    assert M(n="8192").n == 8192
    assert isinstance(M(n="8192").n, int)
    assert M(n=0.5).n == 0.5
    assert M(s=1551252759254000002).s == "1551252759254000002"
    assert M(s=0.01).s == "0.01"
    assert M(s=False).s == "false"


def test_json_loose() -> None:
    assert M(j='{"a": [1]}').j == {"a": [1]}
    assert M(j={"a": 1}).j == {"a": 1}
    assert M(j="not json {").j == "not json {"
    assert M(j="[1, 2]").j == [1, 2]


def test_str_list() -> None:
    assert M(lst="a.log").lst == ["a.log"]
    assert M(lst='["a","b"]').lst == ["a", "b"]
    assert M(lst=["a", 1]).lst == ["a", "1"]


def test_redaction_of_registered_and_patterned_secrets() -> None:
    register_secret("hunter2-long-secret")
    text = redact(
        'login with hunter2-long-secret and {"password": "other-pass"} X-Auth-Token: MIIabc'
    )
    assert "hunter2-long-secret" not in text
    assert "other-pass" not in text
    assert "MIIabc" not in text
    assert redact("Signature=" + "ab" * 32) == "Signature=***"
    assert redact("plain text") == "plain text"


def test_redacting_filter_cleans_log_records(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("filter-secret-value")
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("value is %s", "filter-secret-value")
    assert "filter-secret-value" not in caplog.text
    assert "***" in caplog.text
