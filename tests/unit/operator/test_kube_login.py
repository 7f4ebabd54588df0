"""In-cluster login: the kubernetes library's own in-cluster loader feeds our client and
kopf's login, with the token file rotated the way the kubelet rotates it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelarts_operator.reconcile import kube


@pytest.fixture
def in_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pod's view: the service env and a mounted token and CA (the real loader reads them)."""
    token = tmp_path / "token"
    token.write_text("token-one\n")
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    monkeypatch.setattr(kube, "SERVICE_ACCOUNT_TOKEN", str(token))
    monkeypatch.setattr(kube, "SERVICE_ACCOUNT_CA", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    return token


def _rotate(path: Path, token: str) -> None:
    """The kubelet replaces the file (atomic rename of a new one), which changes its mtime."""
    new = path.with_suffix(".new")
    new.write_text(token)
    stat = path.stat()
    os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    new.replace(path)


def _rewrite_in_place(path: Path, token: str) -> None:
    """Same size, same mtime: what the cheap (stat) check cannot see."""
    stat = path.stat()
    path.write_text(token)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_in_cluster_token_has_no_doubled_scheme(in_cluster: Path) -> None:
    configuration = kube.load_configuration()
    # The library itself stores the lower-case form; this is what broke the pod.
    assert configuration.api_key["BearerToken"].startswith("bearer token-one")
    assert kube.bearer_token(configuration) == "token-one"
    info = kube.connection_info()
    assert info.token == "token-one"
    assert info.server == "https://10.0.0.1:443"
    assert info.expiration is not None  # kopf logs in again before a rotation can bite


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("Bearer abc", "abc"),  # kubeconfig loader
        ("bearer abc", "abc"),  # in-cluster loader
        ("BEARER abc", "abc"),
        ("abc", "abc"),  # a bare token is left alone
    ],
)
def test_bearer_token_strips_either_case(stored: str, expected: str) -> None:
    class Cfg:
        api_key: dict[str, Any] = {"authorization": stored}

    assert kube.bearer_token(Cfg()) == expected


def test_kubeconfig_login_does_not_expire(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: kc-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""
    )
    info = kube.connection_info(str(config))
    assert info.token == "kc-token"
    assert info.expiration is None


async def test_client_follows_a_rotated_token_file(in_cluster: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    auth = kube.BearerToken.from_configuration(kube.load_configuration())
    assert auth is not None
    async with httpx.AsyncClient(
        base_url="https://10.0.0.1", transport=httpx.MockTransport(handler), auth=auth
    ) as http:
        client = kube.KubeClient(http)
        await client.get("/api/v1/namespaces")
        _rotate(in_cluster, "token-two\n")
        await client.get("/api/v1/namespaces")
    assert seen == ["Bearer token-one", "Bearer token-two"]


async def test_a_401_rereads_the_file_once_and_retries(in_cluster: Path) -> None:
    """Rewritten in place within one mtime tick (size and mtime unchanged, so the cheap check
    misses it): the 401 makes us read it again, and the request is retried once."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        header = request.headers["Authorization"]
        seen.append(header)
        return httpx.Response(200 if header == "Bearer token-two" else 401, json={})

    auth = kube.BearerToken(path=str(in_cluster))
    _rewrite_in_place(in_cluster, "token-two\n")
    async with httpx.AsyncClient(
        base_url="https://10.0.0.1", transport=httpx.MockTransport(handler), auth=auth
    ) as http:
        response = await http.get("/api")
    assert response.status_code == 200
    assert seen == ["Bearer token-one", "Bearer token-two"]


async def test_a_401_with_an_unchanged_token_is_not_retried(in_cluster: Path) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(401, json={"message": "Unauthorized"})

    auth = kube.BearerToken(path=str(in_cluster))
    async with httpx.AsyncClient(
        base_url="https://10.0.0.1", transport=httpx.MockTransport(handler), auth=auth
    ) as http:
        client = kube.KubeClient(http)
        with pytest.raises(kube.KubeError) as err:
            await client.get("/api")
    assert err.value.status == 401
    assert calls == 1
