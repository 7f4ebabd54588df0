"""``ModelArtsClient``: the base client plus one attribute per resource family."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from .algorithms import Algorithms
from .auth import Credentials
from .base import BaseClient, ClientConfig
from .dataarts import DataArts
from .identity import TemporaryIdentity
from .models import Models
from .notebooks import Notebooks
from .pools import Networks, Pools
from .services import Services
from .services_v2 import ServicesV2
from .training_jobs import TrainingJobs
from .training_v2 import TrainingJobsV2
from .workspaces import Workspaces

__all__ = ["ModelArtsClient"]


class ModelArtsClient(BaseClient):
    """``async with ModelArtsClient(config, credentials) as client: await client.models...``

    ``transport`` replaces the network (tests); ``sleep``, ``clock``, ``now`` and ``rand``
    replace time and randomness so retry delays can be asserted without waiting. Inject
    ``sleep`` and ``clock`` together: the rate limiter waits on ``clock`` by calling ``sleep``,
    so a fake sleep that does not advance the clock it is paired with would spin.
    """

    def __init__(
        self,
        config: ClientConfig,
        credentials: Credentials | TemporaryIdentity | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        now: Callable[[], datetime] | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {
            k: v
            for k, v in {"sleep": sleep, "clock": clock, "now": now, "rand": rand}.items()
            if v is not None
        }
        super().__init__(config, credentials, transport=transport, **kwargs)
        self.workspaces = Workspaces(self)
        self.training_jobs = TrainingJobs(self)
        self.training_jobs_v2 = TrainingJobsV2(self)
        self.models = Models(self)
        self.services = Services(self)
        self.services_v2 = ServicesV2(self)
        self.notebooks = Notebooks(self)
        self.dataarts = DataArts(self)
        self.algorithms = Algorithms(self)
        self.pools = Pools(self)
        self.networks = Networks(self)

    async def __aenter__(self) -> ModelArtsClient:
        return self
