"""Emulator settings and the documented default credentials.

The defaults are deliberately public: the emulator only listens on loopback and exists so a
person (or a test) can point the operator or curl at it without any setup. Every default can be
overridden by a CLI flag or the matching ``EMULATOR_*`` environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443
DEFAULT_REGION = "cn-north-4"
DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_DOMAIN_ID = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0"
DEFAULT_AK = "EMULATORAK0000000001"
DEFAULT_SK = "emulator-secret-key-do-not-use-in-production-0001"
DEFAULT_IAM_USER = "emulator-user"
DEFAULT_IAM_PASSWORD = "emulator-password"  # noqa: S105 - documented public default
DEFAULT_IAM_DOMAIN = "emulator-domain"
DEFAULT_TOKEN_TTL = 24 * 3600.0
DEFAULT_SIGNATURE_MAX_SKEW = 15 * 60.0


def parse_agency(text: str) -> tuple[str, list[str]]:
    """ "NAME=GLOB[;GLOB...]" -> (NAME, [GLOB, ...]) (--agency)."""
    name, sep, trust = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--agency {text!r}: expected NAME=TRUSTED_GLOB[;TRUSTED_GLOB...]")
    return name, [g for g in trust.split(";") if g]


def parse_pod_identity(text: str) -> tuple[str, str]:
    """ "AGENCY=IDP_ID[,subject=GLOB]" -> (AGENCY, "IDP_ID[,subject=GLOB]") (--pod-identity)."""
    agency, sep, rest = text.partition("=")
    if not sep or not agency or not rest:
        raise ValueError(f"--pod-identity {text!r}: expected AGENCY=IDP_ID[,subject=GLOB]")
    return agency, rest


def parse_pairs(text: str) -> dict[str, str]:
    """ "a:b,c:d" -> {"a": "b", "c": "d"} (EMULATOR_EXTRA_PROJECTS, EMULATOR_EXTRA_KEYS)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.strip().partition(":")
        if not sep or not key or not value:
            raise ValueError(f"expected KEY:VALUE, got {item!r}")
        out[key] = value
    return out


@dataclass
class Timings:
    """How long each asynchronous phase lasts, in emulated seconds (before jitter)."""

    job_init: float = 2.0
    job_waiting: float = 3.0
    job_running: float = 30.0
    job_killing: float = 3.0
    job_deleting: float = 2.0  # v2 training: DELETE answers 202, the job goes later
    model_publishing: float = 5.0
    service_deploying: float = 10.0
    service_updating: float = 5.0
    batch_running: float = 20.0
    workspace_deleting: float = 3.0
    dataarts_creating: float = 3.0
    service_v2_deploying: float = 10.0
    service_v2_upgrading: float = 5.0
    service_v2_stopping: float = 2.0
    service_v2_deleting: float = 2.0
    notebook_creating: float = 3.0
    notebook_starting: float = 3.0
    notebook_stopping: float = 2.0
    notebook_deleting: float = 2.0
    pool_creating: float = 8.0
    pool_scaling: float = 5.0
    pool_deleting: float = 3.0
    network_creating: float = 3.0
    network_deleting: float = 2.0
    jitter: float = 0.2  # +-fraction applied to every phase, drawn from the seeded RNG


@dataclass
class EmulatorConfig:
    """Everything the emulator needs; ``from_env`` fills it from EMULATOR_* variables."""

    project_id: str = DEFAULT_PROJECT_ID
    region: str = DEFAULT_REGION
    domain_id: str = DEFAULT_DOMAIN_ID
    ak: str = DEFAULT_AK
    sk: str = field(default=DEFAULT_SK, repr=False)
    security_token: str | None = field(default=None, repr=False)
    iam_user: str = DEFAULT_IAM_USER
    iam_password: str = field(default=DEFAULT_IAM_PASSWORD, repr=False)
    iam_domain: str = DEFAULT_IAM_DOMAIN
    token_ttl: float = DEFAULT_TOKEN_TTL
    signature_max_skew: float = DEFAULT_SIGNATURE_MAX_SKEW
    speed: float = 1.0
    seed: int | None = None
    state_file: str | None = None
    persist_interval: float = 1.0
    timings: Timings = field(default_factory=Timings)
    # Documented flow control: X-ratelimit (requests per window) and 429 above it.
    rate_limit: int = 100_000
    rate_window: str = "minute"
    training_job_quota: int = 100_000
    service_quota: int = 100_000
    workspace_quota: int = 1_000
    # "page": offset is the page index (the reference's wording "start page"/"index of the
    # page"); "index": offset is the index of the first item.
    offset_mode: str = "page"
    hostname: str = "modelarts-emulator"
    # More projects (id -> name) of the same account, each with its own objects, and more
    # AK/SK pairs (AK/SK open every project of the account, as in the cloud).
    extra_projects: dict[str, str] = field(default_factory=dict)
    extra_keys: dict[str, str] = field(default_factory=dict, repr=False)
    # IAM's side of keyless identity (.oidc, .iam): OIDC identity providers
    # ("ID=JWKS_FILE_OR_URL,audience=CLIENT_ID[,subject=GLOB][,issuer=URL]"), agencies with
    # the principals they trust (globs over "user:<name>", "federated:<idp>:<subject>",
    # "agency:<name>"), Pod Identity associations (agency -> "IDP_ID[,subject=GLOB]"), the
    # agency of the node ECS metadata answers for, and a cap on temporary credentials'
    # lifetime (emulated seconds; None: as asked, 15 min to 24 h).
    idps: list[str] = field(default_factory=list)
    agencies: dict[str, list[str]] = field(default_factory=dict)
    pod_identities: dict[str, str] = field(default_factory=dict)
    metadata_agency: str | None = None
    credential_ttl: float | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> EmulatorConfig:
        """Defaults, then EMULATOR_<FIELD> variables, then explicit non-None overrides."""
        source = os.environ if env is None else env
        cfg = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("timings", "idps", "agencies", "pod_identities"):
                continue  # flags only (lists of specs)
            if f.name in ("extra_projects", "extra_keys"):
                raw_pairs = source.get("EMULATOR_" + f.name.upper())
                if raw_pairs:
                    values[f.name] = parse_pairs(raw_pairs)
                continue
            raw = source.get("EMULATOR_" + f.name.upper())
            if raw is None:
                continue
            current = getattr(cfg, f.name)
            if isinstance(current, bool):
                values[f.name] = raw.lower() in ("1", "true", "yes")
            elif isinstance(current, int) and f.name != "seed":
                values[f.name] = int(raw)
            elif isinstance(current, float):
                values[f.name] = float(raw)
            elif f.name == "seed":
                values[f.name] = int(raw)
            elif f.name == "credential_ttl":
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cfg, **values)

    def describe(self) -> str:
        """What a person needs to point a client at the emulator. The SK and password are shown
        only when they are the documented public defaults."""
        sk = self.sk if self.sk == DEFAULT_SK else "(set by you, not shown)"
        password = (
            self.iam_password
            if self.iam_password == DEFAULT_IAM_PASSWORD
            else "(set by you, not shown)"
        )
        return "\n".join(
            [
                f"  project id : {self.project_id}   (region {self.region})",
                *(f"  project id : {pid}   ({name})" for pid, name in self.extra_projects.items()),
                f"  AK / SK    : {self.ak} / {sk}",
                f"  IAM user   : {self.iam_user} / {password} (domain {self.iam_domain})",
                *(f"  IdP        : {spec}" for spec in self.idps),
                *(
                    f"  agency     : {name} trusts {', '.join(trust) or 'nobody'}"
                    for name, trust in self.agencies.items()
                ),
                f"  speed      : {self.speed}x   seed: {self.seed}",
                f"  state file : {self.state_file or '(in memory only)'}",
            ]
        )
