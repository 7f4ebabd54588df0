"""Our request bodies against the official SDK's: the same job, built with the SDK's models
and with ours, must serialise to the same JSON (wire names, nesting, camelCase where the API
wants it), and the emulator must take it."""

from __future__ import annotations

import huaweicloudsdkdataartsfabric.v1 as fabric
import huaweicloudsdkmodelarts.v1 as sdk
from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization

from modelarts_operator.api.dataarts import DataArtsModelCreateRequest, DataArtsModelUpdateRequest
from modelarts_operator.api.training_v2 import TrainingJobV2CreateRequest

from .judge import Judge

RICH: dict = {
    "kind": "job",
    "metadata": {
        "name": "ddp-b2",
        "workspace_id": "0",
        "description": "two nodes",
        "annotations": {"fault-tolerance/job-retry-num": "3"},
    },
    "algorithm": {
        "code_dir": "obs://bkt/code/",
        "boot_file": "obs://bkt/code/train.py",
        "command": "bash /home/ma-user/run.sh",
        "engine": {"image_url": "myorg/trainer:1.0"},
        "parameters": [{"name": "epochs", "value": "3", "description": "passes"}],
        "inputs": [
            {
                "name": "data",
                "access_method": "env",
                "remote": {"dataset": {"id": "ds1", "version_id": "v1"}},
            }
        ],
        "outputs": [{"name": "model", "remote": {"obs": {"obs_url": "/bkt/out/"}}}],
        "environments": {"NCCL_DEBUG": "INFO"},
        "local_code_dir": "/home/work/code",
    },
    "spec": {
        "resource": {
            "pool_id": "pool-xyz",
            "flavor_id": "modelarts.pool.visual.8xlarge",
            "node_count": 2,
            "main_container_customized_flavor": {"cpu_core_num": 8.0, "mem_size": 32.0},
        },
        "volumes": [
            {"nfs": {"nfs_server_path": "10.0.0.8:/", "local_path": "/mnt/nfs", "read_only": False}}
        ],
        "log_export_path": {"obs_url": "/bkt/logs/"},
        "log_export_config": {"version": "v1", "rotation_enabled": True},
        "schedule_policy": {
            "priority": 2,
            "preemptible": False,
            "required_affinity": {
                "affinity_type": "cabinet",
                "node_affinity": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                    ]
                },
            },
        },
        "auto_stop": {"time_unit": "HOURS", "duration": 4},
        "notification": {"topic_urn": "urn:smn:cn-north-4:p:t", "events": ["JobFailed"]},
        "output_model": {"obs": {"obs_path": "/bkt/model/"}},
    },
    "endpoints": {"ssh": {"key_pair_names": ["kp-1"]}},
}


def sdk_job() -> sdk.Job:
    return sdk.Job(
        kind="job",
        metadata=sdk.JobMetadata(
            name="ddp-b2",
            workspace_id="0",
            description="two nodes",
            annotations={"fault-tolerance/job-retry-num": "3"},
        ),
        algorithm=sdk.JobAlgorithm(
            code_dir="obs://bkt/code/",
            boot_file="obs://bkt/code/train.py",
            command="bash /home/ma-user/run.sh",
            engine=sdk.JobEngine(image_url="myorg/trainer:1.0"),
            parameters=[sdk.Parameters(name="epochs", value="3", description="passes")],
            inputs=[
                sdk.Input(
                    name="data",
                    access_method="env",
                    remote=sdk.InputDataInfo(
                        dataset=sdk.InputDataInfoDataset(id="ds1", version_id="v1")
                    ),
                )
            ],
            outputs=[
                sdk.Output(name="model", remote=sdk.Remote(obs=sdk.RemoteObs(obs_url="/bkt/out/")))
            ],
            environments={"NCCL_DEBUG": "INFO"},
            local_code_dir="/home/work/code",
        ),
        spec=sdk.Spec(
            resource=sdk.SpecResource(
                pool_id="pool-xyz",
                flavor_id="modelarts.pool.visual.8xlarge",
                node_count=2,
                main_container_customized_flavor=sdk.MainContainerCustomizedFlavor(
                    cpu_core_num=8.0, mem_size=32.0
                ),
            ),
            volumes=[
                sdk.SpecVolumes(
                    nfs=sdk.Nfs(
                        nfs_server_path="10.0.0.8:/", local_path="/mnt/nfs", read_only=False
                    )
                )
            ],
            log_export_path=sdk.LogExportPath(obs_url="/bkt/logs/"),
            log_export_config=sdk.LogExportConfig(version="v1", rotation_enabled=True),
            schedule_policy=sdk.SchedulePolicy(
                priority=2,
                preemptible=False,
                required_affinity=sdk.RequiredAffinity(
                    affinity_type="cabinet",
                    node_affinity=sdk.NodeSelector(
                        node_selector_terms=[
                            sdk.NodeSelectorTerm(
                                match_expressions=[
                                    sdk.NodeSelectorRequirement(
                                        key="zone", operator="In", values=["a"]
                                    )
                                ]
                            )
                        ]
                    ),
                ),
            ),
            auto_stop=sdk.AutoStop(time_unit="HOURS", duration=4),
            notification=sdk.Notification(topic_urn="urn:smn:cn-north-4:p:t", events=["JobFailed"]),
            output_model=sdk.OutputModel(obs=sdk.ObsModel(obs_path="/bkt/model/")),
        ),
        endpoints=sdk.JobEndpointsReq(ssh=sdk.SSHReq(key_pair_names=["kp-1"])),
    )


def test_our_create_body_is_the_sdks() -> None:
    ours = TrainingJobV2CreateRequest.model_validate(RICH).to_wire()
    assert ours == RICH
    assert ours == sanitize_for_serialization(sdk_job())


def test_the_emulator_takes_it_and_echoes_the_policy(
    ma: sdk.ModelArtsClient, ma_judge: Judge
) -> None:
    created = ma_judge.judged(ma.create_training_job, sdk.CreateTrainingJobRequest(body=sdk_job()))
    policy = created.spec.schedule_policy
    assert (policy.priority, policy.required_affinity.affinity_type) == (2, "cabinet")
    assert created.spec.resource.pool_id == "pool-xyz"
    assert created.spec.volumes[0].nfs.local_path == "/mnt/nfs"
    assert created.algorithm.inputs[0].remote.dataset.obs_url


def test_our_dataarts_bodies_are_the_sdks() -> None:
    version = {
        "name": "v 2",
        "description": "d",
        "config": {"llm_model_config": {"base_model_type": "llama3", "model_path": "obs://b/m/"}},
    }
    sdk_version = fabric.ModelVersionInput(
        name="v 2",
        description="d",
        config=fabric.ModelConfig(
            llm_model_config=fabric.LlmModelConfig(
                base_model_type="llama3", model_path="obs://b/m/"
            )
        ),
    )
    create = DataArtsModelCreateRequest.model_validate(
        {"name": "llm", "description": "x", "type": "LLM_MODEL", "version": version}
    )
    assert create.to_wire() == sanitize_for_serialization(
        fabric.CreateModelInput(name="llm", description="x", type="LLM_MODEL", version=sdk_version)
    )
    update = DataArtsModelUpdateRequest.model_validate(
        {"description": "y", "current_version_id": "v-1", "version": version}
    )
    assert update.to_wire() == sanitize_for_serialization(
        fabric.UpdateModelInput(description="y", current_version_id="v-1", version=sdk_version)
    )
