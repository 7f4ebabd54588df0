"""The in-process emulator and a ModelArts client for it, shared by the unit tests that talk
HTTP to it (the API client's, the adapters', the logs CLI's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from modelarts_operator.api import ModelArtsClient
from modelarts_testbed.emulator import EmulatorConfig
from modelarts_testbed.emulator.server import Emulator

from .api.svc2_emulator import client_for


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """The emulator's configuration; a module that needs another one overrides this."""
    return EmulatorConfig(seed=5)


@pytest.fixture
async def emu(emulator_config: EmulatorConfig) -> AsyncIterator[Emulator]:
    """The emulator on a frozen clock and a free port: a test moves time with
    ``emu.advance``."""
    emulator = Emulator(emulator_config)
    emulator.freeze()
    async with emulator.serve(port=0):
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[ModelArtsClient]:
    """AK/SK-signed, on a fake clock (a retry's backoff costs no real time)."""
    async with client_for(emu) as opened:
        yield opened
