"""ModelArts emulator: a stateful stand-in for IAM, ModelArts (the 2020 v1 API, v2 training,
v2 services and notebooks) and the DataArts Fabric model API.

Like moto or LocalStack for AWS: one aiohttp server on loopback serving

* IAM ``POST /v3/auth/tokens`` (password method, project scope; token in ``X-Subject-Token``),
  and keyless identity (see :mod:`.iam`, :mod:`.oidc`): OIDC ID tokens exchanged for
  temporary credentials (``--idp``), agencies with trust lists (``--agency``), the ECS metadata
  service (``--metadata-agency``) and a CCE Pod Identity agent (``--pod-identity``),
* ModelArts ``/v1/{project_id}/...``: workspaces, training jobs v1 (+ versions, stop, logs),
  models, services (+ events, update logs, monitor, specifications), notebooks (+ lease, tags,
  ``/images``, ``/notebooks/flavors``),
* ModelArts ``/v2/{project_id}/...``: training jobs v2 (searches, terminate, asynchronous
  delete, logs, metrics, events, tags, flavor and engine catalogues), see :mod:`.training_v2`;
  inference services v2 (start, stop, batch delete, versions), their predict URLs
  ``/v2/infers/{id}`` and the notebooks' ``/lab/{id}``,
* DataArts ``/v1/workspaces/{workspace_id}/models`` (list, update with new versions, cleanup,
  versions) and ``/v1/base-models``, see :mod:`.dataarts`,
* the admin API ``/_emulator/...`` (see :mod:`.admin`): reset, speed, manual clock, forced
  outcomes, fault injection, per-endpoint call counters, deleting behind the operator's back.

Requests need ``X-Auth-Token`` (a token it issued, unexpired, for the URL's project) or an
SDK-HMAC-SHA256 signature with the configured AK/SK or unexpired temporary credentials (with
their ``X-Security-Token``). Defaults (override with flags of
``modelarts-operator emulator`` or EMULATOR_* variables)::

    project id  DEFAULT_PROJECT_ID   0123456789abcdef0123456789abcdef   (region cn-north-4)
    AK          DEFAULT_AK           EMULATORAK0000000001
    SK          DEFAULT_SK           emulator-secret-key-do-not-use-in-production-0001
    IAM user    DEFAULT_IAM_USER / DEFAULT_IAM_PASSWORD / DEFAULT_IAM_DOMAIN
                emulator-user / emulator-password / emulator-domain

Use in-process: ``async with Emulator(EmulatorConfig(seed=1)).serve(port=0) as url: ...``;
from synchronous code: ``with run_emulator_in_thread(cfg) as h: h.url, h.admin.advance(30)``.

Documented choices where the reference is silent: HTTP 400 for invalid parameters, 401 for
authentication, 403 for 0210, 404 for not found, 409 for duplicates and state conflicts, 429
for flow control; ``offset`` of the v1 offset/limit lists is a page index
(``offset_mode="index"`` switches to an item index), while v2 services and notebooks always
take an item offset (services: a multiple of ``limit``), as their SDK documents; a model
delete that removes nothing answers 409 with the documented per-item body; notebooks answer
"not found" with HTTP 400 (see :mod:`.notebooks`).
"""

from typing import TYPE_CHECKING, Any

from .config import (
    DEFAULT_AK,
    DEFAULT_HOST,
    DEFAULT_IAM_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_PORT,
    DEFAULT_PROJECT_ID,
    DEFAULT_REGION,
    DEFAULT_SK,
    EmulatorConfig,
    Timings,
)

if TYPE_CHECKING:
    from .server import AdminClient, Emulator, EmulatorHandle, run_emulator_in_thread

_LAZY = {"AdminClient", "Emulator", "EmulatorHandle", "run_emulator_in_thread"}


def __getattr__(name: str) -> Any:
    """Import the server (aiohttp, httpx) only when used, so the CLI stays light."""
    if name in _LAZY:
        from . import server

        return getattr(server, name)
    raise AttributeError(name)


__all__ = [
    "DEFAULT_AK",
    "DEFAULT_HOST",
    "DEFAULT_IAM_DOMAIN",
    "DEFAULT_IAM_PASSWORD",
    "DEFAULT_IAM_USER",
    "DEFAULT_PORT",
    "DEFAULT_PROJECT_ID",
    "DEFAULT_REGION",
    "DEFAULT_SK",
    "AdminClient",
    "Emulator",
    "EmulatorConfig",
    "EmulatorHandle",
    "Timings",
    "run_emulator_in_thread",
]
