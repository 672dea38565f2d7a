"""World entries (lore cards): which ones join the prompt."""
from __future__ import annotations

import re
from functools import lru_cache

from game.core.seed import WorldEntry
from game.core.text import is_dense


@lru_cache(maxsize=1024)
def _key_pattern(key: str) -> re.Pattern:
    # Whole words, any case: the key "Ash" must not fire on "crash". Chinese and Japanese have
    # no spaces between words, so a key in those scripts matches wherever it occurs.
    key = key.strip()
    before = "" if is_dense(key[:1]) else r"(?<!\w)"
    after = "" if is_dense(key[-1:]) else r"(?!\w)"
    return re.compile(before + re.escape(key) + after, re.IGNORECASE)


def triggered(entries: list[WorldEntry], text: str) -> list[WorldEntry]:
    """Entries whose keys occur in `text` (always-on entries are part of the stable prefix)."""
    found = []
    for entry in entries:
        if entry.always:
            continue
        if any(key.strip() and _key_pattern(key).search(text) for key in entry.keys):
            found.append(entry)
    return found


def always_on(entries: list[WorldEntry]) -> list[WorldEntry]:
    return [entry for entry in entries if entry.always]
