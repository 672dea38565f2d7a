"""Keeping the API key out of everything the game says: errors, notices, log lines.

A server may quote the request back in its error message, Authorization header and all.
Every text the player or a log sees goes through `redact`, which knows the keys in use
(the backend tells it with `keep_secret`, and OPENAI_API_KEY is always one) and the
shapes a credential takes in an error (a bearer token, a password in a URL).
"""
from __future__ import annotations

import os
import re

REDACTED = "[redacted]"
_MIN_SECRET = 8  # shorter values ("", "not-needed", "x") are placeholders, not keys worth hiding
_secrets: set[str] = set()

_SHAPES = re.compile(
    r"(?i)(?<=bearer )(?!\[redacted\])[^\s'\",;)}\]]+"  # an Authorization header's token
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"  # user:password@ in a URL
    r"|\bsk-[A-Za-z0-9_\-]{16,}"  # an OpenAI-style key, even one we were never told of
)


def keep_secret(value: str | None) -> None:
    """Remember `value` as a secret that no text may show from now on."""
    if value and len(value) >= _MIN_SECRET:
        _secrets.add(value)


def redact(text: str) -> str:
    """`text` with every known secret, and anything shaped like a credential, replaced."""
    if not text:
        return text
    known = set(_secrets)
    env = os.environ.get("OPENAI_API_KEY")
    if env and len(env) >= _MIN_SECRET:
        known.add(env)
    for secret in sorted(known, key=len, reverse=True):  # a longer key may contain a shorter one
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _SHAPES.sub(REDACTED, text)
