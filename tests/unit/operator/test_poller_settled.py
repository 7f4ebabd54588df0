"""A settled poll cycle does no work per object beyond comparing: at 10,000 objects, rendering
every object's status (a pydantic validate and dump) to find an empty patch was most of a busy
cycle's CPU. What the skip must never do is hide a change: a new remote state on the same
view, or a view whose status someone else changed, is written as before."""

from __future__ import annotations

from typing import Any

import pytest

from modelarts_operator.reconcile.poller import Poller
from modelarts_operator.reconcile.status import StatusWriter

from .pollfakes import Jobs, Runtime, stack, synced


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The status renders the poller asks for, by status phase rendered."""
    seen: list[str] = []
    render = StatusWriter.render

    def counting(self: StatusWriter, old: Any, report: Any, generation: int) -> dict[str, Any]:
        seen.append(str(report.phase))
        return render(self, old, report, generation)

    monkeypatch.setattr(StatusWriter, "render", counting)
    return seen


async def settled(names: list[str]) -> tuple[Poller, Runtime, Jobs]:
    """Objects whose status shows their remote state, as the watch shows them."""
    poller, rt, jobs = stack(names)
    await poller.cycle()  # the first look adds what the stack's status lacks (Failed)
    rt.watch()
    rt.kube.writes = 0
    return poller, rt, jobs


async def test_a_settled_object_is_rendered_once_per_view(renders: list[str]) -> None:
    poller, rt, _ = await settled([f"job-{i:03d}" for i in range(3)])
    renders.clear()
    await poller.cycle()
    assert len(renders) == 3  # each new view is compared once
    await poller.cycle()
    await poller.cycle()
    assert len(renders) == 3  # the same views: nothing rendered again
    assert rt.kube.writes == 0


async def test_a_new_remote_state_on_the_same_view_is_still_written(renders: list[str]) -> None:
    poller, rt, jobs = await settled(["job-000"])
    await poller.cycle()
    jobs.remote_status = "Running"
    assert await poller.cycle() is True  # in flight, as the summary says
    assert rt.kube.objects["job-000"]["status"]["phase"] == "Running"
    assert rt.kube.writes == 1


async def test_a_view_changed_by_someone_else_is_compared_again(renders: list[str]) -> None:
    poller, rt, _ = await settled(["job-000"])
    await poller.cycle()
    renders.clear()
    body = rt.kube.objects["job-000"]
    body["status"]["phase"] = "Running"  # another writer; the watch brings a new view
    body["metadata"]["resourceVersion"] = "17"
    rt.watch()
    await poller.cycle()
    assert renders  # the new view is rendered, not taken for the old one
    assert rt.kube.writes == 1
    assert body["status"]["phase"] == "Succeeded"  # the remote state wins back
    assert synced(rt, "job-000")["status"] == "True"


async def test_an_object_whose_recorded_id_was_refused_is_not_polled() -> None:
    """Issue 24: a status ID refused as not this object's (Synced=False NotOwned) names
    someone else's remote object; polling would mirror that object's state into this status."""
    from modelarts_operator.reconcile import conditions as cond

    refused = cond.set_condition(None, cond.SYNCED, False, "NotOwned", "not ours", 1)
    poller, rt, jobs = stack(["forged"], conditions=refused)
    jobs.remote_status = "Running"
    assert await poller.cycle() is False
    assert rt.kube.writes == 0
    assert rt.kube.objects["forged"]["status"]["phase"] == "Succeeded"
