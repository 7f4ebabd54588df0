"""A kind in one place: the declaration every part of the operator takes what it needs from.

A kind is its CRD types (``crd/<kind>.py``: spec and status models, names, printer columns,
description) and its adapter (``resources/<kind>.py``: how it maps onto ModelArts). Its
:class:`KindDeclaration` joins them with what the shared machinery needs to know about it:
the references it makes (for re-triggering dependents), the RBAC it needs beyond its own
resource, and the rules Argo CD health applies to it. ``resources.KINDS`` lists the
declarations; the runtime registers handlers and pollers from it, the registry answers
"who references this object" from it, and ``crds`` generates the manifests, the docs, the
chart's RBAC rules and the health script's kind rules from it (``crd/chart.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import GROUP

if TYPE_CHECKING:
    from ..crd.common import KindInfo
    from .controller import RemoteAdapter


@dataclass(frozen=True)
class Reference:
    """A reference this kind makes: ``spec_field: {name}`` (anywhere in the spec) names an
    object of kind ``target`` (plural) in the same namespace; the dependent waits until it is
    Ready and takes ``yields`` from its status."""

    spec_field: str
    target: str
    yields: tuple[str, ...]


@dataclass(frozen=True)
class RbacRule:
    """Kubernetes access the kind needs beyond its own resource, status and finalizers."""

    api_group: str
    resource: str
    verbs: frozenset[str]
    why: str


@dataclass(frozen=True)
class HealthRules:
    """What Argo CD health needs to know about a kind beyond the shared conditions."""

    # A boolean spec field that, when true, makes the object Suspended (stopped on purpose).
    suspended_when: str | None = None
    # A phase that makes the object Suspended once observed at the current generation: stopped
    # outside the operator (a Notebook's lease), which leaves it so until the spec changes.
    suspended_phase: str | None = None


# Every kind's own resource: kopf lists/watches and reads it, patches its annotations and
# finalizer, writes status through the subresource, and (owner references with
# blockOwnerDeletion) updates the finalizers subresource.
OWN_VERBS = frozenset({"get", "list", "watch", "patch", "update"})
STATUS_VERBS = frozenset({"get", "patch", "update"})
FINALIZER_VERBS = frozenset({"update"})


@dataclass(frozen=True)
class KindDeclaration:
    """One kind: its CRD, its adapter, its references, RBAC and health rules."""

    crd: KindInfo
    adapter: RemoteAdapter[Any]
    references: tuple[Reference, ...] = ()
    rbac: tuple[RbacRule, ...] = ()
    health: HealthRules = field(default_factory=HealthRules)

    def __post_init__(self) -> None:
        if (self.crd.kind, self.crd.plural) != (self.adapter.kind.kind, self.adapter.kind.plural):
            raise ValueError(f"{self.crd.kind}: the CRD and the adapter name different kinds")
        if self.crd.status is not self.adapter.status_model:
            raise ValueError(f"{self.crd.kind}: the adapter writes another status model")

    @property
    def plural(self) -> str:
        return self.crd.plural

    def rules(self) -> Iterator[tuple[str, str, frozenset[str]]]:
        """Every (apiGroup, resource, verbs) this kind needs."""
        yield GROUP, self.plural, OWN_VERBS
        yield GROUP, f"{self.plural}/status", STATUS_VERBS
        yield GROUP, f"{self.plural}/finalizers", FINALIZER_VERBS
        for rule in self.rbac:
            yield rule.api_group, rule.resource, rule.verbs


# What the operator needs in every watched namespace whatever its kinds.
OPERATOR_RULES = (
    RbacRule("", "events", frozenset({"create", "patch"}), "events of every action and failure"),
    RbacRule(
        "", "secrets", frozenset({"get", "list", "watch"}), "per-namespace credentials Secrets"
    ),
)


def rbac_rules(kinds: Iterable[KindDeclaration]) -> dict[tuple[str, str], frozenset[str]]:
    """What the operator needs in a watched namespace, as (apiGroup, resource) -> verbs: the
    kinds' rules and the operator-wide ones."""
    rules: dict[tuple[str, str], frozenset[str]] = {}
    wanted = [(r.api_group, r.resource, r.verbs) for r in OPERATOR_RULES]
    for kind in kinds:
        wanted.extend(kind.rules())
    for group, resource, verbs in wanted:
        rules[(group, resource)] = rules.get((group, resource), frozenset()) | verbs
    return rules


def references_to(kinds: Iterable[KindDeclaration], target: str) -> list[tuple[str, str]]:
    """(plural, spec field) of every reference to kind ``target``."""
    return [(k.plural, r.spec_field) for k in kinds for r in k.references if r.target == target]
