"""The test bed's subcommands of the ``modelarts-operator`` console script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def registrars() -> list[Callable[[Any], None]]:
    from . import controlplane_cli, demo
    from .emulator import cli as emulator_cli

    return [emulator_cli.add_parser, controlplane_cli.add_parser, demo.add_parser]
