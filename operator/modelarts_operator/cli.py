"""The `modelarts-operator` console script: one entry point, one subcommand per job.

Each subsystem registers its own subcommand through an ``add_parser(subparsers)`` function in
a light module, and imports its heavy dependencies only inside the command it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__

Registrar = Callable[[Any], None]


def _registrars() -> list[Registrar]:
    from . import controlplane_cli, demo, logs_cli, runner, status_cli
    from .crd import cli as crd_cli
    from .emulator import cli as emulator_cli

    return [
        runner.add_parser,
        emulator_cli.add_parser,
        crd_cli.add_parser,
        controlplane_cli.add_parser,
        demo.add_parser,
        logs_cli.add_parser,
        status_cli.add_parser,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelarts-operator",
        description="Kubernetes operator for Huawei Cloud ModelArts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _registrars():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int | None = args.func(args)
    return result or 0


if __name__ == "__main__":
    sys.exit(main())
