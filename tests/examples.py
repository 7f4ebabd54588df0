"""The example manifests (``examples/``) as tests use them.

The demo's TrainingJob (``examples/02-trainingjob.yaml``) starts from the demo's Algorithm on
its ResourcePool (``algorithmRef``, ``poolRef``). A test that runs the job alone, where neither
exists, uses :func:`standalone_training_job`: the same job with code, engine and a public
flavor of its own (what the example said before it had an Algorithm and a pool).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return doc


def standalone_training_job() -> dict[str, Any]:
    """examples/02-trainingjob.yaml without its references to the Algorithm and the pool."""
    job = example("02-trainingjob.yaml")
    spec = job["spec"]
    del spec["algorithm"]["algorithmRef"]
    spec["algorithm"].update(
        codeDir="obs://demo-bucket/mnist/code/",
        bootFile="obs://demo-bucket/mnist/code/train.py",
        engine={"engineId": "pytorch-cp36-1.4.0-v2"},
    )
    spec["resource"] = {"flavorId": "modelarts.vm.pnt1.large.eco", "nodeCount": 1}
    return job
