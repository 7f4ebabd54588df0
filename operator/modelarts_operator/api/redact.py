"""Redaction of secrets from anything a human may read: logs, exception text, events.

Two layers: every secret value the client handles (SK, password, security token, IAM token)
is registered here when it enters the process, and any text we emit is scrubbed of them;
patterns catch secret-bearing fields even when the value was never registered (a token echoed
by a server, a password in a JSON body).
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["REDACTED", "RedactingFilter", "redact", "register_secret"]

REDACTED = "***"

_lock = threading.Lock()
_secrets: set[str] = set()
# Shorter secrets would redact ordinary words; real SKs, passwords and tokens are longer.
_MIN_SECRET_LEN = 4

_PATTERNS = [
    re.compile(
        r"(?i)(\"?(?:password|sk|secret|secret_key|security_?token|x-security-token|"
        r"x-auth-token|x-subject-token|token)\"?\s*[:=]\s*\"?)([^\",\s}]+)"
    ),
    re.compile(r"(?i)(Signature=)([0-9a-f]{16,})"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret so that every later ``redact`` call hides it."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and secret-looking field masked."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
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
