"""Published bodies (tests/corpus/) are admitted by a real API server: every file, as it is,
passes the generated CRDs' schemas and CEL rules (a server-side dry run, one control plane
for all), and nothing of it is pruned (issue 23: bodies the cloud accepts were refused at
`kubectl apply`). Their outcome against the emulator is tests/unit/emulator/test_corpus.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_testbed.controlplane import ControlPlane

from .test_admission import NAMESPACE, ROOT, _contains, cluster  # noqa: F401

pytestmark = pytest.mark.cluster

CORPUS = sorted((Path(ROOT) / "tests" / "corpus").glob("*.yaml"))


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_a_published_body_is_admitted_unpruned(
    cluster: ControlPlane,  # noqa: F811
    path: Path,
) -> None:
    sent: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = cluster.kubectl(
        "apply", "--dry-run=server", "-o", "json", "-n", NAMESPACE, "-f", "-",
        input=path.read_text(encoding="utf-8"), check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{path.name} was refused:\n{result.stderr}"
    stored = json.loads(result.stdout)
    assert _contains(stored["spec"], sent["spec"]), f"{path.name}: fields were pruned"


def test_the_corpus_covers_every_kind() -> None:
    kinds = {yaml.safe_load(p.read_text(encoding="utf-8"))["kind"] for p in CORPUS}
    assert kinds == {"TrainingJob", "Service", "Model", "Notebook", "Workspace"}
