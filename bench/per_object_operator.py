"""The common pattern, for comparison: a kopf timer per object doing one GET each interval.

Only status mirroring (no creates), of the kind BENCH_PEER_PLURAL (default trainingjobs): every
MODELARTS_POLL_ACTIVE_SECONDS it reads the detail of every object's remote counterpart. For v1
TrainingJobs it patches the phase when it changed; for the other kinds and forms it only reads
(a peer that also wrote would cost more, so their ratio is a lower bound). Run by
bench/operator_scale.py against objects the real operator already created.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import kopf

from modelarts_operator import GROUP, VERSION
from modelarts_operator.api import AkSkCredentials, ClientConfig, ModelArtsClient
from modelarts_operator.api.training_jobs import JOBSTAT
from modelarts_operator.reconcile.credentials import credentials_from_secret
from modelarts_operator.reconcile.kube import KubeClient, bearer_token, load_configuration
from modelarts_operator.resources.training_common import phase_of
from modelarts_operator.resources.training_v1 import PHASES

INTERVAL = float(os.environ.get("MODELARTS_POLL_ACTIVE_SECONDS", "10"))
PLURAL = os.environ.get("BENCH_PEER_PLURAL", "trainingjobs")
STATE: dict[str, Any] = {}


@kopf.on.login()
def login(**_: Any) -> kopf.ConnectionInfo:
    cfg = load_configuration(STATE["kubeconfig"])
    return kopf.ConnectionInfo(
        server=cfg.host, ca_path=cfg.ssl_ca_cert, token=bearer_token(cfg), insecure=False
    )


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.peering.standalone = True
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="bench.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="bench.dev")
    kube = KubeClient.from_environment(STATE["kubeconfig"])
    ns, name = os.environ["MODELARTS_CREDENTIALS_SECRET"].split("/")
    secret = await kube.get(f"/api/v1/namespaces/{ns}/secrets/{name}")
    creds = credentials_from_secret(secret["data"], f"{ns}/{name}")
    assert isinstance(creds, AkSkCredentials)
    STATE["client"] = ModelArtsClient(
        ClientConfig(
            project_id=os.environ["MODELARTS_PROJECT_ID"],
            endpoint=os.environ["MODELARTS_ENDPOINT"],
            iam_endpoint=os.environ["MODELARTS_IAM_ENDPOINT"],
            qps=1000,
            burst=2000,
        ),
        creds,
    )


@kopf.timer(GROUP, VERSION, PLURAL, interval=INTERVAL, sharp=True)
async def poll(spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch, **_: Any) -> None:
    client: ModelArtsClient = STATE["client"]
    if PLURAL == "trainingjobs" and not spec.get("algorithm"):
        job_id, version_id = status.get("jobId"), status.get("versionId")
        if not job_id or not version_id:
            return
        version = await client.training_jobs.get_version(int(job_id), int(version_id))
        phase = phase_of(PHASES, version.status)
        if status.get("phase") != phase:
            patch.status["phase"] = phase
            patch.status["remoteStatus"] = JOBSTAT.get(version.status or 0)
        return
    remote_id = status.get(ID_FIELDS[PLURAL])
    if not remote_id:
        return
    if PLURAL == "trainingjobs":
        await client.training_jobs_v2.get(str(remote_id))
    elif PLURAL == "models" and spec.get("llm"):  # DataArts: read by listing with its ID
        await client.dataarts.get_model(str(spec["llm"]["workspaceId"]), str(remote_id))
    elif PLURAL == "services":
        api = client.services_v2 if spec.get("v2") else client.services
        await api.get(str(remote_id))
    elif PLURAL == "resourcepools":
        await client.pools.get(str(remote_id))
    else:
        await getattr(client, PLURAL).get(str(remote_id))


ID_FIELDS = {
    "trainingjobs": "jobId",
    "models": "modelId",
    "services": "serviceId",
    "workspaces": "workspaceId",
    "notebooks": "notebookId",
    "algorithms": "algorithmId",
    "networks": "networkId",
    "resourcepools": "poolId",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig", required=True)
    args = parser.parse_args()
    STATE["kubeconfig"] = args.kubeconfig
    asyncio.run(kopf.operator(clusterwide=True))


if __name__ == "__main__":
    main()
