"""Model calls in the game's own words: messages, what they cost, what the player is told
while they wait, and how they fail. Backends (game/llm) speak these; the engine reads them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Callable

from game.core.errors import PlayerError
from game.core.redact import redact

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}

SETTINGS_HINT = "Choose another backend or model in Settings (F5 while playing, S on the title screen)."


class ModelError(PlayerError):
    """A model or network failure that survived every retry; the message is one plain line."""

    hint = f"Check that the model server is running, then try again; or {SETTINGS_HINT[0].lower()}{SETTINGS_HINT[1:]}"


class InvalidOutput(ModelError):
    """The model kept answering with something that is not the JSON we asked for."""

    hint = "Try again; a larger model keeps to the format more often."


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
    quiet: bool = False  # a guard's remark on the model's output: the status line, no pop-up

    def __post_init__(self) -> None:
        self.text = redact(self.text)  # a notice may quote the server, which may quote our key


Listener = Callable[[Notice], None]


@dataclass(frozen=True)
class CallUsage:
    """What one call cost: its tokens, and how much of its prompt the server's cache held."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    read: int | None = None  # prompt tokens the server read afresh, when it says (llama.cpp's timings)
    reused: int | None = None  # prompt tokens it took from its cache, when it says


class Reply:
    """One streamed call, as it comes back: iterate it for the text; once the text has ended,
    `finish` and `usage` say how it ended and what it cost (simonw/llm's `Response` shape).

    What one call learnt lives on its reply, never on the backend, so two calls in flight (or a
    call and the next one) cannot read each other's ending. The backend makes the reply with the
    function that streams it; that function calls `end` when the server has said its last word.
    """

    def __init__(self, pieces: Callable[["Reply"], AsyncIterator[str]]) -> None:
        self._pieces = pieces
        self._stream: AsyncIterator[str] | None = None
        self._finish: str | None = None
        self._usage = CallUsage()

    def __aiter__(self) -> AsyncIterator[str]:
        if self._stream is not None:
            raise RuntimeError("a reply streams once")
        self._stream = self._pieces(self)
        return self._stream

    def end(self, finish: str, usage: CallUsage) -> None:
        """The backend's word that the text is whole: why it ended, and what the call cost. A
        call tried again ends again, and the last try's ending is the one read."""
        self._finish, self._usage = finish, usage

    @property
    def ended(self) -> bool:
        return self._finish is not None

    @property
    def finish(self) -> str:
        """Why the text ended: "stop", or "length" when it reached max_tokens."""
        return self._ending()[0]

    @property
    def usage(self) -> CallUsage:
        return self._ending()[1]

    def _ending(self) -> tuple[str, CallUsage]:
        if self._finish is None:
            raise RuntimeError("the reply has not ended: read it to its end first")
        return self._finish, self._usage

    async def aclose(self) -> None:
        """Stop the stream where it is (a player's Esc): the connection closes with it."""
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()
