"""IAM ``POST /v3/auth/tokens`` (password method, project scope), plus ``GET /v3/projects``
so a client can look its project ID up the documented way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .core import core_of, json_body, reply
from .errors import ApiError


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z"


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
        user=cfg.iam_user,
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


def routes() -> list[tuple[str, str, Any]]:
    return [("POST", "/v3/auth/tokens", issue_token), ("GET", "/v3/projects", list_projects)]
