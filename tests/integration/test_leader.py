"""Leader election against the real API server: one holder at a time, hand-over on release
and on expiry, and — with two real operator processes — a standby that writes nothing.

The standby's footprint is read from the API server's own audit log (every request with its
user), not from anything the operator counts about itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelarts_operator.leader import LeaderElector, LeaseConfig
from modelarts_operator.reconcile.kube import KubeClient
from modelarts_testbed.controlplane import ControlPlane, Identity, free_port, running
from modelarts_testbed.emulator import EmulatorConfig, run_emulator_in_thread

from .conftest import (
    ROOT,
    OperatorProcess,
    apply,
    remote_objects,
    synced,
    wait_for,
    wait_until,
    write_secret,
)

pytestmark = [pytest.mark.cluster]

NS = "leader-test"


def _elector(cp: ControlPlane, identity: str, lease: str, seconds: float = 3.0) -> LeaderElector:
    return LeaderElector(
        KubeClient.from_environment(str(cp.kubeconfig)),
        LeaseConfig(namespace="default", name=lease, identity=identity, lease_seconds=seconds),
    )


def _holder(cp: ControlPlane, lease: str) -> str:
    status, body = cp.request(f"/apis/coordination.k8s.io/v1/namespaces/default/leases/{lease}")
    assert status == 200, body
    return str(body["spec"].get("holderIdentity") or "")


async def test_one_holder_and_release_hands_over(control_plane: ControlPlane) -> None:
    a, b = _elector(control_plane, "a", "handover"), _elector(control_plane, "b", "handover")
    try:
        await asyncio.wait_for(a.acquire(), 10)
        assert _holder(control_plane, "handover") == "a"
        assert not await b.try_acquire_or_renew()  # held and fresh
        assert await a.try_acquire_or_renew()  # the holder renews
        await a.release()
        assert _holder(control_plane, "handover") == ""
        assert await b.try_acquire_or_renew()  # no waiting for expiry after a release
        assert _holder(control_plane, "handover") == "b"
    finally:
        for e in (a, b):
            await e.kube.aclose()


async def test_an_expired_lease_is_taken_over_and_the_old_holder_notices(
    control_plane: ControlPlane,
) -> None:
    a, b = _elector(control_plane, "a", "expiry"), _elector(control_plane, "b", "expiry")
    try:
        assert await a.try_acquire_or_renew()
        assert not await b.try_acquire_or_renew()
        started = time.monotonic()
        await asyncio.wait_for(b.acquire(), 10)  # a stopped renewing: b waits out the lease
        waited = time.monotonic() - started
        assert 2.5 <= waited <= 6, waited
        assert _holder(control_plane, "expiry") == "b"
        # a comes back (a paused process): its next renewal sees b and gives up.
        await asyncio.wait_for(a.hold(), 5)
        assert not a.is_leader
        assert _holder(control_plane, "expiry") == "b"
    finally:
        for e in (a, b):
            await e.kube.aclose()


async def test_simultaneous_candidates_get_exactly_one_leader(
    control_plane: ControlPlane,
) -> None:
    electors = [_elector(control_plane, f"c{i}", "race") for i in range(6)]
    try:
        won = await asyncio.gather(*(e.try_acquire_or_renew() for e in electors))
        assert sum(won) == 1
        winner = electors[won.index(True)].config.identity
        assert _holder(control_plane, "race") == winner
        # a second round changes nothing: the others see a fresh lease
        again = await asyncio.gather(*(e.try_acquire_or_renew() for e in electors))
        assert [e.config.identity for e, w in zip(electors, again, strict=True) if w] == [winner]
    finally:
        for e in electors:
            await e.kube.aclose()


# --- two operator processes ---------------------------------------------------------------

AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    omitStages: [RequestReceived]
"""


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane, Path]]:
    """A control plane of its own whose API server writes every request to an audit log."""
    state = tmp_path_factory.mktemp("audited")
    policy = state / "audit-policy.yaml"
    policy.write_text(AUDIT_POLICY)
    log = state / "audit.log"
    identities = [Identity(f"operator-{x}", ("system:masters",)) for x in "ab"]
    with running(
        state / "cp",
        identities,
        apiserver_args=[f"--audit-policy-file={policy}", f"--audit-log-path={log}"],
    ) as cp:
        cp.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
        yield cp, log


def _requests_by(log: Path, user: str, since: float) -> list[dict[str, Any]]:
    """The audit entries of ``user`` received after ``since`` (epoch seconds)."""
    entries = []
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        if entry["user"]["username"] != user:
            continue
        received = dt.datetime.fromisoformat(entry["requestReceivedTimestamp"]).timestamp()
        if received >= since:
            entries.append(entry)
    return entries


def _operator(cp: ControlPlane, who: str, emulator: Any, workdir: Path) -> OperatorProcess:
    """``modelarts-operator run`` with leader election, as the API server user operator-<who>."""
    cfg = emulator.config
    env = dict(os.environ)
    env.update(
        MODELARTS_ENDPOINT=emulator.url,
        MODELARTS_IAM_ENDPOINT=emulator.url,
        MODELARTS_PROJECT_ID=cfg.project_id,
        MODELARTS_REGION=cfg.region,
        MODELARTS_CREDENTIALS_SECRET=f"{NS}/modelarts-credentials",
        MODELARTS_NAMESPACES=NS,
        MODELARTS_POLL_ACTIVE_SECONDS="1",
        MODELARTS_POLL_SETTLED_SECONDS="2",
        MODELARTS_METRICS_PORT=str(free_port()),
        MODELARTS_HEALTH_PORT=str(free_port()),
        MODELARTS_LEADER_ELECTION="true",
        MODELARTS_LEADER_ELECTION_NAMESPACE=NS,
        MODELARTS_LEADER_ELECTION_IDENTITY=f"operator-{who}",
        MODELARTS_LEADER_ELECTION_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    log = workdir / f"operator-{who}.log"
    return OperatorProcess(
        cp, emulator.url, log, env, kubeconfig=cp.kubeconfig_for(f"operator-{who}")
    )


def _job(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
        "kind": "TrainingJob",
        "metadata": {"name": name},
        "spec": {
            "config": {
                "workerServerNum": 1,
                "appUrl": "/bucket/code/",
                "bootFileUrl": "/bucket/code/train.py",
                "engineId": 1,
                "specId": 1,
                "trainUrl": f"/bucket/out/{name}/",
                "dataUrl": "/bucket/data/",
            }
        },
    }


def _holder_of(cp: ControlPlane) -> str:
    status, body = cp.request(
        f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/modelarts-operator"
    )
    return str(body["spec"].get("holderIdentity") or "") if status == 200 else ""


def _ours(emulator: Any) -> dict[str, int]:
    """ModelArts calls an emulator served (its IAM token endpoint aside)."""
    return {k: v for k, v in emulator.admin.counters().items() if v and "/v3/auth" not in k}


LEASE_SECONDS = 6


def test_standby_writes_nothing_and_takes_over(
    audited: tuple[ControlPlane, Path], tmp_path: Path
) -> None:
    cp, audit = audited
    cp.kubectl("create", "namespace", NS)
    with (
        run_emulator_in_thread(EmulatorConfig()) as emulator,
        run_emulator_in_thread(EmulatorConfig()) as decoy,
    ):
        cfg = emulator.config
        write_secret(cp, NS, "modelarts-credentials", {"ak": cfg.ak, "sk": cfg.sk})
        a = _operator(cp, "a", emulator, tmp_path)
        # The first standby is pointed at an emulator of its own: any ModelArts call it made
        # would show in that emulator's counters.
        standby = _operator(cp, "b", decoy, tmp_path)
        b = _operator(cp, "b", emulator, tmp_path)
        try:
            a.start()
            wait_until(lambda: _holder_of(cp) == "operator-a", 30, "a leads")
            for i in range(3):
                apply(cp, _job(f"job-{i}"), NS)
            for i in range(3):
                wait_for(cp, "trainingjob", f"job-{i}", NS, synced, 60, a)

            standby.start()
            wait_until(lambda: "standing by" in standby.log(), 30, "b stands by")
            since = time.time()
            time.sleep(3 * LEASE_SECONDS / 2)  # several retry periods and poll cycles of a's
            requests = _requests_by(audit, "operator-b", since)
            seen = {(r["verb"], r["objectRef"]["resource"]) for r in requests}
            assert seen == {("get", "leases")}, seen  # a standby only looks at the lease
            retries = 3 * LEASE_SECONDS / 2 / (LEASE_SECONDS / 7.5)
            assert retries / 2 <= len(requests) <= retries * 1.5, len(requests)
            assert _ours(decoy) == {}
            assert _holder_of(cp) == "operator-a"
            standby.stop(signal.SIGTERM)  # a standby stops on SIGTERM too
            assert standby.proc is None

            b.start()
            wait_until(lambda: "standing by" in b.log(), 30, "b stands by again")
            # A clean stop hands over at once: the lease is released on the way out, not left
            # to expire (a keeps renewing while kopf shuts down, so an expiry would come a
            # whole lease after a exited; a release comes within b's next retry period).
            stopped = time.monotonic()
            a.stop(signal.SIGTERM)
            exited = time.monotonic()
            wait_until(lambda: _holder_of(cp) == "operator-b", LEASE_SECONDS * 2, "b leads")
            released = time.monotonic() - exited
            apply(cp, _job("after-handover"), NS)
            wait_for(cp, "trainingjob", "after-handover", NS, synced, 60, b)
            serving = time.monotonic() - stopped
            assert released < LEASE_SECONDS / 2, released

            # A killed leader cannot release: the standby waits out the lease, no longer.
            a.start()
            wait_until(lambda: "standing by" in a.log(), 30, "a stands by")
            killed = time.monotonic()
            b.stop(signal.SIGKILL)
            wait_until(lambda: _holder_of(cp) == "operator-a", LEASE_SECONDS * 3, "a leads")
            expired = time.monotonic() - killed
            assert LEASE_SECONDS / 2 < expired < LEASE_SECONDS * 2, expired
            # Nothing was created twice across the hand-overs.
            assert len(remote_objects(emulator, "training_job")) == 4
            print(
                f"hand-over: a shut down in {exited - stopped:.1f} s, b held the lease "
                f"{released:.1f} s later, a new job Synced {serving:.1f} s after the SIGTERM; "
                f"lease after SIGKILL {expired:.1f} s "
                f"(lease {LEASE_SECONDS} s); standby made {len(requests)} lease GETs in "
                f"{3 * LEASE_SECONDS / 2:.0f} s"
            )
        finally:
            for op in (a, standby, b):
                op.stop(signal.SIGKILL)
