"""Training jobs v1 as a user polls them: create, list, versions, stop, logs, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import Env, P, job_body

TJ = P + "/training-jobs"


async def create(env: Env, name: str, **config: Any) -> dict[str, Any]:
    resp = await env.http.post(TJ, json=job_body(name, **config))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def version(env: Env, job_id: int, version_id: int) -> dict[str, Any]:
    resp = await env.http.get(f"{TJ}/{job_id}/versions/{version_id}")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_job_runs_through_documented_states(env: Env) -> None:
    created = await create(env, "job-1")
    assert created["is_success"] is True
    assert created["status"] == 1
    assert created["version_name"] == "V0001"
    assert isinstance(created["job_id"], int)
    assert isinstance(created["version_id"], int)
    jid, vid = created["job_id"], created["version_id"]
    seen = []
    for _ in range(60):
        v = await version(env, jid, vid)
        if not seen or seen[-1] != v["status"]:
            seen.append(v["status"])
        if v["status"] == 10:
            break
        env.advance(1)
    assert seen == [1, 7, 8, 10]
    assert v["duration"] > 20_000
    assert v["start_time"] > created["create_time"]
    metrics = json.loads(v["model_metric_list"])
    assert 0.5 <= metrics["total_metric"]["total_metric_values"]["accuracy"] <= 1.0
    assert isinstance(v["system_metric_list"], dict)
    assert v["system_metric_list"]["cpuUsage"]
    assert v["spec_code"] == "modelarts.vm.gpu.p100"
    assert v["engine_name"] == "TensorFlow"


async def test_duration_grows_while_running_and_list_reflects_latest_version(env: Env) -> None:
    created = await create(env, "job-dur")
    env.advance(8)  # past INIT+WAITING (2s+3s, +-20%)
    first = (await env.http.get(TJ)).json()["jobs"][0]
    env.advance(5)
    second = (await env.http.get(TJ)).json()["jobs"][0]
    assert first["status"] == 8 == second["status"]
    assert second["duration"] - first["duration"] == 5000
    assert second["version_id"] == created["version_id"]
    assert second["version_count"] == 1


async def test_stop_goes_killing_then_killed(env: Env) -> None:
    c = await create(env, "job-stop")
    env.advance(8)
    resp = await env.http.post(f"{TJ}/{c['job_id']}/versions/{c['version_id']}/stop")
    assert resp.json() == {"is_success": True}
    assert (await version(env, c["job_id"], c["version_id"]))["status"] == 9
    # deleting while KILLING is refused, as in the documented sample
    resp = await env.http.delete(f"{TJ}/{c['job_id']}")
    assert resp.status_code == 409
    assert resp.json() == {
        "is_success": False,
        "error_msg": "This job can't be delete. job status: 9",
        "error_code": "ModelArts.0105",
    }
    env.advance(10)
    assert (await version(env, c["job_id"], c["version_id"]))["status"] == 12
    assert (await env.http.delete(f"{TJ}/{c['job_id']}")).status_code == 200
    assert (await env.http.get(f"{TJ}/{c['job_id']}/versions")).status_code == 404


async def test_stop_completed_job_is_refused(env: Env) -> None:
    c = await create(env, "job-done")
    env.advance(120)
    resp = await env.http.post(f"{TJ}/{c['job_id']}/versions/{c['version_id']}/stop")
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.0105"
    assert "job status: 10" in resp.json()["error_msg"]


async def test_versions_chain_with_pre_version_id(env: Env) -> None:
    c = await create(env, "job-ver")
    env.advance(120)
    cfg = dict(job_body("job-ver")["config"], pre_version_id=c["version_id"])
    resp = await env.http.post(f"{TJ}/{c['job_id']}/versions/", json={"config": cfg})
    assert resp.status_code == 200, resp.text
    v2 = resp.json()
    assert set(v2) == {"is_success", "job_id", "job_name", "status", "create_time", "version_id"}
    assert v2["status"] == 1
    listing = (await env.http.get(f"{TJ}/{c['job_id']}/versions")).json()
    assert listing["version_count"] == 2
    assert [v["version_name"] for v in listing["versions"]] == ["V0002", "V0001"]
    assert listing["versions"][0]["pre_version_id"] == c["version_id"]
    assert isinstance(listing["versions"][0]["system_metric_list"], str)
    paged = (await env.http.get(f"{TJ}/{c['job_id']}/versions?per_page=1&page=2")).json()
    assert [v["version_name"] for v in paged["versions"]] == ["V0001"]
    jobs = (await env.http.get(TJ)).json()["jobs"]
    assert jobs[0]["version_id"] == v2["version_id"]
    assert jobs[0]["status"] == 1
    # pre_version_id is mandatory and must belong to the job
    bad = dict(cfg, pre_version_id=999)
    resp = await env.http.post(f"{TJ}/{c['job_id']}/versions", json={"config": bad})
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.0107"
    no_pre = {k: v for k, v in cfg.items() if k != "pre_version_id"}
    resp = await env.http.post(f"{TJ}/{c['job_id']}/versions", json={"config": no_pre})
    assert resp.json()["error_code"] == "ModelArts.0115"
    # delete one version; the last one cannot be deleted on its own
    resp = await env.http.delete(f"{TJ}/{c['job_id']}/versions/{c['version_id']}")
    assert resp.json() == {"is_success": True}
    resp = await env.http.delete(f"{TJ}/{c['job_id']}/versions/{v2['version_id']}")
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.0105"


async def test_duplicate_name_is_0103(env: Env) -> None:
    await create(env, "twice")
    resp = await env.http.post(TJ, json=job_body("twice", train_url="/bucket/other/"))
    assert resp.status_code == 409
    assert resp.json() == {
        "is_success": False,
        "error_msg": "Job name:twice is existed",
        "error_code": "ModelArts.0103",
    }


@pytest.mark.parametrize(
    ("body_change", "code", "needle"),
    [
        ({"job_name": "bad name!"}, "ModelArts.0107", "job_name"),
        ({"job_name": "x" * 65}, "ModelArts.0107", "job_name"),
        ({"job_name": None}, "ModelArts.0115", "job_name"),
        ({"job_desc": "d" * 257}, "ModelArts.0107", "job_desc"),
        ({"config": None}, "ModelArts.0115", "config"),
        ({"config.spec_id": 99}, "ModelArts.0107", "spec_id"),
        ({"config.worker_server_num": 5}, "ModelArts.0107", "worker_server_num"),
        ({"config.worker_server_num": 0}, "ModelArts.0107", "worker_server_num"),
        ({"config.train_url": None}, "ModelArts.0115", "train_url"),
        ({"config.data_url": None}, "ModelArts.0115", "data_url"),
        (
            {"config.dataset_id": "d1", "config.dataset_version_id": "v1"},
            "ModelArts.0107",
            "cannot be used together",
        ),
        ({"config.data_url": None, "config.dataset_id": "d1"}, "ModelArts.0107", "together"),
        (
            {"config.data_source": [{"type": "s3", "data_url": "/b/"}], "config.data_url": None},
            "ModelArts.0107",
            "type",
        ),
        ({"config.boot_file_url": None}, "ModelArts.0107", "together"),
        ({"config.app_url": None, "config.boot_file_url": None}, "ModelArts.0115", "app_url"),
        ({"config.model_id": 4}, "ModelArts.0107", "model_id"),
        ({"config.engine_id": 12345}, "ModelArts.0107", "engine_id"),
        (
            {
                "config.user_image_url": "swr.x/img:1",
                "config.boot_file_url": None,
                "config.app_url": None,
            },
            "ModelArts.0115",
            "user_command",
        ),
        (
            {"config.volumes": [{"nfs": {"src_path": "a", "dest_path": "b"}}]},
            "ModelArts.0115",
            "id",
        ),
    ],
)
async def test_create_validation(
    env: Env, body_change: dict[str, Any], code: str, needle: str
) -> None:
    body = job_body("valid-name")
    for key, value in body_change.items():
        target, field = (body["config"], key[7:]) if key.startswith("config.") else (body, key)
        if value is None:
            target.pop(field, None)
        else:
            target[field] = value
    resp = await env.http.post(TJ, json=body)
    assert resp.status_code == 400, resp.text
    err = resp.json()
    assert err["is_success"] is False
    assert err["error_code"] == code
    assert needle in err["error_msg"]
    assert (await env.http.get(TJ)).json()["job_total_count"] == 0


async def test_alternative_valid_shapes(env: Env) -> None:
    await create(env, "algo", model_id=4, app_url=None, boot_file_url=None, engine_id=None)
    await create(
        env,
        "image",
        user_image_url="swr.cn-north-4.myhuaweicloud.com/org/train:1.0",
        user_command="bash /home/work/run_train.sh python /home/work/user-job-dir/app/train.py",
        boot_file_url=None,
        engine_id=None,
    )
    await create(
        env,
        "srcs",
        data_url=None,
        data_source=[
            {"type": "obs", "data_url": "/b/d/"},
            {"type": "dataset", "dataset_id": "ds", "dataset_version": "v1"},
        ],
    )
    await create(env, "dataset", data_url=None, dataset_id="d", dataset_version_id="v")
    assert (await env.http.get(TJ)).json()["job_total_count"] == 4


async def test_output_path_in_use_is_2604(env: Env) -> None:
    await create(env, "first", train_url="/bucket/shared/")
    resp = await env.http.post(TJ, json=job_body("second", train_url="/bucket/shared/"))
    assert resp.status_code == 409
    assert resp.json()["error_code"] == "ModelArts.2604"
    env.advance(120)  # the first one completed: the path is free again
    assert (
        await env.http.post(TJ, json=job_body("second", train_url="/bucket/shared/"))
    ).status_code == 200


async def test_not_found_codes(env: Env) -> None:
    for method, path in [
        ("GET", f"{TJ}/999/versions"),
        ("GET", f"{TJ}/999/versions/1"),
        ("DELETE", f"{TJ}/999"),
        ("PUT", f"{TJ}/999"),
        ("POST", f"{TJ}/999/versions/1/stop"),
    ]:
        resp = await env.http.request(method, path, json={} if method == "PUT" else None)
        assert resp.status_code == 404, path
        assert resp.json()["error_code"] == "ModelArts.0102"
        assert resp.json()["is_success"] is False
    c = await create(env, "exists")
    resp = await env.http.get(f"{TJ}/{c['job_id']}/versions/424242")
    assert resp.status_code == 404


async def test_update_description(env: Env) -> None:
    c = await create(env, "desc")
    resp = await env.http.put(f"{TJ}/{c['job_id']}", json={"job_desc": "new words"})
    assert resp.json() == {"is_success": True}
    assert (await version(env, c["job_id"], c["version_id"]))["job_desc"] == "new words"
    resp = await env.http.put(f"{TJ}/{c['job_id']}", json={"job_desc": "x" * 300})
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.0107"


async def test_list_paging_sorting_filters(env: Env) -> None:
    for i in range(25):
        await create(env, f"job-{i:02d}")
    env.advance(120)
    for i in range(3):
        c = await create(env, f"late-{i}")
        last = c
    await env.http.post(f"{TJ}/{last['job_id']}/versions/{last['version_id']}/stop")
    page2 = (await env.http.get(TJ, params={"per_page": 10, "page": 2})).json()
    assert page2["job_total_count"] == 28
    assert [j["job_name"] for j in page2["jobs"]] == [f"job-{i:02d}" for i in range(10, 20)]
    desc = (await env.http.get(TJ, params={"per_page": 3, "order": "desc"})).json()
    assert [j["job_name"] for j in desc["jobs"]] == ["late-2", "late-1", "late-0"]
    newest = (
        await env.http.get(TJ, params={"sortBy": "create_time", "order": "desc", "per_page": 1})
    ).json()
    assert newest["jobs"][0]["job_name"] == "late-2"
    running = (await env.http.get(TJ, params={"status": 1})).json()
    assert [j["job_name"] for j in running["jobs"]] == ["late-0", "late-1"]
    assert running["job_total_count"] == 2
    killing = (await env.http.get(TJ, params={"status": "9"})).json()
    assert [j["job_name"] for j in killing["jobs"]] == ["late-2"]
    search = (await env.http.get(TJ, params={"search_content": "job-1"})).json()
    assert search["job_total_count"] == 10
    by_status = (await env.http.get(TJ, params={"sortBy": "status", "per_page": 1000})).json()
    statuses = [j["status"] for j in by_status["jobs"]]
    assert statuses == sorted(statuses)
    for bad in (
        {"per_page": 0},
        {"per_page": 1001},
        {"page": 0},
        {"sortBy": "nope"},
        {"order": "up"},
        {"search_content": "x" * 65},
        {"status": "x"},
    ):
        resp = await env.http.get(TJ, params=bad)
        assert resp.status_code == 400, bad
        assert resp.json()["error_code"] == "ModelArts.0107"


async def test_logs_old_and_aom(env: Env) -> None:
    c = await create(env, "logs", worker_server_num=2)
    base = f"{TJ}/{c['job_id']}/versions/{c['version_id']}"
    names = (await env.http.get(base + "/log/file-names")).json()
    assert names == {"is_success": True, "log_file_list": ["logs.0", "logs.1"]}
    env.advance(20)
    resp = await env.http.get(base + "/log", params={"log_file": "logs.0"})
    first = resp.json()
    assert "loss=" in first["log"]
    assert first["log_byte_count"] == len(first["log"].encode())
    env.advance(100)
    resp = await env.http.get(
        base + "/log", params={"log_file": "logs.0", "start_byte": first["end_byte"]}
    )
    more = resp.json()
    assert more["log"]
    assert not more["log"].startswith(first["log"][:20])
    tail = (
        await env.http.get(
            base + "/log", params={"log_file": "logs.0", "start_byte": -1, "offset": -100}
        )
    ).json()
    assert "finished successfully" in tail["log"]
    aom = (await env.http.get(base + "/aom-log", params={"log_file": "logs.0", "lines": 5})).json()
    assert aom["lines"] == 5
    assert aom["content"].count("\n") == 5
    assert isinstance(aom["start_line"], str)
    assert isinstance(aom["end_line"], str)
    earlier = (
        await env.http.get(
            base + "/aom-log",
            params={
                "log_file": "logs.0",
                "lines": 3,
                "base_line": aom["start_line"],
                "order": "asc",
            },
        )
    ).json()
    assert earlier["lines"] == 3
    assert int(earlier["end_line"]) < int(aom["start_line"])
    later = (
        await env.http.get(
            base + "/aom-log",
            params={
                "log_file": "logs.0",
                "lines": 2,
                "base_line": earlier["end_line"],
                "order": "desc",
            },
        )
    ).json()
    assert later["start_line"] == aom["start_line"]
    resp = await env.http.get(base + "/log")
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "ModelArts.0115"
    resp = await env.http.get(base + "/log", params={"log_file": "nope"})
    assert resp.status_code == 404


async def test_catalogues(env: Env) -> None:
    specs = (await env.http.get(P + "/job/resource-specs", params={"job_type": "train"})).json()
    assert specs["is_success"]
    assert specs["spec_total_count"] == len(specs["specs"])
    engines = (await env.http.get(P + "/job/ai-engines")).json()
    assert any(e["engine_id"] == 1 for e in engines["engines"])
    algos = (await env.http.get(P + "/built-in-algorithms")).json()
    assert algos["models"][0]["model_id"] == 4


async def test_forced_failure_now_and_pending(env: Env) -> None:
    c = await create(env, "doomed")
    env.advance(8)
    env.emulator.force(kind="training_job", id=c["job_id"], status=11)
    assert (await version(env, c["job_id"], c["version_id"]))["status"] == 11
    # registered before creation: the job runs, then fails where it would have completed
    env.emulator.force(kind="training_job", name="later", status=3)
    later = await create(env, "later")
    env.advance(8)
    assert (await version(env, later["job_id"], later["version_id"]))["status"] == 8
    env.advance(100)
    assert (await version(env, later["job_id"], later["version_id"]))["status"] == 3
    failed = (await env.http.get(TJ, params={"status": "3,5,6,13"})).json()
    assert [j["job_name"] for j in failed["jobs"]] == ["later"]


async def test_workspace_must_exist_and_be_normal(env: Env) -> None:
    body = job_body("in-ws")
    body["workspace_id"] = "f" * 32
    resp = await env.http.post(TJ, json=body)
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "ModelArts.7005"


async def test_new_version_may_reuse_its_own_jobs_output_path(env: Env) -> None:
    c = await create(env, "reuse")
    env.advance(8)  # version 1 is running
    cfg = dict(job_body("reuse")["config"], pre_version_id=c["version_id"])
    resp = await env.http.post(f"{TJ}/{c['job_id']}/versions", json={"config": cfg})
    assert resp.status_code == 200, resp.text
    other = await env.http.post(TJ, json=job_body("intruder", train_url=cfg["train_url"]))
    assert other.json()["error_code"] == "ModelArts.2604"


async def test_concurrent_creates_with_one_name_make_one_job(env: Env) -> None:
    import asyncio

    results = await asyncio.gather(*(env.http.post(TJ, json=job_body("race")) for _ in range(20)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 19
    assert (await env.http.get(TJ)).json()["job_total_count"] == 1
