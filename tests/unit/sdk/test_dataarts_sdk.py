"""Every huaweicloudsdkdataartsfabric (3.1.219) model call against the emulator: create,
list, update (new version, current version), version list and delete, cleanup, base models;
answers parse into the SDK's models with real date-times and nothing the SDK does not define."""

from __future__ import annotations

from datetime import datetime

import huaweicloudsdkdataartsfabric.v1 as sdk
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from modelarts_testbed.emulator.server import EmulatorHandle

from .judge import Judge

Client = sdk.DataArtsFabricClient
WS = "ws-1"


def version(name: str, path: str = "obs://bucket/llm/") -> sdk.ModelVersionInput:
    return sdk.ModelVersionInput(
        name=name,
        description=f"version {name}",
        config=sdk.ModelConfig(
            llm_model_config=sdk.LlmModelConfig(base_model_type="llama3", model_path=path)
        ),
    )


def create(fab: Client, judge: Judge, name: str) -> sdk.CreateModelDefinitionResponse:
    body = sdk.CreateModelInput(name=name, description="d", type="LLM_MODEL", version=version("v1"))
    return judge.judged(
        fab.create_model_definition, sdk.CreateModelDefinitionRequest(workspace_id=WS, body=body)
    )


def listing(fab: Client, judge: Judge, **query: object) -> sdk.ListModelsResponse:
    return judge.judged(fab.list_models, sdk.ListModelsRequest(workspace_id=WS, **query))


def test_create_then_list_with_datetimes_and_users(
    fab: Client, fab_judge: Judge, emu: EmulatorHandle
) -> None:
    created = create(fab, fab_judge, "LLama3-8b")
    assert created.id
    assert created.version_id
    assert created.x_request_id  # from the X-request-id header
    emu.admin.advance(10)
    found = listing(fab, fab_judge, id=created.id)
    assert found.total == 1
    model = found.models[0]
    assert isinstance(model.create_time, datetime)
    assert model.create_time.tzinfo is not None
    assert isinstance(model.update_time, datetime)
    assert model.type == "LLM_MODEL"
    assert model.visibility == "PRIVATE"
    assert model.create_user.user_name == "emulator-user"
    assert model.current_version.id == created.version_id
    assert isinstance(model.current_version.create_time, datetime)
    assert model.current_version.config.llm_model_config.model_path == "obs://bucket/llm/"


def test_list_pages_by_item_offset(fab: Client, fab_judge: Judge, emu: EmulatorHandle) -> None:
    for i in range(7):
        create(fab, fab_judge, f"m{i}")
        emu.admin.advance(1)
    first = listing(fab, fab_judge, offset=0, limit=5, sort_by="NAME", order_by="ASC")
    rest = listing(fab, fab_judge, offset=5, limit=5, sort_by="NAME", order_by="ASC")
    assert first.total == 7
    assert [m.name for m in first.models + rest.models] == [f"m{i}" for i in range(7)]
    assert listing(fab, fab_judge, name="m3").total == 1


def test_update_adds_a_version_that_becomes_current_when_built(
    fab: Client, fab_judge: Judge, emu: EmulatorHandle
) -> None:
    created = create(fab, fab_judge, "evolving")
    emu.admin.advance(10)
    update = sdk.UpdateModelDefinitionRequest(
        workspace_id=WS,
        model_id=created.id,
        body=sdk.UpdateModelInput(description="with v2", version=version("v2")),
    )
    updated = fab_judge.judged(fab.update_model_definition, update)
    assert updated.description == "with v2"
    assert updated.current_version.name == "v1"  # v2 is still being built
    assert isinstance(updated.update_time, datetime)
    emu.admin.advance(10)
    assert listing(fab, fab_judge, id=created.id).models[0].current_version.name == "v2"
    versions = fab_judge.judged(
        fab.list_model_versions,
        sdk.ListModelVersionsRequest(workspace_id=WS, model_id=created.id),
    )
    assert versions.total == 2
    assert [v.name for v in versions.versions] == ["v2", "v1"]
    back = sdk.UpdateModelDefinitionRequest(
        workspace_id=WS,
        model_id=created.id,
        body=sdk.UpdateModelInput(current_version_id=created.version_id),
    )
    assert fab_judge.judged(fab.update_model_definition, back).current_version.name == "v1"


def test_delete_version_then_cleanup(fab: Client, fab_judge: Judge, emu: EmulatorHandle) -> None:
    created = create(fab, fab_judge, "short-lived")
    emu.admin.advance(10)
    fab_judge.judged(
        fab.update_model_definition,
        sdk.UpdateModelDefinitionRequest(
            workspace_id=WS, model_id=created.id, body=sdk.UpdateModelInput(version=version("v2"))
        ),
    )
    versions = fab_judge.judged(
        fab.list_model_versions,
        sdk.ListModelVersionsRequest(workspace_id=WS, model_id=created.id, name="v2"),
    )
    v2 = versions.versions[0].id
    deleted = fab_judge.call(
        fab.delete_model_version,
        sdk.DeleteModelVersionRequest(workspace_id=WS, model_id=created.id, version_id=v2),
    )
    assert deleted.status_code == 200
    remaining = fab_judge.judged(
        fab.list_model_versions,
        sdk.ListModelVersionsRequest(workspace_id=WS, model_id=created.id),
    )
    assert [v.id for v in remaining.versions] == [created.version_id]
    fab_judge.call(fab.cleanup_model, sdk.CleanupModelRequest(workspace_id=WS, model_id=created.id))
    assert listing(fab, fab_judge, id=created.id).total == 0
    with pytest.raises(ClientRequestException) as gone:
        fab.cleanup_model(sdk.CleanupModelRequest(workspace_id=WS, model_id=created.id))
    assert (gone.value.status_code, gone.value.error_code) == (404, "common.01000001")


def test_base_models(fab: Client, fab_judge: Judge) -> None:
    found = fab_judge.judged(fab.list_base_models, sdk.ListBaseModelsRequest(offset=0, limit=10))
    assert found.total >= 1
    assert found.models[0].base_model_type
    assert found.models[0].max_tokens > 0


def test_error_bodies_parse_into_the_sdk_exception(fab: Client, fab_judge: Judge) -> None:
    create(fab, fab_judge, "taken")
    with pytest.raises(ClientRequestException) as dup:
        create(fab, fab_judge, "taken")
    assert dup.value.status_code == 400
    assert dup.value.error_code == "common.01000001"
    assert "already exists" in dup.value.error_msg
    assert dup.value.request_id
    bad = sdk.CreateModelInput(name="no/slash", type="LLM_MODEL", version=version("v1"))
    with pytest.raises(ClientRequestException) as invalid:
        fab.create_model_definition(sdk.CreateModelDefinitionRequest(workspace_id=WS, body=bad))
    assert "name" in invalid.value.error_msg
