"""docs/crd-reference.md is generated from the same models as the CRDs and kept current."""

from __future__ import annotations

from pathlib import Path

from modelarts_operator.crd.docs import DOC_PATH, render_reference
from modelarts_operator.crd.generate import KINDS

ROOT = Path(__file__).resolve().parents[3]


def test_reference_is_current() -> None:
    assert (ROOT / DOC_PATH).read_text() == render_reference(KINDS), (
        "docs/crd-reference.md is stale: run `make crds`"
    )


def test_reference_covers_every_kind_field_and_rule() -> None:
    text = render_reference(KINDS)
    for info in KINDS:
        assert f"## {info.kind}" in text
    assert "| `config.dataUrl` |" in text  # nested TrainingJob field
    assert "| `config[].modelRef.name` (required) |" in text  # Service item reference
    assert "exactly one of modelRef or modelId is required" in text  # a CEL message
