"""Model: an imported ModelArts model (``model_imported``), or with ``spec.llm`` a DataArts
Fabric LLM model (``llm_model``)."""

from __future__ import annotations

from ..crd import model as crd
from ..reconcile.kinds import Form, KindDeclaration, Reference
from .llm_model import LlmModelAdapter
from .model_imported import ImportedModelAdapter

DECLARATION = KindDeclaration(
    crd=crd.CRD,
    forms=(
        Form("llm", LlmModelAdapter(), selects=lambda spec: spec.llm is not None),
        Form("imported", ImportedModelAdapter()),
    ),
    references=(
        Reference("workspaceRef", "workspaces", ("workspaceId",)),
        Reference("trainingJobRef", "trainingjobs", ("trainUrl", "jobId", "versionName")),
    ),
)
