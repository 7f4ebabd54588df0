"""huaweicloudsdkmodelarts (3.1.219) calls of the families issue 26 adds, against the
emulator: algorithms, resource pools, networks, workspace quotas and a v2 service's events.
Every answer parses into the SDK's own response model with the JSON types it declares, and
the documented refusals parse into its exception with the reference's codes."""

from __future__ import annotations

from typing import Any

import huaweicloudsdkmodelarts.v1 as sdk
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from modelarts_testbed.emulator.server import EmulatorHandle

from .judge import Judge, model_problems

Client = sdk.ModelArtsClient


def refused(call: Any, request: Any) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call(request)
    return caught.value


# ---------------------------------------------------------------- algorithms
def algorithm(name: str, **config: Any) -> sdk.Algorithm:
    """The reference's example (creating_an_algorithm: TestModelArtsalgorithm), in SDK
    models."""
    job_config = {
        "code_dir": "/algo-test/pytorch/work1/code/",
        "boot_file": "/algo-test/pytorch/work1/code/test-pytorch.py",
        "parameters": [
            sdk.Parameters(
                name="test-parameter",
                value="10",
                constraint=sdk.ParametersConstraint(
                    type="String", editable=True, required=False, valid_type="None",
                    valid_range=[],
                ),
            )
        ],
        "parameters_customization": True,
        "inputs": [sdk.AlgorithmCreateInput(name="data_url", description="data source.")],
        "outputs": [sdk.AlgorithmCreateOutput(name="train_url", description="model output.")],
        "engine": sdk.AlgorithmCreateEngine(engine_id="pytorch-cp36-1.4.0-v2"),
        **config,
    }  # fmt: skip
    return sdk.Algorithm(
        metadata=sdk.AlgorithmMetadata(name=name, description="This is a ModelArts algorithm"),
        job_config=sdk.AlgorithmJobConfig(**job_config),
        resource_requirements=[
            sdk.ResourceRequirement(key="flavor_type", values=["CPU", "GPU"], operator="in")
        ],
        advanced_config=sdk.AlgorithmAdvancedConfig(
            auto_search=sdk.AutoSearch(
                reward_attrs=[sdk.RewardAttrs(name="max_search", mode="max", regex="10.0")],
                search_params=[
                    sdk.SearchParams(name="test_search", lower_bound="1", upper_bound="10")
                ],
            )
        ),
    )


def test_algorithm_create_show_change_list_delete(ma: Client, ma_judge: Judge) -> None:
    created = ma_judge.judged(
        ma.create_algorithm, sdk.CreateAlgorithmRequest(body=algorithm("TestModelArtsalgorithm"))
    )
    assert created.status_code == 201
    algo_id = created.metadata.id
    assert created.metadata.workspace_id == "0"
    assert created.job_config.engine.engine_name == "PyTorch"
    assert created.job_config.code_tree.children[0].name == "test-pytorch.py"
    assert created.resource_requirements[0].value == ["CPU", "GPU"]
    shown = ma_judge.judged(
        ma.show_algorithm_by_uuid, sdk.ShowAlgorithmByUuidRequest(algorithm_id=algo_id)
    )
    assert shown.metadata.name == "TestModelArtsalgorithm"
    changed_body = algorithm("TestModelArtsalgorithm", command="python run.py")
    changed = ma_judge.judged(
        ma.change_algorithm, sdk.ChangeAlgorithmRequest(algorithm_id=algo_id, body=changed_body)
    )
    assert changed.job_config.command == "python run.py"
    listed = ma_judge.judged(
        ma.list_algorithms, sdk.ListAlgorithmsRequest(limit=1, searches="name:ModelArts")
    )
    assert (listed.total, [a.metadata.id for a in listed.items]) == (1, [algo_id])
    deleted = ma_judge.call(ma.delete_algorithm, sdk.DeleteAlgorithmRequest(algorithm_id=algo_id))
    assert deleted.status_code == 202
    err = refused(ma.show_algorithm_by_uuid, sdk.ShowAlgorithmByUuidRequest(algorithm_id=algo_id))
    assert (err.status_code, err.error_code) == (400, "ModelArts.2755")


def test_algorithm_refusals(ma: Client, ma_judge: Judge) -> None:
    ma_judge.judged(ma.create_algorithm, sdk.CreateAlgorithmRequest(body=algorithm("taken")))
    err = refused(ma.create_algorithm, sdk.CreateAlgorithmRequest(body=algorithm("taken")))
    assert (err.status_code, err.error_code) == (400, "ModelArts.2821")
    outside = algorithm("outside", boot_file="/other/train.py")
    err = refused(ma.create_algorithm, sdk.CreateAlgorithmRequest(body=outside))
    assert (err.status_code, err.error_code) == (400, "ModelArts.2758")
    unknown = algorithm("unknown", engine=sdk.AlgorithmCreateEngine(engine_id="no-such-engine"))
    err = refused(ma.create_algorithm, sdk.CreateAlgorithmRequest(body=unknown))
    assert (err.status_code, err.error_code) == (400, "ModelArts.2780")


# ---------------------------------------------------------------- networks and pools
# The SDK types each state of status.resources as one flavor count; the API reference's
# examples (obtaining_a_resource_pool, updating_a_resource_pool) answer a list of them, which
# the emulator follows: the only difference the strict check is allowed to find.
REFERENCE_OVER_SDK = ("$.status.resources.",)


def strict_pool(judge: Judge, response: Any) -> None:
    import json

    data = json.loads(response.raw_content)
    problems = [
        p for p in model_problems(data, type(response), sdk) if not p.startswith(REFERENCE_OVER_SDK)
    ]
    assert not problems, "\n".join(problems)


def network(ma: Client, judge: Judge, name: str = "network-7a03") -> Any:
    body = sdk.NetworkCreationRequest(
        api_version="v1",
        kind="Network",
        metadata=sdk.NetworkMetadataCreation(
            labels=sdk.NetworkMetadataLabels(os_modelarts_name=name)
        ),
        spec=sdk.NetworkSpec(cidr="192.168.128.0/17"),
    )
    return judge.judged(ma.create_network, sdk.CreateNetworkRequest(body=body))


def pool_body(name: str, network_id: str, count: int = 1) -> sdk.CreatePoolRequestBody:
    """The reference's "Create a physical pool" example, in SDK models."""
    return sdk.CreatePoolRequestBody(
        api_version="v2",
        kind="Pool",
        metadata=sdk.PoolMetadataCreation(
            labels=sdk.PoolLabelsCreation(os_modelarts_name=name, os_modelarts_workspace_id="0"),
            annotations=sdk.PoolAnnotationsCreation(os_modelarts_description=""),
        ),
        spec=sdk.PoolSpecCreation(
            type="Dedicate",
            scope=["Train"],
            network=sdk.PoolSpecCreationNetwork(name=network_id),
            resources=[sdk.PoolResourceFlavor(flavor="modelarts.vm.cpu.8ud", count=count)],
        ),
    )


def test_network_lifecycle(ma: Client, ma_judge: Judge, emu: EmulatorHandle) -> None:
    created = network(ma, ma_judge)
    network_id = created.metadata.name
    assert network_id.startswith("network-7a03-")
    show = sdk.ShowNetworkRequest(network_name=network_id)
    assert ma_judge.judged(ma.show_network, show).status.phase == "Creating"
    emu.admin.advance(10)
    assert ma_judge.judged(ma.show_network, show).status.phase == "Active"
    peer = sdk.PeerConnectionItem(peer_vpc_id="vpc-1", peer_subnet_id="subnet-1")
    patch = sdk.NetworkUpdateRequest(
        spec=sdk.NetworkSpecUpdate(connection=sdk.NetworkConnection(peer_connection_list=[peer]))
    )
    patched = ma_judge.judged(
        ma.patch_network, sdk.PatchNetworkRequest(network_name=network_id, body=patch)
    )
    assert patched.status.connection_status.peer_connection_status[0].phase == "Connecting"
    listed = ma_judge.judged(ma.list_networks, sdk.ListNetworksRequest(limit=10))
    assert [n.metadata.name for n in listed.items] == [network_id]
    deleted = ma_judge.judged(ma.delete_network, sdk.DeleteNetworkRequest(network_name=network_id))
    assert deleted.metadata.name == network_id
    emu.admin.advance(10)
    err = refused(ma.show_network, show)
    assert (err.status_code, err.error_code) == (404, "ModelArts.50025001")


def test_pool_create_scale_list_delete(ma: Client, ma_judge: Judge, emu: EmulatorHandle) -> None:
    network_id = network(ma, ma_judge).metadata.name
    emu.admin.advance(10)
    created = ma_judge.call(
        ma.create_pool, sdk.CreatePoolRequest(body=pool_body("pool-ae01", network_id))
    )
    strict_pool(ma_judge, created)
    pool_id = created.metadata.name
    assert pool_id.startswith("pool-ae01-")
    assert created.metadata.labels.os_modelarts_name == "pool-ae01"
    show = sdk.ShowPoolRequest(pool_name=pool_id)
    assert ma_judge.call(ma.show_pool, show).status.phase == "Creating"
    emu.admin.advance(30)
    running = ma_judge.call(ma.show_pool, show)
    strict_pool(ma_judge, running)
    assert running.status.phase == "Running"
    assert [(s.scope_type, s.state) for s in running.status.scope] == [("Train", "Enabled")]
    scale = sdk.PoolUpdateRequest(
        spec=sdk.PoolSpecUpdate(
            resources=[sdk.PoolSpecUpdateResources(flavor="modelarts.vm.cpu.8ud", count=3)]
        )
    )
    scaled = ma_judge.call(ma.patch_pool, sdk.PatchPoolRequest(pool_name=pool_id, body=scale))
    strict_pool(ma_judge, scaled)
    assert scaled.spec.resources[0].count == 3
    listed = ma_judge.call(ma.list_pools, sdk.ListPoolsRequest(workspace_id="0"))
    assert [p.metadata.name for p in listed.items] == [pool_id]
    err = refused(ma.create_pool, sdk.CreatePoolRequest(body=pool_body("pool-ae01", network_id)))
    assert (err.status_code, err.error_code) == (409, "ModelArts.50015000")
    deleted = ma_judge.call(ma.delete_pool, sdk.DeletePoolRequest(pool_name=pool_id))
    assert deleted.status.phase == "Deleting"
    emu.admin.advance(30)
    err = refused(ma.show_pool, show)
    assert (err.status_code, err.error_code) == (404, "ModelArts.50015001")


def test_pool_refusals(ma: Client, ma_judge: Judge) -> None:
    err = refused(ma.create_pool, sdk.CreatePoolRequest(body=pool_body("pool-x1", "no-network")))
    assert (err.status_code, err.error_code) == (400, "ModelArts.50004000")
    bad_name = pool_body("Pool_X", "no-network")
    err = refused(ma.create_pool, sdk.CreatePoolRequest(body=bad_name))
    assert (err.status_code, err.error_code) == (400, "ModelArts.50004000")


# ---------------------------------------------------------------- workspace quotas
def test_workspace_quotas_show_and_update(ma: Client, ma_judge: Judge) -> None:
    workspace = ma_judge.judged(
        ma.create_workspace, sdk.CreateWorkspaceRequest(body=sdk.CreateWorkspaceReq(name="quotas"))
    ).id
    shown = ma_judge.judged(
        ma.show_workspace_quotas, sdk.ShowWorkspaceQuotasRequest(workspace_id=workspace)
    )
    assert {q.resource for q in shown.quotas} >= {"trainJob.gpu_duration"}
    update = sdk.UpdateWorkspaceQuotasReq(
        quotas=[sdk.UpdateWorkspaceQuotasReqQuotas(resource="trainJob.gpu_duration", quota=600)]
    )
    updated = ma_judge.judged(
        ma.update_workspace_quotas,
        sdk.UpdateWorkspaceQuotasRequest(workspace_id=workspace, body=update),
    )
    assert [(q.resource, q.quota) for q in updated.quotas] == [("trainJob.gpu_duration", 600)]
    too_much = sdk.UpdateWorkspaceQuotasReq(
        quotas=[sdk.UpdateWorkspaceQuotasReqQuotas(resource="trainJob.gpu_duration", quota=10**9)]
    )
    err = refused(
        ma.update_workspace_quotas,
        sdk.UpdateWorkspaceQuotasRequest(workspace_id=workspace, body=too_much),
    )
    assert err.status_code == 400


# ---------------------------------------------------------------- service events
def test_service_v2_events(ma: Client, ma_judge: Judge, emu: EmulatorHandle) -> None:
    from .test_sdk_services_v2 import body as service_body

    service_id = ma_judge.judged(
        ma.create_infer_service, sdk.CreateInferServiceRequest(body=service_body("evt"))
    ).id
    emu.admin.advance(30)
    events = ma_judge.judged(
        ma.list_infer_service_events, sdk.ListInferServiceEventsRequest(service_id=service_id)
    )
    assert [e.event_info for e in events.data] == ["service is running", "start to deploy service"]
    assert {e.event_type for e in events.data} == {"NORMAL"}
    # The operator's look (reconcile/remote_events.py): the newest 10, newest first.
    newest = ma_judge.judged(
        ma.list_infer_service_events,
        sdk.ListInferServiceEventsRequest(
            service_id=service_id, limit=10, sort_key="update_at", sort_dir="DESC"
        ),
    )
    assert [e.id for e in newest.data] == [e.id for e in events.data]
    assert newest.data[0].update_at >= newest.data[1].update_at
