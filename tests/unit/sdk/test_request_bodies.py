"""Every request body the operator builds fits the official SDK's request model (issue 23).

Each kind's create, update and tag bodies are built by the operator's own builders from a spec
that sets every field (a "maximal" spec: every optional field present, every list with an
item) and from the examples users copy, then held to the SDK's model of that body: no key the
SDK does not know, no value of another JSON type (``judge.model_problems``), and every field
the SDK marks required present.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import huaweicloudsdkdataartsfabric.v1 as fabric
import huaweicloudsdkmodelarts.v1 as sdk
import pytest
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from modelarts_operator.api.pools import NETWORK_ENVELOPE, POOL_ENVELOPE, Network, Pool
from modelarts_operator.api.training_v2 import TrainingJobV2
from modelarts_operator.api.workspaces import WorkspaceQuotaUpdate
from modelarts_operator.crd.algorithm import AlgorithmSpec
from modelarts_operator.crd.common import LocalObjectReference
from modelarts_operator.crd.generate import find_root
from modelarts_operator.crd.model import ModelSpec
from modelarts_operator.crd.network import NetworkSpec
from modelarts_operator.crd.notebook import NotebookSpec
from modelarts_operator.crd.resource_pool import ResourcePoolSpec
from modelarts_operator.crd.service import ServiceSpec
from modelarts_operator.crd.training_job import TrainingJobSpec
from modelarts_operator.crd.workspace import WorkspaceSpec
from modelarts_operator.reconcile.naming import desired_tags, marked_description
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.resources import (
    algorithm,
    llm_model,
    network,
    notebook,
    resource_pool,
    service_v2,
    training_v2,
)
from modelarts_operator.resources.workspace import WorkspaceAdapter

from .judge import model_problems

MARKER = "[k8s-owner:0123456789abcdef]"  # the ownership marker, as naming.owner_marker writes it

ROOT = find_root(Path(__file__).parent)
sys.path.insert(0, str(ROOT / "hack"))

from vocabulary import sdk as vocabulary  # noqa: E402

# Fields the operator fills itself, or that point at other objects (a reference would make the
# builder wait for it): left unset in the maximal spec.
OPERATOR_FIELDS = {
    "workspace_ref",
    "model_ref",
    "training_job_ref",
    "algorithm_ref",
    "pool_ref",
    "job_ref",
    "network_ref",
    "config",
    "export_to",
}


# Strings that satisfy the schema's patterns, tried in order (the first valid one is used).
SAMPLES = (
    "x",
    "/x/",
    "1.0.0",
    "0",
    "OBS",
    "10%",
    "abcd",
    "obs://bucket/x/",
    "280a8bd5-03e2-4a5c-bea1-83d81e75bc53",
    "https://x/",
)


def _string(metadata: list[Any]) -> str:
    kind = typing.Annotated[str, *metadata] if metadata else str
    adapter = TypeAdapter(kind)
    spelled = [m.pattern for m in metadata if str(getattr(m, "pattern", "")).startswith("(?i)")]
    for pattern in spelled:  # an enum in any case: its first value
        return str(pattern[len("(?i)^(") :].split("|")[0].rstrip(")$"))
    for sample in SAMPLES:
        try:
            return str(adapter.validate_python(sample))
        except ValidationError:
            continue
    raise AssertionError(f"no sample string fits {metadata}")


def maximal(tp: Any, metadata: list[Any] | None = None) -> Any:
    """A value of type ``tp`` with every optional field set, valid for the field's own
    constraints (``metadata``); rules between fields do not matter here, JSON types do."""
    metadata = list(metadata or [])
    origin = get_origin(tp)
    if origin is typing.Annotated:
        inner, *more = get_args(tp)
        return maximal(inner, metadata + more)
    if origin in (typing.Union, types.UnionType):
        return maximal(next(a for a in get_args(tp) if a is not type(None)), metadata)
    if origin is Literal:
        return get_args(tp)[0]
    if origin is list:
        return [maximal(get_args(tp)[0])]
    if origin is dict:
        return {"KEY_1": maximal(get_args(tp)[1])}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        values = {
            name: maximal(info.annotation, info.metadata)
            for name, info in tp.model_fields.items()
            if name not in OPERATOR_FIELDS
        }
        return tp.model_construct(**values)
    if tp is str:
        return _string(metadata)
    if tp in (int, float):
        low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), 1)
        high = next((m.le for m in metadata if getattr(m, "le", None) is not None), low)
        return tp(min(max(low, 1), high))
    if tp is bool:
        return True
    return {}  # free-form JSON


def missing_required(
    data: Any, klass: type, package: types.ModuleType, path: str = "$"
) -> list[str]:
    """The fields ``klass`` marks required that ``data`` lacks, at any depth."""
    if not isinstance(data, dict):
        return []
    out = []
    for field in vocabulary.fields_of(package.__name__, klass.__name__):
        value = data.get(field.wire)
        if value is None:
            if field.required and field.key not in OPTIONAL:
                out.append(f"{path}.{field.wire}")
            continue
        inner = field.inner
        if inner in vocabulary.PRIMITIVES or not vocabulary.is_model(package.__name__, inner):
            continue
        child = getattr(package, inner)
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            out += missing_required(item, child, package, f"{path}.{field.wire}[{i}]")
    return out


def _optional() -> set[str]:
    """``Class.field`` the SDK marks required that the evidence shows the cloud does not need
    (rules.yaml ``optional``, each with its evidence)."""
    rules = yaml.safe_load((ROOT / "hack" / "vocabulary" / "rules.yaml").read_text("utf-8"))
    return {
        key
        for family in rules.values()
        for key, rule in (family or {}).items()
        if isinstance(rule, dict) and rule.get("optional")
    }


def _extras() -> set[str]:
    """``Class.field`` of the fields the cloud takes that the SDK's models lack (rules.yaml
    ``extras``, each with its evidence)."""
    rules = yaml.safe_load((ROOT / "hack" / "vocabulary" / "rules.yaml").read_text("utf-8"))
    return {key for family in rules.values() for key in (family or {}).get("extras") or {}}


EXTRAS = _extras()
OPTIONAL = _optional()


def fits(body: BaseModel | dict[str, Any], klass: type, package: types.ModuleType = sdk) -> None:
    wire = body if isinstance(body, dict) else body.to_wire()  # type: ignore[attr-defined]
    problems = [
        p
        for p in model_problems(wire, klass, package)
        if not any(
            p.endswith(f".{key.split('.')[1]}: not a field of {key.split('.')[0]}")
            for key in EXTRAS
        )
    ]
    problems += missing_required(wire, klass, package)
    assert problems == [], "\n".join(problems)


class Ctx(types.SimpleNamespace):
    """What the builders read of a reconcile's context."""

    def __init__(self, spec: Any) -> None:
        super().__init__(
            spec=spec,
            remote_name="a-name",
            refs=types.SimpleNamespace(workspace_id="0"),
            marker="[k8s-owner:0123456789abcdef]",
            default_tags={"team": "ml"},
            applied=False,
        )


def _example(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "examples" / name).read_text(encoding="utf-8"))["spec"])


# ---------------------------------------------------------------- training v2
def _training(spec: TrainingJobSpec) -> None:
    body = training_v2.create_request(spec, "a-name", "0", spec.job_desc)
    fits(body, sdk.Job)
    tags = {"tags": desired_tags(spec.tags, {"team": "a"}, MARKER)}
    fits(tags, sdk.CreateTmsTagsRequest)


def test_training_bodies_from_a_spec_with_every_field() -> None:
    spec = maximal(TrainingJobSpec)
    spec.features.jupyter_lab = True
    spec.annotations = {}
    _training(spec)
    # The in-place PUT the adapter sends to a job that differs in every changeable field.
    update = training_v2.in_place_request(spec, TrainingJobV2(), applied=False)
    assert update is not None
    assert update.metadata is not None
    assert update.spec is not None
    assert update.spec.notification is not None
    assert update.spec.schedule_policy is not None
    fits(update, sdk.JobUpdateRequestBody)


def test_training_bodies_from_the_example() -> None:
    _training(TrainingJobSpec.model_validate(_example("02-trainingjob.yaml")))


def test_a_job_from_an_algorithm_on_a_pool_sends_their_ids_not_the_references() -> None:
    spec = TrainingJobSpec.model_validate(
        {
            "algorithm": {"algorithmRef": {"name": "recipe"}},
            "resource": {"poolRef": {"name": "pool"}, "nodeCount": 1},
        }
    )
    body = training_v2.create_request(spec, "a-name", "0", None, "algo-uuid", "pool-id")
    fits(body, sdk.Job)
    assert body.to_wire()["algorithm"] == {"id": "algo-uuid"}
    assert body.to_wire()["spec"]["resource"] == {"pool_id": "pool-id", "node_count": 1}


def test_a_visualization_job_sends_its_data_sources_job_ids_not_the_references() -> None:
    manifest = _example("visualization/tensorboard.yaml")
    manifest["algorithm"]["summary"]["dataSources"].append({"job": {"jobId": "literal-uuid"}})
    spec = TrainingJobSpec.model_validate(manifest)
    body = training_v2.create_request(
        spec, "board", "0", None, source_job_ids={"mnist": "mnist-uuid"}
    )
    fits(body, sdk.Job)
    wire = body.to_wire()
    assert wire["kind"] == "visualization_job"
    assert wire["metadata"]["annotations"] == {"tensorboard/enable": "true"}
    assert wire["algorithm"]["summary"] == {
        "data_sources": [{"job": {"job_id": "mnist-uuid"}}, {"job": {"job_id": "literal-uuid"}}]
    }


def test_the_example_job_writes_the_logs_tensorboard_reads() -> None:
    """examples/02's mnist job is a data source: its summary says where its logs go."""
    wire = training_v2.create_request(
        TrainingJobSpec.model_validate(_example("02-trainingjob.yaml")), "mnist", "0", None
    ).to_wire()
    assert wire["algorithm"]["summary"]["log_type"] == "tensorboard"
    assert wire["algorithm"]["summary"]["log_dir"]["pfs"]["pfs_path"].startswith("obs://")


# ---------------------------------------------------------------- networks
async def test_network_bodies_from_a_spec_with_every_field() -> None:
    """The create body (with the envelope the client adds) and the patch of a network that
    differs in everything, as the adapter sends them."""
    spec = maximal(NetworkSpec)
    sent: dict[str, Any] = {}

    class Networks:
        async def create(self, request: Any) -> Any:
            sent["create"] = {**NETWORK_ENVELOPE, **request.to_wire()}
            return Network(metadata={"name": "net-x"})

        async def patch(self, network_id: str, request: Any) -> Any:
            sent["patch"] = request.to_wire()
            return Network()

    ctx = Ctx(spec)
    ctx.client = types.SimpleNamespace(networks=Networks())
    adapter = network.NetworkAdapter()
    await adapter.create(ctx)  # type: ignore[arg-type]
    await adapter.update(ctx, "net-x", Network())  # type: ignore[arg-type]
    fits(sent["create"], sdk.NetworkCreationRequest)
    fits(sent["patch"], sdk.NetworkUpdateRequest)
    labels = sent["create"]["metadata"]["labels"]
    assert labels == {"os.modelarts/name": "a-name", "os.modelarts/workspace.id": "0"}
    annotations = sent["patch"]["metadata"]["annotations"]
    assert annotations["os.modelarts/description"].endswith("[k8s-owner:0123456789abcdef]")


# ---------------------------------------------------------------- resource pools
def test_pool_bodies_from_a_spec_with_every_field() -> None:
    """The create body (with the envelope the client adds) and the patch of a pool that
    differs in everything the update body can change."""
    spec = maximal(ResourcePoolSpec)
    ctx = Ctx(spec)
    ctx.refs = resource_pool.PoolRefs("0", network_id="net-1")
    body = {**POOL_ENVELOPE, **resource_pool.create_request(ctx).to_wire()}  # type: ignore[arg-type]
    fits(body, sdk.CreatePoolRequestBody)
    assert body["spec"]["network"] == {"name": "net-1"}
    assert "azs" not in body["spec"]["resources"][0]  # the update body's, not the create's
    patch, changed = resource_pool.update_request(ctx, Pool())  # type: ignore[arg-type]
    assert patch is not None
    fits(patch, sdk.PoolUpdateRequest)
    assert changed == ["description", "scope", "resources", "jobFlavors", "driver"]
    assert patch.to_wire()["spec"]["resources"][0]["azs"]


def _ready_pool(registry: Registry, pool_id: str) -> None:
    registry.update(
        "resourcepools",
        "ADDED",
        {
            "metadata": {"namespace": "team", "name": "pool"},
            "status": {"poolId": pool_id, "conditions": [{"type": "Ready", "status": "True"}]},
        },
    )


def test_service_and_notebook_on_a_pool_by_reference_send_its_id() -> None:
    registry = Registry()
    _ready_pool(registry, "pool-id")
    service = maximal(ServiceSpec)
    assert service.v2 is not None
    service.v2.group_configs[0].pool_id = None
    service.v2.group_configs[0].pool_ref = LocalObjectReference(name="pool")
    ctx = Ctx(service)
    ctx.namespace, ctx.registry = "team", registry
    for group in ctx.spec.v2.group_configs:
        for unit in group.unit_configs or []:
            for mount in unit.models or []:
                mount.model_ref = None
    wire = service_v2.wire_config(ctx)  # type: ignore[arg-type]
    assert wire["group_configs"][0]["pool_id"] == "pool-id"
    assert "pool_ref" not in wire["group_configs"][0]
    on_pool = maximal(NotebookSpec)
    on_pool.pool_id, on_pool.pool_ref = None, LocalObjectReference(name="pool")
    body = notebook.create_request(on_pool, "a-name", "image-id", "0", "", "pool-id")
    assert body.to_wire()["pool_id"] == "pool-id"


# ---------------------------------------------------------------- algorithms
def test_algorithm_body_from_a_spec_with_every_field() -> None:
    ctx = Ctx(maximal(AlgorithmSpec))
    body = algorithm.request_of(ctx)  # type: ignore[arg-type]
    fits(body, sdk.Algorithm)
    assert body.to_wire()["metadata"]["name"] == "a-name"
    assert body.to_wire()["metadata"]["description"].endswith("[k8s-owner:0123456789abcdef]")


# ---------------------------------------------------------------- services v2
def _service(spec: ServiceSpec) -> None:
    ctx = Ctx(spec)
    wire = service_v2.wire_config(ctx)  # type: ignore[arg-type]
    ctx.refs.wire = wire
    fits(service_v2.create_request(ctx), sdk.ServiceCreateRequest)  # type: ignore[arg-type]
    fits(service_v2.update_request(ctx, wire), sdk.ServiceUpdateRequest)  # type: ignore[arg-type]


def test_service_bodies_from_a_spec_with_every_field() -> None:
    spec = maximal(ServiceSpec)
    spec.infer_type = None
    _service(spec)


def test_service_bodies_from_the_example() -> None:
    example = _example("04-service.yaml")
    for group in example["v2"]["groupConfigs"]:  # references resolved, as the operator does
        if group.pop("poolRef", None) is not None:
            group["poolId"] = "demo-pool-0123456789abcdef"
    for unit in example["v2"]["groupConfigs"][0]["unitConfigs"]:
        for mount in unit.get("models") or []:
            mount.pop("modelRef", None)
            mount["address"] = "obs://bucket/model/"
    _service(ServiceSpec.model_validate(example))


# ---------------------------------------------------------------- notebooks
def _notebook(spec: NotebookSpec) -> None:
    described = marked_description(spec.description, MARKER, notebook.DESCRIPTION_LENGTH)
    create = notebook.create_request(spec, "a-name", "image-id", "0", described)
    fits(create, sdk.NotebookCreateRequest)
    update = sdk_notebook_update(spec)
    fits(update, sdk.NotebookUpdateRequest)
    tags = {"tags": desired_tags(spec.tags, {}, "")}
    fits(tags, sdk.CreateTmsTagsRequest)


def sdk_notebook_update(spec: NotebookSpec) -> Any:
    """The update body with every field the notebook's update API takes, from the spec."""
    from modelarts_operator.api.notebooks import NotebookUpdateRequest

    return NotebookUpdateRequest(
        name="a-name",
        description=spec.description,
        flavor=spec.flavor,
        custom_spec=spec.custom_spec,
        image_id="image-id",
        endpoints=notebook._endpoints(spec),
        storage_new_size=spec.volume.capacity,
        hooks=spec.hooks,
        affinity=spec.affinity,
        dew_secret_name=spec.volume.dew_secret_name,
        data_volumes=spec.data_volumes,
        public_network_config=spec.public_network_config,
    )


def test_notebook_bodies_from_a_spec_with_every_field() -> None:
    _notebook(maximal(NotebookSpec))


def test_notebook_bodies_from_the_example() -> None:
    path = next((ROOT / "examples" / "notebook").glob("*.yaml"))
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]
    _notebook(NotebookSpec.model_validate(spec))


# ---------------------------------------------------------------- workspaces
@pytest.mark.parametrize("source", ["maximal", "example"])
def test_workspace_bodies(source: str) -> None:
    spec = (
        maximal(WorkspaceSpec)
        if source == "maximal"
        else WorkspaceSpec.model_validate(_example("01-workspace.yaml"))
    )
    desired = WorkspaceAdapter()._desired(Ctx(spec))  # type: ignore[arg-type]
    fits(desired, sdk.CreateWorkspaceReq)
    desired.pop("enterprise_project_id", None)
    fits(desired, sdk.UpdateWorkspaceReq)
    if spec.quotas:  # the quota PUT's body, as the client sends it
        updates = [WorkspaceQuotaUpdate(resource=q.resource, quota=q.quota) for q in spec.quotas]
        fits({"quotas": [q.to_wire() for q in updates]}, sdk.UpdateWorkspaceQuotasReq)


# ---------------------------------------------------------------- DataArts Fabric models
def test_llm_model_bodies_from_a_spec_with_every_field() -> None:
    llm = maximal(ModelSpec).llm
    assert llm is not None
    described = marked_description(llm.description, MARKER, llm_model.DESCRIPTION_LENGTH)
    body = llm_model.create_request(llm, "a-name", described)
    fits(body.to_wire(), fabric.CreateModelInput, fabric)
