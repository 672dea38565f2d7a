"""The one small interface the engine uses to talk to a language model."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Protocol, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class ModelError(Exception):
    """A model or network failure that survived every retry; the message is one plain line."""


class InvalidOutput(ModelError):
    """The model kept answering with something that is not the JSON we asked for."""


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def add(self, prompt: int, completion: int) -> None:
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.calls += 1

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Notice:
    """Something the player should see while a call is retried ("rate limited, retrying in 2 s")."""

    text: str
    restart: bool = False  # True when streamed text so far is void and will be sent again


Listener = Callable[[Notice], None]


@dataclass
class CallRecord:
    """What one call cost; the engine keeps the prompt size of the last narration for benchmarks."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


class Backend(Protocol):
    """A text generator. `stream` yields prose; `structured` returns a validated pydantic model."""

    model: str
    usage: Usage
    last: CallRecord

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        on_notice: Listener | None = None,
    ) -> AsyncIterator[str]: ...

    async def structured(
        self,
        messages: list[Message],
        schema: type[T],
        *,
        max_tokens: int,
        temperature: float,
        on_notice: Listener | None = None,
    ) -> T: ...

    async def close(self) -> None: ...


@dataclass
class RetryPolicy:
    attempts: int = 5  # tries in all, for one call
    base: float = 0.5  # seconds before the first retry; doubles each time
    cap: float = 8.0
    invalid_attempts: int = 3  # tries when the answer is not valid JSON for the schema
    timeout: float = 120.0  # seconds without a byte before a call counts as failed (a whole answer, unstreamed)

    hint_cap: float = 60.0  # the longest wait a server's Retry-After can ask of us

    def delay(self, attempt: int, hint: float | None = None) -> float:
        wait = min(self.cap, self.base * (2 ** attempt))
        if hint is not None:
            wait = min(self.hint_cap, max(wait, hint))  # the server knows best, within reason
        return wait


@dataclass
class Sampling:
    temperature: float = 0.8
    paragraph_tokens: int = 400
    bookkeeping_tokens: int = 600
    extra: dict = field(default_factory=dict)
