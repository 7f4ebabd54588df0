"""activeDeadlineSeconds measures how long a job has run by the API's own running duration, so
a cloud clock that disagrees with this machine's cannot stretch or cut the deadline."""

from __future__ import annotations

import time

import pytest

from modelarts_operator.resources.training_v2 import running_seconds

HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def test_the_apis_duration_wins_when_the_clouds_clock_is_ahead() -> None:
    # The cloud's clock is an hour ahead: its start time is in our future. The job has run 8 s.
    assert running_seconds(now_ms() + HOUR_MS, 8_000) == 8.0


def test_the_apis_duration_wins_when_the_clouds_clock_is_behind() -> None:
    # An hour behind: by our clock the job would have run an hour, by the API's 3 s.
    assert running_seconds(now_ms() - HOUR_MS, 3_000) == 3.0


def test_without_a_duration_the_local_clock_counts_from_the_start() -> None:
    assert running_seconds(now_ms() - 10_000, None) == pytest.approx(10, abs=1)
    assert running_seconds(now_ms() - 10_000, 0) == pytest.approx(10, abs=1)


def test_a_start_in_our_future_without_a_duration_has_not_run_yet() -> None:
    assert running_seconds(now_ms() + HOUR_MS, None) == 0.0
