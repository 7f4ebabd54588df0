"""The emulated clock: wall time scaled by a speed factor, or frozen and advanced by hand.

Every state machine reads time only from here, so tests drive the emulator deterministically
(freeze, advance N seconds, poll) instead of sleeping.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        self._speed = speed
        self._frozen = False
        self._emu_anchor = time.time() if start is None else start
        self._real_anchor = time.monotonic()

    def now(self) -> float:
        """Emulated seconds since the epoch."""
        if self._frozen:
            return self._emu_anchor
        return self._emu_anchor + (time.monotonic() - self._real_anchor) * self._speed

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def _reanchor(self) -> None:
        self._emu_anchor = self.now()
        self._real_anchor = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def frozen(self) -> bool:
        return self._frozen

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._reanchor()
        self._speed = speed

    def freeze(self) -> None:
        self._reanchor()
        self._frozen = True

    def unfreeze(self) -> None:
        self._reanchor()
        self._frozen = False

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._reanchor()
        self._emu_anchor += seconds

    def set(self, epoch_seconds: float) -> None:
        self._emu_anchor = epoch_seconds
        self._real_anchor = time.monotonic()
