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
from game.core.world import always_on
from game.core.seed import WorldEntry

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
LABELS = (STORY_SO_FAR, REMEMBERED, LORE, ACTION, NOTES, *SEED_LABELS)
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


def system_prompt(story: Story, budget: Budget) -> str:
    seed, prefs = story.seed, story.prefs
    lines = [
        "You are the narrator of an interactive story. The reader says what the protagonist does; "
        "you answer with the next paragraph, showing what happens.",
        f"Write one paragraph of about {prefs.paragraph_words} words of plain prose. No headings, no lists, "
        "no options, no notes to the reader; do not decide the protagonist's next choice.",
        _voice(prefs),
        RATING_RULE[prefs.rating],
        "",
        f"{SEED_LABELS[0]} {seed.title}",
        f"{SEED_LABELS[1]} {seed.genre}",
        f"{SEED_LABELS[2]} {seed.premise}",
        f"{SEED_LABELS[3]} {seed.protagonist.name}" + (f", {seed.protagonist.description}" if seed.protagonist.description else ""),
    ]
    if seed.style or prefs.tone:
        lines.append(f"{SEED_LABELS[4]} {' '.join(part for part in (seed.style, prefs.tone) if part)}")
    if story.pinned:
        lines += ["", SEED_LABELS[5]] + [f"- {note}" for note in story.pinned]
    lore = always_on(seed.world)
    if lore:
        lines += ["", SEED_LABELS[6]] + [f"- {entry.name}: {entry.text}" for entry in lore]
    return clip_tokens("\n".join(lines), budget.prefix)


# -- the reader's turn ----------------------------------------------------------------------
def reader_turn(action: str, recalled: list[Recalled], lore: list[WorldEntry], budget: Budget) -> str:
    """What the reader's turn says: remembered passages, lore in play, then the action. Built the
    same way when the turn is new and when it is replayed from the journal, so that the server
    sees the very text it saw before."""
    parts = []
    left = budget.recalled
    remembered = []
    for passage in recalled:
        # A very long passage (a paragraph with no sentence breaks, an amended memory) is clipped
        # to its share rather than crowding out the others.
        line = f"- (step {passage.step}) {clip_tokens(passage.text, PASSAGE_TOKENS)}"
        if tokens(line) > left:
            continue
        remembered.append(line)
        left -= tokens(line)
    if remembered:
        parts.append(f"{REMEMBERED}\n" + "\n".join(remembered))
    left = budget.world
    cards = []
    for entry in lore:
        line = f"- {entry.name}: {entry.text}"
        if tokens(line) > left:
            continue
        cards.append(line)
        left -= tokens(line)
    if cards:
        parts.append(f"{LORE}\n" + "\n".join(cards))
    parts.append(f"{ACTION} {clip_words(action, max(8, budget.action * 3 // 4))}")
    return "\n\n".join(parts)


def past_turn(story: Story, step: Step, budget: Budget) -> str:
    """A step's reader turn as it was sent: rebuilt from what its version recorded."""
    if step.number == 0:
        return BEGIN
    named = {entry.name: entry for entry in story.seed.world}
    lore = [named[name] for name in step.version.world if name in named]
    return reader_turn(step.action, step.version.recalled, lore, budget)


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
    last = reader_turn(action, recalled, lore, budget)
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
