"""v2 training over raw HTTP: create validation (each documented rule names its field and
code), names per workspace, the shared machinery (state file, admin force, faults,
counters, workspace purge)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelarts_testbed.emulator import DEFAULT_PROJECT_ID, Emulator, EmulatorConfig

from .conftest import Env, P, open_env

V2 = f"/v2/{DEFAULT_PROJECT_ID}"
JOBS = V2 + "/training-jobs"


def body(name: str = "mnist", **spec: Any) -> dict[str, Any]:
    return {
        "kind": "job",
        "metadata": {"name": name, "description": "d"},
        "algorithm": {
            "code_dir": "obs://bkt/code/",
            "boot_file": "obs://bkt/code/train.py",
            "engine": {"engine_id": "pytorch-cp36-1.4.0-v2"},
            "outputs": [{"name": "train_url", "remote": {"obs": {"obs_url": "/bkt/out/"}}}],
            "environments": {"A": "1"},
        },
        "spec": {"resource": {"flavor_id": "modelarts.vm.cpu.2u", "node_count": 1}, **spec},
    }


def changed(path: str, value: Any) -> dict[str, Any]:
    """``body()`` with the dotted ``path`` set to ``value`` (None removes it)."""
    b = copy.deepcopy(body())
    *parents, leaf = path.split(".")
    node = b
    for key in parents:
        node = node[key]
    if value is None:
        node.pop(leaf)
    else:
        node[leaf] = value
    return b


@pytest.mark.parametrize(
    ("path", "value", "code", "names"),
    [
        ("kind", None, "ModelArts.2788", "kind"),
        ("kind", "spark_job", "ModelArts.2788", "kind"),
        ("metadata.name", "bad name!", "ModelArts.2788", "metadata.name"),
        ("metadata.name", "x" * 65, "ModelArts.2788", "metadata.name"),
        ("metadata.description", "d" * 257, "ModelArts.2788", "metadata.description"),
        ("algorithm", None, "ModelArts.2788", "algorithm"),
        ("algorithm.boot_file", "obs://other/train.py", "ModelArts.2758", "boot_file"),
        ("algorithm.code_dir", "not-obs", "ModelArts.2791", "algorithm.code_dir"),
        ("algorithm.engine", {"engine_id": "nope"}, "ModelArts.2780", "nope"),
        ("algorithm.engine", {"image_url": "org/img:1"}, "ModelArts.2806", "command"),
        ("algorithm.environments", {"1BAD": "x"}, "ModelArts.2788", "1BAD"),
        ("algorithm.environments", {"A": 1}, "ModelArts.2788", "algorithm.environments"),
        ("algorithm.outputs", [{"name": "o"}], "ModelArts.2753", "algorithm.outputs[0]"),
        (
            "algorithm.parameters",
            [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}],
            "ModelArts.2767",
            "a",
        ),
        ("spec", None, "ModelArts.2788", "spec"),
        ("spec.resource.node_count", 5, "ModelArts.2793", "node_count"),
        ("spec.resource.flavor_id", "modelarts.none", "ModelArts.2781", "modelarts.none"),
        ("spec.resource.flavor_id", None, "ModelArts.2788", "spec.resource.flavor_id"),
        ("spec.log_export_path", {"obs_url": "s3://x/"}, "ModelArts.2791", "log_export_path"),
    ],
)
async def test_create_refuses_bad_bodies_naming_the_field(
    env: Env, path: str, value: Any, code: str, names: str
) -> None:
    resp = await env.http.post(JOBS, json=changed(path, value))
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == code
    assert names in resp.json()["error_msg"]
    assert len(env.emulator.core.state.jobs_v2) == 0


@pytest.mark.parametrize(
    ("path", "value"),
    [
        # Bodies the cloud accepts (Terraform's acceptance tests for huaweicloud_modelarts_
        # training_job send them): rules the old emulator invented refused them.
        ("algorithm.id", "2f6c-algorithm"),  # an algorithm id with code_dir and boot_file
        ("algorithm.boot_file", None),  # a debug job: code_dir and a command, no boot_file
        ("algorithm.local_code_dir", "/home/ma-user/modelarts/user-job-dir"),
        (
            "algorithm.engine",
            {
                "engine_id": "pytorch-cp36-1.4.0-v2",
                "engine_name": "PyTorch",
                "engine_version": "PyTorch-1.4.0-python3.6-v2",
            },
        ),
        ("spec.log_export_path", {"obs_url": "/bkt/logs/", "host_path": "/var/log/training"}),
        ("algorithm.engine", None),
    ],
)
async def test_published_combinations_are_accepted(env: Env, path: str, value: Any) -> None:
    resp = await env.http.post(JOBS, json=changed(path, value))
    assert resp.status_code == 201, resp.text


async def test_other_algorithm_sources_are_accepted(env: Env) -> None:
    image = changed("algorithm", {"engine": {"image_url": "org/img:1"}, "command": "python t.py"})
    assert (await env.http.post(JOBS, json=image)).status_code == 201
    by_id = changed("algorithm", {"id": "2f6c-algorithm"})
    by_id["metadata"]["name"] = "by-id"
    assert (await env.http.post(JOBS, json=by_id)).status_code == 201
    preset = changed(
        "algorithm.engine",
        {"engine_name": "PyTorch", "engine_version": "PyTorch-1.4.0-python3.6-v2"},
    )
    preset["metadata"]["name"] = "preset"
    created = await env.http.post(JOBS, json=preset)
    assert created.json()["algorithm"]["engine"]["engine_id"] == "pytorch-cp36-1.4.0-v2"


async def test_names_are_unique_per_workspace(env: Env) -> None:
    ws = await env.http.post(P + "/workspaces", json={"name": "team-two"})
    ws_id = ws.json()["id"]
    assert (await env.http.post(JOBS, json=body())).status_code == 201
    other = body()
    other["metadata"]["workspace_id"] = ws_id
    assert (await env.http.post(JOBS, json=other)).status_code == 201
    again = await env.http.post(JOBS, json=other)
    assert (again.status_code, again.json()["error_code"]) == (400, "ModelArts.2751")
    names = await env.http.get(
        V2 + "/training-job-names", params={"job_name": "mnist", "workspace_id": ws_id}
    )
    assert names.json() == {"is_duplicate": True}
    missing = dict(body(), metadata={"name": "x", "workspace_id": "f" * 32})
    assert (await env.http.post(JOBS, json=missing)).json()["error_code"] == "ModelArts.7005"
    # deleting the workspace takes its jobs with it
    await env.http.delete(f"{P}/workspaces/{ws_id}")
    env.advance(10)
    listing = await env.http.post(V2 + "/training-job-searches", json={"workspace_id": ws_id})
    assert listing.json()["total"] == 0


async def test_search_paging_echo_and_limits(env: Env) -> None:
    for i in range(3):
        await env.http.post(JOBS, json=body(f"j{i}"))
        env.advance(1)
    page = (
        await env.http.post(V2 + "/training-job-searches", json={"offset": 1, "limit": 2})
    ).json()
    assert [i["metadata"]["name"] for i in page["items"]] == ["j0"]  # page 1 of 2-item pages
    assert (page["total"], page["count"], page["offset"], page["limit"]) == (3, 3, 1, 2)
    asc = (
        await env.http.post(V2 + "/training-job-searches", json={"order": "asc", "limit": 50})
    ).json()
    assert [i["metadata"]["name"] for i in asc["items"]] == ["j0", "j1", "j2"]
    for bad, code in (
        ({"limit": 51}, "ModelArts.2788"),
        ({"sort_by": "colour"}, "ModelArts.2790"),
        ({"filters": [{"key": "name", "operator": "near", "value": ["j"]}]}, "ModelArts.2808"),
        ({"filters": [{"key": "name", "operator": "in", "value": "j"}]}, "ModelArts.2809"),
    ):
        resp = await env.http.post(V2 + "/training-job-searches", json=bad)
        assert (resp.status_code, resp.json()["error_code"]) == (400, code)


async def test_missing_job_is_400_2775_on_every_route(env: Env) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path in (
        ("GET", f"{JOBS}/{missing}"),
        ("PUT", f"{JOBS}/{missing}"),
        ("DELETE", f"{JOBS}/{missing}"),
        ("POST", f"{JOBS}/{missing}/actions"),
        ("GET", f"{JOBS}/{missing}/events"),
    ):
        resp = await env.http.request(method, path, json={"action_type": "terminate"})
        assert resp.status_code == 400, (method, path)
        assert resp.json()["error_code"] == "ModelArts.2775"


async def test_unsupported_action_and_unknown_task(env: Env) -> None:
    job_id = (await env.http.post(JOBS, json=body())).json()["metadata"]["id"]
    resp = await env.http.post(f"{JOBS}/{job_id}/actions", json={"action_type": "pause"})
    assert resp.json()["error_code"] == "ModelArts.2812"
    env.advance(10)
    resp = await env.http.get(f"{JOBS}/{job_id}/tasks/worker-7/logs/preview")
    assert resp.status_code == 400
    assert "worker-7" in resp.json()["error_msg"]


async def test_faults_and_counters_cover_v2_routes(env: Env) -> None:
    env.emulator.add_fault(endpoint="POST /v2/{project_id}/training-jobs", status=503, times=1)
    assert (await env.http.post(JOBS, json=body())).status_code == 503
    assert (await env.http.post(JOBS, json=body())).status_code == 201
    assert env.emulator.calls("POST /v2/{project_id}/training-jobs") == 2


async def test_state_file_keeps_jobs_names_and_deletes_in_flight(tmp_path: Any) -> None:
    state = str(tmp_path / "state.json")
    config = EmulatorConfig(seed=3, state_file=state)
    async with open_env(config) as env:
        kept = (await env.http.post(JOBS, json=body("kept"))).json()["metadata"]["id"]
        going = (await env.http.post(JOBS, json=body("going"))).json()["metadata"]["id"]
        await env.http.delete(f"{JOBS}/{going}")
    restarted = Emulator(config)
    st = restarted.core.state
    assert kept in st.jobs_v2.items
    assert going in st.jobs_v2_deleting
    assert set(st.job_v2_names.values()) == {kept, going}


async def test_admin_force_lists_and_deletes_v2_jobs(env: Env) -> None:
    job_id = (await env.http.post(JOBS, json=body())).json()["metadata"]["id"]
    env.advance(8)
    env.emulator.force(kind="training_job_v2", id=job_id, status="Failed", exit_code=9)
    shown = (await env.http.get(f"{JOBS}/{job_id}")).json()
    assert shown["status"]["phase"] == "Failed"
    assert shown["status"]["task_statuses"][0]["exit_code"] == 9
    objects = (await env.raw.get("/_emulator/objects/training_job_v2")).json()["items"]
    assert [o["_status"] for o in objects] == ["Failed"]
    assert env.emulator.delete_object("training_job_v2", job_id)
    assert (await env.http.get(f"{JOBS}/{job_id}")).json()["error_code"] == "ModelArts.2775"
    assert (await env.http.post(JOBS, json=body())).status_code == 201  # the name is free
