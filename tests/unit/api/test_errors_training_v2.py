"""The v2 training error codes land in the classes reconcilers branch on, whatever the HTTP
status says (a missing job is HTTP 400, not 404; a taken name is 400, not 409)."""

from __future__ import annotations

import pytest

from modelarts_operator.api import errors


@pytest.mark.parametrize(
    ("status", "code", "cls", "retryable"),
    [
        (400, "ModelArts.2775", errors.NotFound, False),
        (400, "ModelArts.2751", errors.AlreadyExists, False),
        (400, "ModelArts.2806", errors.InvalidParameter, False),
        (400, "ModelArts.2788", errors.InvalidParameter, False),
        (400, "ModelArts.2815", errors.QuotaExceeded, False),
        (409, "ModelArts.2796", errors.StateConflict, False),
        (409, "ModelArts.2878", errors.Transient, True),
        (429, "ModelArts.2799", errors.Throttled, True),
        (400, "ModelArts.2818", errors.NotReady, False),
        (204, "ModelArts.2776", errors.NotReady, False),
        (400, "ModelArts.2822", errors.NotFound, False),
        (500, "ModelArts.2952", errors.ServerError, True),
    ],
)
def test_training_v2_codes(
    status: int, code: str, cls: type[errors.ModelArtsError], retryable: bool
) -> None:
    err = errors.error_from_response(
        status, {"error_code": code, "error_msg": "m", "error_solution": "s"}, method="POST"
    )
    assert type(err) is cls
    assert err.retryable is retryable
    assert (err.error_code, err.error_msg) == (code, "m")
