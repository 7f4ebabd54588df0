"""A progress line for the benchmarks' long waits (thousands of objects take minutes).

On a terminal the line is rewritten in place; in a log (make bench > file) a line is written
every ``every`` seconds and at the end, so the log stays readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, stream: TextIO | None = None, every: float = 15.0) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.every = every
        self.started = time.monotonic()
        self._last = float("-inf")
        self._live = self.stream.isatty()

    def update(self, what: str, done: int, total: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and not self._live and now - self._last < self.every:
            return
        self._last = now
        line = f"[bench] {self.label}: {what} {done}/{total} after {now - self.started:.0f} s"
        if self._live:
            self.stream.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
