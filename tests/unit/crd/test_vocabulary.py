"""The CRDs speak the cloud's whole vocabulary (issue 23).

The models of the SDKs' request bodies are generated (hack/vocabulary/generate.py) and must
match what is committed; every field of every create, update and tag body of every kind (and
of the 2020 forms' reference tables) must be expressible in the generated CRD, except the
fields of the one committed exclusion list; coverage by field name is at least 95 % per kind
and docs/vocabulary.md records it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modelarts_operator.crd.generate import find_root

ROOT = find_root(Path(__file__).parent)
sys.path.insert(0, str(ROOT / "hack"))

from vocabulary import coverage, generate  # noqa: E402


def test_the_generated_models_are_the_generators_output() -> None:
    assert generate.stale() == [], "run `make vocab` (hack/vocabulary/generate.py)"


@pytest.fixture(scope="module")
def results() -> dict[str, coverage.Coverage]:
    return {r.kind: r for r in coverage.measure_all(ROOT / "crds")}


@pytest.mark.parametrize("kind", [k.name for k in coverage.KINDS])
def test_every_field_the_api_takes_is_expressible(
    kind: str, results: dict[str, coverage.Coverage]
) -> None:
    result = results[kind]
    assert result.missing == [], (
        f"{kind}: fields of the cloud's request bodies the CRD cannot express (add them, or "
        "list them with their reason in hack/vocabulary/exclusions.yaml):\n  "
        + "\n  ".join(result.missing)
    )


@pytest.mark.parametrize("kind", [k.name for k in coverage.KINDS])
def test_coverage_by_name_is_at_least_95_percent(
    kind: str, results: dict[str, coverage.Coverage]
) -> None:
    result = results[kind]
    print(
        f"{kind}: names {result.covered_names}/{result.names} ({result.name_share:.1%}), "
        f"paths {result.covered_paths}/{result.paths} ({result.path_share:.1%})"
    )
    assert result.name_share >= 0.95, f"{kind}: {result.excluded}"


def test_the_recorded_coverage_is_current(results: dict[str, coverage.Coverage]) -> None:
    text = coverage.render_doc([results[k.name] for k in coverage.KINDS])
    assert coverage.DOC.read_text(encoding="utf-8") == text, "run `make vocab`"
