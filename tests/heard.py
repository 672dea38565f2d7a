"""A sink for a turn's events (game/core/events.py) that keeps each kind apart, for tests."""
from __future__ import annotations

from game.core.events import Event, Options, Text


class Heard:
    """Call it with each event; read `.text` (the pieces), `.notices` and `.options` after."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.notices: list = []
        self.options: list[list[str]] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, Text):
            self.text.append(event.text)
        elif isinstance(event, Options):
            self.options.append(list(event.options))
        else:
            self.notices.append(event)
