"""The spec-size budget (``modelarts_operator.sizes``), computed from the committed CRDs: the
largest object each kind's schema admits, in each of its API forms, counted as the API server
stores it (``worst_case.py``), fits the spec's share of etcd's 1.5 MiB, and its status fits the
status' share. Issue 24 measured a v2 Service spec of ~2.8 MB (at one byte a character) that
the API server accepts and the operator could never finish."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator import sizes
from modelarts_operator.crd.model import IMPORT_FIELDS
from modelarts_operator.crd.training_v2 import V2_FIELDS

from .worst_case import Measure, character_bytes, pattern_bytes

CRDS = Path(__file__).resolve().parents[3] / "crds"
KIB = 1024

# Each kind's forms, as the spec fields only that form may set (CEL rules say so: the forms
# exclude each other), so an object's worst case is the common fields and one form's.
FORMS: dict[str, dict[str, frozenset[str]]] = {
    "models": {"llm": frozenset({"llm"}), "imported": frozenset(IMPORT_FIELDS)},
    "trainingjobs": {"v1": frozenset({"config"}), "v2": frozenset(V2_FIELDS)},
    "services": {
        "v2": frozenset({"v2"}),
        # crd/service.py: "has(self.v2) != has(self.config)", "... != has(self.inferType)",
        # "!has(self.v2) || !(has(self.vpcId) || has(self.clusterId) || ...)".
        "v1": frozenset(
            {"config", "inferType", "vpcId", "clusterId", "additionalProperties", "schedule"}
        ),
    },
}

# Free-form JSON fields: no schema bounds them; the reconcile's size check does
# (sizes.oversized), and the API server's own limit.
FREE_FORM = {
    "models": {"spec.apis[].inputParams", "spec.apis[].outputParams"},
    "services": {
        "spec.config[].mappingRule",
        "spec.config[].additionalProperties",
        "spec.additionalProperties",
    },
}


def _schema(plural: str) -> dict[str, Any]:
    crd = yaml.safe_load((CRDS / f"{plural}.modelarts.huaweicloud.com.yaml").read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


PLURALS = sorted(p.name.split(".")[0] for p in CRDS.glob("*.yaml"))
SHAPES = [(plural, form) for plural in PLURALS for form in (FORMS.get(plural) or {"": frozenset()})]


def _form_spec(plural: str, form: str) -> dict[str, Any]:
    """The spec schema without the fields of the kind's other forms."""
    spec = _schema(plural)["properties"]["spec"]
    forms = FORMS.get(plural, {})
    others = frozenset().union(*(fields for name, fields in forms.items() if name != form))
    assert others <= set(spec["properties"]), f"{plural}: FORMS names fields the CRD lacks"
    return {**spec, "properties": {k: v for k, v in spec["properties"].items() if k not in others}}


@pytest.mark.parametrize(("plural", "form"), SHAPES)
def test_the_largest_spec_of_every_form_fits_the_budget(plural: str, form: str) -> None:
    measure = Measure()
    worst = measure.size(_form_spec(plural, form), "spec")
    assert measure.unbounded == [], f"{plural} {form}: unbounded {measure.unbounded}"
    assert worst <= sizes.SPEC_BUDGET, (
        f"{plural} {form}: the largest admissible spec is {worst // KIB} KiB, over the "
        f"budget of {sizes.SPEC_BUDGET // KIB} KiB"
    )


@pytest.mark.parametrize("plural", PLURALS)
def test_the_largest_status_fits_the_budget(plural: str) -> None:
    """What the operator writes (the status writer cuts a remote text to the schema)."""
    measure = Measure()
    worst = measure.size(_schema(plural)["properties"]["status"], "status")
    assert measure.unbounded == [], measure.unbounded
    assert measure.free_form == []
    assert worst <= sizes.STATUS_BUDGET, f"{plural}: status up to {worst // KIB} KiB"


@pytest.mark.parametrize("plural", PLURALS)
def test_free_form_fields_are_the_known_ones(plural: str) -> None:
    """A new free-form field is bounded by nothing but the reconcile's size check: adding one
    is a decision, made here."""
    measure = Measure()
    measure.size(_schema(plural)["properties"]["spec"], "spec")
    assert set(measure.free_form) == FREE_FORM.get(plural, set())


def test_the_shares_add_up_to_what_etcd_takes() -> None:
    shares = (
        sizes.SPEC_BUDGET,
        sizes.STATUS_BUDGET,
        sizes.BOOKKEEPING,
        sizes.ANNOTATIONS_AND_LABELS,
        sizes.METADATA,
    )
    assert sum(shares) <= sizes.ETCD_LIMIT == 1_572_864


# -- the measure itself ---------------------------------------------------------------------


def test_a_character_costs_what_go_writes_for_it() -> None:
    """Go's encoding/json, which writes what etcd stores: HTML characters and control
    characters as \\u00XX, quotes and backslashes escaped, the rest as UTF-8."""
    for text in ("a", '"', "\\", "<", "&", "\x01", "\n", "é", "中", "😀", "\u2028"):
        go = json.dumps(text, ensure_ascii=False)[1:-1]
        go = go.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        go = go.replace("\u2028", "\\u2028").replace("\n", "\\n")
        assert character_bytes(ord(text)) == len(go.encode()) or text == "\n", text
    assert character_bytes(ord("\n")) == 6  # \u000a at the worst (Go writes \n: 2)
    assert sizes.stored_size("<a>") == len('"\\u003ca\\u003e"')


@pytest.mark.parametrize(
    ("pattern", "worst"),
    [
        (r"^[a-z0-9-]{1,63}$", 1),
        (r"^[A-Za-z0-9_\u4e00-\u9fa5-]{1,64}$", 3),  # Chinese characters: 3 bytes in UTF-8
        (r"^[^<>]*$", 6),  # a negated class admits control characters
        (r"^(obs:/)?/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/", 6),  # unanchored: anything after
        (r"^https?://", 6),
        (None, 6),
    ],
)
def test_a_pattern_says_which_characters_can_occur(pattern: str | None, worst: int) -> None:
    assert pattern_bytes(pattern) == worst


def test_the_worst_case_counts_every_bound() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 4, "pattern": "^[a-z]+$"},
            "tags": {"type": "array", "maxItems": 2, "items": {"type": "boolean"}},
            "env": {
                "type": "object",
                "maxProperties": 1,
                "additionalProperties": {"type": "string", "maxLength": 2},
                "x-kubernetes-validations": [{"rule": "self.all(k, size(k) <= 3)"}],
            },
        },
    }
    largest = {"name": "abcd", "tags": [False, False], "env": {"<<<": "<<"}}
    assert Measure().size(schema, "x") == sizes.stored_size(largest)
    unbounded = Measure()
    unbounded.size({"type": "object", "properties": {"s": {"type": "string"}}}, "x")
    assert unbounded.unbounded == ["x.s (string without maxLength)"]
