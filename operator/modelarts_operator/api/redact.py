"""Redaction of secrets from anything a human may read: logs, exception text, events.

Two layers. Every secret value the client handles (SK, password, security token, IAM token)
is registered under the **credential source** it came from (one client's Secret, one
refreshing identity, one token cache), and any text we emit is scrubbed of the values of all
sources alive at that moment. A source replaces its values when they change (a rotated
Secret, refreshed temporary credentials) and forgets them when it goes, so the set never grows
without bound and a value nobody holds any more stops being hidden. A value is hidden only
where it stands on its own (not inside a longer word), so a short secret such as ``Fail``
does not turn ``Failed`` into ``***ed``. Patterns catch secret-bearing fields even when the
value was never registered (a token echoed by a server, a password in a JSON body).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from collections.abc import Iterable

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "SecretScope",
    "redact",
]

REDACTED = "***"

_lock = threading.Lock()
_scopes: dict[int, frozenset[str]] = {}
_compiled: re.Pattern[str] | None = None
_ids = itertools.count()
# Shorter secrets would hide ordinary words; real SKs, passwords and tokens are longer.
_MIN_SECRET_LEN = 4
# A secret counts where it is not part of a longer run of letters and digits.
_EDGE = "A-Za-z0-9"

_PATTERNS = [
    re.compile(
        r"(?i)(\"?(?:password|sk|secret|secret_key|security_?token|x-security-token|"
        r"x-auth-token|x-subject-token|token)\"?\s*[:=]\s*\"?)([^\",\s}]+)"
    ),
    re.compile(r"(?i)(Signature=)([0-9a-f]{16,})"),
]


class SecretScope:
    """The secret values of one credential source, hidden from every text while it lives.

    ``replace`` swaps the values (rotation, refresh); ``close`` forgets them. A scope that is
    garbage-collected without ``close`` keeps its values hidden: forgetting is explicit.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._key = next(_ids)

    def __repr__(self) -> str:
        return f"SecretScope({self.name!r})"

    def replace(self, values: Iterable[str | None]) -> None:
        kept = frozenset(v for v in values if v and len(v) >= _MIN_SECRET_LEN)
        _update(self._key, kept)

    def add(self, value: str | None) -> None:
        with _lock:
            current = _scopes.get(self._key, frozenset())
        self.replace([*current, value])

    def close(self) -> None:
        _update(self._key, frozenset())


def _update(key: int, values: frozenset[str]) -> None:
    global _compiled
    with _lock:
        if values:
            if _scopes.get(key) == values:
                return
            _scopes[key] = values
        elif _scopes.pop(key, None) is None:
            return
        _compiled = None


def _secrets_pattern() -> re.Pattern[str] | None:
    global _compiled
    with _lock:
        if _compiled is None:
            values = sorted({v for vs in _scopes.values() for v in vs}, key=len, reverse=True)
            if not values:
                return None
            alternatives = "|".join(re.escape(v) for v in values)
            _compiled = re.compile(f"(?<![{_EDGE}])(?:{alternatives})(?![{_EDGE}])")
        return _compiled


def live_secret_count() -> int:
    """How many distinct values are hidden now (tests and metrics)."""
    with _lock:
        return len({v for vs in _scopes.values() for v in vs})


def redact(text: str) -> str:
    """Return ``text`` with every live secret and secret-looking field masked."""
    if not text:
        return text
    pattern = _secrets_pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for field_pattern in _PATTERNS:
        text = field_pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Scrub the formatted message of every record passing through a logger or handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
