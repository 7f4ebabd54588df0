"""Synthetic training logs shared by the v1 and v2 training APIs: one line per two emulated
seconds of running, drawn from the job's seed, so a log reads the same on every call and grows
with the clock; plus the AOM-style cursor paging both APIs document."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from .errors import ApiError
from .validation import to_int

LOG_LINE_EVERY_MS = 2000
MAX_LINES = 5000

Line = tuple[str, str]  # (line marker, text)


def log_lines(
    *, submitted_ms: int, start_ms: int | None, duration_ms: int, seed: int, ending: str | None
) -> list[Line]:
    """The lines written by now: a submission line before the run starts, then loss lines,
    then ``ending`` (the last line of a finished run), if any."""
    if start_ms is None:
        return [(f"{submitted_ms}000000", "[INFO] job submitted, waiting for resources")]
    count = min(MAX_LINES, duration_ms // LOG_LINE_EVERY_MS + 1)
    rnd = random.Random(seed)
    lines = []
    loss = rnd.uniform(2.0, 3.0)
    for i in range(count):
        ts = start_ms + i * LOG_LINE_EVERY_MS
        stamp = datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        loss *= rnd.uniform(0.97, 0.999)
        lines.append((f"{ts}{i:06d}", f"[{stamp}] INFO step {i * 10}: loss={loss:.4f}"))
    if ending is not None:
        lines.append((f"{start_ms + duration_ms}{count:06d}", ending))
    return lines


def text_of(lines: list[Line]) -> str:
    return "".join(t + "\n" for _, t in lines)


def aom_page(lines: list[Line], want: int, order: str, base: str, code: str) -> list[Line]:
    """Without ``base`` the newest ``want`` lines; with it, ``desc`` gives the lines after the
    cursor and ``asc`` the lines before it (the direction both documents describe)."""
    if not base:
        return lines[-want:] if want else []
    cursor = to_int(base)
    if cursor is None:
        raise ApiError(400, code, f"base_line is invalid: {base!r}")
    markers = [int(m) for m, _ in lines]
    if order == "desc":
        return [ln for ln, m in zip(lines, markers, strict=True) if m > cursor][:want]
    before = [ln for ln, m in zip(lines, markers, strict=True) if m < cursor]
    return before[-want:] if want else []
