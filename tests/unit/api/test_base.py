"""Transport behaviour: retries and backoff, Retry-After, Ambiguous creates, token auth,
rate limiting, logging with the request id, and no secret anywhere."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
import pytest

from modelarts_operator.api import (
    AkSkCredentials,
    ClientConfig,
    ModelArtsClient,
    ModelImportRequest,
    PasswordCredentials,
    WorkspaceCreateRequest,
    errors,
)
from modelarts_operator.api.ratelimit import RateLimiter

from .helpers import PROJECT, FakeTime, Script, make_client

MODEL = ModelImportRequest(
    model_name="mnist", model_version="1.0.0", source_location="obs://b/m/", model_type="TensorFlow"
)
LIST_OK = {"total_count": 0, "count": 0, "models": []}
THROTTLED = {"error_code": "ModelArts.0114", "error_msg": "Requests are sent too frequently"}


async def test_429_with_retry_after_waits_exactly_that_long(
    script: Script, fake_time: FakeTime
) -> None:
    script.json(429, THROTTLED, {"Retry-After": "7"}).json(200, LIST_OK)
    client = make_client(script, fake_time)
    page = await client.models.list()
    assert page.total_count == 0
    assert len(script.requests) == 2
    assert fake_time.sleeps == [7.0]


async def test_retry_after_as_http_date(script: Script, fake_time: FakeTime) -> None:
    when = fake_time.wall + timedelta(seconds=12)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    script.json(429, {}, {"Retry-After": header}).json(200, LIST_OK)
    await make_client(script, fake_time).models.list()
    assert fake_time.sleeps == [12.0]


async def test_0114_without_retry_after_backs_off_exponentially(
    script: Script, fake_time: FakeTime
) -> None:
    # The training family answers throttling inside a 200 with is_success false.
    body = {"is_success": False, **THROTTLED}
    for _ in range(3):
        script.json(200, body)
    script.json(200, {"is_success": True, "jobs": [], "job_total_count": 0})
    client = make_client(script, fake_time, backoff_base=1.0)
    await client.training_jobs.list()
    # equal jitter with rand=0.5: 0.75 * base * 2**attempt
    assert fake_time.sleeps == [0.75, 1.5, 3.0]


async def test_5xx_is_retried_with_growing_capped_delays_then_raised(
    script: Script, fake_time: FakeTime
) -> None:
    script.json(503, {"error_code": "ModelArts.0010", "error_msg": "boom"}, {"X-request-id": "r-5"})
    client = make_client(script, fake_time, max_retries=4, backoff_base=1.0, backoff_max=3.0)
    with pytest.raises(errors.ServerError) as info:
        await client.models.get("m")
    assert len(script.requests) == 5
    assert fake_time.sleeps == [0.75, 1.5, 2.25, 2.25]
    assert info.value.request_id == "r-5"
    assert info.value.status == 503


async def test_jitter_spreads_delays() -> None:
    delays = []
    for r in (0.0, 1.0):
        s = Script().json(500, {}).json(200, LIST_OK)
        t = FakeTime()
        c = ModelArtsClient(
            ClientConfig(project_id="p", backoff_base=2.0),
            AkSkCredentials(ak="a", sk="secret-key"),
            transport=s.transport,
            sleep=t.sleep,
            clock=t.clock,
            rand=(lambda value: lambda: value)(r),
        )
        await c.models.list()
        delays.append(t.sleeps[0])
    assert delays == [1.0, 2.0]  # never zero: no hot loop


async def test_retry_after_beyond_the_cap_is_raised_not_slept(
    script: Script, fake_time: FakeTime
) -> None:
    script.json(429, THROTTLED, {"Retry-After": "3600"})
    client = make_client(script, fake_time, max_retry_after=60)
    with pytest.raises(errors.Throttled) as info:
        await client.models.list()
    assert info.value.retry_after == 3600
    assert fake_time.sleeps == []
    assert len(script.requests) == 1


async def test_non_retryable_errors_are_raised_at_once(script: Script, fake_time: FakeTime) -> None:
    script.json(400, {"error_code": "ModelArts.0107", "error_msg": "bad spec_id"})
    with pytest.raises(errors.InvalidParameter) as info:
        await make_client(script, fake_time).models.get("x")
    assert len(script.requests) == 1
    assert fake_time.sleeps == []
    assert info.value.error_msg == "bad spec_id"


async def test_timed_out_create_is_not_resent(script: Script, fake_time: FakeTime) -> None:
    script.then(httpx.ReadTimeout("timed out"))
    client = make_client(script, fake_time)
    with pytest.raises(errors.Ambiguous):
        await client.models.create(MODEL)
    assert len(script.requests) == 1
    assert fake_time.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_create_answered_by_5xx_is_ambiguous(
    status: int, script: Script, fake_time: FakeTime
) -> None:
    script.json(status, {"error_code": "ModelArts.0010", "error_msg": "x"})
    with pytest.raises(errors.Ambiguous) as info:
        await make_client(script, fake_time).workspaces.create(WorkspaceCreateRequest(name="wsp1"))
    assert len(script.requests) == 1
    assert info.value.status == status


async def test_create_throttled_is_retried(script: Script, fake_time: FakeTime) -> None:
    script.json(429, THROTTLED, {"Retry-After": "2"}).json(200, {"model_id": "m-1"})
    created = await make_client(script, fake_time).models.create(MODEL)
    assert created.model_id == "m-1"
    assert len(script.requests) == 2
    assert fake_time.sleeps == [2.0]


async def test_create_connection_refused_is_retried(script: Script, fake_time: FakeTime) -> None:
    script.then(httpx.ConnectError("refused")).json(200, {"model_id": "m-1"})
    created = await make_client(script, fake_time).models.create(MODEL)
    assert created.model_id == "m-1"
    assert len(script.requests) == 2


async def test_idempotent_get_is_retried_after_timeout(script: Script, fake_time: FakeTime) -> None:
    script.then(httpx.ReadTimeout("slow")).json(200, LIST_OK)
    await make_client(script, fake_time).models.list()
    assert len(script.requests) == 2


async def test_transport_errors_exhaust_into_transport_error(
    script: Script, fake_time: FakeTime
) -> None:
    script.then(httpx.ConnectError("refused"))
    with pytest.raises(errors.TransportError):
        await make_client(script, fake_time, max_retries=2).models.list()
    assert len(script.requests) == 3


async def test_is_success_false_with_200_is_an_error(script: Script, fake_time: FakeTime) -> None:
    script.json(200, {"is_success": False, "error_code": "ModelArts.0105", "error_msg": "no"})
    with pytest.raises(errors.StateConflict):
        await make_client(script, fake_time).training_jobs.stop(1, 2)


async def test_on_call_hook_sees_every_attempt(script: Script, fake_time: FakeTime) -> None:
    calls: list[tuple[str, str, int | None]] = []
    script.json(500, {}).json(200, LIST_OK)
    client = make_client(
        script,
        fake_time,
        on_call=lambda name, method, status, secs: calls.append((name, method, status)),
    )
    await client.models.list()
    assert calls == [("models.list", "GET", 500), ("models.list", "GET", 200)]


async def test_broken_hook_does_not_fail_the_call(script: Script, fake_time: FakeTime) -> None:
    def hook(*_: object) -> None:
        raise RuntimeError("metrics bug")

    script.json(200, LIST_OK)
    page = await make_client(script, fake_time, on_call=hook).models.list()
    assert page.count == 0


async def test_rate_limiter_spaces_calls(script: Script, fake_time: FakeTime) -> None:
    script.json(200, LIST_OK)
    client = make_client(script, fake_time, qps=2.0, burst=2)
    for _ in range(5):
        await client.models.list()
    # two from the burst, then one every 0.5 s
    assert fake_time.sleeps == [0.5, 0.5, 0.5]


async def test_throttling_pauses_the_shared_limiter(fake_time: FakeTime) -> None:
    limiter = RateLimiter(100.0, 10, clock=fake_time.clock, sleep=fake_time.sleep)
    limiter.pause(5.0)
    waited = await limiter.acquire()
    assert waited == pytest.approx(5.0)


async def test_logs_carry_request_id_and_status(
    script: Script, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    script.json(
        404, {"error_code": "ModelArts.3001", "error_msg": "gone"}, {"X-request-id": "rid-42"}
    )
    caplog.set_level(logging.DEBUG, logger="modelarts_operator.api")
    with pytest.raises(errors.NotFound):
        await make_client(script, fake_time).models.get("m-9")
    text = caplog.text
    assert "rid-42" in text
    assert "404" in text
    assert f"/v1/{PROJECT}/models/m-9" in text


# ------------------------------------------------------------------------------- tokens
def _token_response(token: str, expires: datetime) -> httpx.Response:
    return httpx.Response(
        201,
        json={
            "token": {
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "methods": ["password"],
            }
        },
        headers={"X-Subject-Token": token},
    )


PASSWORD = PasswordCredentials(username="alice", password="pa55-word-secret", domain="acme")


def _iam_script(fake_time: FakeTime, tokens: list[str]) -> tuple[Script, list[str]]:
    issued: list[str] = []
    api_calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/auth/tokens":
            token = tokens[len(issued)]
            issued.append(token)
            return _token_response(token, fake_time.wall + timedelta(hours=24))
        api_calls.append(request.headers.get("X-Auth-Token", ""))
        if request.headers.get("X-Auth-Token") == "expired-token-0000":
            return httpx.Response(
                401, json={"error_code": "ModelArts.0202", "error_msg": "expired"}
            )
        return httpx.Response(200, json=LIST_OK)

    return Script().then(handler), api_calls


async def test_password_auth_fetches_caches_and_uses_token(fake_time: FakeTime) -> None:
    script, api_calls = _iam_script(
        fake_time, ["token-one-1111", "token-two-2222", "token-three-3333"]
    )
    client = make_client(
        script, fake_time, credentials=PASSWORD, iam_endpoint="https://iam.example.com"
    )
    await client.models.list()
    await client.models.list()
    iam = [r for r in script.requests if r.url.path == "/v3/auth/tokens"]
    assert len(iam) == 1
    assert iam[0].url.host == "iam.example.com"
    body = script.body(script.requests.index(iam[0]))
    assert body["auth"]["identity"]["methods"] == ["password"]
    assert body["auth"]["identity"]["password"]["user"] == {
        "name": "alice",
        "password": "pa55-word-secret",
        "domain": {"name": "acme"},
    }
    assert body["auth"]["scope"] == {"project": {"name": "cn-north-4"}}
    assert api_calls == ["token-one-1111", "token-one-1111"]
    # refreshed before expiry: 23h30m later is inside the 1 h margin. The token still has
    # half an hour, so the call goes out with it while the next one is fetched beside it.
    fake_time.advance(23.5 * 3600)
    await client.models.list()
    assert api_calls[-1] == "token-one-1111"
    assert client.tokens is not None
    assert client.tokens.pending is not None
    await client.tokens.pending
    await client.models.list()
    assert api_calls[-1] == "token-two-2222"
    # Past its last usable minute, a call waits for the next token instead.
    fake_time.advance(24 * 3600)
    await client.models.list()
    assert api_calls[-1] == "token-three-3333"


async def test_expired_token_is_refreshed_once_then_retried(fake_time: FakeTime) -> None:
    script, api_calls = _iam_script(fake_time, ["expired-token-0000", "fresh-token-1111"])
    client = make_client(script, fake_time, credentials=PASSWORD)
    page = await client.models.list()
    assert page.count == 0
    assert api_calls == ["expired-token-0000", "fresh-token-1111"]


async def test_token_rejected_twice_is_not_a_loop(fake_time: FakeTime) -> None:
    script, api_calls = _iam_script(fake_time, ["expired-token-0000", "expired-token-0000"])
    client = make_client(script, fake_time, credentials=PASSWORD)
    with pytest.raises(errors.AuthFailed):
        await client.models.list()
    assert len(api_calls) == 2


async def test_concurrent_calls_share_one_token_fetch(fake_time: FakeTime) -> None:
    import asyncio

    script, _ = _iam_script(fake_time, ["token-one-1111", "x", "y"])
    client = make_client(script, fake_time, credentials=PASSWORD)
    await asyncio.gather(*(client.models.list() for _ in range(5)))
    assert sum(r.url.path == "/v3/auth/tokens" for r in script.requests) == 1


async def test_iam_without_subject_token_is_auth_failed(fake_time: FakeTime) -> None:
    script = Script().json(201, {"token": {}})
    with pytest.raises(errors.AuthFailed):
        await make_client(script, fake_time, credentials=PASSWORD).models.list()


# ------------------------------------------------------------------------------ secrets
SECRETS = ["sk-very-secret-value", "pa55-word-secret", "sts-security-token-xyz", "token-one-1111"]


async def test_no_secret_in_logs_reprs_or_errors(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    sts = AkSkCredentials(
        ak="AK1", sk="sk-very-secret-value", security_token="sts-security-token-xyz"
    )
    texts += [repr(sts), str(sts), repr(PASSWORD), str(PASSWORD)]

    # AK/SK client: a failure whose server message echoes the secret
    echo = Script().json(
        401, {"error_code": "ModelArts.0211", "error_msg": "bad sk sk-very-secret-value"}
    )
    aksk = make_client(echo, fake_time, credentials=sts)
    texts.append(repr(aksk))
    with pytest.raises(errors.AuthFailed) as info:
        await aksk.models.list()
    texts += [str(info.value), repr(info.value), str(info.value.error_msg)]

    # token client, including a token rejection and refresh
    script, _ = _iam_script(fake_time, ["token-one-1111", "token-two-2222"])
    token_client = make_client(script, fake_time, credentials=PASSWORD)
    await token_client.models.list()
    texts += [repr(token_client), repr(token_client.tokens)]
    broken = Script().then(httpx.ReadTimeout("t"))
    with pytest.raises(errors.Ambiguous) as amb:
        await make_client(broken, fake_time, credentials=sts).models.create(MODEL)
    texts += [str(amb.value), repr(amb.value)]

    texts += [r.getMessage() for r in caplog.records]
    joined = "\n".join(texts)
    for secret in SECRETS:
        assert secret not in joined, secret
    # the redaction is visible, not silent
    assert "***" in str(info.value.error_msg)


def test_client_config_has_no_secret_fields() -> None:
    cfg = ClientConfig(project_id="p")
    assert "sk" not in repr(cfg).lower().replace("ask", "")


def test_ca_bundle_is_loaded() -> None:
    missing = ClientConfig(project_id="p", ca_bundle="/nonexistent/ca.pem")
    with pytest.raises(FileNotFoundError):
        ModelArtsClient(missing, AkSkCredentials(ak="a", sk="secret-key"))
