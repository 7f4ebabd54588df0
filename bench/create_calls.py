"""ModelArts API calls per create, for every kind and form (no cluster needed).

    python bench/create_calls.py

Each object of ``examples/`` (every kind, both forms where a kind has two) is reconciled
once by the real reconciler and adapter against the in-process emulator, as its first create:
the figure is the ModelArts calls that one reconcile made, by endpoint. The Kubernetes side is
a stand-in that records the create-intent annotation (the API server plays no part in the
count). References resolve from a registry holding the example's dependencies as Ready.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient
from modelarts_operator.reconcile.controller import Reconciler
from modelarts_operator.reconcile.policies import Allowance
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.resources import KINDS
from modelarts_operator.settings import OperatorSettings
from modelarts_testbed.emulator import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_SK, EmulatorConfig
from modelarts_testbed.emulator.server import Emulator

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    ("Workspace", "examples/01-workspace.yaml"),
    ("TrainingJob v2", "examples/02-trainingjob.yaml"),
    ("TrainingJob v1", "examples/v1/trainingjob-v1.yaml"),
    ("Model imported", "examples/03-model.yaml"),
    ("Model LLM", "examples/llm/model.yaml"),
    ("Service v2", "examples/04-service.yaml"),
    ("Service v1", "examples/v1/service-v1.yaml"),
    ("Notebook", "examples/notebook/notebook.yaml"),
]
NS = "bench"


class Clients:
    """One ModelArts client for the namespace; default settings; no adoption allowance."""

    def __init__(self, client: ModelArtsClient) -> None:
        self.client = client
        self.settings = OperatorSettings()

    async def for_namespace(self, namespace: str) -> ModelArtsClient:
        return self.client

    def allowance(self, namespace: str) -> Allowance:
        return Allowance.NONE


class Kube:
    """The create-intent annotation write; nothing else reaches the API server here."""

    async def patch_annotations(self, kind: Any, ns: str, name: str, ann: Any) -> Any:
        return {"metadata": {"resourceVersion": "2"}}

    async def get(self, path: str) -> Any:
        from modelarts_operator.reconcile.kube import KubeError

        raise KubeError(404, "not found")  # the exportTo ConfigMap does not exist yet

    async def create(self, path: str, body: Any) -> Any:
        return body


def ready(registry: Registry, plural: str, name: str, status: dict[str, Any]) -> None:
    conditions = [{"type": "Ready", "status": "True", "reason": "Ready"}]
    body = {
        "metadata": {"namespace": NS, "name": name},
        "status": {**status, "conditions": conditions},
    }
    registry.update(plural, "ADDED", body)


async def measure() -> dict[str, dict[str, int]]:
    emu = Emulator(EmulatorConfig(seed=3))
    emu.freeze()
    registry = Registry()
    by_kind = {k.crd.kind: k for k in KINDS}
    results: dict[str, dict[str, int]] = {}
    async with emu.serve(port=0):
        config = ClientConfig(endpoint=emu.url, project_id=DEFAULT_PROJECT_ID, region="cn-north-4")
        async with ModelArtsClient(config, AkSkCredentials(ak=DEFAULT_AK, sk=DEFAULT_SK)) as client:
            clients = Clients(client)
            for label, path in EXAMPLES:
                doc = yaml.safe_load((ROOT / path).read_text())
                kind = by_kind[doc["kind"]]
                body = {
                    "metadata": {
                        "namespace": NS,
                        "name": doc["metadata"]["name"],
                        "uid": f"uid-{label}",
                        "generation": 1,
                    },
                    "spec": doc["spec"],
                }
                reconciler = Reconciler(kind, Kube(), clients, registry)  # type: ignore[arg-type]
                ctx = await reconciler.context(body)
                emu.core.calls.clear()
                outcome = await reconciler.reconcile(ctx)
                results[label] = dict(sorted(emu.core.calls.items()))
                emu.advance(3600)  # published, running: what depends on it may go on
                status = outcome.status
                assert status.get(kind.id_field), (label, status)
                # what the later examples reference
                if doc["kind"] == "Workspace":
                    ready(registry, "workspaces", "demo", {"workspaceId": status["workspaceId"]})
                if label == "TrainingJob v2":
                    train = "/demo-bucket/mnist/output/"
                    job = {"jobId": status["jobId"], "trainUrl": train, "versionName": "V0001"}
                    ready(registry, "trainingjobs", "mnist", job)
                if label == "Model imported":
                    source = {"location": "/demo-bucket/mnist/output/"}
                    model = {"modelId": status["modelId"], "source": source}
                    ready(registry, "models", "mnist-v1", model)
    return results


def main() -> int:
    results = asyncio.run(measure())
    for label, calls in results.items():
        detail = ", ".join(f"{endpoint} x{n}" for endpoint, n in calls.items())
        print(f"{label:16} {sum(calls.values())} calls: {detail}")
    out = ROOT / "bench" / "results" / "create_calls.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
