"""A v2 Service's life against the real API server and the emulator: apply (weights mounted
from a Model by reference) → Running with a URL exported → a new version rolled out, the
previous one recorded → switched back → stopped → started → deleted through the batch call,
nothing left remotely."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelarts_operator.api import errors

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    get_obj,
    merge_patch,
    modelarts,
    namespace,
    ready,
    synced,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.cluster

API = "modelarts.huaweicloud.com/v1alpha1"
IMAGE = "swr.cn-north-4.myhuaweicloud.com/team/infer:1.0"
LIMIT = {"rateLimit": {"num": 100, "unit": "SECONDS"}, "requestSizeLimit": 12, "requestTimeout": 40}


def v2_form(version: str, *, count: int = 1, env: str = "info") -> dict[str, Any]:
    return {
        "version": version,
        "type": "REAL_TIME",
        "groupConfigs": [
            {
                "name": "main",
                "poolId": "pool-dedicated-1",
                "weight": 100,
                "unitConfigs": [
                    {
                        "image": {"source": "SWR", "swrPath": IMAGE},
                        "flavor": "modelarts.vm.cpu.2u",
                        "count": count,
                        "port": 8080,
                        "cmd": "python serve.py",
                        "envs": {"LOG_LEVEL": env},
                        "models": [
                            {
                                "source": "OBS",
                                "mountPath": "/models/mnist",
                                "modelRef": {"name": "weights"},
                            }
                        ],
                        "readinessHealth": {"checkMethod": "HTTP", "url": "/health"},
                    }
                ],
            }
        ],
        "runtimeConfig": {
            "serviceInvoke": {"port": 8080, "protocol": "HTTP", "authType": "TOKEN"},
            "serviceLimit": LIMIT,
        },
        "upgradeConfig": {
            "type": "ROLLING",
            "rollingUpdate": {"maxSurge": "10%", "maxUnavailable": "1%"},
        },
        "logConfigs": [{"type": "STDOUT", "status": "ON"}],
    }


def remote_v2(emulator: Any, sid: str) -> Any:
    async def get(client: Any) -> Any:
        try:
            return await client.services_v2.get(sid)
        except errors.NotFound:
            return None

    return modelarts(emulator, get)


def test_v2_service_lifecycle(operator: OperatorProcess, emulator: Any) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-svc2-life")
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Model",
            "metadata": {"name": "weights"},
            "spec": {
                "modelVersion": "1.0.0",
                "sourceLocation": "/it-svc2/model/",
                "modelType": "TensorFlow",
                "runtime": "python3.6",
            },
        },
        ns,
    )
    manifest = {
        "apiVersion": API,
        "kind": "Service",
        "metadata": {"name": "infer"},
        "spec": {
            "description": "v2 inference",
            "v2": v2_form("1.0.0"),
            "exportTo": {"configMapName": "infer-endpoint"},
        },
    }
    apply(cp, manifest, ns)
    svc = wait_for(cp, "masvc", "infer", ns, ready, timeout=90, op=operator)
    sid, status = svc["status"]["serviceId"], svc["status"]
    assert status["phase"] == "Running"
    assert status["version"] == "1.0.0"
    assert status["accessAddress"].startswith("http")
    remote = remote_v2(emulator, sid)
    assert remote.name == "it-svc2-life_infer"
    unit = remote.version.instance_groups[0].unit_configs[0]
    assert unit.models[0]["address"] == "obs://it-svc2/model/"  # the Model's source location
    assert unit.envs["LOG_LEVEL"] == "info"
    cm = get_obj(cp, "configmap", "infer-endpoint", ns)
    assert cm is not None
    assert cm["data"] == {"serviceId": sid, "accessAddress": status["accessAddress"]}

    # A new version with a new configuration: a rolling upgrade; the old version recorded.
    spec = copy.deepcopy(svc["spec"])
    spec["v2"] = v2_form("1.1.0", count=2, env="debug")
    merge_patch(cp, "masvc", "infer", ns, {"spec": {"v2": spec["v2"]}})
    svc = wait_for(
        cp,
        "masvc",
        "infer",
        ns,
        lambda o: ready(o) and synced(o) and o["status"].get("version") == "1.1.0",
        timeout=90,
        op=operator,
    )
    assert svc["status"]["previousVersion"] == "1.0.0"
    assert svc["status"]["serviceId"] == sid
    unit = remote_v2(emulator, sid).version.instance_groups[0].unit_configs[0]
    assert (unit.count, unit.envs["LOG_LEVEL"]) == (2, "debug")

    # Back to 1.0.0: the recorded version is switched to, not a new one made.
    merge_patch(cp, "masvc", "infer", ns, {"spec": {"v2": v2_form("1.0.0")}})
    svc = wait_for(
        cp,
        "masvc",
        "infer",
        ns,
        lambda o: ready(o) and synced(o) and o["status"].get("version") == "1.0.0",
        timeout=90,
        op=operator,
    )
    assert svc["status"]["previousVersion"] == "1.1.0"
    assert "Switched" in {e["reason"] for e in events_for(cp, ns, "infer")}

    # stopped: true → STOPPED remotely; false → RUNNING again.
    merge_patch(cp, "masvc", "infer", ns, {"spec": {"stopped": True}})
    svc = wait_for(
        cp, "masvc", "infer", ns, lambda o: o["status"].get("phase") == "Stopped", op=operator
    )
    assert condition(svc, "Ready")["reason"] == "Stopped"
    assert remote_v2(emulator, sid).status == "STOPPED"
    merge_patch(cp, "masvc", "infer", ns, {"spec": {"stopped": False}})
    wait_for(cp, "masvc", "infer", ns, lambda o: ready(o) and synced(o), timeout=90, op=operator)
    assert remote_v2(emulator, sid).status == "RUNNING"

    delete_obj(cp, "masvc", "infer", ns, timeout=90)
    assert remote_v2(emulator, sid) is None  # 404 after the batch delete
    delete_obj(cp, "model", "weights", ns)


def test_v2_failed_and_concerning_are_reported(operator: OperatorProcess, emulator: Any) -> None:
    """FAILED (forced in the emulator) is Failed with the reason; CONCERNING is Degraded. The
    service's remote events (deploying, failed, concerning) are Kubernetes Events on it, each
    once after every poll cycle since."""
    import httpx

    cp = operator.cp
    ns = namespace(cp, "it-svc2-fail")
    form = v2_form("1.0.0")
    form["groupConfigs"][0]["unitConfigs"][0]["models"] = [
        {"source": "OBS", "mountPath": "/models/m", "address": "obs://b/m/"}
    ]
    name = "it-svc2-fail_broken"
    httpx.post(
        f"{emulator.url}/_emulator/force",
        json={"kind": "service_v2", "name": name, "status": "FAILED", "error_msg": "image pull"},
    ).raise_for_status()
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Service",
            "metadata": {"name": "broken"},
            "spec": {"v2": form},
        },
        ns,
    )
    svc = wait_for(
        cp,
        "masvc",
        "broken",
        ns,
        lambda o: condition(o, "Failed").get("status") == "True",
        timeout=90,
        op=operator,
    )
    assert svc["status"]["phase"] == "Failed"
    assert "image pull" in condition(svc, "Ready")["message"]
    sid = svc["status"]["serviceId"]
    # The service's own event log, mirrored while it deployed and when it failed.
    failed = ("Warning", "RemoteEvent", "service failed: image pull")
    wait_until(lambda: failed in _remote_events(cp, ns, "broken"), what="remote events")
    httpx.post(
        f"{emulator.url}/_emulator/force",
        json={"kind": "service_v2", "id": sid, "status": "CONCERNING"},
    ).raise_for_status()
    svc = wait_for(
        cp,
        "masvc",
        "broken",
        ns,
        lambda o: condition(o, "Ready").get("reason") == "Degraded",
        timeout=60,
        op=operator,
    )
    assert svc["status"]["phase"] == "Concerning"
    # Across every poll cycle since (a look at each change of phase), each remote event is
    # one Kubernetes Event; a steady service is not looked at.
    abnormal = ("Warning", "RemoteEvent", "some instances of the service are abnormal")
    mirrored = wait_until(
        lambda: (found := _remote_events(cp, ns, "broken")) and abnormal in found and found
    )
    assert sorted(mirrored) == sorted(
        [("Normal", "RemoteEvent", "start to deploy service"), failed, abnormal]
    )
    assert all(
        e["count"] == 1 for e in events_for(cp, ns, "broken") if e["reason"] == "RemoteEvent"
    )
    delete_obj(cp, "masvc", "broken", ns, timeout=90)
    assert remote_v2(emulator, sid) is None


def _remote_events(cp: Any, ns: str, name: str) -> list[tuple[str, str, str]]:
    """The Kubernetes Events mirroring the remote event log of Service ``name``."""
    return [
        (e["type"], e["reason"], e["message"])
        for e in events_for(cp, ns, name)
        if e["reason"] == "RemoteEvent"
    ]


def _direct_v2(name: str) -> dict[str, Any]:
    """A v2 form whose model mount is an address (no Model to wait for)."""
    form = v2_form("1.0.0")
    unit = form["groupConfigs"][0]["unitConfigs"][0]
    unit["models"] = [{"source": "OBS", "mountPath": "/models/m", "address": f"obs://b/{name}/"}]
    return form


def _create_remote_v2(emulator: Any, name: str, tags: list[dict[str, str]] | None) -> str:
    """A v2 service created straight through the API: someone else's (untagged), or ours from
    before a crash (carrying our owner tag)."""
    from modelarts_operator.api.services_v2 import ServiceV2CreateRequest

    body = {
        "name": name,
        "type": "REAL_TIME",
        "deploy_type": "SINGLE",
        "group_configs": [
            {
                "name": "main",
                "pool_id": "pool-dedicated-1",
                "weight": 100,
                "unit_configs": [
                    {
                        "image": {"source": "SWR", "swr_path": IMAGE},
                        "flavor": "modelarts.vm.cpu.2u",
                        "count": 1,
                        "port": 8080,
                        "models": [{"source": "OBS", "mount_path": "/m", "address": "obs://b/x/"}],
                    }
                ],
            }
        ],
        "runtime_config": {
            "service_invoke": {"port": 8080, "protocol": "HTTP", "auth_type": "TOKEN"},
            "service_limit": {
                "rate_limit": {"num": 100, "unit": "SECONDS"},
                "request_size_limit": 12,
                "request_timeout": 40,
            },
        },
        "tags": tags,
    }

    async def create(client: Any) -> str:
        created = await client.services_v2.create(ServiceV2CreateRequest.model_validate(body))
        return str(created.id)

    return str(modelarts(emulator, create))


def test_v2_ownership_is_a_tag(operator: OperatorProcess, emulator: Any) -> None:
    """A v2 service is marked ours by its owner tag (the description stays the user's): a
    same-named service without it is refused as NameTaken and never bound or deleted; one
    carrying it, left by a create a crash interrupted, is recovered and no second is made."""
    from modelarts_operator.reconcile.naming import owner_marker, owner_tag, remote_name
    from modelarts_operator.reconcile.policies import CREATE_PENDING

    cp = operator.cp
    ns = namespace(cp, "it-svc2-own")

    def service(name: str, **meta: Any) -> dict[str, Any]:
        return {
            "apiVersion": API,
            "kind": "Service",
            "metadata": {"name": name, **meta},
            "spec": {"description": "mine", "v2": _direct_v2(name)},
        }

    # Created by the operator: tagged, the description untouched.
    apply(cp, service("made"), ns)
    made = wait_for(cp, "masvc", "made", ns, ready, timeout=90, op=operator)
    remote = remote_v2(emulator, made["status"]["serviceId"])
    assert owner_tag(owner_marker("", "Service", ns, "made")) in (remote.tags or [])
    delete_obj(cp, "masvc", "made", ns, timeout=90)

    # Someone else's service under the derived name: refused, untouched.
    foreign = _create_remote_v2(emulator, remote_name(ns, "taken"), tags=None)
    apply(cp, service("taken"), ns)
    taken = wait_for(
        cp,
        "masvc",
        "taken",
        ns,
        lambda o: condition(o, "Synced").get("reason") == "NameTaken",
        timeout=60,
        op=operator,
    )
    assert "taken by another object" in condition(taken, "Synced")["message"]
    assert "serviceId" not in taken["status"]
    delete_obj(cp, "masvc", "taken", ns, timeout=60)
    assert remote_v2(emulator, foreign) is not None  # Delete policy, but never ours

    # Our create, interrupted before its ID reached status: bound by the tag, nothing new.
    operator.stop()
    try:
        crashed = service("crashed", annotations={CREATE_PENDING: remote_name(ns, "crashed")})
        apply(cp, crashed, ns)
        ours = _create_remote_v2(
            emulator,
            remote_name(ns, "crashed"),
            tags=[owner_tag(owner_marker("", "Service", ns, "crashed"))],
        )
    finally:
        operator.start()
    bound = wait_for(cp, "masvc", "crashed", ns, ready, timeout=90, op=operator)
    assert bound["status"]["serviceId"] == ours
    messages = [e["message"] for e in events_for(cp, ns, "crashed")]
    assert any("recovered interrupted create" in m for m in messages), messages
    delete_obj(cp, "masvc", "crashed", ns, timeout=90)
    assert remote_v2(emulator, ours) is None

    async def delete(client: Any) -> None:
        await client.services_v2.delete(foreign)

    modelarts(emulator, delete)
