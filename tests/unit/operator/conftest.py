"""Fixtures for the adapter tests that run against the in-process emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from modelarts_operator.api import ModelArtsClient
from modelarts_operator.emulator import EmulatorConfig
from modelarts_operator.emulator.server import Emulator
from tests.unit.api.svc2_emulator import client_for


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """The emulator on a frozen clock: a test moves time with ``emu.advance``."""
    emulator = Emulator(EmulatorConfig(seed=5))
    emulator.freeze()
    async with emulator.serve(port=0):
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[ModelArtsClient]:
    async with client_for(emu) as opened:
        yield opened
