"""The story as a book: its chapters, each step with the action that led to it, and the branch it
tells. Every export format is written from this one shape, with every text already made safe.

Chapters break where the narrator closed one (a version whose `chapter` is set): the next
chapter opens with the recap the narrator read from then on.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from game.core.story import Story
from game.core.text import safe

AUTHOR = "Recurrent"  # a seed without an author: the story was told by the game and its reader


@dataclass
class Page:
    number: int
    action: str  # what the reader chose ('' for the opening)
    paragraph: str


@dataclass
class Chapter:
    number: int
    recap: str = ""  # the story so far, as the narrator read it from this chapter on ('' for the first)
    pages: list[Page] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Chapter {self.number}"


@dataclass
class Book:
    title: str
    author: str
    genre: str
    premise: str
    slot: str
    telling: str  # which slot and branch this is, in words
    chapters: list[Chapter]
    identifier: str

    @property
    def pages(self) -> list[Page]:
        return [page for chapter in self.chapters for page in chapter.pages]


def telling(slot: str, header: dict | None) -> str:
    """'Slot NAME', and for a branch where it forks from (and the choice that started it)."""
    header = header or {}
    if not slot:
        return ""
    parent, fork = header.get("parent"), header.get("fork_step")
    if parent is None or fork is None:
        return f"Slot {slot}"
    line = f"Slot {slot}, a branch of {parent} from step {fork}"
    choice = header.get("choice")
    return safe(f"{line}, where the reader chose: {choice}" if choice else line)


def book_of(story: Story, slot: str = "", header: dict | None = None) -> Book:
    """`story` as a book; `header` (the slot's) says which branch it is."""
    seed = story.seed
    chapters = [Chapter(1)]
    for step in story.steps:
        chapters[-1].pages.append(Page(step.number, safe(step.action) if step.number > 0 else "",
                                       safe(step.version.paragraph)))
        if step.version.chapter and step is not story.steps[-1]:
            chapters.append(Chapter(len(chapters) + 1, recap=safe(step.version.memory)))
    created = story.steps[0].at.isoformat() if story.steps else ""
    # Stable for one slot's story, different for each branch: readers keep them apart.
    identifier = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'recurrent:{slot}:{seed.title}:{created}')}"
    return Book(title=safe(seed.title), author=safe(seed.author) or AUTHOR, genre=safe(seed.genre),
                premise=safe(seed.premise), slot=slot, telling=telling(slot, header), chapters=chapters,
                identifier=identifier)
