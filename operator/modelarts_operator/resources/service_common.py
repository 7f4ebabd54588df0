"""What the two forms of Service share: the kind's identity and ``spec.exportTo``, which writes
the service ID and access address into a ConfigMap the Service owns, so an application
Deployment can consume the URL. The forms are ``service_v1`` and ``service_v2``; the kind's
declaration is ``service``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .. import GROUP, VERSION
from ..crd import service as crd
from ..crd.service import ServiceSpec, ServiceStatus
from ..reconcile.adapter import Context, Refs, RemoteAdapter, Updated
from ..reconcile.kube import Kind, KubeError
from ..reconcile.policies import foreign_config_map
from ..reconcile.registry import Entry

RefsT = TypeVar("RefsT", bound=Refs)


class ServiceAdapter(RemoteAdapter[ServiceSpec, RefsT]):
    """The kind's identity and the export, for both forms. Configuration changes in place;
    ``spec.stopped`` starts and stops the service."""

    kind = Kind(crd.KIND, crd.PLURAL)
    spec_model = ServiceSpec
    status_model = ServiceStatus
    id_field = "serviceId"
    name_field = "service_name"
    resyncs = True

    def resume_work(self, entry: Entry, phase: str, facts: Mapping[str, Any]) -> str | None:
        """A remote state ``spec.stopped`` disagrees with: the reconcile stops or starts the
        service (a stop asked at create time waits for the deployment; a service stopped
        outside the operator is started again). A v1 batch service stops by itself."""
        stopped = bool(entry.spec.get("stopped"))
        if stopped and phase not in ("Stopped", "Failed", "Finished"):
            return "spec.stopped: to be stopped"
        if not stopped and phase == "Stopped" and entry.spec.get("inferType") != "batch":
            return "spec.stopped is false: to be started"
        return None

    def needs_detail(self, old_status: Mapping[str, Any], phase: str) -> bool:
        # The access address and per-model states come with the detail once it runs.
        return phase in ("Running", "Finished", "Failed") and old_status.get("phase") != phase

    def polls_detail(self, entry: Entry) -> bool:
        """The reconcile takes a service's transition when it has work on it: writing the
        spec.exportTo ConfigMap, or stopping a service spec.stopped holds (update()). Any
        other service's detail is the poller's: a mass deploy poked every service as it
        started running (1,000 annotation writes and kopf updates for 1,000 v1 Services)."""
        return not entry.spec.get("exportTo") and not entry.spec.get("stopped")

    async def export(
        self,
        ctx: Context[ServiceSpec, RefsT],
        updated: Updated,
        service_id: str,
        address: str | None,
    ) -> None:
        """Write serviceId and accessAddress to the ConfigMap named by spec.exportTo (refused
        when that ConfigMap exists and this Service does not own it)."""
        target = ctx.spec.export_to
        if target is None or ctx.kube is None:
            return
        name = target.config_map_name
        data = {"serviceId": service_id, "accessAddress": address or ""}
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ctx.namespace,
                "labels": {"app.kubernetes.io/managed-by": "modelarts-operator"},
                "ownerReferences": [
                    {
                        "apiVersion": f"{GROUP}/{VERSION}",
                        "kind": "Service",
                        "name": ctx.name,
                        "uid": ctx.uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "data": data,
        }
        path = f"/api/v1/namespaces/{ctx.namespace}/configmaps"
        try:
            current = await ctx.kube.get(f"{path}/{name}")
        except KubeError as err:
            if err.status != 404:
                raise
            await ctx.kube.create(path, body)
        else:
            if (refusal := foreign_config_map(current, ctx.uid)) is not None:
                updated.refusal = refusal
                return
            if current.get("data") != data:
                await ctx.kube.merge_patch(f"{path}/{name}", {"data": data})
        updated.recorded["exportedConfigMap"] = name
