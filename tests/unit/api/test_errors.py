"""Every documented error body shape parses, and documented codes classify as documented."""

from __future__ import annotations

import pytest

from modelarts_operator.api import errors
from modelarts_operator.api.errors import error_from_response, parse_error_body


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "msg", "request_id"),
    [
        # generic ModelArts/IAM shape
        (400, {"error_msg": "The format of message is error", "error_code": "AS.0001"},
         errors.InvalidParameter, "AS.0001", "The format of message is error", None),
        # v1 training family, is_success false
        (400, {"is_success": False, "error_msg": "Job name:TestModelArtsJob is existed",
               "error_code": "ModelArts.0103"},
         errors.AlreadyExists, "ModelArts.0103", "Job name:TestModelArtsJob is existed", None),
        # workspace shape with request_id; 0104 "not exist" means NotFound
        (404, {"error_msg": "workspace: ccd05d1a553b4e188ea878e7dcb85e47 not exist.",
               "error_code": "ModelArts.0104", "request_id": "3df6cb1559f74c48b97db739c716eae0"},
         errors.NotFound, "ModelArts.0104",
         "workspace: ccd05d1a553b4e188ea878e7dcb85e47 not exist.",
         "3df6cb1559f74c48b97db739c716eae0"),
        (400, {"error_msg": "Error message.", "error_code": "ModelArts.0104",
               "request_id": "21b81005261c4da5a627b4e9b9d58d50"},
         errors.InvalidParameter, "ModelArts.0104", "Error message.",
         "21b81005261c4da5a627b4e9b9d58d50"),
        # DataArts shapes
        (400, {"error_code": "common.01000001", "error_msg": "failed to read http request",
               "solution_msg": "check your input"},
         errors.InvalidParameter, "common.01000001", "failed to read http request", None),
        (401, {"error_code": "APIG.1002",
               "error_msg": "Incorrect token or token resolution failed"},
         errors.AuthFailed, "APIG.1002", "Incorrect token or token resolution failed", None),
        (403, {"error": {"code": "403", "message": "X-Auth-Token is invalid in the request",
                         "title": "Forbidden"}, "error_code": 403,
               "error_msg": "X-Auth-Token is invalid in the request", "title": "Forbidden"},
         errors.Forbidden, "403", "X-Auth-Token is invalid in the request", None),
        (404, {"error_code": "common.01000001",
               "error_msg": "response status exception, code: 404"},
         errors.NotFound, "common.01000001", "response status exception, code: 404", None),
        (408, {"error_code": "common.00000408", "error_msg": "timeout exception occurred"},
         errors.ServerError, "common.00000408", "timeout exception occurred", None),
        (500, {"error_code": "common.00000500", "error_msg": "internal error"},
         errors.ServerError, "common.00000500", "internal error", None),
    ],
)  # fmt: skip
def test_documented_error_shapes(
    status: int,
    body: dict[str, object],
    cls: type[errors.ModelArtsError],
    code: str,
    msg: str,
    request_id: str | None,
) -> None:
    err = error_from_response(status, body, request_id="header-id", method="GET", path="/x")
    assert type(err) is cls
    assert err.status == status
    assert err.error_code == code
    assert err.error_msg == msg
    assert err.request_id == (request_id or "header-id")
    assert code in str(err)
    assert msg in str(err)


def test_solution_msg_is_kept() -> None:
    fields = parse_error_body(b'{"error_code":"x.1","error_msg":"m","solution_msg":"do this"}')
    assert fields["solution_msg"] == "do this"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("ModelArts.0103", errors.AlreadyExists), ("ModelArts.3002", errors.AlreadyExists),
        ("ModelArts.3503", errors.AlreadyExists), ("ModelArts.0102", errors.NotFound),
        ("ModelArts.3001", errors.NotFound), ("ModelArts.3502", errors.NotFound),
        ("ModelArts.7005", errors.NotFound), ("ModelArts.3507", errors.NotFound),
        ("ModelArts.0106", errors.QuotaExceeded), ("ModelArts.0113", errors.QuotaExceeded),
        ("ModelArts.3520", errors.QuotaExceeded), ("ModelArts.3522", errors.QuotaExceeded),
        ("ModelArts.0107", errors.InvalidParameter), ("ModelArts.0115", errors.InvalidParameter),
        ("ModelArts.3589", errors.InvalidParameter), ("ModelArts.0114", errors.Throttled),
        ("ModelArts.0105", errors.StateConflict), ("ModelArts.3515", errors.StateConflict),
        ("ModelArts.3519", errors.StateConflict), ("ModelArts.3009", errors.StateConflict),
        ("ModelArts.7004", errors.StateConflict), ("ModelArts.2604", errors.StateConflict),
        ("ModelArts.0202", errors.AuthFailed), ("ModelArts.0211", errors.AuthFailed),
        ("ModelArts.0108", errors.Forbidden), ("ModelArts.7003", errors.Forbidden),
        ("ModelArts.0010", errors.ServerError), ("ModelArts.2506", errors.ServerError),
        ("ModelArts.7101", errors.ServerError),
    ],
)  # fmt: skip
def test_code_wins_over_status(code: str, cls: type[errors.ModelArtsError]) -> None:
    # 400 would be InvalidParameter by status alone: the code decides.
    assert errors.classify(400, code) is cls


@pytest.mark.parametrize(
    ("status", "method", "cls"),
    [
        (400, "GET", errors.InvalidParameter), (401, "GET", errors.AuthFailed),
        (403, "GET", errors.Forbidden), (404, "DELETE", errors.NotFound),
        (409, "POST", errors.AlreadyExists), (409, "PUT", errors.StateConflict),
        (429, "GET", errors.Throttled), (500, "GET", errors.ServerError),
        (502, "GET", errors.ServerError), (503, "GET", errors.ServerError),
        (504, "GET", errors.ServerError), (418, "GET", errors.ModelArtsError),
    ],
)  # fmt: skip
def test_status_fallback(status: int, method: str, cls: type[errors.ModelArtsError]) -> None:
    assert errors.classify(status, None, None, method) is cls


def test_retryable_flags() -> None:
    assert errors.Throttled().retryable
    assert errors.ServerError().retryable
    assert not errors.NotFound().retryable
    assert not errors.Ambiguous().retryable
    assert not errors.InvalidParameter().retryable


@pytest.mark.parametrize("body", [b"", b"<html>Bad Gateway</html>", b"[1,2]", None])
def test_unparseable_bodies_do_not_break(body: bytes | None) -> None:
    err = error_from_response(502, body, method="GET", path="/v1/p/models")
    assert isinstance(err, errors.ServerError)
    assert err.error_code is None
    assert "502" in str(err)
    if body and body.startswith(b"<html>"):
        assert err.error_msg == "<html>Bad Gateway</html>"
