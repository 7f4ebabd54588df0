"""Operator configuration: environment variables (set by the Helm chart), overridable by CLI.

One typed object so every part of the operator reads the same values and a wrong value fails
at start with the variable's name instead of minutes later in a reconcile.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

ENV_PREFIX = "MODELARTS_"
MAX_DEFAULT_TAGS = 10
"""Operator-wide default tags: at most 10 (operator budget), so that a spec's tags still fit
the cloud's 20 tags per object (SDK ServiceCreateRequest.tags "上限20个")."""

# The kubelet's probes and Prometheus reach a pod at its own address, so the endpoints listen on
# every interface unless told otherwise; the chart's NetworkPolicy says who may connect.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104

# The official SDK's own variable names (huaweicloudsdkcore/auth/provider.py and
# internal.py), read when the MODELARTS_ one is not set, so settings users already have for
# the SDK carry over; CCE sets the HC_ ones itself for Pod Identity.
SDK_ENV = {
    "idp_id": "HUAWEICLOUD_SDK_IDP_ID",
    "id_token_file": "HUAWEICLOUD_SDK_ID_TOKEN_FILE",
    "iam_endpoint": "HUAWEICLOUD_SDK_IAM_ENDPOINT",
    "project_id": "HUAWEICLOUD_SDK_PROJECT_ID",
    "pod_identity_uri": "HC_CONTAINER_CREDENTIALS_FULL_URI",
    "pod_identity_token_file": "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
}

# Kubernetes object names (a DNS-1123 subdomain), for the Secret names below.
DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
# A namespace name (a DNS-1123 label).
DNS_LABEL = re.compile(r"^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# "<account name>/<agency name>": what an assume_role names (IdentityAssumerole.domain_name
# and agency_name in huaweicloudsdkiam). Names are sent in a JSON body only; this refuses
# separators and blanks, nothing a real name holds.
AGENCY_REFERENCE = re.compile(r"^[^\s/]{1,64}/[^\s/]{1,64}$")


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


class OperatorSettings(BaseModel):
    """Everything the operator needs to know about its environment."""

    region: str = Field(
        "cn-north-4",
        pattern=r"^[a-z]{2}(-[a-z0-9]+)+$",
        description="Huawei Cloud region, e.g. cn-north-4.",
    )
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
    # Keyless identity, used where no Secret applies (see reconcile/credentials.py).
    idp_id: str | None = Field(
        None, description="IAM identity provider for OIDC federation (HUAWEICLOUD_SDK_IDP_ID)."
    )
    id_token_file: str | None = Field(
        None,
        description=(
            "Projected service-account token exchanged with that identity provider "
            "(HUAWEICLOUD_SDK_ID_TOKEN_FILE)."
        ),
    )
    pod_identity_uri: str | None = Field(
        None, description="CCE Pod Identity credentials URI (HC_CONTAINER_CREDENTIALS_FULL_URI)."
    )
    pod_identity_token_file: str | None = Field(
        None,
        description="CCE Pod Identity token file (HC_CONTAINER_AUTHORIZATION_TOKEN_FILE).",
    )
    ecs_metadata: bool = Field(
        True,
        description="Last in the chain: the node's agency from the ECS metadata service.",
    )
    metadata_endpoint: str = Field(
        "http://169.254.169.254", description="The ECS metadata service (tests and emulators)."
    )
    agencies: list[str] = Field(
        default_factory=list,
        description=(
            'IAM agencies ("<account>/<agency>", comma list) a Namespace\'s agency annotation '
            "may name; empty: none."
        ),
    )
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
    metrics_port: int = Field(9090, ge=0, le=65535, description="Prometheus /metrics port.")
    health_port: int = Field(8080, ge=0, le=65535, description="Liveness endpoint port.")
    # Both endpoints are unauthenticated: bind them where only what should reach them can
    # (127.0.0.1 behind a scraping sidecar; the pod's address, which probes and scrapes use,
    # with the chart's NetworkPolicy deciding who may connect).
    metrics_address: str = Field(
        ALL_INTERFACES, description="Address the /metrics endpoint listens on (an IP literal)."
    )
    health_address: str = Field(
        ALL_INTERFACES, description="Address the liveness endpoint listens on (an IP literal)."
    )
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
    default_tags: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Tags put on every remote object that has tags (training jobs, services, "
            "notebooks), as key=value pairs (comma list) or a JSON object; a key a spec's "
            "tags also set takes the spec's value. Keys and values as the cloud's tags "
            "(key 1-128, value at most 255 characters of letters, digits, spaces and "
            "_ . : = + - @ (and / in values); no _sys_ key); the operator's ownership "
            "tag keys are reserved. At most 10, so that a spec's own tags still fit the "
            "cloud's limit of 20 per object."
        ),
    )

    @field_validator("namespaces", "credentials_secret_names", "agencies", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("default_tags", mode="before")
    @classmethod
    def _tag_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f"not a JSON object: {err.msg}") from None
        pairs: dict[str, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, val = part.partition("=")
            if not sep:
                raise ValueError(f"{part.strip()!r} is not key=value")
            pairs[key.strip()] = val.strip()
        return pairs

    @field_validator("default_tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        from .crd.common import RESERVED_TAG_KEYS
        from .vocab.training import TmsTag

        if len(value) > MAX_DEFAULT_TAGS:
            raise ValueError(f"at most {MAX_DEFAULT_TAGS} default tags")
        for key, val in value.items():
            if key in RESERVED_TAG_KEYS:
                raise ValueError(f"tag key {key!r} is the operator's own")
            try:
                TmsTag(key=key, value=val)
            except ValidationError as err:
                raise ValueError(
                    f"tag {key!r}: " + "; ".join(e["msg"] for e in err.errors())
                ) from None
            if key.startswith("_sys_"):
                raise ValueError(f"tag key {key!r} must not start with _sys_")
        return value

    @field_validator("metrics_address", "health_address")
    @classmethod
    def _ip_literal(cls, value: str) -> str:
        """An IP address, not a name: a name would be resolved at start and could bind
        somewhere else than the operator's user meant."""
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"not an IP address: {value!r}") from None

    @field_validator("credentials_secret")
    @classmethod
    def _namespaced(cls, value: str | None) -> str | None:
        if not value:
            return None
        namespace, _, name = value.partition("/")
        if not (DNS_LABEL.fullmatch(namespace) and DNS_SUBDOMAIN.fullmatch(name)):
            raise ValueError('must be "namespace/name" (Kubernetes names)')
        return value

    @field_validator("credentials_secret_names")
    @classmethod
    def _secret_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not DNS_SUBDOMAIN.fullmatch(name):
                raise ValueError(f"{name!r} is not a Kubernetes object name")
        return value

    @field_validator("agencies")
    @classmethod
    def _agencies(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not AGENCY_REFERENCE.fullmatch(ref):
                raise ValueError(f'{ref!r} is not "<account name>/<agency name>"')
        return value

    @model_validator(mode="after")
    def _pairs(self) -> OperatorSettings:
        # As the SDK (Credentials._check_required_idp_params): half a pair is a mistake, not
        # a reason to try the next mechanism.
        for a, b in (("idp_id", "id_token_file"), ("pod_identity_uri", "pod_identity_token_file")):
            if bool(getattr(self, a)) != bool(getattr(self, b)):
                given, missing = (a, b) if getattr(self, a) else (b, a)
                raise ValueError(f"{given} is set but {missing} is not ({SDK_ENV[missing]})")
        return self

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> OperatorSettings:
        """Read ``MODELARTS_*`` variables; explicit ``overrides`` (CLI flags) win."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = environ.get(ENV_PREFIX + name.upper())
            if raw in (None, "") and name in SDK_ENV:
                raw = environ.get(SDK_ENV[name])
            if raw not in (None, ""):
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            problems = "; ".join(
                f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else e["msg"]
                for e in err.errors()
            )
            raise SettingsError(f"invalid operator settings: {problems}") from None


def http_url(address: str, port: int, path: str) -> str:
    """``http://address:port/path``, with an IPv6 address in brackets."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}{path}"
