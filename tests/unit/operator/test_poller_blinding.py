"""The poller's blinding across whole cycles, against an API server that refuses stale writes.

When a list call fails, the poller marks the objects it covers Synced=False ("listing …
failed"); once listing works it must give every one of them its verdict back, whatever
happened in between: restore patches that conflict (a reconcile writing at the same time),
a watch that lags behind the poller's own write, an operator restarted while its objects were
blinded. A full CI run once ended with terminal jobs showing Synced=False "listing
trainingjobs failed: ConnectError" for good although every later list call answered: the
record of what to give back was dropped before the restore had landed.
"""

from __future__ import annotations

from typing import Any, cast

from modelarts_operator.reconcile.adapter import Observation
from modelarts_operator.reconcile.poller import Poller

from .pollfakes import Jobs, Runtime, stack, synced


async def blind(poller: Poller, rt: Runtime, jobs: Jobs) -> None:
    jobs.down = True
    await poller.cycle()
    rt.watch()
    jobs.down = False


async def test_a_restore_that_conflicts_is_retried_until_it_lands() -> None:
    poller, rt, jobs = stack(["job-000"])
    await blind(poller, rt, jobs)
    assert synced(rt, "job-000")["status"] == "False"
    assert synced(rt, "job-000")["message"].startswith("listing trainingjobs failed")

    rt.kube.conflicts = 2  # the restore and its one re-read retry are both refused
    await poller.cycle()
    assert synced(rt, "job-000")["status"] == "False"

    rt.watch()
    await poller.cycle()
    assert synced(rt, "job-000")["status"] == "True"
    assert synced(rt, "job-000")["reason"] == "Synced"
    assert rt.pokes == []  # given back from the record, no reconcile needed

    writes = rt.kube.writes
    rt.watch()
    await poller.cycle()
    assert rt.kube.writes == writes  # settled: nothing more to write


async def test_a_lagging_view_keeps_the_record_until_the_blinding_shows() -> None:
    poller, rt, jobs = stack(["job-000", "job-001"])
    jobs.down = True
    await poller.cycle()
    jobs.down = False
    await poller.cycle()  # the registry has not seen the blinding yet
    rt.watch()
    await poller.cycle()
    assert [synced(rt, n)["status"] for n in ("job-000", "job-001")] == ["True", "True"]
    assert rt.pokes == []


async def test_objects_blinded_before_a_restart_go_to_their_reconcile_once() -> None:
    poller, rt, jobs = stack(["job-000", "job-001"])
    await blind(poller, rt, jobs)
    restarted = Poller(cast(Any, rt), poller.reconciler)  # a new process: no record of the blinding
    await restarted.cycle()
    await restarted.cycle()
    assert sorted(rt.pokes) == ["job-000", "job-001"]  # once each, not once per cycle


async def test_a_blinding_that_did_not_land_leaves_nothing_to_give_back() -> None:
    poller, rt, jobs = stack(["job-000"])
    jobs.down = True
    rt.kube.conflicts = 2
    await poller.cycle()
    assert synced(rt, "job-000")["status"] == "True"
    assert poller._blinded == {}
    jobs.down = False
    rt.watch()
    await poller.cycle()
    assert synced(rt, "job-000")["status"] == "True"
    assert rt.pokes == []


async def test_a_job_that_finished_while_blinded_gets_its_verdict_back_with_its_detail() -> None:
    """A job that completes during the outage is seen finished by the first good list, whose
    report then comes from the job's detail (metrics, completion time); that report must still
    give back the Synced verdict (found by CI: Ready=True written, Synced=False "listing
    trainingjobs failed" left for good)."""
    poller, rt, jobs = stack(["job-000"])
    await blind(poller, rt, jobs)
    jobs.detail_in_poller = True
    jobs.detail_phases = {"Succeeded"}  # the finished state needs the detail
    details: list[str] = []

    async def detail(entry: Any) -> Observation:
        details.append(entry.name)
        return Observation("Succeeded", True, facts={"durationSeconds": 60}, in_flight=False)

    poller._detail = detail  # type: ignore[method-assign]
    await poller.cycle()
    rt.watch()
    assert details == ["job-000"]
    assert rt.kube.objects["job-000"]["status"]["durationSeconds"] == 60
    assert synced(rt, "job-000")["status"] == "True"
    assert synced(rt, "job-000")["reason"] == "Synced"
