"""The Notebook adapter and the v2 Service polling against the in-process emulator: one list
call per page per workspace whatever the number of objects (the figures for 500 of each),
and the lookup that makes a create exactly-once although names repeat."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.api import ModelArtsClient, errors
from modelarts_operator.api.notebooks import NotebookCreateRequest, VolumeMount
from modelarts_operator.api.services_v2 import ServiceV2CreateRequest
from modelarts_operator.crd.notebook import NotebookSpec
from modelarts_operator.crd.service import ServiceSpec
from modelarts_operator.reconcile.adapter import Context
from modelarts_operator.reconcile.naming import owner_marker, uid_marker
from modelarts_operator.reconcile.policies import ADOPTION_POLICY, CREATE_PENDING, Policies
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.resources import notebook, service
from modelarts_operator.resources.notebook import NotebookAdapter, NotebookRefs
from modelarts_testbed.emulator.server import Emulator

from .pollfakes import listed

NOTEBOOKS = NotebookAdapter()
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
V2_SPEC = yaml.safe_load((EXAMPLES / "04-service.yaml").read_text())["spec"]["v2"]

IMAGE_ID = "e1a07296-22a8-4f05-8bc8-e936c8e54090"
NB_LIST = "GET /v1/{project_id}/notebooks"
SVC_LIST = "GET /v2/{project_id}/services"
UID = "0b9f5a3e-uid"


async def _notebook(client: ModelArtsClient, name: str, description: str | None = None) -> str:
    created = await client.notebooks.create(
        NotebookCreateRequest(
            name=name,
            image_id=IMAGE_ID,
            flavor="modelarts.vm.cpu.2u",
            volume=VolumeMount(category="EVS", ownership="MANAGED"),
            description=description,
        )
    )
    return str(created.id)


def _entry(name: str, remote_id: str, spec: dict[str, Any] | None = None) -> Entry:
    body = {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": spec or {},
        "status": {"notebookId": remote_id, "serviceId": remote_id},
    }
    return Entry("x", "ns", name, body)


async def test_notebooks_are_polled_in_one_list_call_per_page(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """One list call per 50 notebooks (the API's largest page) per workspace, not one GET per
    object: 500 notebooks in a workspace cost 10 calls a cycle."""
    ids = [await _notebook(client, f"nb-{i}") for i in range(6)]
    emu.core.calls.clear()
    entries = [_entry(i, i, {"image": {"id": IMAGE_ID}}) for i in ids]
    found = await listed(notebook.DECLARATION, client, entries)
    assert set(found) == set(ids)
    assert emu.calls(NB_LIST) == 1
    assert emu.calls("GET /v1/{project_id}/notebooks/{id}") == 0


async def test_v2_services_are_polled_in_one_list_call(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """Pages of 500: 500 v2 Services in a workspace cost one list call a cycle."""
    ids = []
    for i in range(6):
        created = await client.services_v2.create(
            ServiceV2CreateRequest.model_validate(
                {
                    "name": f"svc-{i}",
                    "type": "REAL_TIME",
                    "deploy_type": "SINGLE",
                    "group_configs": [
                        {
                            "name": "g",
                            "weight": 100,
                            "pool_id": "pool-1",
                            "unit_configs": [
                                {
                                    "image": {"source": "SWR", "swr_path": "swr.x/y:1"},
                                    "flavor": "f",
                                    "count": 1,
                                }
                            ],
                        }
                    ],
                    "runtime_config": {
                        "service_invoke": {"port": 8080, "protocol": "HTTP", "auth_type": "TOKEN"},
                        "service_limit": {
                            "rate_limit": {"num": 200, "unit": "SECONDS"},
                            "request_size_limit": 12,
                            "request_timeout": 40,
                        },
                    },
                }
            )
        )
        ids.append(str(created.id))
    entries = [_entry(i, i, {"v2": V2_SPEC}) for i in ids]
    emu.core.calls.clear()
    found = await listed(service.DECLARATION, client, entries)
    assert set(found) == set(ids)
    assert emu.calls(SVC_LIST) == 1
    assert emu.calls("GET /v2/{project_id}/services/{service_id}") == 0
    assert emu.calls("GET /v1/{project_id}/services") == 0  # no v1 Service: no v1 list
    form = service.DECLARATION.form_of(entries[0])
    assert form is not None
    assert form.adapter.observe_summary(entries[0], found[ids[0]]).phase in (
        "Deploying",
        "Running",
    )


class _Kube:
    """Answers the one read find() makes: the object's creation time."""

    def __init__(self, created: str) -> None:
        self.created = created

    async def get(self, path: str) -> dict[str, Any]:
        return {"metadata": {"creationTimestamp": self.created}}


MARKER = owner_marker("", "Notebook", "ns", "nb")
TAGS = "POST /v1/{project_id}/notebooks/{id}/tags/create"


def _ctx(
    client: ModelArtsClient, name: str, *, created: str, **annotations: str
) -> Context[NotebookSpec, NotebookRefs]:
    spec = NotebookSpec.model_validate({"image": {"id": IMAGE_ID}, "flavor": "modelarts.vm.cpu.2u"})
    ctx = Context(
        namespace="ns",
        name="nb",
        generation=1,
        spec=spec,
        status={},
        annotations={CREATE_PENDING: name, **annotations},
        policies=Policies.from_annotations(annotations),
        client=client,
        remote_name=name,
        uid=UID,
        kube=_Kube(created),  # type: ignore[arg-type]
        refs=NotebookRefs(),
        marker=MARKER,
    )
    return ctx


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


async def test_recovery_takes_our_untagged_notebook_and_writes_nothing(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """An interrupted create left our notebook untagged: found by name and our marker (its
    description's, set by the create), created since the object. The lookup tags nothing (the
    reconcile's update does, once the bind is decided)."""
    before = await _notebook(client, "dup")  # someone else's, created long before
    await client.notebooks.add_tags(before, {notebook.OWNER_TAG: "another-uid"})
    emu.advance(600)
    created = _iso(emu.core.now_ms())
    ours = await _notebook(client, "dup", f"mine {MARKER}")  # the crash came before the tag
    ctx = _ctx(client, "dup", created=created)
    emu.core.calls.clear()
    found = await NOTEBOOKS.find(ctx)
    assert found is not None
    assert found[0] == ours
    assert NOTEBOOKS.marker(ctx, found[1]) == MARKER
    assert emu.calls(TAGS) == 0
    assert not (await client.notebooks.get(ours)).tags


async def test_an_untagged_notebook_of_someone_else_is_never_taken_for_an_interrupted_create(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """Issue 24's takeover: a tenant sets the create-pending annotation (and asks to adopt)
    naming a notebook made in the console after its object. The lookup finds it only as one
    to adopt (the reconcile refuses that without the Namespace's allowance) and tags nothing;
    without the adoption request it finds nothing (names repeat: a create goes ahead)."""
    created = _iso(emu.core.now_ms())
    emu.advance(5)
    console = await _notebook(client, "victim", "made in the console")
    emu.core.calls.clear()
    assert await NOTEBOOKS.find(_ctx(client, "victim", created=created)) is None
    adopting = _ctx(client, "victim", created=created, **{ADOPTION_POLICY: "adopt"})
    found = await NOTEBOOKS.find(adopting)
    assert found is not None
    assert found[0] == console
    assert NOTEBOOKS.marker(adopting, found[1]) is None  # not ours: adoption, if allowed
    assert emu.calls(TAGS) == 0
    assert not (await client.notebooks.get(console)).tags


async def test_a_notebook_tagged_for_another_object_carries_that_objects_marker(
    emu: Emulator, client: ModelArtsClient
) -> None:
    other = await _notebook(client, "tagged", f"copied {MARKER}")
    await client.notebooks.add_tags(other, {notebook.OWNER_TAG: "another-uid"})
    ctx = _ctx(client, "tagged", created=_iso(emu.core.now_ms()))
    assert await NOTEBOOKS.find(ctx) is None
    remote = await client.notebooks.get(other)
    assert NOTEBOOKS.marker(ctx, remote) == uid_marker("another-uid")


async def test_adoption_refuses_to_guess_between_two_untagged_notebooks(
    emu: Emulator, client: ModelArtsClient
) -> None:
    created = _iso(emu.core.now_ms())
    await _notebook(client, "twin")
    await _notebook(client, "twin")
    ctx = _ctx(client, "twin", created=created, **{ADOPTION_POLICY: "adopt"})
    with pytest.raises(errors.StateConflict) as raised:
        await NOTEBOOKS.find(ctx)
    assert raised.value.error_code == "AmbiguousNotebook"
    assert "external-id" in str(raised.value.error_msg)


async def test_an_older_untagged_notebook_is_not_taken_for_an_interrupted_create(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """One carrying our marker but made before this object (an earlier object of the same
    name, deleted with Retain before it was tagged) is not this object's create."""
    await _notebook(client, "old", f"earlier {MARKER}")
    emu.advance(600)
    ctx = _ctx(client, "old", created=_iso(emu.core.now_ms()))
    assert await NOTEBOOKS.find(ctx) is None


def test_each_service_is_served_by_its_forms_adapter() -> None:
    forms = {
        "v2": ServiceSpec.model_validate({"v2": V2_SPEC}),
        "v1": ServiceSpec.model_validate(
            {"config": [{"modelId": "m", "weight": 100, "specification": "s", "instanceCount": 1}]}
        ),
    }
    for name, spec in forms.items():
        assert service.DECLARATION.form_for(spec).name == name
