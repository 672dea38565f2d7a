"""World entries (lore cards): which ones join the prompt."""
from __future__ import annotations

import re
from functools import lru_cache

from game.core.seed import WorldEntry
from game.core.text import is_dense


@lru_cache(maxsize=1024)
def key_pattern(key: str) -> re.Pattern:
    # Whole words, any case: the key "Ash" must not fire on "crash". Chinese and Japanese have
    # no spaces between words, so a key in those scripts matches wherever it occurs.
    key = key.strip()
    before = "" if is_dense(key[:1]) else r"(?<!\w)"
    after = "" if is_dense(key[-1:]) else r"(?!\w)"
    return re.compile(before + re.escape(key) + after, re.IGNORECASE)


def occurs(key: str, text: str) -> bool:
    """Whether `key` is in `text` the way a world entry's key triggers: a whole word or phrase, any case."""
    return bool(key.strip()) and bool(key_pattern(key).search(text))


def triggered(entries: list[WorldEntry], text: str) -> list[WorldEntry]:
    """Entries whose keys occur in `text` (always-on entries are part of the stable prefix). An
    entry with secondary keys also needs one of those in `text`."""
    found = []
    for entry in entries:
        if entry.always:
            continue
        if not any(occurs(key, text) for key in entry.keys):
            continue
        if entry.secondary_keys and not any(occurs(key, text) for key in entry.secondary_keys):
            continue
        found.append(entry)
    return found


def always_on(entries: list[WorldEntry]) -> list[WorldEntry]:
    return [entry for entry in entries if entry.always]
