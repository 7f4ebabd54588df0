"""The `modelarts-operator` console script: one entry point, one subcommand per job.

Each subsystem registers its own subcommand through an ``add_parser(subparsers)`` function in
a light module, and imports its heavy dependencies only inside the command it runs. The test
bed's commands (emulator, cluster, node, demo) come from the ``modelarts-testbed`` distribution
when it is installed; without it (the operator's image) they answer with what to install.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__

Registrar = Callable[[Any], None]


def _kubectl_registrars() -> list[Registrar]:
    """The commands of ``kubectl modelarts`` (``remote_cli`` after ``status_cli``: it adds
    ``--remote`` to ``events``)."""
    from . import flavors_cli, logs_cli, remote_cli, status_cli

    return [
        logs_cli.add_parser,
        status_cli.add_parser,
        remote_cli.add_parser,
        flavors_cli.add_parser,
    ]


def _registrars() -> list[Registrar]:
    from . import runner
    from .crd import cli as crd_cli

    return [
        runner.add_parser,
        crd_cli.add_parser,
        *_kubectl_registrars(),
        *_testbed_registrars(),
    ]


def _testbed_registrars() -> list[Registrar]:
    try:
        from modelarts_testbed.cli import registrars
    except ImportError:
        return [_absent(name) for name in ("emulator", "cluster", "node", "demo")]
    return registrars()


def _absent(name: str) -> Registrar:
    """A subcommand of the test bed, which this installation does not have."""

    def run(args: argparse.Namespace) -> int:
        print(
            f"modelarts-operator {name}: part of the test bed (the modelarts-testbed "
            "distribution: `make venv` in a checkout installs it); this installation has the "
            "operator alone",
            file=sys.stderr,
        )
        return 2

    def register(sub: Any) -> None:
        # No prefix characters: every argument, options included, is taken as it comes.
        parser = sub.add_parser(
            name, help="(test bed, not installed)", add_help=False, prefix_chars="\0"
        )
        parser.add_argument("rest", nargs="*")
        parser.set_defaults(func=run)

    return register


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


def plugin_main(argv: Sequence[str] | None = None) -> int:
    """``kubectl-modelarts``: kubectl runs it for ``kubectl modelarts COMMAND ...`` (logs,
    status, events, monitor, history, flavors)."""
    parser = argparse.ArgumentParser(prog="kubectl modelarts", description="ModelArts for kubectl.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _kubectl_registrars():
        register(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int | None = args.func(args)
    return result or 0


if __name__ == "__main__":
    sys.exit(main())
