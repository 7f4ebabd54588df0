"""Generate the operator's models of the cloud's request bodies from the official SDKs.

Like ACK's code generator and Upjet, the spec models are produced from the provider's own API
model at development time and the output is committed:
``operator/modelarts_operator/vocab/<family>.py`` holds one pydantic class per SDK request
class of the family (``sdk.FAMILIES``), with every field the SDK has (less the committed
exclusions), its JSON name, its type and required-ness. The SDK is imported here only: the
operator imports the generated modules, never the SDK.

What the SDK does not say in a machine-readable form comes from three committed tables:

- ``descriptions.yaml``: the English description of every field, translated from the SDK's
  Chinese docstring, keyed by that docstring's digest (a changed docstring is noticed);
- ``rules.yaml``: constraints (lengths, patterns, enums, ranges, CEL rules), each with the
  evidence that the cloud states it, and the operator's size budget where the cloud states none
  (labelled as such in the generated comment);
- ``exclusions.yaml``: the fields left out on purpose, with their reason.

Run ``python hack/vocabulary/generate.py`` (``make vocab``) to rewrite the modules, ``--check``
to fail when they are stale (the unit tests do the same).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import keyword
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from vocabulary import sdk
else:
    from . import sdk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT_DIR = ROOT / "operator" / "modelarts_operator" / "vocab"
SDK_VERSION = "3.1.219"

# The operator's size budget where the cloud states no bound (DESIGN "Sizes"): every string,
# list and map is bounded so that the largest admissible object fits etcd and the
# annotations (kubectl's last-applied-configuration and kopf's last-handled-configuration
# each hold a copy of the spec). Chosen generously for real values; rules.yaml tightens or
# widens them per field.
BUDGET_ID = 128
BUDGET_PATH = 512
BUDGET_TEXT = 512
BUDGET_COMMAND = 2048
BUDGET_STRING = 128
BUDGET_ITEMS = 8
BUDGET_MAP = 16
BUDGET_MAP_KEY = 64
BUDGET_MAP_VALUE = 256

PATHLIKE = ("path", "url", "uri", "dir", "address", "script", "file")


class TableError(ValueError):
    """The committed tables do not cover the SDK, or name something the SDK lacks."""


def python_name(item: sdk.SdkField) -> str:
    """The generated model's name of a field: its JSON name, or the SDK's attribute name where
    the JSON name is no Python name (the pool API's ``os.modelarts/name`` labels)."""
    wire = item.wire
    return wire if wire.isidentifier() and not keyword.iskeyword(wire) else item.attr


def digest(text: str) -> str:
    """The key of a docstring in descriptions.yaml ("" for a field without one)."""
    return hashlib.sha1(text.encode()).hexdigest()[:8] if text else ""  # noqa: S324


def camel(name: str) -> str:
    """A JSON name as the CRD spells it: camelCase (names already camelCase are kept)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass
class Tables:
    descriptions: dict[str, dict[str, str]]
    rules: dict[str, dict[str, Any]]
    exclusions: dict[str, dict[str, str]]
    used_descriptions: set[str] = field(default_factory=set)

    @classmethod
    def load(cls) -> Tables:
        def read(name: str) -> Any:
            return yaml.safe_load((HERE / name).read_text(encoding="utf-8")) or {}

        descriptions = read("descriptions.yaml")
        for key, entry in descriptions.items():
            if not isinstance(entry.get("zh"), str) or not isinstance(entry.get("en"), str):
                raise TableError(f"descriptions.yaml {key}: zh and en must be strings")
        rules = read("rules.yaml")
        exclusions = {name: dict(value or {}) for name, value in read("exclusions.yaml").items()}
        return cls(descriptions, rules, exclusions)

    def excluded(self, family: sdk.Family) -> frozenset[str]:
        return frozenset(self.exclusions.get(family.name, {}))

    def family_rules(self, family: sdk.Family) -> dict[str, Any]:
        return dict(self.rules.get(family.name) or {})

    def describe(self, item: sdk.SdkField) -> str:
        key = digest(item.doc)
        if key:
            for name, entry in self.descriptions.items():
                if entry["zh"] == key:
                    self.used_descriptions.add(name)
                    return entry["en"]
            raise TableError(f"no English description for {item.key} (zh digest {key})")
        entry = self.descriptions.get(item.key)
        if entry is None or entry["zh"] != "":
            raise TableError(f"no English description for {item.key} (the SDK has none)")
        self.used_descriptions.add(item.key)
        return entry["en"]


# ---------------------------------------------------------------------------- emitting
def _literal(values: list[Any]) -> str:
    if any(isinstance(v, bool) or not isinstance(v, str | int) for v in values):
        raise TableError(f"enum values must be strings or integers (quote ON/OFF): {values}")
    return "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"


def _pystr(text: str, indent: int, prefix: int = 0) -> str:
    """A string literal, split into implicitly concatenated chunks that fit 100 columns
    (``prefix``: the characters before it on its first line, e.g. ``description=``)."""
    width = max(40, 96 - indent)
    if len(json.dumps(text)) + prefix <= width:
        return json.dumps(text)
    chunks = textwrap.wrap(text, width - 4, drop_whitespace=False, break_on_hyphens=False)
    pad = " " * indent
    return "(\n" + "\n".join(pad + "    " + json.dumps(c) for c in chunks) + "\n" + pad + ")"


def _budget_for(name: str, kind: str) -> int:
    if kind == "items":
        return BUDGET_ITEMS
    if kind == "map":
        return BUDGET_MAP
    lowered = name.lower()
    if lowered in ("cmd", "command", "pre_stop_cmd") or lowered.endswith("_cmd"):
        return BUDGET_COMMAND
    if lowered == "id" or lowered.endswith(("_id", "_ids")):
        return BUDGET_ID
    if any(part in lowered for part in PATHLIKE):
        return BUDGET_PATH
    if "desc" in lowered:
        return BUDGET_TEXT
    return BUDGET_STRING


@dataclass
class Emitted:
    annotation: str
    kwargs: list[str]
    comments: list[str]
    aliases: list[str]  # module-level type aliases this field needs


class Emitter:
    def __init__(self, family: sdk.Family, tables: Tables) -> None:
        self.family = family
        self.tables = tables
        self.rules = tables.family_rules(family)
        self.budgets: dict[str, int] = dict(self.rules.pop("budgets", None) or {})
        self.used_budgets: set[str] = set()
        self.extras: dict[str, dict[str, Any]] = dict(self.rules.pop("extras", None) or {})
        self.used_extras: set[str] = set()
        self.excluded = tables.excluded(family)
        self.classes = sdk.classes(family, self.excluded)
        self.used_rules: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.keyed = False  # a class has JSON names that are not Python names

    # -- rules
    def rule(self, key: str) -> dict[str, Any]:
        entry = self.rules.get(key)
        if entry is None:
            return {}
        self.used_rules.add(key)
        return dict(entry)

    def _source(self, rule: dict[str, Any]) -> str:
        source = rule.get("source")
        if not source:
            raise TableError(f"a rule without a source in {self.family.name}: {rule}")
        return str(source)

    # -- types
    def _bound(
        self, key: str, what: str, cloud: int | None, default: int
    ) -> tuple[int, str | None]:
        """A size bound: the cloud's where it states one and the budget is not tighter, else
        the budget of ``key`` in rules.yaml ``budgets``, else ``default``; with the comment
        that says it is the operator's budget (None for the cloud's own bound)."""
        budget = self.budgets.get(key)
        if budget is not None:
            self.used_budgets.add(key)
        if cloud is not None and (budget is None or budget >= cloud):
            return cloud, None
        if budget is not None:
            note = f"{what} {budget}: operator size budget"
            return budget, note + (f", tighter than the cloud's {cloud}" if cloud else "")
        return default, f"{what} {default}: operator size budget, not a cloud rule"

    @staticmethod
    def _alias_name(key: str) -> str:
        """``Job.kind`` -> ``JobKind``, ``VolumeMountRequest.category`` ->
        ``VolumeMountRequestCategory``."""
        owner, wire = key.removesuffix("[]").split(".", 1)
        field = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", camel(wire)))
        return owner + field

    def _enum_alias(self, key: str, values: list[Any]) -> str:
        """A module-level name for an enum (``Job.kind`` -> ``JobKind``), so that the CRD
        modules that compose these models can use the same type."""
        alias = self._alias_name(key)
        if alias in self.aliases and self.aliases[alias] != _literal(values):
            raise TableError(f"two enums named {alias}")
        self.aliases[alias] = _literal(values)
        return alias

    def _scalar(self, typ: str, name: str, rule: dict[str, Any], prefix: str, key: str) -> Emitted:
        """The annotation and Field arguments of a primitive (or of a list's items: ``prefix``
        "item_", ``key`` ends with "[]")."""
        kwargs: list[str] = []
        comments: list[str] = []
        aliases: list[str] = []
        enum = rule.get(f"{prefix}enum")
        if typ == "str" and rule.get(f"{prefix}ci_enum"):
            values = list(rule[f"{prefix}ci_enum"])
            alias = self._alias_name(key)
            pattern = "(?i)^(" + "|".join(re.escape(v) for v in values) + ")$"
            longest = max(len(v) for v in values)
            self.aliases[alias] = (
                f"Annotated[str, Field(pattern={pattern!r}, max_length={longest}), "
                f"AfterValidator(spelled({', '.join(json.dumps(v) for v in values)}))]"
            )
            aliases.append(alias)
            comments.append(
                f"one of {', '.join(values)} in any case, sent as spelled here: "
                + self._source(rule)
            )
            return Emitted(alias, kwargs, comments, aliases)
        if enum:
            alias = self._enum_alias(key, list(enum))
            return Emitted(alias, kwargs, [f"enum: {self._source(rule)}"], aliases)
        if typ == "str":
            stated = [k for k in ("min_length", "max_length", "pattern") if f"{prefix}{k}" in rule]
            if f"{prefix}min_length" in rule:
                kwargs.append(f"min_length={rule[f'{prefix}min_length']!r}")
            size, note = self._bound(
                key, "maxLength", rule.get(f"{prefix}max_length"), _budget_for(name, "str")
            )
            kwargs.append(f"max_length={size}")
            if f"{prefix}pattern" in rule:
                kwargs.append(f"pattern={rule[f'{prefix}pattern']!r}")
            if stated:
                comments.append(f"{', '.join(stated)}: {self._source(rule)}")
            if note:
                comments.append(note)
            return Emitted("str", kwargs, comments, aliases)
        annotation = {"int": "int", "float": "float", "bool": "bool"}.get(typ)
        if annotation is None:
            raise TableError(f"unsupported SDK type {typ} ({self.family.name} {name})")
        bounds = [k for k in ("ge", "le") if f"{prefix}{k}" in rule]
        for bound in bounds:
            kwargs.append(f"{bound}={rule[f'{prefix}{bound}']!r}")
        if bounds:
            comments.append(f"{' and '.join(bounds)}: {self._source(rule)}")
        return Emitted(annotation, kwargs, comments, aliases)

    def _string_map(
        self, item: sdk.SdkField, typ: str, where: str, rule: dict[str, Any], comments: list[str]
    ) -> str:
        """The annotation of a list's items that are string maps (``list[dict(str, str)]``):
        values bounded as a map field's are (``Class.field[]{}`` in the budgets), entries by
        the map budget; each item described (a structural schema's object needs it)."""
        if sdk.inner_type(typ) != "str":
            raise TableError(f"maps of {sdk.inner_type(typ)} are not supported ({item.key})")
        value_max, value_note = self._bound(
            item.key + where + "{}", "items' values maxLength", None, BUDGET_MAP_VALUE
        )
        entries, entries_note = self._bound(
            item.key + where, "items' maxProperties", None, BUDGET_MAP
        )
        key_max, key_note = self._bound(
            item.key + where + "{k}", "items' keys maxLength", None, BUDGET_MAP_KEY
        )
        comments += [n for n in (value_note, entries_note, key_note) if n]
        described = json.dumps(f"One entry of {item.wire}: names and values.")
        keys = {
            "x-kubernetes-validations": [
                {
                    "rule": f"self.all(k, size(k) <= {key_max})",
                    "message": f"keys are at most {key_max} characters",
                }
            ]
        }
        return (
            f"Annotated[dict[str, Annotated[str, Field(max_length={value_max})]], "
            f"Field(max_length={entries}, description={described}, json_schema_extra={keys!r})]"
        )

    def _field(self, item: sdk.SdkField, extra: dict[str, Any] | None = None) -> str:
        """One field's source: comments, then ``name: T = Field(...)``. ``extra``: a field the
        cloud takes that the SDK's model lacks (rules.yaml ``extras``)."""
        rule = dict(extra) if extra is not None else self.rule(item.key)
        typ = item.type
        kwargs: list[str] = []
        comments: list[str] = []
        extras: dict[str, Any] = {}
        cel: list[dict[str, str]] = []
        if typ.startswith("list["):
            inner = typ[5:-1]
            if inner in sdk.PRIMITIVES:
                element = self._scalar(inner, item.wire, rule, "item_", item.key + "[]")
                inner_ann = element.annotation
                if element.kwargs:
                    inner_ann = f"Annotated[{inner_ann}, Field({', '.join(element.kwargs)})]"
                comments += [f"items: {c}" for c in element.comments]
            elif inner.startswith("dict("):
                inner_ann = self._string_map(item, inner, "[]", rule, comments)
            elif sdk.is_model(self.family.package, inner):
                inner_ann = inner
            else:
                inner_ann = _literal(list(sdk.enum_values(self.family.package, inner)))
            annotation = f"list[{inner_ann}]"
            size, note = self._bound(item.key, "maxItems", rule.get("max_items"), BUDGET_ITEMS)
            kwargs.append(f"max_length={size}")
            if "min_items" in rule:
                kwargs.append(f"min_length={rule['min_items']}")
            if "max_items" in rule or "min_items" in rule:
                comments.append(f"item count: {self._source(rule)}")
            if note:
                comments.append(note)
        elif typ.startswith("dict("):
            value_type = sdk.inner_type(typ)
            if value_type != "str":
                raise TableError(f"maps of {value_type} are not supported ({item.key})")
            value_max, value_note = self._bound(
                item.key + "{}", "values maxLength", rule.get("value_max_length"), BUDGET_MAP_VALUE
            )
            annotation = f"dict[str, Annotated[str, Field(max_length={value_max})]]"
            entries, entries_note = self._bound(
                item.key, "maxProperties", rule.get("max_properties"), BUDGET_MAP
            )
            kwargs.append(f"max_length={entries}")
            key_max, key_note = self._bound(
                item.key + "{k}", "keys maxLength", rule.get("key_max_length"), BUDGET_MAP_KEY
            )
            key_rule = f"size(k) <= {key_max}"
            message = f"keys are at most {key_max} characters"
            if "key_pattern" in rule:
                key_rule += f" && k.matches({json.dumps(rule['key_pattern'])})"
                message += f" and match {rule['key_pattern']}"
            cel.append({"rule": f"self.all(k, {key_rule})", "message": message})
            stated = [
                k
                for k in ("max_properties", "key_max_length", "key_pattern", "value_max_length")
                if k in rule
            ]
            if stated:
                comments.append(f"{', '.join(stated)}: {self._source(rule)}")
            comments += [n for n in (entries_note, key_note, value_note) if n]
        elif typ in sdk.PRIMITIVES:
            element = self._scalar(typ, item.wire, rule, "", item.key)
            annotation = element.annotation
            kwargs += element.kwargs
            comments += element.comments
        elif sdk.is_model(self.family.package, typ):
            annotation = typ
        else:
            annotation = _literal(list(sdk.enum_values(self.family.package, typ)))
            comments.append(f"enum: the SDK's enum class {typ}")
        for entry in rule.get("cel", []):
            cel.append({k: entry[k] for k in ("rule", "message") if k in entry})
            source = entry.get("source") or self._source(rule)
            comments.append(f"CEL {entry['message']!r}: {source}")
        if cel:
            extras["x-kubernetes-validations"] = cel
        required = (item.required or bool(rule.get("required"))) and not rule.get("optional")
        required = required and "default" not in rule
        if rule.get("required") and not item.required:
            comments.append(f"required although the SDK marks it optional: {rule['required']}")
        if "default" in rule:
            comments.append(f"default {rule['default']!r}: {self._source(rule)}")
        if item.required and rule.get("optional"):
            comments.append(f"optional although the SDK marks it required: {rule['optional']}")
        if extra is not None:
            comments.insert(0, f"not in the SDK's model; the cloud takes it: {extra['source']}")
            description = str(extra["en"])
        else:
            description = self.tables.describe(item)
        lines = [f"    # {c}" for c in comments]
        args = [] if required else [f"default={rule.get('default')!r}"]
        args += kwargs
        if extras:
            args.append(f"json_schema_extra={extras!r}")
        args.append(f"description={_pystr(description, 8, len('description='))}")
        if not required and "default" not in rule:
            annotation = f"{annotation} | None"
        lines.append(f"    {python_name(item)}: {annotation} = Field({', '.join(args)})")
        return "\n".join(lines)

    def _class(self, name: str) -> str:
        rule = self.rule(name)
        fields = [f for f in sdk.fields_of(self.family.package, name) if f.key not in self.excluded]
        doc = f"``{name}`` of the SDK ({self.family.package.split('.')[0]} {SDK_VERSION})."
        renamed = {python_name(f): f.wire for f in fields if python_name(f) != f.wire}
        base = "KeyedModel" if renamed else "SdkModel"
        out = [f"class {name}({base}):", f'    """{doc}"""', ""]
        if renamed:
            self.keyed = True
            out += [f"    wire_names: ClassVar[dict[str, str]] = {renamed!r}", ""]
        cel = rule.get("cel", [])
        if cel:
            out.append("    model_config = ConfigDict(")
            out.append("        json_schema_extra={")
            out.append('            "x-kubernetes-validations": [')
            for entry in cel:
                out.append(f"                # {entry['source']}")
                rendered = {k: entry[k] for k in ("rule", "message", "fieldPath") if k in entry}
                out.append(f"                {rendered!r},")
            out.append("            ]")
            out.append("        }")
            out.append("    )")
            out.append("")
        for item in fields:
            out.append(self._field(item))
        for key, extra in self.extras.items():
            owner, wire = key.split(".", 1)
            if owner == name:
                self.used_extras.add(key)
                synthetic = sdk.SdkField(owner, wire, wire, str(extra["type"]), False, "")
                out.append(self._field(synthetic, extra))
        return "\n".join(out)

    def render(self) -> str:
        classes = [self._class(name) for name in self.classes]
        stale = {k for k in self.rules if k not in self.used_rules}
        stale |= {f"budgets {k}" for k in self.budgets if k not in self.used_budgets}
        stale |= {f"extras {k}" for k in self.extras if k not in self.used_extras}
        if stale:
            raise TableError(f"rules.yaml {self.family.name}: no such SDK field/class: {stale}")
        title = textwrap.wrap(
            f'"""The SDK\'s request models of {self.family.title}, generated.', 96
        )
        header = [
            *title,
            "",
            f"Generated by hack/vocabulary/generate.py from {self.family.package} {SDK_VERSION}",
            "and the committed tables beside it; do not edit: change the tables and regenerate.",
            'Python names are the API\'s JSON names; the CRD spells them in camelCase."""',
            "",
            "from __future__ import annotations",
            "",
            "from typing import Annotated, ClassVar, Literal"
            if self.keyed
            else "from typing import Annotated, Literal",
            "",
            "from pydantic import AfterValidator, ConfigDict, Field",
            "",
            "from .base import KeyedModel, SdkModel, spelled"
            if self.keyed
            else "from .base import SdkModel, spelled",
            "",
            "__all__ = [" + ", ".join(json.dumps(c) for c in self.classes) + "]",
            "",
        ]
        aliases = [f"{name} = {value}" for name, value in sorted(self.aliases.items())]
        body = "\n\n\n".join(classes)
        rebuild = "\n".join(f"{c}.model_rebuild()" for c in self.classes)
        return "\n".join(header + aliases) + "\n\n\n" + body + "\n\n\n" + rebuild + "\n"


def _format(text: str) -> str:
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "format", "--stdin-filename", "generated.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    fixed = subprocess.run(
        [str(ruff), "check", "--fix", "--quiet", "--stdin-filename", "generated.py", "-"],
        input=done.stdout,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return fixed.stdout or done.stdout


def render_all() -> dict[Path, str]:
    """Every generated module's path and text."""
    tables = Tables.load()
    out = {}
    for family in sdk.FAMILIES:
        out[OUT_DIR / f"{family.name}.py"] = _format(Emitter(family, tables).render())
    unused = set(tables.descriptions) - tables.used_descriptions
    if unused:
        raise TableError(f"descriptions.yaml entries no SDK field uses: {sorted(unused)}")
    extra = set(tables.exclusions) - {f.name for f in sdk.FAMILIES}
    if extra:
        raise TableError(f"exclusions.yaml: unknown families {extra}")
    for family in sdk.FAMILIES:
        known = {f.key for name in sdk.classes(family) for f in sdk.fields_of(family.package, name)}
        missing = tables.excluded(family) - known
        if missing:
            raise TableError(f"exclusions.yaml {family.name}: no such SDK field {missing}")
    return out


def stale() -> list[Path]:
    return [
        path
        for path, text in render_all().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the output is stale")
    args = parser.parse_args(argv)
    if args.check:
        old = stale()
        for path in old:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if old else 0
    for path, text in render_all().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
