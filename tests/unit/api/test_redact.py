"""Redaction: per credential source, pruned when the source changes or goes, and never
inside a longer word (issue 24: one process-wide set, never pruned, turned ``Failed`` into
``***ed`` in everyone's messages once a Secret held ``Fail``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from modelarts_operator.api.redact import (
    RedactingFilter,
    SecretScope,
    live_secret_count,
    redact,
)


@pytest.fixture
def scope() -> Iterator[SecretScope]:
    s = SecretScope("test")
    yield s
    s.close()


def test_registered_and_patterned_secrets_are_hidden(scope: SecretScope) -> None:
    scope.replace(["hunter2-long-secret"])
    text = redact(
        'login with hunter2-long-secret and {"password": "other-pass"} X-Auth-Token: MIIabc'
    )
    assert "hunter2-long-secret" not in text
    assert "other-pass" not in text
    assert "MIIabc" not in text
    assert redact("Signature=" + "ab" * 32) == "Signature=***"
    assert redact("plain text") == "plain text"


def test_a_short_secret_does_not_mangle_words(scope: SecretScope) -> None:
    scope.replace(["Fail"])
    assert redact("Failed: the job Failed") == "Failed: the job Failed"
    assert redact("sk was Fail.") == "sk was ***."
    assert redact('"Fail"') == '"***"'


def test_a_replaced_or_closed_source_stops_being_hidden() -> None:
    before = live_secret_count()
    a, b = SecretScope("secret team-a/creds"), SecretScope("secret team-b/creds")
    a.replace(["old-secret-value-a"])
    b.replace(["secret-value-b"])
    assert redact("old-secret-value-a secret-value-b") == "*** ***"
    a.replace(["new-secret-value-a"])  # the Secret rotated
    assert redact("old-secret-value-a") == "old-secret-value-a"
    assert redact("new-secret-value-a") == "***"
    a.close()  # the Secret is gone
    assert redact("new-secret-value-a") == "new-secret-value-a"
    assert redact("secret-value-b") == "***"  # another source is untouched
    b.close()
    assert live_secret_count() == before


def test_two_sources_with_one_value_keep_it_hidden_until_both_go() -> None:
    a, b = SecretScope("a"), SecretScope("b")
    a.replace(["shared-value-1234"])
    b.replace(["shared-value-1234"])
    a.close()
    assert redact("shared-value-1234") == "***"
    b.close()
    assert redact("shared-value-1234") == "shared-value-1234"


def test_redacting_filter_cleans_log_records(
    scope: SecretScope, caplog: pytest.LogCaptureFixture
) -> None:
    scope.replace(["filter-secret-value"])
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("value is %s", "filter-secret-value")
    assert "filter-secret-value" not in caplog.text
    assert "***" in caplog.text
