"""What the engine is given, as protocols: it imports no backend, memory or save of its own.

The engine takes these through its constructor, so the game gives it an OpenAI-compatible
backend and a save slot, and tests give it the same real objects pointed at a stand-in
server and a temporary folder.
"""
from __future__ import annotations

from typing import AsyncIterator, Callable, Protocol, TypeVar

from pydantic import BaseModel

from game.core.calls import CallRecord, Listener, Message, Usage
from game.core.records import Change, Record
from game.core.story import Story

T = TypeVar("T", bound=BaseModel)


class Backend(Protocol):
    """A text generator. `stream` yields prose; `structured` returns a validated pydantic model.
    `context_window` is the server's, when it says (None when it does not); `token_scale` is
    real tokens per estimated one, which the budget divides by."""

    model: str
    usage: Usage
    last: CallRecord

    @property
    def token_scale(self) -> float: ...

    async def context_window(self) -> int | None: ...

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               on_notice: Listener | None = None) -> AsyncIterator[str]: ...

    async def structured(self, messages: list[Message], schema: type[T], *, max_tokens: int, temperature: float,
                         on_notice: Listener | None = None, on_text: Callable[[str], None] | None = None) -> T: ...

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
