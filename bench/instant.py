"""An instant model for benchmarks: it answers from a script with no network and no wait,
so what is timed is the engine itself (recall, prompt assembly, commit, index)."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

from game.llm.base import CallUsage, Reply, Usage


class InstantBackend:
    model = "instant"

    def __init__(self, paragraphs, memory_sentence=None) -> None:
        self.paragraphs = paragraphs  # callable: step number -> paragraph
        self.memory_sentence = memory_sentence or (lambda n: paragraphs(n) if n else "The story begins.")
        self.usage = Usage()
        self.calls = 0  # paragraphs asked for, a telling again not counted
        self.memory = ""
        self._asked = None  # the messages of the last paragraph asked for

    keeps_cache = False

    def stream(self, messages, *, max_tokens, temperature, on_notice=None) -> Reply:
        return Reply(lambda reply: self._told(reply, messages))

    async def _told(self, reply: Reply, messages) -> AsyncIterator[str]:
        # The guards may ask for a paragraph again with the same messages; a model that answers
        # from a script says the same again, so step n always gets paragraph n (and the script
        # never runs out before the story does).
        asked = [(m["role"], m["content"]) for m in messages]
        if asked != self._asked:
            self.calls += 1
            self._asked = asked
        text = self.paragraphs(self.calls)
        prompt = sum(len(m["content"]) for m in messages) // 4
        self.usage.add(prompt, len(text) // 4)
        for start in range(0, len(text), 64):
            yield text[start:start + 64]
        reply.end("stop", CallUsage(prompt, len(text) // 4))

    async def structured(self, messages, schema, *, max_tokens, temperature, on_notice=None, on_text=None):
        # Like a model asked for a summary of at most 200 words: about 180 words from the start,
        # made here of the latest sentences told (asked for only when a chapter closes).
        told = f"{self.memory} {self.memory_sentence(self.calls)}".split()
        self.memory = " ".join(told[-180:])
        notes = {"options": ["Go on.", "Look around.", "Wait."], "note": "Something changed.", "memory": self.memory}
        return schema.model_validate({key: value for key, value in notes.items() if key in schema.model_fields})

    token_scale = 1.0  # its "tokens" are the estimate's own

    async def context_window(self) -> None:
        return None  # no window of its own: the engine's setting holds

    def start(self) -> None:
        pass  # nothing runs: the script is in this process

    def open_story(self, saves: Path, name: str) -> None:
        pass

    async def keep_story(self) -> None:
        pass

    async def close(self) -> None:
        pass
