"""The largest object a CRD's structural schema admits, in JSON bytes: every string at its
maxLength (each character at the most bytes JSON needs for a character its pattern allows),
every list at maxItems, every map at maxProperties with its keys at the bound its CEL rule
gives, every optional field present. What cannot be bounded from the schema (a string, list
or map without a bound, a free-form object) is reported instead of counted.

Bytes per character follow how the API server stores a custom resource (JSON, as Go's
encoding/json writes it): an ASCII letter is 1 byte, a quote or backslash 2 (escaped), a
control character or one of ``<>&`` (HTML-escaped) or U+2028/U+2029 6 (``\\u00XX``), anything
else its UTF-8 length. A pattern's character classes say which characters are possible (an
unanchored pattern allows any character before or after its match)."""

from __future__ import annotations

import json
import re
import re._parser as sre  # the standard library's regular expression parser
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ANY_CHARACTER = 6  # the most bytes one character can take in JSON (\u00XX)
DATE_TIME = len('"2006-01-02T15:04:05.999999999+07:00"')  # RFC 3339 at its longest
NUMBER = len("-9223372036854775808")  # an int64 or a float64's longest text (17 digits + exp)
_SPECIAL = [*range(0x20), ord('"'), ord("\\"), ord("<"), ord(">"), ord("&"), 0x2028, 0x2029]
_MAP_KEY = re.compile(r"size\(k\)\s*<=\s*(\d+)")
_INT_OR_STRING = re.compile(r"size\(string\(self\)\)\s*<=\s*(\d+)")
_MAP_KEY_PATTERN = re.compile(r"k\.matches\('((?:[^'\\]|\\.)*)'\)")


def character_bytes(codepoint: int) -> int:
    """Bytes one character takes in a JSON string as the API server writes it."""
    if codepoint < 0x20 or chr(codepoint) in "<>&" or codepoint in (0x2028, 0x2029):
        return 6
    if chr(codepoint) in '"\\':
        return 2
    return len(chr(codepoint).encode("utf-8", "surrogatepass"))


def _range_bytes(low: int, high: int) -> int:
    inside = [c for c in _SPECIAL if low <= c <= high]
    return max(character_bytes(c) for c in [*inside, low, high])


def _class_bytes(items: list[tuple[Any, Any]]) -> int:
    """The most bytes one character of a character class ``[...]`` can take."""
    if items and items[0][0] is sre.NEGATE:
        return ANY_CHARACTER
    worst = 0
    for op, arg in items:
        if op is sre.LITERAL:
            worst = max(worst, character_bytes(arg))
        elif op is sre.RANGE:
            worst = max(worst, _range_bytes(*arg))
        elif op is sre.CATEGORY:
            # RE2 (Kubernetes' regular expressions): \d and \w are ASCII; \s is [\t\n\f\r ],
            # \f among them (\u000c); the negated ones admit anything.
            digit_or_word = (sre.CATEGORY_DIGIT, sre.CATEGORY_WORD)
            worst = max(worst, 1 if arg in digit_or_word else ANY_CHARACTER)
        else:
            worst = ANY_CHARACTER
    return worst


def _sequence_bytes(tokens: Iterable[tuple[Any, Any]]) -> int:
    worst = 0
    for op, arg in tokens:
        if op is sre.LITERAL:
            worst = max(worst, character_bytes(arg))
        elif op is sre.IN:
            worst = max(worst, _class_bytes(arg))
        elif op in (sre.ANY, sre.NOT_LITERAL):
            worst = ANY_CHARACTER
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            worst = max(worst, _sequence_bytes(arg[2]))
        elif op is sre.SUBPATTERN:
            worst = max(worst, _sequence_bytes(arg[3]))
        elif op is sre.BRANCH:
            worst = max([worst, *(_sequence_bytes(branch) for branch in arg[1])])
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            continue  # a lookaround consumes nothing
    return worst


def pattern_bytes(pattern: str | None) -> int:
    """The most bytes one character of a string matching ``pattern`` can take."""
    if pattern is None:
        return ANY_CHARACTER
    try:
        tokens = list(sre.parse(pattern))
    except re.error:  # RE2 syntax Python lacks (\p{Han}): any character, to be safe
        return ANY_CHARACTER
    anchored = (
        bool(tokens)
        and tokens[0] == (sre.AT, sre.AT_BEGINNING)
        and tokens[-1] == (sre.AT, sre.AT_END)
    )
    if not anchored:
        return ANY_CHARACTER  # anything may come before or after the match
    return _sequence_bytes(tokens)


def _sequence_length(tokens: Iterable[tuple[Any, Any]]) -> float:
    """The most characters a regular expression's tokens can match (inf: unbounded)."""
    total = 0.0
    for op, arg in tokens:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY):
            total += 1
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            most = float("inf") if arg[1] is sre.MAXREPEAT else arg[1]
            total += most * _sequence_length(arg[2]) if most else 0
        elif op is sre.SUBPATTERN:
            total += _sequence_length(arg[3])
        elif op is sre.BRANCH:
            total += max(_sequence_length(branch) for branch in arg[1])
    return total


def pattern_length(pattern: str) -> float:
    """The longest string an anchored ``pattern`` matches (inf when unbounded)."""
    try:
        tokens = list(sre.parse(pattern))
    except re.error:
        return float("inf")
    if not tokens or tokens[0] != (sre.AT, sre.AT_BEGINNING) or tokens[-1] != (sre.AT, sre.AT_END):
        return float("inf")
    return _sequence_length(tokens)


@dataclass
class Measure:
    """A schema's largest admissible JSON, and the paths that have no bound."""

    unbounded: list[str] = field(default_factory=list)
    free_form: list[str] = field(default_factory=list)

    def size(self, node: dict[str, Any], path: str, parent_rules: str = "") -> int:
        """Largest JSON text of a value ``node`` admits (``path`` names it in reports;
        ``parent_rules`` are the CEL rules of the object holding it, which may bound the
        keys of a map as ``self.<field>.all(k, ...)``)."""
        if "enum" in node:
            return max(len(json.dumps(v)) for v in node["enum"])
        if node.get("x-kubernetes-int-or-string"):
            rules = " ".join(r.get("rule", "") for r in node.get("x-kubernetes-validations") or [])
            if found := _INT_OR_STRING.search(rules):
                return max(NUMBER, 2 + int(found.group(1)) * ANY_CHARACTER)
            self.unbounded.append(f"{path} (int-or-string without a size rule)")
            return NUMBER
        kind = node.get("type")
        if kind == "string":
            return self._string(node, path)
        if kind in ("integer", "number"):
            return NUMBER
        if kind == "boolean":
            return len("false")
        if kind == "array":
            return self._array(node, path)
        if node.get("x-kubernetes-preserve-unknown-fields"):
            self.free_form.append(path)
            return len("{}")
        if kind == "object":
            return self._object(node, path, parent_rules)
        raise ValueError(f"{path}: no type in {node}")

    def _string(self, node: dict[str, Any], path: str) -> int:
        if node.get("format") == "date-time" and "maxLength" not in node:
            return DATE_TIME
        if "maxLength" not in node:
            self.unbounded.append(f"{path} (string without maxLength)")
            return 0
        return 2 + int(node["maxLength"]) * pattern_bytes(node.get("pattern"))

    def _array(self, node: dict[str, Any], path: str) -> int:
        item = self.size(node["items"], f"{path}[]")
        if "maxItems" not in node:
            self.unbounded.append(f"{path} (list without maxItems)")
            return 0
        count = int(node["maxItems"])
        return 2 + count * item + max(count - 1, 0)

    def _object(self, node: dict[str, Any], path: str, parent_rules: str = "") -> int:
        rules = _rules(node)
        members = [
            len(json.dumps(name)) + 1 + self.size(value, f"{path}.{name}", _about(rules, name))
            for name, value in (node.get("properties") or {}).items()
        ]
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            if "maxProperties" not in node:
                self.unbounded.append(f"{path} (map without maxProperties)")
            else:
                key = self._map_key(f"{rules} {parent_rules}", path)
                entry = key + 1 + self.size(values, f"{path}{{}}")
                members += [entry] * int(node["maxProperties"])
        return 2 + sum(members) + max(len(members) - 1, 0)

    def field_set(self, node: dict[str, Any]) -> int:
        """Largest JSON of the field set server-side apply records for a value ``node``
        admits (``metadata.managedFields[].fieldsV1``): ``{"f:<name>": {...}}`` for every
        field of an object and every key of a map, ``{}`` for a scalar or a list (lists are
        atomic unless the schema says otherwise)."""
        if node.get("type") != "object" or node.get("x-kubernetes-preserve-unknown-fields"):
            return len("{}")
        members = [
            len(json.dumps(f"f:{name}")) + 1 + self.field_set(value)
            for name, value in (node.get("properties") or {}).items()
        ]
        values = node.get("additionalProperties")
        if isinstance(values, dict) and "maxProperties" in node:
            entry = len('"f:"') + self._map_key(_rules(node), "") - 2 + 1 + self.field_set(values)
            members += [entry] * int(node["maxProperties"])
        return 2 + sum(members) + max(len(members) - 1, 0)

    def _map_key(self, rules: str, path: str) -> int:
        """A map key's largest JSON text: its length and pattern from the map's CEL rules
        (``all(k, ... size(k) <= N ...)``, ``k.matches('<bounded pattern>')``; keys have no
        schema of their own)."""
        found = _MAP_KEY_PATTERN.search(rules)
        pattern = found.group(1).replace("\\\\", "\\") if found else None
        bound = _MAP_KEY.search(rules)
        longest = min(
            float(bound.group(1)) if bound else float("inf"),
            pattern_length(pattern) if pattern else float("inf"),
        )
        if longest == float("inf"):
            self.unbounded.append(f"{path} (map keys without a size(k) rule or bounded pattern)")
            return 0
        return 2 + int(longest) * pattern_bytes(pattern)


def _rules(node: dict[str, Any]) -> str:
    """A schema node's CEL rules, as one text."""
    return " ".join(r.get("rule", "") for r in node.get("x-kubernetes-validations") or [])


def _about(rules: str, field: str) -> str:
    """What of an object's CEL ``rules`` is about its field ``field``'s keys."""
    start = rules.find(f"self.{field}.all(k")
    return rules[start:] if start >= 0 else ""
