"""Fixtures for the API client tests."""

from __future__ import annotations

import pytest

from .helpers import FakeTime, Script


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def script() -> Script:
    return Script()
