"""The llm form of Model (a DataArts Fabric model) on a real kube-apiserver: what the SDK
requires is required, bad values are refused naming the field, and of an existing model only
the description and the version (under a new version name) may change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelarts_testbed.controlplane import ControlPlane

from .conftest import ROOT
from .test_admission import DROP, NAMESPACE, _apply, _contains, _patched, cluster  # noqa: F401

pytestmark = pytest.mark.cluster

LLM: dict[str, Any] = {
    "llm": {
        "workspaceId": "ws-1",
        "name": "llama3 8b.chat",
        "description": "chat model",
        "version": {
            "name": "v1",
            "description": "first weights",
            "config": {
                "llmModelConfig": {"baseModelType": "llama3", "modelPath": "obs://bucket/llm/v1/"}
            },
        },
    }
}
V2 = {
    "llm": {
        "version": {
            "name": "v2",
            "config": {"llmModelConfig": {"modelPath": "obs://bucket/llm/v2/"}},
        }
    }
}


def _config(patch: dict[str, Any]) -> dict[str, Any]:
    return {"llm": {"version": {"config": patch}}}


# (id, patch applied to LLM, fragments stderr must contain)
INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    ("no-version", {"llm": {"version": DROP}}, ["spec.llm.version", "Required"]),
    (
        "no-base-model",
        _config({"llmModelConfig": {"baseModelType": DROP}}),
        ["spec.llm.version.config.llmModelConfig.baseModelType", "Required"],
    ),
    (
        "model-path-not-obs",
        _config({"llmModelConfig": {"modelPath": "https://example.com/weights"}}),
        ["spec.llm.version.config.llmModelConfig.modelPath", "should match"],
    ),
    ("no-workspace", {"llm": {"workspaceId": DROP}}, ["spec.llm.workspaceId", "Required"]),
    ("workspace-chars", {"llm": {"workspaceId": "ws_1"}}, ["spec.llm.workspaceId"]),
    ("model-name-chars", {"llm": {"name": "llama/3"}}, ["spec.llm.name"]),
    ("version-name-chars", {"llm": {"version": {"name": "v1:final"}}}, ["spec.llm.version.name"]),
    ("type", {"llm": {"type": "CV_MODEL"}}, ["spec.llm.type", "LLM_MODEL"]),
    ("description-long", {"llm": {"description": "d" * 1025}}, ["spec.llm.description"]),
    ("with-import-fields", {"modelType": "PyTorch"}, ["spec.llm", "cannot be combined"]),
    ("with-workspace-ref", {"workspaceRef": {"name": "ws"}}, ["spec.llm", "llm.workspaceId"]),
]


@pytest.mark.parametrize(("case", "patch", "fragments"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_llm_manifest_is_refused_naming_the_field(
    cluster: ControlPlane,  # noqa: F811
    case: str,
    patch: dict[str, Any],
    fragments: list[str],
) -> None:
    result = _apply(cluster, "Model", f"llm-bad-{case}", _patched(LLM, patch))
    assert result.returncode != 0, f"{case} was accepted:\n{result.stdout}"
    for fragment in fragments:
        assert fragment in result.stderr, f"{case}: {fragment!r} not in:\n{result.stderr}"


@pytest.mark.parametrize(
    "patch",
    [
        # The SDK's ModelVersionInput.config and ModelConfig.llm_model_config are optional;
        # the DataArts reference (seed 003) makes model_path optional and adds local_model_path.
        {"llm": {"version": {"config": DROP}}},
        _config({"llmModelConfig": DROP}),
        _config({"llmModelConfig": {"modelPath": DROP, "localModelPath": "/data/llm"}}),
    ],
    ids=["no-config", "no-llm-config", "local-model-path"],
)
def test_what_the_sources_leave_optional_is_accepted(
    cluster: ControlPlane,  # noqa: F811
    patch: dict[str, Any],
    request: pytest.FixtureRequest,
) -> None:
    name = f"opt-{request.node.callspec.id}"
    result = _apply(cluster, "Model", name, _patched(LLM, patch))
    assert result.returncode == 0, result.stderr


def test_valid_llm_manifest_is_stored_unpruned(cluster: ControlPlane) -> None:  # noqa: F811
    assert (result := _apply(cluster, "Model", "llm-ok", LLM)).returncode == 0, result.stderr
    got = json.loads(
        cluster.kubectl(
            "get", "models.modelarts.huaweicloud.com", "llm-ok", "-n", NAMESPACE, "-o", "json"
        ).stdout
    )
    assert _contains(got["spec"], LLM)
    assert got["spec"]["llm"]["type"] == "LLM_MODEL"


# (id, change applied to LLM after it exists, fragment naming the field)
IMMUTABLE: list[tuple[str, dict[str, Any], str]] = [
    ("workspace", {"llm": {"workspaceId": "ws-2"}}, "spec.llm.workspaceId"),
    ("name", {"llm": {"name": "renamed"}}, "spec.llm.name"),
    ("name-unset", {"llm": {"name": DROP}}, "spec.llm.name"),
    (
        "version-path-same-name",
        _config({"llmModelConfig": {"modelPath": "obs://bucket/llm/other/"}}),
        "spec.llm.version.name",
    ),
    ("version-description-same-name", {"llm": {"version": {"description": "x"}}}, "version.name"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), IMMUTABLE, ids=[c[0] for c in IMMUTABLE])
def test_llm_fields_that_cannot_change_are_refused(
    cluster: ControlPlane,  # noqa: F811
    case: str,
    change: dict[str, Any],
    fragment: str,
) -> None:
    name = f"llm-imm-{case}"
    assert (made := _apply(cluster, "Model", name, LLM)).returncode == 0, made.stderr
    result = _apply(cluster, "Model", name, _patched(LLM, change))
    assert result.returncode != 0, f"{case}: update accepted"
    assert fragment in result.stderr, result.stderr
    assert "Forbidden" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("description", {"llm": {"description": "now with tools"}}),
        ("description-removed", {"llm": {"description": DROP}}),
        ("new-version", V2),
        ("new-version-and-description", _patched(V2, {"llm": {"description": "v2 weights"}})),
        ("deletion-policy", {"deletionPolicy": "Retain"}),
    ],
)
def test_llm_description_and_new_versions_may_change(
    cluster: ControlPlane,  # noqa: F811
    case: str,
    change: dict[str, Any],
) -> None:
    name = f"llm-mut-{case}"
    assert (made := _apply(cluster, "Model", name, LLM)).returncode == 0, made.stderr
    result = _apply(cluster, "Model", name, _patched(LLM, change))
    assert result.returncode == 0, result.stderr


def test_the_model_form_cannot_change(cluster: ControlPlane) -> None:  # noqa: F811
    assert (made := _apply(cluster, "Model", "llm-form", LLM)).returncode == 0, made.stderr
    imported = {
        "workspaceId": "0",
        "modelVersion": "1.0.0",
        "modelType": "PyTorch",
        "sourceLocation": "/bucket/model/",
    }
    result = _apply(cluster, "Model", "llm-form", imported)
    assert result.returncode != 0
    assert "cannot change between the import form and llm" in result.stderr, result.stderr


def test_llm_example_is_accepted(cluster: ControlPlane) -> None:  # noqa: F811
    path = ROOT / "examples" / "llm" / "model.yaml"
    result = cluster.kubectl("apply", "-n", NAMESPACE, "-f", str(path), check=False)
    assert result.returncode == 0, result.stderr
    got = json.loads(
        cluster.kubectl("get", "mamodel", "llama3-chat", "-n", NAMESPACE, "-o", "json").stdout
    )
    assert got["spec"]["llm"]["version"]["config"]["llmModelConfig"]["baseModelType"] == "llama3"


def test_llm_current_version_is_a_wide_column(cluster: ControlPlane) -> None:  # noqa: F811
    assert (made := _apply(cluster, "Model", "llm-col", LLM)).returncode == 0, made.stderr
    status = {"status": {"currentVersion": {"id": "ver-1", "name": "v1"}}}
    cluster.kubectl(
        "patch", "mamodel", "llm-col", "-n", NAMESPACE, "--subresource=status", "--type=merge",
        "-p", json.dumps(status),
    )  # fmt: skip
    table = cluster.kubectl("get", "mamodel", "llm-col", "-n", NAMESPACE, "-o", "wide").stdout
    header, row = table.splitlines()[:2]
    # Columns are aligned; the llm form leaves the import form's Version and Type empty.
    assert row[header.index("LLM-VERSION") :].split()[0] == "v1", table
