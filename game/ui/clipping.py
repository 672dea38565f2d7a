"""Text clipped to a column's width, with an ellipsis where it was cut."""
from __future__ import annotations


def clip(text: str, width: int) -> str:
    """`text`, cut at the end to `width` characters."""
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def clip_middle(text: str, width: int) -> str:
    """`text`, cut in the middle: a slot's name keeps its end, where a branch says where it forks
    ('long-story-at-12' and 'long-story-at-40' stay two names)."""
    if len(text) <= width:
        return text
    tail = max(1, (width - 1) // 2)
    return text[: max(1, width - 1 - tail)] + "…" + text[-tail:]
