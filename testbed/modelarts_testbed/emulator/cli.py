"""``modelarts-operator emulator``: serve the ModelArts emulator until interrupted.

Light module: the server is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .config import DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from .config import EmulatorConfig


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "emulator",
        help="serve the ModelArts/IAM/DataArts emulator on loopback",
        description="A stateful stand-in for IAM, ModelArts (v1 and v2 training) and DataArts "
        "models. Every flag also reads EMULATOR_<NAME> (e.g. EMULATOR_PROJECT_ID).",
    )
    p.add_argument("--host", default=None, help=f"listen address (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--speed", type=float, default=None, help="clock speed factor (default 1)")
    p.add_argument("--seed", type=int, default=None, help="seed for IDs, timings and faults")
    p.add_argument("--state-file", default=None, help="persist state to this JSON file")
    p.add_argument("--project-id", default=None)
    p.add_argument("--region", default=None)
    p.add_argument("--ak", default=None)
    p.add_argument("--sk", default=None)
    p.add_argument("--iam-user", default=None)
    p.add_argument("--iam-password", default=None)
    p.add_argument("--iam-domain", default=None)
    p.add_argument("--token-ttl", type=float, default=None, help="token lifetime in seconds")
    p.add_argument(
        "--extra-project",
        action="append",
        default=None,
        metavar="ID:NAME",
        help="another project of the account, with its own objects (repeatable)",
    )
    p.add_argument(
        "--extra-ak-sk",
        action="append",
        default=None,
        metavar="AK:SK",
        help="another accepted AK/SK pair (repeatable)",
    )
    p.add_argument(
        "--idp",
        action="append",
        default=None,
        metavar="ID=JWKS_FILE_OR_URL,audience=CLIENT_ID[,subject=GLOB][,issuer=URL]",
        help="an IAM OIDC identity provider (repeatable); issuer= is needed with a file",
    )
    p.add_argument(
        "--agency",
        action="append",
        default=None,
        metavar="NAME=TRUSTED_GLOB[;TRUSTED_GLOB...]",
        help="an IAM agency and who may assume it: user:<name>, federated:<idp>:<subject>, "
        "agency:<name> (repeatable)",
    )
    p.add_argument(
        "--pod-identity",
        action="append",
        default=None,
        metavar="AGENCY=IDP_ID[,subject=GLOB]",
        help="a CCE Pod Identity association: tokens of that provider get the agency",
    )
    p.add_argument("--metadata-agency", default=None, help="the agency ECS metadata answers for")
    p.add_argument(
        "--credential-ttl",
        type=float,
        default=None,
        help="cap on temporary credentials' lifetime (emulated seconds)",
    )
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The flags over the EMULATOR_* variables over the defaults."""
    from .config import EmulatorConfig, parse_agency, parse_pairs, parse_pod_identity

    return EmulatorConfig.from_env(
        speed=args.speed,
        seed=args.seed,
        state_file=args.state_file,
        project_id=args.project_id,
        region=args.region,
        ak=args.ak,
        sk=args.sk,
        iam_user=args.iam_user,
        iam_password=args.iam_password,
        iam_domain=args.iam_domain,
        token_ttl=args.token_ttl,
        extra_projects=parse_pairs(",".join(args.extra_project)) if args.extra_project else None,
        extra_keys=parse_pairs(",".join(args.extra_ak_sk)) if args.extra_ak_sk else None,
        idps=args.idp,
        agencies=dict(map(parse_agency, args.agency)) if args.agency else None,
        pod_identities=dict(map(parse_pod_identity, args.pod_identity))
        if args.pod_identity
        else None,
        metadata_agency=args.metadata_agency,
        credential_ttl=args.credential_ttl,
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import os
    import signal

    from .server import Emulator

    config = config_from_args(args)
    host = args.host or os.environ.get("EMULATOR_HOST") or DEFAULT_HOST
    port = (
        args.port if args.port is not None else int(os.environ.get("EMULATOR_PORT", DEFAULT_PORT))
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Emulator(config).serve(host, port) as url:
            print(f"ModelArts emulator listening on {url}", flush=True)
            print(f"  endpoint   : {url}  (ModelArts, IAM and DataArts; admin at {url}/_emulator)")
            print(config.describe(), flush=True)
            await stop.wait()
        print("emulator stopped", flush=True)

    asyncio.run(main())
    return 0
