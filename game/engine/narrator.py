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

from game.core import records as r
from game.core.calls import CallUsage, InvalidOutput, ModelError, Notice, Reply
from game.core.errors import PlayerError
from game.core.events import Event, Options, Sink, Text
from game.core.models import Bookkeeping, Notes, Step, Version
from game.core.text import clip_words, safe, tokens
from game.core.world import triggered
from game.engine import edits, guards
from game.engine.edits import StepError
from game.engine.fallback import story_options
from game.engine.notes import OptionsWatcher, ends_mid_sentence, mechanical_recap, whole_sentences
from game.engine.prompts import (BEGIN, Budget, bookkeeping_messages, chapter_tokens, chapter_turns, lore_in_play,
                                 lore_that_fits, narration_messages, recap_for, system_prompt)
from game.engine.protocols import Backend, Store
from game.engine.recall import recall


MAX_ACTION_CHARS = 4000  # a paragraph of instructions at most; a pasted file is a mistake
CONTINUE = "Continue the story."
NOTES_TOKENS = 300  # three options and a note
SMALL_WINDOW = 1500  # a prompt budget below this forgets too soon for a good story
PROMPT_TOKENS = 3000  # the prompt's ceiling when the player set none and the server keeps no cache of it
# A model whose options were asked for once more and came back no better is not asked again for
# this many steps: the demo model's second answer is no better than its first (bench/quality.py),
# and every ask is seconds the player waits for the options. After the rest it is asked again.
ASK_AGAIN_REST = 5
TELLINGS = 3  # the most tellings of one paragraph: a stream cut short though 'finished', or too little left after the guards


@dataclass
class EngineSettings:
    temperature: float = 0.8
    memory_words: int = 200
    # The player's ceiling; the server's context window may make it smaller. None: the player set
    # none, so a server that keeps its cache gets its whole window (`Narrator.budget`), others 3,000.
    prompt_tokens: int | None = 3000
    context: int | None = None  # the server's context window when the server does not say


def _say(hear: Sink | None, event: Event) -> None:
    if hear is not None:
        hear(event)


class NoOption(PlayerError):
    """A digit alone that picks none of the options shown ('4' beside three)."""


def pick(text: str, options: list[str], empty: str = "continue") -> str:
    """The action a line of input stands for: a digit alone picks an option ('1'-'3'); '' continues
    (or picks option 1 when `empty` is 'first'); anything else is the player's own. A digit that
    picks no option raises NoOption: it was a slip, and told as the action it would cost a step."""
    line = " ".join(text.split())
    if len(line) == 1 and line.isdigit():
        number = int(line)
        if 1 <= number <= len(options):
            return options[number - 1]
        shown = f"1-{len(options)} pick an option" if len(options) > 1 else ("1 picks the option" if options else
                                                                             "there are no options now")
        raise NoOption(f"there is no option {line}: {shown}; to say a number in the story, write it in a sentence")
    if not line:
        return options[0] if empty == "first" and options else CONTINUE
    return line


class Narrator:
    def __init__(self, store: Store, backend: Backend | None, settings: EngineSettings | None = None) -> None:
        self.store = store
        self.backend = backend
        self.settings = settings or EngineSettings()
        self.last_prompt_tokens = 0  # the estimated size of the last narration prompt
        self.window: int | None = None  # the server's context window, once asked
        self._window_asked = None  # the backend it was asked of
        self._small_said = False
        # Steps left to tell before unusable options are asked for once more. Counted in steps told,
        # not step numbers: an undo or a branch back must not stretch the rest.
        self._resting = 0

    @property
    def story(self):
        return self.store.story

    async def _save(self, record: r.Record) -> None:
        await edits.save(self.store, record)

    # -- taking steps -------------------------------------------------------------------
    async def begin(self, hear: Sink | None = None) -> Step:
        """The opening paragraph (step 0): the seed's, or one the model writes. `hear` is given the
        turn's events as they come (game/core/events.py: text, notices, the options)."""
        if self.story.steps:
            return self.story.steps[0]
        opening = self.story.seed.opening.strip()
        if opening and len(self.story.seed.options) == 3:  # the author wrote it all: no model call
            _say(hear, Text(opening))
            version = Version(seq=-1, paragraph=opening, memory="", options=list(self.story.seed.options))
        elif opening:
            _say(hear, Text(opening))
            budget = await self.budget(hear)
            narration = narration_messages(self.story, 0, BEGIN, [], [], budget)
            version = await self._bookkeep(narration, opening, 0, False, hear, action=BEGIN)
        else:
            version = await self._tell(0, BEGIN, hear)
        step = Step(number=0, action="", version=version)
        return await self._commit(r.Told(step=step))

    async def step(self, action: str, hear: Sink | None = None) -> Step:
        if not self.story.steps:
            await self.begin(lambda event: _say(hear, event) if isinstance(event, Notice) else None)
        action = safe(action).strip() or CONTINUE
        if len(action) > MAX_ACTION_CHARS:
            raise StepError(f"an action can be at most {MAX_ACTION_CHARS:,} characters; this one has {len(action):,}")
        number = len(self.story.steps)
        version = await self._tell(number, action, hear)
        step = Step(number=number, action=action, version=version)
        return await self._commit(r.Told(step=step))

    async def retry(self, hear: Sink | None = None) -> Step:
        """The last step told again; the earlier telling is kept as an alternative. Its request is
        the one that told it before, so a server's cache has all of it."""
        steps = self.story.steps
        if not steps or (len(steps) == 1 and self.story.seed.opening.strip()):
            raise StepError("there is no step to retry yet")  # an author's opening is not the model's to retell
        last = steps[-1]
        version = await self._tell(last.number, last.action or BEGIN, hear)
        step = Step(number=last.number, action=last.action, version=version,
                    alternatives=[last.version, *last.alternatives])
        return await self._commit(r.Retold(step=step))

    async def _commit(self, record: r.Told | r.Retold) -> Step:
        # The store gives the version the record's own seq (the root of its memory ids) as it
        # commits, so an edit saved while the model was busy cannot share it.
        await self._save(record)
        return self.story.steps[-1]

    # -- the budget ----------------------------------------------------------------------
    def _reply_tokens(self) -> tuple[int, int]:
        """The paragraph's and the notes' token ceilings (a chapter's notes carry the recap)."""
        # Twice the words asked for: room for any real paragraph (about 1.3 tokens a word), while a
        # model that rambles is stopped before it fills the chapter (its half sentence is dropped).
        return max(64, self.story.prefs.paragraph_words * 2), NOTES_TOKENS + self.settings.memory_words * 2

    async def budget(self, hear: Sink | None = None) -> Budget:
        """The prompt's budget: the player's ceiling, fitted to the server's context window with
        room for the paragraph, the request for notes and the notes themselves."""
        if self._window_asked is not self.backend:
            self._window_asked = self.backend
            self.window = await self.backend.context_window() or self.settings.context
        total = self.settings.prompt_tokens
        if total is None:
            # A server that keeps the story's cache (the local model, saved across sessions too) reads
            # only each step's new turn, so a chapter as long as its window costs nothing more a step,
            # and fewer chapter closes mean fewer prompts read again from the recap on. Elsewhere
            # (a hosted API bills every prompt token) the prompt stays at its usual ceiling.
            total = self.window if self.backend.keeps_cache and self.window else PROMPT_TOKENS
        if self.window:
            paragraph, notes = self._reply_tokens()
            total = min(total, self.window - paragraph - notes - 200)
            if total < SMALL_WINDOW and not self._small_said:
                self._small_said = True
                _say(hear, Notice(f"the model's context window is {self.window} tokens: too small for a good story "
                                  "(it will forget sooner); give the model a window of 4,096 tokens or more"))
        # The budget is in real tokens; the prompt is measured with the estimate, which the backend
        # has calibrated against the server's own counts (a language its tokenizer splits finely).
        scale = self.backend.token_scale or 1.0
        budget = Budget(max(600, int(total / scale)))
        budget.system = tokens(system_prompt(self.story, budget))
        return budget

    # -- one telling ----------------------------------------------------------------------
    async def _tell(self, number: int, action: str, hear: Sink | None) -> Version:
        story = self.story
        budget = await self.budget(hear)
        start, turns = chapter_turns(story, number, budget)
        told = {(p.step, p.text) for n in range(start, number) for p in story.steps[n].version.recalled}
        try:
            found = await asyncio.to_thread(recall, self.store.memory, story, number, action, before=start)
        except Exception as error:  # Chroma failing must not stop the story; the store rebuilds its index
            _say(hear, Notice(f"long-term memory could not be searched this step ({type(error).__name__}); going on without it"))
            found = []
        recalled = [passage for passage in found if (passage.step, passage.text) not in told]  # already in the chapter
        lore, _left_out = lore_that_fits(lore_in_play(story, number, action, start), budget)
        messages = narration_messages(story, number, action, recalled, lore, budget)
        self.last_prompt_tokens = sum(tokens(m["content"]) for m in messages)
        paragraph_tokens, _notes = self._reply_tokens()
        paragraph, narrated = await self._guarded(messages, paragraph_tokens, number, hear)
        # The chapter closes at this step when its turns, this one and one more like it, would pass
        # their budget: the bookkeeping then writes the recap the next chapter starts from.
        turn = tokens(messages[-1]["content"]) + tokens(paragraph)
        closes = number > 0 and chapter_tokens(story, number, budget) + 2 * turn > budget.chapter
        version = await self._bookkeep(messages, paragraph, number, closes, hear, action=action)
        return version.model_copy(update={
            "recalled": recalled,
            "world": [entry.name for entry in lore],
            "prompt_tokens": narrated.prompt_tokens or self.last_prompt_tokens,
            "completion_tokens": narrated.completion_tokens,
        })

    async def _narrate(self, messages, max_tokens: int, hear: Sink | None) -> tuple[str, Reply]:
        """The paragraph as told, and the reply it came in (how it ended, what it cost)."""
        pieces: list[str] = []

        def notice(event: Notice) -> None:
            if event.restart:
                pieces.clear()  # the stream starts over; what was shown is void
            _say(hear, event)

        reply = self.backend.stream(messages, max_tokens=max_tokens, temperature=self.settings.temperature,
                                    on_notice=notice)
        try:
            async for piece in reply:
                piece = safe(piece)
                pieces.append(piece)
                _say(hear, Text(piece))
        except ModelError as error:
            raise StepError(f"the story could not go on: {error}", error.hint) from None
        paragraph = "".join(pieces).strip()
        if reply.finish == "length":
            whole = whole_sentences(paragraph)
            _say(hear, Notice(f"the paragraph reached its length limit ({max_tokens} tokens)"
                              + ("; its last, unfinished sentence was dropped" if whole != paragraph else "")))
            paragraph = whole
        if not paragraph:
            raise StepError("the model returned an empty paragraph; try again")
        return paragraph, reply

    async def _bookkeep(self, narration, paragraph: str, number: int, closes: bool, hear: Sink | None,
                        action: str = "") -> Version:
        """The notes for `paragraph`: options first (`hear` hears them as soon as they arrive), a
        note, and at a chapter's close the recap of the whole story."""
        story = self.story
        previous = recap_for(story, number)
        messages = bookkeeping_messages(narration, paragraph, self.settings.memory_words, closes)
        offered = (lambda options: hear(Options(tuple(options)))) if hear is not None else None
        watcher = OptionsWatcher(offered, check=lambda found: guards.options(found, paragraph, action))

        def notice(event: Notice) -> None:
            if event.restart:
                watcher.restart()
            _say(hear, event)

        schema = Bookkeeping if closes else Notes
        notes_tokens = NOTES_TOKENS + (self.settings.memory_words * 2 if closes else 0)
        try:
            notes = await self.backend.structured(
                messages, schema, max_tokens=notes_tokens, temperature=min(self.settings.temperature, 0.5),
                on_notice=notice, on_text=watcher.hear,
            )
            options = [clip_words(safe(option), 40) for option in notes.options]
            note = clip_words(safe(notes.note), 60)
            memory = clip_words(safe(notes.memory), int(self.settings.memory_words * 1.5)) if closes else previous
            fallback = False
        except InvalidOutput as error:
            # The server answers but not in JSON: keep the paragraph the player has already read,
            # keep the old memory and offer options made from the story rather than fail the step.
            _say(hear, Notice(f"could not update the story's memory ({error}); kept the previous one"))
            options, note, fallback = [], "", True
            memory = mechanical_recap(story, number, paragraph, self.settings.memory_words) if closes else previous
        except ModelError as error:
            raise StepError(f"the story could not go on: {error}", error.hint) from None
        options, note, memory = await self._guard_notes(messages, options, note, memory if closes else None,
                                                        paragraph, number, action, hear)
        memory = memory if memory is not None else previous
        watcher.heard(options)
        # seq is the record's own, set when the step is committed
        return Version(seq=-1, paragraph=paragraph, memory=memory, options=options, note=note, fallback=fallback,
                       chapter=closes)

    # -- the guards: a floor under what the model writes (guards.py) -----------------------
    async def _guarded(self, messages, max_tokens: int, number: int, hear: Sink | None) -> tuple[str, CallUsage]:
        """The paragraph with its guards applied, within TELLINGS tellings. A stream cut short
        and then ended with finish_reason "stop" stops mid-word, and the server says nothing of
        it: it is told again. So is a paragraph that is too short once its guards have cut it
        (nothing left at all: told as often as the tellings allow). The longest kept wins, with
        what its telling cost."""
        earlier = [step.version.paragraph for step in self.story.steps[max(0, number - 3):number]]
        floor = min(guards.MIN_WORDS, self.story.prefs.paragraph_words // 2)
        best = None
        usage = CallUsage()
        for attempt in range(1, TELLINGS + 1):
            raw, reply = await self._narrate(messages, max_tokens, hear)
            told = guards.paragraph(raw, earlier)
            if best is None or guards.better(best, told) is told:
                best, usage = told, reply.usage
            if attempt == TELLINGS:
                break
            # Judged on the prose alone: an echoed label at the end ("### Remembered") is not a cut.
            cut = reply.finish != "length" and ends_mid_sentence(guards.scaffolding(raw)[0])
            if cut:
                # Quiet: a weak model that stops mid-sentence is told again the same way.
                _say(hear, Notice("the paragraph stopped mid-sentence (its stream was cut short); telling it again",
                                  restart=True, quiet=True))
                continue
            if len(best.text.split()) >= floor or (attempt == 2 and best.text):
                break
            _say(hear, Notice(guards.said("the paragraph", [*told.fired, "too short, telling it again"]),
                              restart=True, quiet=True))
        if not best.text:
            raise StepError("the model wrote no usable paragraph (only the prompt's own words, or a repeat); try again",
                            "Try again; a larger model keeps to the story more often.")
        if best.fired:  # what was shown as it streamed is replaced by what is kept
            _say(hear, Notice(guards.said("the paragraph", best.fired), restart=True, quiet=True))
            _say(hear, Text(best.text))
        return best.text, usage

    async def _guard_notes(self, messages, options: list[str], note: str, memory: str | None, paragraph: str,
                           number: int, action: str, hear: Sink | None) -> tuple[list[str], str, str | None]:
        """Usable options (the model asked once more, unless that was in vain lately, then options
        made from the story), a note and a memory (`None`: not this step's to write) cut back to
        their distinct sentences."""
        def say(what: str, fired: list[str], detail: str = "") -> None:
            _say(hear, Notice(guards.said(what, fired, detail), quiet=True))

        good = guards.options(options, paragraph, action)
        resting, self._resting = self._resting, max(0, self._resting - 1)
        if options and len(good) < 3 and resting:
            guards.log.info("the options: %d of %r usable; not asked again (the model's last second answer was no "
                            "better than its first; %d step(s) of rest left after this one)", len(good), options, resting - 1)
        elif options and len(good) < 3:
            guards.log.info("the options: %d of %r usable; asking once more", len(good), options)
            try:
                again = await self.backend.structured(messages, Notes, max_tokens=NOTES_TOKENS,
                                                      temperature=min(self.settings.temperature, 0.5))
                good = guards.options([*good, *(safe(o) for o in again.options)], paragraph, action)
                note = note or safe(again.note)
                if len(good) < 3:
                    self._resting = ASK_AGAIN_REST
            except ModelError:
                pass  # the options below do; the step is not lost for want of better ones
        if len(good) < 3:
            story = self.story
            made = story_options(good, paragraph=paragraph, lore=triggered(story.seed.world, f"{action}\n{paragraph}"),
                                 seed_options=list(story.seed.options), taken=[s.action for s in story.steps[1:number]] + [action],
                                 protagonist=story.seed.protagonist.name, turn=number)
            say("the options", [f"{3 - len(good)} made from the story"], detail=f"the model offered {options!r}")
            good = made
        note = clip_words(guards.distinct(note).text, 60)
        if memory is not None:
            recap = guards.distinct(memory)
            if recap.fired:
                say("the memory", recap.fired)
            memory = recap.text or mechanical_recap(self.story, number, paragraph, self.settings.memory_words)
        return good, note, memory
