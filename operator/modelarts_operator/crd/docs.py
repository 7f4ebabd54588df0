"""docs/crd-reference.md generated from the same schemas as the CRDs (one source of truth)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import reasons
from .common import API_VERSION, KindInfo
from .schema import crd_manifest

DOC_PATH = Path("docs") / "crd-reference.md"


def _type(node: dict[str, Any]) -> str:
    kind = node.get("type", "object" if node.get("x-kubernetes-preserve-unknown-fields") else "")
    if kind == "array":
        return f"[]{_type(node.get('items', {}))}"
    if "enum" in node:
        return " \\| ".join(str(v) for v in node["enum"])
    return str(kind)


def _constraints(node: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("maxItems", "max items"),
        ("pattern", "pattern"),
        ("default", "default"),
    ):
        if key in node:
            value = f"`{node[key]}`" if key in ("pattern", "default") else str(node[key])
            parts.append(f"{label} {value}")
    return ", ".join(parts)


def _rows(node: dict[str, Any], prefix: str, required: set[str]) -> list[str]:
    rows = []
    for name, child in (node.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        desc = " ".join(str(child.get("description", "")).split()).replace("|", "\\|")
        flag = " (required)" if name in required else ""
        rows.append(f"| `{path}`{flag} | {_type(child)} | {desc} | {_constraints(child)} |")
        inner = child.get("items", child) if child.get("type") == "array" else child
        rows.extend(
            _rows(
                inner,
                path + ("[]" if child.get("type") == "array" else ""),
                set(inner.get("required", [])),
            )
        )
    return rows


def _rules(node: dict[str, Any], prefix: str) -> list[str]:
    found = [
        f"- `{prefix or 'spec'}`: {r['message']} — `{r['rule']}`"
        for r in node.get("x-kubernetes-validations", [])
    ]
    for name, child in (node.get("properties") or {}).items():
        inner = child.get("items", child) if child.get("type") == "array" else child
        found.extend(_rules(inner, f"{prefix}.{name}" if prefix else name))
    return found


def render_reference(kinds: Iterable[KindInfo]) -> str:
    """The reference of ``kinds``: each one's spec and status fields and its CEL rules."""
    out = [
        "# CRD reference",
        "",
        f"Generated from the pydantic models by `modelarts-operator crds --write`; API version "
        f"`{API_VERSION}`, category `modelarts`. Do not edit by hand.",
        "",
    ]
    for info in kinds:
        crd = crd_manifest(info)
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        spec, status = schema["properties"]["spec"], schema["properties"]["status"]
        out += [
            f"## {info.kind}",
            "",
            " ".join(info.description.split()),
            "",
            f"Short names: {', '.join(f'`{s}`' for s in info.short_names)}. "
            f"Printer columns: {', '.join(c['name'] for c in info.printer_columns)}.",
            "",
            "### spec",
            "",
            "| Field | Type | Description | Constraints |",
            "|---|---|---|---|",
            *_rows(spec, "", set(spec.get("required", []))),
            "",
        ]
        if rules := _rules(spec, ""):
            out += ["Validation rules (CEL, enforced by the API server):", "", *rules, ""]
        out += [
            "### status",
            "",
            "| Field | Type | Description | Constraints |",
            "|---|---|---|---|",
            *_rows(status, "", set()),
            "",
        ]
    return "\n".join([*out, *_reason_tables()])


def _reason_tables() -> list[str]:
    """The reason vocabulary (``reasons.py``) as the reference's last section."""

    def rows(of: tuple[reasons.Reason, ...]) -> list[str]:
        return [f"| `{r.name}` | {r.meaning.value} | {r.when} |" for r in of]

    return [
        "## Condition reasons",
        "",
        "Every kind writes the conditions `Synced`, `Ready` and `Failed`. `Failed` is True, "
        "with the cause's reason, when `Ready=False` has a *failed* reason or `Synced=False` a "
        "*terminal* one; Argo CD's health check (argocd/health.lua) reads the same lists.",
        "",
        "### Synced=False",
        "",
        "*Transient*: the operator gets past it by itself (retries, resumes, waits). "
        "*Terminal*: nothing changes until a person acts. Besides these, a refused request's "
        f"reason is the remote error code (e.g. `ModelArts.0107`): terminal; "
        f"`{reasons.WAITING_FOR}<Kind>` (a referenced object is not Ready yet): transient.",
        "",
        "| Reason | Meaning | When |",
        "|---|---|---|",
        *rows(reasons.SYNCED),
        "",
        "### Ready=False",
        "",
        "*Failed*: the remote object failed for good. *Degraded*: running but partly "
        "unhealthy (Degraded in Argo CD, not Failed: it may recover). *Not ready*: not there "
        f"yet, or stopped. Besides these: the phase, `{reasons.WAITING_FOR}<Kind>`, or the "
        "Synced reason of an object that has no remote object yet.",
        "",
        "| Reason | Meaning | When |",
        "|---|---|---|",
        *rows(reasons.READY),
        "",
    ]
