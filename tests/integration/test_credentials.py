"""Per-namespace credentials: a wrong secret key is reported clearly (and never echoed), and
fixing the Secret is picked up without touching the objects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import (
    OperatorProcess,
    apply,
    condition,
    delete_obj,
    events_for,
    namespace,
    ready,
    remote_named,
    synced,
    wait_for,
    write_secret,
)
from .test_lifecycle import API

pytestmark = pytest.mark.cluster

WRONG_SK = "wrong-sk-7f3e9b1c5d2a4e6f8a0b"


def test_wrong_sk_reported_without_leaking_then_fixed_secret_recovers(
    operator: OperatorProcess, emulator: Any
) -> None:
    cp = operator.cp
    cfg = emulator.config
    ns = namespace(
        cp, "it-creds", {"modelarts.huaweicloud.com/credentials-secret": "team-credentials"}
    )
    write_secret(cp, ns, "team-credentials", {"ak": cfg.ak, "sk": WRONG_SK})
    apply(
        cp,
        {
            "apiVersion": API,
            "kind": "Workspace",
            "metadata": {"name": "team"},
            "spec": {"name": "it-creds"},
        },
        ns,
    )
    ws = wait_for(
        cp,
        "workspace",
        "team",
        ns,
        lambda o: condition(o, "Synced").get("status") == "False",
        op=operator,
    )
    cond = condition(ws, "Synced")
    assert cond["reason"].startswith("ModelArts.02"), cond  # an authentication code
    assert cond["message"]
    assert remote_named(emulator, "workspace", "it-creds") == []
    events = events_for(cp, ns, "team")
    assert any(e["type"] == "Warning" for e in events)
    for text in (json.dumps(ws), json.dumps(events), operator.log()):
        assert WRONG_SK not in text
        assert cfg.sk not in text

    # Fix the Secret: the object recovers on its own (no edit of the Workspace).
    write_secret(cp, ns, "team-credentials", {"ak": cfg.ak, "sk": cfg.sk})
    ws = wait_for(cp, "workspace", "team", ns, lambda o: synced(o) and ready(o), op=operator)
    assert len(remote_named(emulator, "workspace", "it-creds")) == 1
    assert cfg.sk not in operator.log()
    delete_obj(cp, "workspace", "team", ns)
