"""The Notebook CRD on a real kube-apiserver: bad manifests are refused at `kubectl apply`
naming the field, good ones are stored whole, and what the API cannot change after creation
(the volume, a shrinking disk, the workspace) is refused on update."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelarts_operator.crd.generate import find_root, write_crds
from modelarts_testbed.controlplane import ControlPlane

from .test_admission import DROP, _contains, _patched

pytestmark = pytest.mark.cluster

ROOT = find_root(Path(__file__).parent)
NAMESPACE = "notebook-admission"
API = "modelarts.huaweicloud.com/v1alpha1"

BASE: dict[str, Any] = {
    "image": {"name": "notebook2.0-mul-kernel-cpu-cp36", "tag": "3.3.2-release-v1"},
    "flavor": "modelarts.vm.cpu.2u",
    "volume": {"category": "EVS", "capacity": 10},
}

INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    ("no-image", {"image": DROP}, ["spec.image", "Required"]),
    (
        "image-id-and-name",
        {"image": {"id": "e1a07296-22a8-4f05-8bc8-e936c8e54090", "name": "x"}},
        ["spec.image", "exactly one of image.id and image.name"],
    ),
    (
        "image-neither",
        {"image": {"name": DROP, "tag": DROP}},
        ["exactly one of image.id and image.name"],
    ),
    (
        "tag-without-name",
        {"image": {"id": "e1a07296-22a8-4f05-8bc8-e936c8e54090", "name": DROP}},
        ["image.tag goes with image.name"],
    ),
    ("no-compute", {"flavor": DROP}, ["spec.flavor", "give flavor or customSpec"]),
    (
        "custom-without-pool",
        {"flavor": DROP, "customSpec": {"cpu": 2, "memory": 4096}},
        ["spec.poolId", "customSpec needs poolId"],
    ),
    (
        "custom-cpu-too-small",
        {"flavor": DROP, "poolId": "p", "customSpec": {"cpu": 0.1, "memory": 4096}},
        ["spec.customSpec.cpu"],
    ),
    (
        "custom-memory-too-small",
        {"flavor": DROP, "poolId": "p", "customSpec": {"cpu": 1, "memory": 512}},
        ["spec.customSpec.memory"],
    ),
    ("volume-category", {"volume": {"category": "NAS"}}, ["spec.volume.category"]),
    ("evs-too-large", {"volume": {"capacity": 5000}}, ["spec.volume.capacity"]),
    (
        "dedicated-obs-without-uri",
        {"volume": {"category": "OBS", "ownership": "DEDICATED", "dewSecretName": "s"}},
        ["spec.volume.uri", "needs uri"],
    ),
    (
        "obs-without-secret",
        {"volume": {"category": "OBS", "capacity": DROP, "uri": "obs://b/d/"}},
        ["spec.volume.dewSecretName"],
    ),
    (
        "efs-dedicated-without-id",
        {
            "volume": {
                "category": "EFS",
                "ownership": "DEDICATED",
                "capacity": DROP,
                "uri": "192.168.0.1:/share",
            }
        },
        ["spec.volume.id", "SFS Turbo"],
    ),
    ("mount-too-long", {"volume": {"mountPath": "/" + "m" * 300}}, ["spec.volume.mountPath"]),
    ("lease-too-short", {"lease": {"durationMinutes": 30}}, ["spec.lease.durationMinutes"]),
    ("lease-too-long", {"lease": {"durationMinutes": 5000}}, ["spec.lease.durationMinutes"]),
    ("lease-type", {"lease": {"type": "FOREVER"}}, ["spec.lease.type"]),
    ("ssh-without-keys", {"ssh": {"keyPairNames": []}}, ["spec.ssh.keyPairNames"]),
    (
        "ssh-too-many-ips",
        {"ssh": {"keyPairNames": ["k"], "allowedAccessIps": ["1.1.1.1"] * 6}},
        ["spec.ssh.allowedAccessIps"],
    ),
    ("name-pattern", {"name": "bad name!"}, ["spec.name"]),
    ("name-too-long", {"name": "n" * 129}, ["spec.name"]),
    ("description-angle", {"description": "<script>"}, ["spec.description"]),
    (
        "workspace-ref-and-id",
        {"workspaceRef": {"name": "ws"}, "workspaceId": "0"},
        ["workspaceRef and workspaceId are mutually exclusive"],
    ),
]

VALID: list[tuple[str, dict[str, Any]]] = [
    ("by-name", {}),
    (
        "by-id",
        {"image": {"id": "e1a07296-22a8-4f05-8bc8-e936c8e54090", "name": DROP, "tag": DROP}},
    ),
    (
        "custom-spec-on-pool",
        {
            "flavor": DROP,
            "poolId": "pool41664192",
            "customSpec": {"cpu": 0.5, "memory": 1024, "arch": "X86_64", "category": "CPU"},
        },
    ),
    (
        "obs-volume",
        {
            "volume": {
                "category": "OBS",
                "capacity": DROP,
                "uri": "obs://bucket/dir/",
                "dewSecretName": "obs-keys",
            }
        },
    ),
    (
        "efs-volume",
        {
            "volume": {
                "category": "EFS",
                "ownership": "DEDICATED",
                "capacity": DROP,
                "uri": "192.168.0.1:/share",
                "id": "0b7b8d54-8f7c-4b4e-9a39-9a1f4d0c6b1a",
                "mountPath": "/home/ma-user/work/share",
            }
        },
    ),
    (
        "lease-ssh-stopped",
        {
            "lease": {"type": "IDLE", "durationMinutes": 4320},
            "ssh": {"keyPairNames": ["dev-key"], "allowedAccessIps": ["10.0.0.0/8"]},
            "stopped": True,
            "restartToken": "2026-12-02",
            "workspaceRef": {"name": "team"},
        },
    ),
    (
        "the-apis-whole-vocabulary",
        {
            "feature": "NOTEBOOK",
            "volume": {"category": "evs", "ownership": "managed", "capacity": 20},
            "hooks": {
                "containerHooks": {
                    "preStart": {"script": "/home/ma-user/pre.sh", "type": "SCRIPT"},
                    "postStart": {"script": "ZWNobyBvaw==", "type": "COMMAND", "mode": "BLOCK"},
                }
            },
            "affinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"key": "os.modelarts/node", "operator": "In", "values": ["n1"]}
                ]
            },
            "runUser": {"uid": 1000, "gid": 100},
            "dataVolumes": [
                {
                    "category": "OBSFS",
                    "ownership": "DEDICATED",
                    "uri": "obs://bucket/data/",
                    "mountPath": "/data",
                }
            ],
            "userVpc": {"vpcId": "vpc-1", "subnetId": "subnet-1", "securityGroupIds": ["sg-1"]},
            "publicNetworkConfig": {"publicNetworkType": "EXCLUSIVE"},
            "tags": [{"key": "team", "value": "vision"}],
        },
    ),
]


def _apply(cp: ControlPlane, name: str, spec: dict[str, Any]) -> Any:
    doc = {"apiVersion": API, "kind": "Notebook", "metadata": {"name": name}, "spec": spec}
    return cp.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=json.dumps(doc), check=False)


@pytest.fixture(scope="module")
def cluster(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    out = tmp_path_factory.mktemp("crds")
    write_crds(out)
    control_plane.install_crds(sorted((out / "crds").glob("*.yaml")))
    control_plane.kubectl("create", "namespace", NAMESPACE, check=False)
    return control_plane


@pytest.mark.parametrize(("case", "patch", "fragments"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_notebook_is_refused_naming_the_field(
    cluster: ControlPlane, case: str, patch: dict[str, Any], fragments: list[str]
) -> None:
    result = _apply(cluster, f"bad-{case}", _patched(BASE, patch))
    assert result.returncode != 0, f"{case} was accepted:\n{result.stdout}"
    for fragment in fragments:
        assert fragment in result.stderr, f"{case}: {fragment!r} not in:\n{result.stderr}"


@pytest.mark.parametrize(("case", "patch"), VALID, ids=[c[0] for c in VALID])
def test_valid_notebook_is_stored_whole(
    cluster: ControlPlane, case: str, patch: dict[str, Any]
) -> None:
    spec = _patched(BASE, patch)
    result = _apply(cluster, f"ok-{case}", spec)
    assert result.returncode == 0, result.stderr
    got = json.loads(
        cluster.kubectl("get", "manb", f"ok-{case}", "-n", NAMESPACE, "-o", "json").stdout
    )
    assert _contains(got["spec"], spec)  # nothing pruned
    assert got["spec"]["stopped"] is spec.get("stopped", False)


@pytest.mark.parametrize(
    ("case", "change", "fragment"),
    [
        ("shrink", {"volume": {"category": "EVS", "capacity": 5}}, "an EVS volume can only grow"),
        (
            "category",
            {"volume": {"category": "OBSFS", "uri": "obs://b/d/"}},
            "the volume cannot be changed after creation",
        ),
        (
            "mount-path",
            {"volume": {"category": "EVS", "capacity": 10, "mountPath": "/home/ma-user/work/x"}},
            "the volume cannot be changed after creation",
        ),
        ("workspace", {"workspaceId": "0" * 31 + "1"}, "workspaceId is immutable"),
        ("run-user", {"runUser": {"uid": 1000, "gid": 100}}, "runUser is set at creation"),
        (
            "network",
            {"publicNetworkConfig": {"publicNetworkType": "SHARED"}},
            "publicNetworkConfig is set at creation",
        ),
    ],
)
def test_what_cannot_change_after_creation_is_refused(
    cluster: ControlPlane, case: str, change: dict[str, Any], fragment: str
) -> None:
    name = f"imm-{case}"
    assert _apply(cluster, name, BASE).returncode == 0
    result = _apply(cluster, name, {**BASE, **change})
    assert result.returncode != 0, f"update accepted: {change}"
    assert fragment in result.stderr, result.stderr


def test_what_the_api_changes_is_accepted(cluster: ControlPlane) -> None:
    """Grow the disk, swap image and flavor, rename, stop: all allowed (the operator applies
    the stopped-only ones once the notebook is stopped)."""
    assert _apply(cluster, "mut", BASE).returncode == 0
    change = {
        **BASE,
        "volume": {"category": "EVS", "capacity": 20},
        "image": {"id": "278e88d1-5b71-4766-8502-b3ba72e824d9"},
        "flavor": "modelarts.vm.cpu.8u",
        "name": "renamed",
        "stopped": True,
        "tags": [{"key": "team", "value": "ml"}],
    }
    result = _apply(cluster, "mut", change)
    assert result.returncode == 0, result.stderr


def test_printer_columns_and_category(cluster: ControlPlane) -> None:
    assert _apply(cluster, "cols", BASE).returncode == 0
    header = cluster.kubectl("get", "manb", "-n", NAMESPACE).stdout.splitlines()[0].split()
    assert header == ["NAME", "PHASE", "URL", "AGE"]
    listed = cluster.kubectl("get", "modelarts", "-n", NAMESPACE, "-o", "name").stdout.split()
    assert "notebook.modelarts.huaweicloud.com/cols" in listed


def test_notebook_example_is_accepted(cluster: ControlPlane) -> None:
    example = ROOT / "examples" / "notebook" / "notebook.yaml"
    result = cluster.kubectl("apply", "-n", NAMESPACE, "-f", str(example), check=False)
    assert result.returncode == 0, result.stderr
    got = json.loads(cluster.kubectl("get", "manb", "alice", "-n", NAMESPACE, "-o", "json").stdout)
    assert got["spec"]["image"]["tag"] == "3.3.2-release-v1"
