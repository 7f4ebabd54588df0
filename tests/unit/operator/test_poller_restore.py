"""After a failed list call the poller marks its objects Synced=False ("listing … failed") and
gives each its Synced verdict back with the first good list. Which view of the object it
decides from matters: the registry's view can predate the poller's own blinding write (the
watch lags under load), and a patch from that view changes nothing — the object stayed
Synced=False "listing trainingjobs failed: ConnectError" for good (seen in a full CI run)."""

from __future__ import annotations

from typing import Any

from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.poller import Blinding, _restore
from modelarts_operator.reconcile.registry import Entry
from modelarts_operator.reconcile.status import Verdict

SYNCED = cond.set_condition(None, cond.SYNCED, True, "Synced", "", 1)
BLINDED = cond.set_condition(
    None, cond.SYNCED, False, "Unavailable", "listing trainingjobs failed: ConnectError", 1
)
NEWER = cond.set_condition(None, cond.SYNCED, False, "InvalidSpec", "spec.config: bad", 2)


def view(conditions: list[dict[str, Any]]) -> Entry:
    body = {"metadata": {"name": "j", "namespace": "ns"}, "status": {"conditions": conditions}}
    return Entry("trainingjobs", "ns", "j", body)


def prior() -> Blinding:
    found = cond.get_condition(SYNCED, cond.SYNCED)
    assert found is not None
    return Blinding(found)


def test_a_view_showing_the_blinding_gets_the_verdict_back() -> None:
    assert _restore(view(BLINDED), prior()) == Verdict(True, "Synced", "")


def test_a_view_from_before_the_blinding_leaves_synced_to_the_reconcile() -> None:
    # The registry still shows Synced=True: restoring "True" onto it is an empty patch.
    assert _restore(view(SYNCED), prior()) is None


def test_nothing_to_give_back_leaves_synced_to_the_reconcile() -> None:
    assert _restore(view(BLINDED), Blinding(None)) is None


def test_a_reconciles_newer_verdict_is_left_alone() -> None:
    assert _restore(view(NEWER), prior()) is None
