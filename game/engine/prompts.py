"""Prompt assembly under a token budget.

The stable part (rules, seed, pinned notes, always-on lore) comes first so servers
can cache it; then the short-term memory, recalled passages, triggered lore, the
recent window, and the action last. Every part has a ceiling, so the prompt is
the same size at step 10 and step 10,000.
"""
from __future__ import annotations

from dataclasses import dataclass

from game.core.models import Preferences, Recalled
from game.core.story import Story
from game.core.text import clip_tokens, clip_words, tokens
from game.core.world import always_on
from game.core.calls import Message
from game.core.seed import WorldEntry

RATING_RULE = {
    "everyone": "Keep everything suitable for all ages: no gore, no sexual content, no strong language.",
    "teen": "Violence and peril may be vivid but not gratuitous; no explicit sexual content.",
    "mature": "Mature themes are allowed when the story calls for them; never gratuitous.",
}


@dataclass
class Budget:
    """Token ceilings for each part of a narration prompt."""

    total: int = 3000

    @property
    def prefix(self) -> int:
        return int(self.total * 0.30)

    @property
    def memory(self) -> int:
        return int(self.total * 0.15)

    @property
    def recalled(self) -> int:
        return int(self.total * 0.20)

    @property
    def world(self) -> int:
        return int(self.total * 0.12)

    @property
    def recent(self) -> int:
        return int(self.total * 0.18)

    @property
    def action(self) -> int:
        return int(self.total * 0.05)


def _voice(prefs: Preferences) -> str:
    if prefs.person == "second":
        return "Write in the second person, present tense: the reader is the protagonist, called 'you'."
    return "Write in the third person, past tense, following the protagonist closely."


def system_prompt(story: Story, budget: Budget) -> str:
    seed, prefs = story.seed, story.prefs
    lines = [
        "You are the narrator of an interactive story. Each turn you write the next paragraph, "
        "showing what happens when the protagonist does what the reader asked.",
        f"Write one paragraph of about {prefs.paragraph_words} words of plain prose. No headings, no lists, "
        "no options, no notes to the reader; do not decide the protagonist's next choice.",
        _voice(prefs),
        RATING_RULE[prefs.rating],
        "",
        f"Title: {seed.title}",
        f"Genre: {seed.genre}",
        f"Premise: {seed.premise}",
        f"Protagonist: {seed.protagonist.name}" + (f", {seed.protagonist.description}" if seed.protagonist.description else ""),
    ]
    if seed.style or prefs.tone:
        lines.append(f"Style: {' '.join(part for part in (seed.style, prefs.tone) if part)}")
    if story.pinned:
        lines += ["", "Never forget:"] + [f"- {note}" for note in story.pinned]
    lore = always_on(seed.world)
    if lore:
        lines += ["", "World:"] + [f"- {entry.name}: {entry.text}" for entry in lore]
    return clip_tokens("\n".join(lines), budget.prefix)


def _section(title: str, body: str) -> str:
    return f"## {title}\n{body.strip()}\n"


def narration_messages(
    story: Story,
    upto: int,
    action: str,
    recalled: list[Recalled],
    lore: list[WorldEntry],
    budget: Budget,
) -> list[Message]:
    """Messages for the paragraph that answers `action`, given the story's first `upto` steps."""
    steps = story.steps[:upto]
    memory = steps[-1].version.memory if steps else ""
    parts = []
    if memory.strip():
        parts.append(_section("The story so far", clip_tokens(memory, budget.memory)))
    left = budget.recalled
    remembered = []
    share = max(40, budget.recalled // max(1, len(recalled)))
    for passage in recalled:
        # A very long passage (a rewritten memory, a paragraph with no sentence breaks) is
        # clipped to its share rather than crowding out the others.
        line = f"- (step {passage.step}) {clip_tokens(passage.text, share)}"
        if tokens(line) > left:
            continue
        remembered.append(line)
        left -= tokens(line)
    if remembered:
        parts.append(_section("Remembered from earlier", "\n".join(remembered)))
    left = budget.world
    cards = []
    for entry in lore:
        line = f"- {entry.name}: {entry.text}"
        if tokens(line) > left:
            continue
        cards.append(line)
        left -= tokens(line)
    if cards:
        parts.append(_section("Lore in play", "\n".join(cards)))
    recent = recent_window(story, upto, budget.recent)
    if recent:
        parts.append(_section("Just before", recent))
    return [
        {"role": "system", "content": system_prompt(story, budget)},
        {"role": "user", "content": "\n".join(parts) + f"\nThe reader's action: {clip_words(action, budget.action * 3 // 4)}"},
    ]


def recent_window(story: Story, upto: int, limit: int) -> str:
    """The last paragraph verbatim (and the action that led to it), clipped from the front."""
    steps = story.steps[:upto]
    if not steps:
        return ""
    last = steps[-1]
    text = last.version.paragraph
    if last.action:
        text = f"(The reader chose: {last.action})\n{text}"
    if tokens(text) > limit:
        text = "… " + text[-limit * 4:].split(" ", 1)[-1]
    return text


def bookkeeping_messages(memory: str, action: str, paragraph: str, memory_words: int, seed_premise: str) -> list[Message]:
    system = (
        "You keep the notes of an interactive story. Answer with JSON only.\n"
        f"`memory`: the summary of the whole story so far, rewritten to include the new paragraph, at most {memory_words} words. "
        "Keep names, places, objects, promises, injuries and open questions; drop scenery. Write it as plain sentences.\n"
        "`options`: exactly three different things the protagonist could do next, each one short imperative sentence "
        "that follows from the new paragraph (for example 'Follow the footprints into the marsh.')."
    )
    user = (
        f"Premise: {seed_premise}\n\n"
        f"Summary so far:\n{memory.strip() or '(the story has just begun)'}\n\n"
        + (f"The reader's action:\n{action}\n\n" if action else "")
        + f"New paragraph:\n{paragraph}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
