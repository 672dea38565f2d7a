"""Recall: which passages of long-term memory join the next prompt.

The query is the player's action, not the whole summary: a long query drowns the
cue words. Memory holds sentence-sized pieces, scored by meaning and by keywords;
hits are grouped back into their paragraphs, and each recalled passage is the hit
with its neighbouring sentences, so a fact comes back with its context.
"""
from __future__ import annotations

from game.core.models import Recalled
from game.core.story import Story
from game.core.text import pieces, sentences

PASSAGES = 3


def query_for(action: str, story: Story, upto: int) -> str:
    """The action; when it says little ("continue"), the end of the last paragraph helps."""
    if len(action.split()) >= 4 or upto == 0:
        return action
    tail = sentences(story.steps[upto - 1].version.paragraph)[-2:]
    return " ".join([action, *tail])


def recall(memory, story: Story, upto: int, action: str, limit: int = PASSAGES, before: int | None = None) -> list[Recalled]:
    """Passages for the step after the first `upto`, from steps before `before` (the chapter's
    first step: the chapter itself is in the prompt word for word). Blocking: a Chroma query."""
    before = upto - 1 if before is None else before
    if memory is None or before <= 0:
        return []
    hits = memory.search(query_for(action, story, upto), limit=limit * 4, before_step=before)
    chosen: list[Recalled] = []
    seen: set[str] = set()
    for hit in hits:
        entry = hit.entry
        if entry.paragraph in seen or entry.step >= len(story.steps):
            continue
        seen.add(entry.paragraph)
        chosen.append(Recalled(step=entry.step, text=_passage(story, entry), score=round(hit.score, 4), why=hit.why))
        if len(chosen) == limit:
            break
    return chosen


def _passage(story: Story, entry) -> str:
    step = story.steps[entry.step]
    if entry.kind == "action":
        return f"The reader chose: {entry.text}"
    parts = pieces(step.version.paragraph)
    index = int(entry.id.rsplit("-", 1)[-1]) if entry.id.rsplit("-", 1)[-1].isdigit() else 0
    if not 0 <= index < len(parts) or parts[index] != entry.text:
        return entry.text  # amended by the player: the amended text is what they want remembered
    window = parts[max(0, index - 1): index + 2]
    return " ".join(window)
