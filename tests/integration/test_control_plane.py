"""The local control plane is a real Kubernetes API server: schema and CEL validation, the
status subresource, finalizers, watches, RBAC, kubectl and helm all behave as in a cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml

from modelarts_testbed.controlplane import ControlPlane, pinned_versions

pytestmark = pytest.mark.cluster

GROUP = "test.modelarts.dev"
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1},
                                    "minReplicas": {"type": "integer"},
                                    "maxReplicas": {"type": "integer"},
                                },
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "!has(self.minReplicas) || !has(self.maxReplicas)"
                                        " || self.minReplicas <= self.maxReplicas",
                                        "message": "minReplicas must not exceed maxReplicas",
                                        "fieldPath": ".minReplicas",
                                    }
                                ],
                            },
                            "status": {
                                "type": "object",
                                "properties": {"phase": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


def widget(name: str, namespace: str = "default", **spec: object) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": f"{GROUP}/v1",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"size": 1, **spec},
        }
    )


@pytest.fixture(scope="module")
def widgets(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> ControlPlane:
    path = tmp_path_factory.mktemp("crd") / "widgets.yaml"
    path.write_text(yaml.safe_dump(WIDGET_CRD))
    assert control_plane.install_crds([path]) == [f"widgets.{GROUP}"]
    return control_plane


def get_json(cp: ControlPlane, *args: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(cp.kubectl("get", *args, "-o", "json").stdout)
    return result


def test_server_reports_the_pinned_version(control_plane: ControlPlane) -> None:
    status, body = control_plane.request("/version")
    assert status == 200
    assert body["gitVersion"] == pinned_versions()["KUBE_VERSION"]
    client = json.loads(control_plane.kubectl("version", "-o", "json").stdout)
    assert client["clientVersion"]["gitVersion"] == pinned_versions()["KUBE_VERSION"]
    assert client["serverVersion"]["gitVersion"] == pinned_versions()["KUBE_VERSION"]


def test_schema_and_cel_rules_refuse_invalid_objects(widgets: ControlPlane) -> None:
    bad_cel = widgets.kubectl(
        "apply", "-f", "-", input=widget("w1", minReplicas=3, maxReplicas=2), check=False
    )
    assert bad_cel.returncode != 0
    assert "spec.minReplicas" in bad_cel.stderr
    assert "minReplicas must not exceed maxReplicas" in bad_cel.stderr

    bad_schema = widgets.kubectl("apply", "-f", "-", input=widget("w2", size=0), check=False)
    assert bad_schema.returncode != 0
    assert "spec.size" in bad_schema.stderr

    widgets.kubectl("apply", "-f", "-", input=widget("w3", minReplicas=1, maxReplicas=2))
    assert get_json(widgets, "widget", "w3")["spec"] == {
        "size": 1,
        "minReplicas": 1,
        "maxReplicas": 2,
    }


def test_status_subresource_does_not_bump_generation(widgets: ControlPlane) -> None:
    widgets.kubectl("apply", "-f", "-", input=widget("gen"))
    before = get_json(widgets, "widget", "gen")["metadata"]
    widgets.kubectl(
        "patch",
        "widget",
        "gen",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Ready"}}',
    )
    after = get_json(widgets, "widget", "gen")
    assert after["status"] == {"phase": "Ready"}
    assert after["metadata"]["generation"] == before["generation"]  # type: ignore[index]
    # A status field sent to the main resource is dropped; a spec change bumps generation.
    widgets.kubectl(
        "patch",
        "widget",
        "gen",
        "--type=merge",
        "-p",
        '{"spec": {"size": 5}, "status": {"phase": "Hacked"}}',
    )
    changed = get_json(widgets, "widget", "gen")
    assert changed["status"] == {"phase": "Ready"}
    assert changed["metadata"]["generation"] == before["generation"] + 1  # type: ignore[index,operator]


def test_finalizer_holds_deletion_until_removed(widgets: ControlPlane) -> None:
    widgets.kubectl("apply", "-f", "-", input=widget("fin"))
    widgets.kubectl(
        "patch",
        "widget",
        "fin",
        "--type=merge",
        "-p",
        '{"metadata": {"finalizers": ["test.modelarts.dev/hold"]}}',
    )
    widgets.kubectl("delete", "widget", "fin", "--wait=false")
    held = get_json(widgets, "widget", "fin")["metadata"]
    assert "deletionTimestamp" in held  # type: ignore[operator]
    widgets.kubectl(
        "patch", "widget", "fin", "--type=merge", "-p", '{"metadata": {"finalizers": null}}'
    )
    gone = widgets.kubectl("get", "widget", "fin", check=False)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr


def test_watch_sees_added_modified_deleted(widgets: ControlPlane) -> None:
    from kubernetes import client, config, watch

    api = client.CustomObjectsApi(config.new_client_from_config(str(widgets.kubeconfig)))
    events: list[tuple[str, str]] = []
    stream = watch.Watch()
    ready = threading.Event()

    def collect() -> None:
        for event in stream.stream(
            api.list_namespaced_custom_object,
            GROUP,
            "v1",
            "default",
            "widgets",
            field_selector="metadata.name=watched",
            timeout_seconds=30,
        ):
            events.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                stream.stop()
        ready.set()

    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    time.sleep(1.0)  # let the watch establish before the first write
    widgets.kubectl("apply", "-f", "-", input=widget("watched"))
    widgets.kubectl("apply", "-f", "-", input=widget("watched", size=2))
    widgets.kubectl("delete", "widget", "watched")
    assert ready.wait(30), f"watch saw only {events}"
    assert [kind for kind, _ in events] == ["ADDED", "MODIFIED", "DELETED"]


def test_rbac_denies_outside_a_role_and_allows_inside(widgets: ControlPlane) -> None:
    widgets.kubectl("create", "namespace", "team-a", check=False)
    widgets.kubectl(
        "apply",
        "-f",
        "-",
        input=textwrap.dedent(f"""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {{name: widget-editor, namespace: team-a}}
        rules:
        - apiGroups: ["{GROUP}"]
          resources: ["widgets"]
          verbs: ["get", "list", "create"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {{name: alice-widgets, namespace: team-a}}
        roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: widget-editor}}
        subjects:
        - {{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}}
        """),
    )
    inside = widgets.kubectl(
        "apply",
        "-f",
        "-",
        "-n",
        "team-a",
        user="alice",
        input=widget("mine", namespace="team-a"),
        check=False,
    )
    assert inside.returncode == 0, inside.stderr
    assert widgets.kubectl("get", "widgets", "-n", "team-a", user="alice").returncode == 0

    outside = widgets.kubectl("get", "widgets", "-n", "default", user="alice", check=False)
    assert outside.returncode != 0
    assert "forbidden" in outside.stderr.lower()
    not_granted = widgets.kubectl(
        "delete", "widget", "mine", "-n", "team-a", user="alice", check=False
    )
    assert "forbidden" in not_granted.stderr.lower()
    status, _ = widgets.request("/api/v1/namespaces/team-a/secrets", user="alice")
    assert status == 403


def test_service_account_identity_gets_exactly_its_bindings(control_plane: ControlPlane) -> None:
    # Aggregated roles such as "view" stay empty without kube-controller-manager, so the
    # grant is an explicit Role.
    sa = "system:serviceaccount:team-a:runner"
    control_plane.kubectl("create", "namespace", "team-a", check=False)
    assert control_plane.request("/api/v1/namespaces/team-a/configmaps", user=sa)[0] == 403
    control_plane.kubectl(
        "create", "role", "cm-reader", "-n", "team-a", "--verb=get,list", "--resource=configmaps"
    )
    control_plane.kubectl(
        "create",
        "rolebinding",
        "runner-cm",
        "-n",
        "team-a",
        "--role=cm-reader",
        "--serviceaccount=team-a:runner",
    )
    deadline = time.monotonic() + 10
    while control_plane.request("/api/v1/namespaces/team-a/configmaps", user=sa)[0] != 200:
        assert time.monotonic() < deadline, "binding never took effect"
        time.sleep(0.2)
    assert control_plane.request("/api/v1/namespaces/default/configmaps", user=sa)[0] == 403
    assert control_plane.request("/api/v1/namespaces/team-a/secrets", user=sa)[0] == 403


def test_helm_installs_a_chart(control_plane: ControlPlane, tmp_path: Path) -> None:
    chart = tmp_path / "hello"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: hello\nversion: 0.1.0\nkubeVersion: '>=1.29.0-0'\n"
    )
    (chart / "values.yaml").write_text("greeting: hi\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    control_plane.helm(
        "install",
        "hello",
        str(chart),
        "--namespace",
        "default",
        "--set",
        "greeting=hello-from-helm",
        "--wait",
    )
    cm = get_json(control_plane, "configmap", "hello-greeting")
    assert cm["data"] == {"greeting": "hello-from-helm"}
    listed = json.loads(control_plane.helm("list", "-n", "default", "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in listed] == [("hello", "deployed")]
    control_plane.helm("uninstall", "hello", "-n", "default")
    assert control_plane.kubectl("get", "configmap", "hello-greeting", check=False).returncode


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _gone(pids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while any(_running(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_killed_owner_leaves_no_processes_behind(tmp_path: Path) -> None:
    """SIGKILL the process that started a control plane: etcd and kube-apiserver die too."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from modelarts_testbed.controlplane import ControlPlane\n"
        "cp = ControlPlane.start(Path(sys.argv[1]))\n"
        "print(' '.join(map(str, cp.pids)), flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "cp")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert len(pids) == 2
        assert all(Path(f"/proc/{p}").exists() for p in pids)
    finally:
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait()
    assert _gone(pids, within=15), f"orphans left: {pids}"


def test_cluster_cli_up_and_down(tmp_path: Path) -> None:
    """`make cluster` / `make cluster-down` are these two commands."""
    state = tmp_path / "state"
    cli = [sys.executable, "-m", "modelarts_operator", "cluster"]
    up = subprocess.run(
        [*cli, "up", "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    try:
        kubeconfig = state / "kubeconfig"
        assert kubeconfig.exists()
        from modelarts_testbed.controlplane import tool_path

        ns = subprocess.run(
            [
                str(tool_path("kubectl")),
                "--kubeconfig",
                str(kubeconfig),
                "get",
                "namespace",
                "default",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert ns.stdout.strip() == "namespace/default", ns.stderr
        pids = [int((state / "data" / f"{n}.pid").read_text()) for n in ("etcd", "kube-apiserver")]
    finally:
        down = subprocess.run(
            [*cli, "down", "--state-dir", str(state)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert down.returncode == 0, down.stderr
    assert not state.exists()
    assert _gone(pids, within=15)
