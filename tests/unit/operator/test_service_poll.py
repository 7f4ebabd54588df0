"""A service that starts running gets its access address and model states from its detail.
The poller reads that detail itself (one GET, one status write in its cycle) unless the
reconcile has work to do on the transition: a mass deploy used to poke every service as it
started running (an annotation write and a kopf update each: 1,000 for 1,000 v1 Services in
`python -m bench scale services 1000`, issue 27)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.resources.service import DECLARATION

EXAMPLES = Path(__file__).parents[3] / "examples"
# The shipped examples of each form, without their exportTo (each case sets its own).
V2 = yaml.safe_load((EXAMPLES / "04-service.yaml").read_text())["spec"]
V1 = yaml.safe_load((EXAMPLES / "v1" / "service-v1.yaml").read_text())["spec"]


@pytest.mark.parametrize(
    ("spec", "by_poller", "why"),
    [
        ({}, True, "nothing to do on Running: the poller's detail"),
        (
            {"exportTo": {"configMapName": "svc-endpoint"}},
            False,
            "the ConfigMap is the reconcile's",
        ),
        ({"stopped": True}, False, "the reconcile stops a service spec.stopped holds"),
        ({"stopped": False}, True, "running as asked"),
    ],
)
@pytest.mark.parametrize("form", [V1, V2], ids=["v1", "v2"])
def test_who_reads_a_running_services_detail(
    form: dict[str, Any], spec: dict[str, Any], by_poller: bool, why: str
) -> None:
    shipped = {k: v for k, v in form.items() if k not in ("exportTo", "stopped")}
    body = {"metadata": {"namespace": "ns", "name": "svc"}, "spec": {**shipped, **spec}}
    entry = Entry("services", "ns", "svc", body)
    found = DECLARATION.form_of(entry)
    assert found is not None
    assert found.name == ("v2" if "v2" in form else "v1")
    adapter = found.adapter
    assert adapter.needs_detail({"phase": "Deploying"}, "Running")
    assert adapter.polls_detail(entry) is by_poller, why
