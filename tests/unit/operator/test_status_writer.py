"""The one status writer: typed by the kind's status model, Failed derived, idempotent."""

from __future__ import annotations

import pytest

from modelarts_operator.api import errors
from modelarts_operator.crd.service import ServiceStatus
from modelarts_operator.crd.training_job import TrainingJobStatus
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.adapter import InvalidSpec
from modelarts_operator.reconcile.credentials import CredentialsError
from modelarts_operator.reconcile.failures import classify
from modelarts_operator.reconcile.status import (
    Report,
    StatusSchemaError,
    StatusWriter,
    Verdict,
    status_patch,
)

JOBS = StatusWriter(TrainingJobStatus)


def _cond(status: dict[str, object], type_: str) -> dict[str, object]:
    found = cond.get_condition(status.get("conditions"), type_)  # type: ignore[arg-type]
    assert found is not None, status
    return found


def test_a_field_the_schema_lacks_cannot_be_written() -> None:
    with pytest.raises(StatusSchemaError, match="serviceId"):
        JOBS.render({}, Report(facts={"serviceId": "x"}), 1)


def test_values_are_typed_and_camel_case_on_the_wire() -> None:
    status = JOBS.render({}, Report(facts={"versionId": "41", "durationSeconds": 3}), 2)
    assert status["versionId"] == 41
    assert status["observedGeneration"] == 2
    assert set(status) >= {"versionId", "durationSeconds", "conditions"}


def test_every_report_records_the_generation_unless_told_not_to() -> None:
    refused = Report(synced=Verdict(False, "ModelArts.0107", "bad spec"))
    assert JOBS.render({"observedGeneration": 1}, refused, 3)["observedGeneration"] == 3
    polled = Report(ready=Verdict(False, "Running"), observed=False)
    assert JOBS.render({"observedGeneration": 1}, polled, 3)["observedGeneration"] == 1


WAITING = Verdict(False, "WaitingForModel")
GONE = Verdict(False, "DeletedRemotely")


@pytest.mark.parametrize(
    ("synced", "ready", "failed"),
    [
        (Verdict(True, "Synced"), Verdict(True, "Ready"), ("False", "NotFailed")),
        (Verdict(False, "ModelArts.0107"), None, ("True", "ModelArts.0107")),
        (Verdict(False, "Throttled"), None, ("False", "NotFailed")),
        (WAITING, WAITING, ("False", "NotFailed")),
        (Verdict(True, "Synced"), Verdict(False, "Failed", "JOBSTAT_FAILED"), ("True", "Failed")),
        (GONE, GONE, ("True", "DeletedRemotely")),
        (Verdict(False, "Paused"), None, ("False", "NotFailed")),
    ],
)  # fmt: skip
def test_failed_follows_from_synced_and_ready(
    synced: Verdict, ready: Verdict | None, failed: tuple[str, str]
) -> None:
    status = JOBS.render({}, Report(synced=synced, ready=ready), 1)
    got = _cond(status, cond.FAILED)
    assert (got["status"], got["reason"]) == failed


def test_rendering_the_same_report_twice_changes_nothing() -> None:
    """A quiet poll must produce an equal status, or it would write every cycle."""
    report = Report(
        facts={"startTime": "2026-12-01T10:00:00Z", "metrics": {"accuracy": 0.9}, "jobId": 7},
        phase="Running",
        synced=Verdict(True, "Synced"),
        ready=Verdict(False, "Running", "JOBSTAT_RUNNING"),
    )
    first = JOBS.render({}, report, 1)
    again = JOBS.render(first, report, 1)
    assert status_patch(first, again) == {}


def test_removed_fields_become_nulls_in_the_patch() -> None:
    writer = StatusWriter(ServiceStatus)
    old = writer.render({}, Report(facts={"serviceId": "s", "progress": 50}), 1)
    new = writer.render(old, Report(drop=("progress",)), 1)
    assert status_patch(old, new) == {"progress": None}


def test_one_mapping_from_errors_to_synced() -> None:
    refused = classify(errors.InvalidParameter(error_code="ModelArts.0107", error_msg="no"))
    assert (refused.synced.reason, refused.transient, refused.event_reason) == (
        "ModelArts.0107",
        False,
        "ModelArts.0107",
    )
    throttled = classify(errors.Throttled(error_code="ModelArts.0201x", retry_after=7.0))
    assert (throttled.synced.reason, throttled.transient, throttled.delay) == ("Throttled", True, 7)
    auth = classify(errors.AuthFailed(error_code="ModelArts.0211", error_msg="bad"))
    assert auth.auth
    assert auth.synced.reason == "ModelArts.0211"
    listing = classify(
        errors.AuthFailed(error_code="ModelArts.0211", error_msg="bad"), by_category=True
    )
    assert (listing.synced.reason, listing.message) == ("AuthFailed", "ModelArts.0211: bad")
    assert classify(InvalidSpec("spec.x: bad")).synced.reason == "InvalidSpec"
    assert classify(CredentialsError("Secret a/b lacks sk")).synced.reason == "CredentialsError"


def test_a_failure_without_a_remote_object_is_not_ready_for_that_cause() -> None:
    failure = classify(errors.NotFound(error_code="ModelArts.3547", error_msg="no pool"))
    old = JOBS.render({}, Report(phase="Waiting", ready=Verdict(False, "WaitingForModel")), 1)
    status = JOBS.render(old, failure.report(has_remote=False), 1)
    assert _cond(status, cond.READY)["reason"] == "ModelArts.3547"
    assert status["phase"] == "Error"
    kept = JOBS.render(
        JOBS.render({}, Report(ready=Verdict(True, "Ready")), 1), failure.report(has_remote=True), 2
    )
    assert _cond(kept, cond.READY)["status"] == "True"


def test_remote_texts_and_lists_longer_than_the_schema_keeps_are_cut() -> None:
    """The status schema bounds what ModelArts reports (the size budget); a longer message or
    task list is cut to the bound instead of failing the status write."""
    facts = {
        "taskStatuses": [{"task": "worker-0", "message": "<" * 5000}],
        "tasks": [f"worker-{i}" for i in range(100)],
    }
    status = JOBS.render({}, Report(facts=facts), 1)
    assert status["taskStatuses"][0]["message"] == "<" * 1024
    assert len(status["tasks"]) == 64
    with pytest.raises(ValueError, match="versionCount"):  # anything else: the operator's mistake
        JOBS.render({}, Report(facts={"versionCount": -1}), 1)
