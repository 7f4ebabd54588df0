"""An in-process emulator (frozen clock) and a client for it, for the v2 service and
notebook client tests."""

from __future__ import annotations

from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient
from modelarts_testbed.emulator import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK
from modelarts_testbed.emulator.server import Emulator

from .helpers import FakeTime


def client_for(emu: Emulator) -> ModelArtsClient:
    """AK/SK-signed, few retries, backoff on a fake clock (a retry costs no real time), no
    client-side rate limit (the tests count server calls, not pacing)."""
    fake = FakeTime()
    config = ClientConfig(
        endpoint=emu.url, project_id=DEFAULT_PROJECT_ID, region="cn-north-4", max_retries=2, qps=0
    )
    return ModelArtsClient(
        config, AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK), sleep=fake.sleep, clock=fake.clock
    )
