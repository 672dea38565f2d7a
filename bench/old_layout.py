"""The prompt layout the engine used until 2026-12-02, kept for bench/cache.py to compare against.

One narration request a step: the system message, then a single user message with the whole
short-term memory, recalled passages, lore, the last paragraph and the action; then a separate
bookkeeping request with a system message of its own that rewrote the whole memory every step.
"""
from __future__ import annotations

from game.core.calls import Message
from game.core.text import clip_tokens, clip_words, tokens
from game.engine.prompts import RATING_RULE, _voice
from game.core.world import always_on

TOTAL = 3000  # the old default budget; each part had a fixed share of it
SHARES = {"prefix": 0.30, "memory": 0.15, "recalled": 0.20, "world": 0.12, "recent": 0.18, "action": 0.05}


def _part(name: str) -> int:
    return int(TOTAL * SHARES[name])


def _system(story) -> str:
    seed, prefs = story.seed, story.prefs
    lines = [
        "You are the narrator of an interactive story. Each turn you write the next paragraph, "
        "showing what happens when the protagonist does what the reader asked.",
        f"Write one paragraph of about {prefs.paragraph_words} words of plain prose. No headings, no lists, "
        "no options, no notes to the reader; do not decide the protagonist's next choice.",
        _voice(prefs), RATING_RULE[prefs.rating], "",
        f"Title: {seed.title}", f"Genre: {seed.genre}", f"Premise: {seed.premise}",
        f"Protagonist: {seed.protagonist.name}" + (f", {seed.protagonist.description}" if seed.protagonist.description else ""),
    ]
    if seed.style or prefs.tone:
        lines.append(f"Style: {' '.join(part for part in (seed.style, prefs.tone) if part)}")
    if story.pinned:
        lines += ["", "Never forget:"] + [f"- {note}" for note in story.pinned]
    lore = always_on(seed.world)
    if lore:
        lines += ["", "World:"] + [f"- {entry.name}: {entry.text}" for entry in lore]
    return clip_tokens("\n".join(lines), _part("prefix"))


def narration(story, upto: int, action: str, memory: str, recalled, lore) -> list[Message]:
    parts = []
    if memory.strip():
        parts.append(f"## The story so far\n{clip_tokens(memory, _part('memory')).strip()}\n")
    left, lines = _part("recalled"), []
    share = max(40, _part("recalled") // max(1, len(recalled)))
    for passage in recalled:
        line = f"- (step {passage.step}) {clip_tokens(passage.text, share)}"
        if tokens(line) <= left:
            lines.append(line)
            left -= tokens(line)
    if lines:
        parts.append("## Remembered from earlier\n" + "\n".join(lines) + "\n")
    left, cards = _part("world"), []
    for entry in lore:
        line = f"- {entry.name}: {entry.text}"
        if tokens(line) <= left:
            cards.append(line)
            left -= tokens(line)
    if cards:
        parts.append("## Lore in play\n" + "\n".join(cards) + "\n")
    if upto > 0:
        last = story.steps[upto - 1]
        recent = (f"(The reader chose: {last.action})\n" if last.action else "") + last.version.paragraph
        if tokens(recent) > _part("recent"):
            recent = "… " + recent[-_part("recent") * 4:].split(" ", 1)[-1]
        parts.append(f"## Just before\n{recent.strip()}\n")
    return [{"role": "system", "content": _system(story)},
            {"role": "user", "content": "\n".join(parts) + f"\nThe reader's action: {clip_words(action, _part('action') * 3 // 4)}"}]


def bookkeeping(memory: str, action: str, paragraph: str, premise: str, memory_words: int = 200) -> list[Message]:
    system = (
        "You keep the notes of an interactive story. Answer with JSON only.\n"
        f"`memory`: the summary of the whole story so far, rewritten to include the new paragraph, at most {memory_words} words. "
        "Keep names, places, objects, promises, injuries and open questions; drop scenery. Write it as plain sentences.\n"
        "`options`: exactly three different things the protagonist could do next, each one short imperative sentence "
        "that follows from the new paragraph (for example 'Follow the footprints into the marsh.')."
    )
    user = (f"Premise: {premise}\n\nSummary so far:\n{memory.strip() or '(the story has just begun)'}\n\n"
            + (f"The reader's action:\n{action}\n\n" if action else "") + f"New paragraph:\n{paragraph}")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
