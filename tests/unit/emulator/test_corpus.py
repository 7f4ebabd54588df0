"""Published bodies (tests/corpus/) reach their outcome against the emulator: each custom
resource's spec is parsed by the kind's model, its remote object created by the kind's own
adapter (the operator's builders, its client) and observed until it is Ready (a v1 service
first gets published models to deploy).

The admission of the same files by a real API server is tests/integration/
test_admission_corpus.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient
from modelarts_operator.crd.generate import find_root
from modelarts_operator.reconcile.adapter import Context, RemoteAdapter
from modelarts_operator.reconcile.policies import Policies
from modelarts_operator.resources import KINDS
from modelarts_testbed.emulator import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK, EmulatorConfig
from modelarts_testbed.emulator.server import Emulator

ROOT = find_root(Path(__file__).parent)
CORPUS = sorted((ROOT / "tests" / "corpus").glob("*.yaml"))
DECLARATIONS = {kind.crd.kind: kind for kind in KINDS}


def _documents() -> list[Any]:
    return [
        pytest.param(yaml.safe_load(path.read_text(encoding="utf-8")), id=path.stem)
        for path in CORPUS
    ]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=23))
    emu.freeze()
    async with emu.serve(port=0):
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[ModelArtsClient]:
    config = ClientConfig(
        endpoint=emulator.url, project_id=DEFAULT_PROJECT_ID, max_retries=0, qps=0
    )
    async with ModelArtsClient(config, AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK)) as opened:
        yield opened


async def _created(
    doc: dict[str, Any], client: ModelArtsClient
) -> tuple[RemoteAdapter[Any, Any], Context[Any, Any], str]:
    """The object's form's adapter, its context (references resolved), and the remote ID of
    what its create made."""
    kind = DECLARATIONS[doc["kind"]]
    spec_body = dict(doc["spec"])
    if "workspaceId" in spec_body:  # the published bodies' workspaces do not exist here
        spec_body["workspaceId"] = "0"
    spec = kind.crd.spec.model_validate(spec_body)
    adapter = kind.form_for(spec).adapter
    name = doc["metadata"]["name"]
    ctx: Context[Any, Any] = Context(
        namespace="corpus",
        name=name,
        generation=1,
        spec=spec,
        status={},
        annotations={},
        policies=Policies.from_annotations({}),
        client=client,
        remote_name=name,
        refs=adapter.refs_type(),
        uid=f"uid-{name}",
    )
    ctx.refs = await adapter.resolve(ctx)
    created = await adapter.create(ctx)
    return adapter, ctx, created.remote_id


async def _published_models(emulator: Emulator, client: ModelArtsClient, count: int) -> list[str]:
    """Models a v1 service can deploy: the corpus's import sample, published."""
    doc = yaml.safe_load((ROOT / "tests" / "corpus" / "model-reference-import.yaml").read_text())
    ids = []
    for i in range(count):
        doc["spec"]["modelVersion"] = f"1.0.{i}"
        ids.append((await _created(doc, client))[2])
    emulator.advance(600)
    return ids


@pytest.mark.parametrize("doc", _documents())
async def test_a_published_body_reaches_its_outcome(
    doc: dict[str, Any], emulator: Emulator, client: ModelArtsClient
) -> None:
    if doc["kind"] == "Service" and "config" in doc["spec"]:
        models = await _published_models(emulator, client, len(doc["spec"]["config"]))
        # The publishers' model IDs and dedicated pools (clusterId) are their account's: the
        # emulator's published models stand in, and it has no dedicated pools (3547).
        doc["spec"].pop("clusterId", None)
        for item, model_id in zip(doc["spec"]["config"], models, strict=True):
            item["modelId"] = model_id
            item.pop("clusterId", None)
    adapter, ctx, remote_id = await _created(doc, client)
    assert remote_id
    emulator.advance(600)
    observed = adapter.observe(ctx, await adapter.get(ctx, remote_id))
    assert observed.ready or observed.phase in ("Succeeded", "Running"), observed
