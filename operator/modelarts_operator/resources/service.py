"""Service: a ModelArts inference service in either of its API forms.

- v2 (``spec.v2``, what the cloud offers today): ``service_v2``; a new configuration version
  is a rolling upgrade.
- v1 (``spec.config``, the 2020 API): ``service_v1``; configuration changes in place.

Both start and stop with ``spec.stopped`` and export their address with ``spec.exportTo``
(``service_common``).
"""

from __future__ import annotations

from ..crd import service as crd
from ..reconcile.kinds import Form, HealthRules, KindDeclaration, RbacRule, Reference
from .service_v1 import ServiceV1Adapter
from .service_v2 import ServiceV2Adapter

DECLARATION = KindDeclaration(
    crd=crd.CRD,
    forms=(
        Form("v2", ServiceV2Adapter(), selects=lambda spec: spec.v2 is not None),
        Form("v1", ServiceV1Adapter()),
    ),
    references=(
        Reference("workspaceRef", "workspaces", ("workspaceId",)),
        Reference("modelRef", "models", ("modelId",)),
        Reference("poolRef", "resourcepools", ("poolId",)),
    ),
    rbac=(
        RbacRule(
            "",
            "configmaps",
            frozenset({"get", "create", "patch"}),
            "spec.exportTo: the ConfigMap with the service's address and ID, owned by the "
            "Service: read it, create it, patch its data. No list/watch/delete (the garbage "
            "collector deletes it with its Service); a patch of a ConfigMap no Service owns is "
            "refused by the chart's ValidatingAdmissionPolicy (admission-policy.yaml)",
        ),
    ),
    health=HealthRules(suspended_when="stopped"),
)
