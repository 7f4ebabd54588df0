"""The Refresher alone, with a fake clock and a fake fetch: when it fetches, who waits, what a
failure does. The 40-minute margin with a 6 h lease is the SDK's (credentials.py:
_DEFAULT_EXPIRATION_THRESHOLD_SECONDS); a shorter lease is fetched at four fifths of its life
(the SDK would fetch one of 40 minutes or less on every call)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from modelarts_operator.api.auth import Lease, Refresher

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Fake:
    def __init__(self, lifetime: timedelta) -> None:
        self.now = T0
        self.lifetime = lifetime
        self.fetches = 0
        self.fail: Exception | None = None
        self.gate: asyncio.Event | None = None

    async def fetch(self) -> Lease[str]:
        self.fetches += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return Lease(f"v{self.fetches}", issued_at=self.now, expires_at=self.now + self.lifetime)

    def refresher(self) -> Refresher[str]:
        return Refresher(self.fetch, now=lambda: self.now, refresh_margin=timedelta(minutes=40))


@pytest.mark.parametrize(
    ("lifetime", "refresh_after"),
    [
        (timedelta(hours=6), timedelta(hours=5, minutes=20)),  # the SDK's 40 minutes
        (timedelta(hours=1), timedelta(minutes=48)),  # an agency's hour: 12 min ahead
        (timedelta(minutes=15), timedelta(minutes=12)),  # a fifth: not on every call
        (timedelta(seconds=60), timedelta(seconds=48)),
    ],
)
async def test_the_fetch_starts_at_the_margin_in_the_background(
    lifetime: timedelta, refresh_after: timedelta
) -> None:
    fake = Fake(lifetime)
    refresher = fake.refresher()
    assert await refresher.get() == "v1"
    fake.now = T0 + refresh_after - timedelta(seconds=1)
    assert await refresher.get() == "v1"
    assert refresher.pending is None
    fake.now = T0 + refresh_after
    assert await refresher.get() == "v1"  # served at once ...
    assert refresher.pending is not None  # ... while the next one is fetched
    await refresher.pending
    assert await refresher.get() == "v2"


async def test_a_failed_background_fetch_keeps_the_valid_value_then_raises() -> None:
    fake = Fake(timedelta(hours=6))
    refresher = fake.refresher()
    await refresher.get()
    fake.fail = RuntimeError("IAM is down")
    fake.now = T0 + timedelta(hours=5, minutes=30)
    assert await refresher.get() == "v1"
    assert refresher.pending is not None
    with pytest.raises(RuntimeError):
        await refresher.pending
    assert await refresher.get() == "v1"  # still valid: used on, no fetch for 30 s
    assert fake.fetches == 2
    fake.now += timedelta(seconds=31)
    assert await refresher.get() == "v1"
    await asyncio.sleep(0)
    assert fake.fetches == 3  # tried again in the background
    fake.now = T0 + timedelta(hours=6)  # its last usable minute has passed
    with pytest.raises(RuntimeError, match="IAM is down"):
        await refresher.get()


async def test_waiters_share_one_fetch_and_one_failure() -> None:
    fake = Fake(timedelta(hours=1))
    fake.gate = asyncio.Event()
    fake.fail = RuntimeError("refused")
    refresher = fake.refresher()
    waiting = [asyncio.ensure_future(refresher.get()) for _ in range(5)]
    await asyncio.sleep(0)
    fake.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert fake.fetches == 1
    with pytest.raises(RuntimeError):  # within 30 s: the same answer, IAM not asked
        await refresher.get()
    assert fake.fetches == 1


async def test_invalidate_forgets_only_the_value_refused() -> None:
    fake = Fake(timedelta(hours=1))
    refresher = fake.refresher()
    assert await refresher.get() == "v1"
    refresher.invalidate("v0")  # an older value: nothing happens
    assert await refresher.get() == "v1"
    refresher.invalidate("v1")
    assert await refresher.get() == "v2"
