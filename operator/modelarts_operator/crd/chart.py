"""What the chart and the Argo CD health script take from the kinds' declarations and the
reason vocabulary, rendered by ``crds --write`` (``make crds``) like the CRDs, and checked for
drift by ``crds --check`` and the tests:

- ``helm/modelarts-operator/templates/_kinds.tpl``: the RBAC rules the kinds need in a watched
  namespace (``modelarts-operator.kindRules``, included by ``_helpers.tpl``), the rules of the
  tenants' view and edit ClusterRoles (``modelarts-operator.tenantViewRules`` and
  ``tenantEditRules``, included by ``tenant-roles.yaml``) and the kinds' names
  (``modelarts-operator.kinds``: the argocd-cm keys of ``argocd-health.yaml``);
- the generated block of ``argocd/health.lua``: which Synced reasons are transient, which
  Ready reasons are Degraded (``reasons.py``), and which kinds can be Suspended by which spec
  field or phase (each declaration's ``HealthRules``). The rest of the script is written by
  hand; the chart ships a byte copy of the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import GROUP, reasons

if TYPE_CHECKING:
    from ..reconcile.kinds import KindDeclaration

HEALTH_LUA = Path("argocd/health.lua")
# Helm packages only the chart's own directory, so the chart ships a copy of the script.
CHART_HEALTH_LUA = Path("helm/modelarts-operator/files/argocd/health.lua")
KINDS_TEMPLATE = Path("helm/modelarts-operator/templates/_kinds.tpl")

BEGIN = "-- BEGIN GENERATED"
END = "-- END GENERATED"
_LUA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Verbs in the order Kubernetes documents them, for stable output.
_VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


class RenderError(ValueError):
    """A source cannot be rendered (a script without its generated block, a bad name)."""


def declarations() -> tuple[KindDeclaration, ...]:
    """Every kind's declaration (``resources.KINDS``)."""
    from ..resources import KINDS

    return tuple(KINDS)


# --- the health script's generated block -------------------------------------------------


def _lua_set(names: Iterable[str]) -> list[str]:
    lines = []
    for name in sorted(set(names)):
        if not _LUA_NAME.match(name):
            raise RenderError(f"{name!r} is not a Lua name")
        lines.append(f"  {name} = true,")
    return lines


def health_block(kinds: Sequence[KindDeclaration]) -> str:
    """The generated block of the health script (its markers included)."""
    transient = reasons.names(reasons.SYNCED, reasons.Meaning.TRANSIENT)
    degraded = reasons.names(reasons.READY, reasons.Meaning.FAILED, reasons.Meaning.DEGRADED)
    suspendable = []
    for kind in sorted(kinds, key=lambda k: k.crd.kind):
        rules = kind.health
        if rules.suspended_when is None:
            if rules.suspended_phase is not None:  # the script's message names the field
                raise RenderError(f"{kind.crd.kind}: suspended_phase needs suspended_when")
            continue
        fields = [f'field = "{rules.suspended_when}"']
        if rules.suspended_phase is not None:
            fields.append(f'phase = "{rules.suspended_phase}"')
        suspendable.append(f"  {kind.crd.kind} = {{{', '.join(fields)}}},")
    return "\n".join(
        [
            f"{BEGIN} by `make crds` from operator/modelarts_operator/reasons.py and the",
            "-- kinds' declarations (HealthRules): change those and regenerate, not this block.",
            "-- Synced=False reasons the operator gets past by itself (and WaitingFor<Kind>).",
            "local transientReasons = {",
            *_lua_set(transient),
            "}",
            f'local waitingPrefix = "{reasons.WAITING_FOR}"',
            "-- Ready=False reasons of a remote object that failed or is partly unhealthy.",
            "local degradedReasons = {",
            *_lua_set(degraded),
            "}",
            "-- Kinds that can be Suspended: the boolean spec field that stops one on purpose, and",
            "-- the phase of one stopped outside the operator, which leaves it so (counted once",
            "-- observed at the current generation).",
            "local suspendable = {",
            *suspendable,
            "}",
            END,
        ]
    )


def render_health_script(source: str, kinds: Sequence[KindDeclaration]) -> str:
    """``source`` with its generated block rendered anew (the rest kept as written)."""
    start = source.find(BEGIN)
    end = source.find(END, start)
    if start < 0 or end < 0 or (start > 0 and source[start - 1] != "\n"):
        raise RenderError(f"the health script has no block from {BEGIN!r} to {END!r}")
    return source[:start] + health_block(kinds) + source[end + len(END) :]


# --- the chart's kind template --------------------------------------------------------------


def _verbs(verbs: Iterable[str]) -> str:
    rank = {verb: i for i, verb in enumerate(_VERB_ORDER)}
    ordered = sorted(verbs, key=lambda v: (rank.get(v, len(rank)), v))
    return "[" + ", ".join(f'"{v}"' for v in ordered) + "]"


def _rule(why: str, group: str, resources: Sequence[str], verbs: Iterable[str]) -> list[str]:
    names = ", ".join(f'"{r}"' for r in resources)
    return [
        *_comment(why),
        f'- apiGroups: ["{group}"]',
        f"  resources: [{names}]",
        f"  verbs: {_verbs(verbs)}",
    ]


def _comment(text: str, width: int = 96) -> list[str]:
    lines, line = [], "#"
    for word in text.split():
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "#"
        line += " " + word
    return [*lines, line]


def kind_rules(kinds: Sequence[KindDeclaration]) -> list[str]:
    """The RBAC rules of the kinds, as YAML lines: their own resources (one rule each for the
    objects, their status and their finalizers), then what each kind declares beyond them,
    merged where kinds ask for the same resource."""
    from ..reconcile.kinds import FINALIZER_VERBS, OWN_VERBS, STATUS_VERBS

    plurals = [k.plural for k in kinds]
    lines = [
        *_rule(
            "The custom resources: kopf watches them (list/watch), reads one (get), and writes "
            "its bookkeeping annotations and finalizer to the object (patch; update for "
            "finalizers).",
            GROUP,
            plurals,
            OWN_VERBS,
        ),
        *_rule(
            "Status is written through the status subresource.",
            GROUP,
            [f"{p}/status" for p in plurals],
            STATUS_VERBS,
        ),
        *_rule(
            "Owner references with blockOwnerDeletion (a Service owns its exportTo ConfigMap) "
            "need update on the owner's finalizers subresource.",
            GROUP,
            [f"{p}/finalizers" for p in plurals],
            FINALIZER_VERBS,
        ),
    ]
    extra: dict[tuple[str, str], tuple[list[str], set[str]]] = {}
    for kind in kinds:
        for rule in kind.rbac:
            whys, verbs = extra.setdefault((rule.api_group, rule.resource), ([], set()))
            whys.append(f"{kind.crd.kind}: {rule.why}")
            verbs |= rule.verbs
    for (group, resource), (whys, verbs) in extra.items():
        lines += _rule(" ".join(whys), group, [resource], verbs)
    return lines


def tenant_rules(kinds: Sequence[KindDeclaration], edit: bool) -> list[str]:
    """The rules of the tenants' view (``edit`` False) or edit ClusterRole, as YAML lines:
    the kinds themselves, never their status or finalizers subresources."""
    from ..reconcile.kinds import TENANT_EDIT_VERBS, TENANT_VIEW_VERBS

    plurals = [k.plural for k in kinds]
    if edit:
        why = (
            "Write the kinds (spec, labels, annotations: the management policies); not their "
            "status (it names the remote object the operator acts on) nor finalizers."
        )
        return _rule(why, GROUP, plurals, TENANT_EDIT_VERBS)
    why = "Read the kinds (status included, through the object itself)."
    return _rule(why, GROUP, plurals, TENANT_VIEW_VERBS)


def render_kinds_template(kinds: Sequence[KindDeclaration]) -> str:
    """templates/_kinds.tpl: the kinds' names and RBAC rules as named templates."""
    names = " ".join(k.crd.kind for k in kinds)
    return "\n".join(
        [
            "{{- /*",
            "Generated by `modelarts-operator crds --write` (make crds) from the kinds'",
            "declarations (operator/modelarts_operator/resources/, reconcile/kinds.py).",
            "Do not edit: change a declaration and regenerate.",
            "*/ -}}",
            "",
            "{{- /* The kinds, space-separated: Argo CD health keys (argocd-health.yaml). */ -}}",
            '{{- define "modelarts-operator.kinds" -}}',
            names,
            "{{- end }}",
            "",
            "{{- /* What the kinds need in a served namespace (see namespacedRules). */ -}}",
            '{{- define "modelarts-operator.kindRules" -}}',
            *kind_rules(kinds),
            "{{- end }}",
            "",
            "{{- /* The tenants' view and edit ClusterRoles (tenant-roles.yaml). */ -}}",
            '{{- define "modelarts-operator.tenantViewRules" -}}',
            *tenant_rules(kinds, edit=False),
            "{{- end }}",
            "",
            '{{- define "modelarts-operator.tenantEditRules" -}}',
            *tenant_rules(kinds, edit=True),
            "{{- end }}",
            "",
        ]
    )


def generated(root: Path) -> list[tuple[Path, str]]:
    """Every file this module renders under ``root``, with its text. A root without the
    health script (a bare CRD output directory) gets the chart template only."""
    kinds = declarations()
    files = [(root / KINDS_TEMPLATE, render_kinds_template(kinds))]
    source = root / HEALTH_LUA
    if source.is_file():
        script = render_health_script(source.read_text(encoding="utf-8"), kinds)
        files += [(source, script), (root / CHART_HEALTH_LUA, script)]
    return files
