"""The llm form's poll against the emulator over HTTP: API calls per cycle grow with list
pages (100 models each, per DataArts workspace), not with objects, and a list item alone says
whether the spec's version is current."""

from __future__ import annotations

from typing import Any

from modelarts_operator.api import (
    DataArtsModelCreateRequest,
    ModelArtsClient,
)
from modelarts_operator.crd.model import ModelSpec
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.resources.llm_model import LlmModelAdapter
from modelarts_operator.resources.model import DECLARATION
from modelarts_testbed.emulator.server import Emulator

from .pollfakes import listed

LIST = "GET /v1/workspaces/{workspace_id}/models"


def _llm(ws: str) -> dict[str, Any]:
    return {
        "workspaceId": ws,
        "version": {
            "name": "v1",
            "config": {"llmModelConfig": {"baseModelType": "llama3", "modelPath": "obs://llm/m/"}},
        },
    }


async def _create(client: ModelArtsClient, ws: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        request = DataArtsModelCreateRequest.model_validate(
            {
                "name": f"m{i}",
                "version": {
                    "name": "v1",
                    "config": {
                        "llm_model_config": {
                            "base_model_type": "llama3",
                            "model_path": "obs://llm-bucket/m/",
                        }
                    },
                },
            }
        )
        ids.append(str((await client.dataarts.create_model(ws, request)).id))
    return ids


def _entry(ws: str, model_id: str) -> Entry:
    body = {
        "metadata": {"namespace": "ns", "name": model_id},
        "spec": {"llm": _llm(ws)},
        "status": {"modelId": model_id, "versionName": "v1"},
    }
    return Entry("models", "ns", model_id, body)


async def test_poll_reads_pages_of_100_per_workspace_not_one_call_per_model(
    emu: Emulator, client: ModelArtsClient
) -> None:
    big = await _create(client, "ws-big", 250)
    small = await _create(client, "ws-small", 30)
    await _create(client, "ws-unwatched", 5)
    entries = [_entry("ws-big", i) for i in big[::2]] + [_entry("ws-small", i) for i in small]
    emu.core.calls.clear()
    found = await listed(DECLARATION, client, entries)
    # 250 models: pages of 100, 100, 50; 30 models: one page; an unwatched workspace: none.
    assert emu.core.calls[LIST] == 4, dict(emu.core.calls)
    assert sum(emu.core.calls.values()) == 4
    assert {e.status["modelId"] for e in entries} <= set(found)
    assert len(found) == 280  # every model of the listed workspaces, each once


async def test_a_list_item_says_publishing_until_the_version_is_built(
    emu: Emulator, client: ModelArtsClient
) -> None:
    adapter = LlmModelAdapter()
    [model_id] = await _create(client, "ws-1", 1)
    entry = _entry("ws-1", model_id)
    listing = await listed(DECLARATION, client, [entry])
    building = adapter.observe_summary(entry, listing[model_id])
    emu.advance(emu.config.timings.dataarts_creating + 1)
    listing = await listed(DECLARATION, client, [entry])
    built = adapter.observe_summary(entry, listing[model_id])
    assert (building.phase, building.ready, building.in_flight) == ("Publishing", False, True)
    assert "currentVersion" not in building.facts
    assert (built.phase, built.ready, built.in_flight) == ("Published", True, False)
    assert built.facts["currentVersion"]["name"] == "v1"
    assert built.facts["versionId"] == built.facts["currentVersion"]["id"]


async def test_a_version_is_found_by_exact_name_past_the_first_page(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """The versions list filters names fuzzily and newest first: looking up "v1" among 120
    newer "v1…" versions reads past the first page instead of adding "v1" again."""
    from modelarts_operator.api.dataarts import DataArtsModelUpdateRequest, ModelVersionInput
    from modelarts_operator.reconcile.adapter import Context, Refs
    from modelarts_operator.reconcile.policies import Policies

    [model_id] = await _create(client, "ws-1", 1)
    for i in range(120):
        version = ModelVersionInput.model_validate(
            {
                "name": f"v1-{i}",
                "config": {
                    "llm_model_config": {
                        "base_model_type": "llama3",
                        "model_path": "obs://llm-bucket/m/",
                    }
                },
            }
        )
        await client.dataarts.update_model(
            "ws-1", model_id, DataArtsModelUpdateRequest(version=version)
        )
    ctx = Context(
        namespace="ns",
        name="m",
        generation=1,
        spec=ModelSpec.model_validate({"llm": _llm("ws-1")}),
        status={},
        annotations={},
        policies=Policies.from_annotations({}),
        client=client,
        remote_name="m0",
        refs=Refs(),
    )
    emu.core.calls.clear()
    found = await LlmModelAdapter()._version_named(ctx, model_id, "v1")
    assert found is not None
    assert found.name == "v1"
    assert emu.core.calls["GET /v1/workspaces/{workspace_id}/models/{model_id}/versions"] == 2
