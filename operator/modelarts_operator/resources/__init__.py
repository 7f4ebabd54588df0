"""One controller per kind. Importing this package registers every kind's kopf handlers."""

from ..reconcile.runtime import register, register_credentials_watch
from .model import ModelAdapter
from .service import ServiceAdapter
from .training_job import TrainingJobAdapter
from .workspace import WorkspaceAdapter

ADAPTERS = (WorkspaceAdapter(), TrainingJobAdapter(), ModelAdapter(), ServiceAdapter())
for _adapter in ADAPTERS:
    register(_adapter)
register_credentials_watch()

__all__ = ["ADAPTERS"]
