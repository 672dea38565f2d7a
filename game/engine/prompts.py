"""Prompt assembly, laid out for the model server's cache, under a token budget.

A narration request is, in this order:

1. the system message: the rules, the seed, the pinned notes and the always-on lore (stable
   for the whole story unless the player changes a pin or a preference);
2. the chapter so far, as the conversation it was: each step since the chapter began is the
   reader's turn (the action, with what was recalled for it) and the narrator's paragraph,
   word for word; the first turn carries the recap of everything before the chapter;
3. last, the reader's new turn: the passages recalled for it, lore it brings into play, the
   action.

Between chapter breaks each request repeats the one before it and adds a turn, so a server
that keeps its KV cache (llama.cpp, Ollama, KoboldCpp, vLLM, OpenAI's prompt cache) reads
only what is new. When the chapter's turns would pass their budget, the step's bookkeeping
writes a new recap and the next chapter starts from that step: the prompt is a sawtooth
under the budget, never growing with the story.

The bookkeeping request continues the same conversation (the paragraph as the narrator's
turn, then a request for the notes), so its whole prefix is already cached.
"""
from __future__ import annotations

from dataclasses import dataclass

from game.core.calls import Message
from game.core.models import Preferences, Recalled, Step
from game.core.story import Story
from game.core.text import clip_tokens, clip_words, tail_tokens, tokens
from game.core.seed import WorldEntry
from game.core.world import triggered

RATING_RULE = {
    "everyone": "Keep everything suitable for all ages: no gore, no sexual content, no strong language.",
    "teen": "Violence and peril may be vivid but not gratuitous; no explicit sexual content.",
    "mature": "Mature themes are allowed when the story calls for them; never gratuitous.",
}
BEGIN = "Begin the story."
# The prompt's own labels. A weak model may copy them into the story; guards.py strips any line
# that starts with one, so every label the prompt uses belongs here.
STORY_SO_FAR = "The story so far:"
REMEMBERED = "Remembered from earlier in the story:"
LORE = "Lore in play:"
ACTION = "The reader's action:"
NOTES = "Now the notes for that paragraph"
SEED_LABELS = ("Title:", "Genre:", "Premise:", "Protagonist:", "Style:", "Never forget:", "World:")
INSTRUCTIONS = "The author's instructions:"
AUTHORS_NOTE = "Author's note:"
LABELS = (STORY_SO_FAR, REMEMBERED, LORE, ACTION, NOTES, INSTRUCTIONS, AUTHORS_NOTE, *SEED_LABELS)
EXAMPLE_OPTION = "Follow the footprints into the marsh."
PASSAGE_TOKENS = 110  # one recalled passage: the sentence that matched and its neighbours


@dataclass
class Budget:
    """Token ceilings for the parts of a narration prompt (`total` fits the server's window)."""

    total: int = 3000
    system: int = 0  # what the system message really takes, once known (0: assume its whole ceiling)

    @property
    def prefix(self) -> int:
        return int(self.total * 0.30)

    @property
    def recap(self) -> int:
        return int(self.total * 0.12)

    @property
    def chapter(self) -> int:
        """The turns of the chapter so far, word for word: whatever the other parts leave (a short
        system message leaves more), and never less than a fifth of the whole."""
        others = (min(self.system, self.prefix) if self.system else self.prefix) + self.recap + self.recalled + self.world + self.action
        return max(int(self.total * 0.20), self.total - others)

    @property
    def recalled(self) -> int:
        return int(self.total * 0.10)

    @property
    def world(self) -> int:
        return int(self.total * 0.06)

    @property
    def action(self) -> int:
        return int(self.total * 0.02)


def _voice(prefs: Preferences) -> str:
    if prefs.person == "second":
        return "Write in the second person, present tense: the reader is the protagonist, called 'you'."
    return "Write in the third person, past tense, following the protagonist closely."


def system_parts(story: Story) -> list[tuple[str, str]]:
    """The system message before clipping, part by part: (the seed field it comes from, or '' for
    the rules and headings; its text). Joined by newlines, the texts are the whole message."""
    seed, prefs = story.seed, story.prefs
    rules = "\n".join([
        "You are the narrator of an interactive story. The reader says what the protagonist does; "
        "you answer with the next paragraph, showing what happens.",
        f"Write one paragraph of about {prefs.paragraph_words} words of plain prose. No headings, no lists, "
        "no options, no notes to the reader; do not decide the protagonist's next choice.",
        _voice(prefs),
        RATING_RULE[prefs.rating],
    ])
    protagonist = seed.protagonist.name + (f", {seed.protagonist.description}" if seed.protagonist.description else "")
    parts = [("", rules), ("title", f"\n{SEED_LABELS[0]} {seed.title}"), ("genre", f"{SEED_LABELS[1]} {seed.genre}"),
             ("premise", f"{SEED_LABELS[2]} {seed.premise}"), ("protagonist", f"{SEED_LABELS[3]} {protagonist}")]
    if seed.style or prefs.tone:
        parts.append(("style", f"{SEED_LABELS[4]} {' '.join(part for part in (seed.style, prefs.tone) if part)}"))
    if seed.instructions:
        parts.append(("instructions", f"{INSTRUCTIONS} {seed.instructions}"))
    if story.pinned:
        parts.append(("", f"\n{SEED_LABELS[5]}"))
        parts += [(f"pinned[{i}]", f"- {note}") for i, note in enumerate(story.pinned)]
    lore = [(i, entry) for i, entry in enumerate(seed.world) if entry.always]
    if lore:
        parts.append(("", f"\n{SEED_LABELS[6]}"))
        parts += [(f"world[{i}]", f"- {entry.name}: {entry.text}") for i, entry in lore]
    return parts


def system_prompt(story: Story, budget: Budget) -> str:
    """The stable prefix, clipped at its share of the budget (the end goes first: the lore)."""
    return clip_tokens("\n".join(text for _where, text in system_parts(story)), budget.prefix)


# -- the reader's turn ----------------------------------------------------------------------
def fitting(lines: list[str], limit: int) -> list[bool]:
    """Which of `lines` fit, in order, within `limit` tokens: one that does not is left out whole
    (a later, shorter one may still fit)."""
    left, fits = limit, []
    for line in lines:
        fits.append(tokens(line) <= left)
        if fits[-1]:
            left -= tokens(line)
    return fits


def lore_line(entry: WorldEntry) -> str:
    return f"- {entry.name}: {entry.text}"


def reader_turn(action: str, recalled: list[Recalled], lore: list[WorldEntry], budget: Budget, note: str = "") -> str:
    """What the reader's turn says: remembered passages, lore in play, the author's note, then the
    action. Built the same way when the turn is new and when it is replayed from the journal, so
    that the server sees the very text it saw before."""
    parts = []
    # A very long passage (a paragraph with no sentence breaks, an amended memory) is clipped
    # to its share rather than crowding out the others.
    passages = [f"- (step {passage.step}) {clip_tokens(passage.text, PASSAGE_TOKENS)}" for passage in recalled]
    remembered = [line for line, fits in zip(passages, fitting(passages, budget.recalled)) if fits]
    if remembered:
        parts.append(f"{REMEMBERED}\n" + "\n".join(remembered))
    cards = [lore_line(entry) for entry in lore]
    cards = [line for line, fits in zip(cards, fitting(cards, budget.world)) if fits]
    if cards:
        parts.append(f"{LORE}\n" + "\n".join(cards))
    if note:
        parts.append(f"{AUTHORS_NOTE} {note}")
    parts.append(f"{ACTION} {clip_words(action, action_words(budget))}")
    return "\n\n".join(parts)


def action_words(budget: Budget) -> int:
    return max(8, budget.action * 3 // 4)


def past_turn(story: Story, step: Step, budget: Budget) -> str:
    """A step's reader turn as it was sent: rebuilt from what its version recorded (the opening's
    turn was the request to begin)."""
    named = {entry.name: entry for entry in story.seed.world}
    lore = [named[name] for name in step.version.world if name in named]
    action = step.action if step.number else BEGIN
    return reader_turn(action, step.version.recalled, lore, budget, story.seed.authors_note)


def lore_in_play(story: Story, number: int, action: str, start: int) -> list[WorldEntry]:
    """World entries that step `number` brings into play: their keys are in the action or the last
    paragraph, and no earlier turn of the chapter (from step `start`) has them already."""
    in_play = {name for n in range(start, number) for name in story.steps[n].version.world}
    recent = story.steps[number - 1].version.paragraph if number > 0 else ""
    return [entry for entry in triggered(story.seed.world, f"{action}\n{recent}") if entry.name not in in_play]


def lore_that_fits(lore: list[WorldEntry], budget: Budget) -> tuple[list[WorldEntry], list[WorldEntry]]:
    """(the entries the turn has room for, the ones left out). Only the first are recorded as in
    play, so the others can still join a later turn of the chapter."""
    fits = fitting([lore_line(entry) for entry in lore], budget.world)
    return [e for e, fit in zip(lore, fits) if fit], [e for e, fit in zip(lore, fits) if not fit]


# -- the chapter so far ---------------------------------------------------------------------
def chapter_start(story: Story, upto: int) -> int:
    """The first step of the chapter that step `upto` belongs to: the last step before it that
    closed a chapter (its recap covers it, and it stays word for word for continuity), else 0."""
    for number in range(upto - 1, -1, -1):
        if story.steps[number].version.chapter:
            return number
    return 0


def chapter_turns(story: Story, upto: int, budget: Budget) -> tuple[int, list[tuple[str, str]]]:
    """(first step shown, [(reader turn, paragraph)]) for the steps before `upto` in its chapter.
    The newest turns are kept when even one chapter would not fit (a save from before chapters)."""
    start = chapter_start(story, upto)
    # A paragraph longer than a real one (a save from before, an edit) keeps its end: what led to now.
    longest = budget.chapter * 3 // 4
    turns = [(past_turn(story, story.steps[n], budget), tail_tokens(story.steps[n].version.paragraph, longest))
             for n in range(start, upto)]
    used = sum(tokens(a) + tokens(b) for a, b in turns)
    while len(turns) > 1 and used > budget.chapter:
        dropped = turns.pop(0)
        used -= tokens(dropped[0]) + tokens(dropped[1])
        start += 1
    return start, turns


def chapter_tokens(story: Story, upto: int, budget: Budget) -> int:
    """How much of the chapter budget the turns before `upto` take."""
    _start, turns = chapter_turns(story, upto, budget)
    return sum(tokens(a) + tokens(b) for a, b in turns)


def recap_for(story: Story, upto: int) -> str:
    return story.steps[upto - 1].version.memory if upto > 0 else ""


def narration_messages(story: Story, upto: int, action: str, recalled: list[Recalled], lore: list[WorldEntry],
                       budget: Budget) -> list[Message]:
    """Messages for the paragraph that answers `action`, given the story's first `upto` steps."""
    messages: list[Message] = [{"role": "system", "content": system_prompt(story, budget)}]
    _start, turns = chapter_turns(story, upto, budget)
    recap = recap_for(story, upto).strip()
    for index, (reader, paragraph) in enumerate(turns):
        if index == 0 and recap:
            reader = f"{STORY_SO_FAR} {clip_tokens(recap, budget.recap)}\n\n{reader}"
        messages.append({"role": "user", "content": reader})
        messages.append({"role": "assistant", "content": paragraph})
    last = reader_turn(action, recalled, lore, budget, story.seed.authors_note)
    if not turns and recap:
        last = f"{STORY_SO_FAR} {clip_tokens(recap, budget.recap)}\n\n{last}"
    messages.append({"role": "user", "content": last})
    return messages


# -- the notes ------------------------------------------------------------------------------
def notes_request(memory_words: int, chapter: bool) -> str:
    lines = [
        f"{NOTES}, as JSON only, with no other text:",
        "\"options\": exactly three different things the protagonist could do next, each one short imperative "
        f"sentence that follows from the paragraph (for example \"{EXAMPLE_OPTION}\");",
        "\"note\": one sentence: what changed in the paragraph (who, where, what was found or learnt).",
    ]
    if chapter:
        lines.append(f"\"memory\": a recap of the whole story so far, this paragraph included, at most {memory_words} "
                     "words: names, places, objects, promises, injuries, open questions; no scenery.")
    return "\n".join(lines)


def bookkeeping_messages(narration: list[Message], paragraph: str, memory_words: int, chapter: bool) -> list[Message]:
    """The narration request, its paragraph as the narrator's turn, then the request for notes."""
    return [*narration, {"role": "assistant", "content": paragraph},
            {"role": "user", "content": notes_request(memory_words, chapter)}]
