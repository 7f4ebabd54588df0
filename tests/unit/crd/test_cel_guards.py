"""Every CEL rule in the generated CRDs reads an optional field only behind ``has()``.

A rule that reads an absent field fails with "no such key" for every object without it (issue
23: ``bootFile must be inside codeDir`` on a job without bootFile). The check walks each rule's
field accesses (``self.a.b``, ``oldSelf.a``, and the variables of ``all``/``exists``/
``exists_one``/``map``/``filter`` over a list) against the schema the rule sits on: a property
that is neither required nor defaulted must appear in a ``has(...)`` of the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.crd.generate import find_root

ROOT = find_root(Path(__file__).parent)
CRDS = sorted((ROOT / "crds").glob("*.yaml"))
MACRO = re.compile(
    r"((?:self|oldSelf|[a-z]\w*)(?:\.\w+)*)\.(?:all|exists|exists_one|map|filter)\((\w+),"
)
ACCESS = re.compile(r"\b(self|oldSelf|[a-z]\w*)((?:\.\w+)+)")


def _rules(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    for rule in node.get("x-kubernetes-validations", []):
        yield path, node, rule["rule"]
    for key, child in (node.get("properties") or {}).items():
        yield from _rules(child, f"{path}.{key}")
    if isinstance(node.get("items"), dict):
        yield from _rules(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _rules(node["additionalProperties"], f"{path}{{}}")


def _element(node: dict[str, Any]) -> dict[str, Any]:
    """What a macro's variable ranges over: a list's items (a map's keys are strings)."""
    if node.get("type") == "array":
        return dict(node.get("items") or {})
    return {"type": "string"}


def _walk(node: dict[str, Any], fields: list[str]) -> Iterator[tuple[list[str], bool]]:
    """Each step of ``fields`` down from ``node``: (the fields so far, optional?)."""
    for i, name in enumerate(fields):
        properties = node.get("properties") or {}
        if name not in properties:
            return  # a method, a map key or a computed value: not a property read
        child = properties[name]
        optional = name not in (node.get("required") or []) and "default" not in child
        yield fields[: i + 1], optional
        node = child


def unguarded(schema: dict[str, Any], rule: str) -> list[str]:
    """The optional properties ``rule`` reads without a ``has()`` of them."""
    variables: dict[str, dict[str, Any]] = {"self": schema, "oldSelf": schema}
    for chain, var in MACRO.findall(rule):
        head, *fields = chain.split(".")
        node = variables.get(head)
        for name in fields:
            node = ((node or {}).get("properties") or {}).get(name)
        if node is not None:
            variables[var] = _element(node)
    found = []
    for match in ACCESS.finditer(rule):
        head, tail = match.group(1), match.group(2)
        if head not in variables:
            continue
        after = rule[match.end() :]
        fields = tail.lstrip(".").split(".")
        if after.startswith("("):  # ends in a method call: the last name is not a field
            fields = fields[:-1]
        for reached, optional in _walk(variables[head], fields):
            text = ".".join([head, *reached])
            if optional and f"has({text})" not in rule.replace(" ", ""):
                found.append(text)
    return sorted(set(found))


def _all_rules() -> Iterator[Any]:
    for crd in CRDS:
        doc = yaml.safe_load(crd.read_text(encoding="utf-8"))
        schema = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        for path, node, rule in _rules(schema, "spec"):
            yield pytest.param(node, rule, id=f"{crd.name.split('.')[0]}:{path}:{rule[:40]}")


@pytest.mark.parametrize(("node", "rule"), list(_all_rules()))
def test_optional_fields_are_read_behind_has(node: dict[str, Any], rule: str) -> None:
    assert unguarded(node, rule) == [], f"unguarded optional reads in {rule!r}"


def test_the_check_finds_the_bug_of_issue_23() -> None:
    """The rule issue 23 names, as it was: bootFile read without has()."""
    schema = {
        "type": "object",
        "properties": {"codeDir": {"type": "string"}, "bootFile": {"type": "string"}},
    }
    bad = "!has(self.codeDir) || self.bootFile.startsWith(self.codeDir)"
    assert unguarded(schema, bad) == ["self.bootFile"]
    good = "!has(self.codeDir) || !has(self.bootFile) || self.bootFile.startsWith(self.codeDir)"
    assert unguarded(schema, good) == []
    listed = {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}}
    rules = {"type": "object", "properties": {"ps": listed}, "required": ["ps"]}
    assert unguarded(rules, "self.ps.all(p, p.n != '')") == ["p.n"]
    assert unguarded(rules, "self.ps.all(p, !has(p.n) || p.n != '')") == []
