"""One node per host: the lock tells a node still running from one that was killed and left
its bridge behind (a killed test run used to make every later node refuse to start)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelarts_testbed.node import NodeError, claim_host


def test_a_second_claim_names_the_lock_and_closing_the_first_frees_the_host(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "node.lock"
    first = claim_host(lock)
    with pytest.raises(NodeError, match=str(lock)):
        claim_host(lock)
    os.close(first)
    os.close(claim_host(lock))


def test_a_lock_file_left_by_a_killed_node_does_not_hold_the_host(tmp_path: Path) -> None:
    lock = tmp_path / "node.lock"
    lock.write_text("")  # the file outlives its process; the flock does not
    os.close(claim_host(lock))
