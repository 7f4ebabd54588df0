"""The generated CRDs on a real kube-apiserver: bad manifests are refused at `kubectl apply`
with a message naming the field, good ones are accepted, and immutable fields stay put."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.crd.generate import find_root, write_crds
from modelarts_testbed.controlplane import ControlPlane

pytestmark = pytest.mark.cluster

ROOT = find_root(Path(__file__).parent)
NAMESPACE = "crd-admission"
API = "modelarts.huaweicloud.com/v1alpha1"
LONG = "x" * 300

BASE: dict[str, dict[str, Any]] = {
    "Workspace": {"name": "team-ws", "authType": "PUBLIC"},
    "TrainingJob": {
        "workspaceRef": {"name": "demo"},
        "config": {
            "workerServerNum": 1,
            "appUrl": "/b/code/",
            "bootFileUrl": "/b/code/train.py",
            "engineId": 1,
            "specId": 1,
            "dataUrl": "/b/data/",
            "trainUrl": "/b/out/",
        },
    },
    "Model": {
        "workspaceRef": {"name": "demo"},
        "trainingJobRef": {"name": "mnist"},
        "modelVersion": "1.0.0",
        "modelType": "TensorFlow",
    },
    "Service": {
        "workspaceRef": {"name": "demo"},
        "inferType": "real-time",
        "config": [
            {
                "modelRef": {"name": "mnist-v1"},
                "weight": 100,
                "specification": "modelarts.vm.cpu.2u",
                "instanceCount": 1,
            }
        ],
    },
}

DROP = object()  # patch value meaning "remove this key"


def _patched(base: Any, patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = _patched(out.get(key), value)
    return out


def _contains(stored: Any, sent: Any) -> bool:
    """``sent`` is a sub-document of ``stored`` (the server may only add defaults)."""
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(
            key in stored and _contains(stored[key], value) for key, value in sent.items()
        )
    if isinstance(sent, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(sent)
            and all(_contains(a, b) for a, b in zip(stored, sent, strict=True))
        )
    return bool(stored == sent)


BATCH_CONFIG = {
    "modelId": "m-1",
    "specification": "modelarts.vm.cpu.2u",
    "instanceCount": 1,
    "srcPath": "/b/in/",
    "destPath": "/b/out/",
    "reqUri": "/",
    "mappingType": "file",
}
EDGE_CONFIG = {"modelId": "m-1", "specification": "modelarts.vm.cpu.2u", "nodes": ["node-1"]}

# (id, kind, patch applied to BASE[kind]["spec"], fragments stderr must contain)
INVALID: list[tuple[str, str, dict[str, Any], list[str]]] = [
    # Workspace
    ("ws-name-short", "Workspace", {"name": "abc"}, ["spec.name"]),
    ("ws-name-default", "Workspace", {"name": "default"}, ["spec.name", "reserved"]),
    ("ws-name-chars", "Workspace", {"name": "bad name!"}, ["spec.name"]),
    ("ws-auth-enum", "Workspace", {"authType": "open"}, ["spec.authType"]),
    (
        "ws-grant-user-type",
        "Workspace",
        {"grants": [{"userName": "u", "userType": "ROBOT"}]},
        ["spec.grants[0].userType"],
    ),
    ("ws-grant-empty", "Workspace", {"authType": "INTERNAL", "grants": [{}]}, ["spec.grants[0]"]),
    ("ws-desc-long", "Workspace", {"description": LONG}, ["spec.description"]),
    ("ws-policy", "Workspace", {"deletionPolicy": "Orphan"}, ["spec.deletionPolicy"]),
    ("ws-eps", "Workspace", {"enterpriseProjectId": "e" * 200}, ["spec.enterpriseProjectId"]),
    ("ws-unknown", "Workspace", {"nmae": "team-ws"}, ["spec.nmae"]),
    # TrainingJob
    ("tj-name-chars", "TrainingJob", {"jobName": "bad name"}, ["spec.jobName"]),
    ("tj-name-long", "TrainingJob", {"jobName": "j" * 65}, ["spec.jobName"]),
    (
        "tj-data-two",
        "TrainingJob",
        {"config": {"dataSource": [{"type": "obs", "dataUrl": "/b/d/"}]}},
        ["spec.config", "exactly one data source"],
    ),
    ("tj-data-none", "TrainingJob", {"config": {"dataUrl": DROP}}, ["spec.config", "dataUrl"]),
    (
        "tj-dataset-half",
        "TrainingJob",
        {"config": {"dataUrl": DROP, "datasetId": "ds-1"}},
        ["spec.config.datasetVersionId"],
    ),
    (
        "tj-code-two",
        "TrainingJob",
        {"config": {"modelId": 4}},
        ["spec.config", "exactly one code source"],
    ),
    (
        "tj-code-none",
        "TrainingJob",
        {"config": {"appUrl": DROP, "bootFileUrl": DROP, "engineId": DROP}},
        ["spec.config", "exactly one code source"],
    ),
    (
        "tj-code-partial",
        "TrainingJob",
        {"config": {"engineId": DROP}},
        ["spec.config.bootFileUrl", "set together"],
    ),
    (
        "tj-usercommand-alone",
        "TrainingJob",
        {"config": {"bootFileUrl": DROP, "engineId": DROP, "modelId": 4, "userCommand": "run"}},
        ["spec.config.userCommand"],
    ),
    (
        "tj-workers-zero",
        "TrainingJob",
        {"config": {"workerServerNum": 0}},
        ["spec.config.workerServerNum"],
    ),
    ("tj-spec-missing", "TrainingJob", {"config": {"specId": DROP}}, ["spec.config.specId"]),
    ("tj-train-missing", "TrainingJob", {"config": {"trainUrl": DROP}}, ["spec.config.trainUrl"]),
    (
        "tj-source-obs-nourl",
        "TrainingJob",
        {"config": {"dataUrl": DROP, "dataSource": [{"type": "obs", "datasetId": "d"}]}},
        ["spec.config.dataSource[0]", "type obs"],
    ),
    (
        "tj-source-type",
        "TrainingJob",
        {"config": {"dataUrl": DROP, "dataSource": [{"type": "s3", "dataUrl": "/b/"}]}},
        ["spec.config.dataSource[0].type"],
    ),
    (
        "tj-volume-both",
        "TrainingJob",
        {
            "config": {
                "volumes": [
                    {
                        "nfs": {"id": "n", "srcPath": "1.2.3.4:/", "destPath": "/m"},
                        "hostPath": {"srcPath": "/h", "destPath": "/m"},
                    }
                ]
            }
        },
        ["spec.config.volumes[0]", "nfs or hostPath"],
    ),
    (
        "tj-workspace-both",
        "TrainingJob",
        {"workspaceId": "0"},
        ["spec.workspaceRef", "mutually exclusive"],
    ),
    (
        "tj-workspace-id",
        "TrainingJob",
        {"workspaceRef": DROP, "workspaceId": "abc"},
        ["spec.workspaceId"],
    ),
    ("tj-deadline", "TrainingJob", {"activeDeadlineSeconds": 0}, ["spec.activeDeadlineSeconds"]),
    ("tj-ttl", "TrainingJob", {"ttlSecondsAfterFinished": -1}, ["spec.ttlSecondsAfterFinished"]),
    ("tj-desc-long", "TrainingJob", {"jobDesc": LONG}, ["spec.jobDesc"]),
    ("tj-config-missing", "TrainingJob", {"config": DROP}, ["spec", "set exactly one form"]),
    # Model
    ("m-version-zero", "Model", {"modelVersion": "01.0.0"}, ["spec.modelVersion"]),
    ("m-version-missing", "Model", {"modelVersion": DROP}, ["spec.modelVersion", "required"]),
    ("m-type-enum", "Model", {"modelType": "Keras"}, ["spec.modelType"]),
    ("m-source-both", "Model", {"sourceLocation": "/b/model/"}, ["spec.sourceLocation"]),
    ("m-source-none", "Model", {"trainingJobRef": DROP}, ["spec.sourceLocation"]),
    ("m-source-job", "Model", {"sourceJobId": "10"}, ["spec.trainingJobRef"]),
    ("m-desc-chars", "Model", {"description": "a <b>"}, ["spec.description"]),
    # 72 characters: within the API's 100, but not with the ownership marker after it.
    ("m-desc-marker-room", "Model", {"description": "x" * 72}, ["spec.description"]),
    ("m-algorithm", "Model", {"modelAlgorithm": "1abc"}, ["spec.modelAlgorithm"]),
    ("m-install-type", "Model", {"installType": ["realtime"]}, ["spec.installType[0]"]),
    (
        "m-docs-four",
        "Model",
        {"modelDocs": [{"docName": f"d{i}", "docUrl": "https://d/"} for i in range(4)]},
        ["spec.modelDocs"],
    ),
    (
        "m-restraint",
        "Model",
        {
            "dependencies": [
                {
                    "installer": "pip",
                    "packages": [{"packageName": "numpy", "packageVersion": "1.0"}],
                }
            ]
        },
        ["spec.dependencies[0].packages[0].restraint"],
    ),
    (
        "m-installer",
        "Model",
        {"dependencies": [{"installer": "conda", "packages": [{"packageName": "numpy"}]}]},
        ["spec.dependencies[0].installer"],
    ),
    ("m-template", "Model", {"modelType": "Template"}, ["spec.template"]),
    (
        "m-llm-mixed",
        "Model",
        {
            "llm": {
                "workspaceId": "ws-1",
                "version": {
                    "name": "v1",
                    "config": {
                        "llmModelConfig": {
                            "baseModelType": "llama3",
                            "modelPath": "obs://bucket/m/",
                        }
                    },
                },
            },
            "workspaceRef": DROP,
        },
        ["spec.llm", "cannot be combined"],
    ),
    (
        "m-llm-workspace",
        "Model",
        {
            "workspaceRef": DROP,
            "trainingJobRef": DROP,
            "modelVersion": DROP,
            "modelType": DROP,
            "llm": {
                "workspaceId": "ws_1",
                "version": {
                    "name": "v1",
                    "config": {
                        "llmModelConfig": {
                            "baseModelType": "llama3",
                            "modelPath": "obs://bucket/m/",
                        }
                    },
                },
            },
        },
        ["spec.llm.workspaceId"],
    ),
    ("m-name-chars", "Model", {"modelName": "a/b"}, ["spec.modelName"]),
    ("m-ref-name", "Model", {"trainingJobRef": {"name": "Bad_Name"}}, ["spec.trainingJobRef.name"]),
    # Service
    ("s-infer-type", "Service", {"inferType": "stream"}, ["spec.inferType"]),
    ("s-desc-marker-room", "Service", {"description": "x" * 72}, ["spec.description"]),
    (
        "s-model-both",
        "Service",
        {"config": [{**BASE["Service"]["config"][0], "modelId": "m-1"}]},
        ["spec.config[0].modelRef", "exactly one"],
    ),
    (
        "s-model-none",
        "Service",
        {"config": [_patched(BASE["Service"]["config"][0], {"modelRef": DROP})]},
        ["spec.config[0].modelRef"],
    ),
    (
        "s-weights-sum",
        "Service",
        {"config": [{**BASE["Service"]["config"][0], "weight": 90}]},
        ["spec.config", "sum to 100"],
    ),
    (
        "s-weight-missing",
        "Service",
        {"config": [_patched(BASE["Service"]["config"][0], {"weight": DROP})]},
        ["spec.config", "weight"],
    ),
    (
        "s-instances-zero",
        "Service",
        {"config": [{**BASE["Service"]["config"][0], "instanceCount": 0}]},
        ["spec.config[0].instanceCount"],
    ),
    (
        "s-batch-two",
        "Service",
        {"inferType": "batch", "config": [BATCH_CONFIG, BATCH_CONFIG]},
        ["spec.config", "exactly one config item"],
    ),
    (
        "s-batch-src",
        "Service",
        {"inferType": "batch", "config": [_patched(BATCH_CONFIG, {"srcPath": DROP})]},
        ["spec.config", "srcPath"],
    ),
    (
        "s-batch-csv",
        "Service",
        {"inferType": "batch", "config": [{**BATCH_CONFIG, "mappingType": "csv"}]},
        ["spec.config[0].mappingRule"],
    ),
    (
        "s-edge-nodes",
        "Service",
        {"inferType": "edge", "config": [_patched(EDGE_CONFIG, {"nodes": DROP})]},
        ["spec.config", "nodes"],
    ),
    (
        "s-schedule-batch",
        "Service",
        {
            "inferType": "batch",
            "config": [BATCH_CONFIG],
            "schedule": [{"type": "stop", "timeUnit": "HOURS", "duration": 1}],
        },
        ["spec.schedule", "real-time"],
    ),
    (
        "s-schedule-unit",
        "Service",
        {"schedule": [{"type": "stop", "timeUnit": "WEEKS", "duration": 1}]},
        ["spec.schedule[0].timeUnit"],
    ),
    ("s-vpc-alone", "Service", {"vpcId": "vpc-1"}, ["spec.vpcId", "subnetNetworkId"]),
    (
        "s-export-name",
        "Service",
        {"exportTo": {"configMapName": "Bad_Name"}},
        ["spec.exportTo.configMapName"],
    ),
    ("s-config-empty", "Service", {"config": []}, ["spec.config"]),
    ("s-name-chars", "Service", {"serviceName": "bad name"}, ["spec.serviceName"]),
    (
        "s-smn-event",
        "Service",
        {"additionalProperties": {"smnNotification": {"topicUrn": "urn:smn:x", "events": [2]}}},
        ["spec.additionalProperties.smnNotification.events[0]"],
    ),
    (
        "s-specification",
        "Service",
        {"config": [{**BASE["Service"]["config"][0], "specification": "bad spec!"}]},
        ["spec.config[0].specification"],
    ),
    ("s-stopped-type", "Service", {"stopped": "yes"}, ["spec.stopped"]),
    (
        "s-nodes-realtime",
        "Service",
        {"config": [{**BASE["Service"]["config"][0], "nodes": ["n1"]}]},
        ["spec.config", "edge services only"],
    ),
]

VALID: list[tuple[str, str, dict[str, Any]]] = [
    (
        "ws-internal",
        "Workspace",
        {"name": "训练空间-01", "authType": "INTERNAL", "grants": [{"userName": "alice"}]},
    ),
    (
        # The 2020 reference's example and Terraform write auth_type in lower case; grants on a
        # PUBLIC workspace only take no effect (SDK), they are not refused.
        "ws-lower-case",
        "Workspace",
        {"authType": "internal", "grants": [{"userId": "u-1", "userType": "FEDERATE"}]},
    ),
    ("ws-grants-public", "Workspace", {"grants": [{"userName": "u"}]}),
    (
        "tj-dataset",
        "TrainingJob",
        {"config": {"dataUrl": DROP, "datasetId": "ds-1", "datasetVersionId": "v-1"}},
    ),
    (
        "tj-custom-image",
        "TrainingJob",
        {
            "workspaceRef": DROP,
            "workspaceId": "0",
            "config": {
                "bootFileUrl": DROP,
                "engineId": DROP,
                "userImageUrl": "swr/x/train:1.0",
                "userCommand": "bash /home/work/run_train.sh python train.py",
            },
        },
    ),
    (
        "tj-builtin",
        "TrainingJob",
        {
            "config": {
                "appUrl": DROP,
                "bootFileUrl": DROP,
                "engineId": DROP,
                "modelId": 4,
                "dataUrl": DROP,
                "dataSource": [{"type": "dataset", "datasetId": "d", "datasetVersion": "v"}],
                "volumes": [{"hostPath": {"srcPath": "/h", "destPath": "/m"}}],
            }
        },
    ),
    (
        "m-obs",
        "Model",
        {
            "trainingJobRef": DROP,
            "sourceLocation": "https://b.obs/model/",
            "modelName": "手写数字",
            "installType": ["real-time", "edge"],
            "apis": [
                {
                    "url": "/",
                    "method": "post",
                    "protocol": "http",
                    "inputParams": {"type": "object", "properties": {"x": {"type": "string"}}},
                }
            ],
        },
    ),
    (
        "m-template",
        "Model",
        {
            "trainingJobRef": DROP,
            "sourceLocation": "/b/m/",
            "modelType": "Template",
            "template": {
                "templateId": "t-1",
                "templateInputs": [{"input": "/b/i/", "inputId": "i"}],
            },
        },
    ),
    (
        "m-llm",
        "Model",
        {
            "workspaceRef": DROP,
            "trainingJobRef": DROP,
            "modelVersion": DROP,
            "modelType": DROP,
            "llm": {
                "workspaceId": "ws-1",
                "name": "LLama3 8b.v1",
                "version": {
                    "name": "v1",
                    "config": {
                        "llmModelConfig": {
                            "baseModelType": "llama3",
                            "modelPath": "obs://bucket/m/",
                        }
                    },
                },
            },
        },
    ),
    (
        "s-two-models",
        "Service",
        {
            "config": [
                {**BASE["Service"]["config"][0], "weight": 70},
                {
                    "modelId": "m-2",
                    "weight": 30,
                    "specification": "custom",
                    "customSpec": {"cpu": 1.5, "memory": 7500},
                    "instanceCount": 2,
                },
            ],
            "additionalProperties": {
                "smnNotification": {"topicUrn": "urn:smn:x", "events": [1, 3]},
                "other": {"kept": True},
            },
        },
    ),
    (
        "s-batch-csv",
        "Service",
        {
            "inferType": "batch",
            "config": [
                {
                    **BATCH_CONFIG,
                    "mappingType": "csv",
                    "mappingRule": {"type": "object", "properties": {"a": {"index": 0}}},
                }
            ],
        },
    ),
    ("s-edge", "Service", {"inferType": "edge", "config": [EDGE_CONFIG], "stopped": True}),
]


def _manifest(kind: str, name: str, spec: dict[str, Any]) -> str:
    doc = {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}
    return json.dumps(doc)


def _apply(cp: ControlPlane, kind: str, name: str, spec: dict[str, Any]) -> Any:
    return cp.kubectl(
        "apply", "-n", NAMESPACE, "-f", "-", input=_manifest(kind, name, spec), check=False
    )


@pytest.fixture(scope="module")
def cluster(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    """The control plane with freshly generated CRDs installed and a test namespace."""
    out = tmp_path_factory.mktemp("crds")
    write_crds(out)
    control_plane.install_crds(sorted((out / "crds").glob("*.yaml")))
    control_plane.kubectl("create", "namespace", NAMESPACE, check=False)
    return control_plane


@pytest.mark.parametrize(
    ("case", "kind", "patch", "fragments"), INVALID, ids=[c[0] for c in INVALID]
)
def test_invalid_manifest_is_refused_naming_the_field(
    cluster: ControlPlane, case: str, kind: str, patch: dict[str, Any], fragments: list[str]
) -> None:
    result = _apply(cluster, kind, f"bad-{case}", _patched(BASE[kind], patch))
    assert result.returncode != 0, f"{case} was accepted:\n{result.stdout}"
    for fragment in fragments:
        assert fragment in result.stderr, f"{case}: {fragment!r} not in:\n{result.stderr}"


def test_table_is_large_and_covers_every_kind() -> None:
    assert len(INVALID) >= 40
    assert {kind for _, kind, _, _ in INVALID} == set(BASE)
    assert len({case for case, _, _, _ in INVALID}) == len(INVALID)


@pytest.mark.parametrize(("case", "kind", "patch"), VALID, ids=[c[0] for c in VALID])
def test_valid_manifest_is_accepted(
    cluster: ControlPlane, case: str, kind: str, patch: dict[str, Any]
) -> None:
    spec = _patched(BASE[kind], patch)
    result = _apply(cluster, kind, f"ok-{case}", spec)
    assert result.returncode == 0, result.stderr
    got = json.loads(
        cluster.kubectl(
            "get",
            kind.lower() + "s.modelarts.huaweicloud.com",
            f"ok-{case}",
            "-n",
            NAMESPACE,
            "-o",
            "json",
        ).stdout
    )
    # nothing pruned: every field we sent is stored (defaults may be added)
    assert _contains(got["spec"], spec)


def test_examples_are_accepted_and_listed_by_category(cluster: ControlPlane) -> None:
    examples = ROOT / "examples"
    for path in [*sorted(examples.glob("*.yaml")), examples / "v1" / "trainingjob-v1.yaml"]:
        result = cluster.kubectl("apply", "-n", NAMESPACE, "-f", str(path), check=False)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"
    listed = cluster.kubectl("get", "modelarts", "-n", NAMESPACE, "-o", "name").stdout.split()
    for name in (
        "network.modelarts.huaweicloud.com/demo-net",
        "resourcepool.modelarts.huaweicloud.com/demo-pool",
        "algorithm.modelarts.huaweicloud.com/mnist",
        "workspace.modelarts.huaweicloud.com/demo",
        "trainingjob.modelarts.huaweicloud.com/mnist",
        "model.modelarts.huaweicloud.com/mnist-v1",
        "service.modelarts.huaweicloud.com/mnist",
    ):
        assert name in listed
    table = cluster.kubectl("get", "masvc", "-n", NAMESPACE).stdout
    header = table.splitlines()[0].split()
    assert header[:5] == ["NAME", "PHASE", "TYPE", "SERVICE-ID", "URL"]
    job = json.loads(cluster.kubectl("get", "matj", "mnist", "-n", NAMESPACE, "-o", "json").stdout)
    assert job["spec"]["deletionPolicy"] == "Delete"  # schema default applied
    # The example is the v2 form; parameters without a value get the schema's "".
    assert "config" not in job["spec"]
    assert job["spec"]["resource"]["poolRef"] == {"name": "demo-pool"}
    v1 = cluster.kubectl("get", "matj", "mnist-v1-form", "-n", NAMESPACE, "-o", "json").stdout
    assert json.loads(v1)["spec"]["config"]["createVersion"] is True  # the v1 form's default


def _create(cluster: ControlPlane, kind: str, name: str, spec: dict[str, Any]) -> None:
    result = _apply(cluster, kind, name, spec)
    assert result.returncode == 0, result.stderr


def test_model_spec_is_immutable(cluster: ControlPlane) -> None:
    _create(cluster, "Model", "imm-model", BASE["Model"])
    changed = _apply(cluster, "Model", "imm-model", {**BASE["Model"], "modelVersion": "1.0.1"})
    assert changed.returncode != 0
    assert "spec: Forbidden: Model spec is immutable" in changed.stderr
    same = _apply(cluster, "Model", "imm-model", BASE["Model"])
    assert same.returncode == 0, same.stderr


@pytest.mark.parametrize(
    ("kind", "initial", "change", "fragment"),
    [
        ("TrainingJob", {"jobName": "job-a"}, {"jobName": "job-b"}, "spec.jobName"),
        ("TrainingJob", {"jobName": "job-a"}, {"jobName": DROP}, "spec.jobName"),
        ("TrainingJob", {}, {"workspaceRef": {"name": "other"}}, "spec.workspaceRef"),
        ("TrainingJob", {}, {"workspaceRef": DROP, "workspaceId": "a" * 32}, "spec.workspaceId"),
        ("Service", {}, {"inferType": "edge", "config": [EDGE_CONFIG]}, "spec.inferType"),
        ("Service", {"serviceName": "svc-a"}, {"serviceName": "svc-b"}, "spec.serviceName"),
        ("Service", {"clusterId": "c-1"}, {"clusterId": "c-2"}, "spec.clusterId"),
        (
            "Workspace",
            {"enterpriseProjectId": "0"},
            {"enterpriseProjectId": "abc-1"},
            "spec.enterpriseProjectId",
        ),
    ],
)
def test_immutable_fields_refuse_updates(
    cluster: ControlPlane,
    kind: str,
    initial: dict[str, Any],
    change: dict[str, Any],
    fragment: str,
) -> None:
    name = f"imm-{kind.lower()}-{abs(hash(json.dumps(change, default=str))) % 10**8}"
    spec = _patched(BASE[kind], initial)
    _create(cluster, kind, name, spec)
    result = _apply(cluster, kind, name, _patched(spec, change))
    assert result.returncode != 0, f"update accepted: {change}"
    assert fragment in result.stderr, result.stderr
    assert "immutable" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("TrainingJob", {"jobDesc": "new", "config": {"workerServerNum": 2}}),
        (
            "Service",
            {
                "stopped": True,
                "description": "paused",
                "config": [{**BASE["Service"]["config"][0], "instanceCount": 3}],
            },
        ),
        ("Workspace", {"name": "renamed-ws", "description": "d"}),
    ],
)
def test_mutable_fields_accept_updates(
    cluster: ControlPlane, kind: str, change: dict[str, Any]
) -> None:
    name = f"mut-{kind.lower()}"
    _create(cluster, kind, name, BASE[kind])
    result = _apply(cluster, kind, name, _patched(BASE[kind], change))
    assert result.returncode == 0, result.stderr


def test_status_subresource_accepts_operator_status(cluster: ControlPlane) -> None:
    _create(cluster, "Service", "status-svc", BASE["Service"])
    status = {
        "status": {
            "observedGeneration": 1,
            "phase": "Ready",
            "serviceId": "s-123",
            "accessAddress": "https://infer.example/v1/infers/s-123",
            "remoteStatus": "running",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Running",
                    "message": "",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                    "observedGeneration": 1,
                }
            ],
        }
    }
    cluster.kubectl(
        "patch",
        "masvc",
        "status-svc",
        "-n",
        NAMESPACE,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )
    table = cluster.kubectl("get", "masvc", "status-svc", "-n", NAMESPACE).stdout
    assert "https://infer.example/v1/infers/s-123" in table
    assert "Ready" in table
    got = yaml.safe_load(
        cluster.kubectl("get", "masvc", "status-svc", "-n", NAMESPACE, "-o", "yaml").stdout
    )
    assert got["status"]["serviceId"] == "s-123"
