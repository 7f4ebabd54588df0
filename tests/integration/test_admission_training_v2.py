"""The TrainingJob v2 form on a real kube-apiserver: every documented constraint refused at
`kubectl apply` naming the field, the forms exclusive, good manifests stored unpruned."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelarts_testbed.controlplane import ControlPlane

from .test_admission import DROP, NAMESPACE, _apply, _contains, _patched, cluster  # noqa: F401

pytestmark = pytest.mark.cluster

V2: dict[str, Any] = {
    "workspaceRef": {"name": "demo"},
    "jobDesc": "mnist on the current API",
    "algorithm": {
        "codeDir": "obs://bucket/code/",
        "bootFile": "obs://bucket/code/train.py",
        "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
        "parameters": [{"name": "epochs", "value": "3"}],
        "inputs": [{"name": "data_url", "remote": {"obs": {"obsUrl": "obs://bucket/data/"}}}],
        "outputs": [{"name": "train_url", "remote": {"obs": {"obsUrl": "obs://bucket/out/"}}}],
        "environments": {"NCCL_DEBUG": "INFO"},
    },
    "resource": {"flavorId": "modelarts.vm.pnt1.large.eco", "nodeCount": 1},
    "logExportPath": {"obsUrl": "obs://bucket/logs/"},
}
IMAGE = {"engine": {"engineId": DROP, "imageUrl": "team/trainer:1.0"}, "command": "python train.py"}
V1_CONFIG = {
    "workerServerNum": 1,
    "appUrl": "/b/code/",
    "bootFileUrl": "/b/code/train.py",
    "engineId": 1,
    "specId": 1,
    "dataUrl": "/b/data/",
    "trainUrl": "/b/out/",
}

# (id, patch applied to V2, fragments stderr must contain)
INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    ("both-forms", {"config": V1_CONFIG}, ["exactly one form"]),
    ("no-form", {"algorithm": DROP}, ["exactly one form"]),
    (
        "v2-field-with-config",
        {"algorithm": DROP, "config": V1_CONFIG},
        ["cannot be combined with config"],
    ),
    (
        "tags-with-config",
        {
            "algorithm": DROP,
            "resource": DROP,
            "logExportPath": DROP,
            "config": V1_CONFIG,
            "tags": [{"key": "a"}],
        },
        ["cannot be combined with config"],
    ),
    ("no-resource", {"resource": DROP}, ["spec.resource", "needs resource"]),
    (
        "boot-outside-code",
        {"algorithm": {"bootFile": "obs://other/train.py"}},
        ["spec.algorithm.bootFile", "inside codeDir"],
    ),
    (
        "subscription-half",
        {"algorithm": {"codeDir": DROP, "bootFile": DROP, "engine": DROP, "subscriptionId": "s"}},
        ["spec.algorithm.itemVersionId"],
    ),
    (
        "image-without-command",
        {
            "algorithm": {
                "codeDir": DROP,
                "bootFile": DROP,
                "engine": {"engineId": DROP, "imageUrl": "t/i:1"},
            }
        },
        ["spec.algorithm.command", "custom image"],
    ),
    (
        "install-sys-packages-alone",
        {"algorithm": {"engine": {"installSysPackages": True}}},
        ["spec.algorithm.engine.installSysPackages"],
    ),
    (
        "duplicate-parameter",
        {"algorithm": {"parameters": [{"name": "lr", "value": "1"}, {"name": "lr", "value": "2"}]}},
        ["spec.algorithm.parameters", "unique"],
    ),
    (
        "env-name",
        {"algorithm": {"environments": {"1BAD": "x"}}},
        ["spec.algorithm.environments", "^[A-Za-z_][A-Za-z0-9_]*$"],
    ),
    (
        "no-flavor-no-pool",
        {"resource": {"flavorId": DROP}},
        ["spec.resource.flavorId", "dedicated pool poolId"],
    ),
    (
        "custom-flavor-public",
        {"resource": {"mainContainerCustomizedFlavor": {"cpuCoreNum": 2, "memSize": 8}}},
        ["spec.resource.mainContainerCustomizedFlavor", "dedicated"],
    ),
    (
        "custom-flavor-zero-cpu",
        {
            "resource": {
                "poolId": "p",
                "mainContainerCustomizedFlavor": {"cpuCoreNum": 0, "memSize": 8},
            }
        },
        ["cpuCoreNum must be greater than zero"],
    ),
    (
        "federated-without-group",
        {"jobKind": "federated_pool_job"},
        ["spec.resource", "poolGroupId"],
    ),
    ("priority", {"schedulePolicy": {"priority": 4}}, ["spec.schedulePolicy.priority"]),
    (
        "selector-operator",
        {
            "schedulePolicy": {
                "requiredAffinity": {
                    "nodeAffinity": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "k", "operator": "Is"}]}
                        ]
                    }
                }
            }
        },
        ["operator"],
    ),
    ("notification-event", {"notification": {"events": ["JobExploded"]}}, ["events"]),
    (
        "metrics-path-without-port",
        {"customMetrics": [{"httpGet": {"path": "/metrics"}}]},
        ["path and port go together"],
    ),
    ("auto-stop", {"autoStop": {"duration": 0}}, ["spec.autoStop.duration"]),
    ("retries", {"features": {"faultTolerance": {"jobRetryNum": 0}}}, ["spec.features"]),
    ("previous-policy", {"previousJobPolicy": "Orphan"}, ["spec.previousJobPolicy"]),
    ("job-kind", {"jobKind": "spark_job"}, ["spec.jobKind"]),
    ("reserved-tag", {"tags": [{"key": "k8s-owner", "value": "x"}]}, ["ownership tag"]),
    ("tag-key-sys", {"tags": [{"key": "_sys_x"}]}, ["_sys_"]),
    (
        "data-source-id-and-ref",
        {
            "algorithm": {
                "summary": {"dataSources": [{"job": {"jobId": "u", "jobRef": {"name": "m"}}}]}
            }
        },
        ["dataSources[0].job.jobRef", "exactly one of jobId and jobRef"],
    ),
    (
        "data-source-neither",
        {"algorithm": {"summary": {"dataSources": [{"job": {}}]}}},
        ["exactly one of jobId and jobRef"],
    ),
]

VALID: list[tuple[str, dict[str, Any]]] = [
    ("code-engine", {}),
    (
        "visualization-by-reference",
        {
            "jobKind": "visualization_job",
            "features": {"tensorboard": True},
            "algorithm": {"summary": {"dataSources": [{"job": {"jobRef": {"name": "mnist"}}}]}},
        },
    ),
    (
        "image-alone",
        {"algorithm": {"codeDir": DROP, "bootFile": DROP, **IMAGE}},
    ),
    (
        "image-with-code",
        {"algorithm": {**IMAGE, "localCodeDir": "/home/ma-user/work/code"}},
    ),
    (
        "preset-framework-on-image",
        {
            "algorithm": {
                "engine": {
                    "engineId": DROP,
                    "engineName": "PyTorch",
                    "engineVersion": "2.1",
                    "imageUrl": "team/torch:2.1",
                    "installSysPackages": True,
                },
                "command": "python train.py",
            }
        },
    ),
    (
        "algorithm-id",
        {"algorithm": {"codeDir": DROP, "bootFile": DROP, "engine": DROP, "id": "algo-1"}},
    ),
    (
        "subscription",
        {
            "algorithm": {
                "codeDir": DROP,
                "bootFile": DROP,
                "engine": DROP,
                "subscriptionId": "sub-1",
                "itemVersionId": "v-1",
            }
        },
    ),
    # Combinations the cloud accepts (Terraform's acceptance tests send them; issue 23).
    ("algorithm-id-with-code", {"algorithm": {"id": "algo-1"}}),
    (
        "debug-job-code-and-command",
        {
            "algorithm": {
                "bootFile": DROP,
                "command": "python train.py --epochs 10",
                "engine": {"engineId": DROP, "imageUrl": "tf-acc-org/trainer:1.0"},
                "localCodeDir": "/home/ma-user/modelarts/user-job-dir",
                "workingDir": "/home/ma-user/modelarts/user-job-dir",
            },
            "runtimeType": "debug",
        },
    ),
    (
        "engine-id-with-name-and-version",
        {"algorithm": {"engine": {"engineName": "PyTorch", "engineVersion": "x"}}},
    ),
    ("log-to-obs-and-host", {"logExportPath": {"hostPath": "/var/log/training"}}),
    ("no-engine", {"algorithm": {"engine": DROP}}),
    (
        "the-apis-whole-vocabulary",
        {
            "jobKind": "job",
            "annotations": {"fault-tolerance/pod-retry-num": "3", "record/code-dir": "obs://b/c/"},
            "trainType": "SFT",
            "algorithm": {
                "parameters": [
                    {
                        "name": "lr",
                        "value": "0.01",
                        "constraint": {"type": "Float", "validType": "None"},
                        "i18nDescription": {"language": "en-us", "description": "rate"},
                    }
                ],
                "policies": {
                    "autoSearch": {
                        "rewardAttrs": [{"name": "acc", "mode": "max", "regex": "acc=(.*)"}],
                        "searchParams": [
                            {"name": "lr", "paramType": "continuous", "lowerBound": "0.001"}
                        ],
                        "algoConfigs": [{"name": "tpe", "params": [{"key": "seed", "value": "1"}]}],
                    }
                },
                "summary": {
                    "logType": "tensorboard",
                    "logDir": {"pfs": {"pfsPath": "obs://b/tb/"}},
                    "dataSources": [{"job": {"jobId": "j-1"}}],
                },
            },
            "logExportConfig": {"version": "v1", "rotationEnabled": True},
            "notification": {"topicUrn": "urn:smn:r:p:t", "events": ["JobFailed"]},
            "customMetrics": [{"exec": {"command": ["cat", "/m"]}}],
            "outputModel": {"obs": {"obsPath": "obs://b/model/"}},
            "assetModel": {"name": "m", "version": "1", "type": "LLM"},
            "reservedTime": {"timeUnit": "HOURS", "duration": 1},
            "retention": {"policy": "enabled"},
            "ftjobConfig": {"checkpointConfig": {"saveCheckpointsMax": -1, "restoreTraining": 1}},
            "tags": [{"key": "team", "value": "vision"}],
        },
    ),
    (
        "dedicated-pool-everything",
        {
            "algorithm": {
                "inputs": [
                    {"name": "ds", "remote": {"dataset": {"id": "ds-1", "versionId": "v1"}}},
                    {
                        "name": "raw",
                        "remote": {"obs": {"obsUrl": "/bucket/raw/"}},
                        "localDir": "/home/ma-user/raw",
                        "accessMethod": "env",
                    },
                ],
                "workingDir": "/home/ma-user/work",
            },
            "resource": {
                "flavorId": DROP,
                "poolId": "pool-abc",
                "nodeCount": 2,
                "mainContainerCustomizedFlavor": {"cpuCoreNum": 4, "memSize": 16},
            },
            "volumes": [
                {"nfs": {"nfsServerPath": "192.168.8.150:/", "localPath": "/mnt/sfs"}},
                {"obs": {"obsPath": "obs://bucket/ckpt/", "localPath": "/mnt/ckpt"}},
            ],
            "schedulePolicy": {"priority": 2, "preemptible": False},
            "endpoints": {"ssh": {"keyPairNames": ["kp-team"]}},
            "autoStop": {"timeUnit": "HOURS", "duration": 12},
            "experiment": {"name": "mnist-sweep"},
            "features": {
                "faultTolerance": {"jobRetryNum": 3, "hangRetry": True},
                "tensorboard": True,
                "jupyterLab": True,
            },
            "previousJobPolicy": "Delete",
            "activeDeadlineSeconds": 3600,
        },
    ),
]


@pytest.mark.parametrize(("case", "patch", "fragments"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_v2_manifest_is_refused_naming_the_field(
    cluster: ControlPlane,  # noqa: F811
    case: str,
    patch: dict[str, Any],
    fragments: list[str],
) -> None:
    result = _apply(cluster, "TrainingJob", f"v2-bad-{case}", _patched(V2, patch))
    assert result.returncode != 0, f"{case} was accepted:\n{result.stdout}"
    for fragment in fragments:
        assert fragment in result.stderr, f"{case}: {fragment!r} not in:\n{result.stderr}"


@pytest.mark.parametrize(("case", "patch"), VALID, ids=[c[0] for c in VALID])
def test_valid_v2_manifest_is_stored_unpruned(
    cluster: ControlPlane,  # noqa: F811
    case: str,
    patch: dict[str, Any],
) -> None:
    spec = _patched(V2, patch)
    result = _apply(cluster, "TrainingJob", f"v2-ok-{case}", spec)
    assert result.returncode == 0, result.stderr
    got = json.loads(
        cluster.kubectl(
            "get", "trainingjobs.modelarts.huaweicloud.com", f"v2-ok-{case}", "-n", NAMESPACE,
            "-o", "json",
        ).stdout
    )  # fmt: skip
    assert _contains(got["spec"], spec)


def test_the_form_cannot_change(cluster: ControlPlane) -> None:  # noqa: F811
    assert _apply(cluster, "TrainingJob", "v2-form", V2).returncode == 0
    to_v1 = {**{k: v for k, v in V2.items() if k not in ("algorithm", "resource", "logExportPath")}}
    result = _apply(cluster, "TrainingJob", "v2-form", {**to_v1, "config": V1_CONFIG})
    assert result.returncode != 0
    assert "cannot change" in result.stderr, result.stderr
