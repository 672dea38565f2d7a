"""A turn's life cycle as messages: workers post these, screen handlers own the state."""
from __future__ import annotations

from textual.message import Message


class Turn(Message):
    def __init__(self, turn: int) -> None:
        super().__init__()
        self.turn = turn


class TurnStarted(Turn):
    pass


class TurnText(Turn):
    def __init__(self, turn: int, text: str) -> None:
        super().__init__(turn)
        self.text = text


class TurnNotice(Turn):
    def __init__(self, turn: int, text: str, restart: bool) -> None:
        super().__init__(turn)
        self.text = text
        self.restart = restart


class TurnFinished(Turn):
    def __init__(self, turn: int, step) -> None:
        super().__init__(turn)
        self.step = step


class TurnFailed(Turn):
    def __init__(self, turn: int, error: str) -> None:
        super().__init__(turn)
        self.error = error


class SlotReady(Message):
    def __init__(self, slot, narrator, problem: str = "") -> None:
        super().__init__()
        self.slot = slot
        self.narrator = narrator
        self.problem = problem  # no backend: the story can be read, not continued


class SlotFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class Said(Message):
    """Something to tell the player, from a worker (a copy saved, or why it was not)."""

    def __init__(self, text: str, error: bool = False) -> None:
        super().__init__()
        self.text = text
        self.error = error
