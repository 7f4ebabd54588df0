"""Fixtures for the API client tests."""

from __future__ import annotations

import pytest

from modelarts_operator.api import ModelArtsClient

from .helpers import FakeTime, Script, make_client


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def client(script: Script, fake_time: FakeTime) -> ModelArtsClient:
    return make_client(script, fake_time)
