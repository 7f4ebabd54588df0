"""CRD types: pydantic Spec/Status models per kind and the CRD manifest generator.

``common`` holds the shared fields and status shape; ``workspace``, ``training_job``,
``model``, ``service`` (with its v2 form in ``service_v2``) and ``notebook`` one kind each;
``generate`` turns them into CRD manifests.
"""

from __future__ import annotations

from .common import API_VERSION, CATEGORY, GROUP, VERSION, CommonStatus, Condition
from .model import ModelSpec, ModelStatus
from .service import ServiceSpec, ServiceStatus
from .training_job import TrainingJobSpec, TrainingJobStatus
from .workspace import WorkspaceSpec, WorkspaceStatus

__all__ = [
    "API_VERSION",
    "CATEGORY",
    "GROUP",
    "VERSION",
    "CommonStatus",
    "Condition",
    "ModelSpec",
    "ModelStatus",
    "ServiceSpec",
    "ServiceStatus",
    "TrainingJobSpec",
    "TrainingJobStatus",
    "WorkspaceSpec",
    "WorkspaceStatus",
]
