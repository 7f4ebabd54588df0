"""Tags and in-place fields against the emulator, through the kinds' own adapters: a create
carries the spec's tags and the operator-wide defaults beside the ownership tag; a changed
spec adds, overwrites and removes tags to match; a training job's in-place fields (the
JupyterLab switch, priority, preemption, notification) are PUT, not a new job."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from modelarts_operator.api import ModelArtsClient
from modelarts_operator.reconcile.adapter import Context
from modelarts_operator.reconcile.naming import OWNER_TAG_KEY
from modelarts_operator.reconcile.policies import Policies
from modelarts_operator.resources import KINDS, notebook, training_v2
from modelarts_testbed.emulator.server import Emulator

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
DECLARATIONS = {kind.crd.kind: kind for kind in KINDS}
DEFAULTS = {"team": "ml", "foo": "default"}
MARKER = "[k8s-owner:0123456789abcdef]"


def _doc(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((CORPUS / f"{name}.yaml").read_text(encoding="utf-8"))
    return doc


def _ctx(
    doc: dict[str, Any], client: ModelArtsClient, status: dict[str, Any] | None = None
) -> tuple[Any, Context[Any, Any]]:
    kind = DECLARATIONS[doc["kind"]]
    spec = kind.crd.spec.model_validate(doc["spec"])
    adapter = kind.form_for(spec).adapter
    ctx: Context[Any, Any] = Context(
        namespace="ns",
        name=doc["metadata"]["name"],
        generation=int(doc["metadata"].get("generation", 1)),
        spec=spec,
        status=status or {},
        annotations={},
        policies=Policies.from_annotations({}),
        client=client,
        remote_name=doc["metadata"]["name"],
        refs=adapter.refs_type(),
        uid="uid-1",
        marker=MARKER,
        default_tags=DEFAULTS,
    )
    return adapter, ctx


async def _created(doc: dict[str, Any], client: ModelArtsClient) -> tuple[Any, Any, str]:
    adapter, ctx = _ctx(doc, client)
    ctx.refs = await adapter.resolve(ctx)
    created = await adapter.create(ctx)
    return adapter, ctx, created.remote_id


def _changed_tags(doc: dict[str, Any]) -> dict[str, Any]:
    """The same object, next generation: one tag changed, one removed, one added."""
    doc = copy.deepcopy(doc)
    doc["metadata"]["generation"] = 2
    doc["spec"]["tags"] = [{"key": "foo", "value": "baz"}, {"key": "new", "value": "1"}]
    return doc


def _applied(generation: int) -> dict[str, Any]:
    """A status saying this generation was applied (a resync, not a spec change)."""
    return {
        "observedGeneration": generation,
        "conditions": [{"type": "Synced", "status": "True", "observedGeneration": generation}],
    }


async def _update(doc: dict[str, Any], client: ModelArtsClient, remote_id: str, **kw: Any) -> Any:
    adapter, ctx = _ctx(doc, client, kw.get("status"))
    ctx.refs = await adapter.resolve(ctx)
    return await adapter.update(ctx, remote_id, await adapter.get(ctx, remote_id))


# ---------------------------------------------------------------- training jobs v2
async def _job_tags(client: ModelArtsClient, job_id: str) -> dict[str, str]:
    return {t.key: t.value for t in await client.training_jobs_v2.tags(job_id)}


async def test_a_training_job_carries_the_spec_tags_over_the_defaults(
    emu: Emulator, client: ModelArtsClient
) -> None:
    doc = _doc("training-tf-basic")
    _, _, job_id = await _created(doc, client)
    assert await _job_tags(client, job_id) == {"team": "ml", "foo": "bar"}

    status = {"trainingSpecHash": training_v2.training_digest(_ctx(doc, client)[1].spec)}
    updated = await _update(_changed_tags(doc), client, job_id, status=status)
    assert updated.remote_id is None  # tags are not what runs: no new job
    assert "tags" in updated.changed
    assert await _job_tags(client, job_id) == {"team": "ml", "foo": "baz", "new": "1"}

    emu.core.calls.clear()  # a resync of an applied generation reads no tags
    await _update(_changed_tags(doc), client, job_id, status={**status, **_applied(2)})
    assert not any("tags" in call for call in emu.core.calls)


async def test_training_in_place_fields_are_put_not_rerun(
    emu: Emulator, client: ModelArtsClient
) -> None:
    doc = _doc("training-tf-debug")
    _, ctx, job_id = await _created(doc, client)
    status = {"trainingSpecHash": training_v2.training_digest(ctx.spec)}
    changed = copy.deepcopy(doc)
    changed["metadata"]["generation"] = 2
    changed["spec"]["schedulePolicy"]["priority"] = 3
    changed["spec"]["schedulePolicy"]["preemptible"] = True
    changed["spec"]["annotations"]["jupyter-lab/enable"] = "false"
    changed["spec"]["notification"] = {"topicUrn": "urn:smn:x:y:z", "events": ["JobFailed"]}
    updated = await _update(changed, client, job_id, status=status)
    assert updated.remote_id is None, "an in-place change must not start a new job"
    assert set(updated.changed) >= {"schedulePolicy", "features.jupyterLab", "notification"}
    job = await client.training_jobs_v2.get(job_id)
    assert job.spec is not None
    assert job.spec.schedule_policy is not None
    assert (job.spec.schedule_policy["priority"], job.spec.schedule_policy["preemptible"]) == (
        3,
        True,
    )
    assert (job.metadata.annotations or {})["jupyter-lab/enable"] == "false"
    # What runs changed too: a new job.
    changed["spec"]["resource"]["nodeCount"] = 2
    rerun = await _update(changed, client, job_id, status=status)
    assert rerun.remote_id not in (None, job_id)


def test_a_digest_recorded_before_in_place_updates_is_not_a_change() -> None:
    doc = _doc("training-tf-debug")
    spec = DECLARATIONS["TrainingJob"].crd.spec.model_validate(doc["spec"])
    assert training_v2.legacy_digest(spec) != training_v2.training_digest(spec)
    spec.schedule_policy.priority = 3  # type: ignore[union-attr]
    assert training_v2.training_digest(spec) == training_v2.training_digest(
        DECLARATIONS["TrainingJob"].crd.spec.model_validate(doc["spec"])
    )


# ---------------------------------------------------------------- services v2
async def _service_tags(client: ModelArtsClient, service_id: str) -> dict[str, str]:
    return await client.services_v2.tags(service_id)


async def test_a_v2_service_keeps_its_tags_as_the_spec_says(
    emu: Emulator, client: ModelArtsClient
) -> None:
    doc = _doc("service-v2-tf-docs")
    _, _, service_id = await _created(doc, client)
    owner = MARKER[len("[k8s-owner:") : -1]
    assert await _service_tags(client, service_id) == {
        "team": "ml",
        "foo": "bar",
        "key": "value",
        OWNER_TAG_KEY: owner,
    }
    emu.advance(600)
    updated = await _update(_changed_tags(doc), client, service_id)
    assert "tags" in updated.changed
    assert await _service_tags(client, service_id) == {
        "team": "ml",
        "foo": "baz",
        "new": "1",
        OWNER_TAG_KEY: owner,
    }
    # Drift: a tag removed outside comes back on the next resync.
    await client.services_v2.remove_tags(service_id, ["team"])
    again = await _update(_changed_tags(doc), client, service_id, status=_applied(2))
    assert "tags" in again.changed
    assert (await _service_tags(client, service_id))["team"] == "ml"


# ---------------------------------------------------------------- notebooks
async def test_a_notebook_keeps_its_tags_and_owner_tag(
    emu: Emulator, client: ModelArtsClient
) -> None:
    doc = _doc("notebook-tf-managed")
    _, _, notebook_id = await _created(doc, client)

    async def tags() -> dict[str, str]:
        remote = await client.notebooks.get(notebook_id)
        return {str(t.key): str(t.value) for t in remote.tags}

    assert await tags() == {"team": "ml", "foo": "bar", "key": "value", notebook.OWNER_TAG: "uid-1"}
    emu.advance(600)
    updated = await _update(_changed_tags(doc), client, notebook_id)
    assert "tags" in updated.changed
    assert await tags() == {"team": "ml", "foo": "baz", "new": "1", notebook.OWNER_TAG: "uid-1"}


async def test_a_job_recorded_by_an_earlier_release_is_not_rerun(
    emu: Emulator, client: ModelArtsClient
) -> None:
    doc = _doc("training-tf-debug")
    _, ctx, job_id = await _created(doc, client)
    legacy = {"trainingSpecHash": training_v2.legacy_digest(ctx.spec)}
    updated = await _update(doc, client, job_id, status={**legacy, **_applied(1)})
    assert updated.remote_id is None
    assert updated.recorded["trainingSpecHash"] == training_v2.training_digest(ctx.spec)
