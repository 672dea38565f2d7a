"""Streamed model text, held back to its last whitespace and redacted before it goes on."""
from __future__ import annotations

from game.core.redact import redact


class Held:
    """The streamed text, passed on up to its last whitespace and redacted. A key has no
    whitespace in it, so one quoted back by the server, even split across many pieces, is
    whole in one part when it is redacted: it never reaches the screen, the journal or memory."""

    MOST = 512  # held at most this long without whitespace (longer than any key)

    def __init__(self) -> None:
        self.text = ""

    def add(self, piece: str) -> str:
        self.text += piece
        cut = max(self.text.rfind(" "), self.text.rfind("\n"), self.text.rfind("\t"))
        if cut < 0 and len(self.text) < self.MOST:
            return ""
        cut = cut + 1 if cut >= 0 else len(self.text)
        ready, self.text = self.text[:cut], self.text[cut:]
        return redact(ready)

    def rest(self) -> str:
        rest, self.text = self.text, ""
        return redact(rest)
