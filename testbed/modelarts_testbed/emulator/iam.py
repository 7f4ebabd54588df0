"""IAM: ``POST /v3/auth/tokens`` (password method, project scope), ``GET /v3/projects`` so a
client can look its project ID up the documented way, and every way to temporary credentials
without a stored key, as the official SDK core calls them (huaweicloudsdkcore/auth/
internal.py):

- ``POST /v3.0/OS-AUTH/id-token/tokens`` (header ``X-Idp-Id``, body ``auth.id_token.id``): an
  OIDC ID token, checked by the identity provider (.oidc), for an unscoped federated token
  (``X-Subject-Token``);
- ``POST /v3.0/OS-CREDENTIAL/securitytokens``: temporary AK/SK + security token for a token
  (method ``token``: the token in ``auth.identity.token.id`` as the SDK sends it, or in
  ``X-Auth-Token``), or for an agency (method ``assume_role``, the caller authenticated by
  token or AK/SK signature and matched against the agency's trust list);
- the ECS metadata service: ``PUT /meta-data/latest/api/token`` then ``GET
  /openstack/latest/securitykey`` with ``X-Metadata-Token`` (the node's agency);
- the CCE Pod Identity agent: ``POST /pod-identity/credentials`` with the service-account
  token as ``Authorization`` (its path is CCE's business; the URI is handed to the pod).

Temporary credentials expire on the emulated clock (the speed factor applies), and their
``expires_at`` is told on it, as every time the emulator tells; a client keeping real time
against a sped-up emulator learns of the expiry from a 401.
Every exchange is logged (``GET /_emulator/iam/exchanges``: provider, subject, iat, pod, outcome)
and ``POST /_emulator/iam/credentials/expire`` expires every temporary key at once.
"""

from __future__ import annotations

import fnmatch
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .auth import Principal, parse_authorization, verify_signature
from .core import Core, core_of, json_body, reply
from .errors import ApiError
from .oidc import decode_unverified


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z"


# IAM: temporary credentials last 15 min to 24 h, 15 min when not asked (IdentityAssumerole
# and TokenAuthIdentity duration_seconds in huaweicloudsdkiam).
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 86400, 900
# ECS metadata and the Pod Identity agent state no lifetime; the emulator's choice.
AMBIENT_DURATION = 3600.0
NO_AGENCY = "Please configure Cloud Service Agency first"  # the SDK's MetadataAccessor


def _bad(msg: str) -> ApiError:
    return ApiError(400, "IAM.0010", msg)


async def issue_token(request: web.Request) -> web.Response:
    core = core_of(request)
    cfg = core.config
    body = await json_body(request)
    auth = body.get("auth")
    if not isinstance(auth, dict) or not isinstance(auth.get("identity"), dict):
        raise _bad("The request body must contain auth.identity.")
    identity = auth["identity"]
    methods = identity.get("methods")
    if not isinstance(methods, list) or "password" not in methods:
        raise _bad("auth.identity.methods must contain password.")
    user = (identity.get("password") or {}).get("user")
    if not isinstance(user, dict) or not user.get("name") or user.get("password") is None:
        raise _bad("auth.identity.password.user needs name, password and domain.")
    domain = user.get("domain") or {}
    domain_name = domain.get("name") if isinstance(domain, dict) else None
    if (
        user["name"] != cfg.iam_user
        or user["password"] != cfg.iam_password
        or domain_name != cfg.iam_domain
    ):
        raise ApiError(401, "IAM.0002", "The username or password is wrong.")
    scope = auth.get("scope")
    project = scope.get("project") if isinstance(scope, dict) else None
    if not isinstance(project, dict):
        raise _bad("auth.scope.project is required: ModelArts needs a project-scoped token.")
    wanted = project.get("id") or project.get("name")
    by_name = {name: pid for pid, name in core.projects.items()}
    project_id = wanted if wanted in core.projects else by_name.get(str(wanted))
    if project_id is None:
        raise ApiError(
            401, "IAM.0003", f"The project {wanted!r} does not exist or is not accessible."
        )
    now = core.clock.now()
    project_name = core.projects[project_id]
    tok = core.tokens.issue(
        project_id=project_id,
        project_name=project_name,
        user=f"user:{cfg.iam_user}",  # the principal, as trust lists name it
        domain=cfg.iam_domain,
        now=now,
        ttl=cfg.token_ttl,
    )
    endpoint = core.base_url
    token: dict[str, Any] = {
        "expires_at": _iso(tok.expires_at),
        "issued_at": _iso(tok.issued_at),
        "methods": ["password"],
        "catalog": [
            {
                "endpoints": [
                    {
                        "region_id": cfg.region,
                        "region": cfg.region,
                        "interface": "public",
                        "url": endpoint,
                        "id": "e" * 32,
                    }
                ],
                "id": "f" * 32,
                "name": "modelarts",
                "type": "modelarts",
            }
        ],
        "project": {
            "id": project_id,
            "name": project_name,
            "domain": {"id": cfg.domain_id, "name": cfg.iam_domain},
        },
        "user": {
            "id": "u" + cfg.domain_id[1:],
            "name": cfg.iam_user,
            "domain": {"id": cfg.domain_id, "name": cfg.iam_domain},
            "password_expires_at": "",
        },
        "roles": [{"id": "0", "name": "op_service"}],
    }
    resp = reply({"token": token}, status=201)
    resp.headers["X-Subject-Token"] = tok.value
    return resp


async def list_projects(request: web.Request) -> web.Response:
    core = core_of(request)
    cfg = core.config
    return reply(
        {
            "projects": [
                {
                    "domain_id": cfg.domain_id,
                    "is_domain": False,
                    "parent_id": cfg.domain_id,
                    "name": name,
                    "description": "",
                    "links": {"next": None, "previous": None, "self": ""},
                    "id": pid,
                    "enabled": True,
                }
                for pid, name in core.projects.items()
            ],
            "links": {"next": None, "previous": None, "self": ""},
        }
    )


# ------------------------------------------------------------------------ who is calling
def principal_of_key(core: Core, access: str) -> str:
    cfg = core.config
    return f"user:{cfg.iam_user}" if access == cfg.ak else f"user:{access}"


async def identify(core: Core, request: web.Request) -> Principal:
    """The caller of an authenticated request: a token this IAM issued, or an SDK-HMAC-SHA256
    signature with a permanent AK/SK or unexpired temporary credentials (with their security
    token)."""
    cfg = core.config
    token = request.headers.get("X-Auth-Token")
    if token is not None or "Authorization" not in request.headers:
        tok = core.tokens.check(token, core.clock.now())
        return Principal("token", tok.project_id, tok.user)
    access = parse_authorization(request.headers.get("Authorization", "")).access
    temporary = core.temporary.get(access)
    if temporary is not None:
        if core.clock.now() >= temporary.expires_at:
            raise ApiError(401, "ModelArts.0208", "The temporary AK/SK have expired.")
        keys = {access: temporary.secret}
        tokens: dict[str, str | None] = {access: temporary.security_token}
        principal = temporary.principal
    else:
        keys, tokens = core.keys, {cfg.ak: cfg.security_token}
        principal = principal_of_key(core, access)
    verify_signature(
        method=request.method,
        raw_path=request.raw_path.split("?", 1)[0],
        raw_query=request.query_string,
        headers=dict(request.headers),
        body=await request.read(),
        keys=keys,
        security_tokens=tokens,
        wall_now=time.time(),
        max_skew=cfg.signature_max_skew,
    )
    return Principal("aksk", None, principal)


# ------------------------------------------------------------------ temporary credentials
def _issue(core: Core, principal: str, duration: float) -> dict[str, str]:
    ttl = min(duration, core.config.credential_ttl or duration)
    now = core.clock.now()
    key = core.temporary.issue(principal, now=now, ttl=ttl)
    return {
        "access": key.access,
        "secret": key.secret,
        "securitytoken": key.security_token,
        "expires_at": _iso(key.expires_at),
    }


def _log_exchange(
    core: Core, via: str, idp: str, token: str, outcome: str, principal: str = ""
) -> None:
    try:
        claims = decode_unverified(token)[1]
    except ApiError:
        claims = {}
    pod = ((claims.get("kubernetes.io") or {}).get("pod") or {}) if claims else {}
    core.exchanges.append(
        {
            "at": time.time(),
            "via": via,
            "idp": idp,
            "sub": claims.get("sub"),
            "iat": claims.get("iat"),
            "pod": pod.get("name"),
            "pod_uid": pod.get("uid"),
            "principal": principal,
            "outcome": outcome,
        }
    )
    del core.exchanges[:-1000]


async def token_from_id_token(request: web.Request) -> web.Response:
    core = core_of(request)
    idp_id = request.headers.get("X-Idp-Id", "")
    body = await json_body(request)
    auth = body.get("auth")
    id_token = ((auth or {}).get("id_token") or {}).get("id") if isinstance(auth, dict) else None
    if not isinstance(id_token, str) or not id_token:
        raise _bad("The request body must contain auth.id_token.id.")
    idp = core.idps.get(idp_id)
    if idp is None:
        _log_exchange(core, "id-token", idp_id, id_token, "no such identity provider")
        raise ApiError(404, "IAM.0004", f"Could not find identity provider: {idp_id}.")
    try:
        claims = idp.verify(id_token)
    except ApiError as err:
        _log_exchange(core, "id-token", idp_id, id_token, err.msg)
        raise
    principal = f"federated:{idp_id}:{claims['sub']}"
    _log_exchange(core, "id-token", idp_id, id_token, "ok", principal)
    now = core.clock.now()
    tok = core.tokens.issue(
        project_id="",  # unscoped: it opens no project's resources, only IAM's exchange
        project_name="",
        user=principal,
        domain=core.config.iam_domain,
        now=now,
        ttl=core.config.token_ttl,
    )
    cfg = core.config
    token = {
        "expires_at": _iso(tok.expires_at),
        "issued_at": _iso(tok.issued_at),
        "methods": ["mapped"],
        "user": {
            "domain": {"id": cfg.domain_id, "name": cfg.iam_domain},
            "id": secrets.token_hex(16),
            "name": claims["sub"],
            "OS-FEDERATION": {
                "groups": [],
                "identity_provider": {"id": idp_id},
                "protocol": {"id": "oidc"},
            },
        },
    }
    resp = reply({"token": token}, status=201)
    resp.headers["X-Subject-Token"] = tok.value
    return resp


def _duration(container: dict[str, Any]) -> int:
    value = container.get("duration_seconds", DEFAULT_DURATION)
    if not isinstance(value, int) or not MIN_DURATION <= value <= MAX_DURATION:
        raise _bad(f"duration_seconds must be an integer from {MIN_DURATION} to {MAX_DURATION}.")
    return value


async def security_tokens(request: web.Request) -> web.Response:
    core = core_of(request)
    cfg = core.config
    body = await json_body(request)
    identity = ((body.get("auth") or {}).get("identity")) if isinstance(body, dict) else None
    if not isinstance(identity, dict):
        raise _bad("The request body must contain auth.identity.")
    methods = identity.get("methods")
    if methods == ["token"]:
        given = identity.get("token")
        spec: dict[str, Any] = given if isinstance(given, dict) else {}
        value = spec.get("id") or request.headers.get("X-Auth-Token")
        try:
            tok = core.tokens.check(value, core.clock.now())
        except ApiError as err:
            raise ApiError(401, "IAM.0007", f"The token is not valid: {err.msg}") from None
        credential = _issue(core, tok.user, _duration(spec))
    elif methods == ["assume_role"]:
        role = identity.get("assume_role")
        if not isinstance(role, dict) or not role.get("agency_name"):
            raise _bad("auth.identity.assume_role.agency_name is required.")
        domain = role.get("domain_id") or role.get("domain_name")
        if domain not in (cfg.domain_id, cfg.iam_domain):
            raise ApiError(404, "IAM.0004", f"Could not find domain: {domain}.")
        caller = await identify(core, request)
        name = str(role["agency_name"])
        trusted = cfg.agencies.get(name)
        if trusted is None:
            raise ApiError(404, "IAM.0004", f"Could not find agency: {name}.")
        if not any(fnmatch.fnmatchcase(caller.user, glob) for glob in trusted):
            raise ApiError(
                403, "IAM.0003", f"Policy doesn't allow {caller.user} to assume agency {name}."
            )
        credential = _issue(core, f"agency:{name}", _duration(role))
    else:
        raise _bad('auth.identity.methods must be ["token"] or ["assume_role"].')
    return reply({"credential": credential}, status=201)


# ---------------------------------------------------------------------------- ECS metadata
def _plain(status: int, text: str) -> web.Response:
    """The metadata service and the Pod Identity agent answer errors in plain text (the SDK
    reads ``resp.text``); they have no documented error codes."""
    return web.Response(status=status, text=text, content_type="text/plain")


async def metadata_token(request: web.Request) -> web.Response:
    core = core_of(request)
    raw = request.headers.get("X-Metadata-Token-Ttl-Seconds", "")
    if not raw.isdigit() or not 1 <= int(raw) <= 21600:
        return _plain(400, "X-Metadata-Token-Ttl-Seconds must be 1 to 21600.")
    token = secrets.token_urlsafe(32)
    core.metadata_tokens[token] = core.clock.now() + int(raw)
    return web.Response(text=token, content_type="text/plain")


async def metadata_security_key(request: web.Request) -> web.Response:
    core = core_of(request)
    token = request.headers.get("X-Metadata-Token", "")
    if core.metadata_tokens.get(token, 0.0) <= core.clock.now():
        return _plain(401, "The metadata token is missing, unknown or expired.")
    agency = core.config.metadata_agency
    if not agency:
        return _plain(401, NO_AGENCY)
    return reply({"credential": _issue(core, f"agency:{agency}", AMBIENT_DURATION)})


# ---------------------------------------------------------------------------- Pod Identity
async def pod_identity(request: web.Request) -> web.Response:
    core = core_of(request)
    token = request.headers.get("Authorization", "")
    reasons: list[str] = []
    for agency, association in core.config.pod_identities.items():
        idp_id, _, option = association.partition(",")
        subject = option.partition("=")[2] if option.startswith("subject=") else None
        try:
            claims = core.idps[idp_id].verify(token, subject)
        except ApiError as err:
            reasons.append(f"{agency}: {err.msg}")
            continue
        principal = f"agency:{agency}"
        _log_exchange(core, "pod-identity", idp_id, token, "ok", principal)
        issued = _issue(core, principal, AMBIENT_DURATION)
        del claims
        return reply(
            {
                "credentials": {
                    "accessKeyId": issued["access"],
                    "secretAccessKey": issued["secret"],
                    "securityToken": issued["securitytoken"],
                    "expiration": issued["expires_at"],
                }
            }
        )
    outcome = "; ".join(reasons) or "no Pod Identity association"
    _log_exchange(core, "pod-identity", "", token, outcome)
    return _plain(401, f"No Pod Identity association accepts this token ({outcome}).")


# ---------------------------------------------------------------------------------- admin
async def list_exchanges(request: web.Request) -> web.Response:
    return reply({"exchanges": core_of(request).exchanges})


async def expire_credentials(request: web.Request) -> web.Response:
    core = core_of(request)
    return reply({"expired": core.temporary.expire_all(core.clock.now())})


# Routes that authenticate by themselves (or need no authentication), not by the pipeline.
UNAUTHENTICATED = {
    ("POST", "/v3/auth/tokens"),
    ("POST", "/v3.0/OS-AUTH/id-token/tokens"),
    ("POST", "/v3.0/OS-CREDENTIAL/securitytokens"),
    ("PUT", "/meta-data/latest/api/token"),
    ("GET", "/openstack/latest/securitykey"),
    ("POST", "/pod-identity/credentials"),
}


def routes() -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/v3/auth/tokens", issue_token),
        ("GET", "/v3/projects", list_projects),
        ("POST", "/v3.0/OS-AUTH/id-token/tokens", token_from_id_token),
        ("POST", "/v3.0/OS-CREDENTIAL/securitytokens", security_tokens),
        ("PUT", "/meta-data/latest/api/token", metadata_token),
        ("GET", "/openstack/latest/securitykey", metadata_security_key),
        ("POST", "/pod-identity/credentials", pod_identity),
        ("GET", "/_emulator/iam/exchanges", list_exchanges),
        ("POST", "/_emulator/iam/credentials/expire", expire_credentials),
    ]
