"""Issue 24 played by tenants: two teams' namespaces on one ModelArts project, each team a
person with the chart's tenant edit role (a client certificate of its own), the operator
running as the chart's ServiceAccount; team B's namespace may import console objects
(allow-adoption: manage), team A's may not. Team A's person tries to take over a notebook made
in the console (create-pending + adopt + Delete); team B's tries to hijack team A's workspace
by adoption (external-id, adoption by name), to point a status ID at it where the platform
granted the whole API group, and to redirect its namespace's region. Each is refused; the
emulator's per-endpoint counters show nothing of team A's, or of the console's, was written
remotely."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelarts_operator.api.notebooks import NotebookCreateRequest, VolumeMount
from modelarts_testbed.emulator import EmulatorConfig, Timings
from tests.integration.conftest import modelarts

from .conftest import (
    RELEASE,
    Cluster,
    OperatorUnderTest,
    Release,
    condition,
    is_ready,
    run_as_service_account,
)

pytestmark = pytest.mark.cluster

P = "modelarts.huaweicloud.com/"
TEAM_A, TEAM_B = "e2e-team-a", "e2e-team-b"
IMAGE_ID = "e1a07296-22a8-4f05-8bc8-e936c8e54090"  # in the emulator's image catalog
# What would claim or change a remote object: any call but a read.
WRITES = ("POST ", "PUT ", "DELETE ", "PATCH ")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from modelarts_testbed.emulator import run_emulator_in_thread

    config = EmulatorConfig(seed=24, speed=4.0, timings=Timings(jitter=0.0))
    with run_emulator_in_thread(config) as handle:
        yield handle


@pytest.fixture(scope="module")
def operator(
    cluster: Cluster, release: Release, emulator: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorUnderTest]:
    with run_as_service_account(cluster, release, emulator, tmp_path_factory) as op:
        yield op


def _console_notebook(emulator: Any, name: str) -> str:
    """A notebook someone made in the console (no tag, no marker), via the API."""

    async def create(client: Any) -> str:
        made = await client.notebooks.create(
            NotebookCreateRequest(
                name=name,
                image_id=IMAGE_ID,
                flavor="modelarts.vm.cpu.2u",
                volume=VolumeMount(category="EVS", ownership="MANAGED"),
                description="made in the console",
            )
        )
        return str(made.id)

    return str(modelarts(emulator, create))


def _remote(emulator: Any, kind: str, ident: str) -> dict[str, Any] | None:
    items = httpx.get(f"{emulator.url}/_emulator/objects/{kind}", timeout=10).json()["items"]
    return next((r for r in items if str(r.get("id")) == ident), None)


def _writes(emulator: Any) -> dict[str, int]:
    return {k: n for k, n in emulator.admin.counters().items() if k.startswith(WRITES)}


def _as(cluster: Cluster, kubeconfig: Path) -> Callable[..., Any]:
    def kubectl(*args: str, manifest: dict[str, Any] | None = None, check: bool = True) -> Any:
        text = json.dumps(manifest) if manifest is not None else None
        return cluster.kubectl(*args, kubeconfig=kubeconfig, input=text, check=check)

    return kubectl


def _refused(reason: str) -> Callable[[dict[str, Any] | None], bool]:
    def check(obj: dict[str, Any] | None) -> bool:
        synced = condition(obj, "Synced")
        return synced.get("status") == "False" and synced.get("reason") == reason

    return check


def _workspace(obj: str, annotations: dict[str, str], **spec: Any) -> dict[str, Any]:
    """A Workspace object ``obj`` (``spec``: its fields; deletionPolicy Delete)."""
    return {
        "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": obj, "annotations": annotations},
        "spec": {"deletionPolicy": "Delete", **spec},
    }


def test_a_tenant_cannot_take_over_hijack_forge_or_redirect(
    cluster: Cluster, release: Release, operator: OperatorUnderTest, emulator: Any
) -> None:
    started = time.monotonic()
    # -- the platform: two namespaces, a person each with the chart's tenant edit role ------
    people = {}
    cluster.ensure_namespace(TEAM_B)
    cluster.kubectl("annotate", "namespace", TEAM_B, "--overwrite", P + "allow-adoption=manage")
    for ns, person in ((TEAM_A, "alice"), (TEAM_B, "mallory")):
        cluster.ensure_namespace(ns)
        kubeconfig, subject = cluster.user_kubeconfig(person, ns)
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{person}-modelarts", "namespace": ns},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": f"{RELEASE}-edit",
            },
            "subjects": [subject],
        }
        cluster.kubectl("apply", "-f", "-", input=json.dumps(binding))
        people[person] = _as(cluster, kubeconfig)
    alice, mallory = people["alice"], people["mallory"]

    # Team A's workspace, made through the operator.
    alice("apply", "-n", TEAM_A, "-f", "-", manifest=_workspace("lab", {}, description="A's"))
    ws_a = cluster.wait_for("workspace", "lab", TEAM_A, is_ready, timeout=30, context=operator.tail)
    assert ws_a is not None
    a_id, a_name = ws_a["status"]["workspaceId"], ws_a["status"]["remoteName"]
    a_before = _remote(emulator, "workspace", a_id)
    console = _console_notebook(emulator, "team-a-notebook")
    writes = _writes(emulator)

    # -- 1. the takeover (team A, no allowance): create-pending + adopt + Delete naming the
    # console's notebook ------------------------------------------------------------------------
    grab = {
        "apiVersion": "modelarts.huaweicloud.com/v1alpha1",
        "kind": "Notebook",
        "metadata": {
            "name": "grab",
            "annotations": {
                P + "create-pending": "team-a-notebook",
                P + "adoption-policy": "adopt",
            },
        },
        "spec": {
            "name": "team-a-notebook",
            "image": {"id": IMAGE_ID},
            "flavor": "modelarts.vm.cpu.2u",
            "deletionPolicy": "Delete",
        },
    }
    alice("apply", "-n", TEAM_A, "-f", "-", manifest=grab)
    cluster.wait_for(
        "notebook", "grab", TEAM_A, _refused("AdoptionNotAllowed"), timeout=20,
        context=operator.tail,
    )  # fmt: skip
    alice("delete", "notebook", "grab", "-n", TEAM_A, "--timeout=20s")
    notebook = _remote(emulator, "notebook", console)
    assert notebook is not None
    assert not notebook.get("tags"), notebook
    assert _writes(emulator) == writes, "the takeover wrote to ModelArts"

    # -- 2. the hijack by adoption, where the platform lets team B import console objects ----
    mallory(
        "apply", "-n", TEAM_B, "-f", "-",
        manifest=_workspace("by-id", {P + "external-id": a_id}, description="mine now"),
    )  # fmt: skip
    mallory(
        "apply", "-n", TEAM_B, "-f", "-",
        manifest=_workspace("by-name", {P + "adoption-policy": "adopt"}, name=a_name),
    )  # fmt: skip
    for name in ("by-id", "by-name"):
        obj = cluster.wait_for(
            "workspace", name, TEAM_B, _refused("NotOwned"), timeout=20, context=operator.tail
        )
        message = condition(obj, "Synced")["message"]
        assert f"{TEAM_A}/lab" not in message, message  # its owner is never named
        mallory("delete", "workspace", name, "-n", TEAM_B, "--timeout=20s")
    assert _writes(emulator) == writes, "the hijack wrote to ModelArts"

    # -- 3. the forged status ID ----------------------------------------------------------------
    mallory("apply", "-n", TEAM_B, "-f", "-", manifest=_workspace("mine", {}, description="B's"))
    cluster.wait_for("workspace", "mine", TEAM_B, is_ready, timeout=30, context=operator.tail)
    forged = json.dumps({"status": {"workspaceId": a_id}})
    status_patch = ("patch", "workspace", "mine", "-n", TEAM_B, "--subresource=status")
    denied = mallory(*status_patch, "--type=merge", "-p", forged, check=False)
    assert "forbidden" in denied.stderr.lower(), denied.stderr  # the chart's role: no status
    # A platform that grants the whole group (modelarts.huaweicloud.com/*) grants status too.
    everything = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "modelarts-all", "namespace": TEAM_B},
        "rules": [{"apiGroups": ["modelarts.huaweicloud.com"], "resources": ["*"], "verbs": ["*"]}],
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(everything))
    cluster.kubectl(
        "create", "rolebinding", "mallory-all", "-n", TEAM_B, "--role=modelarts-all",
        "--user=mallory" if cluster.local else f"--serviceaccount={TEAM_B}:mallory",
    )  # fmt: skip
    writes = _writes(emulator)
    mallory(*status_patch, "--type=merge", "-p", forged)
    mallory("annotate", "workspace", "mine", "-n", TEAM_B, "--overwrite", "change=1")
    cluster.wait_for(
        "workspace", "mine", TEAM_B, _refused("NotOwned"), timeout=20, context=operator.tail
    )
    mallory("delete", "workspace", "mine", "-n", TEAM_B, "--timeout=20s")
    assert _writes(emulator) == writes, "the forged status ID wrote to ModelArts"

    # -- 4. the region redirect (and the credentials) are not a tenant's to touch --------------
    region = (TEAM_B, P + "region=x@attacker.example#")
    redirect = mallory("annotate", "namespace", region[0], region[1], check=False)
    assert "forbidden" in redirect.stderr.lower(), redirect.stderr
    secrets = mallory("get", "secrets", "-n", TEAM_B, check=False)
    assert "forbidden" in secrets.stderr.lower(), secrets.stderr

    # Team A's workspace is as it was, and its object still Ready.
    assert _remote(emulator, "workspace", a_id) == a_before
    assert is_ready(cluster.get("workspace", "lab", TEAM_A))
    alice("delete", "workspace", "lab", "-n", TEAM_A, "--timeout=30s")
    assert operator.proc.poll() is None, operator.tail()
    print(f"tenancy e2e: {time.monotonic() - started:.1f}s")
