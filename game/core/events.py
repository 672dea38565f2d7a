"""What a turn tells a face while it is told, as typed events for one sink.

A step streams its paragraph (`Text`), may say something on the way (`Notice`: a retry, a
restart, a guard's remark) and hears its options before the rest of its notes (`Options`).
The narrator's `begin`, `step` and `retry` (and the `Game`'s `begin`, `tell` and `retry`) take
one function that hears them all, so a face maps each kind to one thing of its own (the TUI: one
Textual message each; `write`: a line on stderr).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from game.core.calls import Notice


@dataclass(frozen=True)
class Text:
    """A piece of the paragraph being told (after a restart, the paragraph begins again)."""

    text: str


@dataclass(frozen=True)
class Options:
    """The new step's options, heard before the rest of its notes are written."""

    options: tuple[str, ...]


Event = Union[Text, Notice, Options]
Sink = Callable[[Event], None]

__all__ = ["Event", "Notice", "Options", "Sink", "Text"]
