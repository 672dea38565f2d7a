"""Model calls in the game's own words: messages, what they cost, what the player is told
while they wait, and how they fail. Backends (game/llm) speak these; the engine reads them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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


@dataclass
class CallRecord:
    """What one call cost, and how it ended."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish: str = ""  # why the answer ended: "stop", or "length" when it reached max_tokens
    read: int | None = None  # prompt tokens the server read afresh, when it says (llama.cpp's timings)
    reused: int | None = None  # prompt tokens it took from its cache, when it says
