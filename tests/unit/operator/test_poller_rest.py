"""How long the poller rests between cycles. An object put in flight while a cycle runs (a
create the cycle's list did not show yet) must cut the settled rest after that cycle short:
1,000 networks created in a burst were shown Active 65 s after their creates (the settled
period) instead of at the next active poll, because the wake-up was cleared after the cycle."""

from __future__ import annotations

import asyncio
import contextlib

from .pollfakes import stack

ACTIVE, SETTLED = 0.05, 30.0


async def cycles_within(seconds: float, put_in_flight_during_first_cycle: bool) -> int:
    poller, rt, _ = stack([])
    rt.settings = rt.settings.model_copy(
        update={"poll_active_seconds": ACTIVE, "poll_settled_seconds": SETTLED}
    )
    count = 0
    third = asyncio.Event()

    async def cycle() -> bool:
        nonlocal count
        count += 1
        if count == 1 and put_in_flight_during_first_cycle:
            poller.reconciler.in_flight.set()  # a reconcile finished a create meanwhile
        if count == 3:
            third.set()
        await asyncio.sleep(0)
        return False  # what this cycle's list showed: nothing in flight

    poller.cycle = cycle  # type: ignore[method-assign]
    task = asyncio.create_task(poller.run())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(third.wait(), seconds)
    task.cancel()
    return count


async def test_an_object_put_in_flight_during_a_cycle_cuts_the_settled_rest_short() -> None:
    assert await cycles_within(1.0, put_in_flight_during_first_cycle=True) >= 2


async def test_with_nothing_in_flight_the_poller_rests_the_settled_period() -> None:
    assert await cycles_within(0.5, put_in_flight_during_first_cycle=False) == 1
