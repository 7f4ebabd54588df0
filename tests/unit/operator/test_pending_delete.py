"""Deleting an object whose create outcome a crash kept out of status: the job is looked up by
name in its workspace and deleted; when the workspace is unknown the finalizer stays (it used
to be released with "nothing was created remotely", orphaning the training job)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from modelarts_operator.api import errors
from modelarts_operator.crd.training_job import TrainingJobSpec
from modelarts_operator.reconcile.adapter import Context, DeleteBlocked
from modelarts_operator.reconcile.controller import Reconciler
from modelarts_operator.reconcile.naming import owner_marker
from modelarts_operator.reconcile.policies import CREATE_PENDING, Policies
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.resources.training_job import DECLARATION

SPEC = {
    "workspaceRef": {"name": "team"},
    "config": {
        "workerServerNum": 1,
        "appUrl": "/b/code/",
        "bootFileUrl": "/b/code/train.py",
        "engineId": 1,
        "specId": 1,
        "dataUrl": "/b/data/",
        "trainUrl": "/b/out/",
    },
}


MARKER = owner_marker("", "TrainingJob", "ns", "job")


class Jobs:
    """The training job the crashed create made, in workspace ws-1."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.deleted: list[int] = []

    async def find_by_name(self, name: str, workspace_id: str) -> Any:
        self.lookups.append(workspace_id)
        if workspace_id == "ws-1" and not self.deleted:
            return SimpleNamespace(job_id=7, version_id=1)
        return None

    async def get_version(self, job_id: int, version_id: int) -> Any:
        if self.deleted:
            raise errors.NotFound(error_msg="gone")
        # the description carries the marker of ns/job: the interrupted create was ours
        return SimpleNamespace(job_id=7, version_id=1, status=10, job_desc=MARKER)

    async def delete(self, job_id: int) -> None:
        self.deleted.append(job_id)


@pytest.fixture
def registry() -> Registry:
    return Registry()


def reconciler() -> Reconciler:
    return Reconciler(DECLARATION, kube=None, clients=None)  # type: ignore[arg-type]


def context(jobs: Jobs, registry: Registry) -> Context:
    return Context(
        namespace="ns",
        name="job",
        generation=1,
        spec=TrainingJobSpec.model_validate(SPEC),
        status={},
        annotations={CREATE_PENDING: "ns-job"},
        policies=Policies(),
        client=SimpleNamespace(training_jobs=jobs),  # type: ignore[arg-type]
        remote_name="ns-job",
        marker=MARKER,
        registry=registry,
    )


async def test_an_unknown_workspace_keeps_the_finalizer(registry: Registry) -> None:
    jobs = Jobs()
    with pytest.raises(DeleteBlocked, match="Workspace 'team'"):
        await reconciler().delete(context(jobs, registry))
    assert jobs.deleted == []


async def test_a_workspace_going_away_is_still_looked_in(registry: Registry) -> None:
    """The Workspace is being deleted too (not Ready): its recorded ID is where to look."""
    registry.update(
        "workspaces",
        "MODIFIED",
        {
            "metadata": {"namespace": "ns", "name": "team", "deletionTimestamp": "now"},
            "status": {"workspaceId": "ws-1", "phase": "Deleting"},
        },
    )
    jobs = Jobs()
    events = await reconciler().delete(context(jobs, registry))
    assert jobs.lookups == ["ws-1"]
    assert jobs.deleted == [7]
    assert events == [("Normal", "Deleted", "deleted remote 7")]
