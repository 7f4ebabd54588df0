"""Many teams on one ModelArts project: every Kubernetes object gets its own remote object,
a taken name is never bound silently, adoption needs a cluster admin's allowance, and a
namespace moved to another project touches nothing remotely. Real API server, emulator and
operator process, as a platform team would run them."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from modelarts_operator.reconcile.naming import marker_of, owner_marker, unmarked

from .conftest import (
    SECOND_PROJECT,
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    examples_in,
    get_obj,
    isolated_stack,
    merge_patch,
    namespace,
    ready,
    remote_by_id,
    remote_objects,
    synced,
    wait_for,
    wait_until,
    write_secret,
)
from .test_lifecycle import API, model, service
from .test_policies import create_remote_workspace

pytestmark = pytest.mark.cluster

P = "modelarts.huaweicloud.com/"
PIPELINE = [
    ("workspace", "demo"),
    ("algorithm", "mnist"),
    ("trainingjob", "mnist"),
    ("model", "mnist-v1"),
    ("masvc", "mnist"),
]


def workspace(obj_name: str, annotations: dict[str, str] | None = None, **spec: Any) -> Any:
    return {
        "apiVersion": API,
        "kind": "Workspace",
        "metadata": {"name": obj_name, "annotations": annotations or {}},
        "spec": spec,
    }


def refused(reason: str) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        return condition(obj, "Synced").get("reason") == reason

    return check


def live_workspace_ids(emulator: Any) -> set[str]:
    return {
        str(r["id"]) for r in remote_objects(emulator, "workspace") if r.get("status") != "DELETING"
    }


def own_output_path(examples: Path, ns: str) -> Path:
    """``examples`` with the training job's output path made the namespace's own."""
    path = examples / "02-trainingjob.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for job in (d for d in docs if d["kind"] == "TrainingJob"):
        for output in job["spec"]["algorithm"]["outputs"]:
            obs = output["remote"]["obs"]
            obs["obsUrl"] = f"{obs['obsUrl'].rstrip('/')}-{ns}/"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return examples


def test_examples_in_two_namespaces_get_two_remote_pipelines(
    operator: OperatorProcess, emulator: Any, tmp_path: Path
) -> None:
    cp = operator.cp
    first, second = namespace(cp, "it-ten-team1"), namespace(cp, "it-ten-team2")
    ids: dict[str, dict[str, Any]] = {}
    # Side by side: each team with a pool of its own (pools are named project-wide) and its
    # own output path (ModelArts refuses a job writing where a running one does: 2604).
    for ns in (first, second):
        examples = own_output_path(examples_in(ns, tmp_path / ns), ns)
        cp.kubectl("apply", "-n", ns, "-f", str(examples))
    for ns in (first, second):
        ids[ns] = {}
        for kind, name in PIPELINE:
            obj = wait_for(
                cp, kind, name, ns, lambda o: ready(o) and synced(o), timeout=120, op=operator
            )
            ids[ns][kind] = obj["status"]
    ws1, ws2 = ids[first]["workspace"]["workspaceId"], ids[second]["workspace"]["workspaceId"]
    assert ws1 != ws2, "two namespaces bound one remote workspace"
    for kind in ("algorithm", "trainingjob", "model", "masvc"):
        assert ids[first][kind]["remoteName"] != ids[second][kind]["remoteName"]
    # Each remote object says whose it is.
    remote = remote_by_id(emulator, "workspace", ws1) or {}
    assert remote["name"] == f"{first}_demo"
    assert remote["description"].endswith(owner_marker("", "Workspace", first, "demo"))
    assert unmarked(remote["description"]) == "Workspace of the demo pipeline"

    # Deleting the second team's pipeline leaves the first team's.
    for kind, name in reversed(PIPELINE):
        delete_obj(cp, kind, name, second, timeout=90)
    assert remote_by_id(emulator, "workspace", ws2) is None
    assert remote_by_id(emulator, "workspace", ws1) is not None
    still = get_obj(cp, "workspace", "demo", first)
    assert still is not None
    assert ready(still)
    for kind, name in reversed(PIPELINE):
        delete_obj(cp, kind, name, first, timeout=90)


@pytest.mark.parametrize(
    ("a", "b"),
    [(("it-ten-a", "web"), ("it-ten", "a-web")), (("it-ten-ml", "v1.0"), ("it-ten-ml", "v1-0"))],
)
def test_names_that_used_to_collide_get_their_own_remote_objects(
    operator: OperatorProcess, emulator: Any, a: tuple[str, str], b: tuple[str, str]
) -> None:
    cp = operator.cp
    for ns, name in (a, b):
        apply(cp, workspace(name, description=f"{ns}/{name}"), namespace(cp, ns))
    found = [
        wait_for(cp, "workspace", name, ns, lambda o: ready(o) and synced(o), op=operator)
        for ns, name in (a, b)
    ]
    ids = [o["status"]["workspaceId"] for o in found]
    assert ids[0] != ids[1]
    for (ns, name), ws_id in zip((a, b), ids, strict=True):
        remote = remote_by_id(emulator, "workspace", ws_id) or {}
        assert unmarked(remote["description"]) == f"{ns}/{name}"
    delete_obj(cp, "workspace", b[1], b[0])
    assert remote_by_id(emulator, "workspace", ids[0]) is not None
    delete_obj(cp, "workspace", a[1], a[0])


def test_a_name_taken_by_another_team_is_refused_and_never_bound(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    owner, intruder = namespace(cp, "it-ten-owner"), namespace(cp, "it-ten-intruder")
    apply(cp, workspace("shared", name="it-ten-shared", description="mine"), owner)
    mine = wait_for(cp, "workspace", "shared", owner, ready, op=operator)
    ws_id = mine["status"]["workspaceId"]

    apply(cp, workspace("shared", name="it-ten-shared", description="theirs"), intruder)
    theirs = wait_for(cp, "workspace", "shared", intruder, refused("NameTaken"), op=operator)
    message = condition(theirs, "Synced")["message"]
    assert "taken by another object" in message, message
    assert owner not in message, message  # another tenant's namespace/name is not named
    assert condition(theirs, "Synced")["status"] == "False"
    assert "workspaceId" not in theirs["status"]
    # No create intent is left behind for a later delete to resolve by name.
    assert P + "create-pending" not in (theirs["metadata"].get("annotations") or {})
    time.sleep(2)
    assert unmarked((remote_by_id(emulator, "workspace", ws_id) or {})["description"]) == "mine"

    # Deleting the refused object deletes nothing remotely (Delete is its policy).
    delete_obj(cp, "workspace", "shared", intruder)
    assert remote_by_id(emulator, "workspace", ws_id) is not None
    assert ready(get_obj(cp, "workspace", "shared", owner) or {})

    # A name taken by an object made outside the operator: refused too.
    console = create_remote_workspace(emulator, "it-ten-console", "made in the console")
    apply(cp, workspace("console", name="it-ten-console"), intruder)
    obj = wait_for(cp, "workspace", "console", intruder, refused("NameTaken"), op=operator)
    assert "taken by another object" in condition(obj, "Synced")["message"]
    delete_obj(cp, "workspace", "console", intruder)
    assert remote_by_id(emulator, "workspace", console) is not None
    emulator.admin.delete_object("workspace", console)
    delete_obj(cp, "workspace", "shared", owner)


def test_adoption_only_where_a_cluster_admin_allows_it(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    plain = namespace(cp, "it-ten-plain")
    observer = namespace(cp, "it-ten-observer", {P + "allow-adoption": "observe"})
    manager = namespace(cp, "it-ten-manager", {P + "allow-adoption": "manage"})
    target = create_remote_workspace(emulator, "it-ten-target", "made in the console")
    before = live_workspace_ids(emulator)

    # Not allowed: external-id, adopt by name, observe: all refused, the remote untouched.
    cases = [
        ("by-id", {P + "external-id": target}),
        ("by-name", {P + "adoption-policy": "adopt"}),
        ("observe", {P + "management-policy": "observe", P + "external-id": target}),
    ]
    for name, wanted in cases:
        apply(cp, workspace(name, wanted, name="it-ten-target", description="x"), plain)
    for name, _ in cases:
        obj = wait_for(cp, "workspace", name, plain, refused("AdoptionNotAllowed"), op=operator)
        assert "allow-adoption" in condition(obj, "Synced")["message"]
        assert "workspaceId" not in obj["status"]
    # An observe allowance is not a managed one.
    apply(cp, workspace("by-id", {P + "external-id": target}, description="x"), observer)
    wait_for(cp, "workspace", "by-id", observer, refused("AdoptionNotAllowed"), op=operator)
    for name, _ in cases:
        delete_obj(cp, "workspace", name, plain)
    delete_obj(cp, "workspace", "by-id", observer)
    remote = remote_by_id(emulator, "workspace", target) or {}
    assert remote.get("description") == "made in the console"
    assert live_workspace_ids(emulator) == before

    # Allowed: observe-only where observing is allowed, managed adoption where managing is.
    apply(
        cp,
        workspace("watch", {P + "management-policy": "observe", P + "external-id": target}),
        observer,
    )
    watched = wait_for(cp, "workspace", "watch", observer, ready, op=operator)
    assert watched["status"]["workspaceId"] == target
    delete_obj(cp, "workspace", "watch", observer)
    apply(cp, workspace("take", {P + "external-id": target}, description="from git"), manager)
    taken = wait_for(
        cp, "workspace", "take", manager, lambda o: ready(o) and synced(o), op=operator
    )
    assert taken["status"]["workspaceId"] == target
    remote = remote_by_id(emulator, "workspace", target) or {}
    assert unmarked(remote["description"]) == "from git"
    assert marker_of(SimpleNamespace(**remote)) == owner_marker("", "Workspace", manager, "take")
    delete_obj(cp, "workspace", "take", manager)
    assert remote_by_id(emulator, "workspace", target) is None


def test_a_namespace_moved_to_another_project_touches_nothing_remotely(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-ten-moved")
    for name in ("home", "leaving"):
        apply(cp, workspace(name, description="stays"), ns)
    bound = {
        name: wait_for(cp, "workspace", name, ns, lambda o: ready(o) and synced(o), op=operator)
        for name in ("home", "leaving")
    }
    ws_id = {name: obj["status"]["workspaceId"] for name, obj in bound.items()}
    location = bound["home"]["status"]["location"]
    assert location["projectId"] == emulator.config.project_id
    assert location["endpoint"] == emulator.url

    before = emulator.admin.counters()
    cp.kubectl("annotate", "namespace", ns, "--overwrite", f"{P}project-id={SECOND_PROJECT}")
    moved = wait_for(
        cp, "workspace", "home", ns, refused("ProjectChanged"), timeout=60, op=operator
    )
    message = condition(moved, "Synced")["message"]
    assert emulator.config.project_id in message
    assert SECOND_PROJECT in message
    assert moved["status"]["workspaceId"] == ws_id["home"]  # the record is kept, not forgotten

    # A spec change, and a delete with the Delete policy: still nothing remotely.
    merge_patch(cp, "workspace", "home", ns, {"spec": {"description": "changed"}})
    cp.kubectl("delete", "workspace", "leaving", "-n", ns, "--wait=false")
    deleting = wait_for(
        cp,
        "workspace",
        "leaving",
        ns,
        lambda o: "ProjectChanged" in condition(o, "Synced").get("message", ""),
        op=operator,
    )
    assert deleting["metadata"]["finalizers"]
    wait_for(
        cp,
        "workspace",
        "home",
        ns,
        lambda o: condition(o, "Synced").get("observedGeneration") == 2,
        op=operator,
    )
    time.sleep(2)
    after = emulator.admin.counters()
    writes = {
        k: after[k] - before.get(k, 0)
        for k in after
        if k.split()[0] in ("POST", "PUT", "DELETE")
        and "workspaces" in k
        and after[k] != before.get(k, 0)
    }
    assert writes == {}, writes
    for name in ("home", "leaving"):
        remote = remote_by_id(emulator, "workspace", ws_id[name]) or {}
        assert unmarked(remote.get("description")) == "stays"

    # The documented ways out. Retain lets the object go and leaves its remote object...
    merge_patch(cp, "workspace", "leaving", ns, {"spec": {"deletionPolicy": "Retain"}})
    wait_until(lambda: get_obj(cp, "workspace", "leaving", ns) is None, 60, "the object to go")
    assert remote_by_id(emulator, "workspace", ws_id["leaving"]) is not None
    # ...and accept-location binds anew in the new project, leaving the old object as is.
    cp.kubectl("annotate", "workspace", "home", "-n", ns, f"{P}accept-location={SECOND_PROJECT}")
    home = wait_for(
        cp,
        "workspace",
        "home",
        ns,
        lambda o: synced(o) and ready(o) and o["status"]["location"]["projectId"] == SECOND_PROJECT,
        op=operator,
    )
    assert home["status"]["workspaceId"] != ws_id["home"]
    old = remote_by_id(emulator, "workspace", ws_id["home"]) or {}
    assert unmarked(old.get("description")) == "stays"
    delete_obj(cp, "workspace", "home", ns)
    assert remote_by_id(emulator, "workspace", ws_id["home"]) is not None  # the old project's
    for left in ws_id.values():
        emulator.admin.delete_object("workspace", left)


def api_clients(op: OperatorProcess) -> dict[str, float]:
    """The operator's modelarts_api_clients gauge by state."""
    import httpx

    text = httpx.get(f"http://127.0.0.1:{op.env['MODELARTS_METRICS_PORT']}/metrics").text
    found = re.findall(r'^modelarts_api_clients\{state="(\w+)"\} (\S+)$', text, re.MULTILINE)
    return {state: float(value) for state, value in found}


def test_rotated_secrets_do_not_leave_clients_open(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-ten-rotate", {P + "credentials-secret": "team-rotate"})
    cfg = emulator.config
    write_secret(cp, ns, "team-rotate", {"ak": cfg.ak, "sk": cfg.sk})
    apply(cp, workspace("rotating", description="rotates"), ns)
    wait_for(cp, "workspace", "rotating", ns, lambda o: ready(o) and synced(o), op=operator)
    start = api_clients(operator)
    rotations = 2
    for i in range(1, rotations + 1):
        write_secret(cp, ns, "team-rotate", {"ak": cfg.ak, "sk": cfg.sk, "rotation": str(i)})
        # The poller re-reads the Secret (at most every 15 s) and builds a client for the new
        # version; the old one, used by no namespace any more, is retired at once.
        wait_until(
            lambda i=i: (
                (c := api_clients(operator)).get("retiring", 0) + c.get("closed", 0)
                >= start.get("retiring", 0) + start.get("closed", 0) + i
            ),
            40,
            f"rotation {i} to retire the old client",
        )
    # Each retired client is closed after the request timeout; none piles up.
    final = wait_until(
        lambda: (
            c
            if (c := api_clients(operator)).get("closed", 0) >= start.get("closed", 0) + rotations
            and c.get("retiring", 0) == 0
            else None
        ),
        60,
        "the retired clients to close",
    )
    assert final["open"] == start["open"], (start, final)
    assert ready(get_obj(cp, "workspace", "rotating", ns) or {})
    delete_obj(cp, "workspace", "rotating", ns)


def test_export_to_refuses_a_configmap_it_does_not_own(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-ten-export")
    foreign = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app-settings"},
        "data": {"accessAddress": "http://the-real-one"},
    }
    apply(cp, foreign, ns)
    apply(cp, model("m", "it-ten-export"), ns)
    apply(cp, service("web", [("m", 100)], exportTo={"configMapName": "app-settings"}), ns)
    svc = wait_for(cp, "masvc", "web", ns, refused("ConfigMapNotOwned"), timeout=90, op=operator)
    assert "app-settings" in condition(svc, "Synced")["message"]
    assert svc["status"]["serviceId"]  # the service itself is deployed; only the export waits
    cm = get_obj(cp, "configmap", "app-settings", ns) or {}
    assert cm["data"] == {"accessAddress": "http://the-real-one"}
    assert not cm["metadata"].get("ownerReferences")
    # Pointing exportTo at a free name exports there, owned by the Service.
    merge_patch(cp, "masvc", "web", ns, {"spec": {"exportTo": {"configMapName": "web-endpoint"}}})
    svc = wait_for(cp, "masvc", "web", ns, lambda o: ready(o) and synced(o), op=operator)
    owned = get_obj(cp, "configmap", "web-endpoint", ns) or {}
    assert owned["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]
    delete_obj(cp, "masvc", "web", ns)
    delete_obj(cp, "model", "m", ns)


def test_namespaced_operator_watches_only_the_named_secret(
    operator: OperatorProcess, tmp_path: Path
) -> None:
    """An operator serving one namespace watches its credentials Secret by name in that
    namespace: another Secret there changes nothing, the named one takes effect at once."""
    from modelarts_testbed.emulator import EmulatorConfig

    ns = "it-ten-scoped"
    with isolated_stack(operator, ns, tmp_path, EmulatorConfig(seed=21)) as stack:
        assert stack.op is not None
        cp, cfg = operator.cp, stack.emulator_config
        cp.kubectl("annotate", "namespace", ns, "--overwrite", f"{P}credentials-secret=team-late")
        apply(cp, workspace("late", description="waits for its Secret"), ns)
        waiting = wait_for(cp, "workspace", "late", ns, refused("CredentialsError"), op=stack.op)
        assert "team-late" in condition(waiting, "Synced")["message"]
        version = waiting["metadata"]["resourceVersion"]
        write_secret(cp, ns, "unrelated", {"x": "1"})
        time.sleep(5)
        after = get_obj(cp, "workspace", "late", ns) or {}
        assert after["metadata"]["resourceVersion"] == version, "an unrelated Secret reconciled"
        started = time.monotonic()
        write_secret(cp, ns, "team-late", {"ak": cfg.ak, "sk": cfg.sk})
        wait_for(cp, "workspace", "late", ns, lambda o: ready(o) and synced(o), op=stack.op)
        assert time.monotonic() - started < 60  # the slow retry would take 300 s
