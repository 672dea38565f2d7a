"""The errors a player can cause or meet: one line each, never a traceback, and a hint.

Every error a player may see is a `PlayerError`. Its text says what happened, in one
line that names the file, the field, the slot or the server; its `hint` says what to
do about it, in words every face of the game can show (the UI under the problem, the
command line not at all: its one line is the message).
"""
from __future__ import annotations

from game.core.redact import redact
from game.core.text import safe


class PlayerError(Exception):
    """What went wrong, in one line; `hint` is what the player can do about it."""

    hint = "Try again."

    def __init__(self, message: str = "", hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


def one_line(error: BaseException) -> str:
    # An error may quote a file or a server: no escape codes, and never a key the server echoed.
    text = " ".join(redact(safe(str(error))).split())
    return text or type(error).__name__


def with_hint(error: BaseException) -> str:
    """The error's line and its hint, as a screen shows them."""
    text = one_line(error).rstrip(".")
    hint = getattr(error, "hint", "")
    return f"{text}. {hint}" if hint else text
