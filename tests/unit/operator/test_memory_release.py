"""The operator gives freed C-heap memory back to the system (glibc's malloc_trim)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from modelarts_operator.runner import _malloc_trim, release_free_memory_every


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


@pytest.mark.skipif(_malloc_trim() is None, reason="the C library has no malloc_trim")
async def test_memory_freed_between_live_blocks_goes_back_to_the_system() -> None:
    # 200 MB in blocks larger than pymalloc serves (so they come from glibc's heap), then
    # all but every 50th freed: the holes between the survivors stay resident, as after a
    # create burst, because glibc trims a heap only from its top.
    blocks = [bytearray(4096) for _ in range(50_000)]
    kept = blocks[::50]
    del blocks
    held = _rss_mb()
    task = asyncio.create_task(release_free_memory_every(0.05))
    try:
        await asyncio.sleep(0.5)
    finally:
        task.cancel()
    released = held - _rss_mb()
    assert released > 100, f"RSS went from {held:.0f} MB down by only {released:.0f} MB"
    assert len(kept) == 1000
