"""One module per kind; ``KINDS`` lists their declarations. Importing this package registers
every kind's kopf handlers. Adding a kind: its ``crd/<kind>.py`` and ``resources/<kind>.py``,
and one entry in the import and in ``KINDS`` below."""

from ..reconcile.runtime import register, register_credentials_watch
from . import model, notebook, service, training_job, workspace

KINDS = (
    workspace.DECLARATION,
    training_job.DECLARATION,
    model.DECLARATION,
    service.DECLARATION,
    notebook.DECLARATION,
)
ADAPTERS = tuple(kind.adapter for kind in KINDS)
for _kind in KINDS:
    register(_kind)
register_credentials_watch()

__all__ = ["ADAPTERS", "KINDS"]
