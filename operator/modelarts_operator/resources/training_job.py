"""TrainingJob: a training job in either of its API forms, with the run policy of a Kubernetes
Job (``activeDeadlineSeconds`` stops a job that runs too long, ``ttlSecondsAfterFinished``
deletes the object after completion). A job deleted remotely is reported, never re-run.

- v2 (``spec.algorithm``, what the cloud accepts today): ``training_v2``; the description
  changes in place, a change to what runs is a new job.
- v1 (``spec.config``, the 2020 API): ``training_v1``; the description changes in place, a
  config change is a new job version.

What the forms share (identity, references, run policy) is ``training_common``.
"""

from __future__ import annotations

from ..crd import training_job as crd
from ..reconcile.kinds import Form, KindDeclaration, Reference
from .training_v1 import TrainingJobV1Adapter
from .training_v2 import TrainingJobV2Adapter

DECLARATION = KindDeclaration(
    crd=crd.CRD,
    forms=(
        # v2: the spec says what runs as an algorithm; v1 as a config (the rest).
        Form("v2", TrainingJobV2Adapter(), selects=lambda spec: spec.algorithm is not None),
        Form("v1", TrainingJobV1Adapter()),
    ),
    references=(
        Reference("workspaceRef", "workspaces", ("workspaceId",)),
        Reference("algorithmRef", "algorithms", ("algorithmId",)),
        Reference("poolRef", "resourcepools", ("poolId",)),
        # A visualization job's data source: the job's ID is enough (it may still run).
        Reference("jobRef", crd.PLURAL, ("jobId",), needs_ready=False),
    ),
)
