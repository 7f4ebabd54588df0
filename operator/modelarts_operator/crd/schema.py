"""Structural CRD schemas from the pydantic models (the project's controller-gen, its schema half).

pydantic's JSON Schema is turned into a *structural* OpenAPI v3 schema as the API server
requires: ``$ref``/``allOf`` are inlined, ``Optional`` (``anyOf`` with null) collapses to the
non-null branch, ``const`` becomes a one-value ``enum``, titles are dropped, and free-form
objects carry ``x-kubernetes-preserve-unknown-fields``. Anything this translation cannot
express faithfully raises ``SchemaError`` instead of producing a schema the server rejects.
``generate`` writes the manifests and ``docs`` the reference from what this module renders.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from .. import GROUP, VERSION
from .common import CATEGORY, KindInfo

JsonSchema = dict[str, Any]


class SchemaError(ValueError):
    """The pydantic schema uses a construct that has no structural CRD equivalent."""


def _merge(base: JsonSchema, extra: JsonSchema) -> JsonSchema:
    """Merge a referenced/branch schema with the keywords beside it (those win)."""
    out = dict(base)
    for key, value in extra.items():
        if key == "x-kubernetes-validations" and key in out:
            out[key] = [*out[key], *value]
        else:
            out[key] = value
    return out


def _structural(
    node: JsonSchema, defs: dict[str, JsonSchema], *, keep_defaults: bool
) -> JsonSchema:
    """Translate one pydantic JSON Schema node (recursively) into a structural CRD schema."""
    node = dict(node)
    ref = node.pop("$ref", None)
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        node = _merge(defs[name], node)
        return _structural(node, defs, keep_defaults=keep_defaults)
    all_of = node.pop("allOf", None)
    if all_of is not None:
        if len(all_of) != 1:
            raise SchemaError(f"allOf with {len(all_of)} members cannot be made structural")
        return _structural(_merge(all_of[0], node), defs, keep_defaults=keep_defaults)
    any_of = node.pop("anyOf", None)
    if any_of is not None:
        branches = [b for b in any_of if b != {"type": "null"}]
        if sorted(b.get("type", "") for b in branches) == ["integer", "string"]:
            # int | str: the Kubernetes way (an ID that is a number in one API, a UUID in
            # another); no type, and no other constraint can apply to both.
            node.pop("title", None)
            node.pop("default", None)
            return {**node, "x-kubernetes-int-or-string": True}
        if len(branches) != 1:
            raise SchemaError(f"anyOf/union {any_of!r} cannot be made structural")
        return _structural(_merge(branches[0], node), defs, keep_defaults=keep_defaults)
    if "oneOf" in node:
        raise SchemaError("oneOf cannot be made structural; use CEL rules")

    node.pop("title", None)
    if "default" in node and (node["default"] is None or not keep_defaults):
        del node["default"]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in node:
            raise SchemaError(f"{key} is numeric in JSON Schema 2020; use ge/le instead")

    if node.get("x-kubernetes-preserve-unknown-fields"):
        node.pop("additionalProperties", None)
        node.setdefault("type", "object")
    elif node.get("additionalProperties") is True:
        raise SchemaError(
            "a free-form object needs json_schema_extra=FREE_FORM (x-kubernetes-preserve-"
            "unknown-fields) to say it is intended"
        )
    if "type" not in node:
        raise SchemaError(f"schema without a type: {node!r}")

    if "properties" in node:
        node["properties"] = {
            key: _structural(value, defs, keep_defaults=keep_defaults)
            for key, value in node["properties"].items()
        }
    if isinstance(node.get("items"), dict):
        node["items"] = _structural(node["items"], defs, keep_defaults=keep_defaults)
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _structural(
            node["additionalProperties"], defs, keep_defaults=keep_defaults
        )
    return _ordered(node)


_KEY_ORDER = (
    "description",
    "type",
    "format",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "maxProperties",
    "items",
    "properties",
    "required",
    "additionalProperties",
)


def _ordered(node: JsonSchema) -> JsonSchema:
    """Stable, readable key order (description first, CEL rules last)."""
    out = {key: node[key] for key in _KEY_ORDER if key in node}
    out.update({key: value for key, value in node.items() if key not in out})
    if "x-kubernetes-validations" in out:
        out["x-kubernetes-validations"] = [
            {key: rule[key] for key in _RULE_ORDER if key in rule}
            for rule in out["x-kubernetes-validations"]
        ]
    return out


_RULE_ORDER = ("rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf")


def model_schema(model_cls: type[BaseModel], *, keep_defaults: bool = True) -> JsonSchema:
    """The structural OpenAPI v3 schema of one pydantic model (camelCase properties)."""
    raw = copy.deepcopy(model_cls.model_json_schema(by_alias=True, mode="validation"))
    defs = raw.pop("$defs", {})
    return _structural(raw, defs, keep_defaults=keep_defaults)


def crd_manifest(info: KindInfo) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind."""
    spec_schema = model_schema(info.spec)
    status_schema = model_schema(info.status, keep_defaults=False)
    root: JsonSchema = {
        "description": info.description,
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": (
                    "APIVersion defines the versioned schema of this representation of an object."
                ),
                "type": "string",
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": spec_schema,
            "status": status_schema,
        },
        "required": ["spec"],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": info.crd_name,
            "labels": {"app.kubernetes.io/part-of": "modelarts-operator"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in info.printer_columns],
                    "schema": {"openAPIV3Schema": root},
                }
            ],
        },
    }
