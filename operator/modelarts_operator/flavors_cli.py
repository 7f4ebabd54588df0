"""``kubectl modelarts flavors`` (also ``modelarts-operator flavors``): what a spec may name as
its flavor or engine, as the account's ModelArts offers it.

A TrainingJob's ``resource.flavorId``, a Service's ``specification``, a Notebook's ``flavor``
and a training ``engine`` are IDs the cloud hands out per region and account; the 2020 API
reference lists them through "Querying Job Resource Specifications" (§5.4) and "Querying
Supported Service Deployment Specifications" (§7.10), today's through
``GET /v2/{project_id}/training-job-flavors``, ``/training-job-engines``,
``GET /v1/{project_id}/services/specifications`` and ``GET /v1/{project_id}/notebooks/flavors``.

    kubectl modelarts flavors training [--type CPU|GPU|Ascend]
    kubectl modelarts flavors engines
    kubectl modelarts flavors service [--infer-type real-time|batch|edge] [--dedicated]
    kubectl modelarts flavors notebook [--category CPU|GPU|ASCEND]

Credentials as for ``logs``: ``MODELARTS_*`` variables, else the Secret the operator would use
for the namespace (``-n``), read with the caller's kubeconfig.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .api import ModelArtsClient, errors
from .logs_cli import LogsError, Session, exit_code
from .status_cli import table


@dataclass(frozen=True)
class Listing:
    """One catalog: its columns (API field names, shown upper-cased) and how to read it."""

    help: str
    columns: tuple[str, ...]
    read: Callable[[ModelArtsClient, argparse.Namespace], Awaitable[Sequence[Any]]]


async def _training(client: ModelArtsClient, args: argparse.Namespace) -> Sequence[Any]:
    return await client.training_jobs_v2.flavors(flavor_type=args.type)


async def _engines(client: ModelArtsClient, args: argparse.Namespace) -> Sequence[Any]:
    return await client.training_jobs_v2.engines()


async def _service(client: ModelArtsClient, args: argparse.Namespace) -> Sequence[Any]:
    found = await client.services.specifications(
        infer_type=args.infer_type, is_personal_cluster=True if args.dedicated else None
    )
    return found.specifications


async def _notebook(client: ModelArtsClient, args: argparse.Namespace) -> Sequence[Any]:
    return await client.notebooks.flavors(category=args.category)


LISTINGS: dict[str, Listing] = {
    "training": Listing(
        "training job flavors (TrainingJob spec.resource.flavorId)",
        ("flavor_id", "flavor_type", "max_num", "flavor_name"),
        _training,
    ),
    "engines": Listing(
        "training engines (TrainingJob spec.algorithm.engine)",
        ("engine_id", "engine_name", "engine_version", "v1_compatible"),
        _engines,
    ),
    "service": Listing(
        "service deployment specifications (Service config[].specification, the v1 form)",
        ("specification", "spec_status", "billing_spec", "source_type", "is_free"),
        _service,
    ),
    "notebook": Listing(
        "notebook flavors (Notebook spec.flavor)",
        ("id", "category", "arch", "vcpus", "memory", "free", "sold_out"),
        _notebook,
    ),
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render(listing: Listing, items: Sequence[Any], output: str) -> str:
    rows = [{c: getattr(item, c, None) for c in listing.columns} for item in items]
    if output == "json":
        return json.dumps(rows, indent=2) + "\n"
    if not rows:
        return "No flavors offered.\n"
    header = [c.upper() for c in listing.columns]
    return table(header, [[_cell(r[c]) for c in listing.columns] for r in rows])


async def run_flavors(
    args: argparse.Namespace,
    *,
    out: TextIO,
    environ: dict[str, str],
    kube: Any = None,
    client: ModelArtsClient | None = None,
) -> None:
    """The command; ``kube`` and ``client`` replace the cluster and the cloud in tests."""
    listing = LISTINGS[args.catalog]
    session = Session(args.kubeconfig, environ, kube=kube, client=client)
    try:
        namespace = ""
        if not session.has_client:
            from .reconcile.kube import context_namespace

            namespace = args.namespace or context_namespace(args.kubeconfig)
        cloud = await session.cloud(namespace)
        try:
            items = await listing.read(cloud, args)
        except errors.ModelArtsError as exc:
            raise LogsError(f"listing {args.catalog} flavors failed: {exc}") from None
        out.write(render(listing, items, args.output))
    finally:
        await session.aclose()


def run(args: argparse.Namespace) -> int:
    return exit_code(run_flavors(args, out=sys.stdout, environ=dict(os.environ)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "catalog",
        choices=sorted(LISTINGS),
        help="; ".join(f"{name}: {listing.help}" for name, listing in LISTINGS.items()),
    )
    parser.add_argument("--type", choices=("CPU", "GPU", "Ascend"), help="training: flavor type")
    parser.add_argument(
        "--infer-type", choices=("real-time", "batch", "edge"), help="service: inference mode"
    )
    parser.add_argument(
        "--dedicated",
        action="store_true",
        help="service: the specifications of dedicated resource pools",
    )
    parser.add_argument("--category", help="notebook: CPU, GPU or ASCEND")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    parser.add_argument("-n", "--namespace", help="namespace whose credentials to use")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube)")
    parser.set_defaults(func=run)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "flavors",
        help="list the flavors, engines and specifications a spec may name",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
