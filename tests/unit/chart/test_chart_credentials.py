"""The chart's credentials values for each mechanism: OIDC federation (a projected
service-account token with the identity provider's audience, the SDK's variable names), the
ECS metadata fallback, the agencies a Namespace may name; and what the schema refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelarts_operator.settings import OperatorSettings
from tests.unit.chart._helm import container, env_of, one

Render = Callable[..., list[dict[str, Any]]]

OIDC = {"enabled": True, "idpId": "cce-cluster-oidc", "audience": "modelarts-operator"}


def test_oidc_mounts_a_token_for_iam_and_names_it_as_the_sdk_does(render: Render) -> None:
    objects = render({"credentials": {"oidc": OIDC}, "modelarts": {"projectId": "p0"}})
    env = env_of(objects)
    assert env["HUAWEICLOUD_SDK_IDP_ID"] == "cce-cluster-oidc"
    assert env["HUAWEICLOUD_SDK_ID_TOKEN_FILE"] == "/var/run/secrets/huaweicloud/oidc/token"
    assert "MODELARTS_CREDENTIALS_SECRET" not in env  # no key anywhere
    mount = next(m for m in container(objects)["volumeMounts"] if m["name"] == "oidc-token")
    assert mount == {
        "name": "oidc-token",
        "mountPath": "/var/run/secrets/huaweicloud/oidc",
        "readOnly": True,
    }
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "oidc-token"]
    assert volume["projected"]["sources"] == [
        {
            "serviceAccountToken": {
                "path": "token",
                "audience": "modelarts-operator",
                "expirationSeconds": 3600,
            }
        }
    ]
    # What the operator makes of it: OIDC federation first in its chain.
    settings = OperatorSettings.from_env(env)
    assert (settings.idp_id, settings.id_token_file) == (
        "cce-cluster-oidc",
        "/var/run/secrets/huaweicloud/oidc/token",
    )
    assert settings.credentials_secret is None


def test_without_oidc_no_token_is_mounted(render: Render) -> None:
    objects = render()
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert all(v["name"] != "oidc-token" for v in pod["volumes"])
    assert "HUAWEICLOUD_SDK_IDP_ID" not in env_of(objects)


def test_metadata_off_and_allowed_agencies_reach_the_operator(render: Render) -> None:
    env = env_of(
        render(
            {
                "credentials": {
                    "existingSecret": "creds",
                    "ecsMetadata": {"enabled": False},
                    "agencies": {"allowed": ["acme/team-a", "acme/team-b"]},
                }
            }
        )
    )
    settings = OperatorSettings.from_env(env)
    assert settings.ecs_metadata is False
    assert settings.agencies == ["acme/team-a", "acme/team-b"]
    assert "MODELARTS_ECS_METADATA" not in env_of(render())  # on by default, as the SDK


@pytest.mark.parametrize(
    "credentials",
    [
        {"oidc": {"enabled": True}},
        {"oidc": {"enabled": True, "idpId": "x"}},
        {"oidc": {**OIDC, "expirationSeconds": 300}},
        {"oidc": OIDC, "existingSecret": "creds"},
        {"agencies": {"allowed": ["team-a-without-account"]}},
        {"ecsMetadata": {"enabled": "no"}},
    ],
    ids=[
        "oidc-without-idp",
        "oidc-without-audience",
        "token-under-10-min",
        "oidc-and-a-secret",
        "agency-without-account",
        "bad-bool",
    ],
)
def test_the_schema_refuses_unusable_credentials(
    render_error: Callable[..., str], credentials: dict[str, Any]
) -> None:
    assert "schema" in render_error({"credentials": credentials})
