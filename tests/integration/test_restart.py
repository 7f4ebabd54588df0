"""The operator is SIGKILLed in the middle of a create, after ModelArts created the object
but before the operator recorded its ID: after the restart there is exactly one remote
object, bound to the Kubernetes object."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

import pytest

from modelarts_testbed.emulator import models as emulated_models
from modelarts_testbed.emulator import training as emulated_training

from .conftest import (
    OperatorProcess,
    apply,
    delete_obj,
    get_obj,
    namespace,
    ready,
    remote_named,
    wait_for,
)
from .test_lifecycle import model, training_job

pytestmark = pytest.mark.cluster

PENDING = "modelarts.huaweicloud.com/create-pending"


def _kill_after_remote_create(
    operator: OperatorProcess,
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    is_create_answer: Callable[[dict[str, Any]], bool],
    create: Callable[[], None],
) -> None:
    """Hold the emulator's answer to the create (the object exists remotely, the operator
    has not heard back), SIGKILL the operator, release the answer to nobody, restart."""
    created, killed = threading.Event(), threading.Event()
    original = module.reply

    def held_reply(body: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(body, dict) and is_create_answer(body) and not created.is_set():
            created.set()
            killed.wait(20)  # blocks the emulator's loop, as a slow network answer would
        return original(body, *args, **kwargs)

    monkeypatch.setattr(module, "reply", held_reply)
    try:
        create()
        assert created.wait(30), "the operator never sent the create"
        operator.stop(signal.SIGKILL)
    finally:
        killed.set()
        monkeypatch.setattr(module, "reply", original)
        if operator.proc is None:
            operator.start()


def test_sigkill_between_create_and_recorded_id_makes_no_duplicates(
    operator: OperatorProcess, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cp = operator.cp
    ns = namespace(cp, "it-restart")
    _kill_after_remote_create(
        operator,
        monkeypatch,
        emulated_training,
        lambda b: b.get("job_name") == "it-restart_crash" and "job_id" in b,
        lambda: apply(cp, training_job("crash", "it-restart"), ns),
    )
    # The intent was recorded and the ID was not: exactly the window the protocol covers.
    job = get_obj(cp, "trainingjob", "crash", ns) or {}
    assert PENDING in job["metadata"].get("annotations", {})
    assert not (job.get("status") or {}).get("jobId")
    [remote] = remote_named(emulator, "training_job", "it-restart_crash")
    job = wait_for(
        cp,
        "trainingjob",
        "crash",
        ns,
        # The ID and the closed intent arrive in two patches (status, then metadata): wait
        # for both rather than catching the moment between them.
        lambda o: (
            o.get("status", {}).get("jobId") == remote["job_id"]
            and PENDING not in o["metadata"].get("annotations", {})
        ),
        timeout=60,
        op=operator,
    )
    assert job["status"]["jobId"] == remote["job_id"]
    assert len(remote_named(emulator, "training_job", "it-restart_crash")) == 1

    _kill_after_remote_create(
        operator,
        monkeypatch,
        emulated_models,
        lambda b: set(b) == {"model_id"},
        lambda: apply(cp, model("crash-m", "it-restart"), ns),
    )
    m = wait_for(cp, "model", "crash-m", ns, ready, timeout=60, op=operator)
    [remote_model] = remote_named(emulator, "model", "it-restart_crash-m")
    assert m["status"]["modelId"] == remote_model["model_id"]

    delete_obj(cp, "trainingjob", "crash", ns)
    delete_obj(cp, "model", "crash-m", ns)
    assert remote_named(emulator, "training_job", "it-restart_crash") == []
    assert remote_named(emulator, "model", "it-restart_crash-m") == []
