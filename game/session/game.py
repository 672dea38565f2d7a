"""One playthrough, and every verb a face may use on it.

`Game` holds the slot, the narrator, the model and the reader's preferences. The TUI, `recurrent
write` and the tests open one the same way, so a new game gets its preferences, its backend and
its cleanup from one place, and no face reaches past it to the engine or the saves.
"""
from __future__ import annotations

import asyncio
import gc
import shutil
import tempfile
from pathlib import Path
from typing import Awaitable, Callable

from game.core.errors import PlayerError
from game.core.events import Sink
from game.core.settings import Settings
from game.engine import edits
from game.engine.narrator import Narrator
from game.saves.branch import branch_at, copy_slot
from game.saves.export import render, write_transcript
from game.saves.names import SlotError
from game.saves.slot import MemoryConfig, Slot, SlotExists
from game.saves.folder import delete_slot
from game.session.model import Model
from game.session.settings import engine_settings, memory_config, prefs_from

_open_games: set["Game"] = set()  # not yet closed: what `close_all` waits for as a face ends


class Game:
    """One playthrough. Open it with `await Game.open(...)` and end it with `await close()`, or
    `abandon()` when the face that opened it has gone (it is closed in the background)."""

    def __init__(self, settings: Settings, slot: Slot, model: Model | None = None, *, fresh: bool = False) -> None:
        self.settings = settings
        self.slot = slot
        self.fresh = fresh  # this game made the slot: if it ends with no step told, it leaves none behind
        self.model = model if model is not None else Model(settings)
        self._own_model = model is None  # a shared model (the TUI's) belongs to its giver
        self._narrator: Narrator | None = None
        self._closing: asyncio.Future | None = None
        self._keeping: asyncio.Future | None = None  # the model's cache being saved as a chapter begins
        self.throwaway: Path | None = None  # a playtest's own folder, deleted with its slot when the game closes
        _open_games.add(self)

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    async def open(cls, settings: Settings, saves: Path, name: str, seed=None, model: Model | None = None, *,
                   reading: bool = False, playtest: bool = False,
                   shown: Callable[[object], Awaitable[None]] | None = None) -> "Game":
        """Slot `name` opened off the event loop (see `open_now`). With `shown`, the story is given
        to it before long-term memory (which grows with the story) opens, so a face can show it
        first. If the caller is cancelled meanwhile (the player left), or memory cannot be opened,
        the game is closed once what is under way in its thread is done."""
        def read() -> Game:
            if playtest:
                game = cls.playtest(settings, seed, model)
            else:
                game = cls.open_now(settings, saves, name, seed, model, memory=shown is None, reading=reading)
            game.story.words()  # counted here, off the event loop: a status line shows it
            return game

        game = await _seen_through(asyncio.to_thread(read), None)
        if game.slot.memory is None:
            if shown is not None:
                try:
                    await shown(game.story)
                except BaseException:
                    game.abandon()  # the player left before the story was shown
                    raise
            try:
                await _seen_through(asyncio.to_thread(game.open_memory), game)
            except PlayerError:
                game.abandon()  # its memory could not be opened: let go of the slot
                raise
        await _seen_through(asyncio.to_thread(_settle), game)
        return game

    @classmethod
    def open_now(cls, settings: Settings, saves: Path, name: str, seed=None, model: Model | None = None,
                 memory: bool = True, reading: bool = False) -> "Game":
        """Blocking. Slot `name` in `saves`, new from `seed` when one is given. A slot that holds only
        that same seed (a game that died before its first step) goes on; any other story is refused.
        With `memory` False an existing slot's long-term memory is left for `open_memory`.
        `reading`: a player opened it to read and play (the title's Continue goes back to it); a
        headless run writes nothing until a step is told."""
        config = memory_config(settings)
        if seed is None:
            slot = Slot.open(saves, name, config, memory=memory)
            if reading:
                slot.mark_opened()
            return cls(settings, slot, model)
        try:
            slot = Slot.create(saves, name, seed, prefs_from(settings, seed), config=config)
        except SlotExists:
            slot = _begun_with(Slot.open(saves, name, config), seed)
        return cls(settings, slot, model, fresh=True)

    @property
    def said(self) -> str:
        """What opening the slot did that the player should hear of, in one line ("" for nothing):
        long-term memory that could not be read, rebuilt from the journal."""
        return self.slot.said

    def open_memory(self) -> None:
        """Open long-term memory and bring it level with the journal, if `open` left it. Blocking."""
        if self.slot.memory is None:
            self.slot.open_memory()  # refuses a journal that long-term memory shows was cut short
            self.slot.level_journal()  # a crash mid-append: that record never counted

    @classmethod
    def playtest(cls, settings: Settings, seed, model: Model | None = None) -> "Game":
        """Blocking. A throwaway game of `seed` (the studio's playtest), in a folder of its own outside
        the saves: nothing of it is listed or kept, and closing the game deletes it."""
        folder = Path(tempfile.mkdtemp(prefix="recurrent-playtest-"))
        try:
            # Memory in the slot's own folder even when the player's games use a Chroma server.
            slot = Slot.create(folder, "playtest", seed, prefs_from(settings, seed), config=MemoryConfig())
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        game = cls(settings, slot, model, fresh=True)
        game.throwaway = folder
        return game

    @property
    def story(self):
        return self.slot.story

    @property
    def name(self) -> str:
        return self.slot.name

    @property
    def saves(self) -> Path:
        return self.slot.root

    def lineage(self) -> dict:
        """Where this slot came from (parent, fork step, the choice that started it), for exports."""
        return self.slot.lineage()

    # -- telling: the model's work -----------------------------------------------------------
    async def narrator(self) -> Narrator:
        """The narrator, given the model's backend (made in a thread the first time). A new
        backend (the settings changed) gets a new narrator: what it learnt of the old is void."""
        backend = await self.model.ready()
        if self._narrator is None or self._narrator.backend is not backend:
            self._narrator = Narrator(self.slot, backend, engine_settings(self.settings))
            if self.throwaway is None:  # a playtest leaves no cache behind
                backend.open_story(self.slot.root, self.slot.name)  # the local model restores its saved cache
        return self._narrator

    async def begin(self, hear: Sink | None = None):
        """The opening paragraph (step 0), if the story has none yet. `hear` is given the turn's
        events as they come (game/core/events.py)."""
        return await (await self.narrator()).begin(hear)

    async def tell(self, action: str, hear: Sink | None = None):
        """The next step, for the player's `action`. Nothing is saved unless all of it is told."""
        step = await (await self.narrator()).step(action, hear)
        self._keep_at_chapter(step.number)
        return step

    async def retry(self, hear: Sink | None = None):
        """The last step told again; the telling before is kept as a version to flip back to."""
        return await (await self.narrator()).retry(hear)

    def _keep_at_chapter(self, number: int) -> None:
        """Step `number` was the first of a new chapter: what every request of that chapter begins
        with (the rules, the recap, the step that closed the last one) is now in the model's cache,
        so the local model saves it, in the background while the player reads. A game that dies
        before it closes then still resumes from its chapter's start. (At the closing step itself
        the cache holds the old chapter, which the next request no longer begins with.)"""
        steps = self.story.steps
        if self.throwaway is not None or number < 2 or number >= len(steps) or not steps[number - 1].version.chapter:
            return
        if self._narrator is None or (self._keeping is not None and not self._keeping.done()):
            return
        self._keeping = asyncio.ensure_future(self._narrator.backend.keep_story())  # best-effort: it never raises

    # -- the player's own changes: one journal record each --------------------------------
    async def undo(self):
        return await edits.undo(self.slot)

    async def edit(self, number: int, paragraph: str) -> None:
        await edits.edit(self.slot, number, paragraph)

    async def flip(self, number: int, index: int) -> None:
        await edits.flip(self.slot, number, index)

    async def remember(self, text: str) -> None:
        """The player's own words for the story's memory (the recap the narrator reads)."""
        await edits.set_memory(self.slot, text)

    async def pin(self, notes: list[str]) -> None:
        await edits.set_pinned(self.slot, notes)

    async def pin_note(self, note: str) -> int:
        """One more pinned note (`/pin`): its number among them."""
        await self.pin([*self.story.pinned, note])
        return len(self.story.pinned)

    async def unpin_note(self, number: int) -> str:
        """Pinned note `number` (from 1) taken back (`/unpin`): its text. PlayerError for no such note."""
        pinned = list(self.story.pinned)
        if not 1 <= number <= len(pinned):
            raise PlayerError(f"there is no pinned note {number}: " + (f"they are 1-{len(pinned)}" if pinned else
                                                                       "none is pinned"))
        gone = pinned.pop(number - 1)
        await self.pin(pinned)
        return gone

    async def forget(self, entry_id: str) -> None:
        await edits.forget(self.slot, entry_id)

    async def amend(self, entry_id: str, text: str) -> None:
        await edits.amend(self.slot, entry_id, text)

    async def search(self, query: str, limit: int) -> list[tuple[object, str]]:
        """Long-term memory's entries for `query`, each with why it was found; the latest entries
        when the query is empty; none while memory is not open."""
        memory = self.slot.memory
        if memory is None:
            return []
        if not query.strip():
            return [(entry, "latest") for entry in reversed(self.story.entries()[-limit:])]
        hits = await asyncio.to_thread(memory.search, query, limit, len(self.story.steps) + 1)  # a Chroma query
        return [(hit.entry, hit.why) for hit in hits]

    async def use_settings(self, settings: Settings) -> bool:
        """New settings from the next step on: the engine's share at once, the way the story is
        told as a record of the story (so it survives a reload). True if the story changed."""
        self.settings = settings
        if self._narrator is not None:
            self._narrator.settings = engine_settings(settings)
        wanted = prefs_from(settings, self.story.seed, self.story.prefs)
        if wanted == self.story.prefs:
            return False
        await edits.set_prefs(self.slot, wanted)
        return True

    # -- new slots from this one, and transcripts -----------------------------------------
    async def branch(self, step: int, new: str) -> str:
        """A new slot `new` whose story is this one's steps 0..`step`; this one goes on as it is."""
        made = await asyncio.to_thread(branch_at, self.saves, self.name, step, new, memory_config(self.settings))
        self.fresh = False  # the branch names this slot as its parent: it is kept, even at its opening
        return made

    async def save_as(self, new: str) -> None:
        """A copy of the whole story as slot `new` (a branch at the last step)."""
        await asyncio.to_thread(copy_slot, self.saves, self.name, new, memory_config(self.settings))
        self.fresh = False  # named as the copy's parent: kept

    async def export(self, fmt: str, path: str) -> Path:
        """The story written to `path` as `fmt` (an e-book of a long story takes a moment)."""
        slot = self.slot
        return await asyncio.to_thread(write_transcript, slot.story, path, slot.name, fmt, slot.lineage(), slot.root)

    async def rendered(self, fmt: str) -> bytes:
        """The story as `fmt`, in memory: a browser's export downloads it, writing nothing here."""
        slot = self.slot
        return await asyncio.to_thread(render, slot.story, fmt, slot.name, slot.lineage())

    # -- closing ---------------------------------------------------------------------------
    async def close(self) -> None:
        """Idempotent, and whole even when the caller is cancelled: a face closes a game, and
        again (waiting for that close to finish) as it ends."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    def abandon(self) -> None:
        """Close the game in the background: its face has gone. `close_all` waits for it."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())

    async def _close(self) -> None:
        try:
            if self._keeping is not None:
                await self._keeping  # a chapter's save under way finishes first
            await asyncio.to_thread(self._close_slot)
            if self._narrator is not None and self.throwaway is None and self.slot.path.exists():
                # The local model saves its cache, after the slot is closed: every step is in the journal.
                await self._narrator.backend.keep_story()
            if self._own_model:
                await self.model.close()
        finally:
            _open_games.discard(self)

    def _close_slot(self) -> None:
        try:
            self._let_go()
        finally:
            # What `_settle` froze as the game opened is thawed, so the closed game's cycles are
            # the collector's again: a player on the title screen does not keep a closed story's
            # Chroma and embedder objects until the next game opens. Not collected here: that
            # held the loop 55 ms as the game closed (bench/stall.py); Python collects them soon.
            gc.unfreeze()

    def _let_go(self) -> None:
        slot = self.slot
        slot.close()
        if self.throwaway is not None:
            try:
                delete_slot(slot.root, slot.name)
            except PlayerError:
                pass  # the folder goes below all the same
            shutil.rmtree(self.throwaway, ignore_errors=True)
            return
        if self.fresh and slot.story is not None and _only_the_seed(slot.story):
            try:
                delete_slot(slot.root, slot.name)  # nothing but the seed: leave no empty slot behind
            except PlayerError:
                pass  # an empty slot left behind costs nothing: the same seed goes on from it


async def close_all() -> None:
    """Every game not yet closed, closed (or its closing finished): a face ends."""
    for game in list(_open_games):
        try:
            await game.close()  # closing twice is harmless
        except Exception:  # noqa: BLE001 - the face is ending; one game's failure must not keep the others open
            _open_games.discard(game)


async def _seen_through(work, game: Game | None):
    """`work` (opening a slot, or its memory) seen through even if the caller is cancelled
    meanwhile: then the game it opened (or `game`) is abandoned once the work is done."""
    task = asyncio.ensure_future(work)
    try:
        result = await asyncio.shield(task)
    except asyncio.CancelledError:
        def close(done) -> None:
            opened = game if game is not None else (None if done.cancelled() or done.exception() else done.result())
            if opened is not None:
                opened.abandon()
        task.add_done_callback(close)
        raise
    return result if game is None else game


def _settle() -> None:
    """The heap as it stands once a game is open, collected and then frozen (`gc.freeze`): left as
    it is, Python's occasional full collection walks every object Chroma, the embedder and the
    story hold, on whichever thread allocates, and a step on the event loop paid 50-70 ms for it
    (bench/stall.py). Frozen objects are still freed when their last reference goes; only the
    cyclic collector passes them by, so what an earlier freeze kept is thawed and collected first
    (a game closed since leaves no cycle behind for good). Done while the game opens, in a
    thread, where the player waits anyway."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _begun_with(slot: Slot, seed) -> Slot:
    """`slot`, if it holds nothing but `seed`: rerunning the command that made it goes on from it."""
    story = slot.story
    if _only_the_seed(story) and story.seed == seed:
        return slot
    slot.close()
    name = slot.name
    if story.seed == seed:
        steps = f"{story.taken} step{'s' if story.taken != 1 else ''}"
        raise SlotError(f"slot {name} already holds this story, {steps} in: continue it with "
                        f"--slot {name} and no --story, or choose another --slot to start afresh")
    raise SlotError(f"slot {name} already holds another story ({story.seed.title!r}): continue that one with "
                    f"--slot {name} and no --story, or choose another --slot for this one")


def _only_the_seed(story) -> bool:
    """A story that holds nothing the seed does not: no step, or only the author's own opening."""
    if not story.steps:
        return True
    return story.taken == 0 and story.steps[0].version.paragraph == story.seed.opening.strip()
