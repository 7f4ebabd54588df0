"""activeDeadlineSeconds for both TrainingJob forms: a job that runs longer is stopped and the
object ends Failed with reason DeadlineExceeded. The deadline counts from the job's start, so a
job still queued when it was created is looked at again until it runs (before, a job not yet
started at its create was never looked at again and ran forever)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import OperatorProcess, apply, condition, delete_obj, namespace, wait_for
from .test_lifecycle import training_job
from .test_training_v2 import v2_job

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("form", ["v1", "v2"])
def test_deadline_stops_a_job_that_runs_too_long(operator: OperatorProcess, form: str) -> None:
    cp = operator.cp
    ns = namespace(cp, f"it-deadline-{form}")
    make: Any = v2_job if form == "v2" else training_job
    apply(cp, make("slow", ns, activeDeadlineSeconds=2), ns)
    slow = wait_for(
        cp, "trainingjob", "slow", ns,
        lambda o: condition(o, "Ready").get("reason") == "DeadlineExceeded", 90, operator,
    )  # fmt: skip
    assert slow["status"]["phase"] == "Failed"
    assert condition(slow, "Failed")["status"] == "True"
    delete_obj(cp, "trainingjob", "slow", ns)
