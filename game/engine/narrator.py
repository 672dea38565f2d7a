"""The recurrence step: recall, assemble, narrate, bookkeep, commit.

At most two model calls a step: the streamed paragraph and the structured
bookkeeping. Nothing is written until both are done, and the commit is a single
journal record, so a step that is cancelled or fails leaves the story as it was.

Everything that touches the disk (the journal's sync, a Chroma query or write) runs
in a thread, so the event loop of whichever face drives the engine never stalls.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from game.core import records as r
from game.core.calls import InvalidOutput, ModelError, Notice
from game.core.errors import PlayerError
from game.core.models import GENERIC_OPTIONS, Bookkeeping, Step, Version
from game.core.text import clip_words, safe, tokens
from game.core.world import triggered
from game.engine.prompts import Budget, bookkeeping_messages, narration_messages, recent_window
from game.engine.protocols import Backend, Store
from game.engine.recall import recall

TextListener = Callable[[str], None]
NoticeListener = Callable[[Notice], None]

MAX_ACTION_CHARS = 4000  # a paragraph of instructions at most; a pasted file is a mistake
BEGIN = "Begin the story."
CONTINUE = "Continue the story."


class StepError(PlayerError):
    """A step could not be taken; nothing was saved. One line for the player."""


@dataclass
class EngineSettings:
    temperature: float = 0.8
    memory_words: int = 200
    prompt_tokens: int = 3000


def pick(text: str, options: list[str], empty: str = "continue") -> str:
    """The action a line of input stands for: '1'-'3' pick an option; '' continues
    (or picks option 1 when `empty` is 'first'); anything else is the player's own."""
    line = " ".join(text.split())
    if line in {"1", "2", "3"} and len(options) >= int(line):
        return options[int(line) - 1]
    if not line:
        return options[0] if empty == "first" and options else CONTINUE
    return line


class Narrator:
    def __init__(self, store: Store, backend: Backend | None, settings: EngineSettings | None = None) -> None:
        self.store = store
        self.backend = backend
        self.settings = settings or EngineSettings()
        self.last_prompt_tokens = 0  # the estimated size of the last narration prompt

    @property
    def story(self):
        return self.store.story

    async def _save(self, record: r.Record) -> None:
        await asyncio.to_thread(self.store.commit, record)

    # -- taking steps -------------------------------------------------------------------
    async def begin(self, on_text: TextListener | None = None, on_notice: NoticeListener | None = None) -> Step:
        """The opening paragraph (step 0): the seed's, or one the model writes."""
        if self.story.steps:
            return self.story.steps[0]
        opening = self.story.seed.opening.strip()
        if opening:
            if on_text:
                on_text(opening)
            version = await self._bookkeep("", opening, "", on_notice, premade=self.story.seed.options)
        else:
            version = await self._tell(0, BEGIN, on_text, on_notice)
        step = Step(number=0, action="", version=version)
        return await self._commit(r.Told(step=step))

    async def step(self, action: str, on_text: TextListener | None = None, on_notice: NoticeListener | None = None) -> Step:
        if not self.story.steps:
            await self.begin(None, on_notice)
        action = safe(action).strip() or CONTINUE
        if len(action) > MAX_ACTION_CHARS:
            raise StepError(f"an action can be at most {MAX_ACTION_CHARS:,} characters; this one has {len(action):,}")
        number = len(self.story.steps)
        version = await self._tell(number, action, on_text, on_notice)
        step = Step(number=number, action=action, version=version)
        return await self._commit(r.Told(step=step))

    async def retry(self, on_text: TextListener | None = None, on_notice: NoticeListener | None = None) -> Step:
        """The last step told again; the earlier telling is kept as an alternative."""
        steps = self.story.steps
        if not steps or (len(steps) == 1 and self.story.seed.opening.strip()):
            raise StepError("there is no step to retry yet")  # an author's opening is not the model's to retell
        last = steps[-1]
        version = await self._tell(last.number, last.action or BEGIN, on_text, on_notice)
        step = Step(number=last.number, action=last.action, version=version,
                    alternatives=[last.version, *last.alternatives])
        return await self._commit(r.Retold(step=step))

    async def _commit(self, record: r.Told | r.Retold) -> Step:
        # The store gives the version the record's own seq (the root of its memory ids) as it
        # commits, so an edit saved while the model was busy cannot share it.
        await self._save(record)
        return self.story.steps[-1]

    async def undo(self) -> Step:
        if len(self.story.steps) < 2:
            raise StepError("nothing to undo: this is the opening")
        last = self.story.steps[-1]
        await self._save(r.Undone())
        return last

    # -- the player's edits ---------------------------------------------------------------
    async def edit(self, number: int, paragraph: str) -> None:
        paragraph = safe(paragraph).strip()
        if not paragraph:
            raise StepError("a paragraph cannot be empty")
        if not 0 <= number < len(self.story.steps):
            raise StepError(f"there is no step {number}")
        await self._save(r.Edited(number=number, paragraph=paragraph))

    async def flip(self, number: int, index: int) -> None:
        if not 0 <= number < len(self.story.steps) or not 0 <= index < len(self.story.steps[number].alternatives):
            raise StepError(f"step {number} has no version {index + 1}")
        await self._save(r.Flipped(number=number, index=index))

    async def set_memory(self, text: str) -> None:
        await self._save(r.MemoryEdited(text=safe(text).strip()))

    async def set_pinned(self, notes: list[str]) -> None:
        await self._save(r.Pinned(notes=[safe(n).strip() for n in notes if n.strip()]))

    async def set_prefs(self, prefs) -> None:
        """The reader's preferences (person, tone, paragraph length, rating) from the next step on."""
        await self._save(r.PrefsSet(prefs=prefs))

    async def forget(self, entry_id: str) -> None:
        await self._save(r.Forgotten(id=entry_id))

    async def amend(self, entry_id: str, text: str) -> None:
        if not text.strip():
            raise StepError("a memory cannot be empty; delete it instead")
        await self._save(r.Amended(id=entry_id, text=safe(text).strip()))

    # -- one telling ----------------------------------------------------------------------
    async def _tell(self, number: int, action: str, on_text, on_notice) -> Version:
        story = self.story
        budget = Budget(self.settings.prompt_tokens)
        try:
            recalled = await asyncio.to_thread(recall, self.store.memory, story, number, action)
        except Exception as error:  # Chroma failing must not stop the story; the store rebuilds its index
            if on_notice:
                on_notice(Notice(f"long-term memory could not be searched this step ({type(error).__name__}); going on without it"))
            recalled = []
        recent = recent_window(story, number, budget.recent)
        lore = triggered(story.seed.world, f"{action}\n{recent}")
        messages = narration_messages(story, number, action, recalled, lore, budget)
        self.last_prompt_tokens = sum(tokens(m["content"]) for m in messages)

        pieces: list[str] = []

        def notice(event: Notice) -> None:
            if event.restart:
                pieces.clear()  # the stream starts over; what was shown is void
            if on_notice:
                on_notice(event)

        try:
            async for piece in self.backend.stream(
                messages, max_tokens=max(64, story.prefs.paragraph_words * 3), temperature=self.settings.temperature, on_notice=notice
            ):
                piece = safe(piece)
                pieces.append(piece)
                if on_text:
                    on_text(piece)
        except ModelError as error:
            raise StepError(f"the story could not go on: {error}", error.hint) from None
        paragraph = "".join(pieces).strip()
        if not paragraph:
            raise StepError("the model returned an empty paragraph; try again")
        previous = story.steps[number - 1].version.memory if number > 0 else ""
        version = await self._bookkeep(action, paragraph, previous, on_notice)
        return version.model_copy(update={
            "recalled": recalled,
            "world": [entry.name for entry in lore],
            "prompt_tokens": self.backend.last.prompt_tokens or self.last_prompt_tokens,
            "completion_tokens": self.backend.last.completion_tokens,
        })

    async def _bookkeep(self, action, paragraph, previous, on_notice, premade: list[str] | None = None) -> Version:
        story = self.story
        messages = bookkeeping_messages(previous, action, paragraph, self.settings.memory_words, story.seed.premise)
        try:
            notes = await self.backend.structured(
                messages, Bookkeeping, max_tokens=self.settings.memory_words * 2 + 200,
                temperature=min(self.settings.temperature, 0.5), on_notice=on_notice,
            )
            memory = clip_words(safe(notes.memory), int(self.settings.memory_words * 1.5))
            options = [clip_words(safe(option), 40) for option in notes.options]
            fallback = False
        except InvalidOutput as error:
            # The server answers but not in JSON: keep the paragraph the player has already read,
            # keep the old memory and offer generic options rather than fail the step.
            if on_notice:
                on_notice(Notice(f"could not update the story's memory ({error}); kept the previous one"))
            memory = previous or story.seed.premise
            options = list(GENERIC_OPTIONS)
            fallback = True
        except ModelError as error:
            raise StepError(f"the story could not go on: {error}", error.hint) from None
        if premade:
            options = list(premade)
        # seq is the record's own, set by _commit once the step is ready to be saved
        return Version(seq=-1, paragraph=paragraph, memory=memory, options=options, fallback=fallback)
