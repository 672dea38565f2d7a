"""The player's own changes to a story: each is one journal record, checked and then saved.

None needs the model, so a face makes them with the store alone (`game.session.Game`), and
the narrator passes its own on to the same functions.
"""
from __future__ import annotations

import asyncio

from game.core import records as r
from game.core.errors import PlayerError
from game.core.models import Step
from game.core.text import safe
from game.engine.protocols import Store


class StepError(PlayerError):
    """A step could not be taken; nothing was saved. One line for the player."""


async def save(store: Store, record: r.Record) -> None:
    """One record committed in a thread: a journal's sync and a memory write block."""
    await asyncio.to_thread(store.commit, record)


async def undo(store: Store) -> Step:
    story = store.story
    if len(story.steps) < 2:
        raise StepError("nothing to undo: this is the opening")
    last = story.steps[-1]
    await save(store, r.Undone())
    return last


async def edit(store: Store, number: int, paragraph: str) -> None:
    paragraph = safe(paragraph).strip()
    if not paragraph:
        raise StepError("a paragraph cannot be empty")
    if not 0 <= number < len(store.story.steps):
        raise StepError(f"there is no step {number}")
    await save(store, r.Edited(number=number, paragraph=paragraph))


async def flip(store: Store, number: int, index: int) -> None:
    steps = store.story.steps
    if not 0 <= number < len(steps) or not 0 <= index < len(steps[number].alternatives):
        raise StepError(f"step {number} has no version {index + 1}")
    await save(store, r.Flipped(number=number, index=index))


async def set_memory(store: Store, text: str) -> None:
    await save(store, r.MemoryEdited(text=safe(text).strip()))


async def set_pinned(store: Store, notes: list[str]) -> None:
    await save(store, r.Pinned(notes=[safe(n).strip() for n in notes if n.strip()]))


async def set_prefs(store: Store, prefs) -> None:
    """The reader's preferences (person, tone, paragraph length, rating) from the next step on."""
    await save(store, r.PrefsSet(prefs=prefs))


async def forget(store: Store, entry_id: str) -> None:
    await save(store, r.Forgotten(id=entry_id))


async def amend(store: Store, entry_id: str, text: str) -> None:
    if not text.strip():
        raise StepError("a memory cannot be empty; delete it instead")
    await save(store, r.Amended(id=entry_id, text=safe(text).strip()))
