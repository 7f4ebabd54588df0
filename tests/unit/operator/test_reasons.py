"""The reason vocabulary (reasons.py) knows every reason the code can write, names none that
nothing writes, and the status writer and the failure mapping read it: a reason added to the
code without its entry fails here, and so does an entry left behind."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelarts_operator import reasons
from modelarts_operator.api import errors
from modelarts_operator.reconcile import conditions as cond
from modelarts_operator.reconcile.controller import InvalidSpec, ProjectChanged
from modelarts_operator.reconcile.credentials import CredentialsError
from modelarts_operator.reconcile.failures import classify
from modelarts_operator.reconcile.status import failed_verdict
from modelarts_operator.resources import KINDS

PACKAGE = Path(reasons.__file__).parent
# The code that writes conditions: the shared reconcile machinery and the kinds' adapters.
PRODUCERS = ("reconcile", "resources")
# Calls whose positional argument at this index is a condition reason.
POSITIONAL = {"Verdict": 1, "Refusal": 0, "Waiting": 0}
# Keywords that carry a condition reason (an error_code the operator sets itself becomes the
# Synced reason of its refusal). Events have reasons of their own and are not conditions.
KEYWORDS = ("reason", "error_code")
NOT_CONDITIONS = ("event",)
# Literals that look like reasons and are never written: Observation's default (no reason of
# its own: the phase is the reason), and the poller's UNKNOWN, a Verdict compared by identity
# that stands for "no Synced verdict to give back".
NEVER_WRITTEN = {"", "Unknown"}


def _strings(node: ast.expr) -> Iterator[str]:
    """The reasons a literal expression can evaluate to: a string, either branch of a
    conditional, or an f-string as its leading text followed by ``{}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.JoinedStr):
        head = node.values[0] if node.values else None
        prefix = head.value if isinstance(head, ast.Constant) else ""
        yield f"{prefix}{{}}"


def _assigned(target: ast.expr, value: ast.expr) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        for t, v in zip(target.elts, value.elts, strict=False):
            yield from _assigned(t, v)
    else:
        yield target, value


def _named_reason(target: ast.expr) -> bool:
    return (isinstance(target, ast.Name) and target.id == "reason") or (
        isinstance(target, ast.Attribute) and target.attr == "reason"
    )


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def literal_reasons() -> dict[str, set[str]]:
    """Every literal reason in the producers' code -> the files it is written in."""
    found: dict[str, set[str]] = {}
    for directory in PRODUCERS:
        for path in sorted((PACKAGE / directory).glob("*.py")):
            where = str(path.relative_to(PACKAGE))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                values: list[ast.expr] = []
                if isinstance(node, ast.Call) and _call_name(node) not in NOT_CONDITIONS:
                    index = POSITIONAL.get(_call_name(node))
                    if index is not None and len(node.args) > index:
                        values.append(node.args[index])
                    values += [k.value for k in node.keywords if k.arg in KEYWORDS]
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        values += [v for t, v in _assigned(target, node.value) if _named_reason(t)]
                elif isinstance(node, ast.AnnAssign) and node.value and _named_reason(node.target):
                    values.append(node.value)
                for value in values:
                    for reason in _strings(value):
                        found.setdefault(reason, set()).add(where)
    return found


def _subclasses(cls: type[errors.ModelArtsError]) -> Iterator[type[errors.ModelArtsError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


# Every failed-call class, the kinds' own (resources/ is imported above) included.
ERROR_CLASSES = sorted(set(_subclasses(errors.ModelArtsError)), key=lambda c: c.__name__)
OPERATOR_ERRORS = (InvalidSpec("bad"), ProjectChanged("moved"), CredentialsError("no Secret"))


def _class_reason(cls: type[errors.ModelArtsError]) -> str:
    return classify(cls(error_msg="x")).synced.reason


def test_every_literal_reason_in_the_code_is_in_the_vocabulary() -> None:
    found = literal_reasons()
    unknown = {
        reason: where
        for reason, where in found.items()
        if reason not in NEVER_WRITTEN
        and not (reasons.is_known(reason) or reason == f"{reasons.WAITING_FOR}{{}}")
    }
    assert not unknown, f"add these to reasons.py (and what they mean): {unknown}"


def test_the_scan_sees_every_way_the_code_writes_a_reason() -> None:
    """A Verdict, a Refusal, a Waiting, an Observation's reason, an assignment, a conditional
    and an error code the operator sets itself: if one of these is no longer seen, the scan
    above has gone blind to it."""
    found = literal_reasons()
    assert {
        "DeleteFailed",  # Verdict(False, "DeleteFailed", ...)
        "Paused",
        "NameTaken",  # Refusal("NameTaken", ...)
        "ConfigMapNotOwned",
        "WaitingForWorkspace",  # Waiting("WaitingForWorkspace", ...)
        "WaitingFor{}",  # Waiting(f"WaitingFor{kind}", ...)
        "Degraded",  # Observation(..., reason="Degraded")
        "DeadlineExceeded",  # obs.phase, obs.reason = "Failed", "DeadlineExceeded"
        "LeaseExpired",  # reason = "LeaseExpired"
        "ProjectChanged",  # reason = ("ProjectChanged" if ... else "InvalidSpec" ...)
        "CredentialsError",
        "AmbiguousNotebook",  # errors.StateConflict(error_code="AmbiguousNotebook", ...)
    } <= set(found)


def test_every_reason_of_the_vocabulary_is_written_somewhere() -> None:
    """No entry for a reason nothing writes (as ``Timeout`` was)."""
    written = set(literal_reasons())
    written |= {_class_reason(cls) for cls in ERROR_CLASSES}
    written |= {classify(err).synced.reason for err in OPERATOR_ERRORS}
    listed = {r.name for r in (*reasons.SYNCED, *reasons.READY)}
    assert listed - written == set()


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=[c.__name__ for c in ERROR_CLASSES])
def test_a_failed_call_gets_a_known_reason_and_its_retry_class(
    cls: type[errors.ModelArtsError],
) -> None:
    """Without an error code, or named by category, the reason is the class's; with a code,
    a transient class keeps its own reason (the code goes into the message), any other
    carries the code. Retried soon exactly when the vocabulary calls the reason transient."""
    plain = classify(cls(error_msg="x"))
    by_category = classify(cls(error_code="ModelArts.9999", error_msg="x"), by_category=True)
    coded = classify(cls(error_code="ModelArts.9999", error_msg="x"))
    assert reasons.is_known(plain.synced.reason)
    assert by_category.synced.reason == plain.synced.reason
    transient = reasons.is_transient(plain.synced.reason)
    assert coded.synced.reason == (plain.synced.reason if transient else "ModelArts.9999")
    for failure in (plain, by_category, coded):
        assert failure.transient is transient
        assert failure.transient is reasons.is_transient(failure.synced.reason)


def test_an_object_that_changed_under_the_call_is_retried_soon() -> None:
    """Training 2878 (errors.Transient, retryable): not a terminal ModelArts.2878."""
    failure = classify(errors.error_from_response(400, {"error_code": "ModelArts.2878"}))
    assert (failure.synced.reason, failure.transient) == ("Transient", True)
    assert failure.message.startswith("ModelArts.2878")


def test_every_documented_error_code_gets_the_retry_class_of_its_category() -> None:
    for code, cls in errors._BY_CODE.items():
        failure = classify(cls(error_code=code, error_msg="x"))
        transient = reasons.is_transient(cls.reason)
        assert failure.transient is transient, code
        assert failure.synced.reason == (cls.reason if transient else code), code


@pytest.mark.parametrize("err", OPERATOR_ERRORS, ids=lambda e: type(e).__name__)
def test_an_unusable_spec_or_secret_is_terminal(err: Exception) -> None:
    failure = classify(err)
    assert reasons.is_known(failure.synced.reason)
    assert not failure.transient
    assert not reasons.is_transient(failure.synced.reason)


def test_every_declared_reference_waits_with_a_known_transient_reason() -> None:
    kind_of = {k.plural: k.crd.kind for k in KINDS}
    targets = {kind_of[r.target] for k in KINDS for r in k.references}
    assert targets
    for kind in targets:
        reason = f"{reasons.WAITING_FOR}{kind}"
        assert reasons.is_known(reason)
        assert reasons.is_transient(reason)
        assert reasons.ready_meaning(reason) is reasons.Meaning.NOT_READY


@pytest.mark.parametrize(
    "reason", ["WaitingFor", "WaitingForwork", "Waitingfor", "XWaitingForModel", "Timeout"]
)
def test_what_is_not_a_transient_reason(reason: str) -> None:
    assert not reasons.is_known(reason)
    assert not reasons.is_transient(reason)


def _failed(*conditions: tuple[str, bool, str]) -> tuple[bool, str]:
    listed: list[cond.Condition] = []
    for type_, status, reason in conditions:
        listed = cond.set_condition(listed, type_, status, reason)
    verdict = failed_verdict(listed)
    return verdict.status, verdict.reason


@pytest.mark.parametrize("reason", reasons.SYNCED, ids=lambda r: r.name)
def test_the_writer_fails_an_object_on_exactly_the_terminal_synced_reasons(
    reason: reasons.Reason,
) -> None:
    failed = _failed((cond.SYNCED, False, reason.name))
    if reason.meaning is reasons.Meaning.TERMINAL:
        assert failed == (True, reason.name)
    else:
        assert failed == (False, reasons.NOT_FAILED)


@pytest.mark.parametrize("reason", ["ModelArts.0107", "APIG.1002", "403"])
def test_a_remote_error_code_is_terminal(reason: str) -> None:
    assert _failed((cond.SYNCED, False, reason)) == (True, reason)


@pytest.mark.parametrize("reason", reasons.READY, ids=lambda r: r.name)
def test_the_writer_fails_an_object_on_exactly_the_failed_ready_reasons(
    reason: reasons.Reason,
) -> None:
    failed = _failed((cond.SYNCED, True, reasons.SYNCED_TRUE), (cond.READY, False, reason.name))
    if reason.meaning is reasons.Meaning.FAILED:
        assert failed == (True, reason.name)
    else:
        assert failed == (False, reasons.NOT_FAILED)


def test_names_are_unique_and_shared_names_agree() -> None:
    """A name is listed once per condition; one in both lists means the same to both (a
    remote object deleted outside the operator: terminal, and failed)."""
    synced = [r.name for r in reasons.SYNCED]
    ready = [r.name for r in reasons.READY]
    assert len(set(synced)) == len(synced)
    assert len(set(ready)) == len(ready)
    for name in set(synced) & set(ready):
        assert not reasons.is_transient(name)
        assert reasons.ready_meaning(name) is reasons.Meaning.FAILED
