"""The operator's image has no test bed: its commands answer with what to install instead of
argparse's "invalid choice" or an ImportError traceback."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import pytest

from modelarts_operator import cli


def test_without_the_test_bed_its_commands_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = builtins.__import__

    def no_testbed(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("modelarts_testbed"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "modelarts_testbed.cli", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_testbed)
    assert cli.main(["demo", "--fast"]) == 2
    err = capsys.readouterr().err
    assert "modelarts-operator demo: part of the test bed" in err
    assert "modelarts-testbed" in err
    # The operator's own commands are all there.
    choices = cli.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"run", "crds", "logs", "status", "emulator", "cluster", "node", "demo"} <= set(choices)


def test_with_the_test_bed_its_commands_are_its_own() -> None:
    choices = cli.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert "--port" in choices["emulator"].format_help()  # the emulator's own options
    assert "--state-dir" in choices["cluster"].format_help()
