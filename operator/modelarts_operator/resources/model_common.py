"""The identity the two forms of Model share (``model_imported`` and ``llm_model``); the
kind's declaration is ``model``."""

from __future__ import annotations

from typing import TypeVar

from ..crd import model as crd
from ..crd.model import ModelSpec, ModelStatus
from ..reconcile.adapter import Refs, RemoteAdapter
from ..reconcile.kube import Kind

RefsT = TypeVar("RefsT", bound=Refs)


class ModelAdapter(RemoteAdapter[ModelSpec, RefsT]):
    """A Model deleted outside the operator is created again (both forms). The slow resync
    compares what can change outside the operator (an LLM model's description and current
    version; an imported model's spec is immutable, so its resync is one GET)."""

    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = ModelSpec
    status_model = ModelStatus
    id_field = "modelId"
    name_field = "model_name"
    resyncs = True
