"""Issue 24's takeovers, played through the real reconcile and the real adapters against the
in-process emulator: a tenant's annotations and spec cannot make the operator claim (tag,
re-describe, bind) or delete a remote object that is not its object's own, and the LLM form's
models carry the ownership marker like the other forms'.

Each test names the move and what the pre-fix code did with it."""

from __future__ import annotations

import time
from typing import Any

from modelarts_operator.api import ModelArtsClient
from modelarts_operator.api.notebooks import NotebookCreateRequest, VolumeMount
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.controller import Outcome, Reconciler
from modelarts_operator.reconcile.kinds import KindDeclaration
from modelarts_operator.reconcile.naming import marker_of, owner_marker, unmarked
from modelarts_operator.reconcile.policies import ADOPTION_POLICY, CREATE_PENDING, Allowance
from modelarts_operator.reconcile.registry import Registry
from modelarts_operator.resources import model, notebook
from modelarts_operator.settings import OperatorSettings
from modelarts_testbed.emulator.server import Emulator

IMAGE_ID = "e1a07296-22a8-4f05-8bc8-e936c8e54090"
TAG = "POST /v1/{project_id}/notebooks/{id}/tags/create"
NB_DELETE = "DELETE /v1/{project_id}/notebooks/{id}"
LLM_CREATE = "POST /v1/workspaces/{workspace_id}/models"


class Kube:
    """The API server as the reconcile reads and writes it: each object's body (its creation
    time), the list of a kind, and the annotation writes."""

    def __init__(self, created: str) -> None:
        self.created = created
        self.annotations: list[dict[str, str]] = []

    async def get(self, path: str) -> dict[str, Any]:
        if path.rsplit("/", 1)[-1] in ("notebooks", "models"):
            return {"items": []}  # the kind's list: no other live object
        return {"metadata": {"creationTimestamp": self.created}}

    async def patch_annotations(self, *_: Any) -> dict[str, Any]:
        self.annotations.append(_[-1])
        return {"metadata": {"resourceVersion": str(len(self.annotations) + 1)}}

    async def patch_metadata(self, *args: Any) -> dict[str, Any]:
        """The create intent's write (with the finalizer): its annotations as any other."""
        return await self.patch_annotations(*args[:3], args[3].get("annotations", {}))


class Clients:
    """Every namespace uses the emulator's client; the Namespace's allowance is given."""

    def __init__(self, client: ModelArtsClient, allowance: Allowance) -> None:
        self.settings = OperatorSettings()
        self.client = client
        self._allowance = allowance

    async def for_namespace(self, namespace: str) -> ModelArtsClient:
        return self.client

    def allowance(self, namespace: str) -> Allowance:
        return self._allowance


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def _reconciler(
    kind: KindDeclaration, client: ModelArtsClient, created: str, allowance: Allowance
) -> Reconciler:
    return Reconciler(kind, Kube(created), Clients(client, allowance), Registry())  # type: ignore[arg-type]


def _body(namespace: str, name: str, spec: dict[str, Any], **annotations: str) -> dict[str, Any]:
    meta = {"namespace": namespace, "name": name, "uid": f"uid-{namespace}-{name}"}
    meta.update(generation=1, resourceVersion="1", annotations=annotations)
    return {"metadata": meta, "spec": spec, "status": {}}


def _synced(outcome: Outcome) -> tuple[str, str]:
    found = cond.get_condition(outcome.status.get("conditions"), cond.SYNCED) or {}
    return found.get("status", ""), found.get("reason", "")


# -- the Notebook takeover ------------------------------------------------------------------------


async def test_a_create_pending_annotation_does_not_take_over_a_console_notebook(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """Before: a tenant's Notebook annotated create-pending (and adopt) with the console
    notebook's name tagged it as its own in the lookup, bound it, and its deletion
    (deletionPolicy Delete) deleted it, past the Namespace's allow-adoption gate. Now: refused
    (AdoptionNotAllowed), nothing tagged or deleted; allowed (manage), adopted and tagged."""
    created = _iso(emu.core.now_ms())  # the tenant's object exists first
    emu.advance(5)
    console = await client.notebooks.create(
        NotebookCreateRequest(
            name="team-a-lab",
            image_id=IMAGE_ID,
            flavor="modelarts.vm.cpu.2u",
            volume=VolumeMount(category="EVS", ownership="MANAGED"),
            description="made in the console",
        )
    )
    spec = {
        "name": "team-a-lab",
        "image": {"id": IMAGE_ID},
        "flavor": "modelarts.vm.cpu.2u",
        "deletionPolicy": "Delete",
    }
    grab = _body(
        "tenant-b", "grab", spec, **{CREATE_PENDING: "team-a-lab", ADOPTION_POLICY: "adopt"}
    )
    reconciler = _reconciler(notebook.DECLARATION, client, created, Allowance.NONE)
    emu.core.calls.clear()
    outcome = await reconciler.reconcile(await reconciler.context(grab))
    assert _synced(outcome) == ("False", "AdoptionNotAllowed")
    assert "notebookId" not in outcome.status
    assert emu.calls(TAG) == 0
    assert not (await client.notebooks.get(str(console.id))).tags

    events = await reconciler.delete(await reconciler.context(grab))
    assert [reason for _, reason, _ in events] == ["Released"]
    assert emu.calls(NB_DELETE) == 0
    assert (await client.notebooks.get(str(console.id))).status is not None

    # A cluster admin's allowance is what adoption takes: then it is adopted, and tagged.
    allowed = _reconciler(notebook.DECLARATION, client, created, Allowance.MANAGE)
    outcome = await allowed.reconcile(await allowed.context(grab))
    assert _synced(outcome) == ("True", "Synced")
    assert outcome.status["notebookId"] == str(console.id)
    assert (await client.notebooks.get(str(console.id))).has_tags(
        {notebook.OWNER_TAG: "uid-tenant-b-grab"}
    )


async def test_an_interrupted_notebook_create_comes_back_bound_and_tagged(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """The create marks the notebook (description) before the tag; a crash between the two
    is recovered by the next reconcile (bound, then tagged by the update), with one notebook."""
    created = _iso(emu.core.now_ms())
    spec = {"image": {"id": IMAGE_ID}, "flavor": "modelarts.vm.cpu.2u", "description": "lab"}
    body = _body("team-a", "lab", spec)
    reconciler = _reconciler(notebook.DECLARATION, client, created, Allowance.NONE)
    ctx = await reconciler.context(body)
    made = await client.notebooks.create(  # the create as the adapter sends it, no tag yet
        NotebookCreateRequest(
            name=ctx.remote_name,
            image_id=IMAGE_ID,
            flavor="modelarts.vm.cpu.2u",
            volume=VolumeMount(category="EVS", ownership="MANAGED"),
            description=f"lab {ctx.marker}",
        )
    )
    body["metadata"]["annotations"] = {CREATE_PENDING: ctx.remote_name}
    restarted = _reconciler(notebook.DECLARATION, client, created, Allowance.NONE)
    outcome = await restarted.reconcile(await restarted.context(body))
    assert _synced(outcome) == ("True", "Synced")
    assert outcome.status["notebookId"] == str(made.id)
    assert (await client.notebooks.get(str(made.id))).has_tags(
        {notebook.OWNER_TAG: "uid-team-a-lab"}
    )
    assert len([nb async for nb in client.notebooks.iter_all()]) == 1


# -- LLM models: marked like the other forms ---------------------------------------------------


def _llm(name: str, description: str | None = None) -> dict[str, Any]:
    llm: dict[str, Any] = {
        "workspaceId": "ws-1",
        "name": name,
        "version": {
            "name": "v1",
            "config": {
                "llmModelConfig": {"baseModelType": "llama3", "modelPath": "obs://llm-bucket/m/"}
            },
        },
    }
    if description is not None:
        llm["description"] = description
    return {"llm": llm}


async def test_an_interrupted_llm_create_comes_back_bound_exactly_once(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """Before: the model carried no marker, so the create intent's lookup found it not ours
    and the object became NameTaken, the model orphaned. Now: bound, one model."""
    created = _iso(emu.core.now_ms())
    body = _body("team-a", "chat", _llm("chat-model", "a chat model"))
    first = _reconciler(model.DECLARATION, client, created, Allowance.NONE)
    outcome = await first.reconcile(await first.context(body))
    model_id = outcome.status["modelId"]
    remote = await client.dataarts.get_model("ws-1", model_id)
    assert marker_of(remote) == owner_marker("", "Model", "team-a", "chat")
    assert unmarked(remote.description) == "a chat model"
    # The process died before the ID reached status: the intent is all that is left.
    body["metadata"]["annotations"] = {CREATE_PENDING: "chat-model"}
    restarted = _reconciler(model.DECLARATION, client, created, Allowance.NONE)
    emu.core.calls.clear()
    outcome = await restarted.reconcile(await restarted.context(body))
    assert _synced(outcome) == ("True", "Synced")
    assert outcome.status["modelId"] == model_id
    assert emu.calls(LLM_CREATE) == 0
    assert len([m async for m in client.dataarts.iter_models("ws-1")]) == 1


async def test_a_description_ending_in_another_objects_marker_does_not_capture_its_create(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """Before: team-b's Model whose description ended in team-a's marker made team-a's later
    create of that name (one that looks the name up first: after an interrupted create) find
    it "ours" and bind to it. Now the description ends in its creator's own marker, whatever
    the spec's text: team-a's object is NameTaken."""
    created = _iso(emu.core.now_ms())
    theirs = owner_marker("", "Model", "team-a", "chat")
    bait = _body("team-b", "bait", _llm("chat-model", f"looks like team-a's {theirs}"))
    b = _reconciler(model.DECLARATION, client, created, Allowance.NONE)
    await b.reconcile(await b.context(bait))
    [remote] = [m async for m in client.dataarts.iter_models("ws-1")]
    assert marker_of(remote) == owner_marker("", "Model", "team-b", "bait")
    victim = _body("team-a", "chat", _llm("chat-model"), **{CREATE_PENDING: "chat-model"})
    a = _reconciler(model.DECLARATION, client, created, Allowance.NONE)
    outcome = await a.reconcile(await a.context(victim))
    assert _synced(outcome) == ("False", "NameTaken")
    assert "modelId" not in outcome.status


# -- a v2 training job's rerun --------------------------------------------------------------------


def _v2_job(learning_rate: str) -> dict[str, Any]:
    """The example job before it started from an Algorithm on a pool (examples/02 refers to
    objects this test has not): its own code, engine and flavor."""
    obs = "obs://demo-bucket/mnist"
    return {
        "algorithm": {
            "codeDir": f"{obs}/code/",
            "bootFile": f"{obs}/code/train.py",
            "engine": {"engineId": "pytorch-cp36-1.4.0-v2"},
            "parameters": [{"name": "learning_rate", "value": learning_rate}],
            "inputs": [{"name": "data_url", "remote": {"obs": {"obsUrl": f"{obs}/data/"}}}],
            "outputs": [{"name": "train_url", "remote": {"obs": {"obsUrl": f"{obs}/output/"}}}],
        },
        "resource": {"flavorId": "modelarts.vm.pnt1.large.eco", "nodeCount": 1},
    }


async def test_a_rerun_does_not_take_a_job_of_someone_else_under_its_name(
    emu: Emulator, client: ModelArtsClient
) -> None:
    """A changed v2 job runs as <name>-g<generation>. Before: a job of that name found by the
    lookup was bound whoever made it, and the current job retired (stopped, or deleted with
    previousJobPolicy Delete) for it. Now: NameTaken, the current job left as it is."""
    from modelarts_operator.resources import training_job
    from modelarts_operator.resources.training_v2 import create_request, rerun_name

    created = _iso(emu.core.now_ms())
    body = _body("team-a", "mnist", _v2_job("0.01"))
    body["spec"]["previousJobPolicy"] = "Delete"
    first = _reconciler(training_job.DECLARATION, client, created, Allowance.NONE)
    outcome = await first.reconcile(await first.context(body))
    job_id = outcome.status["jobId"]
    ctx = await first.context(body)
    taken = rerun_name(ctx.remote_name, 2)  # someone else's job under the rerun's name
    spec = ctx.spec.model_copy(update={"job_desc": "not yours"})
    await client.training_jobs_v2.create(create_request(spec, taken, "0", "made elsewhere"))
    changed = _body("team-a", "mnist", {**body["spec"], **_v2_job("0.02")})
    changed["spec"]["previousJobPolicy"] = "Delete"
    changed["metadata"]["generation"] = 2
    changed["status"] = outcome.status
    emu.core.calls.clear()
    outcome = await first.reconcile(await first.context(changed))
    assert _synced(outcome) == ("False", "NameTaken")
    assert outcome.status["jobId"] == job_id
    writes = [c for c in emu.core.calls if c.startswith(("DELETE", "POST", "PUT"))]
    assert writes == ["POST /v2/{project_id}/training-job-searches"], writes  # a lookup only
