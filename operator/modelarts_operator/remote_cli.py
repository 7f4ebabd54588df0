"""What ModelArts itself records about a Service or a TrainingJob, read from ModelArts with the
credentials ``kubectl modelarts logs`` uses (``logs_cli.Session``):

- ``events --remote KIND/NAME``: the remote object's own event log (a service's deployment
  steps and failures, seed §7.8 / list_infer_service_events; a v2 training job's events,
  list_training_job_events), oldest first. The operator mirrors a service's recent ones as
  Kubernetes Events while it deploys (``events KIND/NAME`` without ``--remote``); this reads the
  whole log, as far back as ``--limit``.
- ``monitor service/NAME``: a v1 service's figures per model (calls, failures, CPU, memory,
  GPU; seed §7.6). The v2 service API has no monitor call (huaweicloudsdkmodelarts 3.1.219 has
  none): the command says so.
- ``history service/NAME``: a v1 service's update log (each configuration change and its
  result, seed §7.7); a v2 service's configuration versions, newest last.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from .api import errors
from .api.redact import redact
from .logs_cli import LogsError, Session, exit_code
from .reconcile.registry import Entry

NO_MONITOR_V2 = (
    "service {name} is a v2 service (spec.v2): ModelArts has no monitor API for v2 services "
    "(huaweicloudsdkmodelarts 3.1.219 has none), so there are no figures to show"
)


def _target(target: str, plurals: Sequence[str]) -> tuple[str, str]:
    """``KIND/NAME`` -> (plural, name), KIND any name of a kind in ``plurals`` (its kind, plural,
    short name, as ``kubectl modelarts events`` takes them)."""
    from .status_cli import StatusError, kind_named, kinds

    wanted = " or ".join(f"{plural.removesuffix('s')}/NAME" for plural in plurals)
    kind, sep, name = target.partition("/")
    if not sep or not kind or not name:
        raise LogsError(f"name the object as {wanted}, not {target!r}")
    try:
        view = kind_named(kind, kinds())
    except StatusError as exc:
        raise LogsError(str(exc)) from None
    if view.plural not in plurals:
        raise LogsError(f"ModelArts keeps this record for {wanted} only, not {target!r}")
    return view.plural, name


def _remote(plural: str, namespace: str, name: str, obj: dict[str, Any]) -> tuple[Any, str, str]:
    """The form's adapter, its name (v1, v2) and the remote ID of a Service or TrainingJob."""
    from .resources.service import DECLARATION as SERVICES
    from .resources.training_job import DECLARATION as TRAINING_JOBS

    kind = SERVICES if plural == "services" else TRAINING_JOBS
    form = kind.form_of(Entry(plural, namespace, name, obj))
    if form is None:
        raise LogsError(f"{plural.removesuffix('s')} {namespace}/{name} has a spec it cannot read")
    adapter = form.adapter
    status = obj.get("status") or {}
    remote_id = status.get(adapter.id_field)
    if remote_id in (None, ""):
        phase = status.get("phase") or "not reconciled yet"
        raise LogsError(
            f"{plural.removesuffix('s')} {namespace}/{name} has no ModelArts object yet "
            f"({phase}): wait until it is created"
        )
    return adapter, form.name, str(remote_id)


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    from .status_cli import table as render

    return render(header, rows)


async def run_remote(
    args: argparse.Namespace,
    *,
    out: TextIO,
    environ: dict[str, str],
    kube: Any = None,
    client: Any = None,
) -> None:
    """One of the commands (``args.remote_command``); ``kube`` and ``client`` replace the
    cluster and the cloud in tests."""
    from .reconcile.kube import context_namespace

    command = args.remote_command
    plurals = ["services", "trainingjobs"] if command == "events" else ["services"]
    plural, name = _target(args.target, plurals)
    namespace = args.namespace or context_namespace(args.kubeconfig)
    session = Session(args.kubeconfig, environ, kube, client)
    try:
        obj = await session.read(plural, namespace, name)
        adapter, form, remote_id = _remote(plural, namespace, name, obj)
        cloud = await session.cloud(namespace)
        try:
            if command == "events":
                text = await _events(cloud, adapter, plural, form, remote_id, name, args.limit)
            elif command == "monitor":
                text = await _monitor(cloud, form, remote_id, name)
            else:
                text = await _history(cloud, form, remote_id, name)
        except errors.ModelArtsError as exc:
            raise LogsError(f"ModelArts refused: {exc}") from None
        out.write(text)
    finally:
        await session.aclose()


async def _events(
    cloud: Any, adapter: Any, plural: str, form: str, remote_id: str, name: str, limit: int
) -> str:
    if plural == "trainingjobs" and form == "v1":
        raise LogsError(
            f"trainingjob {name} is a v1 (2020 API) job, which has no event API: "
            "see its log with `kubectl modelarts logs`"
        )
    found = await adapter.remote_events(cloud, remote_id, limit)
    if not found:
        return f"No remote events for {plural.removesuffix('s')}/{name} ({remote_id}).\n"
    rows = [
        [_time(e.at_ms), e.type, " ".join(redact(e.message).split())]
        for e in sorted(found, key=lambda e: e.at_ms or 0)
    ]
    return table(["TIME", "TYPE", "MESSAGE"], rows)


def _share(usage: float | None, total: float | None) -> str:
    if usage is None and total is None:
        return "-"
    return f"{usage or 0:g}/{total or 0:g}"


async def _monitor(cloud: Any, form: str, remote_id: str, name: str) -> str:
    if form == "v2":
        raise LogsError(NO_MONITOR_V2.format(name=name))
    found = await cloud.services.monitor(remote_id)
    rows = [
        [
            f"{m.model_name or m.model_id or '-'} {m.model_version or ''}".strip(),
            m.node_name or m.node_id or "-",
            str(m.invocation_times if m.invocation_times is not None else "-"),
            str(m.failed_times if m.failed_times is not None else "-"),
            _share(m.cpu_core_usage, m.cpu_core_total),
            _share(m.cpu_memory_usage, m.cpu_memory_total),
            _share(m.gpu_usage, m.gpu_total),
        ]
        for m in found.monitors
    ]
    if not rows:
        return f"No monitor figures for service/{name} ({remote_id}).\n"
    # Seed §7.6: CPUs and GPUs in numbers used/total, memory in MB.
    header = ["MODEL", "NODE", "CALLS", "FAILED", "CPU CORES", "MEMORY MB", "GPU"]
    return table(header, rows)


async def _history(cloud: Any, form: str, remote_id: str, name: str) -> str:
    if form == "v2":
        versions = await cloud.services_v2.versions(remote_id, limit=50)
        rows = [
            [
                _time(v.create_at),
                v.version or "-",
                v.id or "-",
                " ".join((v.description or "").split()),
            ]
            for v in sorted(versions.data, key=lambda v: v.create_at or 0)
        ]
        return table(["CREATED", "VERSION", "VERSION-ID", "DESCRIPTION"], rows)
    found = await cloud.services.update_logs(remote_id)
    rows = []
    for entry in sorted(found.logs, key=lambda e: e.update_time or 0):
        config = ", ".join(
            f"{c.model_name or c.model_id} {c.model_version or ''} {c.specification or ''}"
            f" x{c.instance_count or 1} {c.weight if c.weight is not None else '-'}%"
            for c in entry.config or []
        )
        rows.append([_time(entry.update_time), entry.result or "-", " ".join(config.split())])
    if not rows:
        return f"No updates recorded for service/{name} ({remote_id}).\n"
    return table(["TIME", "RESULT", "CONFIG"], rows)


# ------------------------------------------------------------------------------ wiring
def run(args: argparse.Namespace) -> int:
    return exit_code(run_remote(args, out=sys.stdout, environ=dict(os.environ)))


def add_parser(sub: Any) -> None:
    """``monitor`` and ``history``, and ``--remote`` on the ``events`` command ``status_cli``
    registered before (so ``events`` is one command whichever log it reads)."""
    from .status_cli import _common, _run, run_events

    events = sub.choices["events"]
    events.description += (
        " With --remote, the event log ModelArts keeps for a service or a v2 training job, "
        "read from ModelArts with the credentials `logs` uses."
    )
    events.add_argument(
        "--remote", action="store_true",
        help="read the remote object's own event log from ModelArts (service, trainingjob)",
    )  # fmt: skip
    events.add_argument(
        "--limit", type=int, default=50, metavar="N",
        help="--remote: the newest N remote events (default 50)",
    )  # fmt: skip

    def either(args: argparse.Namespace) -> int:
        return run(args) if args.remote else _run(run_events, args)

    events.set_defaults(func=either, remote_command="events")
    monitor = sub.add_parser(
        "monitor",
        help="a v1 service's figures from ModelArts: calls, failures, CPU, memory, GPU",
        description=(
            "The monitor figures of service/NAME per model, read from ModelArts with the "
            "credentials `logs` uses (MODELARTS_* variables, else the namespace's Secret)."
        ),
    )
    history = sub.add_parser(
        "history",
        help="a service's update history from ModelArts (v1 update log, v2 versions)",
        description=(
            "The configuration changes of service/NAME, read from ModelArts: a v1 service's "
            "update log (each change and its result), a v2 service's versions. Credentials as "
            "for `logs` (MODELARTS_* variables, else the namespace's Secret)."
        ),
    )
    for command, parser in (("monitor", monitor), ("history", history)):
        parser.add_argument("target", metavar="service/NAME", help="e.g. service/mnist")
        _common(parser)
        parser.set_defaults(func=run, remote_command=command)
