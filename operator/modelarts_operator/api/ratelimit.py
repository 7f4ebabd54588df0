"""Client-side token bucket: the operator spends its API budget evenly, not in bursts.

One limiter per client (per credential set), shared by every coroutine using it. A server
429 ``pause``s the whole bucket, so concurrent reconciles do not all hammer a throttled API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["RateLimiter"]

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class RateLimiter:
    """``qps`` tokens per second, at most ``burst`` saved; ``qps <= 0`` disables it."""

    def __init__(
        self,
        qps: float,
        burst: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.qps = qps
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
        self._updated = now

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (the server asked us to back off)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    async def acquire(self) -> float:
        """Wait for one token; returns how long this call waited (for metrics and tests)."""
        if self.qps <= 0 and self._paused_until <= self._clock():
            return 0.0
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                elif self.qps <= 0:
                    return waited
                else:
                    self._refill(now)
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        return waited
                    delay = (1.0 - self._tokens) / self.qps
                await self._sleep(delay)
                waited += delay
