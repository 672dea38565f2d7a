"""What the engine is given, as protocols: it imports no backend, memory or save of its own.

The engine takes these through its constructor, so the game gives it an OpenAI-compatible
backend and a save slot, and tests give it the same real objects pointed at a stand-in
server and a temporary folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol, TypeVar

from pydantic import BaseModel

from game.core.calls import Listener, Message, Reply, Usage
from game.core.records import Change, Record
from game.core.story import Story

T = TypeVar("T", bound=BaseModel)


class Backend(Protocol):
    """A text generator, and everything the engine and the session ask of one.

    `stream` returns a `Reply`: iterate it for the prose, then read its `finish` and `usage`;
    `structured` returns a validated pydantic model. `usage` is the running tally of every call.
    A backend with nothing to do for one of the rest does nothing (a server elsewhere has no
    process to `start` and keeps no story's cache to `open_story` or `keep_story`)."""

    model: str
    usage: Usage
    keeps_cache: bool  # the server keeps this story's prompt cached step to step (one player, one slot)

    @property
    def token_scale(self) -> float:
        """Real tokens per estimated one; the budget divides by it."""

    async def context_window(self) -> int | None:
        """The server's context window, when it says (None when it does not)."""

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               on_notice: Listener | None = None) -> Reply: ...

    async def structured(self, messages: list[Message], schema: type[T], *, max_tokens: int, temperature: float,
                         on_notice: Listener | None = None, on_text: Callable[[str], None] | None = None) -> T: ...

    def start(self) -> object:
        """Start what the backend runs (the local model's child process). Blocking: call it in a thread."""

    def open_story(self, saves: Path, name: str) -> None:
        """Slot `name` of `saves` is told from now on (the local model restores its saved cache)."""

    async def keep_story(self) -> None:
        """Keep what the server holds of the story for next time; best-effort, never raises."""

    async def close(self) -> None: ...


class Hit(Protocol):
    """One passage long-term memory found: the entry, its score and why it matched."""

    entry: object
    score: float
    why: str


class Memory(Protocol):
    def search(self, query: str, limit: int, before_step: int) -> list[Hit]: ...


class Store(Protocol):
    """Where the story lives: its replayed state, and a commit that saves one record.

    `commit` blocks (a disk sync, a memory write): the engine calls it in a thread."""

    story: Story
    memory: Memory | None

    def commit(self, record: Record) -> Change: ...
