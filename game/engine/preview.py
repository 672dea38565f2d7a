"""What the narrator reads first: a seed's first narration request, built by the engine's own
code, with the size of every part, what the budget clips and which lore the opening brings in.

`recurrent stories preview`, `stories lint` and the studio's preview panel all read it, so an
author sees the request a game would send, not a description of it. The story is made the way
a new game makes it (the seed filled with its defaults, the author's opening as step 0), and
the request is the one the narrator sends for the first paragraph the model writes: the opening
itself when the seed has none, else the answer to the reader's first action.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from game.core import records as r
from game.core.calls import Message
from game.core.models import Preferences, Step, Version
from game.core.seed import Finding, Seed, WorldEntry
from game.core.story import Story
from game.core.text import clip_words, tokens
from game.engine.narrator import CONTINUE
from game.engine.prompts import (BEGIN, Budget, action_words, chapter_start, lore_in_play, lore_line, lore_that_fits,
                                 narration_messages, system_parts)


@dataclass
class Part:
    """One part of the request: where it comes from, its size, and how much of it is sent."""

    message: int  # which message it is in
    where: str  # the seed field it comes from, as error messages name it ('' for the game's own text)
    label: str
    tokens: int
    kept: int  # tokens that reach the model: fewer when the budget clips it, 0 when it is left out

    @property
    def clipped(self) -> bool:
        return self.kept < self.tokens


@dataclass
class Preview:
    seed: Seed  # as a new game begins it: every placeholder at its default
    budget: Budget
    number: int  # the step the request is for: 0 when the model writes the opening
    action: str
    messages: list[Message]
    parts: list[Part] = field(default_factory=list)
    triggered: list[WorldEntry] = field(default_factory=list)  # lore the opening and the action bring in
    left_out: list[WorldEntry] = field(default_factory=list)  # of those, what the lore budget has no room for

    @property
    def total(self) -> int:
        return sum(tokens(m["content"]) for m in self.messages)

    @property
    def always_on(self) -> int:
        """What the always-on lore costs in every prompt, as sent (after any clipping)."""
        return sum(p.kept for p in self.parts if p.message == 0 and p.where.startswith("world["))

    def findings(self) -> list[Finding]:
        """What the budget clips, in an author's words."""
        found = []
        prefix = (f"the rules, seed, pinned notes and always-on lore may take {self.budget.prefix:,} tokens "
                  f"(30% of a {self.budget.total:,}-token prompt)")
        system = [p for p in self.parts if p.message == 0]
        needed = sum(p.tokens for p in system)
        for part in system:
            if not part.clipped:
                continue
            reach = (f"{part.kept:,} of its {part.tokens:,} tokens reach the narrator" if part.kept else
                     f"none of its {part.tokens:,} tokens reach the narrator")
            found.append(Finding(part.where, f"{part.label} will be clipped ({reach}): {prefix}, and they need {needed:,}"))
        for part in self.parts:
            if part.message and part.clipped and part.where == "opening":
                found.append(Finding("opening", f"the opening ({part.tokens:,} tokens) is longer than a turn of the "
                                                f"chapter may be: the narrator reads only its last {part.kept:,}"))
        if self.left_out:
            names = ", ".join(repr(entry.name) for entry in self.left_out)
            found.append(Finding(f"world[{self.seed.world.index(self.left_out[0])}]",
                                 f"the opening triggers {len(self.triggered)} world entries, and lore in play may take "
                                 f"{self.budget.world:,} tokens a turn: {names} wait for a later turn", "note"))
        return found

    def report(self) -> list[str]:
        """The parts and their sizes, as plain lines (the command line and the studio show these)."""
        budget = self.budget
        when = "the opening, which the model writes" if self.number == 0 else "the first paragraph after the opening"
        lines = [
            f"The first narration request of {self.seed.title!r}: for {when}.",
            f"Budget: {budget.total:,} tokens (estimated at four characters a token; a server with a smaller context "
            f"window makes it smaller). Ceilings: prefix {budget.prefix:,}, chapter {budget.chapter:,}, recap "
            f"{budget.recap:,}, recalled {budget.recalled:,}, lore in play {budget.world:,}.",
        ]
        for index, message in enumerate(self.messages):
            lines.append("")
            lines.append(f"message {index + 1}: {message['role']}, {tokens(message['content']):,} tokens")
            for part in (p for p in self.parts if p.message == index):
                note = ""
                if part.clipped:
                    note = f"  << clipped to {part.kept:,}" if part.kept else "  << left out"
                lines.append(f"  {part.tokens:>6,}  {part.label}{note}")
        lines.append("")
        lines.append(f"Total: {self.total:,} of {budget.total:,} tokens.")
        lore = sum(p.tokens for p in self.parts if p.message == 0 and p.where.startswith("world["))
        lines.append(f"Always-on lore: {lore:,} tokens, {lore / budget.total:.0%} of the budget"
                     + (f" ({self.always_on:,} of them sent)." if self.always_on < lore else "."))
        if self.triggered:
            names = ", ".join(repr(entry.name) for entry in self.triggered)
            lines.append(f"World entries the opening triggers: {names}.")
            if self.left_out:
                lines.append(f"Left out of this turn for want of room: {', '.join(repr(e.name) for e in self.left_out)}.")
        else:
            lines.append("World entries the opening triggers: none.")
        return lines


def first_request(seed: Seed, prefs: Preferences | None = None, budget: Budget | None = None,
                  action: str | None = None) -> Preview:
    """The first narration request a new game from `seed` sends. `action` is the reader's first
    (default: the seed's first option, else carrying on); it is ignored when the model writes
    the opening."""
    seed = seed.filled()
    prefs = prefs or Preferences(rating=seed.rating)
    budget = budget or Budget()
    story = Story.begin(r.Begin(seq=0, seed=seed, prefs=prefs))
    opening = seed.opening.strip()
    if opening:  # the author's opening is step 0, as the narrator commits it
        version = Version(seq=1, paragraph=opening, memory="", options=list(seed.options))
        story.steps.append(Step(number=0, version=version))
        number = 1
        action = " ".join((action or (seed.options[0] if seed.options else CONTINUE)).split())
    else:
        number, action = 0, BEGIN
    triggered = lore_in_play(story, number, action, chapter_start(story, number))
    lore, left_out = lore_that_fits(triggered, budget)
    messages = narration_messages(story, number, action, [], lore, budget)
    preview = Preview(seed, budget, number, action, messages, triggered=triggered, left_out=left_out)
    preview.parts = _system(story, messages[0]["content"]) + _turns(preview)
    return preview


def _system(story: Story, sent: str) -> list[Part]:
    """The system message's parts, each with what the clip at the prefix's ceiling leaves of it."""
    pieces = system_parts(story)
    whole = "\n".join(text for _where, text in pieces)
    kept_chars = len(whole) if sent == whole else len(sent) - len(" …")
    parts, start = [], 0
    for index, (where, text) in enumerate(pieces):
        kept = text[: max(0, kept_chars - start)]
        parts.append(Part(0, where, _label(story.seed, where, text, index), tokens(text),
                          tokens(text) if kept == text else tokens(kept) if kept.strip() else 0))
        start += len(text) + 1
    return parts


def _label(seed: Seed, where: str, text: str, index: int) -> str:
    if index == 0:
        return "the narrator's rules (from the player's settings)"
    if not where:
        return f"heading {text.strip()!r}"
    if where.startswith("pinned["):
        return f"pinned note {int(where[7:-1]) + 1}"
    if where.startswith("world["):
        return f"always-on world entry {seed.world[int(where[6:-1])].name!r}"
    return where


def _turns(preview: Preview) -> list[Part]:
    """The parts of the turns after the system message: the opening's turn, then the new one."""
    seed, budget, messages = preview.seed, preview.budget, preview.messages
    parts = []
    last = len(messages) - 1
    if preview.number == 1:
        parts.append(Part(1, "", "the request to begin (and the author's note)", tokens(messages[1]["content"]),
                          tokens(messages[1]["content"])))
        opening = tokens(seed.opening.strip())
        parts.append(Part(2, "opening", "the opening, as the narrator's own turn", opening,
                          min(opening, tokens(messages[2]["content"]))))
    for entry in preview.triggered:
        line = tokens(lore_line(entry))
        parts.append(Part(last, f"world[{seed.world.index(entry)}]", f"lore in play: {entry.name!r}", line,
                          0 if entry in preview.left_out else line))
    if seed.authors_note:
        note = tokens(f"Author's note: {seed.authors_note}")
        parts.append(Part(last, "authors_note", "the author's note", note, note))
    said = f"The reader's action: {preview.action}"
    sent = f"The reader's action: {clip_words(preview.action, action_words(budget))}"
    parts.append(Part(last, "", f"the reader's action ({preview.action[:60]!r})", tokens(said), tokens(sent)))
    return parts
