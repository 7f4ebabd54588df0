"""The operator's garbage collection: few collections, but cyclic garbage does not pile up."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from modelarts_operator.metrics import METRICS
from modelarts_operator.runner import GC_THRESHOLDS, _tune_gc, collect_garbage_every


class _Node:
    def __init__(self) -> None:
        self.peer: _Node | None = None


def _old_cycle() -> weakref.ref[_Node]:
    """Two objects that reference each other and lived long enough to reach the oldest
    generation (as a watched object's kopf state does), then became garbage: only a full
    collection frees them."""
    a, b = _Node(), _Node()
    a.peer, b.peer = b, a
    gc.collect(0)  # survivors move to generation 1
    gc.collect(1)  # and to generation 2
    return weakref.ref(a)


@pytest.fixture
def tuned_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    _tune_gc()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("tuned_gc")
async def test_cyclic_garbage_is_freed_within_one_period_despite_the_tuned_thresholds() -> None:
    assert gc.get_threshold() == GC_THRESHOLDS
    garbage = _old_cycle()
    gc.collect(1)  # the young collections the tuned thresholds keep frequent
    assert garbage() is not None, "only a full collection frees old cyclic garbage"
    before = METRICS.value("modelarts_gc_collected_objects_total")
    task = asyncio.create_task(collect_garbage_every(0.05))
    try:
        for _ in range(40):
            await asyncio.sleep(0.05)
            if garbage() is None:
                break
    finally:
        task.cancel()
    assert garbage() is None, "a full collection once a period frees cyclic garbage"
    assert METRICS.value("modelarts_gc_collected_objects_total") >= before + 2
