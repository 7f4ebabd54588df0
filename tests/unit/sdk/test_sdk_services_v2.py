"""The official SDK's v2 inference-service calls against the emulator: every answer parses
into the SDK's response model with the declared JSON types, and errors into its exception."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from huaweicloudsdkmodelarts.v1 import (
    BatchDeleteInferServicesRequest,
    CreateInferServiceRequest,
    DeleteInferServiceTagRequest,
    DeleteInferTmsTagsRequest,
    DeleteServicesRequest,
    ListInferServicesRequest,
    ListInferServiceTagsRequest,
    ServiceCreateRequest,
    ServiceUpdateRequest,
    ShowInferServiceRequest,
    ShowInferServiceTagsRequest,
    StartInferServiceRequest,
    StopInferServiceRequest,
    TmsTagForDeletion,
    UpdateInferServiceRequest,
)

from .svc2_judge import Judge, judge

IMAGE = "swr.cn-north-4.myhuaweicloud.com/team/infer:1.0"


@pytest.fixture
def j() -> Iterator[Judge]:
    with judge() as opened:
        yield opened


def body(name: str, **overrides: Any) -> dict[str, Any]:
    """A create body as a user writes it (plain JSON, so the SDK serialises nothing for us)."""
    out: dict[str, Any] = {
        "name": name,
        "version": "1.0.0",
        "type": "REAL_TIME",
        "deploy_type": "SINGLE",
        "group_configs": [
            {
                "name": "main",
                "weight": 100,
                "pool_id": "pool-7f2a",
                "count": 2,
                "unit_configs": [
                    {
                        "image": {"source": "SWR", "swr_path": IMAGE},
                        "flavor": "modelarts.vm.cpu.8u",
                        "cmd": "python serve.py",
                        "port": 8080,
                        "envs": {"MODEL_DIR": "/models"},
                        "models": [
                            {"source": "OBS", "address": "obs://bucket/model/",
                             "mount_path": "/models"}
                        ],
                        "readiness_health": {"check_method": "HTTP", "url": "/health",
                                             "initial_delay_seconds": 5, "timeout_seconds": 3,
                                             "period_seconds": 5, "failure_threshold": 3},
                    }
                ],
            }
        ],
        "runtime_config": {
            "service_invoke": {"port": 8080, "protocol": "HTTP", "auth_type": "TOKEN"},
            "service_limit": {"rate_limit": {"num": 100, "unit": "SECONDS"},
                              "request_size_limit": 12, "request_timeout": 60},
        },
    }  # fmt: skip
    out.update(overrides)
    return out


def create(j: Judge, name: str, **overrides: Any) -> Any:
    return j.call(
        j.sdk.create_infer_service,
        CreateInferServiceRequest(body=body(name, **overrides)),
    )


def show(j: Judge, sid: str) -> Any:
    return j.call(j.sdk.show_infer_service, ShowInferServiceRequest(service_id=sid))


def test_create_deploys_and_runs(j: Judge) -> None:
    created = create(j, "svc-a")
    assert created.id
    assert created.name == "svc-a"
    assert created.status == "DEPLOYING"
    assert created.version.version == "1.0.0"
    unit = created.version.instance_groups[0].unit_configs[0]
    assert unit.image.swr_path == IMAGE
    assert unit.models[0].mount_path == "/models"
    assert created.predict_url == []  # filled in once deployed
    j.advance(30)
    shown = show(j, created.id)
    assert shown.status == "RUNNING"
    assert shown.predict_url[0].urls[0].endswith(f"/v2/infers/{created.id}")
    assert shown.version.instance_groups[0].running_count == 2
    assert shown.version.runtime_config.service_invoke.auth_type == "TOKEN"
    assert int(shown.create_at) > 0  # a string of epoch milliseconds in details


def test_a_sdk_model_body_is_accepted(j: Judge) -> None:
    """The SDK's own request model serialises to a body the emulator accepts."""
    request = CreateInferServiceRequest(body=ServiceCreateRequest(**body("svc-model")))
    created = j.call(j.sdk.create_infer_service, request)
    assert created.status == "DEPLOYING"


def test_list_pages_by_item_offset(j: Judge) -> None:
    ids = [create(j, f"svc-{i}").id for i in range(5)]
    seen: list[str] = []
    for offset in (0, 2, 4):
        page = j.call(j.sdk.list_infer_services, ListInferServicesRequest(limit=2, offset=offset))
        assert page.total == 5
        assert page.pages == 3
        assert page.current == offset // 2
        seen += [item.id for item in page.data]
        assert all(isinstance(item.create_at, int) for item in page.data)
    assert sorted(seen) == sorted(ids)
    j.refused(
        400,
        "ModelArts.0107",
        j.sdk.list_infer_services,
        ListInferServicesRequest(limit=2, offset=3),
    )
    named = j.call(j.sdk.list_infer_services, ListInferServicesRequest(name="svc-3"))
    assert [item.id for item in named.data] == [ids[3]]
    assert named.data[0].version == "1.0.0"
    assert named.data[0].auth_type == "TOKEN"


def test_rolling_upgrade_records_versions(j: Judge) -> None:
    sid = create(j, "svc-up").id
    j.advance(30)
    groups = body("x")["group_configs"]
    groups[0]["unit_configs"][0]["image"]["swr_path"] = IMAGE.replace("1.0", "1.1")
    update = UpdateInferServiceRequest(
        service_id=sid, body=ServiceUpdateRequest(version="1.0.1", group_configs=groups)
    )
    upgraded = j.call(j.sdk.update_infer_service, update)
    assert upgraded.status == "UPGRADING"
    assert upgraded.version.version == "1.0.1"
    j.advance(30)
    shown = show(j, sid)
    assert shown.status == "RUNNING"
    group = shown.version.instance_groups[0]
    assert group.unit_configs[0].image.swr_path.endswith(":1.1")
    assert group.version_count == 2
    listed = j.call(j.sdk.list_infer_services, ListInferServicesRequest(id=sid))
    assert listed.data[0].version == "1.0.1"
    assert listed.data[0].version_count == 2
    assert j.call(j.sdk.update_infer_service, update).version.version == "1.0.1"  # a repeat
    groups[0]["unit_configs"][0]["port"] = 9090
    other = UpdateInferServiceRequest(
        service_id=sid, body=ServiceUpdateRequest(version="1.0.1", group_configs=groups)
    )
    assert "version" in j.refused(400, "ModelArts.0107", j.sdk.update_infer_service, other)


def test_stop_and_start(j: Judge) -> None:
    sid = create(j, "svc-s").id
    j.advance(30)
    stopping = j.call(j.sdk.stop_infer_service, StopInferServiceRequest(service_id=sid))
    assert stopping.status == "STOPPING"
    j.advance(10)
    assert show(j, sid).status == "STOPPED"
    j.refused(
        409, "ModelArts.3519", j.sdk.stop_infer_service, StopInferServiceRequest(service_id=sid)
    )
    started = j.call(j.sdk.start_infer_service, StartInferServiceRequest(service_id=sid))
    assert started.status == "DEPLOYING"
    j.advance(30)
    assert show(j, sid).status == "RUNNING"


def test_batch_delete_then_404(j: Judge) -> None:
    keep, drop = create(j, "svc-keep").id, create(j, "svc-drop").id
    request = BatchDeleteInferServicesRequest(body=DeleteServicesRequest(service_ids=[drop]))
    deleted = j.call(j.sdk.batch_delete_infer_services, request)
    assert [(r.id, r.status) for r in deleted.service_responses] == [(drop, "DELETING")]
    j.advance(10)
    j.refused(
        404, "ModelArts.3502", j.sdk.show_infer_service, ShowInferServiceRequest(service_id=drop)
    )
    listed = j.call(j.sdk.list_infer_services, ListInferServicesRequest())
    assert [item.id for item in listed.data] == [keep]
    again = create(j, "svc-drop")  # the name is free once the deletion finished
    assert again.id != drop


def test_documented_refusals_parse(j: Judge) -> None:
    create(j, "svc-dup")
    j.refused(
        409, "ModelArts.3503", j.sdk.create_infer_service,
        CreateInferServiceRequest(body=body("svc-dup")),
    )  # fmt: skip
    no_limit = body("svc-nl")  # the SDK marks runtime_config.service_limit required
    del no_limit["runtime_config"]["service_limit"]
    msg = j.refused(
        400, "ModelArts.0115", j.sdk.create_infer_service, CreateInferServiceRequest(body=no_limit)
    )
    assert "runtime_config.service_limit" in msg
    bad_port = body("svc-bp")
    bad_port["group_configs"][0]["unit_configs"][0]["port"] = 70000
    msg = j.refused(
        400, "ModelArts.0107", j.sdk.create_infer_service, CreateInferServiceRequest(body=bad_port)
    )
    assert "unit_configs[0].port" in msg


def test_tags_set_at_create_show_and_delete(j: Judge) -> None:
    """Tags travel in the create body (so a service is marked in the same call); the SDK's
    create-tags call has no body in 3.1.219, so only show and delete are judged here."""
    mark = [{"key": "managed-by", "value": "modelarts-operator"}, {"key": "team", "value": "a"}]
    sid = create(j, "svc-tags", tags=mark).id
    shown = j.call(j.sdk.show_infer_service_tags, ShowInferServiceTagsRequest(resource_id=sid))
    assert [(t.key, t.value) for t in shown.tags] == [(t["key"], t["value"]) for t in mark]
    listed = j.call(
        j.sdk.list_infer_services, ListInferServicesRequest(tags="managed-by|modelarts-operator")
    )
    assert [item.id for item in listed.data] == [sid]
    every = j.call(j.sdk.list_infer_service_tags, ListInferServiceTagsRequest())
    assert [(t.key, t.values) for t in every.tags] == [
        ("managed-by", ["modelarts-operator"]),
        ("team", ["a"]),
    ]
    drop = DeleteInferTmsTagsRequest(tags=[TmsTagForDeletion(key="team")])
    j.call(j.sdk.delete_infer_service_tag, DeleteInferServiceTagRequest(resource_id=sid, body=drop))
    shown = j.call(j.sdk.show_infer_service_tags, ShowInferServiceTagsRequest(resource_id=sid))
    assert [t.key for t in shown.tags] == ["managed-by"]
