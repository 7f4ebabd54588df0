"""Leader election on a ``coordination.k8s.io/v1`` Lease, the way client-go's leaderelection
does it, so that only one replica of the operator acts at a time.

Why not kopf peering (what the chart used before): peering pauses kopf's own watchers only.
The batched pollers, the slow-retry timers and the dependency re-triggers run beside kopf and
cannot ask it whether it is paused, so a replica that lost the lead went on polling, patching
status and re-triggering from a frozen view; and replicas of equal priority all pause. A Lease
gates the whole process instead: a standby runs nothing but this loop (one GET per retry
period) and its liveness endpoint; the holder runs kopf, the pollers and the timers; a holder
that cannot renew within the renew deadline stops everything and exits, and the Deployment
restarts it as a standby (controller-runtime does the same).

Expiry is judged by when *this* process last saw the lease record change, on its own monotonic
clock, never by comparing the record's timestamps with the local wall clock: two nodes' clocks
need not agree.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .reconcile.kube import KubeClient, KubeError

log = logging.getLogger(__name__)

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


@dataclass(frozen=True)
class LeaseConfig:
    """Which Lease, who we are, and client-go's timing (15 s / 10 s / 2 s by default)."""

    namespace: str
    name: str
    identity: str
    lease_seconds: float = 15.0

    @property
    def renew_deadline(self) -> float:
        """A holder that has not renewed for this long gives up (before the lease expires for
        the others, so two never act at once)."""
        return self.lease_seconds * 2 / 3

    @property
    def retry_period(self) -> float:
        return self.lease_seconds / 7.5

    @property
    def path(self) -> str:
        return LEASES.format(namespace=self.namespace) + f"/{self.name}"


def _micro_time(now: dt.datetime) -> str:
    """A Kubernetes MicroTime (RFC 3339 with microseconds)."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(spec: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies one renewal of a lease (a change of any of it restarts the expiry)."""
    return (
        spec.get("holderIdentity") or "",
        spec.get("renewTime"),
        spec.get("leaseDurationSeconds"),
        spec.get("leaseTransitions"),
    )


class LeaderElector:
    """Acquire, hold and release one Lease. ``calls`` counts requests to the API server (the
    standby's whole footprint)."""

    def __init__(
        self,
        kube: KubeClient,
        config: LeaseConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.kube = kube
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._renewed_at: float | None = None
        self.calls = 0

    @property
    def is_leader(self) -> bool:
        return self._renewed_at is not None

    async def acquire(self) -> None:
        """Return once this process holds the lease (retrying with client-go's jitter)."""
        logged = False
        while not await self.try_acquire_or_renew():
            if not logged:
                log.info(
                    "standing by: lease %s/%s is held by %s",
                    self.config.namespace,
                    self.config.name,
                    self.holder or "nobody",
                )
                logged = True
            await self._sleep(self.config.retry_period * (1 + 0.2 * random.random()))
        log.info(
            "acquired lease %s/%s as %s",
            self.config.namespace,
            self.config.name,
            self.config.identity,
        )

    async def hold(self) -> None:
        """Renew every retry period; return when the lease is lost (not renewed within the
        renew deadline, or taken by someone else)."""
        while True:
            await self._sleep(self.config.retry_period)
            if await self.try_acquire_or_renew():
                continue
            assert self._renewed_at is not None
            if self.holder not in ("", self.config.identity):
                log.error("lease taken over by %s", self.holder)
                self._renewed_at = None
                return
            if self._clock() - self._renewed_at > self.config.renew_deadline:
                log.error("could not renew the lease for %.0f s", self.config.renew_deadline)
                self._renewed_at = None
                return

    async def release(self) -> None:
        """Hand the lease over at once on a clean shutdown (the next replica need not wait for
        it to expire): an empty holder, as client-go's ReleaseOnCancel writes."""
        if self._renewed_at is None:
            return
        self._renewed_at = None
        try:
            lease = await self._get()
            if lease is None or lease["spec"].get("holderIdentity") != self.config.identity:
                return
            lease["spec"].update(
                holderIdentity="",
                leaseDurationSeconds=1,
                renewTime=_micro_time(dt.datetime.now(dt.UTC)),
            )
            await self._put(lease)
            log.info("released lease %s/%s", self.config.namespace, self.config.name)
        except (KubeError, OSError) as err:  # it will expire by itself
            log.warning("could not release the lease: %s", err)

    @property
    def holder(self) -> str:
        return str(self._observed[0]) if self._observed else ""

    async def try_acquire_or_renew(self) -> bool:
        """One round of client-go's tryAcquireOrRenew: True when we hold the lease after it."""
        now = dt.datetime.now(dt.UTC)
        try:
            lease = await self._get()
        except (KubeError, OSError) as err:
            log.warning("reading the lease failed: %s", err)
            return False
        mine = {
            "holderIdentity": self.config.identity,
            "leaseDurationSeconds": max(1, round(self.config.lease_seconds)),
            "acquireTime": _micro_time(now),
            "renewTime": _micro_time(now),
            "leaseTransitions": 0,
        }
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                "spec": mine,
            }
            leases = LEASES.format(namespace=self.config.namespace)
            return await self._write(self.kube.create, leases, body)
        spec = lease.get("spec") or {}
        record = _record(spec)
        if record != self._observed:
            self._observed, self._observed_at = record, self._clock()
        holder = record[0]
        duration = float(spec.get("leaseDurationSeconds") or self.config.lease_seconds)
        expired = self._observed_at + duration <= self._clock()
        if holder and holder != self.config.identity and not expired:
            return False  # held by someone else
        if holder == self.config.identity:
            mine["acquireTime"] = spec.get("acquireTime") or mine["acquireTime"]
            mine["leaseTransitions"] = spec.get("leaseTransitions") or 0
        else:
            mine["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        lease["spec"] = mine
        return await self._write(self.kube.replace, self.config.path, lease)

    async def _write(
        self, send: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]], path: str, body: Any
    ) -> bool:
        self.calls += 1
        try:
            written = await send(path, body)
        except KubeError as err:
            if err.status == 409:  # someone else wrote first (the resourceVersion moved)
                return False
            log.warning("writing the lease failed: %s", err)
            return False
        except OSError as err:
            log.warning("writing the lease failed: %s", err)
            return False
        self._observed = _record(written.get("spec") or {})
        self._observed_at = self._renewed_at = self._clock()
        return True

    async def _get(self) -> dict[str, Any] | None:
        self.calls += 1
        try:
            return await self.kube.get(self.config.path)
        except KubeError as err:
            if err.status == 404:
                return None
            raise

    async def _put(self, lease: dict[str, Any]) -> None:
        self.calls += 1
        await self.kube.replace(self.config.path, lease)
