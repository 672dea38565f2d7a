"""The notes as they stream in, and what stands in when the model cannot write them.

The bookkeeping answer is JSON whose first field is the three options. `OptionsWatcher`
reads the answer as it streams and hands the options on the moment their list closes,
so the player can choose while the rest of the notes (a line, at a chapter's end the
recap) are still being written. It parses JSON with the JSON decoder, never with
patterns over markers.
"""
from __future__ import annotations

import json
from typing import Callable

from game.core.models import Notes
from game.core.text import ENDS, clip_words, safe, sentences

_decoder = json.JSONDecoder()
WATCHED_CHARS = 20_000  # three options fit in far less; past this the whole answer decides


class OptionsWatcher:
    def __init__(self, listener: Callable[[list[str]], None] | None,
                 check: Callable[[list[str]], list[str]] | None = None) -> None:
        self.listener = listener
        self.check = check  # the usable options among those heard: fewer than three wait for the whole answer
        self.text = ""
        self.sent: list[str] | None = None
        self.refused = False  # the options heard were not usable: the final ones are told at the end

    def restart(self) -> None:
        """The answer starts over (a retry): what was heard is void, options already shown stay."""
        self.text = ""
        self.refused = False

    def hear(self, piece: str) -> None:
        if self.listener is None or self.sent is not None or self.refused or len(self.text) > WATCHED_CHARS:
            return
        self.text += piece
        options = self._options()
        if options is not None:
            self.heard(options)

    def heard(self, options: list[str]) -> None:
        """The options are known (whole answer parsed, or a fallback): tell the listener once."""
        if self.listener is not None and self.sent is None:
            self.sent = list(options)
            self.listener(self.sent)

    def _options(self) -> list[str] | None:
        key = self.text.find('"options"')
        if key == -1:
            return None
        start = self.text.find("[", key)
        if start == -1:
            return None
        try:
            value, _end = _decoder.raw_decode(self.text, start)
        except (json.JSONDecodeError, RecursionError):
            return None  # the list is not closed yet (or nested past reason: the whole answer decides)
        try:
            notes = Notes(options=value)
        except (ValueError, TypeError):
            return None  # not three usable options: the whole answer decides
        options = [clip_words(safe(option), 40) for option in notes.options]
        if self.check is not None:
            options = self.check(options)
            if len(options) < 3:
                self.refused = True
                return None
        return options


def whole_sentences(text: str) -> str:
    """`text` without a last sentence the token limit cut in half (all of it if none ended)."""
    parts = sentences(text)
    if len(parts) > 1 and parts[-1].rstrip()[-1:] not in ENDS:
        return text[: text.rfind(parts[-1])].rstrip()
    return text


SENTENCE_ENDS = ".!?…\"'”’)]*—"  # what a finished paragraph's last character can be


def ends_mid_sentence(text: str) -> bool:
    """True when `text` stops inside a sentence (or a word): what a stream cut short leaves."""
    text = text.rstrip()
    return bool(text) and text[-1] not in SENTENCE_ENDS


def mechanical_recap(story, number: int, paragraph: str, memory_words: int) -> str:
    """A recap for a chapter's close when the model could not write one: the recap before, then
    each of the chapter's steps in a line (its note, or its paragraph's first sentence), within
    the word budget, the newest kept."""
    from game.engine.prompts import chapter_start, recap_for

    previous = recap_for(story, number)
    start = chapter_start(story, number)
    lines = [story.steps[n].version.note or (sentences(story.steps[n].version.paragraph) or [""])[0]
             for n in range(start, number)]
    lines.append((sentences(paragraph) or [""])[0])
    words = f"{previous} {' '.join(lines)}".split()
    return " ".join(words[-memory_words:])
