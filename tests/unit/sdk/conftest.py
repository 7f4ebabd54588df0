"""An emulator on its own thread (the SDKs are synchronous), reset before every test with a
frozen clock, and the official ModelArts and DataArts Fabric SDK clients pointed at it with
the endpoint override and AK/SK signing (the emulator verifies SDK-HMAC-SHA256)."""

from __future__ import annotations

from collections.abc import Iterator

import huaweicloudsdkdataartsfabric.v1 as fabric
import huaweicloudsdkmodelarts.v1 as modelarts
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig

from modelarts_testbed.emulator import (
    DEFAULT_AK,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    EmulatorConfig,
)
from modelarts_testbed.emulator.server import EmulatorHandle, run_emulator_in_thread

from .judge import Judge


@pytest.fixture(scope="module")
def running() -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(EmulatorConfig(seed=11)) as handle:
        yield handle


@pytest.fixture
def emu(running: EmulatorHandle) -> EmulatorHandle:
    running.admin.reset()
    running.admin.freeze()
    return running


def _credentials() -> BasicCredentials:
    # With a project id the SDK asks IAM for nothing; it signs every request with AK/SK.
    return BasicCredentials(DEFAULT_AK, DEFAULT_SK, DEFAULT_PROJECT_ID)


def _http_config() -> HttpConfig:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 30)
    return config


@pytest.fixture
def ma(emu: EmulatorHandle) -> modelarts.ModelArtsClient:
    return (
        modelarts.ModelArtsClient.new_builder()
        .with_http_config(_http_config())
        .with_credentials(_credentials())
        .with_endpoints([emu.url])
        .build()
    )


@pytest.fixture
def fab(emu: EmulatorHandle) -> fabric.DataArtsFabricClient:
    return (
        fabric.DataArtsFabricClient.new_builder()
        .with_http_config(_http_config())
        .with_credentials(_credentials())
        .with_endpoints([emu.url])
        .build()
    )


@pytest.fixture
def ma_judge() -> Iterator[Judge]:
    judge = Judge(modelarts, ["HuaweiCloud-SDK-ModelArtsClient"])
    yield judge
    judge.close()


@pytest.fixture
def fab_judge() -> Iterator[Judge]:
    judge = Judge(fabric, ["HuaweiCloud-SDK-DataArtsFabricClient"])
    yield judge
    judge.close()
