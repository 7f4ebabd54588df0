"""A kind in one place: the declaration every part of the operator takes what it needs from.

A kind is its CRD types (``crd/<kind>.py``: spec and status models, names, printer columns,
description) and its forms (``resources/``: how each API form maps onto ModelArts, one
adapter each). Its :class:`KindDeclaration` joins them with what the shared machinery needs to
know about it: which form an object is in (a selector on its spec), the references it makes
(for re-triggering dependents), the RBAC it needs beyond its own resource, and the rules Argo
CD health applies to it. A kind with forms still has one CRD, one status model, one poller and
one set of kopf handlers. ``resources.KINDS`` lists the declarations; the runtime registers
handlers and pollers from it, the registry answers "who references this object" from it, and
``crds`` generates the manifests, the docs, the chart's RBAC rules and the health script's
kind rules from it (``crd/chart.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .. import GROUP
from ..crd.common import KindInfo
from .adapter import RemoteAdapter
from .kube import Kind
from .registry import Entry


@dataclass(frozen=True)
class Reference:
    """A reference this kind makes: ``spec_field: {name}`` (anywhere in the spec) names an
    object of kind ``target`` (plural) in the same namespace; the dependent waits until it is
    Ready (or only until its status has ``yields``, see ``needs_ready``) and takes ``yields``
    from its status."""

    spec_field: str
    target: str
    yields: tuple[str, ...]
    # False: the dependent needs only ``yields`` recorded (the remote object exists), not the
    # target Ready (a visualization job's jobRef: the training job may still be running).
    needs_ready: bool = True


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
# What the teams that use the kinds get (the chart's aggregated tenant ClusterRoles): read them,
# and write them (spec, metadata: the policy annotations). Never the status or finalizers
# subresources: a status names the remote object the operator acts on, and the operator checks
# it, but a tenant has no business writing it; nor deletecollection (least privilege).
TENANT_VIEW_VERBS = frozenset({"get", "list", "watch"})
TENANT_EDIT_VERBS = TENANT_VIEW_VERBS | {"create", "update", "patch", "delete"}


@dataclass(frozen=True)
class Form:
    """One API form of a kind: the objects it serves (``selects``, a test on the parsed spec;
    None for the form that serves the rest) and its adapter."""

    name: str
    adapter: RemoteAdapter[Any, Any]
    selects: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class KindDeclaration:
    """One kind: its CRD, its forms, its references, RBAC and health rules."""

    crd: KindInfo
    forms: tuple[Form, ...]
    references: tuple[Reference, ...] = ()
    rbac: tuple[RbacRule, ...] = ()
    health: HealthRules = field(default_factory=HealthRules)

    def __post_init__(self) -> None:
        kind = self.crd.kind
        if not self.forms or self.forms[-1].selects is not None:
            raise ValueError(f"{kind}: the last form serves what the others do not (no selector)")
        if any(form.selects is None for form in self.forms[:-1]):
            raise ValueError(f"{kind}: only the last form may go without a selector")
        for form in self.forms:
            adapter = form.adapter
            if (kind, self.crd.plural) != (adapter.kind.kind, adapter.kind.plural):
                raise ValueError(f"{kind}: the CRD and form {form.name} name different kinds")
            if adapter.spec_model is not self.crd.spec:
                raise ValueError(f"{kind}: form {form.name} reads another spec model")
            if adapter.status_model is not self.crd.status:
                raise ValueError(f"{kind}: form {form.name} writes another status model")
            if adapter.id_field != self.id_field:
                raise ValueError(f"{kind}: form {form.name} records its ID elsewhere")

    def form_for(self, spec: Any) -> Form:
        """The form an object with ``spec`` (its parsed spec) is in."""
        return next(f for f in self.forms if f.selects is None or f.selects(spec))

    def form_of(self, entry: Entry) -> Form | None:
        """The form a watched object is in (None when its spec does not validate: its
        reconcile says InvalidSpec, and polling leaves it alone).

        The same selector as ``form_for``, on the parsed spec, decided once per view of the
        object (a new watch event makes a new Entry): 0.08 s for 10,000 v2 TrainingJobs, then
        nothing in later cycles. The parsed spec is not kept (~6 KB a v2 TrainingJob, 61 MB
        at 10,000): the poller's adapters read the few spec fields they need from the
        entry."""
        if entry.form_name is None:
            try:
                spec = self.crd.spec.model_validate(entry.spec)
            except ValidationError:
                entry.form_name = ""
            else:
                entry.form_name = self.form_for(spec).name
        return next((f for f in self.forms if f.name == entry.form_name), None)

    @property
    def plural(self) -> str:
        return self.crd.plural

    @property
    def id_field(self) -> str:
        """The status key of the remote ID (every form's)."""
        return self.forms[0].adapter.id_field

    @property
    def resource(self) -> Kind:
        """Where its objects live in the Kubernetes API."""
        return Kind(self.crd.kind, self.crd.plural)

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
    """(plural, spec field) of every reference that waits for kind ``target`` to be Ready
    (those that need only its ID are ``references_recorded``'s)."""
    return [
        (k.plural, r.spec_field)
        for k in kinds
        for r in k.references
        if r.target == target and r.needs_ready
    ]


def references_recorded(
    kinds: Iterable[KindDeclaration],
    target: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> list[tuple[str, str]]:
    """(plural, spec field) of the references to kind ``target`` that need only its recorded
    ``yields``, and that the status change ``before`` → ``after`` just satisfied."""
    return [
        (k.plural, r.spec_field)
        for k in kinds
        for r in k.references
        if r.target == target
        and not r.needs_ready
        and all(after.get(y) for y in r.yields)
        and not all(before.get(y) for y in r.yields)
    ]
