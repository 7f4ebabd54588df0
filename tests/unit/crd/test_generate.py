"""The generated CRD manifests: up to date, structural, described, and carrying the CEL rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.cli import main
from modelarts_operator.crd.generate import (
    KINDS,
    find_root,
    render_all,
    render_crds,
    stale_files,
    write_crds,
)
from modelarts_operator.crd.schema import SchemaError, crd_manifest, model_schema

ROOT = find_root(Path(__file__).parent)
GROUP = "modelarts.huaweicloud.com"


def _schemas() -> dict[str, dict[str, Any]]:
    return {
        info.kind: crd_manifest(info)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for info in KINDS
    }


def _walk(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its path (properties, items, additionalProperties)."""
    yield path, node
    for key, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{key}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


def _rules(schema: dict[str, Any]) -> dict[str, list[str]]:
    """CEL rules by schema path."""
    return {
        path: [r["rule"] for r in node.get("x-kubernetes-validations", [])]
        for path, node in _walk(schema, "")
    }


def test_committed_files_are_up_to_date() -> None:
    stale = stale_files(ROOT)
    assert stale == [], f"run `modelarts-operator crds --write`; stale: {stale}"


def test_chart_templates_are_the_crds_dir_kept_on_uninstall() -> None:
    for name in render_crds():
        template = (ROOT / "helm/modelarts-operator/templates/crds" / name).read_text()
        lines = template.splitlines()
        assert "{{- if .Values.crds.install }}" in lines
        assert lines[-1] == "{{- end }}"
        chart = yaml.safe_load("\n".join(x for x in lines if not x.startswith("{{")))
        plain = yaml.safe_load((ROOT / "crds" / name).read_text())
        assert chart["metadata"].pop("annotations") == {"helm.sh/resource-policy": "keep"}
        assert chart == plain


def test_check_names_stale_and_missing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_crds(tmp_path)
    assert main(["crds", "--check", "--root", str(tmp_path)]) == 0
    edited = tmp_path / "crds" / f"models.{GROUP}.yaml"
    edited.write_text(edited.read_text().replace("mamodel", "oldname"))
    (tmp_path / "helm/modelarts-operator/templates/crds" / f"services.{GROUP}.yaml").unlink()
    (tmp_path / "crds" / f"gone.{GROUP}.yaml").write_text("kind: CustomResourceDefinition\n")
    capsys.readouterr()
    assert main(["crds", "--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"crds/models.{GROUP}.yaml" in err
    assert f"helm/modelarts-operator/templates/crds/services.{GROUP}.yaml" in err
    assert f"gone.{GROUP}.yaml" in err
    assert f"workspaces.{GROUP}.yaml" not in err
    assert main(["crds", "--write", "--root", str(tmp_path)]) == 0
    assert stale_files(tmp_path) == []
    assert not (tmp_path / "crds" / f"gone.{GROUP}.yaml").exists()


def test_print_emits_every_kinds_crd(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crds"]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert [d["spec"]["names"]["kind"] for d in docs] == [
        "Workspace",
        "Algorithm",
        "TrainingJob",
        "Model",
        "Service",
        "Notebook",
        "Network",
        "ResourcePool",
    ]
    assert render_all().count("kind: CustomResourceDefinition") == len(KINDS)


def test_names_short_names_category_and_status_subresource() -> None:
    short: dict[str, list[str]] = {}
    for info in KINDS:
        crd = crd_manifest(info)
        spec = crd["spec"]
        assert crd["metadata"]["name"] == f"{info.plural}.{GROUP}"
        assert spec["scope"] == "Namespaced"
        assert spec["names"]["categories"] == ["modelarts"]
        version = spec["versions"][0]
        assert version["name"] == "v1alpha1"
        assert version["served"]
        assert version["storage"]
        assert version["subresources"] == {"status": {}}
        short[info.kind] = spec["names"]["shortNames"]
        columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
        assert columns["Phase"] == ".status.phase"
        assert columns["Age"] == ".metadata.creationTimestamp"
    assert short["Service"] == ["masvc"]
    assert short["Workspace"] == ["maws"]
    assert short["TrainingJob"] == ["matj"]
    assert "mamodel" in short["Model"]
    all_short = [s for names in short.values() for s in names]
    assert len(all_short) == len(set(all_short))
    assert "svc" not in all_short


def test_printer_columns_show_what_people_look_for() -> None:
    def columns(kind: str) -> dict[str, str]:
        info = next(i for i in KINDS if i.kind == kind)
        return {c["name"]: c["jsonPath"] for c in info.printer_columns}

    assert columns("Service")["URL"] == ".status.accessAddress"
    assert columns("Service")["Service-ID"] == ".status.serviceId"
    assert columns("TrainingJob")["Version"] == ".status.versionName"
    assert columns("TrainingJob")["Job-ID"] == ".status.jobId"
    assert columns("Model")["Model-ID"] == ".status.modelId"
    assert columns("Workspace")["Workspace-ID"] == ".status.workspaceId"


def test_printer_column_paths_exist_in_schema() -> None:
    for info in KINDS:
        schema = _schemas()[info.kind]
        paths = {p for p, _ in _walk(schema, "")}
        for column in info.printer_columns:
            if column["jsonPath"].startswith(".metadata"):
                continue
            assert column["jsonPath"] in paths, (info.kind, column)


@pytest.mark.parametrize("kind", [i.kind for i in KINDS])
def test_schema_is_structural(kind: str) -> None:
    schema = _schemas()[kind]
    forbidden = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "const", "title"}
    for path, node in _walk(schema, ""):
        assert not forbidden & node.keys(), (path, forbidden & node.keys())
        if path == ".metadata" or node.get("x-kubernetes-int-or-string"):
            continue  # int-or-string is the one structural node without a type
        assert "type" in node, path
        if node["type"] == "object":
            assert not ("properties" in node and "additionalProperties" in node), path
        if node["type"] == "array":
            assert isinstance(node.get("items"), dict), path
        if node.get("x-kubernetes-preserve-unknown-fields"):
            assert node["type"] == "object", path
        assert not isinstance(node.get("exclusiveMinimum"), (int, float)), path
        for key in ("default",):
            assert node.get(key, 0) is not None, path


@pytest.mark.parametrize("kind", [i.kind for i in KINDS])
def test_every_property_has_a_description(kind: str) -> None:
    missing = [
        path
        for path, node in _walk(_schemas()[kind], "")
        if path not in ("", ".metadata")
        and not node.get("description", "").strip()
        # scalar list items and map values are described by their list or map
        and not (path.endswith(("[]", "{}")) and node.get("type") != "object")
    ]
    assert missing == []


@pytest.mark.parametrize("kind", [i.kind for i in KINDS])
def test_spec_strings_and_lists_are_bounded_for_cel_cost(kind: str) -> None:
    spec = _schemas()[kind]["properties"]["spec"]
    unbounded = [
        path
        for path, node in _walk(spec, ".spec")
        if (node.get("type") == "string" and "maxLength" not in node and "enum" not in node)
        or (node.get("type") == "array" and "maxItems" not in node)
        or (
            node.get("type") == "object"
            and isinstance(node.get("additionalProperties"), dict)
            and "maxProperties" not in node
        )
    ]
    assert unbounded == []


@pytest.mark.parametrize("kind", [i.kind for i in KINDS])
def test_free_form_only_where_intended(kind: str) -> None:
    free = sorted(
        path
        for path, node in _walk(_schemas()[kind], "")
        if node.get("x-kubernetes-preserve-unknown-fields")
    )
    expected = {
        "Workspace": [],
        "Algorithm": [],
        "TrainingJob": [],
        "Model": [".spec.apis[].inputParams", ".spec.apis[].outputParams"],
        "Service": [
            ".spec.additionalProperties",
            ".spec.config[].additionalProperties",
            ".spec.config[].mappingRule",
        ],
        "Notebook": [],
        "Network": [],
        "ResourcePool": [],
    }
    assert free == expected[kind]


def test_common_fields_on_every_kind() -> None:
    for kind, schema in _schemas().items():
        spec = schema["properties"]["spec"]
        policy = spec["properties"]["deletionPolicy"]
        assert policy["enum"] == ["Delete", "Retain"]
        # A pool is billed while it exists: its object leaves it unless told (crd/resource_pool.py).
        assert policy["default"] == ("Retain" if kind == "ResourcePool" else "Delete")
        assert schema["required"] == ["spec"]
        status = schema["properties"]["status"]["properties"]
        for field in ("observedGeneration", "phase", "conditions", "remoteStatus"):
            assert field in status, (kind, field)
        condition = status["conditions"]["items"]["properties"]
        assert set(condition) == {
            "type",
            "status",
            "reason",
            "message",
            "lastTransitionTime",
            "observedGeneration",
        }
        if kind == "Workspace":
            continue
        assert spec["properties"]["workspaceRef"]["required"] == ["name"]
        assert "workspaceId" in spec["properties"]
        rules = _rules(schema)[".spec"]
        assert "!(has(self.workspaceRef) && has(self.workspaceId))" in rules
        assert any("oldSelf.workspaceRef" in r for r in rules)
        assert any("oldSelf.workspaceId" in r for r in rules)


def test_cel_rules_for_exclusive_groups_and_immutability() -> None:
    rules = {kind: _rules(schema) for kind, schema in _schemas().items()}
    config = " ".join(rules["TrainingJob"][".spec.config"])
    assert "has(self.dataUrl)" in config
    assert "has(self.dataSource)" in config
    assert "has(self.datasetId) == has(self.datasetVersionId)" in config
    assert "has(self.modelId)" in config
    assert "has(self.userImageUrl)" in config
    assert "has(self.appUrl) && has(self.bootFileUrl) && has(self.engineId)" in config
    assert any("oldSelf.jobName" in r for r in rules["TrainingJob"][".spec"])

    assert "has(self.llm) || self == oldSelf" in rules["Model"][".spec"]
    assert "self.workspaceId == oldSelf.workspaceId" in rules["Model"][".spec.llm"]
    model = " ".join(rules["Model"][".spec"])
    assert "has(self.sourceLocation) != has(self.trainingJobRef)" in model
    assert "has(self.llm)" in model

    assert "has(self.modelRef) != has(self.modelId)" in rules["Service"][".spec.config[]"]
    service = " ".join(rules["Service"][".spec"])
    assert "sum() == 100" in service
    assert "oldSelf.serviceName" in service
    assert "oldSelf.inferType" in service

    assert "self != 'default'" in rules["Workspace"][".spec.name"]


def test_patterns_are_go_compatible() -> None:
    """Go's RE2 has no \\u escapes and no lookaround: patterns must avoid them."""
    for kind, schema in _schemas().items():
        for path, node in _walk(schema, ""):
            pattern = node.get("pattern")
            if pattern is None:
                continue
            assert "\\u" not in pattern, (kind, path)
            assert "(?=" not in pattern, (kind, path)
            assert "(?!" not in pattern, (kind, path)


def test_generator_refuses_non_structural_models() -> None:
    from typing import Any as AnyType

    from pydantic import BaseModel, Field

    class Union(BaseModel):
        value: int | list[str] = Field(description="either")

    class Loose(BaseModel):
        blob: dict[str, AnyType] = Field(description="anything")

    with pytest.raises(SchemaError, match="anyOf"):
        model_schema(Union)
    with pytest.raises(SchemaError, match="free-form"):
        model_schema(Loose)
