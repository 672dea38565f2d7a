"""A turn's life cycle as messages: workers post these, screen handlers own the state. A worker's
failure is no message of ours: it raises, and the screen's `Worker.StateChanged` handler says it.

Messages are dataclasses (toolong's habit): what they carry is their signature."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from game.core.events import Event, Notice, Options, Text


@dataclass
class TurnText(Message):
    """A piece of the paragraph being told."""

    turn: int
    text: str


@dataclass
class TurnNotice(Message):
    """Something to tell the player while the turn waits on the model (a retry, a restart)."""

    turn: int
    text: str
    restart: bool
    quiet: bool = False  # a guard's remark: the status line only


@dataclass
class TurnOptions(Message):
    """The new step's options, streamed in before the rest of its notes."""

    turn: int
    options: list[str]


@dataclass
class TurnFinished(Message):
    """The turn's step is saved."""

    turn: int
    step: object


def turn_message(turn: int, event: Event) -> Message:
    """The one Textual message for each kind of a turn's event."""
    if isinstance(event, Text):
        return TurnText(turn, event.text)
    if isinstance(event, Options):
        return TurnOptions(turn, list(event.options))
    assert isinstance(event, Notice)
    return TurnNotice(turn, event.text, event.restart, event.quiet)


@dataclass
class StoryRead(Message):
    """The slot's journal is read: the story can be shown while long-term memory opens."""

    story: object


@dataclass
class GameReady(Message):
    """The playthrough is open (its slot, its narrator)."""

    game: object


@dataclass
class Said(Message):
    """Something to tell the player from a worker that did its work (a copy saved, an export
    written); a worker that failed raises, and its screen's one handler says why."""

    text: str


@dataclass
class Branched(Message):
    """A branch was made from the story being played: the play screen moves to it."""

    slot: str
    parent: str
    step: int
