"""A seed's first request to the narrator, as a new game with the player's settings would send it
(the studio's preview, `stories preview` and `stories lint`)."""
from __future__ import annotations

from game.engine.preview import Preview, first_request as first
from game.engine.prompts import Budget
from game.session.settings import prefs_from

__all__ = ["Preview", "first_request"]


def first_request(seed, settings, tokens: int | None = None, action: str | None = None) -> Preview:
    """The request, in a prompt budget of `tokens` (default: the player's setting)."""
    return first(seed, prefs_from(settings, seed), Budget(tokens or settings.prompt_tokens), action)
