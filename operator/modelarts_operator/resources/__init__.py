"""One module per kind; ``KINDS`` lists their declarations. Importing this package registers
nothing: the runner registers every kind's kopf handlers into its own kopf registry
(``reconcile.handlers.register``). Adding a kind: its ``crd/<kind>.py`` and
``resources/<kind>.py``, and one entry in the import and in ``KINDS`` below."""

from . import (
    algorithm,
    model,
    network,
    notebook,
    resource_pool,
    service,
    training_job,
    workspace,
)

KINDS = (
    workspace.DECLARATION,
    algorithm.DECLARATION,
    training_job.DECLARATION,
    model.DECLARATION,
    service.DECLARATION,
    notebook.DECLARATION,
    network.DECLARATION,
    resource_pool.DECLARATION,
)

__all__ = ["KINDS"]
