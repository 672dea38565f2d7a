"""One playthrough, opened the same way by every face of the game.

`Game` holds the slot, the narrator, the model backend and the reader's preferences. The
TUI opens one in a thread worker, `recurrent write` opens one directly, and the tests open
them too, so a new game gets its preferences, its backend and its cleanup from one place.
"""
from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from game.core.errors import PlayerError
from game.core.models import Preferences
from game.core.settings import Settings, load_settings
from game.engine.narrator import EngineSettings, Narrator
from game.core.paths import default_saves_dir
from game.saves.names import SlotError
from game.saves.slot import MemoryConfig, Slot, SlotExists, delete_slot


def settings_from(args) -> Settings:
    return load_settings(
        model=getattr(args, "model", None),
        backend=getattr(args, "backend", None),
        base_url=getattr(args, "base_url", None),
        gguf=getattr(args, "gguf", None),
        saves_dir=getattr(args, "saves_dir", None),
    )


def saves_root(args, settings: Settings) -> Path:
    explicit = getattr(args, "saves_dir", None) or settings.saves_dir
    return Path(explicit).expanduser() if explicit else default_saves_dir()


def memory_config(settings: Settings) -> MemoryConfig:
    return MemoryConfig(host=settings.chroma_host, port=settings.chroma_port, seconds=settings.memory_timeout)


def prefs_from(settings: Settings, seed, current: Preferences | None = None) -> Preferences:
    """The reader's preferences: the player's settings, the seed's content rating (kept from
    `current`, the story's own, when there is one)."""
    rating = current.rating if current is not None else seed.rating
    return Preferences(person=settings.person, tone=settings.tone, paragraph_words=settings.paragraph_words, rating=rating)


def engine_settings(settings: Settings) -> EngineSettings:
    """The engine's share of the player's settings."""
    # A ceiling the player did not set is the engine's to fit to the server (Narrator.budget).
    ceiling = settings.prompt_tokens if "prompt_tokens" in settings.model_fields_set else None
    return EngineSettings(settings.temperature, settings.memory_words, ceiling, settings.context)


class Game:
    """One playthrough. `open` and `close` block (a slot opens and levels its memory): from an
    event loop, call `open` in a thread and await `close`."""

    def __init__(self, settings: Settings, slot: Slot, backend=None, *, fresh: bool = False) -> None:
        self.settings = settings
        self.slot = slot
        self.fresh = fresh  # this game made the slot: if it ends with no step told, it leaves none behind
        # A backend, or a function that gives one (the TUI shares one backend between games).
        self._given: Callable | None = backend if callable(backend) else (lambda: backend) if backend else None
        self._backend = None
        self._lock = threading.Lock()
        self._closing: asyncio.Future | None = None
        self.narrator = Narrator(slot, None, engine_settings(settings))
        self.throwaway: Path | None = None  # a playtest's own folder, deleted with its slot when the game closes

    @classmethod
    def open(cls, settings: Settings, saves: Path, name: str, seed=None, backend=None, memory: bool = True,
             reading: bool = False) -> "Game":
        """Slot `name` in `saves`, new from `seed` when one is given. A slot that holds only that
        same seed (a game that died before its first step) goes on; any other story is refused.
        With `memory` False an existing slot's long-term memory (which grows with the story) is
        left for `open_memory`, so a face can show the story first. `reading`: a player opened it
        to read and play (the title's Continue goes back to it); a headless run writes nothing
        until a step is told."""
        config = memory_config(settings)
        if seed is None:
            slot = Slot.open(saves, name, config, memory=memory)
            if reading:
                slot.mark_opened()
            return cls(settings, slot, backend)
        try:
            slot = Slot.create(saves, name, seed, prefs_from(settings, seed), config=config)
        except SlotExists:
            slot = _begun_with(Slot.open(saves, name, config), seed)
        return cls(settings, slot, backend, fresh=True)

    def open_memory(self) -> None:
        """Open long-term memory and bring it level with the journal, if `open` left it. Blocking."""
        if self.slot.memory is None:
            self.slot.open_memory()  # refuses a journal that long-term memory shows was cut short
            self.slot.level_journal()  # a crash mid-append: that record never counted

    @classmethod
    def playtest(cls, settings: Settings, seed, backend=None) -> "Game":
        """A throwaway game of `seed` (the studio's playtest), in a folder of its own outside the
        saves: nothing of it is listed or kept, and closing the game deletes it."""
        folder = Path(tempfile.mkdtemp(prefix="recurrent-playtest-"))
        try:
            # Memory in the slot's own folder even when the player's games use a Chroma server.
            slot = Slot.create(folder, "playtest", seed, prefs_from(settings, seed), config=MemoryConfig())
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        game = cls(settings, slot, backend, fresh=True)
        game.throwaway = folder
        return game

    @property
    def story(self):
        return self.slot.story

    @property
    def name(self) -> str:
        return self.slot.name

    def backend(self):
        """The model backend, made on first use; NoBackend (with how to set one up) if there is none.
        Blocking the first time (a probe for Ollama, the local model's start)."""
        with self._lock:
            if self._given is not None:
                backend = self._given()
            else:
                if self._backend is None:
                    from game.llm import from_settings

                    self._backend = from_settings(settings=self.settings)
                backend = self._backend
            self.narrator.backend = backend
            opened = getattr(backend, "open_story", None)  # the local model restores its saved cache
            if opened is not None and self.throwaway is None:
                opened(self.slot.root, self.slot.name)
            return backend

    async def use_settings(self, settings: Settings) -> bool:
        """New settings from the next step on: the engine's share at once, the way the story is
        told as a record of the story (so it survives a reload). True if the story changed."""
        self.settings = settings
        self.narrator.settings = engine_settings(settings)
        wanted = prefs_from(settings, self.story.seed, self.story.prefs)
        if wanted == self.story.prefs:
            return False
        await self.narrator.set_prefs(wanted)
        return True

    async def close(self) -> None:
        """Idempotent, and whole even when the caller is cancelled: the TUI closes a game from
        its screen, and again (waiting for that close to finish) as the app ends."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        await asyncio.to_thread(self._close_slot)
        keep = getattr(self.narrator.backend, "keep_story", None)  # the local model saves its cache
        if keep is not None and self.throwaway is None and self.slot.path.exists():
            await keep()  # after the slot is closed: every step is in the journal whatever happens here
        backend, self._backend = self._backend, None
        if backend is not None:  # only the one this game made; a shared one belongs to its giver
            await backend.close()

    def _close_slot(self) -> None:
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

