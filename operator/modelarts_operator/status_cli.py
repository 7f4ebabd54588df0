"""``kubectl modelarts status`` and ``kubectl modelarts events`` (also ``modelarts-operator
status|events``): the state of a namespace's ModelArts objects at a glance, and one object's
Kubernetes events, read with the caller's kubeconfig as kubectl would.

``status`` lists every object of the five kinds, failures first: those that failed for good
(``Failed=True``), then those not Synced, then those not Ready yet, then the Ready ones; each
with its phase, its Synced and Ready conditions (reason), its ModelArts ID and the message of
its first condition that is not True. ``events KIND/NAME`` prints the events about one object
(the operator posts one for every remote action and failure, and mirrors a deploying service's
remote events), oldest first; ``remote_cli`` adds ``--remote`` (ModelArts' own event log),
``monitor`` and ``history``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote

from . import GROUP, VERSION


class StatusError(Exception):
    """A failure to explain in one sentence (printed without a traceback)."""


@dataclass(frozen=True)
class KindView:
    """What the commands show of a kind: its names and the status field with its remote ID
    (the printer column kubectl shows as ``<Something>-ID``)."""

    kind: str
    plural: str
    names: frozenset[str]
    remote_id: str | None

    @classmethod
    def of(cls, info: Any) -> KindView:
        id_paths = [
            c["jsonPath"].removeprefix(".status.")
            for c in info.printer_columns
            if c["name"].endswith("-ID") and c["jsonPath"].startswith(".status.")
        ]
        names = {info.kind.lower(), info.plural, *info.short_names}
        names |= {f"{n}.{GROUP}" for n in (info.kind.lower(), info.plural)}
        return cls(info.kind, info.plural, frozenset(names), id_paths[0] if id_paths else None)


def kinds() -> list[KindView]:
    """Every kind the operator declares, in declaration order."""
    from .crd.generate import KINDS

    return [KindView.of(info) for info in KINDS]


def kind_named(name: str, views: Sequence[KindView]) -> KindView:
    for view in views:
        if name.lower() in view.names:
            return view
    known = ", ".join(sorted({v.kind.lower() for v in views}))
    raise StatusError(f"{name!r} is not a ModelArts kind (one of: {known})")


# ------------------------------------------------------------------------------ status
def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return {}


def _verdict(cond: dict[str, Any]) -> str:
    if not cond:
        return "-"
    reason = cond.get("reason") or ""
    return f"{cond.get('status')} {reason}".strip()


@dataclass(frozen=True)
class Row:
    rank: int  # 0 failed, 1 not synced, 2 not ready, 3 ready
    namespace: str
    kind_order: int
    name: str
    cells: tuple[str, ...]
    message: str


RANKS = ("Failed", "not Synced", "not Ready", "Ready")


def row(obj: dict[str, Any], view: KindView, kind_order: int) -> Row:
    status = obj.get("status") or {}
    meta = obj["metadata"]
    synced, ready, failed = (_condition(status, t) for t in ("Synced", "Ready", "Failed"))
    if failed.get("status") == "True":
        rank = 0
    elif synced.get("status") != "True":
        rank = 1
    elif ready.get("status") != "True":
        rank = 2
    else:
        rank = 3
    first_not_true = next(
        (
            c
            for c in (failed if rank == 0 else {}, synced, ready)
            if c and c.get("status") != "True"
        ),
        {},
    )
    remote = str(status.get(view.remote_id) or "-") if view.remote_id else "-"
    cells = (
        f"{view.kind.lower()}/{meta['name']}",
        str(status.get("phase") or "-"),
        _verdict(synced),
        _verdict(ready),
        remote,
    )
    message = " ".join(str(first_not_true.get("message") or "").split())
    return Row(rank, meta.get("namespace", ""), kind_order, meta["name"], cells, message)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns as kubectl prints them: left-aligned, three spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines) + "\n"


def render_status(rows: Sequence[Row], all_namespaces: bool, wide: bool) -> str:
    ordered = sorted(rows, key=lambda r: (r.rank, r.namespace, r.kind_order, r.name))
    header = ["KIND/NAME", "PHASE", "SYNCED", "READY", "REMOTE-ID", "MESSAGE"]
    if all_namespaces:
        header.insert(0, "NAMESPACE")
    cells = []
    for r in ordered:
        message = r.message if wide or len(r.message) <= 70 else r.message[:69] + "…"
        line = [*r.cells, message or "-"]
        if all_namespaces:
            line.insert(0, r.namespace)
        cells.append(line)
    counts = [sum(1 for r in rows if r.rank == i) for i in range(len(RANKS))]
    summary = ", ".join(f"{n} {label}" for n, label in zip(counts, RANKS, strict=True) if n)
    return table(header, cells) + f"\n{len(rows)} objects: {summary}\n"


async def collect(kube: Any, namespace: str | None, views: Sequence[KindView]) -> list[Row]:
    rows: list[Row] = []
    for order, view in enumerate(views):
        scope = f"/namespaces/{namespace}" if namespace else ""
        path = f"/apis/{GROUP}/{VERSION}{scope}/{view.plural}"
        try:
            listed = await kube.get(path)
        except Exception as err:  # KubeError, or a transport error
            status = getattr(err, "status", None)
            if status == 404:
                raise StatusError(
                    f"the API server does not serve {view.plural}.{GROUP}: are the CRDs installed?"
                ) from None
            raise StatusError(f"listing {view.plural} failed: {err}") from None
        rows.extend(row(obj, view, order) for obj in listed.get("items") or [])
    return rows


async def run_status(
    args: argparse.Namespace, *, out: TextIO, kube: Any = None, views: Sequence[KindView] = ()
) -> int:
    """The command; ``kube`` replaces the cluster in tests. Exit status 0 when every object is
    Ready, 1 when one is not (scripts can wait on it), 2 on an error."""
    from .reconcile.kube import context_namespace

    own = kube is None
    if own:
        from .reconcile.kube import KubeClient

        kube = KubeClient.from_environment(args.kubeconfig)
    try:
        namespace = None if args.all_namespaces else (
            args.namespace or context_namespace(args.kubeconfig)
        )  # fmt: skip
        rows = await collect(kube, namespace, views or kinds())
    finally:
        if own:
            await kube.aclose()
    if not rows:
        where = "any namespace" if namespace is None else f"namespace {namespace}"
        out.write(f"No ModelArts objects in {where}.\n")
        return 0
    if args.output == "json":
        out.write(json.dumps([_as_json(r) for r in rows], indent=1) + "\n")
    else:
        out.write(render_status(rows, namespace is None, args.output == "wide"))
    return 0 if all(r.rank == 3 for r in rows) else 1


def _as_json(r: Row) -> dict[str, Any]:
    kind_name, phase, synced, ready, remote = r.cells
    return {
        "namespace": r.namespace,
        "object": kind_name,
        "state": RANKS[r.rank],
        "phase": phase,
        "synced": synced,
        "ready": ready,
        "remoteId": None if remote == "-" else remote,
        "message": r.message,
    }


# ------------------------------------------------------------------------------ events
def _when(event: dict[str, Any]) -> str:
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or event["metadata"].get("creationTimestamp")
        or ""
    )


def _age(stamp: str, now: dt.datetime) -> str:
    try:
        then = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "?"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def render_events(events: Sequence[dict[str, Any]], now: dt.datetime) -> str:
    ordered = sorted(events, key=_when)
    rows = [
        [
            _age(_when(e), now),
            str(e.get("type") or ""),
            str(e.get("reason") or ""),
            str(e.get("count") or 1),
            " ".join(str(e.get("message") or "").split()),
        ]
        for e in ordered
    ]
    return table(["LAST SEEN", "TYPE", "REASON", "COUNT", "MESSAGE"], rows)


def parse_target(target: str, views: Sequence[KindView]) -> tuple[KindView, str]:
    kind, sep, name = target.partition("/")
    if not sep or not kind or not name:
        raise StatusError(f"name the object as KIND/NAME (e.g. trainingjob/mnist), not {target!r}")
    return kind_named(kind, views), name


async def run_events(
    args: argparse.Namespace,
    *,
    out: TextIO,
    kube: Any = None,
    views: Sequence[KindView] = (),
    now: dt.datetime | None = None,
) -> int:
    from .reconcile.kube import KubeError, context_namespace

    view, name = parse_target(args.target, views or kinds())
    namespace = args.namespace or context_namespace(args.kubeconfig)
    own = kube is None
    if own:
        from .reconcile.kube import KubeClient

        kube = KubeClient.from_environment(args.kubeconfig)
    try:
        try:
            obj = await kube.get(
                f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{view.plural}/{name}"
            )
        except KubeError as err:
            if err.status == 404:
                raise StatusError(f"{view.kind.lower()} {namespace}/{name} not found") from None
            raise StatusError(
                f"reading {view.kind.lower()} {namespace}/{name} failed: {err}"
            ) from None
        selector = quote(f"involvedObject.uid={obj['metadata']['uid']}", safe="=")
        listed = await kube.get(f"/api/v1/namespaces/{namespace}/events?fieldSelector={selector}")
    finally:
        if own:
            await kube.aclose()
    events = listed.get("items") or []
    if not events:
        out.write(
            f"No events for {view.kind.lower()}/{name} in {namespace} "
            "(the API server keeps events an hour by default).\n"
        )
        return 0
    out.write(render_events(events, now or dt.datetime.now(dt.UTC)))
    return 0


# ------------------------------------------------------------------------------ wiring
def _run(command: Any, args: argparse.Namespace) -> int:
    try:
        result: int = asyncio.run(command(args, out=sys.stdout))
    except StatusError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    return result


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig context's)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube)")


def add_parser(sub: Any) -> None:
    status = sub.add_parser(
        "status",
        help="every ModelArts object of a namespace: phase, conditions, remote ID; failures first",
        description=(__doc__ or "").split("\n\n")[1],
    )
    _common(status)
    status.add_argument(
        "-A", "--all-namespaces", action="store_true", help="every namespace (adds a column)"
    )
    status.add_argument(
        "-o", "--output", choices=("table", "wide", "json"), default="table",
        help="wide: messages in full; json: one object per row",
    )  # fmt: skip
    status.set_defaults(func=lambda args: _run(run_status, args))
    events = sub.add_parser(
        "events",
        help="the Kubernetes events of one ModelArts object, oldest first (--remote: ModelArts')",
        description="The events about KIND/NAME (kind: e.g. trainingjob, matj, service, notebook).",
    )
    events.add_argument("target", metavar="KIND/NAME", help="e.g. trainingjob/mnist")
    _common(events)
    events.set_defaults(func=lambda args: _run(run_events, args))
