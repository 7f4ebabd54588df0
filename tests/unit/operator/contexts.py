"""An adapter's Context for tests that call one adapter method directly (create, update,
observe): the object's identity and defaults in one place, the spec, client and refs as the
test gives them."""

from __future__ import annotations

from typing import Any, TypeVar

from modelarts_operator.reconcile.adapter import Context, Refs
from modelarts_operator.reconcile.policies import Policies

SpecT = TypeVar("SpecT")
RefsT = TypeVar("RefsT", bound=Refs)


def adapter_context(
    spec: SpecT,
    refs: RefsT,
    client: Any = None,
    *,
    name: str = "x",
    remote_name: str = "ns_x",
    generation: int = 1,
    status: dict[str, Any] | None = None,
    marker: str = "",
) -> Context[SpecT, RefsT]:
    """The Context a reconcile of ``ns/<name>`` would give the adapter (uid "uid")."""
    return Context(
        namespace="ns",
        name=name,
        generation=generation,
        spec=spec,
        status=status or {},
        annotations={},
        policies=Policies.from_annotations({}),
        client=client,
        remote_name=remote_name,
        refs=refs,
        uid="uid",
        marker=marker,
    )
