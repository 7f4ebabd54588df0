"""Tolerant parsing (numbers as strings and back, JSON in strings) and secret redaction."""

from __future__ import annotations

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
