"""The Service CRD's v2 form on a real kube-apiserver: exclusive with the v1 form, bad v2
manifests refused naming the field, good ones stored whole, and a changed configuration
refused unless it comes with a new version."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelarts_operator.crd.generate import find_root, write_crds
from modelarts_testbed.controlplane import ControlPlane

from .test_admission import BASE as V1_BASE
from .test_admission import DROP, _contains, _patched

pytestmark = pytest.mark.cluster

NAMESPACE = "svc2-admission"
API = "modelarts.huaweicloud.com/v1alpha1"

UNIT: dict[str, Any] = {
    "image": {"source": "SWR", "swrPath": "swr.example.com/team/infer:1.0"},
    "flavor": "modelarts.vm.cpu.2u",
    "count": 1,
    "port": 8080,
}
LIMIT: dict[str, Any] = {
    "rateLimit": {"num": 100, "unit": "SECONDS"},
    "requestSizeLimit": 10,
    "requestTimeout": 60,
}
FORM: dict[str, Any] = {
    "version": "1.0.0",
    "groupConfigs": [{"name": "main", "poolId": "pool-1", "weight": 100, "unitConfigs": [UNIT]}],
    "runtimeConfig": {
        "serviceInvoke": {"port": 8080, "protocol": "HTTP", "authType": "TOKEN"},
        "serviceLimit": LIMIT,
    },
}
BASE: dict[str, Any] = {"v2": FORM}


def unit(**changes: Any) -> dict[str, Any]:
    """spec patch replacing the one unit with UNIT patched by ``changes``."""
    group = {**FORM["groupConfigs"][0], "unitConfigs": [_patched(UNIT, changes)]}
    return {"v2": {"groupConfigs": [group]}}


INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "both-forms",
        {"inferType": "real-time", "config": V1_BASE["Service"]["config"]},
        ["give exactly one form"],
    ),
    ("infer-type-with-v2", {"inferType": "real-time"}, ["inferType belongs to the v1 form"]),
    (
        "vpc-with-v2",
        {"vpcId": "vpc-1", "subnetNetworkId": "s", "securityGroupId": "g"},
        ["belong to the v1 form"],
    ),
    ("bad-version", {"v2": {"version": "1.0"}}, ["spec.v2.version"]),
    ("bad-type", {"v2": {"type": "STREAM"}}, ["spec.v2.type"]),
    ("no-groups", {"v2": {"groupConfigs": DROP}}, ["spec.v2.groupConfigs", "Required"]),
    (
        "two-groups",
        {"v2": {"groupConfigs": FORM["groupConfigs"] * 2}},
        ["spec.v2.groupConfigs", "must have at most 1"],
    ),
    (
        "no-weight",
        {"v2": {"groupConfigs": [{"name": "g", "unitConfigs": [UNIT]}]}},
        ["weight", "Required"],
    ),
    ("no-runtime", {"v2": {"runtimeConfig": DROP}}, ["spec.v2.runtimeConfig", "Required"]),
    (
        "no-service-limit",
        {"v2": {"runtimeConfig": {"serviceLimit": DROP}}},
        ["serviceLimit", "Required"],
    ),
    ("gpu-and-ascend", unit(customSpec={"cpu": 1, "gpu": 1, "ascend": 1}), ["gpu and ascend"]),
    ("no-image", unit(image=DROP), ["image", "Required"]),
    ("no-image-source", unit(image={"source": DROP}), ["source", "Required"]),
    ("bad-port", unit(port=70000), ["port"]),
    ("bad-env-key", unit(envs={"1BAD": "x"}), ["envs"]),
    (
        "model-address-and-ref",
        unit(
            models=[
                {
                    "source": "OBS",
                    "mountPath": "/m",
                    "address": "obs://b/m/",
                    "modelRef": {"name": "m"},
                }
            ]
        ),
        ["modelRef fills address in"],
    ),
    ("relative-mount", unit(files=[{"source": "LOCAL", "mountPath": "data"}]), ["mountPath"]),
    (
        "http-check-no-url",
        unit(readinessHealth={"checkMethod": "HTTP"}),
        ["an HTTP check (the default) needs url"],
    ),
    ("exec-check-shell", unit(livenessHealth={"checkMethod": "EXEC", "cmd": "a | b"}), ["cmd"]),
    (
        "bad-surge",
        {"v2": {"upgradeConfig": {"rollingUpdate": {"maxSurge": "0%"}}}},
        ["maxSurge"],
    ),
    ("four-logs", {"v2": {"logConfigs": [{"type": "STDOUT"}] * 4}}, ["logConfigs"]),
    ("bad-schedule", {"v2": {"schedule": [{"duration": 1, "timeUnit": "WEEKS"}]}}, ["timeUnit"]),
]

VALID: list[tuple[str, dict[str, Any]]] = [
    ("minimal", {}),
    (
        "full",
        {
            "description": "all of it",
            "stopped": True,
            "exportTo": {"configMapName": "ep"},
            "v2": {
                "type": "ASYNC_REAL_TIME",
                "deployType": "MULTI",
                "deployTimeoutMinutes": 30,
                "groupConfigs": [
                    {
                        "name": "main",
                        "poolId": "pool-1",
                        "weight": 100,
                        "count": 2,
                        "framework": "VLLM",
                        "unitConfigs": [
                            {
                                "name": "worker",
                                "image": {
                                    "source": "SWR",
                                    "swrPath": "swr.x/y:1",
                                    "category": "GPU",
                                },
                                "customSpec": {"cpu": 4, "memory": 8192, "gpu": 1},
                                "count": 2,
                                "cmd": "python serve.py",
                                "envs": {"LOG_LEVEL": "info", "a.b-c": "d"},
                                "port": 8000,
                                "models": [
                                    {"source": "OBS", "mountPath": "/m", "modelRef": {"name": "m"}}
                                ],
                                "codes": [
                                    {"source": "OBSFS", "mountPath": "/c", "address": "obs://b/c/"}
                                ],
                                "files": [{"source": "LOCAL", "mountPath": "/f"}],
                                "readinessHealth": {"url": "/health", "periodSeconds": 5},
                                "livenessHealth": {"checkMethod": "EXEC", "cmd": "cat /ok"},
                            }
                        ],
                    }
                ],
                "runtimeConfig": {
                    "serviceInvoke": {"port": 8000, "protocol": "HTTPS", "authType": "NONE"},
                    "serviceLimit": LIMIT,
                },
                "upgradeConfig": {
                    "type": "ROLLING",
                    "rollingUpdate": {"maxSurge": "10%", "maxUnavailable": "100%"},
                },
                "logConfigs": [{"type": "STDOUT", "status": "ON"}],
                "schedule": [{"duration": 2, "timeUnit": "HOURS"}],
            },
        },
    ),
]


def _apply(cp: ControlPlane, name: str, spec: dict[str, Any]) -> Any:
    doc = {"apiVersion": API, "kind": "Service", "metadata": {"name": name}, "spec": spec}
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
def test_invalid_v2_service_is_refused_naming_the_field(
    cluster: ControlPlane, case: str, patch: dict[str, Any], fragments: list[str]
) -> None:
    result = _apply(cluster, f"bad-{case}", _patched(BASE, patch))
    assert result.returncode != 0, f"{case} was accepted:\n{result.stdout}"
    for fragment in fragments:
        assert fragment in result.stderr, f"{case}: {fragment!r} not in:\n{result.stderr}"


def test_neither_form_is_refused(cluster: ControlPlane) -> None:
    result = _apply(cluster, "bad-neither", {"description": "nothing to deploy"})
    assert result.returncode != 0
    assert "give exactly one form" in result.stderr


@pytest.mark.parametrize(("case", "patch"), VALID, ids=[c[0] for c in VALID])
def test_valid_v2_service_is_stored_whole(
    cluster: ControlPlane, case: str, patch: dict[str, Any]
) -> None:
    spec = _patched(BASE, patch)
    result = _apply(cluster, f"ok-{case}", spec)
    assert result.returncode == 0, result.stderr
    got = json.loads(
        cluster.kubectl("get", "masvc", f"ok-{case}", "-n", NAMESPACE, "-o", "json").stdout
    )
    assert _contains(got["spec"], spec)


def test_v1_service_is_still_accepted(cluster: ControlPlane) -> None:
    result = _apply(cluster, "ok-v1", V1_BASE["Service"])
    assert result.returncode == 0, result.stderr


def test_configuration_change_needs_a_new_version(cluster: ControlPlane) -> None:
    assert _apply(cluster, "upg", BASE).returncode == 0
    changed = _patched(BASE, unit(count=3))
    refused = _apply(cluster, "upg", changed)
    assert refused.returncode != 0
    assert "needs a new version" in refused.stderr
    assert "spec.v2.version" in refused.stderr
    bumped = copy.deepcopy(changed)
    bumped["v2"]["version"] = "1.1.0"
    accepted = _apply(cluster, "upg", bumped)
    assert accepted.returncode == 0, accepted.stderr
    # stopping, describing: no new version needed
    described = {**bumped, "description": "d", "stopped": True}
    assert _apply(cluster, "upg", described).returncode == 0


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"v2": {"type": "ASYNC_REAL_TIME", "version": "2.0.0"}}, "type is immutable"),
        ({"v2": {"deployType": "MULTI", "version": "2.0.0"}}, "deployType is immutable"),
    ],
)
def test_v2_immutable_fields(cluster: ControlPlane, change: dict[str, Any], fragment: str) -> None:
    name = f"imm-{next(iter(change['v2']))}".lower()
    assert _apply(cluster, name, BASE).returncode == 0
    result = _apply(cluster, name, _patched(BASE, change))
    assert result.returncode != 0
    assert fragment in result.stderr


def test_form_cannot_change(cluster: ControlPlane) -> None:
    assert _apply(cluster, "form-v1", V1_BASE["Service"]).returncode == 0
    result = _apply(cluster, "form-v1", BASE)
    assert result.returncode != 0
    assert "the form (v1 config or v2) cannot change" in result.stderr


def test_v2_example_is_accepted(cluster: ControlPlane) -> None:
    example = find_root(Path(__file__).parent) / "examples" / "04-service.yaml"
    result = cluster.kubectl("apply", "-n", NAMESPACE, "-f", str(example), check=False)
    assert result.returncode == 0, result.stderr
    got = json.loads(cluster.kubectl("get", "masvc", "mnist", "-n", NAMESPACE, "-o", "json").stdout)
    assert got["spec"]["v2"]["version"] == "1.0.0"
