"""Remote identity and the bind-time decisions: derived names never collide, the ownership
marker survives a round trip through a description, and a bind to an object that is not ours
needs the object's request and its namespace's allowance."""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
from typing import Any

import pytest

from modelarts_operator.reconcile.credentials import ClientFactory
from modelarts_operator.reconcile.naming import (
    choose_remote_name,
    marked_description,
    marker_of,
    owner_marker,
    remote_name,
    unmarked,
)
from modelarts_operator.reconcile.policies import (
    ALLOW_ADOPTION,
    RESYNC_PERIOD,
    Allowance,
    Found,
    LocationVerdict,
    Policies,
    PolicyError,
    allowance_of,
    bind_refusal,
    location_verdict,
    project_changed,
)
from modelarts_operator.settings import OperatorSettings

API_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # job, model, service (workspace: 4-64)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("team-a", "web"), ("team", "a-web")),
        (("ml", "v1.0"), ("ml", "v1-0")),
        (("ml", "a.b"), ("ml", "a-b")),
        (("x", "a" * 80), ("x", "a" * 81)),
    ],
)
def test_objects_that_used_to_collide_get_different_names(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert remote_name(*a) != remote_name(*b)
    assert API_NAME.match(remote_name(*a))
    assert API_NAME.match(remote_name(*b))


def test_names_are_injective_over_a_tricky_corpus() -> None:
    namespaces = ["a", "a-b", "a-b-c", "team", "team-a", "ml", "x" * 63]
    names = ["b", "b-c", "c", "a-web", "web", "v1.0", "v1-0", "v1..0", "a.b.c", "y" * 253]
    pairs = list(itertools.product(namespaces, names))
    derived = {remote_name(ns, n) for ns, n in pairs}
    assert len(derived) == len(pairs)
    assert all(API_NAME.match(d) for d in derived)
    with_id = {remote_name(ns, n, installation_id="c1") for ns, n in pairs}
    assert len(with_id) == len(pairs)
    assert not (with_id & derived)


def test_names_are_stable_and_readable() -> None:
    assert remote_name("team-a", "web") == "team-a_web"  # same on every run: no randomness
    assert remote_name("team-a", "web", installation_id="prod") == "prod_team-a_web"
    hashed = remote_name("ml", "v1.0")
    assert hashed.startswith("ml_v1-0_")
    assert hashed == remote_name("ml", "v1.0")


def test_recorded_names_win_over_the_new_scheme() -> None:
    # An object created under the old scheme (``ns-name``) keeps its remote name.
    assert choose_remote_name(None, "team-a-web", None, "team-a_web") == "team-a-web"
    assert choose_remote_name("explicit", "old", None, "new") == "explicit"
    assert choose_remote_name(None, None, "pending", "new") == "pending"
    assert choose_remote_name(None, None, None, "new") == "new"


def test_the_marker_round_trips_through_a_description() -> None:
    marker = owner_marker("", "Workspace", "team-a", "web")
    assert marker != owner_marker("", "Workspace", "team", "a-web")
    assert marker != owner_marker("c2", "Workspace", "team-a", "web")
    desc = marked_description("my workspace", marker, 256)
    assert desc == f"my workspace {marker}"
    assert marker_of(type("R", (), {"description": desc})()) == marker
    assert marker_of(type("R", (), {"job_desc": desc})()) == marker
    assert unmarked(desc) == "my workspace"
    # Re-marking is idempotent; a marker copied into the user's text is not the trailing one.
    assert marked_description(desc, marker, 256) == desc
    other = owner_marker("", "Workspace", "team-b", "web")
    forged = marked_description(f"looks like {other}", marker, 256)
    assert marker_of(type("R", (), {"description": forged})()) == marker
    # The API's limit holds (model and service descriptions: 100).
    assert len(marked_description("x" * 100, marker, 100)) == 100
    assert marker_of(type("R", (), {"description": "made in the console"})()) is None


def decide(
    found: Found, ours: bool, allowance: Allowance, elsewhere: bool = False, **annotations: str
) -> Any:
    policies = Policies.from_annotations(
        {f"modelarts.huaweicloud.com/{k.replace('_', '-')}": v for k, v in annotations.items()}
    )
    return bind_refusal(
        found=found,
        ours=ours,
        policies=policies,
        allowance=allowance,
        namespace="team-a",
        remote="'web' (ID 1)",
        owned_elsewhere=elsewhere,
    )


def test_our_own_object_is_always_bound() -> None:
    for found in Found:
        assert decide(found, True, Allowance.NONE) is None


def test_a_taken_name_is_never_bound_silently_and_its_owner_is_not_named() -> None:
    """NameTaken says the name is taken by another object, nothing about that object (it may
    be another tenant's namespace/name)."""
    for elsewhere in (False, True):
        refusal = decide(Found.BY_NAME, False, Allowance.MANAGE, elsewhere)
        assert refusal.reason == "NameTaken"
        assert "taken by another object" in refusal.message
        assert "team-b" not in refusal.message


def test_an_allowance_never_adopts_another_live_objects_remote_object() -> None:
    """Issue 24: allow-adoption manage let a namespace adopt (and delete) an object that
    carries the marker of another team's live object."""
    for found, asked in (
        (Found.EXTERNAL_ID, {"external_id": "1"}),
        (Found.BY_NAME, {"adoption_policy": "adopt"}),
        (Found.RECORDED, {"adoption_policy": "adopt"}),
        (Found.BY_NAME, {"management_policy": "observe"}),
    ):
        refusal = decide(found, False, Allowance.MANAGE, True, **asked)
        assert refusal.reason == "NotOwned", (found, asked)
        assert "another object managed by this operator" in refusal.message
        # The same object, its owner gone (deleted with Retain): adoptable where allowed.
        assert decide(found, False, Allowance.MANAGE, False, **asked) is None


def test_an_id_in_status_that_is_not_ours_is_refused() -> None:
    """Issue 24: a status ID was trusted for get, update and delete. Not ours and not an
    adoption asked for (and allowed): NotOwned, whatever the namespace allows."""
    refusal = decide(Found.RECORDED, False, Allowance.MANAGE)
    assert refusal.reason == "NotOwned"
    assert "nothing is changed remotely" in refusal.message
    assert decide(Found.RECORDED, False, Allowance.NONE, adoption_policy="adopt").reason == (
        "AdoptionNotAllowed"
    )


@pytest.mark.parametrize(
    ("found", "annotations", "allowance", "allowed"),
    [
        (Found.EXTERNAL_ID, {"external_id": "1"}, Allowance.NONE, False),
        (Found.EXTERNAL_ID, {"external_id": "1"}, Allowance.OBSERVE, False),
        (Found.EXTERNAL_ID, {"external_id": "1"}, Allowance.MANAGE, True),
        (
            Found.EXTERNAL_ID,
            {"external_id": "1", "management_policy": "observe"},
            Allowance.OBSERVE,
            True,
        ),
        (Found.BY_NAME, {"adoption_policy": "adopt"}, Allowance.NONE, False),
        (Found.BY_NAME, {"adoption_policy": "adopt-or-create"}, Allowance.MANAGE, True),
        (Found.BY_NAME, {"management_policy": "observe"}, Allowance.NONE, False),
        (Found.BY_NAME, {"management_policy": "observe"}, Allowance.OBSERVE, True),
        (Found.RECORDED, {"adoption_policy": "adopt"}, Allowance.MANAGE, True),
    ],
)
def test_adoption_needs_the_namespace_allowance(
    found: Found, annotations: dict[str, str], allowance: Allowance, allowed: bool
) -> None:
    refusal = decide(found, False, allowance, **annotations)
    if allowed:
        assert refusal is None
    else:
        assert refusal.reason == "AdoptionNotAllowed"
        assert ALLOW_ADOPTION in refusal.message
        assert "team-a" in refusal.message


def test_a_resync_period_below_the_platforms_minimum_is_refused() -> None:
    """Issue 24: `resync-period: 1s` was accepted (a PATCH and a GET per object per second
    against the shared rate limit)."""
    short = {RESYNC_PERIOD: "1s"}
    with pytest.raises(PolicyError, match="shorter than the 300s the platform allows"):
        Policies.from_annotations(short, OperatorSettings().resync_minimum_seconds)
    assert Policies.from_annotations({RESYNC_PERIOD: "5m"}, 300).resync_period == 300
    assert Policies.from_annotations(short, 1).resync_period == 1  # a platform's test setting


def test_allowance_annotation_values() -> None:
    assert allowance_of("ns", None) is Allowance.NONE
    assert allowance_of("ns", {ALLOW_ADOPTION: "observe"}) is Allowance.OBSERVE
    assert allowance_of("ns", {ALLOW_ADOPTION: "manage"}) is Allowance.MANAGE
    with pytest.raises(PolicyError, match=f"namespace ns annotation {ALLOW_ADOPTION}"):
        allowance_of("ns", {ALLOW_ADOPTION: "yes"})


HERE = {"projectId": "p1", "region": "r1", "endpoint": "https://e"}


def test_location_changes() -> None:
    assert location_verdict(None, HERE, None) is LocationVerdict.SAME  # never bound
    assert location_verdict(HERE, dict(HERE), None) is LocationVerdict.SAME
    moved = {**HERE, "projectId": "p2"}
    assert location_verdict(HERE, moved, None) is LocationVerdict.CHANGED
    assert location_verdict(HERE, moved, "p1") is LocationVerdict.CHANGED  # not the new one
    assert location_verdict(HERE, moved, "p2") is LocationVerdict.ACCEPTED
    other_region = {**HERE, "region": "r2"}
    assert location_verdict(HERE, other_region, None) is LocationVerdict.CHANGED
    refusal = project_changed(HERE, moved)
    assert refusal.reason == "ProjectChanged"
    assert "p1" in refusal.message
    assert "p2" in refusal.message
    assert "accept-location=p2" in refusal.message


class FakeKube:
    """Namespaces and Secrets as the API server returns them; a Secret's resourceVersion
    changes on every write, like a real one."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.version = 0

    def put(self, path: str, body: dict[str, Any]) -> None:
        self.version += 1
        body.setdefault("metadata", {})["resourceVersion"] = str(self.version)
        self.objects[path] = body

    async def get(self, path: str) -> dict[str, Any]:
        from modelarts_operator.reconcile.kube import KubeError

        if path not in self.objects:
            raise KubeError(404, "not found")
        return self.objects[path]


def secret(sk: str) -> dict[str, Any]:
    return {
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in {"ak": "a", "sk": sk}.items()}
    }


def test_clients_are_closed_when_their_secret_rotates_or_their_namespace_goes() -> None:
    async def main() -> None:
        kube = FakeKube()
        for ns in ("team-a", "team-b"):
            kube.put(f"/api/v1/namespaces/{ns}", {})
        kube.put("/api/v1/namespaces/ops/secrets/creds", secret("s0"))
        settings = OperatorSettings(credentials_secret="ops/creds", project_id="p")
        factory = ClientFactory(settings, kube)  # type: ignore[arg-type]
        factory.CACHE_SECONDS = 0.0
        factory.CLOSE_GRACE_SECONDS = 0.01
        first = await factory.for_namespace("team-a")
        assert await factory.for_namespace("team-b") is first  # shared credentials: one client
        for rotation in range(1, 6):
            kube.put("/api/v1/namespaces/ops/secrets/creds", secret(f"s{rotation}"))
            await factory.for_namespace("team-a")
            await factory.for_namespace("team-b")
            await asyncio.sleep(0.05)
            assert factory.open_clients == 1
            assert factory.closed == rotation
        assert first._http.is_closed
        # A namespace with its own Secret, then the namespace goes away.
        kube.put(
            "/api/v1/namespaces/team-c",
            {"metadata": {"annotations": {"modelarts.huaweicloud.com/credentials-secret": "own"}}},
        )
        kube.put("/api/v1/namespaces/team-c/secrets/own", secret("own"))
        own = await factory.for_namespace("team-c")
        assert factory.open_clients == 2
        factory.evict_namespace("team-c")
        await asyncio.sleep(0.05)
        assert factory.open_clients == 1
        assert own._http.is_closed
        await factory.aclose()

    asyncio.run(main())


class WatchKube:
    """A Secret list and watch by name as the API server serves them: the first watch
    carries one change and then ends (as a watch does at its timeout)."""

    def __init__(self) -> None:
        self.listings = 0
        self.paths: list[str] = []
        self.version = "5"

    async def get(self, path: str) -> dict[str, Any]:
        self.paths.append(path)
        self.listings += 1
        item = {
            "metadata": {"namespace": "team-a", "name": "creds", "resourceVersion": self.version}
        }
        return {"metadata": {"resourceVersion": "10"}, "items": [item]}

    async def watch(self, path: str, since: str, seconds: int) -> Any:
        self.paths.append(path)
        if self.listings == 1:
            yield {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "11"}}}
            yield {
                "type": "MODIFIED",
                "object": {
                    "metadata": {"namespace": "team-b", "name": "creds", "resourceVersion": "12"}
                },
            }
            self.version = "13"  # changed while no watch was open
        else:
            await asyncio.sleep(3600)


def test_secret_watch_is_by_name_and_reports_changes_only() -> None:
    async def main() -> list[tuple[str, str]]:
        kube = WatchKube()
        seen: list[tuple[str, str]] = []

        async def changed(namespace: str, name: str) -> None:
            seen.append((namespace, name))

        from modelarts_operator.reconcile.credentials import SecretWatcher

        watcher = SecretWatcher(kube, OperatorSettings(), changed)  # type: ignore[arg-type]
        watcher.RESTART_SECONDS = 0.0
        watcher.ensure("team-a", "creds")
        watcher.ensure("team-b", "creds")  # cluster scope: one watch serves every namespace
        assert watcher.paths == {"/api/v1/secrets?fieldSelector=metadata.name%3Dcreds"}
        await asyncio.sleep(0.05)
        await watcher.stop()
        assert all("fieldSelector=metadata.name%3Dcreds" in p for p in kube.paths)
        return seen

    # The first listing is not a change; the watched change is; the change seen on the
    # relist after the watch ended is too.
    assert asyncio.run(main()) == [("team-b", "creds"), ("team-a", "creds")]


def test_secret_watch_in_namespaced_scope_stays_in_the_namespace() -> None:
    from modelarts_operator.reconcile.credentials import SecretWatcher

    async def noop(namespace: str, name: str) -> None:
        return None

    watcher = SecretWatcher(WatchKube(), OperatorSettings(namespaces=["team-a"]), noop)  # type: ignore[arg-type]
    assert (
        watcher.path_for("team-a", "creds")
        == "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Dcreds"
    )


def test_a_secret_outside_the_allowed_names_is_a_credentials_error() -> None:
    from modelarts_operator.reconcile.credentials import CredentialsError

    async def main() -> None:
        kube = FakeKube()
        kube.put(
            "/api/v1/namespaces/team-a",
            {"metadata": {"annotations": {"modelarts.huaweicloud.com/credentials-secret": "db"}}},
        )
        kube.put("/api/v1/namespaces/team-a/secrets/db", secret("x"))
        settings = OperatorSettings(
            project_id="p", credentials_secret_names=["modelarts-credentials"]
        )
        factory = ClientFactory(settings, kube)  # type: ignore[arg-type]
        with pytest.raises(CredentialsError, match="MODELARTS_CREDENTIALS_SECRET_NAMES"):
            await factory.for_namespace("team-a")
        assert factory.watcher.paths == set()  # and it is not watched either
        await factory.aclose()

    asyncio.run(main())


def test_the_crd_leaves_room_for_the_marker() -> None:
    """A description the CRD admits always fits the API's limit with the marker after it,
    so it is never shortened silently."""
    from modelarts_operator.crd.common import OWN_TEXT_100, OWN_TEXT_256

    marker = owner_marker("prod", "Service", "n" * 63, "x" * 253)
    for admitted, limit in ((OWN_TEXT_100, 100), (OWN_TEXT_256, 256)):
        text = "d" * admitted
        assert marked_description(text, marker, limit) == f"{text} {marker}"
        assert len(marked_description(text, marker, limit)) == limit
