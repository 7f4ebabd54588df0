"""What `make crds` renders from the kinds' declarations and the reason vocabulary besides the
CRDs: the chart's kind template (RBAC rules, kind names) and the health script's generated
block; a declaration's change reaches them, and a hand edit of either shows as stale."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator import reasons
from modelarts_operator.crd import chart
from modelarts_operator.crd.generate import find_root, stale_files, write_crds
from modelarts_operator.reconcile.kinds import (
    OPERATOR_RULES,
    HealthRules,
    KindDeclaration,
    RbacRule,
    rbac_rules,
)

ROOT = find_root(Path(__file__).parent)
DECLARED = chart.declarations()


def _template_rules(text: str) -> dict[tuple[str, str], set[str]]:
    """The kindRules template's rules as (apiGroup, resource) -> verbs."""
    body = text.split('{{- define "modelarts-operator.kindRules" -}}\n', 1)[1]
    body = body.split("{{- end }}", 1)[0]
    flat: dict[tuple[str, str], set[str]] = {}
    for rule in yaml.safe_load(body):
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert (group, resource) not in flat, f"{resource} granted twice"
                flat[(group, resource)] = set(rule["verbs"])
    return flat


def _kind_rules(kinds: tuple[KindDeclaration, ...]) -> dict[tuple[str, str], set[str]]:
    """What the kinds need (reconcile/kinds.py), without the operator-wide rules."""
    operator_wide = {(r.api_group, r.resource) for r in OPERATOR_RULES}
    return {k: set(v) for k, v in rbac_rules(kinds).items() if k not in operator_wide}


def _with(name: str, **changes: Any) -> tuple[KindDeclaration, ...]:
    return tuple(dataclasses.replace(k, **changes) if k.crd.kind == name else k for k in DECLARED)


def test_the_kind_template_grants_what_the_declarations_need() -> None:
    text = chart.render_kinds_template(DECLARED)
    assert _template_rules(text) == _kind_rules(DECLARED)
    names = text.split('{{- define "modelarts-operator.kinds" -}}\n', 1)[1].split("\n", 1)[0]
    assert names.split() == [k.crd.kind for k in DECLARED]


def test_a_declared_rule_reaches_the_chart_merged_with_another_kinds() -> None:
    extra = RbacRule("", "configmaps", frozenset({"list"}), "lists the ConfigMaps it reads")
    kinds = _with("Workspace", rbac=(extra,))
    text = chart.render_kinds_template(kinds)
    rules = _template_rules(text)
    assert rules == _kind_rules(kinds)
    assert rules[("", "configmaps")] == {"get", "create", "patch", "list"}
    assert "# Workspace: lists the ConfigMaps it reads Service: spec.exportTo" in text


def test_a_declared_health_rule_reaches_the_script() -> None:
    kinds = _with("Workspace", health=HealthRules(suspended_when="suspended"))
    block = chart.health_block(kinds)
    assert '  Workspace = {field = "suspended"},' in block
    assert '  Notebook = {field = "stopped", phase = "Stopped"},' in block
    assert '  Service = {field = "stopped"},' in block


def test_the_script_tables_are_the_vocabularys() -> None:
    block = chart.health_block(DECLARED)
    transient = block.split("local transientReasons = {\n", 1)[1].split("}", 1)[0]
    degraded = block.split("local degradedReasons = {\n", 1)[1].split("}", 1)[0]

    def listed(table: str) -> set[str]:
        return {line.split(" = ")[0].strip() for line in table.splitlines()}

    assert listed(transient) == set(reasons.names(reasons.SYNCED, reasons.Meaning.TRANSIENT))
    assert listed(degraded) == {"Failed", "DeadlineExceeded", "DeletedRemotely", "Degraded"}
    assert f'local waitingPrefix = "{reasons.WAITING_FOR}"' in block


def test_a_phase_rule_needs_its_spec_field() -> None:
    kinds = _with("Workspace", health=HealthRules(suspended_phase="Stopped"))
    with pytest.raises(chart.RenderError, match="Workspace"):
        chart.health_block(kinds)


def test_a_script_without_its_generated_block_is_refused() -> None:
    with pytest.raises(chart.RenderError, match="BEGIN GENERATED"):
        chart.render_health_script("local hs = {}\nreturn hs\n", DECLARED)


def test_a_hand_edit_of_the_generated_files_is_stale(tmp_path: Path) -> None:
    (tmp_path / "argocd").mkdir()
    script = tmp_path / chart.HEALTH_LUA
    script.write_text((ROOT / chart.HEALTH_LUA).read_text())
    write_crds(tmp_path)
    assert stale_files(tmp_path) == []
    script.write_text(script.read_text().replace("  DeleteFailed = true,\n", ""))
    template = tmp_path / chart.KINDS_TEMPLATE
    template.write_text(template.read_text().replace('"workspaces", ', ""))
    # The chart's copy is the rendered script, which the edit did not change.
    assert set(stale_files(tmp_path)) == {script, template}
    write_crds(tmp_path)
    assert stale_files(tmp_path) == []
    assert "  DeleteFailed = true,\n" in script.read_text()
