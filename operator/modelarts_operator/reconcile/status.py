"""The one status writer: every reconcile path, the poller and deletion end here.

A path says what it concluded as a :class:`Report` (facts, phase, the Synced and Ready
verdicts); :class:`StatusWriter` folds that into the object's status through the kind's pydantic
status model, so a field the schema lacks cannot be written and every field goes out in
camelCase. The writer also derives the ``Failed`` condition and records
``observedGeneration``, so no path can forget either.

The conditions (their reasons and what each means: ``reasons.py``, also in the CRD reference):

- ``Synced``: True when the current generation was applied to ModelArts; False carries the
  cause, transient (the operator gets past it by itself) or terminal (a person must act).
- ``Ready``: True when the remote object is in its steady good state; False carries the phase,
  a wait, or a remote failure.
- ``Failed``: True when the object cannot get to Ready without a person: a remote failure, or
  a terminal Synced=False. ``kubectl wait --for=condition=Failed`` waits for it the way
  ``--for=condition=Ready`` waits for success; its reason is the cause's reason.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import reasons
from . import conditions as cond


@dataclass(frozen=True)
class Verdict:
    """One condition's status, reason and message."""

    status: bool
    reason: str
    message: str = ""


SYNCED_OK = Verdict(True, reasons.SYNCED_TRUE)


@dataclass
class Report:
    """What one path concluded about an object, for the status writer.

    ``synced``/``ready`` None keep the condition as it is (the poller has no say on Synced;
    an error after the remote object exists leaves its Ready alone). ``observed`` False keeps
    observedGeneration (the poller may hold an older view of the spec than the API server)."""

    facts: dict[str, Any] = field(default_factory=dict)  # camelCase status fields
    phase: str | None = None
    synced: Verdict | None = None
    ready: Verdict | None = None
    drop: tuple[str, ...] = ()  # status fields to remove
    observed: bool = True


class StatusSchemaError(TypeError):
    """An adapter tried to write a status field its kind's schema does not have."""


class StatusWriter:
    """Renders :class:`Report`s into a kind's status, validated by its pydantic model."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self.fields = frozenset(
            f.alias or name for name, f in model.model_fields.items()
        ) | frozenset(model.model_fields)

    def render(self, old: Mapping[str, Any], report: Report, generation: int) -> dict[str, Any]:
        """The new status: ``old`` with the report folded in, as the schema types it."""
        unknown = set(report.facts) - self.fields
        if unknown:
            raise StatusSchemaError(
                f"{self.model.__name__} has no field {', '.join(sorted(unknown))}"
            )
        new = dict(old)
        new.update(report.facts)
        for key in report.drop:
            new.pop(key, None)
        if report.phase is not None:
            new["phase"] = report.phase
        conditions = new.get("conditions")
        if report.synced is not None:
            conditions = _set(conditions, cond.SYNCED, report.synced, generation)
        if report.ready is not None:
            conditions = _set(conditions, cond.READY, report.ready, generation)
        new["conditions"] = _set(conditions, cond.FAILED, failed_verdict(conditions), generation)
        if report.observed:
            new["observedGeneration"] = generation
        try:
            typed = self.model.model_validate(new)
        except ValidationError as err:
            typed = self.model.model_validate(_within_bounds(new, err))
        rendered: dict[str, Any] = typed.model_dump(by_alias=True, exclude_none=True, mode="json")
        return rendered


def _within_bounds(status: dict[str, Any], err: ValidationError) -> dict[str, Any]:
    """``status`` with every text and list the schema finds too long cut to its bound (a
    remote message, a job's task list): what ModelArts says can be longer than the status
    schema keeps (its size budget), and a status that cannot be written helps nobody. Any
    other error is the operator's own and is raised."""
    cut = copy.deepcopy(status)
    for problem in err.errors():
        if problem["type"] not in ("string_too_long", "too_long"):
            raise err
        *parents, last = problem["loc"]
        holder: Any = cut
        for key in parents:
            holder = holder[key]
        holder[last] = holder[last][: problem["ctx"]["max_length"]]
    return cut


def _set(
    conditions: list[cond.Condition] | None, type_: str, verdict: Verdict, generation: int
) -> list[cond.Condition]:
    return cond.set_condition(
        conditions, type_, verdict.status, verdict.reason, verdict.message, generation
    )


def failed_verdict(conditions: list[cond.Condition] | None) -> Verdict:
    """Failed follows from Synced and Ready: a remote failure, or a terminal Synced=False."""
    ready = cond.get_condition(conditions, cond.READY) or {}
    reason = str(ready.get("reason") or "")
    if ready.get("status") == "False" and reasons.ready_meaning(reason) is reasons.Meaning.FAILED:
        return Verdict(True, reason, str(ready.get("message") or ""))
    synced = cond.get_condition(conditions, cond.SYNCED) or {}
    reason = str(synced.get("reason") or "")
    if synced.get("status") == "False" and not reasons.is_transient(reason):
        return Verdict(True, reason, str(synced.get("message") or ""))
    return Verdict(False, reasons.NOT_FAILED)


def status_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """A merge patch from ``old`` to ``new``: changed keys, and None for removed ones."""
    patch = cond.status_changed(dict(old), dict(new))
    patch.update(dict.fromkeys(_removed(old, new)))
    return patch


def _removed(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterable[str]:
    return (key for key in old if key not in new)
