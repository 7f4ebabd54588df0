"""Management policies read from annotations, in the vocabulary users know from ACK, ASO,
Config Connector and Crossplane."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from .. import GROUP

EXTERNAL_ID = f"{GROUP}/external-id"
ADOPTION_POLICY = f"{GROUP}/adoption-policy"
MANAGEMENT_POLICY = f"{GROUP}/management-policy"
PAUSED = f"{GROUP}/paused"
POLL_INTERVAL = f"{GROUP}/poll-interval"
RESYNC_PERIOD = f"{GROUP}/resync-period"
RECONCILE_REQUEST = f"{GROUP}/reconcile-request"
CREATE_PENDING = f"{GROUP}/create-pending"


# How often the configuration of a settled object is compared with its spec (ACK's order of
# magnitude: drift is rare and a comparison costs a detail GET per object).
DEFAULT_RESYNC_SECONDS = 10 * 3600.0


class PolicyError(ValueError):
    """An annotation holds a value the operator does not understand."""


class Adoption(enum.StrEnum):
    ADOPT = "adopt"  # the name must already exist remotely; never create
    ADOPT_OR_CREATE = "adopt-or-create"  # take over an existing name, else create


@dataclass(frozen=True)
class Policies:
    external_id: str | None = None
    adoption: Adoption = Adoption.ADOPT_OR_CREATE
    observe_only: bool = False
    paused: bool = False
    poll_interval: float | None = None
    resync_period: float = DEFAULT_RESYNC_SECONDS

    @property
    def may_write(self) -> bool:
        """Remote writes (create, update, delete) are allowed."""
        return not (self.observe_only or self.paused)

    @classmethod
    def from_annotations(cls, annotations: Mapping[str, str] | None) -> Policies:
        ann = annotations or {}
        adoption_raw = ann.get(ADOPTION_POLICY, Adoption.ADOPT_OR_CREATE.value)
        try:
            adoption = Adoption(adoption_raw)
        except ValueError:
            raise PolicyError(
                f"annotation {ADOPTION_POLICY}: {adoption_raw!r} is not one of "
                f"{', '.join(a.value for a in Adoption)}"
            ) from None
        management = ann.get(MANAGEMENT_POLICY, "")
        if management not in ("", "observe", "default"):
            raise PolicyError(
                f"annotation {MANAGEMENT_POLICY}: {management!r} is not 'observe' or 'default'"
            )
        paused_raw = ann.get(PAUSED, "false").lower()
        if paused_raw not in ("true", "false"):
            raise PolicyError(f'annotation {PAUSED}: {paused_raw!r} is not "true" or "false"')
        interval: float | None = None
        if raw := ann.get(POLL_INTERVAL):
            interval = _parse_duration(POLL_INTERVAL, raw)
        resync = DEFAULT_RESYNC_SECONDS
        if raw := ann.get(RESYNC_PERIOD):
            resync = _parse_duration(RESYNC_PERIOD, raw)
        return cls(
            external_id=ann.get(EXTERNAL_ID) or None,
            adoption=adoption,
            observe_only=management == "observe",
            paused=paused_raw == "true",
            poll_interval=interval,
            resync_period=resync,
        )


def _parse_duration(annotation: str, raw: str) -> float:
    """``30``, ``30s``, ``5m``, ``1h`` → seconds (at least 1)."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    text = raw.strip().lower()
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except (ValueError, KeyError):
        raise PolicyError(f"annotation {annotation}: {raw!r} is not a duration") from None
    if value < 1:
        raise PolicyError(f"annotation {annotation}: {raw!r} is shorter than 1s")
    return value
