"""Operator configuration: environment variables (set by the Helm chart), overridable by CLI.

One typed object so every part of the operator reads the same values and a wrong value fails
at start with the variable's name instead of minutes later in a reconcile.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

ENV_PREFIX = "MODELARTS_"


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


class OperatorSettings(BaseModel):
    """Everything the operator needs to know about its environment."""

    region: str = Field("cn-north-4", description="Huawei Cloud region, e.g. cn-north-4.")
    endpoint: str | None = Field(
        None,
        description="ModelArts endpoint URL; default https://modelarts.{region}.myhuaweicloud.com.",
    )
    iam_endpoint: str | None = Field(
        None, description="IAM endpoint URL; default https://iam.{region}.myhuaweicloud.com."
    )
    dataarts_endpoint: str | None = Field(
        None, description="DataArts Fabric endpoint for Model spec.llm; default: the ModelArts one."
    )
    project_id: str | None = Field(None, description="Default project ID for all namespaces.")
    credentials_secret: str | None = Field(
        None, description='Default credentials Secret as "namespace/name".'
    )
    credentials_secret_names: list[str] = Field(
        default_factory=list,
        description=(
            "Names a Namespace's credentials-secret annotation may name (comma list); empty: "
            "any. The chart grants read access to these names only."
        ),
    )
    ca_bundle: str | None = Field(None, description="CA bundle file for the ModelArts endpoints.")
    installation_id: str = Field(
        "",
        pattern=r"^([a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?)?$",
        description=(
            "Short ID of this installation (lowercase letters, digits, '-', at most 16), put in "
            "front of derived remote names and into the ownership marker, so that two clusters "
            "on one project never share a remote object. Set it before the first object."
        ),
    )
    namespaces: list[str] = Field(
        default_factory=list, description="Namespaces to watch; empty means the whole cluster."
    )
    poll_active_seconds: float = Field(10.0, gt=0, description="Poll period while in flight.")
    poll_settled_seconds: float = Field(60.0, gt=0, description="Poll period when all settled.")
    api_qps: float = Field(20.0, gt=0, description="Client-side ModelArts request rate limit.")
    api_burst: int = Field(40, ge=1, description="Burst allowance of the rate limiter.")
    api_timeout_seconds: float = Field(30.0, gt=0, description="Per-request timeout.")
    worker_limit: int = Field(
        0,
        ge=0,
        description=(
            "Objects handled at once (kopf's per-object workers); 0: no limit. A burst of "
            "creates otherwise runs every object's handler side by side, and the memory that "
            "peak touches stays with the process."
        ),
    )
    metrics_port: int = Field(9090, ge=0, le=65535, description="Prometheus /metrics port.")
    health_port: int = Field(8080, ge=0, le=65535, description="Liveness endpoint port.")
    leader_election: bool = Field(
        False, description="Act only while holding a coordination.k8s.io Lease (replicas > 1)."
    )
    leader_election_namespace: str | None = Field(
        None, description="Namespace of the Lease; default: the pod's own namespace."
    )
    leader_election_lease: str = Field(
        "modelarts-operator", description="Name of the Lease the replicas compete for."
    )
    leader_election_identity: str | None = Field(
        None, description="This replica's name in the Lease; default: hostname (the pod name)."
    )
    leader_election_lease_seconds: float = Field(
        15.0, ge=3, description="Lease duration; renew deadline 2/3 of it, retry 1/7.5."
    )
    log_format: Literal["text", "json"] = "text"

    @field_validator("namespaces", "credentials_secret_names", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("credentials_secret")
    @classmethod
    def _namespaced(cls, value: str | None) -> str | None:
        if value and value.count("/") != 1:
            raise ValueError('must be "namespace/name"')
        return value or None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> OperatorSettings:
        """Read ``MODELARTS_*`` variables; explicit ``overrides`` (CLI flags) win."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = environ.get(ENV_PREFIX + name.upper())
            if raw not in (None, ""):
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            problems = "; ".join(
                f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in err.errors()
            )
            raise SettingsError(f"invalid operator settings: {problems}") from None
